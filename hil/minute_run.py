"""Minute-level collection in a scenario run: the simulated meters of the agent's minute groups
get that curve interval (as the field sets it when a meter joins a group), and the report
measures the slots the agent holds against every slot it should hold, and the daily-freeze read
rate of the group meters against the rest of the same run (the minute reads must not starve it)."""
from meter_sim.faults import firmware
from protocols.civil import iso, midnight

from edge.minute import TASK, points


def members(archive, policy):
    """Printed address -> curve interval (min) of every meter a minute group selects."""
    out = {}
    for addr, rec in archive.meters.items():
        g = policy.group_of(rec)
        if g is not None:
            out[addr] = g.interval_min
    return out


def configure(area, archive, policy):
    """Set each group meter's own curve interval (the meters answer curves at it)."""
    chosen = members(archive, policy)
    for m in area.meters:
        minutes = chosen.get(m.addr[::-1].hex())
        if minutes is not None:
            firmware(m).curve_interval = 60 * minutes
    return chosen


def expected_slots(policy, start, end):
    """Starts of the slots whose read window closed inside ``[start, end]``."""
    every = policy.every_min * 60.0
    deadline = policy.deadline_h * 3600.0
    b = midnight(start) + -(-(start - midnight(start)) // every) * every + every
    out = []
    while b + deadline <= end:
        out.append(b - every)
        b += every
    return out


CLOCK_SLACK_S = 120.0          # a time sync after the read moves a meter's clock by up to ~30 s


def true_point(meter, c, shift=0.0):
    """The meter's own forward-active total (kWh) at its clock instant ``c`` (its curve point),
    as its clock maps it now (``shift`` seconds later)."""
    fw = firmware(meter)
    t = fw.clock.true_time(c) + shift
    return round(sum(e + b for e, b in zip(fw.ledger.at(t), fw.base_kwh)), 2)


def wrong_point(meter, c, value):
    """Whether ``value`` is no register of the meter within ``CLOCK_SLACK_S`` of its instant
    ``c`` (the registers only rise; 0.01 kWh of rounding)."""
    lo = true_point(meter, c, -CLOCK_SLACK_S)
    hi = true_point(meter, c, CLOCK_SLACK_S)
    return not lo - 0.011 <= value <= hi + 0.011


def report(store, archive, policy, start, end, freeze_periods, meters=()):
    """``minute``: completeness of the group meters' slots (points held of points due), points
    held that are no register of the meter near that instant (``wrong_point``; ``meters``: the
    simulated ones), and the daily read rate of group meters and of the others, from the store
    at the end of the run."""
    by_addr = {m.addr[::-1].hex(): m for m in meters}
    chosen = members(archive, policy)
    if not chosen:
        return {"minute": None}
    every = policy.every_min * 60.0
    slots = expected_slots(policy, start, end)
    due = held = 0
    by_interval = {}
    backfilled = wrong = 0
    for addr, minutes in sorted(chosen.items()):
        readings = store.readings(addr=addr, task=TASK)
        backfilled += sum(1 for r in readings if r.quality == "ok"
                          and isinstance(r.value, dict) and r.value.get("backfilled"))
        got = points(readings)
        step = 60 * minutes
        want = [s + k * step for s in slots for k in range(int(every // step))]
        n = sum(1 for t in want if t in got)
        sim = by_addr.get(addr)
        if sim is not None:
            wrong += sum(1 for t in want if t in got and wrong_point(sim, t, got[t]))
        due += len(want)
        held += n
        row = by_interval.setdefault(str(minutes), [0, 0, 0])
        row[0] += 1
        row[1] += len(want)
        row[2] += n
    group, rest = _freeze_rates(store, archive, chosen, freeze_periods)
    return {"minute": {
        "meters": len(chosen), "slots": len(slots), "points_due": due, "points_held": held,
        "completeness": round(held / due, 6) if due else None,
        "by_interval": {k: {"meters": m, "points_due": d,
                            "completeness": round(h / d, 6) if d else None}
                        for k, (m, d, h) in sorted(by_interval.items(), key=lambda i: int(i[0]))},
        "backfilled_slots": backfilled, "wrong_points": wrong,
        "freeze_read_rate_group": group, "freeze_read_rate_rest": rest,
        "freeze_margin": None if group is None or rest is None else round(group - rest, 6),
        "first_slot": iso(slots[0])[:16] if slots else None}}


def _freeze_rates(store, archive, chosen, periods):
    """(read rate of the group meters, of the other customers) over the freeze periods."""
    counts = {True: [0, 0], False: [0, 0]}
    customers = [a for a, r in archive.meters.items() if r.extra.get("role") != "area"]
    for period in periods:
        got = store.read_addrs("daily_freeze", period)
        for a in customers:
            c = counts[a in chosen]
            c[0] += 1
            c[1] += a in got
    return tuple(round(c[1] / c[0], 6) if c[0] else None for c in (counts[True], counts[False]))


def merge(reports):
    """The fleet's ``minute``: points summed over the areas, the worst area's freeze margin."""
    rows = [r.get("minute") for r in reports if r.get("minute")]
    if not rows:
        return {"minute": None}
    due = sum(m["points_due"] for m in rows)
    held = sum(m["points_held"] for m in rows)
    margins = [m["freeze_margin"] for m in rows]
    return {"minute": {
        "meters": sum(m["meters"] for m in rows), "points_due": due, "points_held": held,
        "completeness": round(held / due, 6) if due else None,
        "wrong_points": sum(m["wrong_points"] for m in rows),
        "backfilled_slots": sum(m["backfilled_slots"] for m in rows),
        "freeze_margin": None if None in margins else min(margins)}}
