"""A price campaign (调价) in virtual time: half local-wallet meters (standby set written, read
back, billing verified after the switch), half remote-cost-control customers (the agent's
ledger split at the meters' own midnight freeze), one meter unreachable. KPIs from ground truth:
meters billing at the wrong price after the switch, money mis-charged per customer."""
import simpy

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.prepaid.campaign import Campaign, Campaigns
from edge.prepaid.engine import PrepaidSettings
from edge.prepaid.ledger import Account
from edge.prepaid.policy import FriendlyWindows
from edge.prepaid.tariff import tariff_from_dict
from edge.store import Store
from meter_sim.faults import firmware
from meter_sim.firmware import reads
from meter_sim.firmware.meter import LOCAL
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY
from hil.simruntime import SimRuntime

START = DEFAULT_EPOCH + DAY + 8 * 3600.0
SWITCH = DEFAULT_EPOCH + 2 * DAY                 # the next midnight
PORT = "rs485-1"
OLD = {"kind": "flat", "price": 0.5}
NEW = {"kind": "ladder", "blocks": [[5, 0.6], ["none", 0.9]]}


def build(count):
    env = simpy.Environment(initial_time=START)
    area = build_area(env, count, "rs485", 7, DEFAULT_EPOCH,
                      population={"local_share": 0.5, "secured_share": 0.0})
    doc = {"port": [{"name": PORT, "url": "sim:rs485", "medium": "rs485"}],
           "meter": [{"addr": m.addr[::-1].hex(), "port": PORT, "tariff": "flat",
                      "prepaid": "local" if firmware(m).mode == LOCAL else "remote",
                      "customer": "%012d" % (i + 1)} for i, m in enumerate(area.meters)]}
    settings = PrepaidSettings.from_dict({
        "every_min": 15, "tariff": {"flat": {"price": OLD["price"]}}, "audit_every_h": 0,
        "inbox_s": 60, "defaults": {"alarm": 1.0, "trip": -1000.0, "balance": 500.0}})
    settings.friendly = FriendlyWindows(0, 0, weekends=False)
    archive = Archive.from_dict(doc)
    agent = Agent(archive, Store(":memory:", durable=False),
                  Settings(curve_every_min=0, event_every_h=0, clock_check_h=None),
                  now=env.now, wall=env.now, prepaid=settings)
    runtime = SimRuntime(env, agent, {PORT: area.network})
    for m in area.meters:
        if firmware(m).wallet is not None:
            firmware(m).wallet._balance = 500.0          # no credit trips in the way
    return env, area, agent, runtime


def regs(m, t):
    return [reads._energy(m, 0x01, k, t) for k in range(5)]


def mischarged_uyuan(agent, area, i, payments):
    """Ground truth: the agent's balance less what the meter's own registers at the first
    reading, at its switch-over freeze and at the last charged reading cost under the old and
    the new tariff, with the customer's payments."""
    m = firmware(area.meters[i])
    addr = area.meters[i].addr[::-1].hex()
    acct = agent.prepaid.ledger.accounts["%012d" % (i + 1)]
    ref = Account(acct.customer, 500 * 10 ** 6 + sum(payments))
    first = next(r for r in agent.store.readings(addr, "prepaid") if r.quality == "ok")
    ref.charge(first.value["kwh"], first.value["at"], tariff_from_dict(OLD))
    ref.charge(regs(m, m.clock.true_time(SWITCH)), SWITCH, tariff_from_dict(OLD))
    ref.charge([c / 100.0 for c in acct.regs], acct.regs_at, tariff_from_dict(NEW))
    assert acct.regs_at > SWITCH
    return acct.balance - ref.balance


def test_a_ladder_change_at_midnight_bills_right_on_40_meters_half_local_half_remote():
    env, area, agent, runtime = build(40)
    fw = [firmware(m) for m in area.meters]
    addr = [m.addr[::-1].hex() for m in area.meters]
    local = [i for i, m in enumerate(fw) if m.mode == LOCAL]
    remote = [i for i, m in enumerate(fw) if m.mode != LOCAL]
    assert len(local) >= 10 and len(remote) >= 10
    dead = [local[0], remote[0]]                    # 5 %: unreachable until 02:00 after it
    faulty = local[1]                               # a firmware that loses its standby prices
    for i in dead:
        fw[i].power_down(env.now)
    campaign = Campaign("2026-ladder", SWITCH, NEW)
    store = Campaigns(agent.store.db)
    assert store.post([campaign], agent.archive, env.now) == [True]
    assert store.post([campaign], agent.archive, env.now) == [False]      # idempotent
    paid = {i: [] for i in remote}

    def pay(label):
        for i in remote[1:4]:                       # payments on both sides of the switch
            assert runtime.call(agent.prepaid.pay, "%s-%d" % (label, i), "%012d" % (i + 1), 20.0)
            paid[i].append(20 * 10 ** 6)
    env.run(until=SWITCH - 3600.0)
    pay("before")
    env.run(until=SWITCH - 1800.0)
    fw[faulty].wallet.standby_prices = (0.5,) * 4
    env.run(until=SWITCH + 3600.0)
    pay("after")
    env.run(until=SWITCH + 2 * 3600.0)
    assert {store.state("2026-ladder", addr[i]) for i in dead} == {"unreachable", "pending"}
    for i in dead:
        fw[i].power_up(env.now)
    env.run(until=SWITCH + 16 * 3600.0)

    states = {r[1]: (r[3], r[4], r[6]) for r in store.rows("2026-ladder")}
    wrong_price = [i for i in local if i != faulty and (
        fw[i].wallet.prices != (0.6,) * 4 or fw[i].wallet.ladder != ([5.0], [0.0, 0.3]))]
    assert wrong_price == []                          # KPI: billing at the wrong price
    for i in local:
        if i != faulty:
            assert states[addr[i]][0] == "switched", states[addr[i]]
    assert states[addr[faulty]][0] == "failed"
    assert states[addr[faulty]][1].startswith("billing at the wrong price")
    late = [n for e in states[addr[dead[0]]][2] for n in e[2:]]
    assert "4 items written after the switch time" in late
    for i in remote:
        assert states[addr[i]][0] == "switched", (i, states[addr[i]])
        assert mischarged_uyuan(agent, area, i, paid[i]) == 0     # KPI: exact micro-yuan
    gauge = {s.labels["state"]: s.value for s in agent.metrics()
             if s.name == "gridedge_price_campaign_meters"}
    assert gauge["switched"] == len(area.meters) - 1 and gauge["failed"] == 1
