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


def test_a_ladder_change_at_midnight_bills_right_on_local_and_remote_meters():
    env, area, agent, runtime = build(12)
    fw = [firmware(m) for m in area.meters]
    local = [i for i, m in enumerate(fw) if m.mode == LOCAL]
    remote = [i for i, m in enumerate(fw) if m.mode != LOCAL]
    assert len(local) >= 3 and len(remote) >= 3
    dead = local[0]
    fw[dead].power_down(env.now)
    campaign = Campaign("2026-ladder", SWITCH, NEW)
    store = Campaigns(agent.store.db)
    assert store.post([campaign], agent.archive, env.now) == [True]
    assert store.post([campaign], agent.archive, env.now) == [False]      # idempotent
    env.run(until=SWITCH + 14 * 3600.0)

    states = {r[1]: (r[3], r[4]) for r in store.rows("2026-ladder")}
    addr = [m.addr[::-1].hex() for m in area.meters]
    wrong_price = 0
    for i in local:
        if i == dead:
            assert states[addr[i]][0] == "unreachable"
            continue
        assert states[addr[i]][0] == "switched", states[addr[i]]
        if fw[i].wallet.prices != (0.6,) * 4 or fw[i].wallet.ladder != ([5.0], [0.0, 0.3]):
            wrong_price += 1
    assert wrong_price == 0

    new, old = tariff_from_dict(NEW), tariff_from_dict(OLD)
    for i in remote:
        acct = agent.prepaid.ledger.accounts["%012d" % (i + 1)]
        assert states[addr[i]][0] == "switched", states[addr[i]]
        assert acct.regs_at > SWITCH
        ref = Account(acct.customer, 500 * 10 ** 6)
        first = agent.store.readings(addr[i], "prepaid")[0]
        ref.charge(first.value["kwh"], first.value["at"], old)
        ref.charge(regs(fw[i], fw[i].clock.true_time(SWITCH)), SWITCH, old)   # its freeze
        ref.charge([c / 100.0 for c in acct.regs], acct.regs_at, new)
        assert acct.balance == ref.balance                 # mis-charged: 0 micro-yuan
    gauge = {s.labels["state"]: s.value for s in agent.metrics()
             if s.name == "gridedge_price_campaign_meters"}
    assert gauge["switched"] == len(area.meters) - 1 and gauge["unreachable"] == 1
