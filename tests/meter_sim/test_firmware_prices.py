"""The simulated meter's second price set (调价): standby rate prices and ladder written, read
back and taken over at the switch-over time, billing at the new price from that instant."""
import pytest

from protocols.civil import from_civil
from protocols.dlt645 import Ack, ErrorReply, Read, Write, di as DI
from meter_sim.firmware import ConstantLoad, LOCAL, Meter
from meter_sim.firmware.wallet import Wallet, ladder_cost
from tests.helpers import ask, value

T0 = from_civil(2026, 3, 1)
PW = b"\x00\x00\x00"


def write(m, di, v, t):
    return ask(m, Write(di, DI.lookup(di).encode(v), 0x02, PW), t)


def local(prices=(0.5, 0.5, 0.5, 0.5)):
    return Meter("000000000042", T0, ConstantLoad(1.0), mode=LOCAL,
                 wallet=Wallet(balance=500.0, prices=prices))


def test_standby_prices_switch_at_their_time_and_bill_from_that_instant():
    m = local()
    switch = T0 + 10 * 3600.0
    new = {"price_%d" % k: 0.8 for k in range(1, 5)}
    assert isinstance(write(m, DI.DI_STANDBY_PRICES, new, T0 + 60), Ack)
    assert isinstance(write(m, DI.DI_PRICE_SWITCH_TIME, switch, T0 + 61), Ack)
    assert value(m, Read(DI.DI_STANDBY_PRICES), T0 + 62) == new
    assert value(m, Read(DI.DI_PRICE_SWITCH_TIME), T0 + 62) == "2026-03-01 10:00"
    before = m.balance(switch)
    assert before == pytest.approx(500.0 - 10 * 0.5, abs=1e-6)      # 1 kW for 10 h at 0.5
    assert m.balance(switch + 7200) == pytest.approx(before - 2 * 0.8, abs=1e-6)
    assert m.wallet.prices == (0.8,) * 4 and m.wallet.price_switch is None
    assert m.switches == [("prices", switch, switch)]


def test_a_switch_seen_late_still_bills_the_energy_before_it_at_the_old_price():
    m = local()
    write(m, DI.DI_STANDBY_PRICES, {"price_%d" % k: 2.0 for k in range(1, 5)}, T0)
    write(m, DI.DI_PRICE_SWITCH_TIME, T0 + 3600.0, T0)
    assert m.balance(T0 + 3 * 3600.0) == pytest.approx(500.0 - 0.5 - 2 * 2.0, abs=1e-6)


def test_the_standby_ladder_adds_its_block_price_on_annual_energy():
    m = local()
    table = {"value_%d" % k: None for k in range(1, 7)}
    table.update({"year_day_%d" % k: None for k in range(1, 7)})
    table.update({"price_%d" % k: None for k in range(1, 8)})
    table.update(value_1=5.0, value_2=8.0, price_1=0.0, price_2=0.1, price_3=0.3)
    assert isinstance(write(m, DI.DI_STANDBY_LADDER, table, T0), Ack)
    assert isinstance(write(m, DI.DI_LADDER_SWITCH_TIME, T0, T0), Ack)
    back = value(m, Read(DI.DI_STANDBY_LADDER), T0 + 1)
    assert (back["value_1"], back["value_2"], back["price_2"], back["price_3"]) == (5.0, 8.0, 0.1, 0.3)
    # 10 kWh: 5 at +0, 3 at +0.1, 2 at +0.3, all at the 0.5 rate price
    assert m.balance(T0 + 10 * 3600.0) == pytest.approx(500.0 - 5.0 - 0.3 - 0.6, abs=1e-6)
    assert value(m, Read(DI.DI_YEAR_KWH), T0 + 10 * 3600.0) == 10.0


def test_price_writes_need_the_password_and_a_wallet():
    m = local()
    bad = ask(m, Write(DI.DI_STANDBY_PRICES, b"\x00" * 16, 0x02, b"\x99\x99\x99"), T0)
    assert isinstance(bad, ErrorReply)
    remote = Meter("000000000043", T0, ConstantLoad(1.0))
    assert isinstance(write(remote, DI.DI_PRICE_SWITCH_TIME, T0, T0), ErrorReply)


def test_ladder_cost_is_piecewise():
    ladder = ([5.0, 8.0], [0.0, 0.1, 0.3])
    assert ladder_cost(ladder, 0.0, 10.0) == pytest.approx(0.9)
    assert ladder_cost(ladder, 6.0, 7.0) == pytest.approx(0.1)
    assert ladder_cost(ladder, 9.0, 9.0) == 0.0


def test_a_non_midnight_switch_freezes_time_and_tariff_registers_at_the_instant():
    m = local()
    switch = T0 + 10 * 3600.0 + 1800.0                 # 10:30, not a midnight
    new = {"price_%d" % k: 0.8 for k in range(1, 5)}
    assert isinstance(write(m, DI.DI_STANDBY_PRICES, new, T0 + 60), Ack)
    assert isinstance(write(m, DI.DI_PRICE_SWITCH_TIME, switch, T0 + 61), Ack)
    assert isinstance(ask(m, Read(0x05050001), T0 + 3600), ErrorReply)     # not switched yet
    later = switch + 5 * 3600
    assert value(m, Read(0x05050001), later) == "2026-03-01 10:30"
    regs = value(m, Read(0x05050101), later)
    truth = [_round2(m, switch, k) for k in range(5)]
    assert [regs["total"]] + [regs["tariff_%d" % k] for k in range(1, 5)] == truth
    assert regs["total"] == pytest.approx(10.5, abs=0.01)
    assert isinstance(ask(m, Read(0x05050002), later), ErrorReply)       # only one switch
    assert isinstance(ask(m, Read(0x05070001), later), ErrorReply)       # no ladder switch


def _round2(m, t, k):
    from meter_sim.firmware.reads import _energy
    return _energy(m, 0x01, k, t)
