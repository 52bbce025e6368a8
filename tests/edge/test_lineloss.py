"""Line loss per day from the daily freezes in a real SQLite store: supplied - sold over supplied,
a missing customer makes the day incomplete (never a loss), hints name who fell when it rose."""
import pytest

from edge import lineloss
from edge.archive import Archive, ArchiveError
from edge.lineloss import LineLossPolicy, close_day, hints, rows
from edge.plan import Settings
from edge.schema import SchemaError
from edge.store import Reading, Store

AREA = "000099000001"
CUSTOMERS = ["%012d" % i for i in range(1, 6)]
DAYS = ["2026-01-%02d" % d for d in range(5, 13)]


def archive(ct=40):
    return Archive.from_dict({
        "port": [{"name": "plc", "url": "sim:hplc", "medium": "hplc"},
                 {"name": "rs485-area", "url": "sim:rs485"}],
        "meter": [{"addr": AREA, "port": "rs485-area", "role": "area", "ct_ratio": ct}]
        + [{"addr": a, "port": "plc"} for a in CUSTOMERS]})


def freeze(addr, period, kwh, quality="ok", flags=()):
    return Reading(addr, "daily_freeze", 0x05060101, period,
                   {"kwh": [kwh, 0, 0, 0, 0], "time": period, "at": 0.0}, quality, flags, 1.0)


def fill(store, use, loss, area_ct=40, skip=()):
    """Freezes of every meter for DAYS: customer i uses ``use(i, day)`` kWh, the area supplies
    their sum times (1 + ``loss(day)``)."""
    totals = {a: 1000.0 * (i + 1) for i, a in enumerate(CUSTOMERS)}
    area = 5000.0
    readings = [freeze(AREA, DAYS[0], area)] + [freeze(a, DAYS[0], v) for a, v in totals.items()]
    for d, period in enumerate(DAYS[1:], 1):
        day = 0.0
        for i, a in enumerate(CUSTOMERS):
            kwh = use(i, d)
            totals[a] += kwh
            day += kwh
            if (a, period) not in skip:
                readings.append(freeze(a, period, round(totals[a], 2)))
        area += day / (1.0 - loss(d)) / area_ct
        readings.append(freeze(AREA, period, round(area, 2)))
    store.put_readings(readings)


def test_a_complete_day_is_supplied_minus_sold_over_supplied_with_the_ct_ratio(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    fill(store, lambda i, d: 10.0 + i, lambda d: 0.05)
    got = close_day(store, archive(), DAYS[1], LineLossPolicy(), at=1.0)
    assert got["status"] == "complete" and got["missing"] == 0 and got["customers"] == 5
    assert got["sold_kwh"] == pytest.approx(60.0)
    assert got["rate"] == pytest.approx(0.05, abs=0.01 * 40 / 63)
    assert got["hint"] is None
    store.close()
    again = Store(tmp_path / "agent.sqlite")            # stored, and idempotent when redone
    close_day(again, archive(), DAYS[1], LineLossPolicy(), at=2.0)
    assert [(r["period"], r["status"]) for r in rows(again)] == [(DAYS[1], "complete")]


def test_a_missing_or_flagged_customer_makes_the_day_incomplete_never_a_loss(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    fill(store, lambda i, d: 10.0, lambda d: 0.03,
         skip={(CUSTOMERS[2], DAYS[3]), (CUSTOMERS[4], DAYS[3])})
    store.put_readings([freeze(CUSTOMERS[4], DAYS[3], 1.0, "invalid", ("register_backwards",))])
    got = close_day(store, archive(), DAYS[3], LineLossPolicy(threshold=0.01), at=1.0)
    assert got["status"] == "incomplete" and got["missing"] == 2
    assert got["rate"] is None and "hint" not in got
    # the next day needs the missing freezes as its start: incomplete too
    assert close_day(store, archive(), DAYS[4], LineLossPolicy(), at=1.0)["missing"] == 2
    assert hints(store) == []


def test_no_area_meter_freeze_is_no_supply_and_no_area_meter_is_nothing(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    fill(store, lambda i, d: 10.0, lambda d: 0.03)
    store.db.execute("DELETE FROM reading WHERE addr = ? AND period = ?", (AREA, DAYS[2]))
    assert close_day(store, archive(), DAYS[2], LineLossPolicy(), at=1.0)["status"] == "no_supply"
    plain = Archive.from_dict({"port": [{"name": "plc", "url": "sim:hplc", "medium": "hplc"}],
                               "meter": [{"addr": a, "port": "plc"} for a in CUSTOMERS]})
    assert close_day(store, plain, DAYS[2], LineLossPolicy(), at=1.0) is None


def thief_use(i, d):
    """Customer 3 registers a fifth from day 4; customer 1's register stops from day 4."""
    if i == 3 and d >= 4:
        return 4.0
    if i == 1 and d >= 4:
        return 0.0
    return 20.0


def test_a_step_is_hinted_with_the_customer_who_fell_first_and_it_lasts(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    # the loss the area sees: 4 % plus what customer 3 no longer registers (16 kWh)
    fill(store, thief_use, lambda d: 0.04 if d < 4 else 0.04 + 0.12)
    policy = LineLossPolicy(step=0.01, min_kwh=1.0)
    for period in DAYS[1:]:
        close_day(store, archive(), period, policy, at=1.0)
    found = hints(store)
    assert [h["period"] for h in found] == DAYS[4:]
    assert {h["onset"] for h in found} == {DAYS[4]}
    assert found[0]["baseline"] == pytest.approx(0.04, abs=0.005)
    first = found[0]["candidates"]
    assert [c["addr"] for c in first] == [CUSTOMERS[3], CUSTOMERS[1]]
    assert first[0]["evidence"] == ["consumption_fell"] and first[0]["fell_kwh"] == 16.0
    assert first[1]["evidence"] == ["consumption_stopped"]


def test_a_steady_area_above_nothing_raises_no_hint(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    fill(store, lambda i, d: 20.0 + (d % 2), lambda d: 0.04 + 0.001 * (d % 2))
    for period in DAYS[1:]:
        close_day(store, archive(), period, LineLossPolicy(), at=1.0)
    assert len(rows(store)) == len(DAYS) - 1 and hints(store) == []
    lineloss.ensure(store)                              # idempotent


def test_the_archive_role_and_ct_ratio_and_the_policy_are_checked():
    with pytest.raises(ArchiveError) as err:
        Archive.from_dict({"port": [{"name": "p", "url": "sim:rs485"}],
                           "meter": [{"addr": AREA, "port": "p", "role": "boss", "ct_ratio": 0}]})
    assert "meter[0].role" in str(err.value) and "meter[0].ct_ratio" in str(err.value)
    s = Settings.from_dict({"lineloss": {"threshold": 0.08, "step": 0.003}})
    assert s.lineloss.threshold == 0.08 and s.lineloss.step == 0.003
    with pytest.raises(SchemaError) as err:
        Settings.from_dict({"lineloss": {"threshold": 2, "colour": 1}})
    assert "tasks.lineloss.threshold" in str(err.value) and "colour" in str(err.value)


def test_a_recent_cover_opening_read_from_the_meter_ranks_a_candidate_first(tmp_path):
    store = Store(tmp_path / "agent.sqlite")

    def use(i, d):
        if d >= 4 and i in (0, 3):
            return {0: 10.0, 3: 4.0}[i]         # customer 3 fell deeper, customer 0 opened the cover
        return 20.0
    fill(store, use, lambda d: 0.04 if d < 4 else 0.04 + 0.1)
    opened = {"start": "2026-01-08 23:10:00", "end": "2026-01-08 23:40:00",
              "forward_kwh_start": 1.0, "forward_kwh_end": 1.1}
    old = dict(opened, start="2025-11-02 10:00:00")
    store.put_readings([Reading(CUSTOMERS[0], "on_demand", lineloss.COVER_RECORD, "req-1", opened),
                        Reading(CUSTOMERS[3], "on_demand", lineloss.COVER_RECORD, "req-1", old)])
    for period in DAYS[1:5]:
        day = close_day(store, archive(), period, LineLossPolicy(step=0.01), at=1.0)
    first = day["hint"]["candidates"]
    assert [c["addr"] for c in first] == [CUSTOMERS[0], CUSTOMERS[3]]
    assert first[0]["evidence"] == ["consumption_fell", "cover_opened"]
    assert first[1]["evidence"] == ["consumption_fell"]         # a cover opened long ago: no
    assert lineloss.probe(day) == [CUSTOMERS[0], CUSTOMERS[3]] and lineloss.probe(None) == []
