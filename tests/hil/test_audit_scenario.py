"""The audit upstream in a scenario: faults that produce each flag (register backwards, a jump,
a flying register, a stopped register with current flowing, a clock jump) and a dead meter; the
unmodified agent raises exactly the true ERC events, uploads them as AFN0E records the master
decodes, holds the flagged freezes back from F161, and its missed-reading lists equal the truth."""
import pytest

from hil.figures import figure_paths, known_figure
from hil.scenario import Scenario
from hil.scenario_run import Run
from protocols.gdw1376_1 import erc as E

FAULTS = [{"kind": "register_backwards", "meters": [1], "start_h": 130, "kwh": 50.0},
          {"kind": "register_jump", "meters": [2], "start_h": 130, "kwh": 600.0},
          {"kind": "register_jump", "meters": [3], "start_h": 130, "kwh": 1500.0},
          {"kind": "stopped", "meters": [4], "start_h": 124, "end_h": 140},
          {"kind": "clock_jump", "meters": [5], "start_h": 122, "seconds": 400},
          {"kind": "dead", "meters": [6], "start_h": 140}]


def doc():
    # population epoch 2026-01-01: the faults fall on 2026-01-06, the run's first day
    return {"scenario": {"name": "audit-small", "seed": 2, "start": "2026-01-06 00:00",
                         "hours": 56},
            "area": {"meters": 10, "medium": "rs485"}, "population": {"local_share": 0.0},
            "fault": FAULTS, "uplink": {},
            "tasks": {"curve_every_min": 0, "event_every_h": 0, "realtime_s": 900},
            "gate": [{"metric": "audit_event_recall", "op": ">=", "value": 1.0},
                     {"metric": "audit_events_false", "op": "<=", "value": 0},
                     {"metric": "missed_list_errors", "op": "<=", "value": 0}]}


@pytest.mark.timeout(60)
def test_every_flag_raises_its_erc_once_and_the_missed_list_is_the_truth():
    run = Run(Scenario.from_dict(doc())).run()
    report = run.report({})
    assert report["audit"]["events"] == ["000000000002/ERC27", "000000000003/ERC28",
                                         "000000000004/ERC29", "000000000005/ERC30",
                                         "000000000006/ERC12"]
    assert (report["audit_events_true"], report["audit_events_found"]) == (5, 5)
    assert report["passed"], report["gates"]
    day = {d["day"]: d for d in report["audit"]["days"]}["2026-01-06"]
    assert day["missed"] == ["000000000002", "000000000003", "000000000004", "000000000007"]
    assert [n for n in figure_paths(report) if not known_figure(n)] == []
    # the master got each event as a standard record, and no F161 of a flagged freeze
    got = {}
    for row in run.master.data(afn=0x0E, fn=1):
        code, data = int(row["label"][:2], 16), bytes.fromhex(row["label"][3:])
        rec = E.decode_event(code, data)
        got.setdefault(code, []).append(rec)
    assert {c: len(v) for c, v in got.items() if c in (12, 27, 28, 29, 30)} == {
        27: 1, 28: 1, 29: 1, 30: 2, 12: 1}                  # ERC30 began and ended
    assert got[27][0].pn == 2 and got[27][0].before > got[27][0].after
    assert [r.began for r in got[30]] == [True, False]
    flagged = {r.addr for r in run.store.readings(task="daily_freeze") if r.quality == "invalid"}
    points = {run.uplink.point_of(a) for a in flagged}
    day6 = [row["pn"] for row in run.master.data(afn=0x0D, fn=161) if row["label"] == "06-01-26"]
    assert flagged and len(day6) == 10 - 4 and not points & set(day6)
