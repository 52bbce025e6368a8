"""``gridedge demo`` and ``gridedge hil run|fleet|conformance|rig``: the HIL harness's jobs."""
import asyncio
import json
import logging
import sys
import time

import click

from protocols.civil import iso
from protocols.dlt645 import address
from protocols.errors import ProtocolError
from edge.runtime import logs
from hil.conformance import check_meter
from hil.demo import run_demo
from hil.fleet import run_fleet
from hil.report import write_report
from hil.rig import Rig, drive
from hil.rig_dut import agent_toml
from hil.scenario import Scenario, ScenarioError
from hil.scenario_run import run_scenario
from hil.cli.common import InputError, json_line, reason, writable
from hil.cli.params import SECONDS, SEED, Finite, HexDigits, HostPort, LineRate, hostport

log = logging.getLogger(__name__)


@click.command()
@click.option("--meters", "count", type=click.IntRange(1, 10000), default=300, show_default=True)
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--medium", type=click.Choice(["pty", "tcp"]), default="pty", show_default=True)
def demo(count, seed, medium):
    """Serve COUNT virtual meters on a real pty (or TCP) and read every one back."""
    report = run_demo(count, seed, medium, echo=click.echo)
    sys.exit(0 if report["read_rate"] == 1.0 else 1)


@click.group("hil")
def hil_group():
    """Hardware-in-the-loop harness: scenario runs with KPI reports and CI gates."""


def _scenario(path):
    """A scenario file loaded and validated; InputError naming every problem (exit 2)."""
    try:
        return Scenario.load(path)
    except ScenarioError as exc:
        raise InputError(str(exc))


@hil_group.command("run")
@click.argument("scenario_path")
@click.option("--report", "report_dir", default="report", show_default=True,
              type=click.Path(file_okay=False), help="Folder for report.json and report.html.")
@click.option("--seed", type=SEED, default=None, help="Override the scenario's seed.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def hil_run(scenario_path, report_dir, seed, quiet):
    """Run a scenario (TOML) in virtual time: the agent against the simulated area, the KPIs
    from the simulator's ground truth, report.json and report.html in --report. Exits 1 when a
    gate fails (CI uses it as it is), 2 when the scenario is invalid."""
    logs.hold_for_virtual_time()
    sc = _scenario(scenario_path)
    writable(report_dir, folder=True)
    if seed is not None:
        sc.seed = seed
    click.echo(sc.describe(), err=True)
    total = int(sc.hours * 3600)
    with click.progressbar(length=total, label="simulating", file=sys.stderr,
                           hidden=quiet, show_pos=False) as bar:
        seen = [0]

        def progress(done, _):
            bar.update(int(done) - seen[0])
            seen[0] = int(done)
        report, samples = run_scenario(sc, progress)
    path_json, path_html = write_report(report, samples, report_dir)
    for g in report["gates"]:
        click.echo("%-4s %s %s %s (got %s)" % ("ok" if g["passed"] else "FAIL", g["metric"],
                                              g["op"], g["limit"], g["value"]))
    click.echo(json.dumps({"passed": report["passed"], "report": path_json, "html": path_html,
                           "read_rate": report["read_rate"], "wrongful_ops": report["wrongful_ops"],
                           "readings_lost": report["readings_lost"]}))
    sys.exit(0 if report["passed"] else 1)


@hil_group.command("fleet")
@click.argument("scenario_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--areas", type=click.IntRange(1, 100000), default=10, show_default=True,
              help="Areas to run (area k: seed + k).")
@click.option("--workers", type=click.IntRange(1, 1024), default=None,
              help="Local worker processes (default: one per CPU).")
@click.option("--scheduler", default=None,
              help="Dask scheduler address (tcp://host:8786) to run the areas on a cluster.")
@click.option("--report", "report_dir", default="report-fleet", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--quiet", is_flag=True, help="No progress bar.")
def hil_fleet(scenario_path, areas, workers, scheduler, report_dir, quiet):
    """Run a scenario over many areas in parallel and merge their reports into one; the gates
    are checked on the merged figures (exit 1 when one fails)."""
    logs.hold_for_virtual_time()
    sc = _scenario(scenario_path)
    writable(report_dir, folder=True)
    click.echo("%d areas of %s on %s" % (areas, sc.describe(), scheduler or "a process pool"),
               err=True)
    start = time.monotonic()
    with click.progressbar(length=areas, label="areas", file=sys.stderr, hidden=quiet) as bar:
        report, samples = run_fleet(sc, areas, workers, scheduler,
                                    lambda done, total: bar.update(1))
    report["wall_s"] = round(time.monotonic() - start, 1)
    path_json, path_html = write_report(report, samples, report_dir)
    for g in report["gates"]:
        click.echo("%-4s %s %s %s (got %s)" % ("ok" if g["passed"] else "FAIL", g["metric"],
                                              g["op"], g["limit"], g["value"]))
    click.echo(json.dumps({"passed": report["passed"], "areas": areas, "meters": report["meters"],
                           "read_rate": report["read_rate"], "wall_s": report["wall_s"],
                           "report": path_json, "html": path_html}))
    sys.exit(0 if report["passed"] else 1)


@hil_group.command("conformance")
@click.option("--port", "url", required=True, help="Serial device or pyserial URL of the meter.")
@click.option("--address", "addr", required=True, help="The meter's address (12 digits).")
@click.option("--baud", type=LineRate(), default=2400, show_default=True)
@click.option("--timeout", type=Finite(0.0, 60.0, min_open=True), default=1.0, show_default=True,
              help="Reply timeout, seconds.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Also write the JSON report here.")
@click.option("--relay", is_flag=True,
              help="Also trip and close the relay and read each back (cuts the supply).")
@click.option("--password", type=HexDigits(6), default="000000", show_default=True,
              help="Control password as printed (6 hex digits), for --relay.")
@click.option("--level", type=HexDigits(2), default="02", show_default=True,
              help="Password level (2 hex digits).")
def hil_conformance(url, addr, baud, timeout, report_path, relay, password, level):
    """Check a real meter: which DL/T 645-2007 items and commands it answers, how, and how
    fast; with --relay whether it carries out a trip and a close. Prints a table and a JSON
    summary; exits 1 when it answers none of the reads (or, with --relay, does not move)."""
    if report_path:
        writable(report_path)
    try:
        address(addr)
    except (ValueError, ProtocolError) as exc:
        raise click.BadParameter(str(exc), param_hint="--address")
    try:
        report = check_meter(url, addr, baud, timeout, relay=relay, level=int(level, 16),
                             password=bytes.fromhex(password)[::-1])
    except (OSError, ValueError) as exc:
        raise InputError("port %s: %s" % (url, reason(exc)))
    for row in report["checks"]:
        detail = row.get("value") or row.get("error_code") or row.get("error") or ""
        click.echo("%-62s %-12s %8s ms  %s" % (row["check"], row["outcome"],
                                               row["latency_ms"], detail))
    text = json.dumps(report, indent=1)
    if report_path:
        with open(report_path, "w") as f:
            f.write(text + "\n")
    click.echo(json.dumps({k: report[k] for k in ("address", "reads_answered", "reads",
                                                   "unknown_item_refused", "relay_carried_out",
                                                   "latency_ms")}))
    moved = report["relay_carried_out"] is None or all(report["relay_carried_out"] or [False])
    sys.exit(0 if report["reads_answered"] and moved else 1)


@hil_group.command("rig")
@click.argument("scenario_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--port", "url", default=None,
              help="Serial device or URL to serve the area on (default: a new pty). A carrier"
                   " area serves its 1376.2 module there, an RS-485 area its meters.")
@click.option("--rs485-port", "rs485_url", default=None,
              help="Serial device or URL for a carrier area's extra RS-485 meters ([rig]"
                   " rs485_meters; default: a new pty).")
@click.option("--listen", type=HostPort(free=True), default="0.0.0.0:9000", show_default=True,
              help="HOST:PORT of the master station the concentrator logs in to.")
@click.option("--duration", type=Finite(0.0, 366 * 86400.0, min_open=True), default=600.0,
              show_default=True, help="Seconds the rig runs from its start (the login wait"
                                      " included).")
@click.option("--archive-port", type=click.IntRange(1, 31), default=None,
              help="The concentrator's port number for the area's meters in AFN04 F10"
                   " (default: [rig] archive_port, else 1).")
@click.option("--every", "every_s", type=SECONDS, default=60.0, show_default=True,
              help="Seconds between the real-time KPI lines (0: none).")
@click.option("--report", "report_dir", default="report-rig", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--agent-toml", "agent_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the agent.toml that makes gridedge's own agent the concentrator"
                   " under test (its ports and master are this rig's), once the rig serves.")
def hil_rig(scenario_path, url, rs485_url, listen, duration, archive_port, every_s, report_dir,
            agent_path):
    """Put a real concentrator under test: serve the scenario's simulated area on a port in
    real time (its clock starts at the scenario's start) and be its master station. The KPIs
    come from the simulated meters' own freezes and relays: a JSON line every --every seconds,
    and report.json/report.html at the end. With [prepaid] the rig is the master's cost
    control too (AFN10 F1 forwarded trips and closes). Exit 1 on a failed gate."""
    sc = _scenario(scenario_path)
    writable(report_dir, folder=True)
    if agent_path:
        writable(agent_path)
    try:
        rig = Rig(sc, url, rs485_url)
    except (OSError, ValueError) as exc:
        raise InputError("cannot serve the area on %s: %s" % (url or rs485_url or "a pty",
                                                              reason(exc)))

    def ready(where):
        log.info("rig: %s area of %d meters on %s, master on %s:%d", sc.medium, len(rig.meters),
                 rig.path, where[0], where[1], extra={
                     "event": "rig_start", "serving": rig.path, "serving_rs485": rig.rs485_path,
                     "medium": sc.medium, "meters": len(rig.meters),
                     "master": "%s:%d" % where[:2]})
        hello = {"serving": rig.path, "medium": sc.medium, "meters": len(rig.meters),
                 "serving_rs485": rig.rs485_path, "master": "%s:%d" % where,
                 "clock": iso(rig.now())}
        if agent_path:
            with open(agent_path, "w") as f:
                f.write(agent_toml(hello, sc.doc.get("rig", {}).get("password", "00" * 16),
                                   module_baud=sc.module_baud))
            hello["agent_toml"] = agent_path
        json_line(hello)

    samples = {}
    try:
        report = asyncio.run(drive(rig, hostport(listen), duration, archive_port,
                                   on_ready=ready, every_s=every_s,
                                   on_snapshot=lambda s: json_line({"snapshot": s}),
                                   samples=samples))
    except TimeoutError as exc:
        raise click.ClickException(str(exc))
    except OSError as exc:                      # the address is taken or not ours
        raise InputError("cannot listen on %s: %s" % (listen, exc.strerror or exc))
    finally:
        rig.close()
    path, page = write_report(report, samples, report_dir)
    json_line({"passed": report["passed"], "read_rate": report["read_rate"],
           "wrong_values": report["wrong_values"], "wrongful_ops": report["wrongful_ops"],
           "missed_ops": report["missed_ops"], "report": path, "html": page})
    sys.exit(0 if report["passed"] else 1)
