"""A price campaign (调价) in virtual time (``hil.price_run``): 40 meters, half local-wallet
(standby set written, read back, billing verified after the switch), half remote-cost-control
(the agent's ledger split at the meters' own midnight freeze), 5 % unreachable for a day,
payments across the switch, one meter whose firmware loses its standby prices. KPIs from ground
truth: meters billing at the wrong price after the switch, money mis-charged per customer."""
from hil.price_run import PriceRun


def test_a_ladder_change_at_midnight_bills_right_on_40_meters():
    run = PriceRun(count=40, seed=7, unreachable_share=0.05, outage_h=24.0, pay_share=0.3,
                   faulty=1)
    assert any(i in run.local for i in run.dead) and any(i in run.remote for i in run.dead)
    kpi = run.run(hours_after=24.0)
    assert kpi["local"] >= 10 and kpi["remote"] >= 10 and kpi["unreachable"] == 2
    assert kpi["payments"] >= 4
    assert kpi["wrong_price_reachable"] == 0                 # KPI: must be 0
    assert kpi["mischarged_customers"] == 0 and kpi["mischarged_uyuan_total"] == 0
    assert kpi["remote_unsettled"] == 0
    faulty = run.addr[run.faulty[0]]
    assert list(kpi["failed"]) == [faulty]
    assert kpi["failed"][faulty].startswith("billing at the wrong price")
    assert kpi["states"]["switched"] == 39 and kpi["states"]["failed"] == 1
    for i in run.dead:                                      # written late, once back
        notes = [n for e in run.campaigns.rows(run.campaign.id)[i][6] for n in e[2:]]
        if i in run.local:
            assert "4 items written after the switch time" in notes
    gauge = {s.labels["state"]: s.value for s in run.agent.metrics()
             if s.name == "gridedge_price_campaign_meters"}
    assert gauge == kpi["states"]


def test_the_same_seed_gives_the_same_run():
    a = PriceRun(count=10, seed=3, unreachable_share=0.1).run(hours_after=6.0)
    b = PriceRun(count=10, seed=3, unreachable_share=0.1).run(hours_after=6.0)
    assert a == b
