from edge import validate as V
from protocols.civil import from_civil

L = V.Limits()
DAY0 = from_civil(2026, 1, 5)
H = 3600.0


def test_energy_backwards_and_implausible_jump():
    assert V.energy_flags(100.0, 10 * H, (101.0, 0.0), L) == [V.BACKWARDS]
    assert V.energy_flags(100.0 + 13.2 * 10, 10 * H, (100.0, 0.0), L) == []
    assert V.energy_flags(100.0 + 13.2 * 1.5 * 10 + 1, 10 * H, (100.0, 0.0), L) == [V.JUMP]
    assert V.energy_flags(5.0, 0.0, None, L) == []


def test_tariffs_must_add_up():
    assert V.tariff_flags([10.0, 2.0, 3.0, 4.0, 1.0], L) == []
    assert V.tariff_flags([10.0, 2.0, 3.0, 4.0, 2.0], L) == [V.TARIFF_SUM]


def test_clock_deviation_limit():
    assert V.clock_flags(DAY0 + 299, DAY0, L) == []
    assert V.clock_flags(DAY0 - 301, DAY0, L) == [V.CLOCK]


def test_daily_freeze_is_checked_as_a_whole_and_flagged_not_dropped():
    good = [10.0, 2.0, 3.0, 4.0, 1.0]
    assert V.validate_daily_freeze(good, DAY0 + 86400, DAY0, DAY0 + 86700, (9.0, DAY0), L) == ("ok", [])
    q, flags = V.validate_daily_freeze(good, DAY0 + 2 * 86400, DAY0, DAY0 + 86700, (11.0, DAY0), L)
    assert q == "invalid" and set(flags) == {V.BACKWARDS, V.FREEZE_TIME}
