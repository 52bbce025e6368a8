"""Price changes (调价) in the agent's own ledger: a tariff schedule with switch instants, and the
charge of a reading that spans a switch split at the registers of that very instant.

The split point comes from the meter (its switch-over freeze, or the load-curve point at the
instant); without one the reading is held, never charged by guessing how the energy fell on
either side. Money stays exact integer micro-yuan (``tariff``).
"""
import bisect

PENDING = "pending"         # a reading spans a switch whose registers are not known yet
SWITCH_TASK = "switch_freeze"   # edge.prepaid.jobs.SwitchFreeze readings, period: the switch


class Schedule:
    """Tariffs in force from given instants: ``[(from_t, tariff), ...]``, the first from -inf."""

    def __init__(self, first, changes=()):
        self.starts = []
        self.tariffs = [first]
        for at, tariff in sorted(changes, key=lambda c: c[0]):
            if self.starts and at == self.starts[-1]:
                raise ValueError("two price changes at %r" % (at,))
            self.starts.append(at)
            self.tariffs.append(tariff)

    def at(self, t):
        """The tariff that bills energy used just before ``t`` (a switch at ``t`` bills after)."""
        return self.tariffs[bisect.bisect_left(self.starts, t)]

    def switches(self, after, upto):
        """Switch instants in (after, upto)."""
        lo = bisect.bisect_right(self.starts, after)
        hi = bisect.bisect_left(self.starts, upto)
        return self.starts[lo:hi]


def charge(account, kwh, at, schedule, splits=None):
    """Charge ``account`` for the reading ``kwh`` at ``at`` under ``schedule``; ``splits`` maps a
    switch instant to the registers (kWh) the meter recorded at it. Returns the cost in
    micro-yuan, None (a reading not newer or going backwards, as ``Account.charge``), or PENDING:
    the reading spans a switch whose registers are missing, so nothing is charged yet."""
    splits = splits or {}
    if account.regs is None or account.regs_at is None:
        return account.charge(kwh, at, schedule.at(at))
    crossed = schedule.switches(account.regs_at, at)
    if any(s not in splits for s in crossed):
        return PENDING
    snapshot = (account.balance, account.regs, account.regs_at, account.year, account.annual)
    total = 0
    for s in crossed:
        cost = account.charge(splits[s], s, schedule.at(s))
        if cost is None:                       # a split that contradicts the registers
            account.balance, account.regs, account.regs_at, account.year, account.annual = snapshot
            return None
        total += cost
    cost = account.charge(kwh, at, schedule.at(at))
    if cost is None:
        account.balance, account.regs, account.regs_at, account.year, account.annual = snapshot
        return None
    return total + cost


def split_registers(store, addr, at, last_regs, tou, curve_step_s=None):
    """The registers (kWh: total, tariff 1..4) of ``addr`` at the switch instant ``at`` from
    its stored readings, or None: the meter's switch-over freeze stamped ``at``, else the daily
    freeze of that midnight, else the load-curve point at ``at`` (total only: usable when no
    tariff on either side is time-of-use, the tariff registers then stay at ``last_regs``,
    0.01 kWh, which nothing bills)."""
    from protocols.civil import DAY, iso, parse_local
    for r in store.readings(addr, SWITCH_TASK, iso(at)):
        regs = _freeze_at(r, at, parse_local)
        if regs is not None:
            return regs
    if at % DAY == 0:
        for r in store.readings(addr, "daily_freeze", iso(at - DAY)[:10]):
            regs = _freeze_at(r, at, parse_local)
            if regs is not None:
                return regs
    if tou or last_regs is None:
        return None
    for r in store.readings(addr, "load_curve"):
        v = r.value or {}
        if r.quality != "ok" or not v.get("start") or not curve_step_s:
            continue
        k, rest = divmod(at - parse_local(v["start"]), curve_step_s)
        points = v.get("values") or []
        if not rest and 0 <= k < len(points) and points[int(k)] is not None:
            return [points[int(k)]] + [c / 100.0 for c in last_regs[1:]]
    return None


def _freeze_at(reading, at, parse_local):
    """A freeze reading's registers when it is good and stamped exactly ``at``, else None."""
    v = reading.value or {}
    if reading.quality == "ok" and v.get("time") and parse_local(v["time"]) == at \
            and v.get("kwh") and None not in v["kwh"]:
        return list(v["kwh"])
    return None
