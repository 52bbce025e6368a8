"""A remote customer's reading across a non-midnight time-of-use price switch settles at the
meter's switch-over freeze (0505 0001 / 0505 0101, read through the 645 driver), exact to the
micro-yuan against the simulated meter's own registers; without the freeze a flat tariff
falls back to the load curve and a time-of-use one is held (issue 20)."""
from edge.drivers import driver_for, items as I
from edge.prepaid.jobs import SwitchFreeze
from edge.prepaid.ledger import Account
from edge.prepaid.pricing import PENDING, Schedule, charge, split_registers
from edge.prepaid.tariff import TimeOfUse, centi_kwh
from edge.store import Reading, Store
from meter_sim.firmware import ConstantLoad, LOCAL, Meter
from meter_sim.firmware.reads import _energy
from meter_sim.firmware.wallet import Wallet
from protocols.civil import from_civil, iso
from protocols.dlt645 import Write, di as DI
from tests.helpers import ask

T0 = from_civil(2026, 3, 1)
SWITCH = T0 + 10 * 3600 + 1800                      # 10:30, not a midnight
OLD, NEW = TimeOfUse([1.0, 0.6, 0.4, 0.2]), TimeOfUse([1.3, 0.7, 0.5, 0.25])


class Archived:
    addr, protocol, prepaid, extra = "000000000042", "645-2007", "remote", {}


def meter(switching=True):
    m = Meter(Archived.addr, T0, ConstantLoad(1.0), mode=LOCAL,
              wallet=Wallet(balance=500.0, prices=(0.5,) * 4))
    if switching:
        di = DI.DI_PRICE_SWITCH_TIME
        ask(m, Write(di, DI.lookup(di).encode(SWITCH), 0x02, b"\x00\x00\x00"), T0 + 60)
    return m


def regs(m, t):
    return [_energy(m, 0x01, k, t) for k in range(5)]


def freeze_reading(m, t):
    """The agent's switch_freeze reading of ``m`` at ``t`` (the driver's frames, the meter's
    replies), or None when the meter answers no such item."""
    drv = driver_for(Archived)
    requests = drv.requests(Archived, [I.SWITCH_FREEZE])
    replies = [ask(m, q, t) for q in requests]
    if any(getattr(r, "data", None) is None or type(r).__name__ == "ErrorReply" for r in replies):
        return None
    v = drv.values(Archived, [I.SWITCH_FREEZE], requests, replies)[0]
    return Reading(Archived.addr, SwitchFreeze.name, SwitchFreeze.key_di, iso(SWITCH),
                   {"kwh": v["kwh"], "time": iso(v["time"])})


def expected_uyuan(before, at, after):
    """The ground truth: each tariff register's 0.01 kWh before the switch at the old prices,
    after it at the new (the registers' own 0.01 kWh, as the meter shows them)."""
    c = [[centi_kwh(x) for x in r] for r in (before, at, after)]
    return OLD.cost([b - a for a, b in zip(c[0], c[1])], 0) + \
        NEW.cost([b - a for a, b in zip(c[1], c[2])], 0)


def test_a_non_midnight_tou_switch_settles_at_the_switch_freeze_to_the_micro_yuan():
    m = meter()
    t1, t2 = T0 + 8 * 3600, SWITCH + 5 * 3600 + 17
    store = Store(":memory:")
    store.put_readings([freeze_reading(m, t2)])
    acct = Account("C1", 10 ** 12)
    schedule = Schedule(OLD, [(SWITCH, NEW)])
    assert charge(acct, regs(m, t1), t1, schedule) is not None
    at = split_registers(store, Archived.addr, SWITCH, acct.regs, True, 900)
    assert at == regs(m, SWITCH)
    cost = charge(acct, regs(m, t2), t2, schedule, {SWITCH: at})
    assert cost == expected_uyuan(regs(m, t1), regs(m, SWITCH), regs(m, t2))
    assert 10 ** 12 - acct.balance == cost
    assert cost != OLD.cost([centi_kwh(b) - centi_kwh(a) for a, b in
                             zip(regs(m, t1), regs(m, t2))], 0)           # the switch mattered


def test_a_meter_without_the_freeze_falls_back_to_the_curve_or_holds():
    m = meter(switching=False)
    t1, t2 = T0 + 8 * 3600, SWITCH + 5 * 3600
    assert freeze_reading(m, t2) is None                          # never switched: no record
    store = Store(":memory:")
    acct = Account("C1", 10 ** 12)
    charge(acct, regs(m, t1), t1, Schedule(OLD, [(SWITCH, NEW)]))
    assert split_registers(store, Archived.addr, SWITCH, acct.regs, True, 900) is None
    assert charge(acct, regs(m, t2), t2, Schedule(OLD, [(SWITCH, NEW)])) == PENDING
    start = T0 + 10 * 3600
    store.put_readings([Reading(Archived.addr, "load_curve", 0x06100601, iso(start),
                                {"start": iso(start), "values": [10.0, 10.25, 10.5, 10.75]})])
    assert split_registers(store, Archived.addr, SWITCH, acct.regs, True, 900) is None   # TOU
    flat = split_registers(store, Archived.addr, SWITCH, acct.regs, False, 900)
    assert flat[0] == 10.5
    stale = Reading(Archived.addr, SwitchFreeze.name, SwitchFreeze.key_di, iso(SWITCH),
                    {"kwh": [9.0] * 5, "time": iso(SWITCH - 3600)})       # another switch's
    store.put_readings([stale])
    assert split_registers(store, Archived.addr, SWITCH, acct.regs, True, 900) is None
