"""Line loss per area per day (台区日线损) from the daily freezes, and anomaly hints.

supplied = the area meter's day (freeze of the day minus the day before, x CT ratio); sold = the
sum of the customers' days; rate = (supplied - sold) / supplied. A customer without both good
freezes is counted as missing and makes the day ``incomplete`` (no rate): nothing is estimated, so
a missed reading never fakes a loss. Hints (loss above the threshold, a step over the recent
median) list candidates ranked by evidence (edge.lineloss_evidence): customers whose consumption
fell when the loss rose and the meters' own recent events (cover opened, magnetic field, reverse
energy, phase loss), the most kinds of evidence first, then the deepest fall (those whose register
stopped altogether after those still registering).
A hint is a list to look at, never an accusation. docs/lineloss.md has the model.
"""
import json
import logging

from protocols.civil import DAY, iso, parse_local
from edge import lineloss_evidence as E
from edge.schema import INHERIT, Bool, Float, Int, Section
from edge.store import transaction

log = logging.getLogger(__name__)
TASK = "daily_freeze"
COMPLETE, INCOMPLETE, NO_SUPPLY = "complete", "incomplete", "no_supply"
ABOVE, STEP = "above_threshold", "step_change"
FELL, STOPPED, COVER = E.FELL, E.STOPPED, E.COVER   # STOPPED: a relay trip or an empty home too
MAGNETIC, REVERSE, PHASE_LOSS = E.MAGNETIC, E.REVERSE, E.PHASE_LOSS
COVER_RECORD = E.RECORDS[COVER]     # DL/T 645-2007: the last cover-open record (开表盖, start first)
MAGNETIC_RECORD = E.RECORDS[MAGNETIC]   # ... the last constant-magnetic-field record (恒定磁场干扰)
PROBED = ("cover_open", "magnetic")   # the event families read after a hint (edge.jobs.LastEvent)
SCHEMA = """
CREATE TABLE IF NOT EXISTS line_loss (
    period TEXT PRIMARY KEY, supplied_kwh REAL, sold_kwh REAL, loss_kwh REAL, rate REAL,
    customers INTEGER NOT NULL, missing INTEGER NOT NULL, status TEXT NOT NULL,
    computed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS line_loss_hint (
    period TEXT PRIMARY KEY, reasons TEXT NOT NULL, rate REAL NOT NULL, baseline REAL,
    onset TEXT NOT NULL, candidates TEXT NOT NULL, computed_at REAL NOT NULL);
"""
_ROW = ("period", "supplied_kwh", "sold_kwh", "loss_kwh", "rate", "customers", "missing",
        "status", "computed_at")


class LineLossPolicy:
    """When a day's loss is a hint and who is named in it (``[tasks.lineloss]``)."""

    def __init__(self, threshold=0.10, step=0.0025, history_days=7, min_history=2, drop=0.4,
                 min_kwh=1.0, max_candidates=10, cover_days=7, day_types=True):
        self.threshold = threshold
        self.step = step
        self.history_days = history_days
        self.min_history = min_history
        self.drop = drop
        self.min_kwh = min_kwh
        self.max_candidates = max_candidates
        self.cover_days = cover_days
        self.day_types = day_types


LINELOSS = Section("tasks.lineloss", "Line loss per day and its hints (edge.lineloss).", [
    Float("threshold", INHERIT, 0, 1, "", "a day's loss rate above this is a hint"),
    Float("step", INHERIT, 0, 1, "", "... and so is a rise of this over the recent median"),
    Int("history_days", INHERIT, 1, 60, "days", "complete days the median is taken over"),
    Int("min_history", INHERIT, 1, 60, "days", "complete days needed before a step is judged"),
    Float("drop", INHERIT, 0, 1, "", "a candidate's consumption fell by at least this share"),
    Float("min_kwh", INHERIT, 0, 1e6, "kWh", "... from a daily median of at least this"),
    Int("max_candidates", INHERIT, 1, 1000, "meters", "candidates named in a hint"),
    Int("cover_days", INHERIT, 0, 366, "days", "a meter's event (cover opened, magnetic field, "
        "reverse energy, phase loss) this long before the onset or later is evidence"),
    Bool("day_types", INHERIT, doc="a day is compared with days of its own type (weekday or "
         "weekend: the median and each customer's usual day), so a weekend dip is no step"),
], target=LineLossPolicy)


def ensure(store):
    """Create the line-loss tables in the agent's store (idempotent)."""
    store.db.executescript(SCHEMA)


def area_meters(archive):
    """(area meters, customer meters) of the archive, by ``role``."""
    area = [m for m in archive.meters.values() if m.extra.get("role") == "area"]
    return area, [m for m in archive.meters.values() if m.extra.get("role") != "area"]


def _day_before(period, n=1):
    return iso(parse_local(period + " 00:00") - n * DAY)[:10]


def _totals(store, periods):
    """addr -> period -> forward active total (kWh) of the good, unflagged daily freezes."""
    marks = ",".join("?" * len(periods))
    out = {}
    for addr, period, value in store.db.execute(
            "SELECT addr, period, value FROM reading WHERE task=? AND quality='ok' AND flags=''"
            " AND period IN (%s)" % marks, [TASK] + list(periods)):
        kwh = json.loads(value).get("kwh")
        if kwh:
            out.setdefault(addr, {})[period] = kwh[0]
    return out


def _day(totals, meter, period):
    """Primary kWh ``meter`` used on ``period`` (None: a freeze missing or going backwards)."""
    got = totals.get(meter.addr, {})
    a, b = got.get(_day_before(period)), got.get(period)
    if a is None or b is None or b < a:
        return None
    return (b - a) * meter.extra.get("ct_ratio", 1)


def close_day(store, archive, period, policy, at):
    """Compute, store and return the line loss of ``period`` (None: no area meter archived);
    a hint is stored beside it when the day calls for one."""
    area, customers = area_meters(archive)
    if not area:
        return None
    ensure(store)
    back = [_day_before(period, n) for n in range(policy.history_days + 2)]
    totals = _totals(store, [period] + back)
    supplies = [_day(totals, m, period) for m in area]
    supplied = None if None in supplies else sum(supplies)
    days = {m.addr: _day(totals, m, period) for m in customers}
    got = [v for v in days.values() if v is not None]
    sold = sum(got)
    missing = len(customers) - len(got)
    status = NO_SUPPLY if supplied is None else INCOMPLETE if missing else COMPLETE
    rate = (supplied - sold) / supplied if status == COMPLETE and supplied > 0 else None
    row = (period, supplied, sold, None if rate is None else supplied - sold, rate,
           len(customers), missing, status, at)
    with transaction(store.db):
        store.db.execute("INSERT OR REPLACE INTO line_loss VALUES (?,?,?,?,?,?,?,?,?)", row)
    out = dict(zip(_ROW, row))
    log.info("line loss %s: %s, rate %s, %d of %d customers missing", period, status,
             "-" if rate is None else "%.4f" % rate, missing, len(customers))
    if rate is not None:
        out["hint"] = _hint(store, customers, totals, period, rate, supplied, policy, at)
    return out


def _hint(store, customers, totals, period, rate, supplied, policy, at):
    """A step carries on while it lasts: from its first day (``onset``) the baseline and each
    customer's usual day are those of the days before it, and a candidate fell on every day since."""
    complete = [r for r in rows(store) if r["rate"] is not None]
    prev = [h for h in hints(store) if h["period"] == _day_before(period) and STEP in h["reasons"]]
    onset = prev[0]["onset"] if prev else period

    earlier = [r for r in complete if r["period"] < onset]

    def before_of(day):                 # the complete days before the onset of ``day``'s type
        kind = day_type(day, policy)
        return [r for r in earlier if day_type(r["period"], policy) == kind][-policy.history_days:]
    before = before_of(period)
    since = [r["period"] for r in complete if onset <= r["period"] < period] + [period]
    if len(before) >= policy.min_history and (policy.day_types or not prev):
        baseline = _median([r["rate"] for r in before])
    else:                               # a step carries on through a day type without history
        baseline = prev[0]["baseline"] if prev else None
    # a customer's usual day: of the same type, else of any type (a first weekend)
    judged_by = {p: before_of(p) or earlier[-policy.history_days:] for p in since}
    before = judged_by[period]
    reasons = [ABOVE] if rate > policy.threshold else []
    if baseline is not None and rate - baseline > policy.step:
        reasons.append(STEP)
    if not reasons:
        with transaction(store.db):
            store.db.execute("DELETE FROM line_loss_hint WHERE period = ?", (period,))
        return None
    if STEP not in reasons:
        onset, since = period, [period]
    rise = None if baseline is None else (rate - baseline) * supplied
    events = E.found(store, [m.addr for m in customers], _day_before(onset, policy.cover_days))
    ranked = []
    for m in customers:
        today = _day(totals, m, period)
        usual = _usual(totals, m, before)
        if today is None or usual is None:
            continue
        days = [(v, _usual(totals, m, judged_by[p])) for v, p in
                ((_day(totals, m, p), p) for p in since) if v is not None]
        fell = usual >= policy.min_kwh and all(u is not None and v <= u * (1.0 - policy.drop)
                                               for v, u in days)
        seen = events.get(m.addr, {})
        if not fell and not seen:
            continue                    # a meter's own event names it even without a fall
        c = {"addr": m.addr, "usual_kwh": round(usual, 2), "day_kwh": round(today, 2),
             "fell_kwh": round(usual - today, 2),
             "fell_share": round(1.0 - today / usual, 3) if usual > 0 else 0.0,
             "share_of_rise": None if not rise else round((usual - today) / rise, 3),
             "evidence": ([FELL if today > 0 else STOPPED] if fell else []) + E.rank(seen)}
        c.update(seen)                  # each event evidence's time, under its name
        ranked.append(c)
    ranked.sort(key=lambda c: (-len(c["evidence"]), STOPPED in c["evidence"], -c["fell_share"],
                               -c["fell_kwh"], c["addr"]))
    ranked = ranked[:policy.max_candidates]
    with transaction(store.db):
        store.db.execute("INSERT OR REPLACE INTO line_loss_hint VALUES (?,?,?,?,?,?,?)",
                         (period, ",".join(reasons), rate, baseline, onset, json.dumps(ranked), at))
    log.warning("line loss %s: %.4f (%s since %s), %d candidates to look at", period, rate,
                ", ".join(reasons), onset, len(ranked))
    return {"period": period, "reasons": reasons, "rate": rate, "baseline": baseline,
            "onset": onset, "candidates": ranked, "computed_at": at}


def day_type(period, policy):
    """``weekend`` or ``weekday`` of a ``YYYY-MM-DD`` day (one type when ``day_types`` is off)."""
    if not policy.day_types:
        return "day"
    monday0 = (int(parse_local(period[:10] + " 00:00") // DAY) + 3) % 7    # 1970-01-01: Thu
    return "weekend" if monday0 >= 5 else "weekday"


def _usual(totals, meter, days):
    """The median of ``meter``'s consumption over the rows ``days`` (None: none read)."""
    got = [v for v in (_day(totals, meter, r["period"]) for r in days) if v is not None]
    return _median(got) if got else None


def probe(day):
    """Addresses whose last cover-open and magnetic-field records the agent reads after
    ``day``'s hint (the evidence joins the ranking from the next day's hint on)."""
    hint = (day or {}).get("hint")
    return [c["addr"] for c in hint["candidates"]] if hint else []


def _median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def rows(store):
    """Every stored day of line loss, oldest first."""
    ensure(store)
    return [dict(zip(_ROW, r)) for r in store.db.execute(
        "SELECT %s FROM line_loss ORDER BY period" % ", ".join(_ROW))]


def hints(store):
    """Every stored hint, oldest first."""
    ensure(store)
    return [{"period": p, "reasons": reasons.split(","), "rate": rate, "baseline": base,
             "onset": onset, "candidates": json.loads(c), "computed_at": at}
            for p, reasons, rate, base, onset, c, at in store.db.execute(
                "SELECT period, reasons, rate, baseline, onset, candidates, computed_at FROM"
                " line_loss_hint ORDER BY period")]


def summary(store):
    """Every stored day and hint, as plain data (``gridedge lineloss``)."""
    return {"days": [dict(r, computed_at=iso(r["computed_at"])) for r in rows(store)],
            "hints": [dict(h, computed_at=iso(h["computed_at"])) for h in hints(store)]}


# --- per hour, where the curves allow -------------------------------------------------------
CURVE_TASKS = ("load_curve", "minute_curve")    # edge.jobs.LoadCurve, edge.minute.MinuteCurve
HOUR = 3600
HOURLY_SCHEMA = """
CREATE TABLE IF NOT EXISTS line_loss_hour (
    period TEXT PRIMARY KEY, supplied_kwh REAL, sold_kwh REAL, loss_kwh REAL, rate REAL,
    customers INTEGER NOT NULL, missing INTEGER NOT NULL, status TEXT NOT NULL,
    computed_at REAL NOT NULL);
"""


def _curve_points(store, addr, a, b, step_s):
    """{instant: kWh} of ``addr``'s good curve points read for slots in ``[a - 1 h, b]``."""
    lo, hi = iso(a - HOUR), iso(b + 1)
    out = {}
    for period, value in store.db.execute(
            "SELECT period, value FROM reading WHERE addr=? AND task IN (?,?) AND quality='ok'"
            " AND flags='' AND period >= ? AND period < ?", (addr,) + CURVE_TASKS + (lo, hi)):
        v = json.loads(value)
        step = (v or {}).get("step_s") or step_s
        if not isinstance(v, dict) or not step:
            continue
        t0 = parse_local(period[:16])
        for k, x in enumerate(v.get("values") or ()):
            if x is not None:
                out[t0 + k * step] = x
    return out


def _hour_use(pts, meter, a):
    """Primary kWh ``meter`` used in the hour from ``a`` (None: a point missing or backwards)."""
    x, y = pts.get(a), pts.get(a + HOUR)
    if x is None or y is None or y < x:
        return None
    return (y - x) * meter.extra.get("ct_ratio", 1)


def close_hours(store, archive, day, step_s, at):
    """Compute, store and return the 24 hours of ``day`` from the curve points (the load curve
    at ``step_s``, minute slots at their own): an hour is complete only when the area meter and
    every customer have both its points; a missing point is counted, never estimated."""
    area, customers = area_meters(archive)
    if not area:
        return None
    store.db.executescript(HOURLY_SCHEMA)
    t0 = parse_local(day + " 00:00")
    pts = {m.addr: _curve_points(store, m.addr, t0, t0 + DAY, step_s) for m in area + customers}
    out = []
    for h in range(24):
        a = t0 + h * HOUR
        supplies = [_hour_use(pts[m.addr], m, a) for m in area]
        supplied = None if None in supplies else sum(supplies)
        used = [_hour_use(pts[m.addr], m, a) for m in customers]
        got = [v for v in used if v is not None]
        missing = len(customers) - len(got)
        status = NO_SUPPLY if supplied is None else INCOMPLETE if missing else COMPLETE
        sold = sum(got)
        rate = (supplied - sold) / supplied if status == COMPLETE and supplied > 0 else None
        out.append((iso(a)[:16], supplied, sold, None if rate is None else supplied - sold, rate,
                    len(customers), missing, status, at))
    with transaction(store.db):
        store.db.executemany("INSERT OR REPLACE INTO line_loss_hour VALUES (?,?,?,?,?,?,?,?,?)",
                             out)
    log.info("line loss by hour %s: %d of 24 complete", day,
             sum(1 for r in out if r[7] == COMPLETE))
    return [dict(zip(_ROW, r)) for r in out]


def hour_rows(store, day=None):
    """Every stored hour of line loss (of ``day`` only when given), oldest first."""
    store.db.executescript(HOURLY_SCHEMA)
    sql, args = "SELECT %s FROM line_loss_hour" % ", ".join(_ROW), ()
    if day:
        sql, args = sql + " WHERE period LIKE ?", (day + "%",)
    return [dict(zip(_ROW, r)) for r in store.db.execute(sql + " ORDER BY period", args)]


def hourly_summary(store, day=None):
    """The stored hours as plain data (``gridedge lineloss --hourly``)."""
    return {"hours": [dict(r, computed_at=iso(r["computed_at"])) for r in hour_rows(store, day)]}
