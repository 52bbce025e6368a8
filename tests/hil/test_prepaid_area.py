"""Prepaid cost control end to end in virtual time: the agent trips, reconnects and escalates on
a simulated HPLC area, and the meters' own relays (the simulator) are the ground truth."""
import simpy

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.prepaid.engine import PrepaidSettings
from edge.prepaid.policy import FriendlyWindows
from edge.store import Store
from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY
from hil.simruntime import SimRuntime

START = DEFAULT_EPOCH + DAY + 8 * 3600.0
LOW = [0, 1, 2, 3, 5]           # customers starting with 0.5 yuan
KEEP = 3                        # keep-power customer
STUCK = 5                       # its relay does not move


def build(env, count=12):
    stuck = {"kind": "relay_stuck", "meters": [STUCK]}
    area = build_area(env, count, "hplc", 7, DEFAULT_EPOCH, faults=[stuck],
                      population={"local_share": 0.0})
    doc = {"port": [{"name": "plc", "url": "sim:hplc", "medium": "hplc"}],
           "meter": [{"addr": m.addr[::-1].hex(), "port": "plc", "prepaid": "remote",
                      "tariff": "flat", "customer": "C%d" % i} for i, m in enumerate(area.meters)]}
    customers = [{"id": "C%d" % i, "balance": 0.5} for i in LOW]
    customers[LOW.index(KEEP)]["keep_power"] = True
    customers[1]["direct_close"] = True
    prepaid = PrepaidSettings.from_dict({
        "every_min": 15, "tariff": {"flat": {"price": 1.0}},
        "defaults": {"alarm": 5.0, "trip": 0.0, "close_allowed": 2.0, "balance": 50.0},
        "customer": customers})
    prepaid.friendly = FriendlyWindows(0, 0, weekends=False)
    return area, Archive.from_dict(doc), prepaid


def test_low_balances_trip_a_payment_reconnects_keep_power_holds_a_stuck_relay_escalates():
    env = simpy.Environment(initial_time=START)
    area, archive, prepaid = build(env)
    store = Store(":memory:", durable=False)
    settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=None)
    agent = Agent(archive, store, settings, now=env.now, wall=env.now, prepaid=prepaid)
    runtime = SimRuntime(env, agent, {"plc": area.network})
    env.run(until=START + 4 * 3600.0)
    relays = {i: firmware(m).relay for i, m in enumerate(area.meters)}
    balance = {c: a.balance for c, a in agent.prepaid.ledger.accounts.items()}
    for i in (0, 1, 2):
        assert balance["C%d" % i] <= 0 and not relays[i].closed      # tripped, read back
    assert relays[KEEP].closed and not relays[KEEP].cmd_open           # keep-power absorbed it
    assert relays[STUCK].closed and relays[STUCK].cmd_open             # commanded, did not move
    assert agent.counters.get("prepaid_escalated") == 1
    for i in set(range(12)) - set(LOW):
        assert relays[i].closed and not relays[i].cmd_open             # nobody else touched
    assert agent.prepaid.pay("pay-1", "C1", 10.0)
    assert not agent.prepaid.pay("pay-1", "C1", 10.0)                 # same payment: once
    runtime.kick()
    env.run(until=START + 5 * 3600.0)
    assert relays[1].closed and not relays[1].cmd_open                  # 1C direct close
    assert not relays[0].closed
    trips = [c for c in agent.prepaid.journal.all() if c.action == "trip"]
    assert {c.meter for c in trips} == {area.meters[i].addr[::-1].hex() for i in (0, 1, 2, STUCK)}
    assert all(c.state == "done" for c in trips if c.meter != area.meters[STUCK].addr[::-1].hex())
