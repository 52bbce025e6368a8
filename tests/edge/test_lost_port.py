"""A lost port is not a lost agent: a real `gridedge agent` process on two ptys, one of them
missing at start, then created, closed under the running agent and created again (a new pty
behind the same path, as udev's by-id link of a re-plugged USB adapter). The other bus reads on
the whole time, the metrics say which port is lost, and the log says opened/lost/reopened."""
import json
import os
import queue
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

START = "2026-01-02 00:05"
A_METERS = ["%012d" % k for k in (1, 2, 3)]
B_METERS = ["%012d" % k for k in (101, 102, 103)]
WAIT_S = 20.0


def serve(first, link):
    """Three meters behind a new pty, reachable through the symlink ``link``."""
    bus = MeterBus(build_meters(3, 1, parse_local("2026-01-01 00:00"), first))
    server = PtyServer(Session(bus, BusClock(parse_local(START)), threading.Lock())).start()
    tmp = str(link) + ".new"
    os.symlink(server.path, tmp)
    os.replace(tmp, link)
    return server


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """The agent process; its stdout commits and stderr log lines collected by two threads."""

    def __init__(self, cmd, env):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.commits = queue.Queue()
        self.log = []
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()

    def _out(self):
        for line in self.proc.stdout:
            if line.startswith('{"committed"'):
                for addr, _, _, quality in json.loads(line)["committed"]:
                    self.commits.put((time.monotonic(), addr, quality))

    def _err(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def reads_from(self, meters, n=3):
        """Wait for ``n`` good readings of ``meters`` committed from now on."""
        end, got = time.monotonic() + WAIT_S, 0
        while got < n:
            assert self.proc.poll() is None, "".join(self.log)
            try:
                _, addr, quality = self.commits.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no reads from %s; log:\n%s" % (meters, "".join(self.log)))
            got += addr in meters and quality == "ok"

    def logged(self, text):
        end = time.monotonic() + WAIT_S
        while not any(text in line for line in self.log):
            assert time.monotonic() < end, "%r not logged:\n%s" % (text, "".join(self.log))
            time.sleep(0.05)

    def drain(self):
        while not self.commits.empty():
            self.commits.get()


def port_state(metrics, port):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics, timeout=5).read()
    for line in text.decode().splitlines():
        if line.startswith('gridedge_port_state{port="%s",state="lost"}' % port):
            return "lost" if float(line.split()[-1]) == 1 else "open"
    return None


def wait_state(metrics, port, state):
    end = time.monotonic() + WAIT_S
    while port_state(metrics, port) != state:
        assert time.monotonic() < end, "port %s never %s" % (port, state)
        time.sleep(0.1)


@pytest.mark.timeout(120)
def test_a_lost_port_is_reopened_while_the_other_bus_reads_on(tmp_path, env_with_path):
    link_a, link_b = tmp_path / "ttyA", tmp_path / "ttyB"
    metrics = free_port()
    meters = "".join('[[meter]]\naddr = "%s"\nport = "%s"\n' % (m, p)
                     for p, ms in (("a", A_METERS), ("b", B_METERS)) for m in ms)
    cfg = tmp_path / "agent.toml"
    cfg.write_text('[agent]\nstore = "agent.sqlite"\nmetrics = "127.0.0.1:%d"\n'
                   '[tasks]\nrealtime_s = 1\ncurve_every_min = 0\nevent_every_h = 0\n'
                   'clock_check_h = -1\n'
                   '[[port]]\nname = "a"\nurl = "%s"\n[[port]]\nname = "b"\nurl = "%s"\n%s'
                   % (metrics, link_a, link_b, meters))
    server_a = serve(1, link_a)
    server_b = agent = None                          # b: missing at start
    try:
        agent = Agent([sys.executable, "-m", "hil.cli", "agent", "--config", str(cfg),
                       "--epoch", START, "--print-commits"], env_with_path)
        # b is missing at start: the agent runs, reads a, and says so
        agent.reads_from(A_METERS)
        agent.logged("port b cannot be opened")
        wait_state(metrics, "b", "lost")
        server_b = serve(101, link_b)
        agent.reads_from(B_METERS)
        agent.logged("port b reopened")
        wait_state(metrics, "b", "open")
        # b fails under the running agent (EIO on the pty): a reads on while b is lost
        server_b.close()
        server_b = None
        os.unlink(link_b)                            # unplugged: udev removes the by-id link
        agent.logged("port b lost")
        wait_state(metrics, "b", "lost")
        agent.drain()
        agent.reads_from(A_METERS, n=6)
        assert port_state(metrics, "b") == "lost"
        server_b = serve(101, link_b)               # plugged in again: a new pty
        agent.drain()
        agent.reads_from(B_METERS)
        wait_state(metrics, "b", "open")
        assert agent.proc.poll() is None
    finally:
        if agent is not None:
            agent.proc.terminate()
            agent.proc.wait(10)
        server_a.close()
        if server_b is not None:
            server_b.close()
    assert agent.proc.returncode == 0, "".join(agent.log)
    reopened = [line for line in agent.log if "port b reopened" in line]
    assert len(reopened) == 2, "".join(agent.log)


# --- the agent core's side, sans I/O: the runtime says lost/back, the core's jobs wait -------

def core_agent():
    from edge.agent import Agent
    from edge.archive import Archive
    from edge.plan import Settings
    from edge.store import Store
    archive = Archive.from_dict({"port": [{"name": "a", "url": "loop://"},
                                          {"name": "b", "url": "loop://"}],
                                 "meter": [{"addr": m, "port": p} for p, ms in
                                           (("a", A_METERS), ("b", B_METERS)) for m in ms]})
    settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=-1)
    return Agent(archive, Store(":memory:"), settings, now=0.0, wall=parse_local(START))


def test_jobs_on_a_lost_bus_wait_and_read_when_it_is_back_before_their_deadline():
    agent = core_agent()
    wall = parse_local(START)
    agent.port_lost("b")
    agent.on_timer(1.0, wall + 1.0)
    assert agent.data_to_send("a", 1.0) and agent.data_to_send("b", 1.0) is None
    agent.port_back("b")
    agent.on_timer(2.0, wall + 2.0)
    assert agent.data_to_send("b", 2.0)                       # the waiting freeze read goes out
    assert agent.counters.get("job_expired") is None


def test_jobs_on_a_lost_bus_end_unsent_when_their_deadline_passes():
    agent = core_agent()
    wall = parse_local(START)
    agent.port_lost("b")
    deadline_s = 6 * 3600.0 - 5 * 60.0                          # 00:05 to the 06:00 deadline
    t = 1.0
    while t < deadline_s + 120.0:                               # minutes pass, a's reads time out
        agent.on_timer(t, wall + t)
        agent.data_to_send("a", t)
        t += 30.0
    assert agent.counters["job_expired"] == len(B_METERS)       # b's freeze jobs, unsent
    agent.port_back("b")
    agent.on_timer(t, wall + t)
    assert agent.data_to_send("b", t) is None
    rows = agent.read_rates[("daily_freeze", "2026-01-01")]     # the window closed: counted
    assert sum(r[-2] for r in rows) == 6 and sum(r[-1] for r in rows) == 0
