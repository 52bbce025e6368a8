"""A scenario's ``[price]`` section: ``gridedge hil run`` runs the campaign through
hil.price_run and report.json / report.html carry its ground-truth KPIs as figures gates name."""
import json
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from hil.price_run import PriceRun
from hil.scenario import Scenario, ScenarioError
from hil.scenario_run import run_scenario

LADDER = {"kind": "ladder", "blocks": [[5, 0.6], ["none", 0.9]]}


def doc(count=10, hours=30.0, gates=(), **price):
    return {"scenario": {"name": "p", "seed": 2, "start": "2026-01-06 08:00", "hours": hours},
            "area": {"meters": count, "medium": "rs485"},
            "price": dict({"tariff": LADDER, "unreachable": 0.0}, **price),
            "gate": [{"metric": m, "op": "==", "value": 0} for m in gates]}


def test_gridedge_hil_run_runs_the_small_library_scenario_and_reports_the_price_kpis(
        tmp_path, env_with_path):
    out = subprocess.run([sys.executable, "-m", "hil.cli", "hil", "run", "price-ladder-small",
                          "--report", str(tmp_path), "--quiet"], capture_output=True, text=True,
                         env=env_with_path, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    p = report["price"]
    assert p["meters"] == 40 and p["unreachable"] == 2 and p["payments"] > 0
    assert p["wrong_price_reachable"] == 0 and p["mischarged_uyuan_total"] == 0
    assert p["topups_applied_twice"] == 0 and p["wrongful_relay_ops"] == 0
    assert list(p["failed"]) == ["000000000002"]            # its firmware lost the standby set
    assert p["states"]["switched"] == 39 and 0 < p["completion_s"] <= 86400
    gated = {g["metric"] for g in report["gates"]}
    assert {"price.wrong_price_reachable", "price.mischarged_customers",
            "price.topups_applied_twice", "price.missed_relay_ops"} <= gated
    assert all(g["passed"] for g in report["gates"])
    html = tmp_path / "report.html"
    if html.exists():                                       # matplotlib installed
        assert "Price campaign" in html.read_text()


def test_a_price_gate_fails_when_meters_stay_unreachable_past_the_run():
    sc = Scenario.from_dict(doc(unreachable=0.3, unreachable_h=48.0, local_share=1.0,
                                gates=["price.wrong_price_unreachable",
                                       "price.wrong_price_reachable"]))
    report, _ = run_scenario(sc)
    by = {g["metric"]: g for g in report["gates"]}
    assert by["price.wrong_price_unreachable"]["value"] == 3
    assert not by["price.wrong_price_unreachable"]["passed"] and not report["passed"]
    assert by["price.wrong_price_reachable"]["passed"]


def test_a_target_leaves_the_other_meters_on_their_old_prices():
    sc = Scenario.from_dict(doc(count=8, meters=[0, 1, 2]))
    run = PriceRun.from_scenario(sc)
    kpi = run.run_scenario(sc.start + 3600.0 * sc.hours)
    assert kpi["covered"] == 3 and sum(kpi["states"].values()) == 3
    assert kpi["wrong_price_reachable"] == 0 and kpi["mischarged_customers"] == 0
    untouched = [i for i in run.local if i not in run.covered]
    assert untouched and all(run.fw[i].wallet.prices == run.initial_tables[i][0]
                             for i in untouched)


def test_top_ups_applied_twice_count_from_the_meters_purchase_counts():
    run = PriceRun(count=6, seed=5, local_share=1.0, unreachable_share=0.0, pay_share=1.0,
                   secured=1.0)
    kpi = run.run(hours_after=8.0)
    assert kpi["payments"] == 12 and kpi["topups_applied_twice"] == 0   # each sent twice
    assert kpi["topups_not_applied"] == 0
    run.fw[run.local[0]].wallet.purchase_count += 1                     # one applied again
    assert run.topups() == (1, 0)


@pytest.mark.parametrize("change, problem", [
    ({"prepaid": {}}, "drop [prepaid]"),
    ({"price": {"tariff": LADDER, "effective": "2026-01-09 00:00"}}, "must fall inside"),
    ({"price": {"tariff": LADDER, "meters": [10]}}, "outside 0..9"),
    ({"price": {"tariff": {"kind": "ladder", "blocks": [[5, 0.9], ["none", 0.6]]}}},
     "must not fall"),
    ({"gate": [{"metric": "price.nonesuch", "value": 0}]}, "no figure"),
])
def test_a_bad_price_section_is_refused_at_load(change, problem):
    with pytest.raises(ScenarioError, match=re.escape(problem)):
        Scenario.from_dict(dict(doc(), **change))


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 50), st.floats(allow_nan=True),
                   st.text(max_size=20), st.lists(st.integers(-1, 20), max_size=4),
                   st.just("2026-01-07 00:00"), st.just(LADDER))
KEYS = st.sampled_from(["id", "effective", "old_price", "tariff", "meters", "local_share",
                        "secured", "unreachable", "unreachable_h", "pay", "faulty", "x"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=6), st.one_of(VALUES, st.just({})))
def test_any_price_section_is_a_scenario_or_a_scenario_error(price, hours):
    d = dict(doc(), price=price)
    d["scenario"] = dict(d["scenario"], hours=hours)
    try:
        Scenario.from_dict(d)
    except ScenarioError:
        pass


def test_a_price_scenario_builds_its_area_from_the_population_and_channel_sections():
    base = doc(count=6, hours=20.0)
    base["area"]["medium"] = "hplc"
    plain = PriceRun.from_scenario(Scenario.from_dict(base))
    shaped = PriceRun.from_scenario(Scenario.from_dict(dict(
        base, population={"commercial_share": 1.0}, channel={"budget_db": 1.0})))
    assert all(m.kind == "commercial" for m in shaped.fw)
    assert not all(m.kind == "commercial" for m in plain.fw)
    assert shaped.area.network.phy.budget_db == 1.0 != plain.area.network.phy.budget_db
    assert [m.mode for m in shaped.fw] == [m.mode for m in plain.fw]     # [price] local_share
    a, b = plain.run(hours_after=4.0), shaped.run(hours_after=4.0)
    assert a["states"] != b["states"]                   # no carrier to write or read through
