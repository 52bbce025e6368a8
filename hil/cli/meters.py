"""``gridedge meters serve|read``: virtual meters behind a port, one read of a meter on a port."""
import json
import logging
import sys
import threading
import time

import click

from protocols.civil import iso
from protocols.dlt645 import Read, address, di as DI, v1997
from protocols.errors import ProtocolError, hexstr
from edge.runtime.ports import transact
from meter_sim.population import MIXED_698_SHARE, build_meters
from meter_sim.serve.bus import MeterBus
from meter_sim.serve.stream import BusClock, PtyServer, SerialServer, Session, TcpServer
from hil.cli.common import InputError, open_serial, reason, serve_until
from hil.cli.params import (COUNT, MAX_METERS, SECONDS, SEED, Finite, HostPort, LineRate,
                            LocalTime, tcp_url)

log = logging.getLogger(__name__)


@click.group()
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
@click.option("--curve-interval", "curve_interval", type=click.Choice(["1", "5", "15", "30", "60"]),
              default="15", show_default=True, help="The meters' load-curve interval (min).")
def meters_serve(count, seed, first, epoch, start, speed, use_pty, port_url, tcp_addr, timing,
                 baud, duration, verbose, share_1997, protocol, share_secured, esam_session,
                 curve_interval):
    """Put COUNT meters behind one port with RS-485 multi-drop semantics."""
    if sum(bool(x) for x in (use_pty, port_url, tcp_addr)) != 1:
        raise click.UsageError("give exactly one of --pty, --port URL, --tcp HOST:PORT")
    t0 = epoch
    share_698 = {"645": 0.0, "698": 1.0, "mixed": MIXED_698_SHARE}[protocol]
    bus = MeterBus(build_meters(count, seed, t0, first, protocol_1997_share=share_1997,
                                protocol_698_share=share_698, secured_share=share_secured,
                                esam_session_s=esam_session))
    for m in bus.meters:
        m.curve_interval = 60 * int(curve_interval)
    clock = BusClock(start if start is not None else t0, speed)
    lock = threading.Lock()
    request_log = _request_log if verbose else None

    def session():
        return Session(bus, clock, lock, timing, baud, request_log)
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
                                                     reason(exc)))
    log.info("serving %d meters (%s, seed %d) on %s", count, protocol, seed, where,
             extra={"event": "meters_serve", "serving": where, "meters": count, "seed": seed,
                    "protocol": protocol, "timing": timing})
    click.echo(json.dumps({"serving": where, "meters": count, "first_address": "%012d" % first,
                           "seed": seed, "epoch": iso(t0), "protocol": protocol,
                           "meters_698": sum(m.protocol == 698 for m in bus.meters),
                           "protocol_1997": [m.addr[::-1].hex() for m in bus.meters
                                             if m.protocol == 1997],
                           "secured": [m.addr[::-1].hex() for m in bus.meters
                                       if m.esam is not None]}), nl=True)
    sys.stdout.flush()
    serve_until(server, None if duration is None else time.monotonic() + duration)


def _request_log(frame, reply):
    """--verbose: one log line per request and its reply."""
    request, answer = hexstr(frame.raw), hexstr(reply) if reply else "(silent)"
    log.info("%s -> %s", request, answer, extra={"event": "meter_request", "request": request,
                                                 "reply": answer})


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
    if bool(tcp_addr) == bool(port_url):
        raise click.UsageError("give exactly one of --tcp HOST:PORT or --port URL")
    url = tcp_url(tcp_addr) if tcp_addr else port_url
    try:
        wire_addr = address(addr)
        if protocol == "1997":
            request = v1997.Read97(v1997.parse_di(di))
        else:
            request = Read(DI.parse(di), blocks, start)
    except (ValueError, ProtocolError) as exc:
        raise click.BadParameter(str(exc))
    port = open_serial(url, baud)
    try:
        outcome = transact(port, wire_addr, request, timeout, retries)
    except (OSError, ValueError) as exc:        # the device went away mid-exchange
        raise InputError("port %s failed: %s" % (url, reason(exc)))
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
