"""Line-loss candidates ranked by the meters' own events: a magnetic-field record, reverse energy
(an ERC9 alarm or the reverse register advancing) and phase loss (ERC10) join the evidence; an
event names a customer even when its consumption did not fall far enough; old events do not."""
from edge import lineloss
from edge.lineloss import LineLossPolicy, close_day
from edge.lineloss_evidence import EVIDENCE
from edge.store import Reading, Store
from protocols.civil import parse_local
from tests.edge.test_lineloss import CUSTOMERS, DAYS, archive, fill

MAGNET = {"start": "2026-01-08 22:00:00", "end": None, "forward_kwh_start": 1.0,
          "reverse_kwh_start": 0.0, "forward_kwh_end": None, "reverse_kwh_end": None}


def _days(store, use, policy=None):
    fill(store, use, lambda d: 0.04 if d < 4 else 0.04 + 0.1)
    for period in DAYS[1:5]:
        day = close_day(store, archive(), period, policy or LineLossPolicy(step=0.01), at=1.0)
    return day["hint"]["candidates"]


def _alarm(addr, erc, at, began=True):
    value = {"erc": erc, "at": parse_local(at), "began": began, "phase": "b", "kind": "loss"}
    return Reading(addr, "audit_event", erc, "began:%d:b:%s" % (erc, at), value)


def test_the_evidence_names_are_the_ones_the_1376_1_extension_encodes():
    assert EVIDENCE == ("consumption_fell", "consumption_stopped", "cover_opened", "magnetic",
                        "reverse_energy", "phase_loss", "other")


def test_a_magnetic_record_read_after_a_hint_ranks_its_customer_first(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    store.put_readings([Reading(CUSTOMERS[0], "on_demand", lineloss.MAGNETIC_RECORD, "req-2",
                                MAGNET),
                        Reading(CUSTOMERS[3], "on_demand", lineloss.MAGNETIC_RECORD, "req-2",
                                dict(MAGNET, start="2025-10-01 08:00:00"))])
    first = _days(store, lambda i, d: {0: 10.0, 3: 4.0}[i] if d >= 4 and i in (0, 3) else 20.0)
    assert [c["addr"] for c in first] == [CUSTOMERS[0], CUSTOMERS[3]]
    assert first[0]["evidence"] == ["consumption_fell", "magnetic"]
    assert first[0]["magnetic"] == "2026-01-08 22:00:00"
    assert first[1]["evidence"] == ["consumption_fell"]          # a magnet long ago: no


def test_phase_loss_and_reverse_alarms_name_a_customer_that_fell_too_little(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    store.put_readings([_alarm(CUSTOMERS[1], 10, "2026-01-09 03:00"),
                        _alarm(CUSTOMERS[2], 9, "2026-01-09 04:00"),
                        _alarm(CUSTOMERS[2], 9, "2026-01-09 05:00", began=False),
                        _alarm(CUSTOMERS[4], 10, "2025-09-01 00:00")])    # long before
    got = _days(store, lambda i, d: {0: 5.0, 1: 14.0, 2: 14.0}[i] if d >= 4 and i < 3 else 20.0)
    by = {c["addr"]: c for c in got}
    assert set(by) == {CUSTOMERS[0], CUSTOMERS[1], CUSTOMERS[2]}
    assert by[CUSTOMERS[1]]["evidence"] == ["phase_loss"]
    assert by[CUSTOMERS[1]]["phase_loss"] == "2026-01-09 03:00:00"
    assert by[CUSTOMERS[2]]["evidence"] == ["reverse_energy"]
    assert by[CUSTOMERS[0]]["evidence"] == ["consumption_fell"]


def test_a_reverse_register_advancing_in_the_real_time_reads_is_reverse_energy(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    t = parse_local("2026-01-08 12:00")

    def rt(addr, k, rev):
        return Reading(addr, "realtime", 0, "2026-01-08 %02d:00" % k,
                       {"kwh": [1.0], "phases": {"voltage": [230.0] * 3, "reverse_kwh": rev}},
                       "ok", (), t + 3600 * k)
    store.put_readings([rt(CUSTOMERS[1], 0, 3.0), rt(CUSTOMERS[1], 1, 3.5),
                        rt(CUSTOMERS[2], 0, 7.0), rt(CUSTOMERS[2], 1, 7.0)])    # still: no
    got = _days(store, lambda i, d: 5.0 if d >= 4 and i == 0 else 20.0)
    by = {c["addr"]: c["evidence"] for c in got}
    assert by == {CUSTOMERS[0]: ["consumption_fell"], CUSTOMERS[1]: ["reverse_energy"]}
    assert [c["addr"] for c in got] == [CUSTOMERS[0], CUSTOMERS[1]]    # the fall first
