"""Build a seeded population of meters: load profiles, tariffs, cost-control mode, clock drift,
and each meter's fault schedule. The same arguments give the same meters, byte for byte."""
import random

from protocols.civil import from_civil
from meter_sim.firmware import Meter, LOCAL, REMOTE, TestEsam
from meter_sim.firmware.phases import ThreePhase
from meter_sim.firmware.wallet import Wallet
from meter_sim.faults import FaultyMeter, faults_from_spec
from meter_sim.profiles import make_profile
from meter_sim.supply import DEFAULTS as SUPPLY_DEFAULTS, SupplyModel

DEFAULT_EPOCH = from_civil(2026, 1, 1)
FLAT_TOU = (3,) * 24            # a single-rate (flat) tariff: everything on tariff 3
MIXED_698_SHARE = 0.4          # a mixed area: 40 % 698 meters, the mixed-area scenario
DEFAULTS = {
    "commercial_share": 0.1,
    "local_share": 0.2,         # meters holding their own wallet (本地费控)
    "flat_tariff_share": 0.3,   # meters on one rate instead of the time-of-use table
    "drift_ppm": 20.0,
    "clock_offset_s": 30.0,
    "reply_delay_s": (0.03, 0.12),
    "protocol_1997_share": 0.0,
    "protocol_698_share": 0.0,  # DL/T 698.45 meters (their own draw: other meters unchanged)
    "secured_share": 0.0,       # meters under ESAM security: plaintext controls refused
    "esam_session_s": 300.0,    # their identity-authentication validity
    "three_phase_share": 0.0,   # three-phase meters (their own draw: other meters unchanged)
}
DEFAULTS.update(("supply_" + k, v) for k, v in SUPPLY_DEFAULTS.items())   # meter_sim.supply


def derive(seed, name):
    """A per-component random generator: same seed and name, same stream."""
    return random.Random("%s/%s" % (seed, name))


def meter_address(index, first=1):
    """Printed address of the ``index``-th meter (12 BCD digits)."""
    return "%012d" % (first + index)


def build_meters(count, seed=1, t0=DEFAULT_EPOCH, first=1, **params):
    """``count`` firmware meters with deterministic profiles (parameters: ``DEFAULTS``)."""
    p = dict(DEFAULTS)
    unknown = set(params) - set(p)
    if unknown:
        raise ValueError("unknown population parameters: %s" % ", ".join(sorted(unknown)))
    p.update(params)
    meters = []
    for i in range(count):
        rng = derive(seed, "meter/%d" % i)
        speaks_698 = derive(seed, "protocol/%d" % i).random() < p["protocol_698_share"]
        kind = "commercial" if rng.random() < p["commercial_share"] else "residential"
        profile = make_profile(kind, rng, "%s/load/%d" % (seed, i))
        if rng.random() < p["flat_tariff_share"]:
            profile.tou = FLAT_TOU          # otherwise the profile keeps the TOU table
        local = rng.random() < p["local_share"]
        wallet = Wallet(balance=round(rng.uniform(30.0, 300.0), 2)) if local else None
        m = Meter(meter_address(i, first), t0, profile, mode=LOCAL if local else REMOTE,
                  wallet=wallet, clock_offset=rng.uniform(-p["clock_offset_s"], p["clock_offset_s"]),
                  drift_ppm=rng.uniform(-p["drift_ppm"], p["drift_ppm"]),
                  base_kwh=[round(rng.uniform(0, 3000), 2) for _ in range(4)],
                  reply_delay=rng.uniform(*p["reply_delay_s"]),
                  protocol=698 if speaks_698 else
                  1997 if rng.random() < p["protocol_1997_share"] else 2007)
        m.kind = kind
        m.supply = SupplyModel("%s/volts/%d" % (seed, i), derive(seed, "position/%d" % i).random(),
                               **{k: p["supply_" + k] for k in SUPPLY_DEFAULTS})
        if derive(seed, "three-phase/%d" % i).random() < p["three_phase_share"]:
            three_phase(m, "%s/volts/%d" % (seed, i), {k: p["supply_" + k] for k in SUPPLY_DEFAULTS})
        if derive(seed, "secured/%d" % i).random() < p["secured_share"] and m.protocol == 2007:
            secure(m, p["esam_session_s"], i)
        meters.append(m)
    return meters


def three_phase(meter, key, supply):
    """Make ``meter`` a three-phase one: its load split evenly over A/B/C, one supply model per
    phase (phase A the meter's own)."""
    pos = meter.supply.position
    supplies = [meter.supply] + [SupplyModel(key + "/" + ph, pos, **supply) for ph in "bc"]
    meter.three_phase = ThreePhase(supplies=supplies)
    return meter


def secure(meter, session_s=300.0, serial=0):
    """Put ``meter`` under its (TEST-key) ESAM: sealed controls and top-ups only."""
    meter.esam = TestEsam(serial=b"\x00\x00" + meter.addr, session_s=session_s,
                          factor=b"\x00\x00" + meter.addr)
    meter.plaintext_control = False
    if meter.wallet is not None:
        meter.wallet.customer = customer_number(serial)
    return meter


def customer_number(index):
    """The 6-byte customer number (户号) of the ``index``-th meter's customer, wire order."""
    return bytes(reversed(bytes.fromhex("%012d" % (index + 1))))


def build_population(count, seed=1, t0=DEFAULT_EPOCH, faults=(), first=1, **params):
    """Meters wrapped with their fault schedules (``faults``: scenario entries, see faults.py)."""
    meters = build_meters(count, seed, t0, first, **params)
    schedule = faults_from_spec(list(faults), count, seed, t0)
    return [FaultyMeter(m, schedule.get(i, ()), derive(seed, "fault-rng/%d" % i))
            for i, m in enumerate(meters)]
