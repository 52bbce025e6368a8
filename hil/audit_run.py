"""The audit upstream's KPIs in a scenario: the ERC events the agent raised against the events the
scenario's faults truly cause, and each day's missed-reading list against the truth.

Truth from the fault schedule and the meters' true registers (never from the agent): a
``register_backwards`` or ``register_jump`` day whose true register total fell -> ERC27, rose by
more than ``jump_margin`` (``flying_margin``) times a day at ``max_kw`` -> ERC28 (ERC29); ``stopped`` lasting ``stopped_s`` with real-time
reads on -> ERC30; ``clock_jump`` beyond ``clock_s`` -> ERC12. A day's freeze is truly missing
for a meter dead through the freeze window, and truly wrong for a register step on that day.
Figures: ``audit_events_true``, ``audit_events_found`` (true events raised), ``audit_events_false``
(raised with no such fault), ``audit_event_recall`` and ``missed_list_errors`` (meters in the
agent's list and not in the truth, or the other way round, summed over the days).
"""
from edge import audit
from meter_sim.faults import FaultyMeter
from protocols.civil import DAY, from_civil, midnight

DAY_H = 24.0
CODES = (12, 27, 28, 29, 30)        # the audit's own events (ERC24 is hil/pq_run.py's)


def empty():
    return {"audit_events_true": 0, "audit_events_found": 0, "audit_events_false": 0,
            "audit_event_recall": None, "missed_list_errors": 0, "audit": None}


def _faults(area):
    for m in area.meters:
        if isinstance(m, FaultyMeter):
            for f in m.faults:
                yield m, f


def _step_erc(meter, f, lim):
    """The ERC a register step truly causes on its day's freeze (None: within the limits)."""
    d0 = midnight(f.start)
    delta = meter.meter.energy(d0 + DAY) - meter.meter.energy(d0)
    ratio = delta / (lim.max_kw * DAY_H)
    if delta < 0:
        return 27
    if ratio > max(lim.flying_margin, lim.jump_margin):
        return 29
    return 28 if ratio > lim.jump_margin else None


def true_events(area, settings, end):
    """{(printed address, ERC)} the faults cause before ``end``."""
    lim = settings.limits
    out = set()
    for m, f in _faults(area):
        addr = m.addr[::-1].hex()
        if f.start >= end:
            continue
        if f.kind in ("register_backwards", "register_jump"):
            code = _step_erc(m, f, lim)
            if code is not None and midnight(f.start) + DAY + settings.freeze_offset_s < end:
                out.add((addr, code))
        elif f.kind == "stopped" and settings.realtime_s:
            stop = end if f.end is None else min(end, f.end)
            if stop - f.start >= lim.stopped_s + settings.realtime_s:
                out.add((addr, 30))
        elif f.kind == "clock_jump" and abs(f.seconds) > lim.clock_s:
            out.add((addr, 12))
    return out


def true_missed(area, settings, day):
    """Printed addresses with no good freeze possible for ``day`` (YYYY-MM-DD)."""
    d0 = from_civil(int(day[:4]), int(day[5:7]), int(day[8:10]))
    begin = d0 + DAY + settings.freeze_offset_s
    deadline = d0 + DAY + 3600.0 * settings.freeze_deadline_h
    out = set()
    lim = settings.limits
    for m, f in _faults(area):
        addr = m.addr[::-1].hex()
        if f.kind == "dead" and f.start <= begin and (f.end is None or f.end >= deadline):
            out.add(addr)
        elif f.kind in ("register_backwards", "register_jump") and d0 <= f.start < d0 + DAY \
                and _step_erc(m, f, lim) is not None:
            out.add(addr)
    return out


def report(store, area, archive, settings, days, end):
    """The audit figures of a run whose freeze days are ``days`` (YYYY-MM-DD)."""
    truth = true_events(area, settings, end)
    raised = {(r.addr, r.di) for r in audit.events(store) if r.value["began"]
              and r.di in CODES}
    found = truth & raised
    ours = {m.addr[::-1].hex() for m in area.meters}
    per_day, errors = [], 0
    for day in days:
        listed = {m["addr"] for m in audit.missed(store, archive, day) if m["addr"] in ours}
        want = true_missed(area, settings, day)
        errors += len(listed ^ want)
        per_day.append({"day": day, "missed": sorted(listed), "truth": sorted(want)})
    return {"audit_events_true": len(truth), "audit_events_found": len(found),
            "audit_events_false": len(raised - truth),
            "audit_event_recall": round(len(found) / len(truth), 4) if truth else None,
            "missed_list_errors": errors,
            "audit": {"events": sorted("%s/ERC%d" % e for e in raised),
                      "not_raised": sorted("%s/ERC%d" % e for e in truth - raised),
                      "days": per_day}}
