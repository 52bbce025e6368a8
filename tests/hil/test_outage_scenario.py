"""Outages of a branch and of the whole area on HPLC: the emulated module reports power-down
while they last (06F5 protocol 04), the unmodified agent records each meter's outage, groups
them into a branch and an area outage, corrects start and end from the meters' own records,
raises ERC13 at the master during the outage (decoded there), and keeps the day's topology."""
import pytest

from edge import outages, topology_days
from hil.figures import figure_paths, known_figure
from hil.report import render_html
from hil.scenario import Scenario
from hil.scenario_run import Run
from protocols.civil import parse_local
from protocols.gdw1376_1 import erc as E

BRANCH = {"feeder": 0, "lateral": 4, "start_h": 130, "end_h": 130.5}     # 10:00, 27 meters
AREA = {"area": True, "start_h": 139, "end_h": 139 + 1 / 6.0}            # 19:00 for 10 min
GATES = [{"metric": m, "op": op, "value": v} for m, op, v in (
    ("outages_found", ">=", 2), ("outage_meters_right", ">=", 2), ("outages_false", "<=", 0),
    ("outage_start_error_s", "<=", 30), ("outage_end_error_s", "<=", 30))]


def doc(entries, hours=21):
    return {"scenario": {"name": "outage-small", "seed": 5, "start": "2026-01-06 00:00",
                         "hours": hours},
            "area": {"meters": 60, "medium": "hplc"}, "outages": entries, "uplink": {},
            "gate": GATES}


@pytest.mark.timeout(60)
def test_a_branch_and_an_area_outage_are_found_reported_while_they_last_and_kept():
    run = Run(Scenario.from_dict(doc([BRANCH, AREA]))).run()
    report = run.report({})
    assert report["passed"], report["gates"]
    assert [n for n in figure_paths(report) if not known_figure(n)] == []
    (branch, area) = outages.groups(run.store)
    assert (branch["kind"], len(branch["meters"]), area["kind"], len(area["meters"])) == (
        "branch", 27, "area", 60)
    assert branch["parent"] is not None             # the relay the branch's meters share
    # start and end came from the meters' own records after power-up
    rows = outages.meter_outages(run.store)
    assert len(rows) == 87 and {(r["start_src"], r["end_src"]) for r in rows} == {("meter", "meter")}
    # ERC13 (D3 power-down) of every meter of the area outage reached the master before the
    # power came back: the module's report, not the meter's record read afterwards
    t_area = parse_local("2026-01-06 19:00")
    during = {}
    for row in run.master.data(afn=0x0E, fn=1):
        if row["label"].startswith("0D:") and t_area <= row["received_at"] < t_area + 600:
            rec = E.decode_event(13, bytes.fromhex(row["label"][3:]))
            assert rec.flags == outages.POWER_DOWN_FLAG
            during[rec.pn] = rec
    assert len(during) == 60
    days = topology_days.days(run.store)
    assert days == ["2026-01-06"]
    nodes = topology_days.of_day(run.store, days[0])
    assert len(nodes) == 60 and all(n["level"] >= 1 for n in nodes)
    assert run.store.logged("outage_down")
    page = render_html(report, {})
    assert "Outages (停电事件)" in page


@pytest.mark.timeout(60)
def test_without_outages_nothing_is_claimed():
    report = Run(Scenario.from_dict(doc([], hours=14))).run().report({})
    assert (report["outages_true"], report["outages_found"], report["outages_false"]) == (0, 0, 0)
    assert report["counters"].get("outage_down_meters", 0) == 0
