"""Scenario files, gates and reports: the library validates, a run reports every KPIS.md figure
from ground truth and reproduces exactly from its seed, and `gridedge hil run` exits non-zero
when a gate fails."""
import json
import subprocess
import sys

import pytest

from edge.jobs import DI_FREEZE_ENERGY
from edge.store import Reading
from hil.agent_run import true_freeze
from hil.report import write_report
from hil.scenario import Gate, Scenario, ScenarioError
from hil.scenario_run import Run, run_scenario
from protocols.civil import midnight

from tests.conftest import ROOT

LIBRARY = sorted((ROOT / "hil" / "scenarios").glob("*.toml"))
KPIS = ("seed", "scenario_sha256", "version", "meters", "read_rate", "reachable_read_rate",
        "completion_s", "lower_bound_s", "efficiency", "read_rate_by_depth", "trip_latency_s",
        "reconnect_latency_s", "wrongful_ops", "missed_ops", "readings_produced",
        "readings_confirmed_by_master", "readings_lost", "gates")
SMALL = """
[scenario]
name = "small"
seed = 4
start = "2026-01-06 00:00"
hours = 10
[area]
meters = 30
medium = "rs485"
[[fault]]
kind = "intermittent"
share = 0.1
p = 0.5
[[fault]]
kind = "wrong"                 # a neighbour's address on the reply now and then
share = 0.1
p = 0.3
[[fault]]
kind = "garbled"
share = 0.1
p = 0.3
[tasks]
curve_every_min = 60
[prepaid]
read_every_min = 30
pay = 0.5
[uplink]
outages = [[1, 2]]
loss = 0.02
[[gate]]
metric = "read_rate"
op = ">="
value = 0.99
[[gate]]
metric = "readings_lost"
op = "=="
value = 0
"""


def test_the_library_has_the_named_scenarios_and_each_validates():
    names = {p.stem for p in LIBRARY}
    assert {"smoke", "hard", "prepaid-week", "uplink-outage-week", "area-10000",
            "rig-lab"} <= names
    for path in LIBRARY:
        sc = Scenario.load(path)
        assert sc.gates and len(sc.sha256) == 64


def test_a_bad_scenario_names_every_problem():
    doc = {"scenario": {"seed": "x", "colour": 1, "start": "2026-02-30 00:00"},
           "area": {"medium": "wifi"}, "gate": [{"metric": "read_rate", "op": "~", "value": "hi"}],
           "fault": [{"share": 0.1}, {"kind": "intermittent", "share": 0.1}, {"kind": "lag"}],
           "uplink": {"outages": [[1]]}, "weather": {}}
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(doc)
    for needle in ("weather: unknown key", "scenario.colour: unknown key",
                   "scenario.seed: need an integer", "scenario.start: need 'YYYY-MM-DD hh:mm'",
                   "area.medium: 'wifi' is not one of", "gate[0].op: '~' is not one of",
                   "gate[0].value: need a number", "fault[0].kind: required",
                   "fault[1].p: needed by intermittent", "fault[2].kind: 'lag' is not one of",
                   "uplink.outages: item 0"):
        assert needle in str(err.value)
    doc = {"area": {"medium": "rs485"}, "prepaid": {"opening": [5, 1]},
           "rig": {"rs485_meters": 2, "port": 1}}
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(doc)
    for needle in ("RS-485 already", "prepaid.opening: need [lowest, highest]",
                   "rig.port: unknown key"):
        assert needle in str(err.value)


def test_gates_read_dotted_figures_and_a_missing_figure_fails():
    report = {"read_rate": 0.995, "trip_latency_s": {"p95": 700.0}, "completion_s": None}
    assert Gate("read_rate", ">=", 0.99).check(report)["passed"]
    assert not Gate("read_rate", ">=", 0.999).check(report)["passed"]
    assert Gate("trip_latency_s.p95", "<=", 900).check(report) == {
        "metric": "trip_latency_s.p95", "op": "<=", "limit": 900, "value": 700.0, "passed": True}
    assert not Gate("completion_s", "<=", 10).check(report)["passed"]
    assert not Gate("nothing.here", "==", 0).check(report)["passed"]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    path = folder / "small.toml"
    path.write_text(SMALL)
    sc = Scenario.load(path)
    report, samples = run_scenario(sc)
    return sc, report, samples, folder


def test_a_run_reports_every_kpi_from_ground_truth(small):
    sc, report, samples, folder = small
    for key in KPIS:
        assert key in report, key
    assert report["scenario_sha256"] == sc.sha256 and report["seed"] == 4
    assert report["reachable_read_rate"] == 1.0 and report["passed"]
    assert report["wrongful_ops"] == 0 and report["missed_ops"] == 0
    assert report["readings_lost"] == 0
    assert report["wrong_values"] == 0          # faulty replies never became stored values
    assert report["readings_confirmed_by_master"] == report["readings_produced"] > 30 * 9
    assert report["trip_latency_s"]["n"] > 0 and samples["trip_latency_s"]
    assert set(report["channel_by_hour"]) == {str(h) for h in range(10)}
    path_json, path_html = write_report(report, samples, folder / "out")
    assert json.loads(open(path_json).read())["gates"] == report["gates"]
    page = open(path_html).read()
    assert page.count("data:image/png;base64,") == 4 and ">PASS<" in page and "small" in page


def test_a_run_reproduces_exactly_from_its_seed(small):
    sc, report, _, folder = small
    again, _ = run_scenario(sc)
    assert again == report


@pytest.mark.timeout(120)
def test_the_cli_exits_non_zero_when_a_gate_fails_and_2_on_a_bad_file(tmp_path, env_with_path):
    strict = tmp_path / "strict.toml"
    strict.write_text(SMALL.replace('hours = 10', 'hours = 7').replace(
        '[prepaid]\nread_every_min = 30\npay = 0.5\n', '').replace(
        'value = 0.99', 'value = 1.01'))
    cli = [sys.executable, "-m", "hil.cli", "hil", "run"]
    out = subprocess.run(cli + [str(strict), "--report", str(tmp_path / "r"), "--quiet"],
                         capture_output=True, text=True, env=env_with_path, timeout=110)
    assert out.returncode == 1 and "FAIL read_rate >= 1.01" in out.stdout
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["passed"] is False and (tmp_path / "r" / "report.html").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("[area]\nmedium = 'wifi'\n")
    out = subprocess.run(cli + [str(bad)], capture_output=True, text=True, env=env_with_path,
                         timeout=60)
    assert out.returncode == 2 and "area.medium: 'wifi' is not one of" in out.stderr


def test_wrong_values_counts_a_stored_freeze_that_differs_from_the_meters_own(small):
    run = Run(small[0])
    run.env.run(until=run.start + 60.0)          # the midnight freeze exists; none read yet
    day = midnight(run.start)
    rows = []
    for k, m in enumerate(run.area.meters[:2]):
        truth = true_freeze(m, run.env.now)
        rows.append(Reading(m.addr[::-1].hex(), "daily_freeze", DI_FREEZE_ENERGY, "2026-01-05",
                            {"kwh": [truth + k * 0.5]}, read_at=run.env.now))
    run.store.put_readings(rows)
    assert run.wrong_values("2026-01-05", day) == 1
