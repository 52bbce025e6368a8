"""Remote crash and wedge: an archive entry naming the broadcast address is refused wherever it
comes from (the master's AFN04 F10 over TCP to a real agent process, a store written by an older
version), and an exception in one meter's job ends that job alone: logged, counted, the meter's
read stored as failed, every other meter read on."""
import asyncio
import json
import logging
import subprocess
import sys
import time

import pytest
import simpy
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from edge.agent import Agent
from edge.archive import Archive, ArchiveError, MeterRecord
from edge.jobs import DailyFreeze
from edge.plan import Settings, open_windows
from edge.runtime.aio import local_clock
from edge.runtime.exporter import SnapshotCollector
from edge.store import Store
from hil.agent_run import area_archive
from hil.simruntime import SimRuntime
from hostlink.aio import MasterServer
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY, parse_local
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.units import AFN_SET, PROTOCOL_645_2007

START = DEFAULT_EPOCH + DAY + 600.0          # 00:10: the daily-freeze window is open
EPOCH = "2026-01-02 00:05"
PASSWORD = "0123456789abcdef0123456789abcdef"
FREEZE_ONLY = dict(curve_every_min=0, event_every_h=0, clock_check_h=None)


def _area(env, n=4, medium="rs485"):
    return build_area(env, n, medium, 1, DEFAULT_EPOCH)


def _freezes(store):
    return {r.addr: r.quality for r in store.readings(task="daily_freeze")}


def _entry(addr, point):
    return {"index": point, "point": point, "port_baud": (3 << 5) | 1, "addr": addr,
            "protocol": PROTOCOL_645_2007, **{"pw%d" % j: 0 for j in range(6)}, "tariffs": 4,
            "digits": 9, "collector": None, "user_class": 0}


@pytest.mark.parametrize("addr", ["999999999999", "AAAAAAAAAAAA", "0000000000AA"])
def test_broadcast_and_wildcard_addresses_are_refused_by_change_archive(addr):
    env = simpy.Environment(initial_time=START)
    area = _area(env)
    store = Store(":memory:", durable=False)
    agent = Agent(area_archive(area), store, Settings(**FREEZE_ONLY), now=START, wall=START)
    with pytest.raises(ArchiveError, match="broadcast|wildcard"):
        agent.change_archive(add=[{"addr": addr, "port": "rs485-1"}])
    assert store.archive_changes() == ([], [])
    assert addr not in agent.archive.meters


def test_a_broadcast_entry_saved_by_an_older_version_is_skipped_at_start():
    env = simpy.Environment(initial_time=START)
    area = _area(env)
    store = Store(":memory:", durable=False)
    store.save_archive_changes(add=[{"addr": "999999999999", "port": "rs485-1"}])
    agent = Agent(area_archive(area), store, Settings(**FREEZE_ONLY), now=START, wall=START)
    SimRuntime(env, agent, {"rs485-1": area.network})
    env.run(until=START + 600.0)
    assert "999999999999" not in agent.archive.meters
    assert agent.counters["archive_changes_rejected"] == 1
    assert _freezes(store) == {"%012d" % (k + 1): "ok" for k in range(4)}


def test_a_read_nobody_answers_as_ok_is_stored_as_not_read_not_a_crash():
    # the archive built by hand, past validation: the link's "ok" for a frame to 99..99 (which
    # no meter answers) must not reach the task as a reading
    env = simpy.Environment(initial_time=START)
    area = _area(env, 2)
    good = area_archive(area)
    archive = Archive(good.ports.values(), list(good.meters.values())
                      + [MeterRecord("999999999999", "rs485-1")])
    store = Store(":memory:", durable=False)
    agent = Agent(archive, store, Settings(**FREEZE_ONLY), now=START, wall=START)
    SimRuntime(env, agent, {"rs485-1": area.network})
    env.run(until=START + 600.0)
    got = _freezes(store)
    assert got["999999999999"] == "timeout"
    assert got["000000000001"] == got["000000000002"] == "ok"
    assert agent.counters.get("job_errors", 0) == 0


class _Exploding(DailyFreeze):
    """A task whose readings raise for one meter (any bug or surprise of one job)."""

    name = "exploding"

    def __init__(self, victim):
        DailyFreeze.__init__(self, DAY, 300.0, 6 * 3600.0)
        self.victim = victim

    def readings(self, agent, meter, window, result):
        if meter.addr == self.victim:
            raise ZeroDivisionError("a bug in one job")
        return DailyFreeze.readings(self, agent, meter, window, result)


@pytest.mark.parametrize("medium", ["rs485", "hplc"])
def test_an_exception_in_one_meters_job_is_contained(medium, caplog):
    env = simpy.Environment(initial_time=START)
    area = _area(env, 6, medium)
    archive = area_archive(area)
    store = Store(":memory:", durable=False)
    agent = Agent(archive, store, Settings(**FREEZE_ONLY), now=START, wall=START)
    runtime = SimRuntime(env, agent, {list(archive.ports)[0]: area.network})
    victim = "000000000003"
    task = _Exploding(victim)

    def start():
        [window] = open_windows(task, agent.wall)
        for m in agent.archive.meters.values():
            agent.read(m, task, window)
    with caplog.at_level(logging.ERROR, logger="edge.agent"):
        runtime.call(start)
        env.run(until=START + 1800.0)
    assert agent.counters["job_errors"] == 1
    assert "ZeroDivisionError" in caplog.text and victim in caplog.text
    got = {r.addr: r.quality for r in store.readings(task="exploding")}
    assert got.pop(victim) == "failed"
    assert got == {m: "ok" for m in archive.meters if m != victim}
    [failed] = store.readings(addr=victim, task="exploding")
    assert failed.flags == ("job_error",) and failed.value is None
    assert set(_freezes(store).values()) == {"ok"} and len(_freezes(store)) == 6
    assert agent.active == 0                     # every job ended, the failed one counted too

    class Runner:
        snapshot = agent.metrics()
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(Runner))
    assert "gridedge_job_errors_total 1.0" in generate_latest(registry).decode()


def test_the_job_error_counter_is_exported_at_zero():
    env = simpy.Environment(initial_time=START)
    agent = Agent(area_archive(_area(env, 1)), Store(":memory:", durable=False),
                  Settings(**FREEZE_ONLY), now=START, wall=START)
    [sample] = [s for s in agent.metrics() if s.name == "gridedge_job_errors_total"]
    assert (sample.kind, sample.value) == ("counter", 0)


def _config(tmp_path, pty, master_port):
    meters = "".join('[[meter]]\naddr = "%012d"\nport = "p1"\n' % (k + 1) for k in range(3))
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nstore = "agent.sqlite"\n[tasks]\nrealtime_s = 1\n'
                    'curve_every_min = 0\nevent_every_h = 0\nclock_check_h = -1\n'
                    '[uplink]\nmaster = "127.0.0.1:%d"\nregion = "0171"\nterminal = 2082\n'
                    'password = "%s"\n[[port]]\nname = "p1"\nurl = "%s"\n%s'
                    % (master_port, PASSWORD, pty, meters))
    return path


async def _attack(agent_proc, server, tmp_path):
    end = time.monotonic() + 30.0
    while not server.online() and time.monotonic() < end and agent_proc.poll() is None:
        await asyncio.sleep(0.1)
    assert server.online() == ["0171-02082"], "the agent did not log in"
    unit = Unit(AFN_SET, 10, 0, {"items": [_entry("999999999999", 4)]}, False)
    answer = await server.request("0171-02082", AFN_SET, [unit], timeout_s=10.0,
                                  pw=bytes.fromhex(PASSWORD))
    await asyncio.sleep(3.0)                    # the agent reads on (or dies on the entry)
    return answer.outcome


@pytest.mark.timeout(60)
def test_an_afn04_f10_broadcast_entry_over_tcp_is_denied_and_the_agent_reads_on(
        tmp_path, env_with_path):
    meters = subprocess.Popen([sys.executable, "-m", "hil.cli", "meters", "serve", "--pty",
                               "--count", "3", "--seed", "2", "--start", EPOCH],
                              stdout=subprocess.PIPE, text=True, env=env_with_path)
    agent = None
    try:
        pty = json.loads(meters.stdout.readline())["serving"]

        async def run():
            nonlocal agent
            server = MasterServer(":memory:", wall=local_clock(parse_local(EPOCH)))
            _, port = await server.listen("127.0.0.1", 0)
            agent = subprocess.Popen(
                [sys.executable, "-m", "hil.cli", "agent", "--config",
                 str(_config(tmp_path, pty, port)), "--epoch", EPOCH],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env_with_path)
            try:
                return await _attack(agent, server, tmp_path)
            finally:
                await server.close()
        outcome = asyncio.run(run())
        alive = agent.poll() is None
        agent.terminate()
        _, err = agent.communicate(timeout=10)
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
        meters.terminate()
        meters.wait(10)
    assert alive, err
    assert outcome == "denied"
    store = Store(tmp_path / "agent.sqlite")
    try:
        [(_, kind, detail)] = store.logged("uplink_denied")
        assert "999999999999 is the broadcast address" in detail
        assert store.archive_changes() == ([], [])
        assert store.readings(addr="999999999999") == []
        assert store.count("ok") > 0
    finally:
        store.close()
