"""Scenario files against their declared schema: what gave tracebacks or ran with nonsense
(infinite hours, negative shares, text in [tasks], impossible probabilities, a NaN gate, a gate
on a figure no report has) is refused at load with its place, exit 2, before anything runs;
the declared report figures are those a run reports."""
import math

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from hil.cli import main
from hil.figures import figure_paths, known_figure
from hil.scenario import Scenario, ScenarioError
from hil.scenario_run import run_scenario
from tests.conftest import ROOT, tomllib
from tests.security.helpers import mutated

BASE = {"scenario": {"name": "t", "hours": 1}, "area": {"meters": 10, "medium": "rs485"},
        "gate": [{"metric": "read_rate", "op": ">=", "value": 0.5}]}


def with_(section, **values):
    doc = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in BASE.items()}
    if section in ("fault", "gate"):
        doc[section] = [values]
    else:
        doc[section] = dict(doc.get(section, {}), **values)
    return doc


@pytest.mark.parametrize("doc, place", [
    (with_("scenario", hours=math.inf), "scenario.hours"),
    (with_("scenario", hours=math.nan), "scenario.hours"),
    (with_("scenario", hours=0), "scenario.hours"),
    (with_("scenario", seed=True), "scenario.seed"),
    (with_("area", meters=True), "area.meters"),
    (with_("area", meters=0), "area.meters"),
    (with_("fault", kind="dead", share=-3), "fault[0].share"),
    (with_("fault", kind="intermittent", share=0.1, p=7), "fault[0].p"),
    (with_("fault", kind="slow", share=0.1, delay_s=math.nan), "fault[0].delay_s"),
    (with_("fault", kind="dead", meters=[10]), "fault[0].meters"),
    (with_("fault", kind="dead", share=0.1, p=0.5), "fault[0].p"),
    (with_("tasks", curve_every_min="hourly"), "tasks.curve_every_min"),
    (with_("tasks", freeze_deadline_h=-1), "tasks.freeze_deadline_h"),
    (with_("prepaid", read_every_min=0), "prepaid.read_every_min"),
    (with_("prepaid", pay=1.5), "prepaid.pay"),
    (with_("uplink", loss=5), "uplink.loss"),
    (with_("uplink", outages=[[1, -2]]), "uplink.outages"),
    (with_("gate", metric="read_rate", op=">=", value=math.nan), "gate[0].value"),
    (with_("gate", metric="read_rat", op=">=", value=0.9), "gate[0].metric"),
    (with_("gate", metric="trip_latency_s.p96", op="<=", value=900), "gate[0].metric"),
    (with_("channel", budget_db=-5), "channel.budget_db"),
    (with_("topology", trunk_m=[400, 100]), "topology.trunk_m"),
    (with_("noise", hourly_db=[1.0] * 23), "noise.hourly_db"),
    (with_("population", local_share=2), "population.local_share"),
    (with_("rs485", baud=1234), "rs485.baud"),
    (with_("rig", tries=0), "rig.tries"),
])
def test_a_bad_value_is_refused_at_load_with_its_place(doc, place):
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(doc, path="s.toml")
    assert any(line.startswith("s.toml: %s: " % place) for line in str(err.value).splitlines()), \
        str(err.value)


def test_hil_run_exits_2_before_running_and_names_every_problem(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[scenario]\nhours = inf\n[area]\nmeters = true\n[uplink]\nloss = 5\n'
                    '[[gate]]\nmetric = "read_rat"\nvalue = nan\n')
    result = CliRunner().invoke(main, ["hil", "run", str(path), "--report",
                                       str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    for place in ("scenario.hours", "area.meters", "uplink.loss", "gate[0].metric",
                  "gate[0].value"):
        assert "%s: %s: " % (path, place) in result.output
    assert not (tmp_path / "out").exists() and "simulating" not in result.output


def test_the_library_loads_with_its_defaults_filled():
    sc = Scenario.load(ROOT / "hil" / "scenarios" / "smoke.toml")
    assert sc.prepaid["opening"] == [2.0, 40.0] and sc.uplink["loss"] == 0.01
    assert sc.gates[0].metric == "reachable_read_rate"


def test_every_figure_of_a_run_is_a_declared_one_and_gates_may_name_it():
    doc = dict(BASE, prepaid={"read_every_min": 30}, uplink={"outages": [[0.2, 0.2]]})
    report, _ = run_scenario(Scenario.from_dict(doc))
    names = figure_paths(report)
    assert "prepaid.commands_by_state" in names and "uplink.session" in names
    assert [n for n in names if not known_figure(n)] == []
    assert not known_figure("read_rate.p95") and not known_figure("") \
        and not known_figure("prepaid.nothing")


LIBRARY = [tomllib.loads(p.read_text()) for p in sorted((ROOT / "hil" / "scenarios").glob("*.toml"))]


@settings(max_examples=200, deadline=None)
@given(mutated(LIBRARY[0]) | mutated(LIBRARY[-1]))
def test_any_change_to_a_library_scenario_is_a_scenario_or_a_scenario_error(doc):
    try:
        Scenario.from_dict(doc)
    except ScenarioError:
        pass
