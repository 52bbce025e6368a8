"""Prepaid cost control end to end in virtual time: the agent trips, reconnects and escalates on
a simulated HPLC area, and the meters' own relays (the simulator) are the ground truth."""
import pytest
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
    alarms = {r.addr for r in store.readings(task="prepaid_event")
              if r.value["event"] == "balance_alarm"}
    assert alarms == {area.meters[i].addr[::-1].hex() for i in LOW}   # 2A sent, event raised
    for i in set(range(12)) - set(LOW):
        assert relays[i].closed and not relays[i].cmd_open             # nobody else touched
    assert runtime.call(agent.prepaid.pay, "pay-1", "C1", 10.0)
    assert not runtime.call(agent.prepaid.pay, "pay-1", "C1", 10.0)   # same payment: once
    env.run(until=START + 5 * 3600.0)
    assert relays[1].closed and not relays[1].cmd_open                  # 1C direct close
    assert not relays[0].closed
    trips = [c for c in agent.prepaid.journal.all() if c.action == "trip"]
    assert {c.meter for c in trips} == {area.meters[i].addr[::-1].hex() for i in (0, 1, 2, STUCK)}
    assert all(c.state == "done" for c in trips if c.meter != area.meters[STUCK].addr[::-1].hex())


def test_local_wallet_audit_flags_mismatch_overdraft_and_contradicting_relays():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 5, "rs485", 8, DEFAULT_EPOCH, population={"local_share": 1.0})
    meters = [firmware(m) for m in area.meters]
    meters[1].wallet.alarm_1 = 25.0                   # someone set it by hand
    meters[2].relay.stuck = True                      # its contact cannot open ...
    meters[2].wallet._balance = -6.0                  # ... past the 5 yuan overdraft limit
    meters[3].relay.closed = False                    # open with 100+ yuan left: a relay fault
    doc = {"port": [{"name": "rs485-1", "url": "sim:rs485", "medium": "rs485"}],
           "meter": [{"addr": m.addr[::-1].hex(), "port": "rs485-1", "prepaid": "local"}
                     for m in area.meters]}
    prepaid = PrepaidSettings.from_dict({"audit_every_h": 6, "local": {
        "alarm_1": 20.0, "alarm_2": 10.0, "overdraft_limit": 5.0, "hoarding_limit": 9999.0,
        "close_allowed": 0.0}})
    store = Store(":memory:", durable=False)
    agent = Agent(Archive.from_dict(doc), store, Settings(curve_every_min=0, event_every_h=0,
                                                          clock_check_h=None),
                  now=env.now, wall=env.now, prepaid=prepaid)
    SimRuntime(env, agent, {"rs485-1": area.network})
    env.run(until=START + 3600.0)
    events = {}
    for r in store.readings(task="prepaid_event"):
        events.setdefault(r.addr, set()).add(r.value["event"])
    addr = [m.addr[::-1].hex() for m in area.meters]
    assert events == {addr[1]: {"threshold_mismatch"},
                      addr[2]: {"overdraft", "relay_closed_in_overdraft"},
                      addr[3]: {"relay_open_with_credit"}}
    audits = [r for r in store.readings(task="local_audit")]
    assert len(audits) == 5 and {r.quality for r in audits if r.addr in (addr[0], addr[4])} == {"ok"}


def test_master_commands_pass_the_same_checks_and_a_master_trip_stays_open():
    env = simpy.Environment(initial_time=START)
    area, archive, prepaid = build(env)
    store = Store(":memory:", durable=False)
    agent = Agent(archive, store, Settings(curve_every_min=0, event_every_h=0, clock_check_h=None),
                  now=env.now, wall=env.now, prepaid=prepaid)
    runtime = SimRuntime(env, agent, {"plc": area.network})
    env.run(until=START + 600.0)
    addr = [m.addr[::-1].hex() for m in area.meters]
    engine = agent.prepaid
    with pytest.raises(ValueError, match="keep_power"):
        runtime.call(engine.command, addr[KEEP], "trip", "m-1")
    with pytest.raises(ValueError, match="close-allowed"):
        runtime.call(engine.command, addr[0], "direct_close", "m-2")   # 0.5 yuan: in debt
    trip = runtime.call(engine.command, addr[8], "trip", "m-3", reason="tamper")
    assert runtime.call(engine.command, addr[8], "trip", "m-3") is trip   # resent: acts once
    env.run(until=START + 1800.0)
    assert trip.state == "done" and not firmware(area.meters[8]).relay.closed
    runtime.call(engine.pay, "pay-8", "C8", 100.0)                  # money does not undo it
    env.run(until=START + 3600.0)
    assert not firmware(area.meters[8]).relay.closed
    assert [c.id for c in engine.journal.all(addr[8])] == ["m-3"]


def test_a_restart_keeps_balances_journal_and_who_opened_the_relay(tmp_path):
    """The concentrator reboots after the trips: balances, the master's keep-power and the
    journal come back from the store, and a payment still reconnects a credit trip."""
    env = simpy.Environment(initial_time=START)
    area, archive, prepaid = build(env)
    settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=None)
    path = tmp_path / "agent.sqlite"
    agent = Agent(archive, Store(path), settings, now=env.now, wall=env.now, prepaid=prepaid)
    runtime = SimRuntime(env, agent, {"plc": area.network})
    env.run(until=START + 3 * 3600.0)
    addr = [m.addr[::-1].hex() for m in area.meters]
    runtime.call(agent.prepaid.command, addr[9], "keep_power", "m-keep")
    env.run(until=START + 3 * 3600.0 + 600.0)
    balances = {c: a.balance for c, a in agent.prepaid.ledger.accounts.items()}
    runtime.stop()
    again = Agent(archive, Store(path), settings, now=env.now, wall=env.now, prepaid=prepaid)
    assert {c: a.balance for c, a in again.prepaid.ledger.accounts.items()} == balances
    assert again.prepaid.keep_power["C9"] and again.prepaid.belief(addr[0]).for_credit
    runtime = SimRuntime(env, again, {"plc": area.network})
    env.run(until=START + 3.5 * 3600.0)
    runtime.call(again.prepaid.pay, "pay-0", "C0", 10.0)
    env.run(until=START + 4 * 3600.0)
    assert firmware(area.meters[0]).relay.closed is False         # 1B: closes on the button
    assert not firmware(area.meters[0]).relay.cmd_open             # ... which it now may
    assert firmware(area.meters[9]).relay.keep_power


def test_a_meter_that_refuses_the_password_is_escalated_not_hammered():
    env = simpy.Environment(initial_time=START)
    area, archive, prepaid = build(env)
    firmware(area.meters[0]).passwords[0x02] = b"\x12\x34\x56"        # not what we send
    store = Store(":memory:", durable=False)
    agent = Agent(archive, store, Settings(curve_every_min=0, event_every_h=0, clock_check_h=None),
                  now=env.now, wall=env.now, prepaid=prepaid)
    SimRuntime(env, agent, {"plc": area.network})
    env.run(until=START + 3 * 3600.0)
    addr = area.meters[0].addr[::-1].hex()
    commands = agent.prepaid.journal.all(addr)
    assert commands and all(c.state == "escalated" and c.attempts == 4 for c in commands)
    events = {r.value["event"] for r in store.readings(task="prepaid_event") if r.addr == addr}
    assert "command_refused" in events and firmware(area.meters[0]).relay.closed
