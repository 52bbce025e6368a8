"""Meter swaps and archive mismatch in a scenario: a meter replaced (new address, fresh
registers), a phantom archive entry and an unarchived meter on HPLC; the unmodified agent finds
the swap with both registers and raises ERC35 (decoded at the master), lists the phantom, keeps
the unarchived meter an archive candidate, and never changes its archive."""
import pytest

from hil.figures import figure_paths, known_figure
from hil.report import render_html
from hil.scenario import Scenario
from hil.scenario_run import Run
from meter_sim.faults import firmware
from protocols.gdw1376_1 import erc as E

GATES = [{"metric": m, "op": op, "value": v} for m, op, v in (
    ("swaps_found", ">=", 1), ("swaps_false", "<=", 0), ("phantoms_found", ">=", 1),
    ("phantoms_false", "<=", 0), ("unarchived_found", ">=", 1))]


def doc(faults, hours=71):
    # population epoch 2026-01-01: start_h 128 is 2026-01-06 08:00, the run's first morning
    return {"scenario": {"name": "swaps-small", "seed": 4, "start": "2026-01-06 00:00",
                         "hours": hours},
            "area": {"meters": 30, "medium": "hplc"}, "fault": faults, "uplink": {},
            "gate": GATES}


FAULTS = [{"kind": "swapped", "meters": [5], "start_h": 128},
          {"kind": "phantom", "meters": [11]}, {"kind": "unarchived", "meters": [17]}]


@pytest.mark.timeout(60)
def test_a_swap_is_a_candidate_with_both_registers_and_erc35_never_a_re_archive():
    run = Run(Scenario.from_dict(doc(FAULTS))).run()
    report = run.report({})
    assert report["passed"], report["gates"]
    assert [n for n in figure_paths(report) if not known_figure(n)] == []
    sw = report["swaps"]
    assert sw["truth"] == {"000000000006": "900000000006"}
    (cand,) = sw["candidates"]
    assert (cand["old_addr"], cand["new_addr"]) == ("000000000006", "900000000006")
    # old: the last good freeze the agent stored (the day before the swap), the meter's own
    assert cand["old_period"] == "2026-01-05" and cand["old_kwh"] > 1000
    # new: a first read of fresh registers, near what the customer drew since 08:00
    fw = firmware(run.area.meters[5])
    assert 0 < cand["new_kwh"] <= fw.energy(run.end) + 0.01
    assert sw["phantoms"] == ["000000000012"] and sw["archive_candidates"] == ["000000000018"]
    assert set(run.agent.archive.meters) & {"900000000006", "000000000018"} == set()
    assert "000000000012" in run.agent.archive.meters
    page = render_html(report, {})
    assert "Meter swaps and archive mismatch" in page and "900000000006" in page
    erc35 = [E.decode_event(35, bytes.fromhex(row["label"][3:]))
             for row in run.master.data(afn=0x0E, fn=1) if row["label"].startswith("23")]
    assert len(erc35) == 1 and erc35[0].meters[0]["addr"] == "900000000006"
    assert erc35[0].meters[0]["phase_quality"] >> 5 in (1, 2, 4)


@pytest.mark.timeout(60)
def test_without_faults_nothing_is_claimed():
    report = Run(Scenario.from_dict(doc([], hours=50))).run().report({})
    assert {k: report[k] for k in ("swaps_found", "swaps_false", "phantoms_found",
                                   "phantoms_false", "unarchived_found")} == dict.fromkeys(
        ("swaps_found", "swaps_false", "phantoms_found", "phantoms_false", "unarchived_found"), 0)
    assert report["counters"].get("swap_candidates", 0) == 0
    assert report["counters"].get("archive_phantoms_listed", 0) == 0


@pytest.mark.timeout(60)
def test_a_meter_that_dies_is_no_swap_when_the_newcomer_was_there_before():
    faults = [{"kind": "dead", "meters": [5], "start_h": 128}, {"kind": "unarchived",
                                                               "meters": [17]}]
    report = Run(Scenario.from_dict(doc(faults))).run().report({})
    assert report["swaps"]["candidates"] == [] and report["swaps_false"] == 0
    assert report["swaps"]["archive_candidates"] == ["000000000018"]
