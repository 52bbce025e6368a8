"""The terminal's own parameters as the master sets them (Q/GDW 1376.1 AFN04 F1, F3, F33,
F65-F68) and its clock offset (AFN05 F31): checked, kept in the store, journaled, idempotent.

A set that names a value already held changes nothing and journals nothing; a changed value is
written with the frame's time label and journaled (``event_log`` kind ``param_set`` /
``clock_set``) in the same transaction. The clock offset is what AFN05 F31 moved the terminal's
clock by; ``TerminalClock`` adds it to the runtime's clock, so it survives a restart.
"""
import json

from protocols.gdw1376_1.catalog import AFN_CLASS1, AFN_CLASS2, layout
from protocols.civil import from_civil
from protocols.gdw1376_1.params import PERIOD_UNITS, TASK_START, TASK_STOP, civil_of_a1

from edge.store import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS terminal_param (
    fn INTEGER NOT NULL, pn INTEGER NOT NULL, value TEXT NOT NULL, set_at REAL, label TEXT,
    PRIMARY KEY (fn, pn));
CREATE TABLE IF NOT EXISTS terminal_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1), offset_s REAL NOT NULL, set_at REAL, label TEXT);
CREATE TABLE IF NOT EXISTS terminal_alive (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL);
"""
ALIVE_EVERY_S = 60.0               # the terminal notes it is running this often
POWER_TASK = "terminal_power"      # a reading of the terminal's own power off/on (ERC14)
PARAM_TASK = "terminal_param"      # a reading of a parameter set by the master (ERC3)
SERVED = (1, 3, 33, 59, 65, 66, 67, 68)
TASK_ITEMS = {65: AFN_CLASS1, 66: AFN_CLASS2, 67: 65, 68: 66}     # F67/F68 switch F65/F66
MAX_TASK = 64
MAX_CLOCK_STEP_S = 366 * 86400.0


class ParamError(ValueError):
    """A parameter the terminal does not take (the whole request is denied)."""


def _plain(v):
    """A value as JSON keeps it (tuples as lists), so that a repeat compares equal."""
    return json.loads(json.dumps(v))


def _hhmm(t, what):
    mm, hh = t
    if not (0 <= mm < 60 and 0 <= hh < 24):
        raise ParamError("%s %r is no time of day (mm hh)" % (what, t))


def check(fn, pn, value, port_named, defined=()):
    """Raise ParamError when item ``fn`` of point ``pn`` may not take ``value``. ``port_named(n)``
    names the archive port of 1376.1 port number ``n`` (None: no such port); ``defined`` holds
    the (fn, pn) of report tasks defined already or in the same request."""
    if fn not in SERVED:
        raise ParamError("AFN04 F%d not served" % fn)
    if fn in (1, 3, 33, 59) and pn != 0:
        raise ParamError("F%d is a terminal parameter (p0), not p%s" % (fn, pn))
    if fn == 1:
        if not 1 <= value["heartbeat_min"] <= 255 or not 1 <= value["timeout_s"] <= 4095:
            raise ParamError("F1: heartbeat 1..255 min and answer timeout 1..4095 s")
    elif fn == 3:
        if value["ip"] == "0.0.0.0" or not 1 <= value["port"] <= 65535:
            raise ParamError("F3: the main master needs an address and a port 1..65535")
    elif fn == 59:
        if value.get("over_difference") and value.get("flying") and \
                value["flying"] < value["over_difference"]:
            raise ParamError("F59: the flying threshold is below the over-difference one")
    elif fn == 33:
        seen = set()
        for p in value["ports"]:
            if p["port"] in seen or port_named(p["port"]) is None:
                raise ParamError("F33: port %d is no port of this terminal, or named twice"
                                 % p["port"])
            seen.add(p["port"])
            if not 1 <= p["interval_min"] <= 60:
                raise ParamError("F33 port %d: read interval 1..60 min" % p["port"])
            _hhmm(p["read_time"], "F33 read time")
            for a, b in p["spans"]:
                _hhmm(a, "F33 span start")
                _hhmm(b, "F33 span end")
    else:
        if not isinstance(pn, int) or not 1 <= pn <= MAX_TASK:
            raise ParamError("F%d: the task number (DA) is 1..%d, got %r" % (fn, MAX_TASK, pn))
        if fn in (65, 66):
            if value["unit"] not in PERIOD_UNITS or value["period"] < 1:
                raise ParamError("F%d task %d: a period of at least 1" % (fn, pn))
            if not 1 <= value["ratio"] <= 96:
                raise ParamError("F%d task %d: curve ratio 1..96" % (fn, pn))
            try:
                from_civil(*civil_of_a1(value["base"]))
            except (TypeError, ValueError):     # EE (no value) or no such date
                raise ParamError("F%d task %d: the base time is no date: %r" % (
                    fn, pn, value["base"])) from None
            for pns, fns in value["items"]:
                for f in fns:
                    if layout(TASK_ITEMS[fn], f, True) is None:
                        raise ParamError("F%d task %d: AFN%02X F%d cannot be reported" % (
                            fn, pn, TASK_ITEMS[fn], f))
        elif value["switch"] not in (TASK_START, TASK_STOP):
            raise ParamError("F%d task %d: 55H starts, AAH stops, got %02XH" % (
                fn, pn, value["switch"]))
        elif value["switch"] == TASK_START and (TASK_ITEMS[fn], pn) not in defined:
            raise ParamError("F%d: task %d has no F%d definition" % (fn, pn, TASK_ITEMS[fn]))


class TerminalParams:
    """The parameters and clock offset of one terminal, in the agent's store."""

    def __init__(self, db):
        self.db = db
        db.executescript(SCHEMA)
        row = db.execute("SELECT offset_s FROM terminal_clock WHERE id = 1").fetchone()
        self.offset_s = row[0] if row else 0.0
        self.generation = 0             # counts the changes (a reader's cache key)

    def get(self, fn, pn=0):
        row = self.db.execute("SELECT value FROM terminal_param WHERE fn=? AND pn=?",
                              (fn, pn)).fetchone()
        return None if row is None else json.loads(row[0])

    def all(self, fn=None):
        """{(fn, pn): value} of what is set (of item ``fn`` only)."""
        sql, args = "SELECT fn, pn, value FROM terminal_param", ()
        if fn is not None:
            sql, args = sql + " WHERE fn = ?", (fn,)
        return {(f, p): json.loads(v) for f, p, v in self.db.execute(sql + " ORDER BY fn, pn",
                                                                     args)}

    def defined_tasks(self):
        return set(k for k in self.all() if k[0] in (65, 66))

    def set(self, items, wall, label):
        """Write ``items`` [(fn, pn, value)] (checked already) in one transaction; returns the
        (fn, pn) that changed. A value equal to the one held is left alone, unjournaled."""
        changed = []
        with transaction(self.db):
            for fn, pn, value in items:
                text = json.dumps(_plain(value), sort_keys=True)
                row = self.db.execute("SELECT value FROM terminal_param WHERE fn=? AND pn=?",
                                      (fn, pn)).fetchone()
                if row is not None and json.loads(row[0]) == json.loads(text):
                    continue
                self.db.execute("INSERT OR REPLACE INTO terminal_param VALUES (?,?,?,?,?)",
                                (fn, pn, text, wall, label))
                self.db.execute("INSERT INTO event_log (at, kind, detail) VALUES (?,?,?)",
                                (wall, "param_set", "AFN04 F%d p%d by %s: %s" % (
                                    fn, pn, label, text[:300])))
                changed.append((fn, pn))
        if changed:
            self.generation += 1
        return changed

    def started(self, wall):
        """Note a start at ``wall``; the last time noted before it (None: the first start)."""
        row = self.db.execute("SELECT at FROM terminal_alive WHERE id = 1").fetchone()
        self.alive(wall, force=True)
        return None if row is None else row[0]

    def alive(self, wall, force=False):
        """Note the terminal running at ``wall`` (at most once per ``ALIVE_EVERY_S``)."""
        if not force and 0 <= wall - getattr(self, "_alive_at", -1e18) < ALIVE_EVERY_S:
            return                  # (a clock set back makes the gap negative: noted at once)
        self._alive_at = wall
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO terminal_alive VALUES (1, ?)", (wall,))

    def set_clock(self, offset_s, wall, label):
        """Move the terminal's clock to ``offset_s`` from the runtime's (kept, journaled)."""
        if abs(offset_s) > MAX_CLOCK_STEP_S:
            raise ParamError("clock set %.0f s away from the terminal's own clock" % offset_s)
        old = self.offset_s
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO terminal_clock VALUES (1, ?, ?, ?)",
                            (offset_s, wall, label))
            self.db.execute("INSERT INTO event_log (at, kind, detail) VALUES (?,?,?)",
                            (wall, "clock_set", "AFN05 F31 by %s: offset %.3f s -> %.3f s" % (
                                label, old, offset_s)))
        self.offset_s = offset_s


def power_restored(store, params, wall):
    """At start: the outage since the terminal last noted itself running, kept as a
    ``terminal_power`` reading (uploaded as ERC14), or None on a first start."""
    off = params.started(wall)
    if off is None or wall - off < ALIVE_EVERY_S:
        return None
    from edge.store import Reading
    from protocols.civil import iso
    r = Reading("terminal", POWER_TASK, 0, iso(off)[:16], {"off": off, "on": wall},
                read_at=wall)
    store.put_readings([r])
    store.log_event("power_restored", "terminal off %s, on %s" % (iso(off), iso(wall)), wall)
    return r


class TerminalClock:
    """The terminal's clock: the runtime's ``base()`` plus the offset the master set."""

    def __init__(self, base, params):
        self.base = base
        self.params = params

    def __call__(self):
        return self.base() + self.params.offset_s
