"""Both exporters scraped over real loopback HTTP: a `gridedge master --metrics` process and a
board agent process (three meters behind a pty, its uplink to that master over TCP). The
master's denial and garbage counters move only after we send it garbage and a bad login on a
TCP connection of our own."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from meter_sim.population import build_meters
from meter_sim.serve.bus import MeterBus
from meter_sim.serve.stream import BusClock, PtyServer, Session
from protocols.civil import parse_local
from protocols.gdw1376_1 import Deframer, Frame, Unit, encode_frame
from protocols.gdw1376_1.frame import F_LINK_TEST
from protocols.gdw1376_1.units import AFN_CONFIRM, AFN_LINK, encode_units, parse_units

from tests.helpers import deframe

START = "2026-01-02 00:05"
PASSWORD = "0123456789abcdef0123456789abcdef"
WAIT_S = 30.0
GARBAGE = b"\x55" * 200                 # no 0x68 among them: no frame can start inside


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(hostport):
    """{series (name and labels, as exposed): value}."""
    text = urllib.request.urlopen("http://%s/metrics" % hostport, timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, v = line.rsplit(" ", 1)
            out[series] = float(v)
    return out


def wait_for(hostport, check, what):
    """Scrape until ``check(series)`` holds; the last scrape."""
    end = time.monotonic() + WAIT_S
    while True:
        try:
            got = scrape(hostport)
        except OSError:                  # the process is still starting: nothing listens yet
            got = {}
        if got and check(got):
            return got
        assert time.monotonic() < end, "%s never seen; last scrape:\n%s" % (
            what, "\n".join("%s %s" % kv for kv in sorted(got.items()) if "gridedge" in kv[0]))
        time.sleep(0.2)


def _agent_config(tmp_path, pty, master, metrics):
    meters = "".join('[[meter]]\naddr = "%012d"\nport = "p1"\n' % (k + 1) for k in range(3))
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nstore = "%s"\nmetrics = "127.0.0.1:%d"\n'
                    '[tasks]\nrealtime_s = 1\ncurve_every_min = 0\nevent_every_h = 0\n'
                    'clock_check_h = -1\n'
                    '[uplink]\nmaster = "%s"\nregion = "0171"\nterminal = 2082\n'
                    'password = "%s"\n[[port]]\nname = "p1"\nurl = "%s"\n%s'
                    % (tmp_path / "agent.sqlite", metrics, master, PASSWORD, pty, meters))
    return path


def _bad_login():
    """A login (AFN02 F1) naming point 1, not p0: the master denies it."""
    return encode_frame(Frame(AFN_LINK, encode_units([Unit(AFN_LINK, 1, 1, None, True)]), up=True,
                              prm=True, func=F_LINK_TEST, region="0171", terminal=9999, seq=3,
                              con=True))


def _garbage_and_a_denial(master):
    """Send garbage and a bad login on a new TCP connection; the frame the master answers."""
    host, _, port = master.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(GARBAGE + _bad_login())
        data, frames = b"", []
        while not frames:
            chunk = s.recv(4096)
            assert chunk, "the master closed the connection without an answer"
            data += chunk
            frames = [f for f in deframe(Deframer(), [data]) if not f.up]
        return frames[0]


@pytest.mark.timeout(60)
def test_agent_and_master_exporters_scraped_over_loopback(tmp_path, env_with_path):
    bus = MeterBus(build_meters(3, 1, parse_local("2026-01-01 00:00"), 1))
    pty = PtyServer(Session(bus, BusClock(parse_local(START)), threading.Lock())).start()
    master = agent = None
    try:
        master = subprocess.Popen(
            [sys.executable, "-m", "hil.cli", "master", "--listen", "127.0.0.1:0", "--control",
             "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--db", str(tmp_path / "master.sqlite"),
             "--epoch", START, "--duration", "55"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with_path)
        started = json.loads(master.stdout.readline() or "{}")
        assert started.get("metrics"), master.stderr.read()
        mm = started["metrics"]
        before = scrape(mm)
        for family in ("gridedge_master_denials_total", "gridedge_master_garbage_bytes_total",
                       "gridedge_master_terminals_online"):
            assert before[family] == 0, family
        assert "process_cpu_seconds_total" in before and "python_info" in " ".join(before)

        am = "127.0.0.1:%d" % free_port()
        agent = subprocess.Popen(
            [sys.executable, "-m", "edge.runtime.main", "--config",
             str(_agent_config(tmp_path, pty.path, started["master"], int(am.split(":")[1]))),
             "--epoch", START], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=env_with_path)
        got = wait_for(am, lambda g: g.get("gridedge_uplink_connected") == 1 and g.get(
            'gridedge_exchange_latency_seconds_count{medium="rs485"}', 0) > 0, "a logged-in agent"
                       " that read its meters")
        assert got['gridedge_uplink_session_events_total{event="login_confirmed"}'] == 1
        assert got["gridedge_uplink_last_confirm_age_seconds"] < WAIT_S
        assert got['gridedge_port_bytes_total{direction="in",port="p1"}'] > 0
        assert got["gridedge_store_bytes"] > 0 and got["gridedge_store_file_bytes"] > 0
        assert sum(v for k, v in got.items() if k.startswith("gridedge_commands{")) == 0
        assert got['gridedge_exchange_latency_seconds_bucket{le="+Inf",medium="rs485"}'] == \
            got['gridedge_exchange_latency_seconds_count{medium="rs485"}']
        for standard in ("process_resident_memory_bytes", "python_gc_objects_collected_total"
                         '{generation="0"}'):
            assert standard in got, standard

        online = wait_for(mm, lambda g: g["gridedge_master_terminals_online"] == 1 and g[
            "gridedge_master_units_received_total"] == 3, "the agent's three freezes at the master")
        assert online["gridedge_master_logins_total"] == 1
        assert online["gridedge_master_units_stored"] == 3
        assert online["gridedge_master_denials_total"] == 0
        assert online["gridedge_master_garbage_bytes_total"] == 0

        drained = wait_for(am, lambda g: g["gridedge_uplink_backlog_readings"] == 0,
                           "the agent's backlog drained")
        assert drained["gridedge_uplink_backlog_bytes"] == 0
        assert drained['gridedge_uplink_session_events_total{event="upload_confirmed"}'] >= 1

        answer = _garbage_and_a_denial(started["master"])
        assert answer.afn == AFN_CONFIRM and parse_units(0, answer.data, True)[0].fn == 2
        after = scrape(mm)
        assert after["gridedge_master_denials_total"] == 1
        assert after["gridedge_master_garbage_bytes_total"] == len(GARBAGE)
        assert after["gridedge_master_garbage_total"] >= 1        # one run, unless TCP split it
        assert after['gridedge_master_events_total{event="login_malformed"}'] == 1
        assert after["gridedge_master_connections"] >= 1
        assert agent.poll() is None and master.poll() is None
    finally:
        for proc in (agent, master):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        pty.close()
        if os.path.exists(tmp_path / "agent.sqlite"):
            assert os.path.getsize(tmp_path / "agent.sqlite") > 0


def test_a_master_metrics_port_already_taken_is_named(tmp_path):
    from click.testing import CliRunner
    from hil.cli import main
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        where = "127.0.0.1:%d" % taken.getsockname()[1]
        result = CliRunner().invoke(main, [
            "master", "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0", "--metrics", where,
            "--db", str(tmp_path / "master.sqlite"), "--duration", "1"])
    assert result.exit_code == 2, result.output
    assert "cannot serve metrics on %s" % where in result.output
    assert "Traceback" not in result.output
