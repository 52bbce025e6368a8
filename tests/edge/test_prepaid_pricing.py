"""The ledger across a price change against a reference model, exact to the micro-yuan: every
0.01 kWh is priced by the tariff in force when it was used and its place in the year's ladder;
a reading spanning the switch without the meter's registers at the instant is held, never
guessed (issue 20, price changes)."""
from hypothesis import given, settings, strategies as st

from edge.prepaid.ledger import Account
from edge.prepaid.pricing import PENDING, Schedule, charge
from edge.prepaid.tariff import Flat, Ladder
from protocols.civil import from_civil

T0 = from_civil(2026, 3, 1)
tariffs = st.one_of(
    st.builds(Flat, st.integers(1, 20000).map(lambda p: p / 10000.0)),
    st.lists(st.tuples(st.integers(1, 400), st.integers(1, 20000)), min_size=1, max_size=3).map(
        lambda bs: Ladder([(sum(u for u, _ in bs[:i + 1]), p / 10000.0) for i, (u, p) in
                           enumerate(bs)] + [(None, 9999 / 10000.0)])))


def unit_price(tariff, n):
    """The price (0.0001 yuan/kWh) of the year's ``n``-th 0.01 kWh under ``tariff``."""
    if isinstance(tariff, Flat):
        return tariff.price
    return next(p for top, p in tariff.blocks if n < top)


@settings(max_examples=200, deadline=None)
@given(old=tariffs, new=tariffs, steps=st.lists(st.integers(0, 5000), min_size=2, max_size=12),
       gaps=st.lists(st.integers(60, 6 * 3600), min_size=12, max_size=12),
       switch_after=st.integers(1, 10), frac=st.floats(0.01, 0.99), used_frac=st.floats(0, 1),
       withhold=st.booleans())
def test_charges_across_a_price_change_match_the_reference_to_the_micro_yuan(
        old, new, steps, gaps, switch_after, frac, used_frac, withhold):
    times = [T0]
    for g in gaps[:len(steps) - 1]:
        times.append(times[-1] + g)
    regs = [0]
    for s in steps[1:]:
        regs.append(regs[-1] + s)                           # 0.01 kWh, cumulative
    k = min(switch_after, len(times) - 1)                    # the switch falls in (t[k-1], t[k])
    switch = times[k - 1] + max(1, int((times[k] - times[k - 1]) * frac))
    if switch >= times[k]:
        switch = times[k] - 1 if times[k] - times[k - 1] > 1 else times[k]
    at_switch = regs[k - 1] + int((regs[k] - regs[k - 1]) * used_frac)
    schedule = Schedule(old, [(switch, new)])
    acct = Account("C1", 10 ** 12)
    for i, (t, r) in enumerate(zip(times, regs)):
        kwh = [r / 100.0] + [0.0] * 4
        if i == k and switch < t:
            if withhold:
                before = (acct.balance, acct.regs, acct.regs_at)
                assert charge(acct, kwh, t, schedule) == PENDING
                assert (acct.balance, acct.regs, acct.regs_at) == before     # nothing guessed
            cost = charge(acct, kwh, t, schedule, {switch: [at_switch / 100.0] + [0.0] * 4})
        else:
            cost = charge(acct, kwh, t, schedule)
        assert cost is not None and cost != PENDING
    expected = 0
    for n in range(regs[-1]):                                 # every 0.01 kWh of the year
        used_before_switch = n < at_switch if switch < times[-1] else True
        tariff = old if used_before_switch else new
        expected += unit_price(tariff, n)
    assert 10 ** 12 - acct.balance == expected


def test_a_reading_exactly_at_the_switch_bills_the_old_price_and_the_next_the_new():
    old, new = Flat(0.5), Flat(0.8)
    s = Schedule(old, [(T0 + 3600, new)])
    acct = Account("C1", 0)
    charge(acct, [0.0] + [0.0] * 4, T0, s)
    assert charge(acct, [1.0] + [0.0] * 4, T0 + 3600, s) == 500000
    assert charge(acct, [2.0] + [0.0] * 4, T0 + 7200, s) == 800000
    assert charge(acct, [3.0] + [0.0] * 4, T0 + 9000, s, {T0 + 8000: [9.0] + [0.0] * 4}) == 800000


def test_a_split_that_contradicts_the_registers_charges_nothing():
    s = Schedule(Flat(0.5), [(T0 + 3600, Flat(0.8))])
    acct = Account("C1", 0)
    charge(acct, [1.0] + [0.0] * 4, T0, s)
    assert charge(acct, [2.0] + [0.0] * 4, T0 + 7200, s, {T0 + 3600: [3.0] + [0.0] * 4}) is None
    assert (acct.balance, acct.regs, acct.regs_at) == (0, [100, 0, 0, 0, 0], T0)
