"""The metric families of issue 16, each after a short real run of the agent core: a 1376.1
session against the master's sans-I/O core (connected, last confirm, session events, backlog and
its bytes, denials and rejections), evictions, the command journal, a simulated day on RS-485
and HPLC (exchange latency), and a store in a real SQLite file (store bytes)."""
import os
import random
import sqlite3

from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from edge.agent import Agent
from edge.archive import Archive
from edge.metrics import LATENCY_BUCKETS
from edge.plan import Settings
from edge.prepaid.journal import ENDED, OPEN, Journal
from edge.runtime.exporter import SnapshotCollector
from edge.runtime.store_files import store_file_samples
from edge.store import Reading, Store
from edge.uplink import Uplink, UplinkSettings
from edge.uplink_metrics import SESSION_EVENTS
from hil.agent_run import run_agent
from hostlink.master import MasterConnection
from hostlink.store import MasterStore
from protocols.gdw1376_1 import Deframer, Frame, Unit, encode_frame
from protocols.gdw1376_1.frame import F_CONFIRM
from protocols.gdw1376_1.units import AFN_CONFIRM, encode_units

from tests.helpers import deframe
from tests.hostlink.helpers import DAY_READ, WALL, concentrator
from tests.hostlink.test_uplink import WEDNESDAY, _trip, agent_at, ask, online

UPLINK_FAMILIES = ("gridedge_uplink_connected", "gridedge_uplink_last_confirm_age_seconds",
                   "gridedge_uplink_backlog_readings", "gridedge_uplink_backlog_bytes")


def values(agent, name):
    """{labels as sorted tuples: value} of family ``name`` in the agent's samples now."""
    return {tuple(sorted(s.labels.items())): s.value for s in agent.metrics() if s.name == name}


def value(agent, name):
    [v] = values(agent, name).values()
    return v


def events(agent):
    return {dict(k)["event"]: v for k, v in
            values(agent, "gridedge_uplink_session_events_total").items()}


def at(agent, now):
    agent.set_clock(now, WALL + now)
    return now


def test_uplink_families_follow_the_session_and_the_backlog_bytes_are_those_sent():
    agent = concentrator(2082, meters=3)
    s, master = agent.uplink.session, MasterConnection(MasterStore(":memory:"))
    at(agent, 10.0)
    assert value(agent, "gridedge_uplink_connected") == 0
    assert value(agent, "gridedge_uplink_last_confirm_age_seconds") == 10.0   # since the start
    assert value(agent, "gridedge_uplink_backlog_readings") == 3
    estimate = value(agent, "gridedge_uplink_backlog_bytes")
    assert events(agent) == dict.fromkeys(SESSION_EVENTS, 0)

    s.connection_made(at(agent, 20.0))
    master.receive_data(s.data_to_send(), 20.0, agent.wall)
    s.receive_data(master.data_to_send(), 20.0)                 # the login's confirm
    upload = s.data_to_send()                                   # the backlog goes up at once
    assert len(upload) == estimate                # three freezes: one frame of fixed-size units
    assert value(agent, "gridedge_uplink_connected") == 1
    at(agent, 29.0)
    assert value(agent, "gridedge_uplink_last_confirm_age_seconds") == 9.0
    assert value(agent, "gridedge_uplink_backlog_readings") == 3    # sent, not yet confirmed
    master.receive_data(upload, 29.0, agent.wall)
    s.receive_data(master.data_to_send(), 29.0)
    at(agent, 31.0)
    assert value(agent, "gridedge_uplink_last_confirm_age_seconds") == 2.0
    assert value(agent, "gridedge_uplink_backlog_readings") == 0
    assert value(agent, "gridedge_uplink_backlog_bytes") == 0
    s.connection_lost(31.0)
    assert value(agent, "gridedge_uplink_connected") == 0
    got = events(agent)
    assert {k: got[k] for k in ("connected", "login_confirmed", "upload_frames",
                                "upload_confirmed", "lost", "dial_failed")} == {
        "connected": 1, "login_confirmed": 1, "upload_frames": 1, "upload_confirmed": 1,
        "lost": 1, "dial_failed": 0}


def _deny(upload):
    """The master's denial (AFN00 F2) of every frame in ``upload``."""
    return b"".join(encode_frame(Frame(AFN_CONFIRM, encode_units([Unit(AFN_CONFIRM, 2, 0, None,
                                                                        False)]),
                                       up=False, prm=False, func=F_CONFIRM, region=f.region,
                                       terminal=f.terminal, msa=1, seq=f.seq))
                    for f in deframe(Deframer(), [upload]))


def test_denied_readings_are_counted_then_rejected_and_kept():
    agent = concentrator(2082, meters=2, max_denies=2)
    s = agent.uplink.session
    online(agent)
    for k in (1, 2):
        s.on_timer(float(k))
        s.receive_data(_deny(s.data_to_send()), float(k))
        assert value(agent, "gridedge_readings_denied_total") == 2 * k
    assert value(agent, "gridedge_readings_rejected_total") == 2
    assert value(agent, "gridedge_readings_rejected_kept") == 2
    assert value(agent, "gridedge_uplink_backlog_readings") == 0
    assert events(agent)["upload_denied"] == 2
    assert len(agent.store.rejected()) == 2


def test_readings_evicted_before_the_master_confirmed_them_are_lost():
    addrs = ["%012d" % (k + 1) for k in range(5)]
    archive = Archive.from_dict({"port": [{"name": "p1", "url": "loop://"}],
                                 "meter": [{"addr": a, "port": "p1"} for a in addrs]})
    store = Store(":memory:", max_readings=3, durable=False)
    agent = Agent(archive, store, Settings(curve_every_min=0, event_every_h=0, clock_check_h=-1),
                  now=0.0, wall=WALL)
    Uplink(agent, UplinkSettings("127.0.0.1:0", "0171", 2082), random.Random(1))
    store.put_readings([Reading(a, "daily_freeze", 0x05060101, DAY_READ, {"kwh": [1.0] * 5})
                        for a in addrs])
    store.put_readings([Reading(addrs[0], "realtime", 0x00010000, "now", {"kwh": 1.0})])
    assert value(agent, "gridedge_readings_evicted_total") == 3
    assert value(agent, "gridedge_readings_lost_total") == 2     # the realtime one never went up
    assert value(agent, "gridedge_uplink_backlog_readings") == 3


def test_commands_by_state_follow_the_journal():
    agent = agent_at(WEDNESDAY, prepaid=True)
    every = {state: 0 for state in OPEN + ENDED}
    assert {dict(k)["state"]: v for k, v in values(agent, "gridedge_commands").items()} == every
    online(agent)
    ask(agent, _trip())                                   # a master's trip, journaled
    [cmd] = Journal(agent.store).all()
    by_state = {dict(k)["state"]: v for k, v in values(agent, "gridedge_commands").items()}
    assert by_state == dict(every, **{cmd.state: 1})
    assert cmd.state in OPEN


def test_a_carrier_journal_is_exported_without_cost_control():
    agent = agent_at(WEDNESDAY)                  # no [prepaid]: the uplink's own journal
    assert sum(values(agent, "gridedge_commands").values()) == 0
    assert len(values(agent, "gridedge_commands")) == len(OPEN + ENDED)


def _exposition(agent):
    class Runner:
        snapshot = agent.metrics()
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(Runner))
    return generate_latest(registry).decode()


def _histogram(text, medium):
    """{le: cumulative count}, sum and count of the latency histogram of ``medium``."""
    buckets, total, count = {}, None, None
    for line in text.splitlines():
        if not line.startswith("gridedge_exchange_latency_seconds") or \
                'medium="%s"' % medium not in line:
            continue
        name, v = line.rsplit(" ", 1)
        if name.startswith("gridedge_exchange_latency_seconds_bucket"):
            buckets[name.split('le="')[1].split('"')[0]] = float(v)
        elif name.startswith("gridedge_exchange_latency_seconds_sum"):
            total = float(v)
        elif name.startswith("gridedge_exchange_latency_seconds_count"):
            count = float(v)
    return buckets, total, count


def test_exchange_latency_histogram_per_medium_after_simulated_reads():
    settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=None)
    means = {}
    for medium, other in (("rs485", "hplc"), ("hplc", "rs485")):
        _, agent = run_agent(8, medium, 1, 1, settings=settings)
        answered = agent.counters.get("exchange_ok", 0) + agent.counters.get(
            "exchange_error_reply", 0)
        assert answered > 0
        buckets, total, count = _histogram(_exposition(agent), medium)
        assert list(buckets) == ["%s" % b for b in LATENCY_BUCKETS] + ["+Inf"]
        counts = list(buckets.values())
        assert counts == sorted(counts) and counts[-1] == count == answered
        assert 0 < total
        assert _histogram(_exposition(agent), other) == ({}, None, None)   # one series a medium
        means[medium] = total / count
    # a freeze job is two 645 reads (time, energy): at 2400 baud 8E1 the request and reply
    # bytes alone take about 0.4 s on the line
    assert 0.3 < means["rs485"] < 2.0


def test_store_bytes_are_the_pages_and_file_bytes_what_is_on_disk(tmp_path):
    path = str(tmp_path / "agent.sqlite")
    agent = concentrator(2082, meters=20, path=path)
    got = value(agent, "gridedge_store_bytes")
    db = sqlite3.connect(path)
    pages, size = (db.execute("PRAGMA %s" % p).fetchone()[0] for p in ("page_count", "page_size"))
    assert got == pages * size > 0
    [files] = store_file_samples(path)
    assert files.name == "gridedge_store_file_bytes"
    assert files.value == sum(os.path.getsize(path + x) for x in ("", "-wal", "-shm")
                              if os.path.exists(path + x))
    agent.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert os.path.getsize(path) == value(agent, "gridedge_store_bytes")
    db.close()
    assert store_file_samples(":memory:") == []


def test_docs_metrics_names_every_family_with_its_type(tmp_path):
    from edge.archive import Port
    from edge.runtime.lines import Line, line_samples
    from hostlink.aio import MasterServer
    from hostlink.metrics import master_samples
    from tests.conftest import ROOT

    agent = agent_at(WEDNESDAY, prepaid=True, carrier=True)
    agent.count("exchange_ok")
    agent.count("read_daily_freeze_ok")
    agent.count("port_lost")
    agent.closing[("daily_freeze", "2026-11-24")] = None          # a window being read
    path = str(tmp_path / "a.sqlite")
    Store(path).close()
    line = Line("p1", Port("p1", "loop://"))
    server = MasterServer(":memory:")
    server.count("refused_connection_cap")
    found = {(s.name, s.kind) for s in agent.metrics() + line_samples({"p1": line})
             + store_file_samples(path) + master_samples(server)}
    server.store.close()
    doc = (ROOT / "docs" / "METRICS.md").read_text()
    rows = {tuple(c.strip(" `") for c in r.split("|")[1:3]) for r in doc.splitlines()
            if r.startswith("| `")}
    assert found <= rows, sorted(found - rows)
    assert {n for n, _ in rows} <= {n for n, _ in found}, "documented but not exported"
