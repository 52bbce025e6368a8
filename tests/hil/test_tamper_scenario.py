"""hil/scenarios/tamper.toml: two slowed registers and two magnets from 2026-01-08 in a 200-meter
area. The area meter's truth counts the share their registers miss as stolen; the unmodified
agent names all four the first day on their fall, then the magnets with their own 恒定磁场干扰
record read after that hint (the one taken off after a day on its record alone), the slowed ones
on their fall only (no event), and no untouched customer."""
import tomllib

import pytest

from edge.lineloss import hints
from hil.scenario import Scenario
from hil.scenario_run import Run
from meter_sim.faults import firmware, true_source
from protocols.civil import DAY, parse_local
from tests.conftest import ROOT

SLOWED, MAGNETS, GONE = ("000000000013", "000000000058"), ("000000000089",), "000000000142"


@pytest.mark.timeout(60)
def test_tampered_meters_are_hinted_with_their_evidence_and_the_truth_counts_their_share():
    run = Run(Scenario.load(ROOT / "hil" / "scenarios" / "tamper.toml")).run()
    report = run.report({})
    assert report["passed"], [g for g in report["gates"] if not g["passed"]]
    tampered = set(SLOWED + MAGNETS + (GONE,))
    assert set(report["line_loss"]["thieves"]) == tampered
    found = hints(run.store)
    assert [h["period"] for h in found] == ["2026-01-08", "2026-01-09", "2026-01-10"]
    for h in found:
        assert {c["addr"] for c in h["candidates"]} == tampered        # and no one else
    evidence = [{c["addr"]: c["evidence"] for c in h["candidates"]} for h in found]
    assert all(v == ["consumption_fell"] for v in evidence[0].values())
    for day in evidence[1:]:
        assert [day[a] for a in SLOWED] == [["consumption_fell"]] * 2
        assert [day[a] for a in MAGNETS] == [["consumption_fell", "magnetic"]]
        assert day[GONE] == ["magnetic"]                  # its consumption is back
    first = found[1]["candidates"][0]
    assert first["addr"] in MAGNETS and first["magnetic"] == "2026-01-08 00:00:00"
    # the truth: what the four registers missed of their customers' load is the stolen energy
    by = {m.addr[::-1].hex(): m for m in run.area.meters}
    a = parse_local("2026-01-09 00:00")
    missed = sum(sum(true_source(by[x]).between(a, a + DAY)) -
                 (sum(firmware(by[x]).ledger.at(a + DAY)) - sum(firmware(by[x]).ledger.at(a)))
                 for x in tampered)
    truth = run.area_meter.source.truth(a, a + DAY)
    assert missed > 20 and truth["stolen_kwh"] == pytest.approx(missed, rel=0.02)
    assert run.area_meter.source.truth(a - 2 * DAY, a - DAY)["stolen_kwh"] == 0


@pytest.mark.timeout(60)
def test_a_698_area_names_its_magnet_on_the_302a_record():
    doc = tomllib.loads((ROOT / "hil" / "scenarios" / "tamper.toml").read_text("utf-8"))
    doc["area"]["meters"] = 60
    doc["population"]["protocol_698_share"] = 1.0
    doc["fault"] = [{"kind": "slowed", "meters": [12], "start_h": 168, "factor": 0.3},
                    {"kind": "magnetic", "meters": [33], "start_h": 168, "factor": 0.4}]
    doc["area_meter"]["ct_ratio"] = 40
    doc["scenario"]["hours"] = 120
    run = Run(Scenario.from_dict(doc)).run()
    found = hints(run.store)
    assert [h["period"] for h in found] == ["2026-01-08", "2026-01-09"]
    assert {c["addr"]: c["evidence"] for c in found[1]["candidates"]} == {
        "000000000013": ["consumption_fell"], "000000000034": ["consumption_fell", "magnetic"]}
    at = parse_local(found[1]["candidates"][0]["magnetic"][:16])    # by the meter's clock
    assert abs(at - parse_local("2026-01-08 00:00")) <= 60
    assert run.agent.counters.get("on_demand_unsupported", 0) == 0
