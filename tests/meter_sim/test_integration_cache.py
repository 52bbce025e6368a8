"""The energy integration caches (profile head, ledger instant) answer exactly as a fresh integration."""
import random

from meter_sim.firmware.load import DAY
from meter_sim.firmware.registers import EnergyLedger
from meter_sim.profiles import make_profile


def profile(seed=3):
    return make_profile("residential", random.Random(seed), "s/%d" % seed)


def test_between_with_the_kept_head_is_bit_identical_to_a_fresh_profile():
    kept = profile()
    t0 = 20 * DAY + 3 * 3600 + 17.5
    ends = [t0 + 60.0 * k for k in range(1, 50)] + [t0 + 5 * DAY + 900.0 * k for k in range(100)]
    for t1 in ends + [t0 + 10.0]:
        assert kept.between(t0, t1) == profile().between(t0, t1)
    for t0b in (t0 + 1.0, t0 - DAY):            # another start: integrated anew
        assert kept.between(t0b, t0 + 3 * DAY) == profile().between(t0b, t0 + 3 * DAY)


def test_the_ledger_instant_is_forgotten_at_a_register_step_and_a_mark():
    led = EnergyLedger(profile(), 20 * DAY, [10.0, 0.0, 0.0, 0.0])
    t = 21 * DAY + 3600.0
    first = led.at(t)
    led.step(t, 5.0)                            # a register fault at the instant just read
    assert led.at(t)[0] == first[0] + 5.0
    led.at(t + 3600.0)
    led.set_consuming(t + 60.0, False)          # supply lost: nothing more registered
    assert led.at(t + 3600.0) == led.at(t + 60.0) != led.at(t)
