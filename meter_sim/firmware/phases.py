"""A three-phase meter's phases: how its load splits over A/B/C, what a wiring fault does to each
phase's voltage, current and power, and the event records a 645-2007 meter keeps of them.

Faults (set by meter_sim.faults): ``lost`` phases read ~0 V while their load current flows (失压;
断相 when that current is below the meter's threshold) and register nothing; ``skew`` f moves load from
phase C to A (shares (1+f)/3, 1/3, (1-f)/3: imbalance (max - min) / max = 2f / (1+f)); ``volt_skew``
f raises phase A's voltage and lowers C's by f of it (the same degree, 电压不平衡);
``reverse_sequence`` sets status word 7 bit 0 (电压逆相序); ``reversed`` phases carry a
negative current and power and their energy goes to the reverse register (反向有功).
"""
from protocols.dlt645 import di as DI

PHASES = 3
LOST_V = 0.8                    # what a phase with no voltage reads (the meter's noise floor)
CURRENT_THRESHOLD_A = 0.25      # the meter's own 断相/失流 current threshold
IMBALANCE_EVENT = 0.3           # its current imbalance event threshold ((max - min) / max)
VOLTAGE_IMBALANCE_EVENT = 0.3   # its voltage imbalance one (电压不平衡率限值 04090501, 30.00 %)


class ThreePhase:
    """Per-phase state of one meter: load shares, the faults active now and their events."""

    def __init__(self, shares=(1.0 / 3, 1.0 / 3, 1.0 / 3), supplies=None):
        self.base = tuple(float(s) for s in shares)
        self.supplies = supplies          # one voltage model per phase (meter_sim.supply) or None
        self.lost = {}                    # phase -> open event record
        self.reversed = []                # [(start, end or None, phase)]
        self.skew = 0.0
        self.volt_skew = 0.0
        self.reverse_sequence = False
        self._open = {}                   # family -> open record
        self.threshold_a = CURRENT_THRESHOLD_A

    def shares(self):
        if not self.skew:
            return self.base
        f = self.skew
        return (self.base[0] * (1 + f), self.base[1], self.base[2] * (1 - f))

    def reversed_at(self, t):
        return [ph for s, e, ph in self.reversed if s <= t and (e is None or t < e)]

    def voltages(self, meter, t):
        """[Ua, Ub, Uc] (V) at ``t``."""
        out = []
        kw = meter.power(t) / PHASES
        for k in range(PHASES):
            if not meter.powered:
                out.append(0.0)
            elif k in self.lost:
                out.append(LOST_V)
            elif self.supplies is not None:
                out.append(self.supplies[k].volts(t, kw))
            else:
                out.append(meter.supply_voltage - 0.8 * kw)
        f = self.volt_skew
        if f and meter.powered:
            for k, sign in ((0, 1.0), (2, -1.0)):
                if k not in self.lost:
                    out[k] *= 1.0 + sign * f
        return out

    def currents(self, meter, t):
        """[Ia, Ib, Ic] (A, negative on a reversed phase) the load draws at ``t``."""
        p = meter.source.power(t) if meter.ledger.consuming_at(t) else 0.0
        rev = self.reversed_at(t)
        out = []
        for k, share in enumerate(self.shares()):
            amps = p * share * 1000.0 / (meter.nominal_voltage * meter.power_factor)
            out.append(-amps if k in rev else amps)
        return out

    def powers(self, meter, t):
        """[P total, Pa, Pb, Pc] (kW) the meter measures: none on a lost phase."""
        p = meter.power(t)
        rev = self.reversed_at(t)
        per = []
        for k, share in enumerate(self.shares()):
            v = 0.0 if k in self.lost else p * share
            per.append(-v if k in rev else v)
        return [sum(per)] + per

    def registered_share(self, t):
        """The share of the load the forward register sees (lost and reversed phases excluded)."""
        rev = self.reversed_at(t)
        return sum(s for k, s in enumerate(self.shares()) if k not in self.lost and k not in rev)

    def status_word_7(self):
        return 1 if self.reverse_sequence else 0

    # --- events (645-2007 families 10/13 per phase, 14, 16, 17, 1B per phase) -----------------
    def begin(self, meter, family, t, phase=None):
        key = (family, phase)
        if key not in self._open:
            c = meter.clock.read(t)
            self._open[key] = meter.events.add(event_base(family, phase), [c, None, t, None])
        return self._open[key]

    def end(self, meter, family, t, phase=None):
        rec = self._open.pop((family, phase), None)
        if rec is not None:
            rec[1], rec[3] = meter.clock.read(t), t


def event_base(family, phase=None):
    """The EventLog key of a family (``DI.PHASE_EVENTS``) and phase (0..2, None: all phases)."""
    return (family << 24) | ((0 if phase is None else phase + 1) << 16)


def event_value(meter, di, t):
    """The value of a three-phase event DI (count, minutes, start or end of the n-th record),
    or None when ``di`` is not one."""
    fam = DI.phase_event(di)
    if fam is None:
        return None
    family, phase, field, n = fam
    base = event_base(family, phase)
    if field == "count":
        return meter.events.count(base)
    if field == "minutes":
        total = 0.0
        for rec in meter.events.records.get(base, []):
            total += max(0.0, (t if rec[3] is None else rec[3]) - rec[2])
        return int(total // 60)
    rec = meter.events.get(base, n)
    if rec is None:
        return None
    return rec[0] if field == "start" else rec[1]
