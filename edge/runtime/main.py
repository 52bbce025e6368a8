"""The board's entry point: agent.toml -> store, Agent (prepaid, uplink), exporter, the real loop.

``gridedge-agent --config /etc/gridedge/agent.toml`` (or ``python -m edge.runtime.main``) needs
nothing of the lab's side (hil, the simulator, SimPy, matplotlib); ``gridedge agent`` is a thin
command over ``run``. It prints one JSON line when it runs, then logs on stderr (``edge.runtime.logs``:
text on a terminal, JSON lines under systemd).
"""
import argparse
import asyncio
import json
import logging
import os
import random
import signal
import sqlite3
import sys
import time

from protocols.civil import iso, parse_local

from edge.agent import Agent
from edge.runtime import logs
from edge.runtime.aio import AgentRunner, local_clock
from edge.runtime.config import ConfigError, load_config
from edge.store import Store
from edge.terminal_params import TerminalClock, TerminalParams, power_restored

# readings of one runner step share a commit (the runner flushes before it writes or sleeps)
STEP_BATCH = 64
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "deploy")

log = logging.getLogger("edge.runtime.main")      # its name also when run as __main__


def version():
    try:
        from importlib.metadata import PackageNotFoundError, version as v
        return v("gridedge")
    except (ImportError, PackageNotFoundError):     # a bare checkout, not installed
        return "unknown"


def build(cfg, wall, on_commit=None):
    """The store, the agent (with prepaid and uplink where configured) and its runner."""
    try:
        store = Store(cfg.store, cfg.max_readings, on_commit=on_commit, batch=STEP_BATCH,
                      max_bytes=None if cfg.max_store_mb is None
                      else int(cfg.max_store_mb * 2 ** 20))
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError("cannot open the store %s: %s" % (cfg.store, exc)) from None
    params = TerminalParams(store.db)
    wall = TerminalClock(wall, params)          # the offset a master's clock set left
    agent = Agent(cfg.archive, store, cfg.settings, time.monotonic(), wall(), prepaid=cfg.prepaid)
    agent.terminal_params = params
    power_restored(store, params, agent.wall)
    if cfg.uplink is not None:
        from edge.uplink import Uplink
        Uplink(agent, cfg.uplink, random.Random(cfg.uplink.seed or time.time_ns()))
    try:
        return store, AgentRunner.open(agent, wall)
    except ValueError as exc:             # a URL pyserial does not know: the config is wrong
        store.close()
        raise ConfigError("%s: %s" % (", ".join(p.url for p in cfg.archive.ports.values()), exc))


def _commit_line(out):
    def echo(readings):
        out.write(json.dumps({"committed": [[r.addr, r.task, r.period, r.quality]
                                            for r in readings]}) + "\n")
        out.flush()
    return echo


async def _serve(runner, duration):
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runner.stop)
    await runner.run(None if duration is None else time.monotonic() + duration)


def _serve_metrics(runner, hostport):
    from edge.runtime.exporter import serve_metrics
    try:
        serve_metrics(runner, hostport)
    except OSError as exc:                      # the port is taken, the host is not ours
        raise ConfigError("cannot serve metrics on %s: %s" % (hostport, exc.strerror or exc))


def run(config_path, epoch=None, duration=None, print_commits=False, out=None):
    """Run the agent of ``config_path`` until a signal (or ``duration`` seconds); ``epoch``
    (local seconds) runs its calendar from that time. Raises ConfigError for an unusable config,
    store or metrics address; a missing or failing port is retried, not fatal."""
    out = out or sys.stdout
    cfg = load_config(config_path)
    wall = local_clock(epoch)
    store, runner = build(cfg, wall, _commit_line(out) if print_commits else None)
    try:
        if cfg.metrics:
            _serve_metrics(runner, cfg.metrics)
        log.info("gridedge agent %s starting: config %s, %d meters on %s, store %s", version(),
                 os.path.abspath(config_path), len(cfg.archive), ", ".join(sorted(cfg.archive.ports)),
                 cfg.store, extra={"event": "agent_start", "version": version(),
                                   "config": os.path.abspath(config_path),
                                   "meters": len(cfg.archive), "ports": sorted(cfg.archive.ports),
                                   "store": cfg.store,
                                   "uplink": cfg.uplink.master if cfg.uplink else None})
        out.write(json.dumps({"agent": "running", "version": version(), "meters": len(cfg.archive),
                              "ports": sorted(cfg.archive.ports), "store": cfg.store,
                              "metrics": cfg.metrics, "clock": iso(wall()),
                              "uplink": cfg.uplink.master if cfg.uplink else None}) + "\n")
        out.flush()
        asyncio.run(_serve(runner, duration))
    finally:
        store.close()
    log.info("gridedge agent %s stopped: config %s", version(), os.path.abspath(config_path),
             extra={"event": "agent_stop", "version": version(),
                    "config": os.path.abspath(config_path)})


def add_log_options(parser):
    """--log-format and --log-level (defaults: $GRIDEDGE_LOG_FORMAT / $GRIDEDGE_LOG_LEVEL, else
    auto and INFO)."""
    parser.add_argument("--log-format", choices=logs.FORMATS, default=None,
                        help="auto: text on a terminal, JSON lines otherwise (journald)"
                             " [$%s, default auto]" % logs.ENV_FORMAT)
    parser.add_argument("--log-level", choices=logs.LEVELS, default=None, type=str.upper,
                        help="[$%s, default INFO]" % logs.ENV_LEVEL)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gridedge-agent", description=(
        "The gridedge edge agent: read the archived meters on their ports, store, export metrics."))
    parser.add_argument("--config", help="agent.toml (store, metrics, tasks, archive)")
    parser.add_argument("--epoch", help="run the agent's calendar from this local time"
                                        " 'YYYY-MM-DD hh:mm' (a rig playing a simulated day)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--print-commits", action="store_true",
                        help="print one JSON line per durable store commit")
    add_log_options(parser)
    parser.add_argument("--example", choices=["agent.toml", "gridedge-agent.service"],
                        help="print a shipped example file and exit")
    parser.add_argument("--version", action="version", version="gridedge " + version())
    args = parser.parse_args(argv)
    if args.example:
        with open(os.path.join(EXAMPLES, args.example)) as f:
            sys.stdout.write(f.read())
        return 0
    if not args.config:
        parser.error("--config is required")
    epoch = None
    if args.epoch:
        try:
            epoch = parse_local(args.epoch)
        except ValueError as exc:
            parser.error("--epoch: %s" % exc)
    try:
        logs.setup(args.log_format, args.log_level)
    except ValueError as exc:               # a bad $GRIDEDGE_LOG_FORMAT / _LEVEL
        parser.error(str(exc))
    try:
        run(args.config, epoch, args.duration, args.print_commits)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
