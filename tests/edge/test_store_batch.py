"""Batched reading commits: a reading is in the file before anything counts, sends or confirms it."""
import sqlite3

import pytest

from edge.store import Reading, Store, transaction


def r(addr, period="2026-01-01", value=1.0, task="daily_freeze"):
    return Reading(addr, task, 0x05060101, period, value, read_at=1.0)


def on_disk(path):
    """Readings another connection (another process, or the file after a power cut) sees."""
    other = sqlite3.connect(str(path))
    try:
        return [a for (a,) in other.execute("SELECT addr FROM reading ORDER BY id")]
    finally:
        other.close()


def batched(tmp_path, **kw):
    path = tmp_path / "agent.sqlite"
    return path, Store(path, batch=8, **kw)


def test_a_batch_is_committed_at_its_size_and_on_commit_sees_only_durable_readings(tmp_path):
    seen = []
    path = tmp_path / "agent.sqlite"

    def on_commit(readings):
        seen.append(([x.addr for x in readings], on_disk(path)))
    s = Store(path, batch=3, on_commit=on_commit)
    s.commit([r("000000000001")])
    s.commit([r("000000000002")], [("000000000002", "ok", 1.0, 0, 0, 2.0)])
    assert s.has_good("000000000002", "daily_freeze", 0x05060101, "2026-01-01")   # same connection
    assert on_disk(path) == [] and seen == [] and s.commits == 2
    s.commit([r("000000000003")])
    assert seen == [(["000000000001", "000000000002", "000000000003"],
                     ["000000000001", "000000000002", "000000000003"])]
    assert s.counter("readings_written") == 3 and s.meter_state("000000000002") is not None


@pytest.mark.parametrize("look", [
    lambda s: s.count(),
    lambda s: s.unsent_count(),
    lambda s: s.unsent(10),
    lambda s: s.read_addrs("daily_freeze", "2026-01-01"),
    lambda s: s.readings(),
    lambda s: s.counter("readings_written"),
    lambda s: s.backlog_by_task(),
])
def test_what_counts_or_sends_readings_sees_them_durable(tmp_path, look):
    path, s = batched(tmp_path)
    s.commit([r("000000000001")])
    assert on_disk(path) == []
    look(s)
    assert on_disk(path) == ["000000000001"]


def test_the_uplink_confirm_and_any_other_transaction_come_after_the_readings(tmp_path):
    path, s = batched(tmp_path)
    s.upload_tasks = {"daily_freeze"}
    s.commit([r("000000000001")])
    with transaction(s.db):                 # a module's journal entry (module facts, prepaid ...)
        assert on_disk(path) == ["000000000001"]
        s.db.execute("INSERT INTO counter VALUES ('x', 1)")
    s.commit([r("000000000002")])
    ids = [i for i, _ in s.unsent(10)]     # what the uplink sends ...
    assert on_disk(path) == ["000000000001", "000000000002"]
    s.settle(ids)                           # ... and the master confirms
    assert s.unsent_count() == 0 and s.counter("x") == 1


def test_a_failed_commit_in_a_batch_undoes_itself_alone(tmp_path):
    path, s = batched(tmp_path)
    s.commit([r("000000000001")])
    with pytest.raises(sqlite3.Error):
        s.commit([r("000000000002")], [("000000000002",)])     # a malformed state row
    s.commit([r("000000000003")])
    assert [x.addr for x in s.readings()] == ["000000000001", "000000000003"]
    assert s.counter("readings_written") == 2


def test_close_commits_the_open_batch(tmp_path):
    path, s = batched(tmp_path)
    s.commit([r("000000000001")])
    s.close()
    assert on_disk(path) == ["000000000001"]


def test_batch_1_commits_every_reading_at_once(tmp_path):
    path = tmp_path / "agent.sqlite"
    s = Store(path)
    s.commit([r("000000000001")])
    assert on_disk(path) == ["000000000001"]


def test_the_board_runner_commits_a_steps_readings_before_it_writes_or_sleeps(tmp_path):
    from edge.runtime.aio import AgentRunner
    from edge.runtime.main import STEP_BATCH

    class Agent:
        store = Store(tmp_path / "agent.sqlite", batch=STEP_BATCH)
    Agent.store.commit([r("000000000001")])
    AgentRunner(Agent(), {}, lambda: 0.0)._flush()
    assert on_disk(tmp_path / "agent.sqlite") == ["000000000001"]


def test_a_reading_commit_inside_another_transaction_is_refused_batched_or_not(tmp_path):
    for batch in (1, 8):
        s = Store(tmp_path / ("b%d.sqlite" % batch), batch=batch)
        with pytest.raises(sqlite3.OperationalError):
            with transaction(s.db):
                s.commit([r("000000000001")])
        assert s.count() == 0 and s.counter("readings_written") == 0
