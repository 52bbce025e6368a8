"""Which class 2 uploads the master's report tasks let go now (Q/GDW 1376.1 AFN04 F66 + F68).

With no class 2 task started the terminal uploads every class 2 unit as it is ready (the
default). Once a task is started (F68 55H), a class 2 unit goes only when a started task names
its item and point and one of the task's report instants (base time + k periods) has come at
or after the time its data are for (a daily freeze: the midnight it was frozen at; a monthly
one: the first of the month after; a curve: its start): data read after the instant go at
once, data of a later day wait for the next instant. The rest wait in the store, for a pull.
Class 3 (events) is not governed by tasks. ``due_clauses`` says the same of the store's backlog
as SQL, so that not-yet-due readings at its front never hold back due ones behind them.
"""
import json

from protocols.civil import DAY, from_civil, iso, to_civil
from protocols.gdw1376_1.catalog import AFN_CLASS2
from protocols.gdw1376_1.dadt import ALL_POINTS
from protocols.gdw1376_1.params import TASK_START, civil_of_a1

STEP_S = {"min": 60.0, "hour": 3600.0, "day": 86400.0}


def last_instant(task, now):
    """The latest report instant of ``task`` not after ``now`` (None: none yet)."""
    base = from_civil(*civil_of_a1(task["base"]))
    if now < base:
        return None
    n = task["period"]
    if task["unit"] in STEP_S:
        step = STEP_S[task["unit"]] * n
        return base + ((now - base) // step) * step
    y, m = to_civil(base)[:2]
    ny, nm = to_civil(now)[:2]
    months = ((ny - y) * 12 + nm - m) // n * n
    while months >= 0:
        yy, mm = y + (m - 1 + months) // 12, (m - 1 + months) % 12 + 1
        c = to_civil(base)
        try:
            t = from_civil(yy, mm, c[2], c[3], c[4], c[5])
        except ValueError:          # the base day is not in that month
            t = None
        if t is not None and t <= now:
            return t
        months -= n
    return None


def started(params):
    """The class 2 tasks started: [(task value)] from F66 definitions with F68 = 55H."""
    out = []
    for (fn, pn), value in params.all(66).items():
        switch = params.get(68, pn)
        if switch is not None and switch["switch"] == TASK_START:
            out.append(value)
    return out


def _names(task, fn, pn):
    return any(fn in fns and (pns == [ALL_POINTS] or pn in pns) for pns, fns in task["items"])


def data_time(unit):
    """The time a class 2 unit's data are for (Td_d: the next midnight, Td_m: the next month's
    first, Td_c: the curve's start); None when it names none."""
    v = unit.value if isinstance(unit.value, dict) else {}
    td = v.get("td")
    if td is not None and len(td) == 3:
        return from_civil(2000 + td[2], td[1], td[0]) + DAY
    if td is not None and len(td) == 2:
        y, m = 2000 + td[1], td[0]
        return from_civil(y + m // 12, m % 12 + 1, 1)
    start = v.get("start")
    if start is not None:
        mm, hh, dd, mo, yy = start
        return from_civil(2000 + yy, mo, dd, hh, mm)
    return None


def due(tasks, unit, now):
    """Whether ``unit`` may go up at ``now`` under the started ``tasks``."""
    if not tasks or unit.afn != AFN_CLASS2:
        return True
    at = data_time(unit)
    for task in tasks:
        if _names(task, unit.fn, unit.pn):
            t = last_instant(task, now)
            if t is not None and (at is None or t >= at):
                return True
    return False


# the store's upload tasks whose class 2 unit tasks govern (AFN0D item of each)
GOVERNED = {161: "daily_freeze", 177: "settlement", 101: "load_curve"}


def _cutoff(fn, t):
    """The period text below which the data of item ``fn`` are due at report instant ``t``
    (periods: ``YYYY-MM-DD`` days, ``YYYY-MM`` months, ``YYYY-MM-DD hh:mm:ss`` curve starts)."""
    if fn == 161:                    # frozen at the midnight after the day: the day before t's
        return iso(t)[:10]
    if fn == 177:                    # the first of the month after: a month before t's
        return iso(t)[:7]
    return iso(t - t % 60 + 60)[:16]     # a curve from its start minute on


def due_clauses(tasks, now, points, ungoverned):
    """[(SQL condition, args, index)] on ``reading`` rows still to go upstream: a row ``due``
    lets go at ``now`` under the started ``tasks`` meets one of them (given ``points``
    {pn: addr}); ``ungoverned``: the tasks that go whenever ready (events; curves when none can
    be carried). Each names the partial index (``edge.store``) it is read by, in id order."""
    out = []
    if ungoverned:
        out.append(("task IN (%s)" % ",".join("?" * len(ungoverned)), list(ungoverned),
                    "reading_backlog"))
    for task in tasks:
        t = last_instant(task, now)
        if t is None:
            continue
        for pns, fns in task["items"]:
            for fn in fns:
                if fn not in GOVERNED or GOVERNED[fn] in ungoverned:
                    continue
                if pns == [ALL_POINTS]:
                    out.append(("task = ? AND period < ?", [GOVERNED[fn], _cutoff(fn, t)],
                                "reading_backlog"))   # in id order: old ones are due
                else:
                    addrs = json.dumps([points[p] for p in pns if p in points])
                    out.append(("task = ? AND addr IN (SELECT value FROM json_each(?)) AND"
                                " period < ?", [GOVERNED[fn], addrs, _cutoff(fn, t)],
                                "reading_due_point"))
    return out
