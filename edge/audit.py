"""The audit upstream (错抄漏抄): validation flags raise the standard 1376.1 events, and the
missed-reading list of a day.

A flagged daily freeze raises ERC27 (register backwards), ERC28 (over-difference: a jump beyond
``jump_margin``) or ERC29 (flying: beyond ``flying_margin``); a clock check beyond the limit
begins an ERC12 spell and the first good check after it ends it; a real-time read flagged
stopped begins an ERC30 spell, the first moving read ends it. Each event is a reading of task
``audit_event`` keyed by meter, ERC and occurrence, so the store's unique key makes raising it
idempotent; the uplink sends it as an AFN0E F1 record. The flagged freeze itself never goes
up as F161 (``Store._settled``): 1376.1 has no quality mark in F161, so the ERC stands for it.
"""
import copy
import logging

from protocols.civil import DAY, from_civil, iso, to_civil
from protocols.gdw1376_1 import erc as E
from protocols.gdw1376_1.formats import time_a15

from edge import area_ident, missed_causes, module_reset
from edge import validate as V
from edge.store import Reading

TASK = "audit_event"
FREEZE, CLOCK, REALTIME = "daily_freeze", "clock", "realtime"
QUARTER_H = 900.0
log = logging.getLogger(__name__)


def limits_of_f59(limits, f59):
    """``limits`` with the master's AFN04 F59 thresholds (电能表异常判别阈值) in place of the
    configured ones: over-difference and flying margins, stopped time, clock limit; 0 turns
    that check off (as terminals do)."""
    out = copy.copy(limits)
    off = float("inf")
    out.jump_margin = f59.get("over_difference") or off         # (None: EE, not given)
    out.flying_margin = f59.get("flying") or off
    out.stopped_s = (f59.get("stopped_15min") or 0) * QUARTER_H or off
    out.clock_s = float(f59.get("clock_s") or 0) or off
    return out


def raise_events(store, limits, readings, wall):
    """The event readings ``readings`` raise (before they are committed), none twice."""
    out = []
    for r in readings:
        if r.task == FREEZE and r.quality == "invalid" and isinstance(r.value, dict):
            out += _freeze_events(store, limits, r, wall)
        elif r.task == CLOCK and isinstance(r.value, dict):
            out += _spell(store, r, V.CLOCK, 12, {}, wall, r.period)
        elif r.task == REALTIME and isinstance(r.value, dict) and r.value.get("kwh"):
            since = r.value.get("still_since")
            extra = {"reading": r.value["kwh"][0],
                     "threshold_15min": int(min(255, limits.stopped_s // QUARTER_H))}
            out += _spell(store, r, V.STOPPED, 30, extra, wall,
                          iso(since) if since is not None else r.period)
    for e in out:
        log.info("meter %s: ERC%d %s (%s)", e.addr, e.di, "began" if e.value["began"] else
                 "ended", e.period)
    return out


def _freeze_events(store, limits, r, wall):
    y, m, d = int(r.period[:4]), int(r.period[5:7]), int(r.period[8:10])
    prev = store.good(r.addr, FREEZE, iso(from_civil(y, m, d) - DAY)[:10])
    if prev is None or not isinstance(prev.value, dict) or not prev.value.get("kwh"):
        return []
    before, after = prev.value["kwh"][0], r.value["kwh"][0]
    at = r.value.get("at") or r.read_at
    out = []
    for flag, code, threshold in ((V.BACKWARDS, 27, None), (V.JUMP, 28, limits.jump_margin),
                                  (V.FLYING, 29, limits.flying_margin)):
        if flag in r.flags:
            value = {"erc": code, "at": at, "day": r.period, "began": True, "before": before,
                     "after": after}
            if threshold is not None:
                value["threshold"] = round(min(9.9, threshold), 1)
            out.append(Reading(r.addr, TASK, code, "freeze:" + r.period, value, "ok", (), wall))
    return out


def _spell(store, r, flag, code, extra, wall, began_key):
    """ERC ``code`` began when ``flag`` appears on ``r`` and was not on the reading before,
    ended when it was and ``r`` is a good reading without it."""
    prev = store.latest(r.addr, r.task, before=r.period)
    was = prev is not None and flag in prev.flags
    now = flag in r.flags
    if now and not was:
        key = "began:" + began_key
    elif was and not now and r.quality == "ok":
        key = "ended:" + r.period
    else:
        return []
    value = dict(extra, erc=code, at=r.read_at, day=iso(r.read_at)[:10], began=now)
    return [Reading(r.addr, TASK, code, key, value, "ok", (), wall)]


def record(value, pn):
    """The typed 1376.1 record of an event reading's ``value`` at measuring point ``pn``."""
    code = value["erc"]
    if code == 35:
        from edge.swaps import record as unknown_meter
        return unknown_meter(value, pn)
    if code == 13:
        from edge.outages import record as meter_fault
        return meter_fault(value, pn)
    fields = {"at": time_a15(to_civil(value["at"])), "pn": pn, "began": bool(value["began"])}
    if code in (27, 28, 29):
        fields.update(before=value["before"], after=value["after"])
        if code != 27:
            fields["threshold"] = value["threshold"]
    elif code == 30:
        fields.update(reading=value["reading"], threshold_15min=value["threshold_15min"])
    elif code == 24:
        fields.update(flags=value["flags"], ua=value["ua"])
    elif code in (9, 10, 11, 17):
        from edge.pq_phases import record_fields
        fields.update(record_fields(value))
    return E.RECORDS[code](**fields)


def events(store, day=None):
    """Event readings raised so far (of ``day``: a freeze of that day, a spell's edge on that
    day), oldest first."""
    out = []
    for r in store.readings(task=TASK):
        if day is None or r.value.get("day") == day:
            out.append(r)
    return sorted(out, key=lambda r: (r.value["at"], r.addr, r.di))


def missed(store, archive, day, points=None, window=None):
    """The missed-reading list of ``day``: every archived meter with no good daily freeze for it,
    with what the store holds instead (a flagged value: 错抄; a failed read or nothing: 漏抄)
    and its cause (``edge.missed_causes``; ``window``: the freeze window's offset_s and
    deadline_h). A meter the module reported as another area's (``edge.area_ident``) is not ours
    to read: it is listed by `gridedge areaid`, not here."""
    got = store.read_addrs(FREEZE, day)
    foreign = area_ident.foreign_set(store)
    out = []
    for m in archive.meters.values():
        if m.addr in got or m.addr in foreign:
            continue
        rs = store.readings(addr=m.addr, task=FREEZE, period=day)
        r = rs[-1] if rs else None
        out.append({"addr": m.addr, "point": (points or {}).get(m.addr),
                    "quality": r.quality if r else "not_read",
                    "flags": list(r.flags) if r else [],
                    "kind": "wrong" if r is not None and r.quality == "invalid" else "missed"})
    return missed_causes.explain(store, archive, day, out, *(window or ()))


def _next(day):
    return from_civil(int(day[:4]), int(day[5:7]), int(day[8:10])) + DAY


def summary(store, archive, day, points=None, settings=None):
    """The day's audit as a plain dict: missed readings with their causes (judged on the freeze
    window of ``settings``, default 00:05..06:00), the day's module resets, the events raised."""
    if points is None:
        from edge.uplink import points_of
        archive = archive.with_changes(*store.archive_changes())   # the master's edits too
        points = {a: p for p, a in points_of(archive).items()}
    window = None if settings is None else (settings.freeze_offset_s, settings.freeze_deadline_h)
    listed = missed(store, archive, day, points, window)
    return {"day": day, "meters": len(archive.meters), "missed": listed,
            "missed_causes": missed_causes.counts(listed),
            "module_resets": [module_reset.printed(w) for w in module_reset.windows(store)
                              if iso(w["at"])[:10] in (day, iso(_next(day))[:10])],
            "events": [dict(r.value, addr=r.addr, at=iso(r.value["at"])) for r in
                       events(store, day)]}
