"""``gridedge sim area|prepaid|uplink|module``: the transformer-area simulator's jobs."""
import json
import logging
import sys
import tempfile
import time

import click

from protocols.gdw1376_2.frame import COMM_HPLC, COMM_NBPLC
from edge.runtime import logs
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from plc_channel.baseline import run_baseline
from plc_channel.realtime import ModulePortServer
from plc_channel.uart import MODULE_BAUDS
from hil.agent_run import compare, run_agent
from hil.prepaid_run import run_prepaid
from hil.uplink_sim import run_outage
from hil.cli.common import InputError, reason, serve_until, writable
from hil.cli.params import COUNT, SECONDS, SEED, SHARE, Finite, LocalTime, MinutesOfDay

log = logging.getLogger(__name__)


@click.group()
def sim():
    """The transformer-area simulator: carrier and RS-485 areas, the emulated carrier module."""


def _faults(dead, intermittent, slow):
    out = []
    for kind, share, extra in (("dead", dead, {}), ("intermittent", intermittent, {"p": 0.5}),
                               ("slow", slow, {"delay_s": 5.0})):
        if share:
            out.append(dict(kind=kind, share=share, **extra))
    return out


@sim.command("area")
@click.option("--meters", "count", type=COUNT, default=500, show_default=True,
              help="Meters in the area.")
@click.option("--medium", type=click.Choice(["rs485", "nbplc", "hplc"]), default="hplc",
              show_default=True)
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--hours", type=Finite(0.0, 24.0 * 366, min_open=True), default=6.0,
              show_default=True, help="Simulated hours of reading.")
@click.option("--start-hour", type=Finite(0.0, 24.0, max_open=True), default=0.0,
              show_default=True,
              help="Hour of day the reading starts (0 = just after midnight, 19 = evening peak).")
@click.option("--dead", type=SHARE, default=0.0, help="Share of meters dead for the whole run.")
@click.option("--intermittent", type=SHARE, default=0.0, help="Share answering half the time.")
@click.option("--slow", type=SHARE, default=0.0,
              help="Share answering 5 s late (past every timeout).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report only.")
@click.option("--reader", type=click.Choice(["round-robin", "agent", "both"]), default="round-robin",
              show_default=True, help="Who reads: the baseline, the edge agent, or both compared.")
@click.option("--day", is_flag=True, help="With the agent: simulate the whole day (curves, events,"
                                          " clock check run around the freeze task).")
@click.option("--module-baud", type=click.Choice([str(b) for b in MODULE_BAUDS]),
              default="9600", show_default=True, help="Carrier module UART rate (bit/s).")
def sim_area(count, medium, seed, hours, start_hour, dead, intermittent, slow, as_json, reader,
             day, module_baud):
    """Read a simulated area (round-robin baseline and/or the agent); print read success by depth."""
    logs.hold_for_virtual_time()
    t = time.monotonic()
    baud = int(module_baud)
    if reader != "round-robin":
        faults = _faults(dead, intermittent, slow)
        day_hours = 24.0 if day else None
        if reader == "both":
            result = compare(count, medium, seed, hours, start_hour, faults, day_hours=day_hours,
                             module_baud=baud)
        else:
            result = run_agent(count, medium, seed, hours, start_hour, faults,
                               day_hours=day_hours, module_baud=baud)[0]
        result["wall_s"] = round(time.monotonic() - t, 3)
        if as_json:
            click.echo(json.dumps(result))
            return
        for name, rep in ([("agent", result["agent"]), ("round-robin", result["baseline"])]
                          if reader == "both" else [("agent", result)]):
            click.echo("%-11s read rate %.2f%% (reachable %.2f%%), completion %s s (p99 %s s), "
                       "lower bound %.1f s, efficiency %s" % (
                           name, 100 * rep["read_rate"], 100 * rep["reachable_read_rate"],
                           rep["completion_s"], rep["completion_p99_s"], rep["lower_bound_s"],
                           rep["efficiency"]))
        if reader == "both":
            click.echo("agent beats the baseline: %s" % result["agent_beats_baseline"])
        return
    report = run_baseline(count, medium, seed, hours, start_hour,
                          _faults(dead, intermittent, slow), module_baud=baud)
    report["wall_s"] = round(time.monotonic() - t, 3)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo("%s area: %d meters, seed %d, %.1f h from %02d:05, round-robin reader"
               % (medium, count, seed, hours, int(start_hour)))
    click.echo("  depth  meters    read    rate   airtime_s")
    air = report["airtime_by_depth_s"]
    for d, row in report["read_rate_by_depth"].items():
        click.echo("  %5s  %6d  %6d  %6.2f%%  %10.1f" % (d, row["meters"], row["read"],
                                                      100 * row["rate"], air.get(d, 0.0)))
    click.echo("  read rate %.2f%% (reachable %.2f%%), completion %s s, lower bound %.1f s, "
               "efficiency %s" % (100 * report["read_rate"], 100 * report["reachable_read_rate"],
                                 report["completion_s"], report["lower_bound_s"],
                                 report["efficiency"]))
    click.echo("  %d requests in %d passes, %d carrier transmissions, %.1f s airtime, %d route "
               "repairs; %.2f s wall" % (report["requests"], report["passes"],
                                         report["transmissions"], report["airtime_s"],
                                         report["route_repairs"], report["wall_s"]))


@sim.command("prepaid")
@click.option("--meters", "count", type=COUNT, default=200, show_default=True)
@click.option("--days", type=Finite(0.0, 366.0, min_open=True), default=2.0, show_default=True)
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--medium", type=click.Choice(["rs485", "nbplc", "hplc"]), default="hplc",
              show_default=True)
@click.option("--read-every", "every_min", type=MinutesOfDay(), default=15, show_default=True,
              help="Minutes between the prepaid reads that charge the balances (a divisor of a"
                   " day).")
@click.option("--stuck", type=SHARE, default=0.005, show_default=True,
              help="Share of relays that do not move.")
@click.option("--keep-power", "keep", type=SHARE, default=0.02, show_default=True,
              help="Share of keep-power customers.")
@click.option("--secured", type=SHARE, default=0.0, show_default=True,
              help="Share of meters under (TEST-key) ESAM security: sealed controls only.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Also write the JSON report here.")
def sim_prepaid(count, days, seed, medium, every_min, stuck, keep, secured, report_path):
    """Prepaid cost control in virtual time: trips, reconnects, wrongful/missed operations and
    latencies from the simulated meters' own relays. Exits 1 on a wrongful or missed operation."""
    logs.hold_for_virtual_time()
    if report_path:
        writable(report_path)

    def progress(done, total):
        click.echo("\r%5.1f %% of %.1f simulated days" % (100.0 * done / total, total / 86400.0),
                   nl=False, err=True)
    report, _, _ = run_prepaid(count, days, seed, medium, every_min, stuck, keep,
                               secured_share=secured, progress=progress)
    click.echo("", err=True)
    text = json.dumps(report, indent=1)
    if report_path:
        with open(report_path, "w") as f:
            f.write(text + "\n")
    click.echo(text)
    sys.exit(1 if report["wrongful_ops"] or report["missed_ops"] else 0)


@sim.command("uplink")
@click.option("--meters", "count", type=COUNT, default=20, show_default=True)
@click.option("--medium", type=click.Choice(["rs485", "nbplc", "hplc"]), default="rs485",
              show_default=True)
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--days", type=Finite(0.0, 366.0, min_open=True), default=5.0, show_default=True,
              help="Simulated days the agent collects.")
@click.option("--outage-hours", "outage_h", type=Finite(0.0, 24.0 * 366), default=96.0,
              show_default=True, help="How long the master is unreachable (from the first hour).")
@click.option("--loss", type=Finite(0.0, 1.0, max_open=True), default=0.02, show_default=True,
              help="Share of uplink byte chunks lost on the way (confirms re-sent).")
@click.option("--max-store-mb", type=Finite(0.0, 1e6, min_open=True), default=64.0,
              show_default=True, help="The agent's store bound (live pages).")
@click.option("--folder", type=click.Path(file_okay=False), default=None,
              help="Keep agent.sqlite and master.sqlite here (default: a temporary folder).")
def sim_uplink(count, medium, seed, days, outage_h, loss, max_store_mb, folder):
    """A 1376.1 uplink outage in virtual time: the agent collects while the master is away,
    then drains its backlog as the master confirms. Prints the uplink KPIs; exits 1 when a
    reading is lost or missing at the master."""
    logs.hold_for_virtual_time()
    with tempfile.TemporaryDirectory() as tmp:
        report = run_outage(count, medium, seed, days, 1.0, outage_h, loss, max_store_mb,
                            folder or tmp)
    click.echo(json.dumps(report, indent=1))
    bad = report["readings_lost"] or report["readings_kept_not_at_master"] or report["backlog_left"]
    sys.exit(1 if bad else 0)


@sim.command("module")
@click.option("--meters", "count", type=COUNT, default=100, show_default=True)
@click.option("--medium", type=click.Choice(["nbplc", "hplc"]), default="hplc", show_default=True)
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--port", "url", default=None,
              help="Serial device or pyserial URL to serve on (default: a new pty).")
@click.option("--epoch", type=LocalTime(), default="2026-01-02 00:05", show_default=True,
              help="Simulated local time when serving starts.")
@click.option("--duration", type=SECONDS, default=0.0,
              help="Stop after this many seconds (0 = until Ctrl-C).")
@click.option("--edition", type=click.Choice(["2013", "2019"]), default="2019", show_default=True,
              help="Q/GDW 1376.2-2013 or Q/GDW 10376.2-2019 (F1F1, 10F21/F31, deny 109..111).")
@click.option("--legacy-confirm", is_flag=True,
              help="Confirm (AFN00 F1) in the 4-byte form of older modules.")
def sim_module(count, medium, seed, url, epoch, duration, edition, legacy_confirm):
    """Serve the emulated 1376.2 carrier module of a simulated area on a port, in wall time.

    A concentrator (ours or a real one in a rig) opens the printed path at 9600 8E1, adds the
    meters (AFN11 F1) and reads them (AFN13 F1, or F1 F1 concurrent reads on HPLC). The module
    reports its run mode (AFN03 F10) once it is up, as after a reset.
    """
    start = epoch
    try:
        server = ModulePortServer(lambda env_at: build_area(env_at(start), count, medium, seed,
                                                            DEFAULT_EPOCH),
                                  COMM_HPLC if medium == "hplc" else COMM_NBPLC, url=url,
                                  module={"edition": edition, "legacy_confirm": legacy_confirm,
                                          "boot_report": True}).start()
    except (OSError, ValueError) as exc:
        raise InputError("cannot serve the module on %s: %s" % (url or "a pty", reason(exc)))
    log.info("serving the %s carrier module (%s edition) of %d meters (seed %d) on %s", medium,
             edition, count, seed, server.path, extra={
                 "event": "sim_module", "serving": server.path, "medium": medium,
                 "edition": edition, "meters": count, "seed": seed})
    click.echo("%s carrier module (%s edition) for %d meters (seed %d) on %s" % (
        medium, edition, count, seed, server.path))
    click.echo("meter addresses %s .. %s" % (server.area.meters[0].addr[::-1].hex(),
                                              server.area.meters[-1].addr[::-1].hex()))
    serve_until(server, time.monotonic() + duration if duration else None)
