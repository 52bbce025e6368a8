"""``gridedge``: one command line, a sub-command per user job.

Invalid input of any kind (an option out of range, a file, a port, an address or a database that
cannot be used) ends with a one-line message naming the thing and exit code 2, never a
traceback; every option has a type and a range (click's own, plus the few below).
"""
import json
import math
import re
import sys
import time

import click

from protocols.bcd import hex_to_bytes
from protocols.civil import iso, parse_local
from protocols.errors import ProtocolError
from edge.archive import BAUDS

MAX_METERS = 100000                     # as hil.scenario's [area] meters
SEED = click.IntRange(min=0)


class InputError(click.ClickException):
    """Input that cannot be used: one line naming the thing, exit 2 (as click's usage errors)."""

    exit_code = 2


class Finite(click.FloatRange):
    """A float range that refuses NaN and the infinities."""

    def convert(self, value, param, ctx):
        rv = click.FloatRange.convert(self, value, param, ctx)
        if not math.isfinite(rv):
            self.fail("%r is not a finite number." % (value,), param, ctx)
        return rv


class HostPort(click.ParamType):
    """``HOST:PORT``; ``free`` allows port 0 (the system picks one)."""

    name = "host:port"

    def __init__(self, free=False):
        self.free = free

    def convert(self, value, param, ctx):
        host, _, port = str(value).rpartition(":")
        if not host or not port.isdigit() or not (0 if self.free else 1) <= int(port) <= 65535:
            self.fail("expected HOST:PORT with a port %d..65535, got %r."
                      % (0 if self.free else 1, value), param, ctx)
        return value


class LocalTime(click.ParamType):
    """A local time ``YYYY-MM-DD[ hh:mm[:ss]]``, as seconds."""

    name = "'yyyy-mm-dd hh:mm'"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return value
        try:
            return parse_local(value)
        except (ValueError, TypeError):
            self.fail("expected a local time 'YYYY-MM-DD hh:mm', got %r." % (value,), param, ctx)


class LineRate(click.ParamType):
    """A DL/T 645 line rate (bit/s)."""

    name = "baud"

    def convert(self, value, param, ctx):
        try:
            rate = int(value)
        except (TypeError, ValueError):
            rate = None
        if rate not in BAUDS:
            self.fail("%r is not one of %s." % (value, ", ".join(map(str, BAUDS))), param, ctx)
        return rate


class MinutesOfDay(click.IntRange):
    """Minutes 1..1440 that divide a day (a period aligned to midnight)."""

    def __init__(self):
        click.IntRange.__init__(self, 1, 1440)

    def convert(self, value, param, ctx):
        rv = click.IntRange.convert(self, value, param, ctx)
        if 1440 % rv:
            self.fail("%d minutes do not divide a day." % rv, param, ctx)
        return rv


class HexDigits(click.ParamType):
    """Text of exactly ``n`` hex digits."""

    name = "hex"

    def __init__(self, n):
        self.n = n

    def convert(self, value, param, ctx):
        text = str(value)
        try:
            bytes.fromhex(text)
        except ValueError:
            text = ""
        if len(text) != self.n:
            self.fail("expected %d hex digits, got %r." % (self.n, value), param, ctx)
        return text


SHARE = Finite(0.0, 1.0)
COUNT = click.IntRange(1, MAX_METERS)
SECONDS = Finite(min=0.0)


def _open_port(url, baud, parity="E"):
    """A serial port by device path or pyserial URL; InputError naming it when it cannot be."""
    from edge.runtime.ports import open_port
    try:
        return open_port(url, baud, parity)
    except (OSError, ValueError) as exc:        # serial.SerialException is an OSError
        raise InputError("cannot open port %s: %s" % (url, _reason(exc)))


def _open_store(path, **kw):
    """The agent's SQLite store; InputError naming the file when it cannot be opened."""
    import sqlite3
    from edge.store import Store
    try:
        return Store(path, **kw)
    except (sqlite3.Error, OSError) as exc:
        raise InputError("cannot open the store %s: %s" % (path, exc))


def _writable(path, folder=False):
    """Fail now, not after the run, when the report ``path`` (a file, or a ``folder``, made
    here) cannot be written."""
    import os
    import tempfile
    try:
        if folder:
            os.makedirs(path, exist_ok=True)
        where = path if folder else os.path.dirname(os.path.abspath(path))
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as exc:
        raise InputError("cannot write the report to %s: %s" % (path, exc.strerror or exc))


def _reason(exc):
    """Why an open failed, without the repeats pyserial adds ("[Errno 2] could not open port
    X: [Errno 2] No such file or directory: 'X'" says "No such file or directory")."""
    found = re.findall(r"\[Errno \d+\] ([^:\]]+)", str(exc))
    return found[-1].strip() if found else (str(exc) or type(exc).__name__)


def _hostport(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("expected HOST:PORT, got %r" % text)
    return host, int(port)


def _tcp_url(hostport):
    return "socket://%s:%d" % _hostport(hostport)


def _serve_until(server, end):
    """Keep ``server`` running until monotonic time ``end`` (None: until Ctrl-C), then close it."""
    try:
        while end is None or time.monotonic() < end:
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gridedge")
def main():
    """gridedge: concentrator edge agent, transformer-area simulator and HIL harness."""


@main.command()
@click.argument("hex_bytes", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a field table.")
@click.option("--protocol", type=click.Choice(["2007", "1997", "1376.2", "1376.1", "698"]),
              default=None, help="DL/T 645-2007, 645-1997, Q/GDW 1376.2 (module UART), 1376.1 "
              "(uplink) or DL/T 698.45 [default: 2007, or 698 when the bytes are 698.45].")
def decode(hex_bytes, as_json, protocol):
    """Decode captured DL/T 645, DL/T 698.45, Q/GDW 1376.2 or 1376.1 bytes (HEX, spaces allowed): every
    frame, every field and data unit; a 645 frame carried inside is decoded too.

    Noise around the frames is shown as garbage; nothing is silently dropped.
    """
    from hil.decode import explain_capture, explain_capture_3761, explain_capture_3762
    try:
        data = hex_to_bytes(" ".join(hex_bytes), "hex")
    except ProtocolError as exc:
        raise InputError(str(exc))
    from hil import decode698
    if protocol is None:
        protocol = "698" if decode698.looks_like_698(data) else "2007"
    if protocol == "698":
        items = decode698.explain_capture(data)
    elif protocol == "1376.2":
        items = explain_capture_3762(data)
    elif protocol == "1376.1":
        items = explain_capture_3761(data)
    else:
        items = explain_capture(data, int(protocol))
    if as_json:
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
    else:
        for n, item in enumerate(items, 1):
            click.echo("# item %d" % n)
            for key, value in item.items():
                click.echo("  %-13s %s" % (key, value))
    if not any("raw" in i for i in items):
        sys.exit(1)


@main.command("schema")
@click.argument("what", type=click.Choice(["agent", "scenario"]))
def schema_cmd(what):
    """Print the reference of agent.toml or of a scenario file (Markdown): every section and
    key with its type, range, unit and default, from the declarations files are checked
    against (docs/CONFIG.md is this output)."""
    click.echo("\n".join(reference(what)))


def reference(what):
    """Markdown lines of the declared sections of ``what`` ('agent' or 'scenario')."""
    if what == "agent":
        from edge.runtime.config import FILE
    else:
        from hil.scenario import FILE
    lines = ["## %s" % FILE.name, "", FILE.doc, ""]
    for f in FILE.fields.values():
        section = getattr(f, "section", None)
        if section is None:
            lines += ["### `[%s]`" % f.name, "", f.doc, ""]
        else:
            lines += section.document(3, f.describe().split(" ")[-1]) + [""]
    return lines


@main.group()
def meters():
    """Serve virtual meters on a port, or read a meter on a port."""


@meters.command("serve")
@click.option("--count", type=COUNT, default=100, show_default=True,
              help="Number of meters on the bus.")
@click.option("--seed", type=SEED, default=1, show_default=True, help="Seed of the meter population.")
@click.option("--first", type=click.IntRange(0, 10 ** 12 - 1 - MAX_METERS), default=1,
              show_default=True, help="Address of the first meter.")
@click.option("--epoch", type=LocalTime(), default="2026-01-01 00:00", show_default=True,
              help="When the meters were installed (their history starts here).")
@click.option("--start", type=LocalTime(), default=None,
              help="Meters' local time when serving starts (default: the epoch).")
@click.option("--speed", type=Finite(0.0, 1e6), default=1.0, show_default=True,
              help="Meter-time seconds per wall second.")
@click.option("--pty", "use_pty", is_flag=True, help="Create a pseudo-terminal and print its path.")
@click.option("--port", "port_url", help="Serve on this serial device or pyserial URL.")
@click.option("--tcp", "tcp_addr", type=HostPort(free=True),
              help="Serve on TCP HOST:PORT (port 0 picks a free one).")
@click.option("--timing", is_flag=True, help="Honour reply delay and line rate (8E1 at --baud).")
@click.option("--baud", type=LineRate(), default=2400, show_default=True)
@click.option("--duration", type=SECONDS, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--verbose", is_flag=True, help="Log every request and reply.")
@click.option("--share-1997", "share_1997", default=0.0, show_default=True,
              type=click.FloatRange(0.0, 1.0),
              help="Share of the meters speaking DL/T 645-1997 (their addresses are printed).")
@click.option("--protocol", "protocol", type=click.Choice(["645", "698", "mixed"]), default="645",
              show_default=True,
              help="What the meters speak: DL/T 645, DL/T 698.45, or a mixed bus (40 percent 698).")
@click.option("--share-secured", "share_secured", default=0.0, show_default=True,
              type=click.FloatRange(0.0, 1.0),
              help="Share of the 645-2007 meters under (TEST-key) ESAM security: plaintext "
                   "controls refused (their addresses are printed).")
@click.option("--esam-session", "esam_session", type=Finite(1.0, 86400.0), default=300.0,
              show_default=True, help="Identity-authentication validity of secured meters (s).")
def meters_serve(count, seed, first, epoch, start, speed, use_pty, port_url, tcp_addr, timing,
                 baud, duration, verbose, share_1997, protocol, share_secured, esam_session):
    """Put COUNT meters behind one port with RS-485 multi-drop semantics."""
    import threading
    from meter_sim.population import MIXED_698_SHARE, build_meters
    from meter_sim.serve.bus import MeterBus
    from meter_sim.serve.stream import BusClock, PtyServer, SerialServer, Session, TcpServer
    if sum(bool(x) for x in (use_pty, port_url, tcp_addr)) != 1:
        raise click.UsageError("give exactly one of --pty, --port URL, --tcp HOST:PORT")
    t0 = epoch
    share_698 = {"645": 0.0, "698": 1.0, "mixed": MIXED_698_SHARE}[protocol]
    bus = MeterBus(build_meters(count, seed, t0, first, protocol_1997_share=share_1997,
                                protocol_698_share=share_698, secured_share=share_secured,
                                esam_session_s=esam_session))
    clock = BusClock(start if start is not None else t0, speed)
    lock = threading.Lock()
    log = _request_log if verbose else None

    def session():
        return Session(bus, clock, lock, timing, baud, log)
    try:
        if use_pty:
            server = PtyServer(session()).start()
            where = server.path
        elif port_url:
            server = SerialServer(session(), port_url, baud).start()
            where = port_url
        else:
            host, _, port = tcp_addr.rpartition(":")
            server = TcpServer((host, int(port)), session).start()
            where = "%s:%d" % server.server_address[:2]
    except (OSError, ValueError) as exc:
        raise InputError("cannot serve on %s: %s" % (port_url or tcp_addr or "a pty",
                                                     _reason(exc)))
    click.echo(json.dumps({"serving": where, "meters": count, "first_address": "%012d" % first,
                           "seed": seed, "epoch": iso(t0), "protocol": protocol,
                           "meters_698": sum(m.protocol == 698 for m in bus.meters),
                           "protocol_1997": [m.addr[::-1].hex() for m in bus.meters
                                             if m.protocol == 1997],
                           "secured": [m.addr[::-1].hex() for m in bus.meters
                                       if m.esam is not None]}), nl=True)
    sys.stdout.flush()
    _serve_until(server, None if duration is None else time.monotonic() + duration)


def _request_log(frame, reply):
    from protocols.errors import hexstr
    click.echo("%s -> %s" % (hexstr(frame.raw), hexstr(reply) if reply else "(silent)"), err=True)


@meters.command("read")
@click.option("--tcp", "tcp_addr", type=HostPort(), help="Meter server at HOST:PORT.")
@click.option("--port", "port_url", help="Serial device or pyserial URL.")
@click.option("--address", "addr", required=True, help="Meter address, 12 digits (AA = wildcard).")
@click.option("--di", required=True, help="Data identifier, e.g. 00010000 (2007) or 9010 (1997).")
@click.option("--protocol", type=click.Choice(["2007", "1997"]), default="2007", show_default=True)
@click.option("--blocks", type=click.IntRange(1, 255), help="Load-curve block count.")
@click.option("--start", type=LocalTime(), help="Load-curve start time 'YYYY-MM-DD hh:mm'.")
@click.option("--baud", type=LineRate(), default=2400, show_default=True)
@click.option("--timeout", type=Finite(0.0, 60.0, min_open=True), default=1.0, show_default=True,
              help="Reply timeout per attempt (s).")
@click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def meters_read(tcp_addr, port_url, addr, di, protocol, blocks, start, baud, timeout, retries, as_json):
    """Read one item from one meter and print its value."""
    from protocols.dlt645 import Read, address, di as DI, v1997
    from edge.runtime.ports import transact
    if bool(tcp_addr) == bool(port_url):
        raise click.UsageError("give exactly one of --tcp HOST:PORT or --port URL")
    url = _tcp_url(tcp_addr) if tcp_addr else port_url
    try:
        wire_addr = address(addr)
        if protocol == "1997":
            request = v1997.Read97(v1997.parse_di(di))
        else:
            request = Read(DI.parse(di), blocks, start)
    except (ValueError, ProtocolError) as exc:
        raise click.BadParameter(str(exc))
    port = _open_port(url, baud)
    try:
        outcome = transact(port, wire_addr, request, timeout, retries)
    except (OSError, ValueError) as exc:        # the device went away mid-exchange
        raise InputError("port %s failed: %s" % (url, _reason(exc)))
    finally:
        port.close()
    result = {"address": addr, "di": di, "outcome": outcome.kind, "attempts": outcome.attempts}
    if outcome.ok:
        try:
            result["name"], result["value"], result["unit"] = outcome.reply.value()
        except ProtocolError as exc:
            result["outcome"] = "undecodable"
            result["error"] = str(exc)
    elif outcome.reply is not None:
        result["errors"] = outcome.reply.reasons
    if outcome.latency is not None:
        result["latency_ms"] = round(outcome.latency * 1000, 1)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(" ".join("%s=%s" % kv for kv in result.items()))
    sys.exit(0 if result["outcome"] == "ok" else 1)


@main.group()
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
def sim_area(count, medium, seed, hours, start_hour, dead, intermittent, slow, as_json, reader,
             day):
    """Read a simulated area (round-robin baseline and/or the agent); print read success by depth."""
    from plc_channel.baseline import run_baseline
    t = time.monotonic()
    if reader != "round-robin":
        from hil.agent_run import compare, run_agent
        faults = _faults(dead, intermittent, slow)
        day_hours = 24.0 if day else None
        if reader == "both":
            result = compare(count, medium, seed, hours, start_hour, faults, day_hours=day_hours)
        else:
            result = run_agent(count, medium, seed, hours, start_hour, faults,
                               day_hours=day_hours)[0]
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
                          _faults(dead, intermittent, slow))
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
    from hil.prepaid_run import run_prepaid
    if report_path:
        _writable(report_path)

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
    import tempfile
    from hil.uplink_sim import run_outage
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
    from meter_sim.population import DEFAULT_EPOCH
    from plc_channel.area import build_area
    from plc_channel.realtime import ModulePortServer
    from protocols.gdw1376_2.frame import COMM_HPLC, COMM_NBPLC
    start = epoch
    try:
        server = ModulePortServer(lambda env_at: build_area(env_at(start), count, medium, seed,
                                                            DEFAULT_EPOCH),
                                  COMM_HPLC if medium == "hplc" else COMM_NBPLC, url=url,
                                  module={"edition": edition, "legacy_confirm": legacy_confirm,
                                          "boot_report": True}).start()
    except (OSError, ValueError) as exc:
        raise InputError("cannot serve the module on %s: %s" % (url or "a pty", _reason(exc)))
    click.echo("%s carrier module (%s edition) for %d meters (seed %d) on %s" % (
        medium, edition, count, seed, server.path))
    click.echo("meter addresses %s .. %s" % (server.area.meters[0].addr[::-1].hex(),
                                              server.area.meters[-1].addr[::-1].hex()))
    _serve_until(server, time.monotonic() + duration if duration else None)


@main.command("agent")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="agent.toml (store, metrics, tasks, archive).")
@click.option("--epoch", type=LocalTime(), default=None,
              help="Run the agent's calendar from this local time (a rig playing a simulated day)"
                   " instead of the system clock.")
@click.option("--duration", type=SECONDS, help="Stop after this many seconds (default: until killed).")
@click.option("--print-commits", is_flag=True,
              help="Print one JSON line per durable store commit (what a crash must not lose).")
def agent_cmd(config_path, epoch, duration, print_commits):
    """Run the edge agent: read the archived meters on their ports, store, export metrics."""
    from edge.runtime.config import ConfigError
    from edge.runtime.main import configure_logging, run
    configure_logging()
    try:
        run(config_path, epoch, duration, print_commits)
    except ConfigError as exc:
        raise InputError(str(exc))


def _config(path):
    """agent.toml loaded and validated; InputError listing every problem, one per line."""
    from edge.runtime.config import ConfigError, load_config
    try:
        return load_config(path)
    except ConfigError as exc:
        raise InputError(str(exc))


@main.group(invoke_without_command=True)
@click.option("--listen", default=None, help="HOST:PORT for concentrators (1376.1 over TCP).")
@click.option("--db", "db_path", default="master.sqlite", show_default=True,
              type=click.Path(dir_okay=False), help="SQLite file of logins, data and events.")
@click.option("--control", default="127.0.0.1:9001", show_default=True,
              help="HOST:PORT of the JSON-lines control port (`gridedge master ask`).")
@click.option("--token-file", default=None, type=click.Path(dir_okay=False),
              help="The control port's secret (default: the database path + .token); created"
                   " with mode 0600 on the first start, refused if others may read it.")
@click.option("--tls-cert", default=None, help="Serve TLS with this certificate (PEM) ...")
@click.option("--tls-key", default=None, help="... and key.")
@click.option("--tls-ca", default=None, help="Require client certificates from this CA.")
@click.option("--epoch", default=None,
              help="Run the station's calendar from this local time (a rig playing a simulated"
                   " day with `gridedge agent --epoch`); time labels are stamped from it.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True),
              help="Stop after this many seconds (default: until killed).")
@click.option("--max-connections", type=click.IntRange(min=1), default=1024, show_default=True,
              help="Concentrator connections held at once; more are closed at accept.")
@click.option("--login-timeout", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, help="Seconds a new connection has to log in.")
@click.option("--idle-timeout", type=click.FloatRange(min=0, min_open=True), default=600.0,
              show_default=True, help="Seconds of silence before a connection is closed.")
@click.option("--prelogin-bytes", type=click.IntRange(min=64), default=4096, show_default=True,
              help="Bytes a connection may send before its login.")
@click.option("--garbage-bytes", type=click.IntRange(min=64), default=65536, show_default=True,
              help="Garbage bytes after which a connection is closed.")
@click.option("--login-policy", type=click.Choice(["replace", "refuse"]), default="replace",
              show_default=True,
              help="A second login with an address already connected: the new connection"
                   " replaces the old (logged, counted) or is refused.")
@click.option("--metrics", default=None,
              help="HOST:PORT to export the station's Prometheus metrics on (docs/METRICS.md).")
@click.pass_context
def master(ctx, listen, db_path, control, token_file, tls_cert, tls_key, tls_ca, epoch, duration,
           max_connections, login_timeout, idle_timeout, prelogin_bytes, garbage_bytes,
           login_policy, metrics):
    """Run a Q/GDW 1376.1 master station: accept concentrators, record logins, heartbeats and
    uploads in SQLite, and carry requests from the control port.

    `gridedge master --listen 0.0.0.0:9000 --db master.sqlite` serves; `gridedge master ask ...`
    talks to a running one with the token from --token-file.
    """
    if ctx.invoked_subcommand is not None:
        return
    if listen is None:
        raise click.UsageError("give --listen HOST:PORT (or a sub-command)")
    import asyncio
    import signal
    from edge.runtime.aio import local_clock
    from hostlink.aio import MasterServer, TokenError, load_token, server_context
    from hostlink.master import Limits
    host, port = _hostport(listen)
    chost, cport = _hostport(control)
    if metrics:
        _hostport(metrics)
    ctx_tls = server_context(tls_cert, tls_key, tls_ca) if tls_cert else None
    token_file = token_file or db_path + ".token"
    try:
        token = load_token(token_file, create=True)
    except TokenError as exc:
        raise click.ClickException(str(exc))
    limits = Limits(login_timeout, idle_timeout, prelogin_bytes, garbage_bytes)

    async def serve():
        server = MasterServer(db_path, wall=local_clock(parse_local(epoch) if epoch else None),
                              limits=limits, max_connections=max_connections,
                              login_policy=login_policy)
        where = await server.listen(host, port, ctx_tls)
        cwhere = await server.listen_control(chost, cport, token)
        if metrics:
            from edge.runtime.exporter import serve_master_metrics
            try:
                mwhere = serve_master_metrics(server, metrics, asyncio.get_running_loop())
            except OSError as exc:
                await server.close()
                raise InputError("cannot serve metrics on %s: %s" % (metrics, exc.strerror or exc))
        click.echo(json.dumps({"master": "%s:%d" % where, "control": "%s:%d" % cwhere,
                               "token_file": token_file, "db": db_path, "tls": bool(ctx_tls),
                               "metrics": "%s:%d" % mwhere.server_address[:2] if metrics
                               else None}))
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await asyncio.wait_for(stop.wait(), duration)
        except asyncio.TimeoutError:
            pass
        await server.close()
        server.store.close()
    asyncio.run(serve())


@master.command("ask")
@click.argument("op", type=click.Choice([
    "terminals", "data", "stats", "read-current", "read-day", "read-month", "read-curve",
    "events", "control", "archive-query", "forward-read"]))
@click.option("--control", default="127.0.0.1:9001", show_default=True)
@click.option("--token-file", default="master.sqlite.token", show_default=True,
              type=click.Path(dir_okay=False),
              help="The station's control-port token (what `gridedge master` printed).")
@click.option("--terminal", help="RRRR-NNNNN: region code and terminal address.")
@click.option("--point", "points", type=int, multiple=True, help="Measuring point(s).")
@click.option("--fn", type=int, help="Item Fn (default per op: F129, F161, F177 ...).")
@click.option("--date", help="YYYY-MM-DD (read-day) or YYYY-MM (read-month).")
@click.option("--start", help="Curve start YYYY-MM-DD hh:mm (read-curve).")
@click.option("--count", type=int, default=4, show_default=True, help="Curve points.")
@click.option("--action", type=click.Choice(["trip", "allow-close", "keep-power",
                                             "keep-power-off"]))
@click.option("--meter", help="Meter address (forward-read).")
@click.option("--di", help="Data identifier in hex (forward-read).")
@click.option("--password", default=None, envvar="GRIDEDGE_TERMINAL_PW",
              help="The terminal's PW (32 hex digits; or $GRIDEDGE_TERMINAL_PW): needed by"
                   " control, archive and forward requests. No default.")
@click.option("--timeout", type=float, default=60.0, show_default=True)
def master_ask(op, control, token_file, terminal, points, fn, date, start, count, action, meter,
               di, password, timeout):
    """Ask a running master station to read, control or query a concentrator; prints JSON."""
    import asyncio
    from hostlink.aio import TokenError, control_call, load_token
    try:
        token = load_token(token_file)
    except TokenError as exc:
        raise click.ClickException(str(exc))
    cmd = {"op": op, "timeout_s": timeout, "count": count}
    for key, value in (("terminal", terminal), ("fn", fn), ("date", date), ("start", start),
                       ("action", action), ("meter", meter), ("di", di),
                       ("password", password)):
        if value is not None:
            cmd[key] = value
    if points:
        cmd["points"] = list(points)
    host, port = _hostport(control)
    try:
        reply = asyncio.run(control_call(host, port, cmd, timeout + 5, token))
    except OSError as exc:
        raise click.ClickException("no master control port at %s: %s" % (control, exc))
    click.echo(json.dumps(reply, indent=2, ensure_ascii=False))
    if "error" in reply or reply.get("outcome") not in (None, "ok"):
        sys.exit(1)


@main.group()
def prepaid():
    """Cost control in a running agent's store: post payments, show balances and commands."""


def _prepaid_config(config_path):
    cfg = _config(config_path)
    if cfg.prepaid is None:
        raise InputError("%s has no [prepaid] section" % config_path)
    return cfg


def _customers(cfg, store):
    """Customers the agent knows: named by an archived meter, in [[prepaid.customer]], or with
    an account in its store."""
    from edge.prepaid.ledger import Ledger
    return ({m.customer for m in cfg.archive.meters.values() if m.customer}
            | set(cfg.prepaid.customers) | set(Ledger(store).accounts))


def _payment_rows(csv_path):
    """(place, fields) of every payment line of a CSV file (blank lines and # comments skipped)."""
    import csv
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            return [("%s:%d" % (csv_path, n), row) for n, row in enumerate(csv.reader(f), 1)
                    if row and "".join(row).strip() and not row[0].lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError("cannot read %s: %s" % (csv_path, exc))


@prepaid.command("pay")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--customer", default=None)
@click.option("--amount", default=None,
              help="Yuan, a whole number of micro-yuan from 0.000001 to 100000000.")
@click.option("--id", "payment_id", default=None,
              help="Payment id (default: customer and time); the same id is applied once.")
@click.option("--file", "csv_path", type=click.Path(exists=True, dir_okay=False),
              help="A CSV of payments instead: id,customer,amount per line (a rig's import).")
def prepaid_pay(config_path, customer, amount, payment_id, csv_path):
    """Leave payments in the agent's inbox; the running agent applies each id once. Every
    payment is checked first: if any is bad, each bad one is named and none is posted."""
    from edge.prepaid.ledger import PaymentError, check_payments, known_payments, post_payments
    from edge.prepaid.tariff import to_yuan
    now = time.time()
    if csv_path:
        rows = _payment_rows(csv_path)
    elif customer is not None and amount is not None:
        rows = [("payment", [payment_id if payment_id is not None else
                             "%s-%d" % (customer, int(now * 1000)), customer, amount])]
    else:
        raise click.UsageError("give --customer and --amount, or --file")
    cfg = _prepaid_config(config_path)
    store = _open_store(cfg.store)
    try:
        payments = check_payments(rows, _customers(cfg, store), known_payments(store.db))
        posted = post_payments(store.db, payments, now)
    except PaymentError as exc:
        raise InputError("nothing posted:\n%s" % exc)
    finally:
        store.close()
    for (pid, cust, uyuan), new in zip(payments, posted):
        click.echo(json.dumps({"payment": pid, "customer": cust, "amount": to_yuan(uyuan),
                               "posted": new}))


@prepaid.command("status")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--commands", "show_commands", is_flag=True, help="Also list the command journal.")
def prepaid_status(config_path, show_commands):
    """Balances, waiting payments and (optionally) every journaled command, as JSON."""
    from edge.prepaid.journal import Journal
    from edge.prepaid.ledger import Ledger
    from edge.prepaid.tariff import to_yuan
    from edge.prepaid.topup import status_rows
    store = _open_store(_prepaid_config(config_path).store)
    ledger = Ledger(store)
    out = {"balances": {c: to_yuan(a.balance) for c, a in sorted(ledger.accounts.items())},
           "inbox": [{"id": i, "customer": c, "amount": to_yuan(a)} for i, c, a, _ in ledger.inbox()],
           "topups": status_rows(store.db)}
    if show_commands:
        out["commands"] = [{"id": c.id, "meter": c.meter, "action": c.action, "state": c.state,
                            "reason": c.reason, "source": c.source, "attempts": c.attempts,
                            "created": iso(c.created)} for c in Journal(store).all()]
    click.echo(json.dumps(out, indent=1))


@main.command()
@click.option("--meters", "count", type=click.IntRange(1, 10000), default=300, show_default=True)
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--medium", type=click.Choice(["pty", "tcp"]), default="pty", show_default=True)
def demo(count, seed, medium):
    """Serve COUNT virtual meters on a real pty (or TCP) and read every one back."""
    from hil.demo import run_demo
    report = run_demo(count, seed, medium, echo=click.echo)
    sys.exit(0 if report["read_rate"] == 1.0 else 1)


@main.group()
def hil():
    """Hardware-in-the-loop harness: scenario runs with KPI reports and CI gates."""


def _scenario(path):
    """A scenario file loaded and validated; InputError naming every problem (exit 2)."""
    from hil.scenario import Scenario, ScenarioError
    try:
        return Scenario.load(path)
    except ScenarioError as exc:
        raise InputError(str(exc))


@hil.command("run")
@click.argument("scenario_path")
@click.option("--report", "report_dir", default="report", show_default=True,
              type=click.Path(file_okay=False), help="Folder for report.json and report.html.")
@click.option("--seed", type=SEED, default=None, help="Override the scenario's seed.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def hil_run(scenario_path, report_dir, seed, quiet):
    """Run a scenario (TOML) in virtual time: the agent against the simulated area, the KPIs
    from the simulator's ground truth, report.json and report.html in --report. Exits 1 when a
    gate fails (CI uses it as it is), 2 when the scenario is invalid."""
    from hil.report import write_report
    from hil.scenario_run import run_scenario
    sc = _scenario(scenario_path)
    _writable(report_dir, folder=True)
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



@hil.command("fleet")
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
    from hil.fleet import run_fleet
    from hil.report import write_report
    sc = _scenario(scenario_path)
    _writable(report_dir, folder=True)
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



@hil.command("conformance")
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
    from hil.conformance import check_meter
    if report_path:
        _writable(report_path)
    from protocols.dlt645 import address
    try:
        address(addr)
    except (ValueError, ProtocolError) as exc:
        raise click.BadParameter(str(exc), param_hint="--address")
    try:
        report = check_meter(url, addr, baud, timeout, relay=relay, level=int(level, 16),
                             password=bytes.fromhex(password)[::-1])
    except (OSError, ValueError) as exc:
        raise InputError("port %s: %s" % (url, _reason(exc)))
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



@hil.command("rig")
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
def hil_rig(scenario_path, url, rs485_url, listen, duration, archive_port, every_s, report_dir):
    """Put a real concentrator under test: serve the scenario's simulated area on a port in
    real time (its clock starts at the scenario's start) and be its master station. The KPIs
    come from the simulated meters' own freezes and relays: a JSON line every --every seconds,
    and report.json/report.html at the end. With [prepaid] the rig is the master's cost
    control too (AFN10 F1 forwarded trips and closes). Exit 1 on a failed gate."""
    import asyncio
    from hil.report import write_report
    from hil.rig import Rig, drive
    sc = _scenario(scenario_path)
    _writable(report_dir, folder=True)
    try:
        rig = Rig(sc, url, rs485_url)
    except (OSError, ValueError) as exc:
        raise InputError("cannot serve the area on %s: %s" % (url or rs485_url or "a pty",
                                                              _reason(exc)))

    def ready(where):
        _line({"serving": rig.path, "medium": sc.medium, "meters": len(rig.meters),
               "serving_rs485": rig.rs485_path, "master": "%s:%d" % where,
               "clock": iso(rig.now())})

    samples = {}
    try:
        report = asyncio.run(drive(rig, _hostport(listen), duration, archive_port,
                                   on_ready=ready, every_s=every_s,
                                   on_snapshot=lambda s: _line({"snapshot": s}),
                                   samples=samples))
    except TimeoutError as exc:
        raise click.ClickException(str(exc))
    except OSError as exc:                      # the address is taken or not ours
        raise InputError("cannot listen on %s: %s" % (listen, exc.strerror or exc))
    finally:
        rig.close()
    path, page = write_report(report, samples, report_dir)
    _line({"passed": report["passed"], "read_rate": report["read_rate"],
           "wrong_values": report["wrong_values"], "wrongful_ops": report["wrongful_ops"],
           "missed_ops": report["missed_ops"], "report": path, "html": page})
    sys.exit(0 if report["passed"] else 1)


def _line(doc):
    """One JSON line on stdout, flushed (a lab's script reads them as they come)."""
    click.echo(json.dumps(doc, ensure_ascii=False))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
