"""Line loss per hour from the curve points in a real SQLite store: an hour is complete only when
the area meter and every customer hold both of its points (hourly load curve or minute slots),
a missing point makes it incomplete (never estimated)."""
import pytest

from edge.lineloss import COMPLETE, INCOMPLETE, NO_SUPPLY, close_hours, hour_rows
from edge.store import Reading, Store
from protocols.civil import from_civil, iso
from tests.edge.test_lineloss import AREA, CUSTOMERS, archive

DAY0 = from_civil(2026, 1, 6)


def curve(addr, start, values, task="load_curve", step_s=None):
    value = {"start": iso(start)[:16], "values": values}
    if step_s:
        value["step_s"] = step_s
    return Reading(addr, task, 0x06100601, iso(start), value, read_at=start + 3700.0)


def fill(store, hours=3, use=lambda i: 1.0 + 0.5 * i, loss=0.05, ct=40, skip=(), minute=()):
    """Hourly slots (4 points at 15 min) of every meter for ``hours`` hours plus the next hour's
    first point; ``minute`` customers hold 1-minute slots instead; ``skip``: (addr, hour) gaps."""
    regs = {a: 100.0 * (i + 1) for i, a in enumerate(CUSTOMERS)}
    area = 1000.0
    out = []
    for h in range(hours + 1):
        t = DAY0 + 3600 * h
        day = 0.0
        for i, a in enumerate(CUSTOMERS):
            start = regs[a]
            regs[a] += use(i)
            day += use(i)
            if (a, h) in skip:
                continue
            if a in minute:
                for q in range(4):
                    out.append(curve(a, t + 900 * q, [round(start + use(i) * (q * 15 + k) / 60.0,
                                                            2) for k in range(15)],
                                     "minute_curve", 60))
            else:
                out.append(curve(a, t, [round(start + use(i) * q / 4.0, 2) for q in range(4)]))
        a0 = area
        area += day / (1.0 - loss) / ct
        out.append(curve(AREA, t, [round(a0 + (area - a0) * q / 4.0, 2) for q in range(4)]))
    store.put_readings(out)


def test_a_complete_hour_is_supplied_minus_sold_over_supplied(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    fill(store, minute=[CUSTOMERS[1]])              # one customer's points from minute slots
    got = close_hours(store, archive(), "2026-01-06", 900.0, at=1.0)
    assert len(got) == 24 and [h["status"] for h in got[:3]] == [COMPLETE] * 3
    assert got[0]["sold_kwh"] == pytest.approx(10.0, abs=0.05)
    assert got[0]["rate"] == pytest.approx(0.05, abs=0.02)
    assert {h["status"] for h in got[3:]} == {NO_SUPPLY}       # no points after 03:00
    assert [r["period"] for r in hour_rows(store, "2026-01-06")][:2] == ["2026-01-06 00:00",
                                                                        "2026-01-06 01:00"]


def test_a_missing_point_makes_the_hour_incomplete_never_a_loss(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    fill(store, skip={(CUSTOMERS[3], 1)})           # its 01:00 slot unread: 01:00 and 02:00 edges
    got = close_hours(store, archive(), "2026-01-06", 900.0, at=1.0)
    assert [(h["status"], h["missing"]) for h in got[:3]] == [
        (INCOMPLETE, 1), (INCOMPLETE, 1), (COMPLETE, 0)]
    assert got[0]["rate"] is None and got[0]["loss_kwh"] is None
    # computed again later (more points read): replaced, not added
    close_hours(store, archive(), "2026-01-06", 900.0, at=2.0)
    assert len(hour_rows(store)) == 24


def test_no_area_meter_no_hours(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    from edge.archive import Archive
    plain = Archive.from_dict({"port": [{"name": "p", "url": "loop://"}],
                               "meter": [{"addr": CUSTOMERS[0], "port": "p"}]})
    assert close_hours(store, plain, "2026-01-06", 900.0, at=1.0) is None
