"""The logs (edge/runtime/logs.py): JSON lines that parse and carry their extras, human text on a
terminal (a real pty), the environment's choice; a real gridedge-agent process against a pty
meter bus logs its start and the port as JSON; the uplink says why the link went down; the
backlog's marks are logged up and back down."""
import asyncio
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from edge.backlog import BacklogWatch
from edge.runtime import logs
from edge.store import Reading, Store
from hostlink.aio import MasterServer, TerminalClient, local_wall
from meter_sim.population import build_meters
from meter_sim.serve.bus import MeterBus
from meter_sim.serve.stream import BusClock, PtyServer, Session
from protocols.civil import parse_local

from tests.hostlink.helpers import DAY_READ, concentrator

START = "2026-01-02 00:05"


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    for name in logs.OURS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    logs._state["handler"] = None


def test_json_lines_parse_and_carry_extras_and_the_traceback():
    out = io.StringIO()
    assert logs.setup("json", "INFO", stream=out, force=True) == ("json", "INFO")
    log = logging.getLogger("edge.test_logs")
    log.info("port %s opened", "a", extra={"event": "port_opened", "port": "a", "baud": 2400})
    log.debug("not at INFO")
    try:
        1 / 0
    except ZeroDivisionError:
        log.error("job failed", exc_info=True, extra={"event": "job_error"})
    first, second = [json.loads(line) for line in out.getvalue().splitlines()]
    assert first["level"] == "INFO" and first["logger"] == "edge.test_logs"
    assert first["msg"] == "port a opened"
    assert (first["event"], first["port"], first["baud"]) == ("port_opened", "a", 2400)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["ts"])
    assert "exc" not in first
    assert second["level"] == "ERROR" and "ZeroDivisionError" in second["exc"]
    assert "Traceback" in second["exc"]


def test_auto_is_text_on_a_terminal_and_json_on_a_pipe():
    master, slave = os.openpty()
    tty = os.fdopen(slave, "w")
    try:
        assert logs.setup("auto", "INFO", stream=tty, force=True) == ("text", "INFO")
        logging.getLogger("edge.test_logs").warning("port %s lost", "b")
        tty.flush()
        line = os.read(master, 4096).decode()
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING edge.test_logs: port b lost",
                        line), line
        assert not line.lstrip().startswith("{")
    finally:
        tty.close()
        os.close(master)
    r, w = os.pipe()
    with os.fdopen(r) as rf, os.fdopen(w, "w") as wf:
        assert logs.resolve("auto", None, wf, environ={}) == ("json", "INFO")


def test_the_environment_chooses_when_no_option_does():
    env = {logs.ENV_FORMAT: "text", logs.ENV_LEVEL: "warning"}
    assert logs.resolve(None, None, io.StringIO(), environ=env) == ("text", "WARNING")
    assert logs.resolve("json", "DEBUG", io.StringIO(), environ=env) == ("json", "DEBUG")
    with pytest.raises(ValueError, match="log format 'xml'"):
        logs.resolve("xml", None, io.StringIO(), environ={})


def test_a_bad_log_format_in_the_environment_is_exit_2(env_with_path, tmp_path):
    env = dict(env_with_path, GRIDEDGE_LOG_FORMAT="xml")
    out = subprocess.run([sys.executable, "-m", "edge.runtime.main", "--config",
                          str(tmp_path / "none.toml")], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 2 and "log format 'xml'" in out.stderr


@pytest.mark.timeout(60)
def test_a_real_agent_logs_its_start_and_the_port_as_json_lines(tmp_path, env_with_path):
    bus = MeterBus(build_meters(2, 1, parse_local("2026-01-01 00:00"), 1))
    server = PtyServer(Session(bus, BusClock(parse_local(START)), threading.Lock())).start()
    cfg = tmp_path / "agent.toml"
    cfg.write_text('[agent]\nstore = "agent.sqlite"\n[tasks]\nrealtime_s = 1\n'
                   '[[port]]\nname = "rs485"\nurl = "%s"\n'
                   '[[meter]]\naddr = "000000000001"\nport = "rs485"\n' % server.path)
    env = {k: v for k, v in env_with_path.items() if not k.startswith("GRIDEDGE_LOG")}
    try:
        out = subprocess.run([sys.executable, "-m", "edge.runtime.main", "--config", str(cfg),
                              "--epoch", START, "--duration", "1.5"], cwd=tmp_path,
                             capture_output=True, text=True, env=env, timeout=45)
    finally:
        server.close()
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stderr.splitlines()]     # every line is JSON
    events = {d.get("event"): d for d in lines}
    start = events["agent_start"]
    assert start["level"] == "INFO" and start["config"] == str(cfg)
    assert start["version"] and start["ports"] == ["rs485"]
    opened = events["port_opened"]
    assert (opened["port"], opened["url"], opened["baud"]) == ("rs485", server.path, 2400)
    assert events["agent_stop"]["level"] == "INFO"


async def _until(predicate, timeout=15.0):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.02)


def _clocks(agent):
    def clocks():
        agent.set_clock(time.monotonic(), local_wall())
    return clocks


@pytest.mark.timeout(60)
def test_the_uplink_logs_why_the_link_went_down(tmp_path, caplog):
    agent, fresh = concentrator(7), concentrator(8)
    for a in (agent, fresh):
        a.uplink.session.settings.reconnect_min_s = a.uplink.session.settings.reconnect_max_s = 0.1
    session = agent.uplink.session

    def dials(terminal):
        return [r for r in caplog.records if r.name == "hostlink.session"
                and r.event == "uplink_dial_failed" and r.terminal == terminal]

    async def scenario():
        server = MasterServer(tmp_path / "master.sqlite")
        _, port = await server.listen("127.0.0.1", 0)
        clients = [TerminalClient(session, "127.0.0.1", port, before=_clocks(agent))]
        tasks = [asyncio.ensure_future(clients[0].run())]
        try:
            await _until(lambda: session.online)
            await server.close()                  # the master station goes away
            await _until(lambda: len(dials("0171-00007")) >= 2)
            # a concentrator that never reached the master: its first failed dial is the news
            clients.append(TerminalClient(fresh.uplink.session, "127.0.0.1", port,
                                          before=_clocks(fresh)))
            tasks.append(asyncio.ensure_future(clients[1].run()))
            await _until(lambda: len(dials("0171-00008")) >= 2)
        finally:
            for c in clients:
                c.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), 10)
        return port

    with caplog.at_level(logging.DEBUG, logger="hostlink.session"):
        port = asyncio.run(scenario())
    mine = [r for r in caplog.records if r.name == "hostlink.session"]
    up = [r for r in mine if r.event == "uplink_login_confirmed"]
    assert up and up[0].levelno == logging.INFO and "link up" in up[0].getMessage()
    (down,) = [r for r in mine if r.event == "uplink_lost" and r.levelno >= logging.WARNING]
    assert down.terminal == "0171-00007" and down.reason == "closed by the master"
    assert "link down" in down.getMessage()
    # retries after the link went down say so only at DEBUG: one WARNING per outage
    assert all(r.levelno == logging.DEBUG for r in dials("0171-00007"))
    first, *again = dials("0171-00008")
    assert first.levelno == logging.WARNING and "cannot reach the master" in first.getMessage()
    assert "127.0.0.1:%d" % port in first.reason and "Connect" in first.reason
    assert again and all(r.levelno == logging.DEBUG for r in again)


def _unsent(store, n, first=0):
    store.put_readings([Reading("%012d" % k, "daily_freeze", 0x05060101, DAY_READ,
                                {"kwh": [1.0]}) for k in range(first, first + n)])


def test_the_backlog_marks_are_logged_up_and_back_down(tmp_path, caplog):
    agent = concentrator(3, path=str(tmp_path / "agent.sqlite"))
    store = agent.store
    watch = agent.uplink.backlog
    with caplog.at_level(logging.INFO, logger="edge.backlog"):
        agent.on_timer(100.0, agent.wall)
        assert not caplog.records                     # 2 readings: under every mark
        _unsent(store, 1200)
        agent.on_timer(105.0, agent.wall)
        assert not caplog.records                     # counted at most every 10 s
        agent.on_timer(111.0, agent.wall)
        (up,) = caplog.records
        assert up.levelno == logging.WARNING and (up.event, up.mark) == ("backlog_up", 1000)
        assert up.backlog == store.unsent_count() == 1202 and "1k" in up.getMessage()
        ids = store.unsent_ids(1202)
        store.settle(ids[:400])                       # 802 left: above half the mark, no line
        agent.on_timer(122.0, agent.wall)
        assert len(caplog.records) == 1
        store.settle(ids[400:])
        agent.on_timer(133.0, agent.wall)
        down = caplog.records[-1]
        assert down.levelno == logging.INFO and (down.event, down.mark) == ("backlog_down", 1000)
        assert down.backlog == 0 and watch.level == 0


def test_a_jump_over_several_marks_is_one_line_naming_the_highest(tmp_path, caplog):
    store = Store(tmp_path / "s.sqlite", durable=False)
    store.upload_tasks = {"daily_freeze"}
    watch = BacklogWatch(store.unsent_count, marks=(10, 100, 1000), every_s=0.0)
    with caplog.at_level(logging.INFO, logger="edge.backlog"):
        _unsent(store, 150)
        watch.check(0.0)
        _unsent(store, 60, first=150)
        watch.check(1.0)
    (up,) = caplog.records
    assert (up.mark, up.backlog, watch.level) == (100, 150, 2)
    store.close()


def test_virtual_time_runs_hold_the_board_loggers_unless_a_level_is_given(monkeypatch):
    monkeypatch.delenv(logs.ENV_LEVEL, raising=False)
    board = logging.getLogger("edge")
    try:
        logs.setup("json", None, stream=io.StringIO(), force=True)
        logs.hold_for_virtual_time()
        assert board.level == logging.WARNING
        assert not logging.getLogger("edge.agent").isEnabledFor(logging.INFO)
        logs.setup("json", "INFO", stream=io.StringIO(), force=True)
        logs.hold_for_virtual_time()
        assert board.level == logging.INFO
        assert logging.getLogger("edge.agent").isEnabledFor(logging.INFO)
        assert not logging.getLogger("matplotlib.category").isEnabledFor(logging.INFO)
    finally:
        for name in logs.OURS:
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_a_program_with_its_own_logging_keeps_it():
    root = logging.getLogger()
    theirs = logging.StreamHandler(io.StringIO())
    root.addHandler(theirs)
    out = io.StringIO()
    logs.setup("json", "INFO", stream=out)
    assert logs._state["handler"] is None and root.handlers.count(theirs) == 1
    logging.getLogger("edge.test_logs").warning("to their handler")
    assert out.getvalue() == "" and "to their handler" in theirs.stream.getvalue()
