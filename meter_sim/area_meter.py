"""The area meter (台区总表): a three-phase, CT-connected meter at the transformer whose energy is
what the area's customers really draw plus the technical losses of the low-voltage network.

Loss model (docs/lineloss.md): ``loss_kw = fixed_kw + k_per_kw * P**2`` with ``P`` the customers'
true total demand (kW) at that instant. Both are piecewise constant between hour boundaries and
the customers' supply changes (relay, outage), so the energy is integrated exactly, segment by
segment, and cached per hour. A bypass (meter_sim.faults) takes energy past a customer's register
but not past the area meter: that difference is the theft a line-loss figure shows.
"""
from meter_sim.faults import due, firmware, true_source
from meter_sim.firmware import Meter
from meter_sim.firmware.load import DEFAULT_TOU, TARIFFS

HOUR = 3600.0
AREA_ADDR = "000099000001"       # printed address of the simulated area meter
DEFAULTS = {"ct_ratio": 120, "fixed_kw": 1.0, "k_per_kw": 1.5e-4, "addr": AREA_ADDR}


class AreaSupply:
    """Energy source of the area meter: primary kWh per tariff, seen through the CT (``ct_ratio``)."""

    def __init__(self, customers, t0, fixed_kw, k_per_kw, ct_ratio=1, tou=DEFAULT_TOU):
        if t0 % HOUR:
            raise ValueError("the area supply starts on an hour boundary")
        self.customers = list(customers)
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
        cuts = sorted(cuts)
        out = [0.0] * (TARIFFS + 2)
        tariff = self.tou[int((a % 86400) // HOUR)] - 1
        for s0, s1 in zip(cuts, cuts[1:]):
            mid = (s0 + s1) / 2.0
            p_true = p_reg = 0.0
            for m in self.customers:
                fw = firmware(m)
                if fw.ledger.consuming_at(mid):
                    p_true += true_source(m).power(mid)
                    p_reg += fw.source.power(mid)
            tech = self.fixed_kw + self.k_per_kw * p_true * p_true
            h = (s1 - s0) / HOUR
            out[tariff] += (p_true + tech) * h
            out[TARIFFS] += tech * h
            out[TARIFFS + 1] += (p_true - p_reg) * h
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

    def power(self, t):
        """Secondary kW at ``t``."""
        self._settle(t)
        p = sum(true_source(m).power(t) for m in self.customers
                if firmware(m).ledger.consuming_at(t))
        return (p + self.fixed_kw + self.k_per_kw * p * p) / self.ct_ratio


def build_area_meter(customers, t0, addr=AREA_ADDR, ct_ratio=120, fixed_kw=1.0, k_per_kw=1.5e-4,
                     base_kwh=(1200.0, 3400.0, 5100.0, 2600.0)):
    """The area meter of ``customers`` (firmware or fault-wrapped meters built from ``t0``)."""
    supply = AreaSupply(customers, t0, fixed_kw, k_per_kw, ct_ratio)
    m = Meter(addr, t0, supply, base_kwh=list(base_kwh), reply_delay=0.05)
    m.kind = "area"
    m.phases = 3
    m.ct_ratio = supply.ct_ratio
    return m
