"""Per-meter fault schedules: faults are data in the scenario, applied lazily around a meter.

A fault is a kind and a window of true time. ``FaultyMeter`` wraps a firmware ``Meter`` with the
same serving interface (``addr``, ``reply_delay``, ``handle_frame``, ``handle``) so RS-485 buses
and carrier networks use it unchanged. State changes (outage, clock jump, stuck relay) are applied
at their scheduled instant the next time the meter is touched, in time order.
"""
import random

from protocols.civil import from_civil
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645.frame import decode_frame, encode_frame
from protocols.dlt698 import decode_frame as decode_frame_698
from protocols.dlt698 import encode_frame as encode_frame_698
from meter_sim.firmware.phases import IMBALANCE_EVENT, VOLTAGE_IMBALANCE_EVENT

# kind -> parameters it takes (besides start/end)
KINDS = {
    "dead": (),                 # meter and its carrier module silent (cannot relay either)
    "intermittent": ("p",),     # answers with probability 1 - p
    "slow": ("delay_s",),       # extra reply delay (past the master's timeout when large)
    "garbled": ("p",),          # a reply byte flipped with probability p
    "wrong": ("p",),            # reply carries a neighbour's address with probability p
    "clock_jump": ("seconds",),  # clock jumps at start
    "outage": (),               # supply lost from start to end (power-down event recorded)
    "relay_stuck": (),          # relay does not move from start to end
    "bypass": ("fraction",),    # theft: this share of the load bypasses the register (窃电)
    "cover_open": (),           # the terminal cover is opened at start, closed at end (event)
    "register_backwards": ("kwh",),  # the total (and tariff 1) register drops by kwh at start
    "register_jump": ("kwh",),  # the total (and tariff 1) register leaps by kwh at start
    "stopped": (),              # the register stands still from start to end, current flows
    "slowed": ("factor",),      # tampered register: advances by factor of the true energy, no event
    "magnetic": ("factor",),    # magnet at the meter (恒定磁场干扰): event 03350000 start..end, the
                                # register at factor of the energy meanwhile (factor 1: event only)
    "undervoltage": ("volts",),  # the supply at the meter held at volts (below the band)
    "overvoltage": ("volts",),  # ... (above the band), from start to end (meter_sim.supply)
    "swapped": (),              # replaced at start: a new meter, new address, fresh registers
    "unarchived": (),           # in the area, not in the concentrator's archive
    "phantom": (),              # in the archive, not in the area (never answers, never relays)
    # three-phase meters only (meter_sim.firmware.phases; phase 0..2 = A..C); ignored on others
    "phase_loss": ("phase",),   # 失压/断相: the phase reads ~0 V, its load flows, unregistered
    "imbalance": ("fraction",),  # current imbalance: load moved from C to A by fraction (1700)
    "voltage_imbalance": ("fraction",),  # phase A's voltage up, C's down by fraction of it (1600)
    "reverse_sequence": (),     # 电压逆相序: status word 7 bit 0, event 14000001
    "reverse_polarity": ("phase",),  # reversed CT: negative current, energy to reverse (0002, 1B)
    "neighbour": (),            # of the neighbouring area: heard weaker, registers, not archived
    "cross_area": (),           # archived here, supplied by the neighbour transformer (跨台区)
    "module_reset": (),         # the area's carrier module resets at start (no meters: its slave
                                # archive and routes lost, 03F10 after boot, network formed again
                                # at end; plc_channel.module_faults)
    "ab_swapped": (),           # RS-485 A and B swapped at the meter: its replies arrive inverted
                                # (plc_channel.rs485), so it is never read
    "clock_battery": (),        # flat clock battery: supply lost from start to end, and at power-up
                                # the clock restarts from CLOCK_RESET_EPOCH
}
OPTIONAL_PARAMS = {"magnetic": ("factor",)}   # parameters a kind may leave at their default
SLOWING = ("slowed", "magnetic")   # kinds whose register runs at ``factor`` of the energy
FOREIGN = ("neighbour", "cross_area")   # kinds whose meter belongs to the neighbouring area
AREA_KINDS = ("module_reset",)  # kinds of the area itself (its carrier module), not of a meter
CLOCK_RESET_EPOCH = from_civil(2000, 1, 1)   # where a clock without battery restarts
SILENT = ("dead", "phantom")    # kinds whose meter and module say nothing while active
SWAP_BYTE = 0x90                # a swapped meter's new address: its top byte XOR this


class Fault:
    """One fault window ``[start, end)`` (``end`` None: until the end of the run)."""

    def __init__(self, kind, start, end=None, p=1.0, delay_s=0.0, seconds=0.0, fraction=0.0,
                 kwh=0.0, volts=0.0, phase=0, factor=1.0):
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(sorted(KINDS))))
        if end is not None and end < start:
            raise ValueError("fault %s ends before it starts" % kind)
        self.kind = kind
        self.start = float(start)
        self.end = None if end is None else float(end)
        self.p = float(p)
        self.delay_s = float(delay_s)
        self.seconds = float(seconds)
        self.fraction = float(fraction)
        self.kwh = float(kwh)
        self.volts = float(volts)
        if self.kwh < 0:
            raise ValueError("fault %s: kwh %r is negative" % (kind, kwh))
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError("fault %s: fraction %r outside 0..1" % (kind, fraction))
        self.factor = float(factor)
        if not 0.0 <= self.factor <= 1.0:
            raise ValueError("fault %s: factor %r outside 0..1" % (kind, factor))
        self.phase = int(phase)
        if not 0 <= self.phase <= 2:
            raise ValueError("fault %s: phase %r outside 0..2 (A..C)" % (kind, phase))

    def active(self, t):
        return self.start <= t and (self.end is None or t < self.end)

    def __repr__(self):
        return "Fault(%s, %s..%s)" % (self.kind, self.start, self.end)


def faults_from_spec(spec, count, seed, t0):
    """{meter index: [Fault]} from scenario entries.

    Each entry: ``kind``, ``meters`` (list of indices) or ``share`` (fraction of the population,
    drawn from the seed), ``start_h``/``end_h`` (hours after ``t0``) and the kind's parameters.
    """
    out = {}
    for n, entry in enumerate(spec):
        entry = dict(entry)
        kind = entry.pop("kind", None)
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(sorted(KINDS))))
        if kind in AREA_KINDS:
            continue                    # area_faults
        if "meters" in entry:
            chosen = [int(i) for i in entry.pop("meters")]
        else:
            share = float(entry.pop("share", 0.0))
            rng = random.Random("%s/faults/%d/%s" % (seed, n, kind))
            chosen = sorted(rng.sample(range(count), int(round(share * count))))
        start = t0 + 3600.0 * float(entry.pop("start_h", 0.0))
        end_h = entry.pop("end_h", None)
        end = None if end_h is None else t0 + 3600.0 * float(end_h)
        unknown = set(entry) - set(KINDS[kind])
        if unknown:
            raise ValueError("fault %s: unknown parameters %s" % (kind, ", ".join(sorted(unknown))))
        for i in chosen:
            if not 0 <= i < count:
                raise ValueError("fault %s: meter index %d outside 0..%d" % (kind, i, count - 1))
            out.setdefault(i, []).append(Fault(kind, start, end, **entry))
    return out


def area_faults(spec, t0, kind="module_reset"):
    """The area-wide faults of ``kind`` in scenario entries (``start_h`` hours after ``t0``)."""
    out = []
    for entry in spec:
        if entry.get("kind") == kind:
            end_h = entry.get("end_h")
            out.append(Fault(kind, t0 + 3600.0 * float(entry.get("start_h", 0.0)),
                             None if end_h is None else t0 + 3600.0 * float(end_h)))
    return sorted(out, key=lambda f: f.start)


class FaultyMeter:
    """A meter with a fault schedule; delegates everything else to the firmware meter."""

    def __init__(self, meter, faults, rng):
        self.meter = meter
        self.faults = sorted(faults, key=lambda f: f.start)
        self.rng = rng
        self._actions = self._schedule()
        self._now = None
        self.true_source = meter.source         # what the customer really draws
        self.old_addr = meter.addr
        self.aliases = [swapped_addr(meter.addr)] if self._kind("swapped") else []
        bypass = [f for f in self.faults if f.kind == "bypass"]
        if bypass:                      # the register (and the current it sees) misses a share
            meter.source = meter.ledger.source = Bypassed(meter.source, bypass)
        for f in self.faults:           # the measuring element reads low: power and register
            if f.kind in SLOWING and f.factor < 1.0:     # (one wrapper each: factors multiply)
                meter.source = meter.ledger.source = Slowed(meter.source, [f])
        stopped = [f for f in self.faults if f.kind == "stopped"]
        if stopped:                     # the register misses everything; the current is seen
            meter.ledger.source = Stopped(meter.ledger.source, stopped)
        if getattr(meter, "three_phase", None) is not None:
            _wire_phase_faults(meter, self.faults)
        supply = getattr(meter, "supply", None)
        for f in self.faults:
            if f.kind in ("undervoltage", "overvoltage") and supply is not None:
                supply.spells.append((f.start, f.end, f.volts))

    def _schedule(self):
        acts = []
        for f in self.faults:
            if f.kind == "clock_jump":
                acts.append((f.start, "jump", f))
            elif f.kind in ("register_backwards", "register_jump"):
                acts.append((f.start, "step", f))
            elif f.kind == "swapped":
                acts.append((f.start, "swap", f))
            elif f.kind in PHASE_KINDS:
                if getattr(self.meter, "three_phase", None) is None:
                    continue
                acts.append((f.start, "phase_on", f))
                if f.end is not None:
                    acts.append((f.end, "phase_off", f))
            elif f.kind in ("outage", "relay_stuck", "cover_open", "clock_battery", "magnetic"):
                acts.append((f.start, f.kind + "_on", f))
                if f.end is not None:
                    acts.append((f.end, f.kind + "_off", f))
        acts.sort(key=lambda a: a[0])
        return acts

    @property
    def addr(self):
        return self.meter.addr

    def __getattr__(self, name):
        return getattr(self.meter, name)

    def due(self, t):
        """Apply every scheduled state change up to ``t``."""
        self._now = t
        while self._actions and self._actions[0][0] <= t:
            at, what, f = self._actions.pop(0)
            m = self.meter
            if what == "jump":
                m.advance(at)
                m.clock.jump(at, f.seconds)
            elif what == "step":
                m.advance(at)
                have = m.ledger.at(at)[0] + m.base_kwh[0]
                m.ledger.step(at, f.kwh if f.kind == "register_jump" else -min(f.kwh, have))
            elif what == "swap":
                _replace(m, at, self.aliases[0])
            elif what in ("outage_on", "clock_battery_on"):
                m.power_down(at)
            elif what == "outage_off":
                m.power_up(at)
            elif what == "clock_battery_off":
                m.advance(at)
                m.clock.set(at, CLOCK_RESET_EPOCH)
                m.power_up(at)
            elif what == "relay_stuck_on":
                m.advance(at)
                m.relay.stuck = True
            elif what == "relay_stuck_off":
                m.advance(at)
                m.relay.stuck = False
            elif what == "cover_open_on":
                m.open_cover(at)
            elif what == "cover_open_off":
                m.close_cover(at)
            elif what == "magnetic_on":
                m.magnet_on(at)
            elif what == "magnetic_off":
                m.magnet_off(at)
            elif what in ("phase_on", "phase_off"):
                m.advance(at)
                phase_fault(m, f, at, what == "phase_on")

    def _kind(self, kind):
        return any(f.kind == kind for f in self.faults)

    def _silent(self, t):
        return any(self._active(kind, t) for kind in SILENT)

    def _active(self, kind, t):
        for f in self.faults:
            if f.kind == kind and f.active(t):
                return f
        return None

    def module_alive(self, t):
        """Whether the meter's carrier module can hear and relay at ``t``."""
        self.due(t)
        return self.meter.powered and not self._silent(t)

    @property
    def reply_delay(self):
        extra = 0.0
        if self._now is not None:
            slow = self._active("slow", self._now)
            extra = slow.delay_s if slow else 0.0
        return self.meter.reply_delay + extra

    def handle(self, request, t):
        decode = decode_frame if self.meter.front_end is None else decode_frame_698
        try:
            frame = decode(request)
        except ProtocolDecodeError:
            return None
        return self.handle_frame(frame, t)

    def handle_frame(self, frame, t):
        self.due(t)
        if self._silent(t):
            return None
        reply = self.meter.handle_frame(frame, t)
        if reply is None:
            return None
        f = self._active("intermittent", t)
        if f and self.rng.random() < f.p:
            return None
        f = self._active("wrong", t)
        if f and self.rng.random() < f.p:
            reply = _readdress(reply)
        f = self._active("garbled", t)
        if f and self.rng.random() < f.p:
            b = bytearray(reply)
            b[self.rng.randrange(len(b))] ^= 1 << self.rng.randrange(8)
            reply = bytes(b)
        return reply


class Bypassed:
    """A load seen through a bypass: ``fraction`` of the energy flows around the meter while a
    bypass window is active; the meter measures and registers only the rest."""

    def __init__(self, source, faults):
        self.source = source
        self.faults = faults
        self.tou = source.tou

    def power(self, t):
        f = _bypass_at(self.faults, t)
        return self.source.power(t) * (1.0 - f)

    def between(self, t0, t1):
        out = self.source.between(t0, t1)
        for f in self.faults:
            a, b = max(t0, f.start), t1 if f.end is None else min(t1, f.end)
            if b > a:
                gone = self.source.between(a, b)
                out = [out[i] - f.fraction * gone[i] for i in range(len(out))]
        return out

    def stolen(self, t0, t1):
        """kWh that bypassed the register over ``[t0, t1)`` while supplied throughout."""
        return sum(self.source.between(t0, t1)) - sum(self.between(t0, t1))


class Stopped:
    """A register that stands still while a ``stopped`` window is active: the load is drawn
    (and its current measured), none of its energy is registered."""

    def __init__(self, source, faults):
        self.source = source
        self.faults = faults
        self.tou = source.tou

    def power(self, t):
        return self.source.power(t)

    def between(self, t0, t1):
        out = self.source.between(t0, t1)
        for f in self.faults:
            a, b = max(t0, f.start), t1 if f.end is None else min(t1, f.end)
            if b > a:
                gone = self.source.between(a, b)
                out = [out[i] - gone[i] for i in range(len(out))]
        return out


class Slowed:
    """A register (and the power it measures) at ``factor`` of the load while a ``slowed`` or
    ``magnetic`` window is active: the customer draws it all, the meter sees a part."""

    def __init__(self, source, faults):
        self.source = source
        self.faults = faults
        self.tou = source.tou

    def power(self, t):
        p = self.source.power(t)
        for f in self.faults:
            if f.active(t):
                p *= f.factor
        return p

    def between(self, t0, t1):
        out = self.source.between(t0, t1)
        for f in self.faults:
            a, b = max(t0, f.start), t1 if f.end is None else min(t1, f.end)
            if b > a:
                gone = self.source.between(a, b)
                out = [out[i] - (1.0 - f.factor) * gone[i] for i in range(len(out))]
        return out


def _bypass_at(faults, t):
    return sum(f.fraction for f in faults if f.active(t))


def module_alive(meter, t):
    """Whether ``meter``'s carrier module works at ``t`` (a plain firmware meter: while powered)."""
    alive = getattr(meter, "module_alive", None)
    return alive(t) if alive is not None else meter.powered


def due(meter, t):
    """Apply ``meter``'s scheduled fault state changes up to ``t`` (a plain meter has none)."""
    if isinstance(meter, FaultyMeter):
        meter.due(t)


def true_source(meter):
    """The load a meter's customer really draws (a bypass takes part of it past the register)."""
    return meter.true_source if isinstance(meter, FaultyMeter) else meter.source


def firmware(meter):
    """The firmware meter itself, behind an optional ``FaultyMeter`` wrapper."""
    return meter.meter if isinstance(meter, FaultyMeter) else meter


def _readdress(reply):
    """The same reply as if a neighbour (address + 1 in the lowest byte) had sent it."""
    try:
        frame, encode = decode_frame(reply), encode_frame
    except ProtocolDecodeError:
        frame, encode = decode_frame_698(reply), encode_frame_698
    frame.addr = bytes([(frame.addr[0] + 1) & 0xFF]) + frame.addr[1:]
    return encode(frame)


def silent_windows(meter):
    """[(start, end)] of the windows in which ``meter``'s module is silent by its schedule
    (``dead``, ``phantom``, ``outage`` and ``clock_battery`` faults; ``end`` None: to the end of
    the run)."""
    faults = getattr(meter, "faults", None) or ()
    return [(f.start, f.end) for f in faults if f.kind in SILENT + ("outage", "clock_battery")]


def swapped_addr(addr):
    """The address (wire order) of the meter that replaces ``addr`` in a ``swapped`` fault."""
    return bytes(addr[:5]) + bytes([addr[5] ^ SWAP_BYTE])


def _replace(m, at, new_addr):
    """The meter in the box becomes a new one at ``at``: another address, registers, freezes
    and events from zero (the customer's load goes on)."""
    m.advance(at)
    m.ledger.reset(at)
    m.base_kwh = [0.0] * len(m.base_kwh)
    if m.wallet is not None:
        m.wallet.attach(m.ledger.at(at))
    c = m.clock.read(at)
    for book in (m.daily, m.settlements, m.instant):
        book.clear(c)
    m.events.clear()
    m.addr = new_addr
    m.meter_number = "".join("%02X" % b for b in reversed(new_addr))


def wiring_inverted(meter, t):
    """Whether ``meter``'s RS-485 pair is wired A/B swapped at ``t`` (an ``ab_swapped`` fault)."""
    return any(f.active(t) for f in faults_of(meter, "ab_swapped"))


def faults_of(meter, kind):
    """``meter``'s faults of ``kind`` (a plain meter has none)."""
    return [f for f in getattr(meter, "faults", None) or () if f.kind == kind]


def alive_by_schedule(meter, t):
    """Whether ``meter``'s module works at ``t`` by its fault schedule alone (no state touched)."""
    return not any(s <= t and (e is None or t < e) for s, e in silent_windows(meter))


PHASE_KINDS = ("phase_loss", "imbalance", "voltage_imbalance", "reverse_sequence",
               "reverse_polarity")
_FAMILY = {"imbalance": 0x17, "voltage_imbalance": 0x16, "reverse_sequence": 0x14,
           "reverse_polarity": 0x1B}


def _wire_phase_faults(meter, faults):
    """The registers of a three-phase meter: lost and reversed phases' shares leave the forward
    register; a reversed phase's share goes to the reverse register."""
    share = meter.three_phase.base
    gone = [(f.start, f.end, share[f.phase]) for f in faults
            if f.kind in ("phase_loss", "reverse_polarity")]
    if gone:
        meter.ledger.source = PhaseShare(meter.ledger.source, gone)
    rev = [(f.start, f.end, share[f.phase]) for f in faults if f.kind == "reverse_polarity"]
    if rev:
        meter.reverse = Reversed(meter.source, rev)
        meter.three_phase.reversed = [(f.start, f.end, f.phase) for f in faults
                                      if f.kind == "reverse_polarity"]


def phase_fault(m, f, at, on):
    """Apply (``on``) or clear a three-phase fault at ``at``, with the meter's event record."""
    tp = m.three_phase
    if f.kind == "phase_loss":
        if on:
            amps = abs(tp.currents(m, at)[f.phase])
            tp.lost[f.phase] = 0x10 if amps >= tp.threshold_a else 0x13   # 失压 / 断相
            tp.begin(m, tp.lost[f.phase], at, f.phase)
        elif f.phase in tp.lost:
            tp.end(m, tp.lost.pop(f.phase), at, f.phase)
        return
    phase = f.phase if f.kind == "reverse_polarity" else None
    if f.kind == "imbalance":
        tp.skew = f.fraction if on else 0.0
        if on and 2 * f.fraction / (1 + f.fraction) < IMBALANCE_EVENT:
            return
    elif f.kind == "voltage_imbalance":
        tp.volt_skew = f.fraction if on else 0.0
        if on and 2 * f.fraction / (1 + f.fraction) < VOLTAGE_IMBALANCE_EVENT:
            return
    elif f.kind == "reverse_sequence":
        tp.reverse_sequence = on
    if on:
        tp.begin(m, _FAMILY[f.kind], at, phase)
    else:
        tp.end(m, _FAMILY[f.kind], at, phase)


class PhaseShare:
    """A register that misses ``share`` of the load while a window ``(start, end, share)`` is
    active (a lost or reversed phase)."""

    def __init__(self, source, windows):
        self.source = source
        self.windows = windows
        self.tou = source.tou

    def power(self, t):
        return self.source.power(t)

    def between(self, t0, t1):
        out = self.source.between(t0, t1)
        for s, e, share in self.windows:
            a, b = max(t0, s), t1 if e is None else min(t1, e)
            if b > a:
                gone = self.source.between(a, b)
                out = [out[i] - share * gone[i] for i in range(len(out))]
        return out


class Reversed:
    """Reverse active energy of a reversed phase: ``share`` of the load while its window lasts."""

    def __init__(self, source, windows):
        self.source = source
        self.windows = windows
        self.tou = source.tou

    def between(self, t0, t1):
        out = [0.0] * len(self.source.between(t0, t0))
        for s, e, share in self.windows:
            a, b = max(t0, s), t1 if e is None else min(t1, e)
            if b > a:
                got = self.source.between(a, b)
                out = [out[i] + share * got[i] for i in range(len(out))]
        return out


def foreign(meter):
    """Whether ``meter`` is supplied by the neighbouring transformer (``neighbour``,
    ``cross_area``): not one of this area's customers."""
    return any(faults_of(meter, kind) for kind in FOREIGN)
