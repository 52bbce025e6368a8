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


# --- secured local meters: level-98 writes with the ESAM session's MAC -----------------------

def secured_run(**prepaid):
    import simpy
    from edge.agent import Agent
    from edge.archive import Archive
    from edge.plan import Settings
    from edge.prepaid.campaign import Campaign, Campaigns
    from edge.prepaid.engine import PrepaidSettings
    from edge.store import Store
    from hil.price_run import NEW, PORT, START, SWITCH
    from hil.simruntime import SimRuntime
    from meter_sim.faults import firmware
    from meter_sim.population import DEFAULT_EPOCH
    from plc_channel.area import build_area
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 3, "rs485", 4, DEFAULT_EPOCH,
                      population={"local_share": 1.0, "secured_share": 1.0})
    doc = {"port": [{"name": PORT, "url": "sim:rs485", "medium": "rs485"}],
           "meter": [{"addr": m.addr[::-1].hex(), "port": PORT, "prepaid": "local",
                      "control_level": level, "customer": "%012d" % (i + 1)}
                     for i, (m, level) in enumerate(zip(area.meters, (152, 152, 2)))]}
    settings = PrepaidSettings.from_dict(dict({"every_min": 15, "security": "test-key",
                                               "audit_every_h": 0, "inbox_s": 60}, **prepaid))
    agent = Agent(Archive.from_dict(doc), Store(":memory:", durable=False),
                  Settings(curve_every_min=0, event_every_h=0, clock_check_h=None),
                  now=env.now, wall=env.now, prepaid=settings)
    SimRuntime(env, agent, {PORT: area.network})
    for m in area.meters:
        firmware(m).wallet._balance = 500.0
    store = Campaigns(agent.store.db)
    store.post([Campaign("c", SWITCH, NEW)], agent.archive, env.now)
    return env, area, agent, store, [m.addr[::-1].hex() for m in area.meters]


def test_secured_meters_take_the_price_set_only_with_the_sessions_mac():
    from hil.price_run import SWITCH
    from meter_sim.faults import firmware
    env, area, agent, store, addr = secured_run()
    env.run(until=SWITCH + 12 * 3600.0)
    rows = {r[1]: r for r in store.rows("c")}
    for a, m in zip(addr[:2], area.meters[:2]):
        assert rows[a][3] == "switched", rows[a]
        assert firmware(m).wallet.prices == (0.6,) * 4
    plain = rows[addr[2]]                     # archived level 2: plaintext, which it refuses
    assert plain[3] == "failed" and "refused (ERR 04" in plain[4]
    assert firmware(area.meters[2]).wallet.standby_prices is None
    assert agent.prepaid.sessions.stats["authentications"] >= 2


def test_a_wrong_key_cannot_re_price_a_secured_meter():
    from hil.price_run import START
    from meter_sim.faults import firmware
    env, area, agent, store, addr = secured_run()
    agent.prepaid.security.key = b"not the meters' key"
    env.run(until=START + 1800.0)
    rows = {r[1]: r for r in store.rows("c")}
    assert rows[addr[0]][3] == "failed"        # refused authentication: retried, then failed
    assert rows[addr[0]][4].startswith("refused: identity authentication refused: SERR 0008")
    notes = [n for e in rows[addr[0]][6] for n in e[2:]]
    assert sum("SERR 0008" in n for n in notes) == 4, notes
    assert firmware(area.meters[0]).wallet.standby_prices is None
