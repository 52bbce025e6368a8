"""Missed-reading causes (漏抄原因) on a real SQLite store: each missed meter-day gets the cause
the stored evidence supports, the strongest first, and the day's explained list is kept."""
from edge import audit, missed_causes, module_reset, swaps, validate as V
from edge.archive import Archive
from edge.store import Reading, Store, transaction
from protocols.civil import DAY, from_civil, iso

DAY1 = "2026-01-06"
D1 = from_civil(2026, 1, 7)                     # the night DAY1 is read (00:05..06:00)
ADDRS = ["0000000000%02d" % i for i in range(1, 11)]
(PHANTOM, SWAPPED, OUTAGE, BATTERY, CLOCK, BUS, RESET, DEAD, FLAGGED, GOOD) = ADDRS


def ok(addr, task="daily_freeze", period="2026-01-05", at=D1 - DAY + 400):
    return Reading(addr, task, 0x05060101, period, {"kwh": [1.0] * 5, "at": at}, "ok", (), at)


def tried(addr, quality, flags=(), at=D1 + 900):
    return Reading(addr, "daily_freeze", 0x05060101, DAY1, None, quality, flags, at)


def record(addr, start, end, n=1):
    return Reading(addr, "event", 0x03110000 + n, "power_down#%d" % n,
                   {"start": start, "end": end}, "ok", (), D1 + 7200)


def build(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    archive = Archive.from_dict({
        "port": [{"name": "plc", "url": "sim:hplc", "medium": "hplc"},
                 {"name": "rs485-1", "url": "sim:rs485"}],
        "meter": [{"addr": a, "port": "plc" if a in (SWAPPED, RESET, DEAD) else "rs485-1"}
                  for a in ADDRS]})
    store.commit([ok(a) for a in ADDRS if a not in (PHANTOM, BUS)] + [ok(GOOD, period=DAY1)])
    store.commit([tried(PHANTOM, "timeout"), tried(SWAPPED, "timeout"), tried(OUTAGE, "timeout"),
                  tried(BATTERY, "timeout"), tried(CLOCK, "invalid", (V.FREEZE_TIME,)),
                  tried(BUS, "garbled"), tried(RESET, "timeout"), tried(DEAD, "timeout"),
                  tried(FLAGGED, "invalid", (V.BACKWARDS,)),
                  record(OUTAGE, "2026-01-06 23:40:00", "2026-01-07 07:10:00"),
                  record(BATTERY, "2026-01-06 23:50:00", "2000-01-01 00:00:00"),
                  Reading(CLOCK, "audit_event", 12, "began:x", {"erc": 12, "at": D1 - 3600,
                          "day": DAY1, "began": True}, "ok", (), D1 - 3600)])
    db = swaps._db(store)
    with transaction(db):
        db.execute("INSERT INTO swap_candidate VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   (SWAPPED, "900000000002", "plc", 1, D1 - DAY, 1.0, "2026-01-05", 0.0,
                    D1 + 100, D1 + 50, 0))
    mdb = module_reset._db(store)
    with transaction(mdb):
        mdb.execute("INSERT INTO module_reset VALUES (?,?,?,?)", ("plc", D1 + 200, D1 + 260,
                                                                 D1 + 4 * 3600))
    return store, archive


def test_every_missed_meter_day_gets_the_cause_its_evidence_supports(tmp_path):
    store, archive = build(tmp_path)
    listed = audit.missed(store, archive, DAY1)
    got = {e["addr"]: e["cause"] for e in listed}
    assert got == {PHANTOM: "phantom", SWAPPED: "swapped", OUTAGE: "outage", BATTERY: "outage",
                   CLOCK: "clock", BUS: "bus_fault", RESET: "module_reset",
                   DEAD: "module_reset", FLAGGED: "flagged"}
    assert all(e["evidence"] for e in listed)
    s = audit.summary(store, archive, DAY1, points={})
    assert s["missed_causes"]["module_reset"] == 2
    assert [w["at"] for w in s["module_resets"]] == [iso(D1 + 200)[:19].replace("T", " ")]
    missed_causes.save(store, DAY1, listed, D1 + 6 * 3600)
    missed_causes.save(store, DAY1, listed, D1 + 7 * 3600)       # judged again: replaced
    assert {e["addr"]: e["cause"] for e in missed_causes.saved(store, DAY1)} == got
    store.close()


def test_a_reset_over_before_the_window_and_a_battery_meter_that_answered_name_others(tmp_path):
    store, archive = build(tmp_path)
    mdb = module_reset._db(store)
    with transaction(mdb):
        mdb.execute("UPDATE module_reset SET at = ?, read_at = ?", (D1 - 7200, D1 - 3600))
    store.commit([tried(BATTERY, "invalid", (V.FREEZE_TIME,), at=D1 + 1000)])
    got = {e["addr"]: e["cause"] for e in audit.missed(store, archive, DAY1)}
    assert got[RESET] == got[DEAD] == "no_answer"
    assert got[BATTERY] == "clock"
    store.close()
