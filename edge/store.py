"""The agent's durable store: SQLite in WAL mode, one file, synchronous commits.

A reading is committed (``synchronous=FULL``) before ``put_readings`` returns, so anything the
caller counts or reports as read survives a power cut or kill -9; WAL keeps the file consistent
when a write is cut short. With ``batch`` > 1 commits of readings share one transaction, committed
(``flush``) at ``batch`` readings and before anything counts them, sends them upstream, confirms
them or opens a transaction of its own (the board runner flushes at the end of each step, before
it writes to a port or sleeps); ``on_commit`` sees them once committed. Each reading keeps its quality flag (ok, timeout, garbled,
error_reply, invalid, estimated, failed: the agent's job for it died): flagged values are stored, never dropped or "fixed". The size is
bounded by ``max_readings`` and, optionally, ``max_bytes`` of live database pages: past either,
the readings with nothing left to send upstream go first (oldest first), then the oldest of all;
every eviction is counted, and an evicted reading the master never confirmed is counted as lost.

``confirmed`` per reading: 0 = still to go upstream, 1 = nothing left to send (the master
confirmed it, or the uplink never sends it: a local task, a failed read or a flagged value), 2 = dropped by the
uplink (no measuring point for its meter), 3 = rejected: the master denied it ``max_denies``
times (``deny``); it stays in the store, queryable (``rejected``) and counted
(``readings_rejected``); 4 = pulled: the master asked for it and an answer carried it
(``pulled``, counted as ``readings_pulled``), delivered without an upload. With
``upload_tasks`` None (no uplink) every reading starts at 0, as before.
"""
import json
import sqlite3

WAL_LIMIT = 1 << 20
SIM_BATCH = 64      # readings per commit where no power can be lost (a simulation)
_COLUMNS = "addr, task, di, period, value, quality, flags, read_at"
QUALITIES = ("ok", "timeout", "garbled", "error_reply", "invalid", "estimated", "failed")
SCHEMA = """
CREATE TABLE IF NOT EXISTS reading (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    addr TEXT NOT NULL, task TEXT NOT NULL, di INTEGER NOT NULL, period TEXT NOT NULL,
    value TEXT, quality TEXT NOT NULL, flags TEXT NOT NULL DEFAULT '',
    read_at REAL NOT NULL, confirmed INTEGER NOT NULL DEFAULT 0,
    UNIQUE (addr, task, di, period));
CREATE INDEX IF NOT EXISTS reading_age ON reading (confirmed, id);
CREATE INDEX IF NOT EXISTS reading_backlog ON reading (task) WHERE confirmed = 0;
CREATE INDEX IF NOT EXISTS reading_due_point ON reading (task, addr, period) WHERE confirmed = 0;
CREATE TABLE IF NOT EXISTS reading_denial (id INTEGER PRIMARY KEY, denies INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meter_state (
    addr TEXT PRIMARY KEY, health TEXT NOT NULL, last_success REAL, failures INTEGER NOT NULL,
    depth INTEGER NOT NULL DEFAULT 0, next_probe REAL);
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS event_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL, kind TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS event_log_kind ON event_log (kind, id);
CREATE TABLE IF NOT EXISTS archive_change (addr TEXT PRIMARY KEY, record TEXT);
CREATE TABLE IF NOT EXISTS read_rate (
    task TEXT NOT NULL, period TEXT NOT NULL, medium TEXT NOT NULL, depth INTEGER NOT NULL,
    meters INTEGER NOT NULL, read INTEGER NOT NULL, PRIMARY KEY (task, period, medium, depth));
"""


class Reading:
    """One value read (or not) from a meter: ``period`` names what it is for (a day, an instant)."""

    __slots__ = ("addr", "task", "di", "period", "value", "quality", "flags", "read_at")

    def __init__(self, addr, task, di, period, value, quality="ok", flags=(), read_at=0.0):
        if quality not in QUALITIES:
            raise ValueError("quality must be one of %s, got %r" % (", ".join(QUALITIES), quality))
        self.addr = addr
        self.task = task
        self.di = di
        self.period = period
        self.value = value
        self.quality = quality
        self.flags = tuple(flags)
        self.read_at = read_at

    def row(self):
        return (self.addr, self.task, self.di, self.period, json.dumps(self.value),
                self.quality, ",".join(self.flags), self.read_at)

    def __eq__(self, other):
        return isinstance(other, Reading) and self.row() == other.row()

    def __repr__(self):
        return "Reading(%s %s %08X %s %r %s)" % (self.addr, self.task, self.di, self.period,
                                                 self.value, self.quality)


class Store:
    """Readings, per-meter state and counters in one SQLite file (``":memory:"`` in tests)."""

    def __init__(self, path, max_readings=1_000_000, durable=True, on_commit=None,
                 max_bytes=None, batch=1):
        self.path = str(path)
        self.max_readings = max_readings
        self.max_bytes = max_bytes
        self.upload_tasks = None            # set by the uplink: tasks whose readings go upstream
        self.commits = 0                    # reading commits so far (a cheap "anything new?")
        self.on_commit = on_commit          # called with the readings once they are durable
        # ``batch`` > 1: reading commits share one open transaction, committed (``flush``) at
        # ``batch`` readings and before anything counts, sends or journals: ``flush``
        self.batch = batch
        self._pending = []                  # readings written in the open batch, not yet durable
        self._pending_bumps = {}
        self._open = False                  # the batch's transaction is open
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                  factory=_Connection)
        self.db.flush_batch = self.flush
        self.db.execute("PRAGMA journal_mode=WAL")
        # a simulation has no power to lose: ``durable=False`` skips the fsync, nothing else
        self.db.execute("PRAGMA synchronous=%s" % ("FULL" if durable else "OFF"))
        # the WAL is checkpointed every 256 pages and cut back to 1 MiB: on disk the store is
        # its live pages (bounded by ``max_bytes``), free pages SQLite reuses, and at most that
        self.db.execute("PRAGMA wal_autocheckpoint=256")
        self.db.execute("PRAGMA journal_size_limit=%d" % WAL_LIMIT)
        self.db.executescript(SCHEMA)
        self.page_size = self.db.execute("PRAGMA page_size").fetchone()[0]
        self._rows_at_most = None           # a bound on the readings held: COUNT(*) scans them

    def close(self):
        self.flush()
        self.db.close()

    def flush(self):
        """Commit the open batch of readings: durable from here; ``on_commit`` sees them now."""
        if not self._open:
            return
        readings, self._pending = self._pending, []
        bumps, self._pending_bumps = self._pending_bumps, {}
        for name, n in bumps.items():
            self._bump(name, n)
        self._open = False
        if self.db.in_transaction:          # (an executescript commits a batch by itself)
            self.db.execute("COMMIT")
        if self.on_commit is not None and readings:
            self.on_commit(readings)

    # --- readings -----------------------------------------------------------------------------
    def put_readings(self, readings):
        """Store readings in one durable transaction; a better quality replaces a worse one for
        the same (meter, task, item, period), an ok reading is never replaced. Returns the count
        written."""
        return self.commit(readings)

    def commit(self, readings=(), states=()):
        """Readings and meter states (tuples as ``save_meter_state`` takes) in one transaction
        (with ``batch`` > 1: a savepoint of the open batch, durable at the next ``flush``)."""
        if self.batch > 1:
            return self._commit_batched(readings, states)
        with transaction(self.db):
            written = self._write(readings, states)
            self._bump("readings_written", written)
        if readings:
            self.commits += 1
            if self.on_commit is not None:
                self.on_commit(readings)
        return written

    def _commit_batched(self, readings, states):
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
            self._open = True
        elif not self._open:                # as without a batch: not inside another's transaction
            raise sqlite3.OperationalError("reading commit inside another transaction")
        self.db.execute("SAVEPOINT reading_commit")
        try:
            written = self._write(readings, states)
        except BaseException:
            self.db.execute("ROLLBACK TO reading_commit")
            self.db.execute("RELEASE reading_commit")
            raise
        self.db.execute("RELEASE reading_commit")
        if written:
            self._pending_bumps["readings_written"] = (
                self._pending_bumps.get("readings_written", 0) + written)
        if readings:
            self.commits += 1
            self._pending.extend(readings)
        if len(self._pending) >= self.batch:
            self.flush()
        return written

    def _write(self, readings, states):
        written = 0
        for r in readings:
            cur = self.db.execute(
                "INSERT INTO reading (addr, task, di, period, value, quality, flags, read_at,"
                " confirmed) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (addr, task, di, period)"
                " DO UPDATE SET value=excluded.value, quality=excluded.quality,"
                " flags=excluded.flags, read_at=excluded.read_at,"
                " confirmed=excluded.confirmed WHERE reading.quality != 'ok'",
                r.row() + (self._settled(r),))
            written += cur.rowcount
            if self._rows_at_most is not None:
                self._rows_at_most += 1
        self._evict()
        if states:
            self.db.executemany("INSERT OR REPLACE INTO meter_state VALUES (?,?,?,?,?,?)",
                                list(states))
        return written

    def _settled(self, r):
        """The ``confirmed`` a new reading starts with."""
        if self.upload_tasks is None:
            return 0
        # a flagged (invalid) value is held back: 1376.1 has no quality mark in F161/F177/F101,
        # so it never goes up as clean; the ERC it raised (edge.audit) goes in its place
        return 0 if r.task in self.upload_tasks and r.quality == "ok" else 1

    def latest(self, addr, task, before=None):
        """The newest reading of ``task`` for ``addr`` (with a period before ``before``)."""
        sql = "SELECT %s FROM reading WHERE addr=? AND task=?" % _COLUMNS
        args = [addr, task]
        if before is not None:
            sql += " AND period < ?"
            args.append(before)
        row = self.db.execute(sql + " ORDER BY period DESC, id DESC LIMIT 1", args).fetchone()
        return None if row is None else _reading(row)

    def good(self, addr, task, period):
        """The ok reading of ``task`` for ``addr`` and ``period``, or None."""
        row = self.db.execute("SELECT %s FROM reading WHERE addr=? AND task=? AND period=?"
                              " AND quality='ok'" % _COLUMNS, (addr, task, period)).fetchone()
        return None if row is None else _reading(row)

    def read_addrs(self, task, period):
        """Addresses with an ok reading of ``task`` for ``period``."""
        self.flush()
        return {a for (a,) in self.db.execute("SELECT addr FROM reading WHERE task=? AND period=?"
                                              " AND quality='ok'", (task, period))}

    def save_read_rate(self, task, period, rows):
        """Read-rate figures of a closed task window: rows of (medium, depth, meters, read)."""
        with transaction(self.db):
            self.db.executemany("INSERT OR REPLACE INTO read_rate VALUES (?,?,?,?,?,?)",
                                [(task, period) + tuple(r) for r in rows])

    def read_rate(self, task, period):
        self.flush()
        return [dict(zip(("medium", "depth", "meters", "read"), row)) for row in self.db.execute(
            "SELECT medium, depth, meters, read FROM read_rate WHERE task=? AND period=?"
            " ORDER BY medium, depth", (task, period))]

    def bytes_used(self):
        """Bytes of the database pages in use (the file does not shrink; freed pages are reused)."""
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * self.page_size

    def db_bytes(self):
        """Bytes of the database (page_count x page_size), free pages included: what the main
        file holds once the WAL is checkpointed."""
        self.flush()
        return self.db.execute("PRAGMA page_count").fetchone()[0] * self.page_size

    def _evict(self):
        if self._rows_at_most is None or self._rows_at_most > self.max_readings:
            n = self._count()
            self._evict_some(n - self.max_readings)
            self._rows_at_most = min(n, self.max_readings)
        if self.max_bytes is None or self.bytes_used() <= self.max_bytes:
            return
        # down to 95 %: room for what other tables write before the next reading commit
        while self.bytes_used() > 0.95 * self.max_bytes:
            if not self._evict_some(self._count() // 100 + 1):     # 1 % at a time
                break

    def _evict_some(self, excess):
        if excess <= 0 or not self._count():
            return 0
        victims = "SELECT id FROM reading ORDER BY confirmed DESC, id LIMIT ?"
        lost = self.db.execute("SELECT COUNT(*) FROM reading WHERE confirmed = 0 AND id IN (%s)"
                               % victims, (excess,)).fetchone()[0]
        self.db.execute("DELETE FROM reading WHERE id IN (%s)" % victims, (excess,))
        self._bump("readings_evicted", excess)
        if self.upload_tasks is not None:
            self._bump("readings_lost", lost)
        return excess

    def readings(self, addr=None, task=None, period=None):
        self.flush()
        sql, args = "SELECT %s FROM reading" % _COLUMNS, []
        where = [(c, v) for c, v in (("addr", addr), ("task", task), ("period", period)) if v is not None]
        if where:
            sql += " WHERE " + " AND ".join("%s = ?" % c for c, _ in where)
            args = [v for _, v in where]
        return [_reading(row) for row in self.db.execute(sql + " ORDER BY id", args)]

    def has_good(self, addr, task, di, period):
        """Whether an ok reading is already stored (re-reading can skip this meter)."""
        row = self.db.execute("SELECT 1 FROM reading WHERE addr=? AND task=? AND di=? AND period=?"
                              " AND quality='ok'", (addr, task, di, period)).fetchone()
        return row is not None

    def tried(self, addr, task, period):
        """Whether any reading (an attempt, good or not) of ``task`` is stored for the slot."""
        return self.db.execute("SELECT 1 FROM reading WHERE addr=? AND task=? AND period=?"
                               " LIMIT 1", (addr, task, period)).fetchone() is not None

    def count(self, quality=None):
        self.flush()
        return self._count(quality)

    def _count(self, quality=None):
        if quality is None:
            return self.db.execute("SELECT COUNT(*) FROM reading").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM reading WHERE quality=?", (quality,)).fetchone()[0]

    def confirm(self, addrs_periods):
        """Mark readings as confirmed by the master station (eligible for eviction first)."""
        with transaction(self.db):
            self.db.executemany("UPDATE reading SET confirmed=1 WHERE addr=? AND period=?",
                                list(addrs_periods))

    # --- the upstream backlog -----------------------------------------------------------------
    def unsent(self, limit, clauses=None):
        """(id, Reading) of the oldest readings still to go upstream (of those that meet one
        of ``clauses``, as ``edge.report_tasks.due_clauses`` makes them)."""
        self.flush()
        if clauses is None:
            rows = self.db.execute("SELECT id, %s FROM reading WHERE confirmed = 0 ORDER BY id"
                                   " LIMIT ?" % _COLUMNS, (limit,))
        else:
            ids = self.unsent_ids(limit, clauses)
            rows = self.db.execute("SELECT id, %s FROM reading WHERE id IN (%s) ORDER BY id" % (
                _COLUMNS, ",".join("?" * len(ids))), ids) if ids else []
        return [(row[0], _reading(row[1:])) for row in rows]

    def unsent_ids(self, limit, clauses=None):
        """Ids of the oldest readings still to go upstream (meeting one of ``clauses``): each
        clause read by its partial index in id order, at most ``limit`` of each."""
        self.flush()
        if clauses is None:
            return [i for (i,) in self.db.execute(
                "SELECT id FROM reading WHERE confirmed = 0 ORDER BY id LIMIT ?", (limit,))]
        if not clauses:
            return []
        parts, args = [], []
        for where, a, index in clauses:
            parts.append("SELECT id FROM (SELECT id FROM reading INDEXED BY %s WHERE"
                         " confirmed = 0 AND %s ORDER BY id LIMIT ?)" % (index, where))
            args += list(a) + [limit]
        return [i for (i,) in self.db.execute(
            "SELECT id FROM (%s) ORDER BY id LIMIT ?" % " UNION ".join(parts), args + [limit])]

    def drop_unmapped(self, tasks, addrs, after=0):
        """Readings of ``tasks`` still to go upstream whose meter is none of ``addrs`` (no
        measuring point any more), of ids above ``after``: dropped (2). Returns (their count,
        the highest id looked at)."""
        with transaction(self.db):
            top = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM reading").fetchone()[0]
            n = self.db.execute(
                "UPDATE reading SET confirmed = 2 WHERE id > ? AND id <= ? AND confirmed = 0 AND"
                " task IN (%s) AND addr NOT IN (SELECT value FROM json_each(?))" % ",".join(
                    "?" * len(tasks)), [after, top] + list(tasks) + [json.dumps(sorted(addrs))]
            ).rowcount
        return n, top

    def unsent_count(self):
        self.flush()
        return self.db.execute("SELECT COUNT(*) FROM reading WHERE confirmed = 0").fetchone()[0]

    def settle(self, ids, value=1):
        """Mark readings ``ids`` confirmed upstream (1) or dropped (2), in one transaction."""
        with transaction(self.db):
            self.db.executemany("UPDATE reading SET confirmed = ? WHERE id = ?",
                                [(value, i) for i in ids])
            self.db.executemany("DELETE FROM reading_denial WHERE id = ?", [(i,) for i in ids])

    def pulled(self, keys):
        """Readings (addr, task, period) still to go upstream that the master has pulled (an
        answer carried them): delivered (4), so never sent again nor counted lost. Returns the
        count newly marked."""
        n = 0
        with transaction(self.db):
            for addr, task, period in keys:
                n += self.db.execute("UPDATE reading SET confirmed = 4 WHERE addr=? AND task=? AND"
                                     " period=? AND confirmed = 0", (addr, task, period)).rowcount
            self._bump("readings_pulled", n)
        return n

    def pulled_count(self):
        """Readings the master pulled, kept in the store now."""
        self.flush()
        return self.db.execute("SELECT COUNT(*) FROM reading WHERE confirmed = 4").fetchone()[0]

    # --- delivery states: readings the master denied ------------------------------------------
    def deny(self, ids, max_denies):
        """The master denied readings ``ids`` once more: they stay in the backlog, or, at their
        ``max_denies``-th denial, become rejected (3) and counted. Returns the rejected ids."""
        rejected = []
        with transaction(self.db):
            for i in ids:
                self.db.execute("INSERT INTO reading_denial VALUES (?, 1) ON CONFLICT (id) DO"
                                " UPDATE SET denies = denies + 1", (i,))
                (n,) = self.db.execute("SELECT denies FROM reading_denial WHERE id = ?",
                                       (i,)).fetchone()
                if n >= max_denies:
                    cur = self.db.execute("UPDATE reading SET confirmed = 3 WHERE id = ? AND"
                                          " confirmed = 0", (i,))
                    if cur.rowcount:
                        rejected.append(i)
            self._bump("readings_denied", len(ids))
            self._bump("readings_rejected", len(rejected))
        return rejected

    def rejected_count(self):
        """Readings the master rejected, kept in the store now."""
        self.flush()
        return self.db.execute("SELECT COUNT(*) FROM reading WHERE confirmed = 3").fetchone()[0]

    def backlog_by_task(self):
        """{task: (readings still to go upstream, id of the oldest)}."""
        self.flush()
        return {t: (n, first) for t, n, first in self.db.execute(
            "SELECT task, COUNT(*), MIN(id) FROM reading INDEXED BY reading_backlog"
            " WHERE confirmed = 0 GROUP BY task")}

    def reading(self, rid):
        """The reading of id ``rid``, or None."""
        row = self.db.execute("SELECT %s FROM reading WHERE id = ?" % _COLUMNS, (rid,)).fetchone()
        return None if row is None else _reading(row)

    def rejected(self, limit=1000):
        """(id, Reading, denials) of the readings the master rejected, oldest first."""
        self.flush()
        rows = self.db.execute("SELECT r.id, %s, COALESCE(d.denies, 0) FROM reading r LEFT JOIN"
                               " reading_denial d ON d.id = r.id WHERE r.confirmed = 3 ORDER BY"
                               " r.id LIMIT ?" % ", ".join("r." + c.strip() for c in
                                                         _COLUMNS.split(",")), (limit,))
        return [(row[0], _reading(row[1:-1]), row[-1]) for row in rows]

    # --- meter state --------------------------------------------------------------------------
    def save_meter_state(self, addr, health, last_success, failures, depth=0, next_probe=None):
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO meter_state VALUES (?,?,?,?,?,?)",
                            (addr, health, last_success, failures, depth, next_probe))

    def meter_states(self):
        """Every saved meter state, by address."""
        rows = self.db.execute("SELECT addr, health, last_success, failures, depth, next_probe"
                               " FROM meter_state")
        return {r[0]: dict(zip(("health", "last_success", "failures", "depth", "next_probe"),
                               r[1:])) for r in rows}

    def meter_state(self, addr):
        row = self.db.execute("SELECT health, last_success, failures, depth, next_probe FROM"
                              " meter_state WHERE addr=?", (addr,)).fetchone()
        if row is None:
            return None
        return dict(zip(("health", "last_success", "failures", "depth", "next_probe"), row))

    # --- archive changes from the master station ---------------------------------------------
    def save_archive_changes(self, add=(), remove=()):
        """Meter records added or replaced, and addresses removed, in one transaction; they are
        laid over the configured archive at every start."""
        with transaction(self.db):
            self.db.executemany("INSERT OR REPLACE INTO archive_change VALUES (?, ?)",
                                [(m["addr"], json.dumps(m, sort_keys=True)) for m in add]
                                + [(a, None) for a in remove])

    def archive_changes(self):
        """(records added or replaced, addresses removed) as saved."""
        add, remove = [], []
        for addr, record in self.db.execute("SELECT addr, record FROM archive_change ORDER BY addr"):
            if record is None:
                remove.append(addr)
            else:
                add.append(json.loads(record))
        return add, remove

    # --- what happened (refused requests ...) ------------------------------------------------
    def log_event(self, kind, detail, at, keep=None):
        """Journal one line; ``keep`` bounds the lines of this kind (the oldest go): for what
        a stranger can cause without a password, such as denied requests."""
        with transaction(self.db):
            cur = self.db.execute("INSERT INTO event_log (at, kind, detail) VALUES (?,?,?)",
                                  (at, kind, detail))
            if keep is not None and cur.lastrowid % 100 == 0:
                self.db.execute("DELETE FROM event_log WHERE kind = ? AND id <= (SELECT id FROM "
                                "event_log WHERE kind = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                                (kind, kind, keep))

    def logged(self, kind=None):
        """[(at, kind, detail)] in order, of one kind or all."""
        sql, args = "SELECT at, kind, detail FROM event_log", ()
        if kind is not None:
            sql, args = sql + " WHERE kind = ?", (kind,)
        return list(self.db.execute(sql + " ORDER BY id", args))

    # --- counters -----------------------------------------------------------------------------
    def _bump(self, name, n):
        if n:
            self.db.execute("INSERT INTO counter VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET"
                            " value = value + excluded.value", (name, n))

    def counter(self, name):
        self.flush()
        row = self.db.execute("SELECT value FROM counter WHERE name=?", (name,)).fetchone()
        return row[0] if row else 0

    def integrity(self):
        """SQLite's own verdict on the file ('ok' when intact)."""
        self.flush()
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]


def _reading(row):
    a, t, di, p, value, q, flags, at = row
    return Reading(a, t, di, p, json.loads(value), q, tuple(f for f in flags.split(",") if f), at)


class _Connection(sqlite3.Connection):
    """A store's connection: ``flush_batch`` commits the store's open batch of readings."""

    def flush_batch(self):
        pass


class transaction:
    """BEGIN IMMEDIATE ... COMMIT (or ROLLBACK on error) on an autocommit connection; a
    store's open batch of readings is committed first (they are durable before what follows)."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        flush = getattr(self.db, "flush_batch", None)
        if flush is not None:
            flush()
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, tb):
        self.db.execute("ROLLBACK" if kind else "COMMIT")
        return False
