import os
import signal
import subprocess
import sys
import textwrap

import pytest

from edge.store import Reading, Store
from tests.conftest import ROOT


def r(addr, period, value, quality="ok", **kw):
    return Reading(addr, "daily_freeze", 0x05060101, period, value, quality, read_at=1.0, **kw)


def test_wal_mode_and_round_trip(tmp_path):
    s = Store(tmp_path / "agent.sqlite")
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.put_readings([r("000000000001", "2026-01-01", [1.5, 0.1, 0.4, 0.5, 0.5]),
                    r("000000000002", "2026-01-01", None, "timeout")])
    got = s.readings(period="2026-01-01")
    assert [x.quality for x in got] == ["ok", "timeout"]
    assert got[0].value == [1.5, 0.1, 0.4, 0.5, 0.5]
    assert s.has_good("000000000001", "daily_freeze", 0x05060101, "2026-01-01")
    assert not s.has_good("000000000002", "daily_freeze", 0x05060101, "2026-01-01")


def test_flagged_readings_are_kept_and_a_good_one_is_never_overwritten(tmp_path):
    s = Store(tmp_path / "a.sqlite")
    s.put_readings([r("000000000001", "d1", 10.0, "invalid", flags=("register_backwards",))])
    assert s.readings()[0].flags == ("register_backwards",)
    assert s.put_readings([r("000000000001", "d1", 11.0)]) == 1         # ok replaces invalid
    assert s.put_readings([r("000000000001", "d1", None, "timeout")]) == 0
    assert [x.value for x in s.readings()] == [11.0]
    with pytest.raises(ValueError):
        Reading("1", "t", 1, "p", 0, "great")


def test_bounded_size_evicts_confirmed_first_and_counts(tmp_path):
    s = Store(tmp_path / "b.sqlite", max_readings=5)
    s.put_readings([r("%012d" % i, "d", i) for i in range(5)])
    s.confirm([("%012d" % 3, "d")])
    s.put_readings([r("%012d" % i, "d", i) for i in range(5, 7)])
    left = {x.addr for x in s.readings()}
    assert len(left) == 5 and "%012d" % 3 not in left and "%012d" % 0 not in left
    assert s.counter("readings_evicted") == 2 and s.counter("readings_written") == 7


def test_meter_state_survives_reopen(tmp_path):
    path = tmp_path / "c.sqlite"
    s = Store(path)
    s.save_meter_state("000000000001", "suspect", 100.0, 3, depth=2, next_probe=400.0)
    s.close()
    assert Store(path).meter_state("000000000001") == {
        "health": "suspect", "last_success": 100.0, "failures": 3, "depth": 2, "next_probe": 400.0}


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, %r)
    from edge.store import Reading, Store
    s = Store(sys.argv[1])
    batch = 0
    while True:
        s.put_readings([Reading("%%012d" %% (batch * 50 + k), "daily_freeze", 0x05060101,
                                "2026-01-01", [batch, k] * 20, read_at=float(batch))
                        for k in range(50)])
        print(batch, flush=True)        # only after the commit returned
        batch += 1
""") % str(ROOT)


def test_sigkill_during_heavy_writes_loses_no_confirmed_reading(tmp_path):
    path = tmp_path / "crash.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            text=True)
    confirmed = -1
    try:
        for line in proc.stdout:
            confirmed = int(line)
            if confirmed >= 30:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert confirmed >= 30
    s = Store(path)
    assert s.integrity() == "ok"
    stored = {x.addr for x in s.readings()}
    assert all("%012d" % i in stored for i in range((confirmed + 1) * 50))
    assert s.count() % 50 == 0                   # whole batches only: no torn transaction


def test_the_bound_holds_one_commit_at_a_time_and_replacements_are_not_new_rows(tmp_path):
    s = Store(tmp_path / "e.sqlite", max_readings=5)
    for i in range(5):
        s.put_readings([Reading("%012d" % i, "d", 1, "p", None, "timeout")])
    for i in range(5):
        s.put_readings([Reading("%012d" % i, "d", 1, "p", 1.0)])     # ok replaces timeout
    assert s.count() == 5 and s.counter("readings_evicted") == 0
    s.close()
    s = Store(tmp_path / "e.sqlite", max_readings=5)
    for i in range(5, 8):
        s.put_readings([Reading("%012d" % i, "d", 1, "p", 1.0)])
        assert s.count() == 5
    assert s.counter("readings_evicted") == 3


def test_a_bounded_kind_of_journal_line_keeps_only_its_newest(tmp_path):
    """Denied requests are journaled; a stranger can send them without a password, so their
    lines are bounded (the oldest go), the rest of the journal is not."""
    store = Store(str(tmp_path / "j.sqlite"), durable=False)
    store.log_event("param_set", "kept", 0.0)
    for k in range(1000):
        store.log_event("uplink_denied", "n%d" % k, float(k), keep=150)
    denied = store.logged("uplink_denied")
    assert 150 <= len(denied) <= 250 and denied[-1][2] == "n999"
    assert store.logged("param_set") == [(0.0, "param_set", "kept")]
