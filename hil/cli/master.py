"""``gridedge master [ask]``: a Q/GDW 1376.1 master station, and requests to a running one."""
import asyncio
import json
import signal
import sys

import click

from protocols.civil import parse_local, to_civil
from protocols.gdw1376_1.formats import time_a15
from edge.prepaid.campaign import load_file, parse_file
from edge.runtime.aio import local_clock
from edge.schema import SchemaError
from edge.runtime.exporter import serve_master_metrics
from hostlink.aio import MasterServer, TokenError, control_call, load_token, server_context
from hostlink.master import Limits
from hil.cli.common import InputError
from hil.cli.params import hostport


@click.group(invoke_without_command=True)
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
    host, port = hostport(listen)
    chost, cport = hostport(control)
    if metrics:
        hostport(metrics)
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
        mwhere = None
        if metrics:
            try:
                mwhere = serve_master_metrics(server, metrics, asyncio.get_running_loop())
            except OSError as exc:
                await server.close()
                raise InputError("cannot serve metrics on %s: %s" % (metrics, exc.strerror or exc))
        click.echo(json.dumps({"master": "%s:%d" % where, "control": "%s:%d" % cwhere,
                               "token_file": token_file, "db": db_path, "tls": bool(ctx_tls),
                               "metrics": "%s:%d" % mwhere.server_address[:2] if mwhere
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
    "events", "control", "archive-query", "forward", "forward-read", "price-campaign",
    "line-loss", "missed"]))
@click.option("--control", default="127.0.0.1:9001", show_default=True)
@click.option("--token-file", default="master.sqlite.token", show_default=True,
              type=click.Path(dir_okay=False),
              help="The station's control-port token (what `gridedge master` printed).")
@click.option("--terminal", help="RRRR-NNNNN: region code and terminal address.")
@click.option("--point", "points", type=int, multiple=True, help="Measuring point(s).")
@click.option("--fn", type=int, help="Item Fn (default per op: F129, F161, F177 ...).")
@click.option("--date", help="YYYY-MM-DD (read-day, line-loss, missed) or YYYY-MM (read-month).")
@click.option("--start", help="Curve start YYYY-MM-DD hh:mm (read-curve).")
@click.option("--count", type=int, default=4, show_default=True, help="Curve points.")
@click.option("--action", type=click.Choice(["trip", "allow-close", "keep-power",
                                             "keep-power-off"]))
@click.option("--meter", help="Meter address (forward-read).")
@click.option("--di", help="Data identifier in hex (forward-read).")
@click.option("--frame", help="A ready DL/T 645 frame in hex (forward: AFN10 F1), e.g. a top-up"
                              " or control the station's encryption machine sealed.")
@click.option("--file", "prices_path", type=click.Path(exists=True, dir_okay=False),
              help="prices.toml (price-campaign): its campaigns go to the concentrator as"
                   " AFN04 F201 (gridedge's extension); --point names the target points.")
@click.option("--password", default=None, envvar="GRIDEDGE_TERMINAL_PW",
              help="The terminal's PW (32 hex digits; or $GRIDEDGE_TERMINAL_PW): needed by"
                   " control, archive and forward requests. No default.")
@click.option("--timeout", type=float, default=60.0, show_default=True)
def master_ask(op, control, token_file, terminal, points, fn, date, start, count, action, meter,
               di, frame, prices_path, password, timeout):
    """Ask a running master station to read, control or query a concentrator; prints JSON."""
    try:
        token = load_token(token_file)
    except TokenError as exc:
        raise click.ClickException(str(exc))
    cmd = {"op": op, "timeout_s": timeout, "count": count}
    for key, value in (("terminal", terminal), ("fn", fn), ("date", date), ("start", start),
                       ("action", action), ("meter", meter), ("di", di), ("frame", frame),
                       ("password", password)):
        if value is not None:
            cmd[key] = value
    if points:
        cmd["points"] = list(points)
    if op == "price-campaign":
        if prices_path is None:
            raise InputError("price-campaign needs --file prices.toml")
        cmd["campaigns"] = campaign_values(prices_path, list(points))
    host, port = hostport(control)
    try:
        reply = asyncio.run(control_call(host, port, cmd, timeout + 5, token))
    except OSError as exc:
        raise click.ClickException("no master control port at %s: %s" % (control, exc))
    click.echo(json.dumps(reply, indent=2, ensure_ascii=False))
    if "error" in reply or reply.get("outcome") not in (None, "ok"):
        sys.exit(1)


def campaign_values(path, points):
    """AFN04 F201 values of the campaigns of prices.toml ``path``; a campaign for listed meters
    goes to the measuring points ``points`` (the master knows the points, not the addresses)."""
    try:
        campaigns = parse_file(load_file(path))
    except (SchemaError, ValueError) as exc:
        raise InputError(str(exc))
    out = []
    for c in campaigns:
        v = {"id": c.id, "effective": list(time_a15(to_civil(c.effective)))}
        if c.target and "meters" in c.target or points:
            if not points:
                raise InputError("campaign %s names meters: give their measuring points with"
                                 " --point" % c.id)
            v.update(target="points", points=points)
        elif c.target:
            v.update(target="tariff_class", tariff_class=c.target["tariff_class"])
        else:
            v["target"] = "all"
        t = c.tariff_doc
        if t["kind"] == "flat":
            v.update(tariff="flat", prices=[t["price"]])
        elif t["kind"] == "tou":
            v.update(tariff="tou", prices=list(t["prices"]))
        else:
            v.update(tariff="ladder", prices=[p for _, p in t["blocks"]],
                     tops=[u for u, _ in t["blocks"][:-1]])
        out.append(v)
    return out
