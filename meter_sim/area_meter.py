"""The area meter (台区总表): a three-phase, CT-connected meter at the transformer whose energy is
what the area's customers really draw plus the technical losses of the low-voltage network.

Loss model (docs/lineloss.md): ``loss_kw = fixed_kw + k_per_kw * P**2`` with ``P`` the customers'
true total demand (kW) at that instant. Both are piecewise constant between hour boundaries and
the customers' supply changes (relay, outage), so the energy is integrated exactly, segment by
segment, and cached per hour. A bypass (meter_sim.faults) takes energy past a customer's register
but not past the area meter: that difference is the theft a line-loss figure shows; so does
what a slowed, a stopped register or a lost or reversed phase leaves out of the forward
register (``stolen_kwh``: energy drawn and not sold, whatever the cause).
"""
from meter_sim.faults import SLOWING, due, firmware, true_source
from meter_sim.firmware import Meter
from meter_sim.firmware.load import DEFAULT_TOU, TARIFFS
from meter_sim.firmware.phases import ThreePhase
from meter_sim.supply import SupplyModel

HOUR = 3600.0
AREA_ADDR = "000099000001"       # printed address of the simulated area meter
MEASURING = ("bypass",) + SLOWING   # fault kinds that change the power a register sees
# fault kinds whose register misses load the meter measures (a stopped register; a lost or a
# reversed phase of a three-phase meter: the forward register, which sold energy is read from)
REGISTERING = ("stopped", "phase_loss", "reverse_polarity")
DEFAULTS = {"ct_ratio": 120, "fixed_kw": 1.0, "k_per_kw": 1.5e-4, "addr": AREA_ADDR}


class AreaSupply:
    """Energy source of the area meter: primary kWh per tariff, seen through the CT (``ct_ratio``)."""

    def __init__(self, customers, t0, fixed_kw, k_per_kw, ct_ratio=1, tou=DEFAULT_TOU):
        if t0 % HOUR:
            raise ValueError("the area supply starts on an hour boundary")
        self.customers = list(customers)
        self._registering = set(m for m in self.customers if any(
            f.kind in REGISTERING for f in getattr(m, "faults", None) or ()))
        self.t0 = float(t0)
        self.fixed_kw = float(fixed_kw)
        self.k_per_kw = float(k_per_kw)
        self.ct_ratio = int(ct_ratio)
        self.tou = tuple(tou)
        # cumulative [kWh per tariff..., technical kWh, stolen kWh] at each hour from t0
        self._cum = [[0.0] * (TARIFFS + 2)]
        self._settled = self.t0

    def _settle(self, t):
        """Bring every customer's relay, supply and faults up to ``t`` (their past is then final)."""
        if t > self._settled:
            for m in self.customers:
                due(m, t)
                firmware(m).advance(t)
            self._settled = t

    def _segment(self, a, b):
        """[kWh per tariff, technical, stolen] over ``[a, b)`` (within one hour)."""
        cuts = {a, b}
        for m in self.customers:
            for mark in firmware(m).ledger._marks:
                if a < mark[0] < b:
                    cuts.add(mark[0])
            for f in getattr(m, "faults", None) or ():   # what the register sees changes there
                if f.kind in MEASURING or f.kind in REGISTERING:
                    cuts.update(x for x in (f.start, f.end) if x is not None and a < x < b)
        cuts = sorted(cuts)
        out = [0.0] * (TARIFFS + 2)
        tariff = self.tou[int((a % 86400) // HOUR)] - 1
        for s0, s1 in zip(cuts, cuts[1:]):
            mid = (s0 + s1) / 2.0
            p_true = p_reg = missed = 0.0
            for m in self.customers:
                fw = firmware(m)
                if fw.ledger.consuming_at(mid):
                    p_true += true_source(m).power(mid)
                    p_reg += fw.source.power(mid)
                    if m in self._registering:
                        missed += sum(fw.source.between(s0, s1)) - sum(
                            fw.ledger.source.between(s0, s1))
            tech = self.fixed_kw + self.k_per_kw * p_true * p_true
            h = (s1 - s0) / HOUR
            out[tariff] += (p_true + tech) * h
            out[TARIFFS] += tech * h
            out[TARIFFS + 1] += (p_true - p_reg) * h + missed
        return out

    def cumulative(self, t):
        """[primary kWh per tariff..., technical kWh, stolen kWh] from t0 to ``t``."""
        if t <= self.t0:
            return [0.0] * (TARIFFS + 2)
        self._settle(t)
        k = int((t - self.t0) // HOUR)
        while len(self._cum) <= k:
            a = self.t0 + HOUR * (len(self._cum) - 1)
            seg = self._segment(a, a + HOUR)
            self._cum.append([x + y for x, y in zip(self._cum[-1], seg)])
        start = self.t0 + HOUR * k
        row = list(self._cum[k])
        if t > start:
            row = [x + y for x, y in zip(row, self._segment(start, t))]
        return row

    def truth(self, a, b):
        """Ground truth over ``[a, b)``: supplied, technical and stolen kWh (primary)."""
        x, y = self.cumulative(a), self.cumulative(b)
        d = [y[i] - x[i] for i in range(len(x))]
        return {"supplied_kwh": sum(d[:TARIFFS]), "technical_kwh": d[TARIFFS],
                "stolen_kwh": d[TARIFFS + 1]}

    # --- the source interface the firmware ledger uses (secondary kWh through the CT) ---------
    def between(self, t0, t1):
        if t1 <= t0:
            return [0.0] * TARIFFS
        x, y = self.cumulative(t0), self.cumulative(t1)
        return [(y[i] - x[i]) / self.ct_ratio for i in range(TARIFFS)]

    def phase_powers(self, t):
        """Secondary kW per phase at ``t``: each single-phase customer on its phase (``phase``
        0..2 where the area gives one, else its index mod 3), a three-phase one split by its
        shares, the technical losses evenly."""
        self._settle(t)
        out = [0.0, 0.0, 0.0]
        p = 0.0
        for k, m in enumerate(self.customers):
            fw = firmware(m)
            if not fw.ledger.consuming_at(t):
                continue
            kw = true_source(m).power(t)
            p += kw
            tp = getattr(fw, "three_phase", None)
            if tp is not None:
                for ph, share in enumerate(tp.base):
                    out[ph] += kw * share
            else:
                out[customer_phase(m, k)] += kw
        loss = (self.fixed_kw + self.k_per_kw * p * p) / 3.0
        return [(x + loss) / self.ct_ratio for x in out]

    def power(self, t):
        """Secondary kW at ``t``."""
        self._settle(t)
        p = sum(true_source(m).power(t) for m in self.customers
                if firmware(m).ledger.consuming_at(t))
        return (p + self.fixed_kw + self.k_per_kw * p * p) / self.ct_ratio


def customer_phase(meter, index):
    """The phase (0..2) a single-phase customer hangs on."""
    ph = getattr(firmware(meter), "phase", None)
    return ph if isinstance(ph, int) and 0 <= ph <= 2 else index % 3


class AreaPhases(ThreePhase):
    """The area meter's phases: the transformer's LV bus voltage on each (no feeder drop), the
    per-phase load of its customers through the CT."""

    def __init__(self, supply, key, source_v=230.0, noise_v=1.0):
        ThreePhase.__init__(self, supplies=[SupplyModel(key + "/" + ph, 0.0, source_v, 0.0, 0.0,
                                                        noise_v) for ph in "abc"])
        self.supply = supply

    def voltages(self, meter, t):
        return [s.volts(t, 0.0) if meter.powered else 0.0 for s in self.supplies]

    def powers(self, meter, t):
        per = self.supply.phase_powers(t)
        return [sum(per)] + per

    def currents(self, meter, t):
        volts = self.voltages(meter, t)
        return [p * 1000.0 / ((u or meter.nominal_voltage) * meter.power_factor)
                for p, u in zip(self.powers(meter, t)[1:], volts)]


def build_area_meter(customers, t0, addr=AREA_ADDR, ct_ratio=120, fixed_kw=1.0, k_per_kw=1.5e-4,
                     base_kwh=(1200.0, 3400.0, 5100.0, 2600.0)):
    """The area meter of ``customers`` (firmware or fault-wrapped meters built from ``t0``)."""
    supply = AreaSupply(customers, t0, fixed_kw, k_per_kw, ct_ratio)
    m = Meter(addr, t0, supply, base_kwh=list(base_kwh), reply_delay=0.05)
    m.kind = "area"
    m.phases = 3
    m.three_phase = AreaPhases(supply, "%s/area-volts" % addr)
    m.ct_ratio = supply.ct_ratio
    return m
