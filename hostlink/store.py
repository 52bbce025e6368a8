"""The master station's database: terminals, link log, uploaded data and events (SQLite, WAL).

Each uploaded data unit is kept once, keyed by (terminal, AFN, Fn, point, time label): a frame
the terminal sends again because our confirm was lost is counted as a repeated delivery, not
stored twice; a repeat with another value keeps the first and is counted and logged
(``value_conflict``). A unit is committed before the upload is confirmed. The station's
counters (garbage, refused logins, connections cut ...) are kept in ``counter``.
"""
import json
import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS terminal (
    name TEXT PRIMARY KEY, logins INTEGER NOT NULL DEFAULT 0, heartbeats INTEGER NOT NULL DEFAULT 0,
    last_login REAL, last_seen REAL, online INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS link_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL, terminal TEXT NOT NULL, event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS data (
    terminal TEXT NOT NULL, afn INTEGER NOT NULL, fn INTEGER NOT NULL, pn INTEGER NOT NULL,
    label TEXT NOT NULL, value TEXT, received_at REAL, deliveries INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (terminal, afn, fn, pn, label));
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def jsonable(value):
    """A data unit's value as JSON-friendly data (bytes as hex, tuples as lists)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def unit_records(unit):
    """(label, value) rows of one uploaded unit: what tells two units of one item and point
    apart is the freeze date or the curve start; an event upload is one row per record."""
    v = unit.value if isinstance(unit.value, dict) else {}
    if "events" in v:
        return [("%02X:%s" % (e["erc"], bytes(e["data"]).hex()), e) for e in v["events"]]
    for key in ("td", "start"):
        if v.get(key) is not None:
            return [("-".join("%02d" % x for x in v[key]), v)]
    return [(json.dumps(jsonable(v), sort_keys=True), v)]


class MasterStore:
    """Everything the master station records, in one SQLite file."""

    def __init__(self, path):
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self):
        self.db.close()

    def link_event(self, terminal, event, detail="", at=None):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("INSERT OR IGNORE INTO terminal (name) VALUES (?)", (terminal,))
            if event == "login":
                self.db.execute("UPDATE terminal SET logins = logins + 1, last_login = ?,"
                                " last_seen = ?, online = 1 WHERE name = ?", (at, at, terminal))
            elif event == "heartbeat":
                self.db.execute("UPDATE terminal SET heartbeats = heartbeats + 1, last_seen = ?,"
                                " online = 1 WHERE name = ?", (at, terminal))
            elif event in ("logout", "disconnected"):
                self.db.execute("UPDATE terminal SET online = 0 WHERE name = ?", (terminal,))
            if event != "heartbeat":            # heartbeats are counted, not logged one by one
                self.db.execute("INSERT INTO link_log (at, terminal, event, detail) VALUES"
                                " (?,?,?,?)", (at, terminal, event, detail))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def store_upload(self, terminal, afn, units, at=None):
        """Keep ``units`` (a repeated one only raises its delivery count); durable on return."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for u in units:
                pn = u.pn if isinstance(u.pn, int) else 0
                for label, value in unit_records(u):
                    text = json.dumps(jsonable(value))
                    old = self.db.execute("SELECT value FROM data WHERE terminal=? AND afn=? AND"
                                          " fn=? AND pn=? AND label=?",
                                          (terminal, afn, u.fn, pn, label)).fetchone()
                    if old is None:
                        self.db.execute("INSERT INTO data VALUES (?,?,?,?,?,?,?,1)",
                                        (terminal, afn, u.fn, pn, label, text, at))
                        continue
                    self.db.execute("UPDATE data SET deliveries = deliveries + 1 WHERE"
                                    " terminal=? AND afn=? AND fn=? AND pn=? AND label=?",
                                    (terminal, afn, u.fn, pn, label))
                    if old[0] != text:
                        self._bump("value_conflict", 1)
                        self.db.execute("INSERT INTO link_log (at, terminal, event, detail)"
                                        " VALUES (?,?,?,?)", (at, terminal, "value_conflict",
                                        "AFN%02X F%d p%d %s: kept %s, got %s" % (
                                            afn, u.fn, pn, label, old[0][:200], text[:200])))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # --- counters -----------------------------------------------------------------------------
    def _bump(self, name, n):
        self.db.execute("INSERT INTO counter VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET"
                        " value = value + excluded.value", (name, n))

    def bump(self, counts):
        """Add ``counts`` ({name: n}) to the station's counters in one transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for name, n in counts.items():
                self._bump(name, n)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def counters(self):
        return dict(self.db.execute("SELECT name, value FROM counter ORDER BY name"))

    # --- queries ------------------------------------------------------------------------------
    def terminals(self):
        cols = ("name", "logins", "heartbeats", "last_login", "last_seen", "online")
        return [dict(zip(cols, r)) for r in self.db.execute(
            "SELECT %s FROM terminal ORDER BY name" % ", ".join(cols))]

    def data(self, terminal=None, afn=None, fn=None):
        cols = ("terminal", "afn", "fn", "pn", "label", "value", "deliveries", "received_at")
        sql, args, where = "SELECT %s FROM data" % ", ".join(cols), [], []
        for col, v in (("terminal", terminal), ("afn", afn), ("fn", fn)):
            if v is not None:
                where.append("%s = ?" % col)
                args.append(v)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = [dict(zip(cols, r)) for r in self.db.execute(sql + " ORDER BY rowid", args)]
        for r in rows:
            r["value"] = json.loads(r["value"])
        return rows

    def counts(self):
        """Units stored and deliveries received (their difference: repeats absorbed)."""
        units, deliveries = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(deliveries), 0) FROM data").fetchone()
        return {"units": units, "deliveries": deliveries}

    def log(self, terminal=None, event=None):
        sql, args = "SELECT at, terminal, event, detail FROM link_log", []
        where = [(c, v) for c, v in (("terminal", terminal), ("event", event)) if v is not None]
        if where:
            sql += " WHERE " + " AND ".join("%s = ?" % c for c, _ in where)
            args = [v for _, v in where]
        return [dict(zip(("at", "terminal", "event", "detail"), r))
                for r in self.db.execute(sql + " ORDER BY id", args)]
