"""Build a seeded set of meters (addresses, load profiles, cost-control mode, clock drift)."""
import random

from protocols.civil import from_civil
from meter_sim.firmware import HourlyProfile, Meter, LOCAL, REMOTE
from meter_sim.firmware.wallet import Wallet

# Mean hourly shape of a residential load (fraction of the daily peak), evening peak at 19-21 h.
RESIDENTIAL = (0.30, 0.25, 0.22, 0.20, 0.20, 0.25, 0.45, 0.60, 0.50, 0.40, 0.40, 0.45,
               0.50, 0.45, 0.40, 0.40, 0.50, 0.70, 0.90, 1.00, 0.95, 0.80, 0.60, 0.40)
COMMERCIAL = (0.15, 0.15, 0.15, 0.15, 0.15, 0.20, 0.35, 0.60, 0.90, 1.00, 1.00, 0.95,
              0.85, 0.95, 1.00, 1.00, 0.95, 0.85, 0.60, 0.40, 0.30, 0.20, 0.15, 0.15)
DEFAULT_EPOCH = from_civil(2026, 1, 1)


def derive(seed, name):
    """A per-component random generator: same seed and name, same stream."""
    return random.Random("%s/%s" % (seed, name))


def meter_address(index, first=1):
    """Printed address of the ``index``-th meter (12 BCD digits)."""
    return "%012d" % (first + index)


def build_meters(count, seed=1, t0=DEFAULT_EPOCH, first=1, local_share=0.2, drift_ppm=20.0):
    """``count`` meters with deterministic profiles; the same arguments give the same meters."""
    meters = []
    for i in range(count):
        rng = derive(seed, "meter/%d" % i)
        commercial = rng.random() < 0.1
        shape = COMMERCIAL if commercial else RESIDENTIAL
        peak_kw = rng.uniform(3.0, 12.0) if commercial else rng.uniform(0.8, 3.5)
        kw = [round(s * peak_kw * rng.uniform(0.85, 1.15), 3) for s in shape]
        local = rng.random() < local_share
        wallet = Wallet(balance=round(rng.uniform(30.0, 300.0), 2)) if local else None
        meters.append(Meter(
            meter_address(i, first), t0, HourlyProfile(kw), mode=LOCAL if local else REMOTE,
            wallet=wallet, clock_offset=rng.uniform(-30.0, 30.0),
            drift_ppm=rng.uniform(-drift_ppm, drift_ppm), base_kwh=[
                round(rng.uniform(0, 3000), 2) for _ in range(4)],
            reply_delay=rng.uniform(0.03, 0.12)))
    return meters
