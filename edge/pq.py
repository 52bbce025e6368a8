"""Supply voltage quality (电压合格率) from the real-time reads: ERC24 spells and day statistics.

A real-time read whose voltage leaves ``[voltage_lower_v, voltage_upper_v]`` (``[tasks.limits]``)
begins an ERC24 spell (under or over), the first read back inside ends it; each edge is an event
reading of ``audit.TASK`` (idempotent by its key) that the uplink sends as an AFN0E record. A
meter's day statistics are the share of its samples within the band, the maximum and minimum with
their times and the minutes over and under (each sample counts ``sample_s``); they are stored as a
``voltage_day`` reading when the meter's first read of the next day comes in.
"""
import logging

from protocols.civil import iso, parse_local

from edge.store import Reading

TASK = "voltage_day"
REALTIME = "realtime"
CURVE = "voltage_curve"             # edge.jobs.VoltageCurve: the samples without real-time reads
ERC_TASK = "audit_event"            # edge.audit.TASK (not imported: audit imports this module)
DI_VOLTAGE = 0x02010100
PHASE_A, OVER, UNDER = 0x01, 0x40, 0x80     # ERC24 flags: D0 phase A; D7..D6 01 over, 10 under
log = logging.getLogger(__name__)


def volts_of(reading):
    """The phase-A voltage a real-time reading carries, or None."""
    v = reading.value.get("voltage") if isinstance(reading.value, dict) else None
    if isinstance(v, (list, tuple)):
        v = v[0] if v else None
    return float(v) if isinstance(v, (int, float)) else None


def state(volts, limits):
    """'over', 'under' or None (within the band) for a voltage."""
    if volts is None:
        return None
    if volts > limits.voltage_upper_v:
        return "over"
    return "under" if volts < limits.voltage_lower_v else None


def _previous(store, addr, before):
    prev = store.latest(addr, REALTIME, before=before)
    for _ in range(8):
        if prev is None or volts_of(prev) is not None:
            return prev
        prev = store.latest(addr, REALTIME, before=prev.period)
    return None


def raise_events(store, limits, readings, wall, sample_s, curve_step_s=900.0):
    """ERC24 edges and closed days' statistics the real-time ``readings`` bring (uncommitted)."""
    out = []
    for r in readings:
        if r.task == CURVE and r.quality == "ok":
            prev = store.latest(r.addr, CURVE, before=r.period)
            if prev is not None and prev.period[:10] < r.period[:10]:
                s = day_stats(store, r.addr, prev.period[:10], limits, sample_s, curve_step_s)
                if s is not None:
                    out.append(Reading(r.addr, TASK, DI_VOLTAGE, prev.period[:10], s, "ok", (),
                                       wall))
            continue
        if r.task != REALTIME:
            continue
        v = volts_of(r)
        if v is None:
            continue
        prev = _previous(store, r.addr, r.period)
        was = state(volts_of(prev), limits) if prev is not None else None
        now = state(v, limits)
        if was is not None and was != now:
            out.append(_erc(r, was, False, v, "ended:" + r.period, wall))
        if now is not None and now != was:
            out.append(_erc(r, now, True, v, "began:" + r.period, wall))
        if prev is not None and prev.period[:10] < r.period[:10]:
            day = prev.period[:10]
            s = day_stats(store, r.addr, day, limits, sample_s, curve_step_s)
            if s is not None:
                out.append(Reading(r.addr, TASK, DI_VOLTAGE, day, s, "ok", (), wall))
    for e in out:
        if e.task == ERC_TASK:
            log.info("meter %s: ERC24 %s %s (%s V)", e.addr, e.value["kind"],
                     "began" if e.value["began"] else "ended", e.value["ua"])
    return out


def _erc(r, kind, began, volts, key, wall):
    value = {"erc": 24, "at": r.read_at, "day": iso(r.read_at)[:10], "began": began,
             "kind": kind, "flags": PHASE_A | (OVER if kind == "over" else UNDER),
             "ua": round(volts, 1)}
    return Reading(r.addr, ERC_TASK, 24, key, value, "ok", (), wall)


def _curve_samples(store, addr, day, step_s):
    out = []
    for r in store.readings(addr=addr, task=CURVE):
        if r.quality != "ok" or not isinstance(r.value, dict) or not r.value.get("start"):
            continue
        t0 = parse_local(r.value["start"])
        for k, v in enumerate(r.value.get("values") or []):
            t = t0 + k * step_s
            if v is not None and iso(t)[:10] == day:
                out.append((t, float(v)))
    return sorted(set(out))


def day_stats(store, addr, day, limits, sample_s, curve_step_s=900.0):
    """The day's voltage statistics of ``addr`` (YYYY-MM-DD) from its real-time reads (from its
    voltage curve when it has none), or None."""
    samples, others = [], ([], [])
    for r in store.readings(addr=addr, task=REALTIME):
        if r.period[:10] == day:
            v = volts_of(r)
            if v is not None:
                samples.append((r.read_at, v))
            ph = r.value.get("phases") if isinstance(r.value, dict) else None
            volts = ph.get("voltage") if isinstance(ph, dict) else None
            if isinstance(volts, list) and len(volts) == 3:
                for k in (1, 2):
                    if isinstance(volts[k], (int, float)):
                        others[k - 1].append((r.read_at, float(volts[k])))
    source = "realtime"
    if not samples:
        samples, sample_s, source = _curve_samples(store, addr, day, curve_step_s), curve_step_s, \
            "curve"
    if not samples:
        return None
    out = _stats(samples, limits, sample_s, source)
    phases = dict((ph, _stats(s, limits, sample_s, source)) for ph, s in zip("bc", others) if s)
    if phases:
        out["phases"] = phases
    return out


def _stats(samples, limits, sample_s, source):
    samples.sort()
    states = [state(v, limits) for _, v in samples]
    hi = max(samples, key=lambda s: s[1])
    lo = min(samples, key=lambda s: s[1])
    minutes = sample_s / 60.0
    return {"samples": len(samples), "source": source, "mean_v": round(sum(v for _, v in samples) / len(samples), 1), "rate": round(states.count(None) / len(samples), 4),
            "over_min": round(states.count("over") * minutes, 1),
            "under_min": round(states.count("under") * minutes, 1),
            "ok_min": round(states.count(None) * minutes, 1),
            "max_v": hi[1], "max_at": hi[0], "min_v": lo[1], "min_at": lo[0],
            "lower_v": limits.voltage_lower_v, "upper_v": limits.voltage_upper_v}


def summary(store, limits, day, sample_s, addrs=None, curve_step_s=900.0):
    """Every meter's statistics of ``day``: the stored ones, the others computed from the reads
    so far (``stored`` False), as plain dicts with ISO times."""
    stored = {r.addr: r.value for r in store.readings(task=TASK, period=day)}
    if addrs is None:
        addrs = sorted({r.addr for r in store.readings(task=REALTIME) if r.period[:10] == day}
                       | set(stored))
    out = []
    for a in addrs:
        s = stored.get(a)
        live = s is None
        if live:
            s = day_stats(store, a, day, limits, sample_s, curve_step_s)
        if s is not None:
            m = dict(s, addr=a, stored=not live, max_at=iso(s["max_at"]),
                     min_at=iso(s["min_at"]))
            if s.get("phases"):
                m["phases"] = dict((ph, dict(p, max_at=iso(p["max_at"]), min_at=iso(p["min_at"])))
                                   for ph, p in s["phases"].items())
            out.append(m)
    from edge.pq_phases import alarms
    return {"day": day, "meters": out, "alarms": alarms(store, day, set(addrs))}


def day_report(store, archive, settings, day):
    """``summary`` of ``day`` for the archived meters, each with its measuring point."""
    from edge.uplink import points_of
    archive = archive.with_changes(*store.archive_changes())   # the master's edits too
    points = {a: p for p, a in points_of(archive).items()}
    out = summary(store, settings.limits, day, float(settings.realtime_s or 900),
                  sorted(archive.meters), 60.0 * settings.curve_interval_min)
    for m in out["meters"]:
        m["point"] = points.get(m["addr"])
    out["lower_v"], out["upper_v"] = settings.limits.voltage_lower_v, settings.limits.voltage_upper_v
    return out


NO_MINUTES = 0xEEEE                 # a BIN field with no data (phases B and C of a 1-phase meter)
MINUTES = ("over_upper_upper_min", "under_lower_lower_min", "over_upper_min", "under_lower_min",
           "ok_min")


def f27_value(stats):
    """The AFN0D F27 fields (protocols.gdw1376_1.catalog.VOLTAGE_STATS, phase A) of a stored
    day; one band serves as both the alarm (upper-upper) and the qualification (upper) limit."""
    from protocols.civil import to_civil
    out = {"%s_%s" % (ph, k): NO_MINUTES for ph in "abc" for k in MINUTES}
    if not stats:
        return out
    _fill(out, "a", stats, to_civil)
    for ph, s in (stats.get("phases") or {}).items():
        _fill(out, ph, s, to_civil)
    return out


def _fill(out, ph, stats, to_civil, cap=0xFFFF):
    over, under = min(cap, int(round(stats["over_min"]))), min(cap, int(round(stats["under_min"])))
    out.update({ph + "_over_upper_upper_min": over, ph + "_over_upper_min": over,
                ph + "_under_lower_lower_min": under, ph + "_under_lower_min": under,
                ph + "_ok_min": min(cap, int(round(stats["ok_min"])))})
    for k in ("max", "min"):
        c = to_civil(stats[k + "_at"])
        out["%s_%s_v" % (ph, k)], out["%s_%s_at" % (ph, k)] = stats[k + "_v"], (c[4], c[3], c[2])
    total = stats["over_min"] + stats["under_min"] + stats["ok_min"]
    out[ph + "_ok_rate"] = round(100.0 * stats["rate"], 3)
    out[ph + "_over_rate"] = round(100.0 * stats["over_min"] / total, 3) if total else None
    out[ph + "_under_rate"] = round(100.0 * stats["under_min"] / total, 3) if total else None
    if "mean_v" in stats:
        out[ph + "_mean_v"] = stats["mean_v"]


def month_stats(store, addr, month):
    """The month's (YYYY-MM) voltage statistics of ``addr`` from its stored days (AFN0D F35:
    minutes summed, the month's max and min, the mean weighted by samples), or None."""
    days = [r.value for r in store.readings(addr=addr, task=TASK)
            if r.period[:7] == month and r.quality == "ok" and isinstance(r.value, dict)]
    if not days:
        return None
    out = _merge(days)
    phases = {}
    for ph in "bc":
        got = [d["phases"][ph] for d in days if ph in (d.get("phases") or {})]
        if got:
            phases[ph] = _merge(got)
    if phases:
        out["phases"] = phases
    out["days"] = len(days)
    return out


def _merge(days):
    n = sum(d["samples"] for d in days)
    hi = max(days, key=lambda d: d["max_v"])
    lo = min(days, key=lambda d: d["min_v"])
    out = {"samples": n, "over_min": sum(d["over_min"] for d in days),
           "under_min": sum(d["under_min"] for d in days),
           "ok_min": sum(d["ok_min"] for d in days),
           "max_v": hi["max_v"], "max_at": hi["max_at"], "min_v": lo["min_v"],
           "min_at": lo["min_at"]}
    total = out["over_min"] + out["under_min"] + out["ok_min"]
    out["rate"] = round(out["ok_min"] / total, 4) if total else 0.0
    if all("mean_v" in d for d in days) and n:
        out["mean_v"] = round(sum(d["mean_v"] * d["samples"] for d in days) / n, 1)
    return out


def month_report(store, archive, settings, month):
    """Each archived meter's statistics of ``month`` (YYYY-MM, AFN0D F35) from its stored days,
    with its measuring point, and the month's three-phase alarms."""
    from edge.uplink import points_of
    from edge.pq_phases import alarms
    archive = archive.with_changes(*store.archive_changes())
    points = {a: p for p, a in points_of(archive).items()}
    out = []
    for a in sorted(archive.meters):
        s = month_stats(store, a, month)
        if s is not None:
            m = dict(s, addr=a, point=points.get(a), max_at=iso(s["max_at"]),
                     min_at=iso(s["min_at"]))
            if s.get("phases"):
                m["phases"] = dict((ph, dict(p, max_at=iso(p["max_at"]), min_at=iso(p["min_at"])))
                                   for ph, p in s["phases"].items())
            out.append(m)
    got = [x for x in alarms(store, None, set(archive.meters)) if x["day"][:7] == month]
    return {"month": month, "meters": out, "alarms": got,
            "lower_v": settings.limits.voltage_lower_v, "upper_v": settings.limits.voltage_upper_v}
