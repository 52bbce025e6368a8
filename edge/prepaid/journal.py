"""The command journal: every cost-control command with an id, a reason and an expiry, and its
lifecycle as one transition table (STYLE.md: h11-style states; an illegal move is a typed error
naming state and event).

    queued --send--> sent --ack--> verifying --verified--> done
       |               |               |
       |           no_answer /      not_moved / no_answer
       |            refused            v
       |               +---------->  retry --send--> sent ...
       |                               |
       +--expire / supersede-----------+--escalate--> escalated
                                       +--expire / supersede--> expired / superseded

``submit`` does not double-act: a command id seen before returns the journaled command, and an
open command of the same action for the meter absorbs a new one; an open command of another
relay action is superseded. Expired commands never go on the wire. A command a master forwarded
as a DL/T 645 frame (AFN10 F1) keeps that frame (``frame``, hex) and is sent as it came.
"""
import json
import logging

from edge.prepaid.policy import ACTIONS, ALARM, ALARM_RELEASE, KEEP_POWER, KEEP_POWER_RELEASE, TRIP
from edge.store import transaction

QUEUED, SENT, VERIFYING, RETRY = "queued", "sent", "verifying", "retry"
DONE, ESCALATED, EXPIRED, SUPERSEDED = "done", "escalated", "expired", "superseded"
OPEN = (QUEUED, SENT, VERIFYING, RETRY)
ENDED = (DONE, ESCALATED, EXPIRED, SUPERSEDED)

TRANSITIONS = {
    (QUEUED, "send"): SENT, (QUEUED, "expire"): EXPIRED, (QUEUED, "supersede"): SUPERSEDED,
    (SENT, "ack"): VERIFYING, (SENT, "no_answer"): RETRY, (SENT, "refused"): RETRY,
    (VERIFYING, "verified"): DONE, (VERIFYING, "not_moved"): RETRY, (VERIFYING, "no_answer"): RETRY,
    (RETRY, "send"): SENT, (RETRY, "verify"): VERIFYING, (RETRY, "escalate"): ESCALATED,
    (RETRY, "expire"): EXPIRED, (RETRY, "supersede"): SUPERSEDED,
    (SENT, "supersede"): SUPERSEDED, (VERIFYING, "supersede"): SUPERSEDED,
    (SENT, "expire"): EXPIRED, (VERIFYING, "expire"): EXPIRED,
}
COLUMNS = ("id, meter, action, reason, source, created, expires, state, attempts, updated,"
           " history, frame")
# actions that fight each other over the relay, alarm or keep-power: a new one supersedes
SEALED = "sealed"      # a master's control sealed under ESAM: its N1 is hidden (forward backend)
GROUPS = {SEALED: "sealed", TRIP: "relay", "allow_close": "relay", "direct_close": "relay",
          ALARM: "alarm", ALARM_RELEASE: "alarm", KEEP_POWER: "keep", KEEP_POWER_RELEASE: "keep"}

log = logging.getLogger(__name__)
# how loud each move is in the log: lifecycle INFO, trouble WARNING (STYLE: one line an event)
WARN_EVENTS = ("refused", "escalate", "expire")

SCHEMA = """
CREATE TABLE IF NOT EXISTS command (
    id TEXT PRIMARY KEY, meter TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL,
    source TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL, history TEXT NOT NULL DEFAULT '[]',
    frame TEXT);
CREATE INDEX IF NOT EXISTS command_open ON command (state, meter);
"""


class JournalError(ValueError):
    """An event the command's state does not allow."""

    def __init__(self, state, event, command_id):
        self.state = state
        self.event = event
        super().__init__("command %s: %r is not allowed in state %r" % (command_id, event, state))


class Command:
    __slots__ = ("id", "meter", "action", "reason", "source", "created", "expires", "state",
                 "attempts", "updated", "history", "frame")

    def __init__(self, id, meter, action, reason, source, created, expires, state=QUEUED,
                 attempts=0, updated=None, history=None, frame=None):
        if action not in ACTIONS and action != SEALED:
            raise ValueError("unknown action %r" % (action,))
        self.id = id
        self.meter = meter
        self.action = action
        self.reason = reason
        self.source = source
        self.created = created
        self.expires = expires
        self.state = state
        self.attempts = attempts
        self.updated = created if updated is None else updated
        self.history = list(history or [])
        self.frame = frame              # hex of the master's own 645 frame, or None

    @property
    def open(self):
        return self.state in OPEN

    def row(self):
        return (self.id, self.meter, self.action, self.reason, self.source, self.created,
                self.expires, self.state, self.attempts, self.updated, json.dumps(self.history),
                self.frame)

    @classmethod
    def from_row(cls, row):
        return cls(*row[:10], history=json.loads(row[10]), frame=row[11])

    def __repr__(self):
        return "Command(%s %s %s %s)" % (self.id, self.meter, self.action, self.state)


def next_state(state, event, command_id=""):
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise JournalError(state, event, command_id) from None


class Journal:
    """Commands in the agent's store; every transition is written before it is acted on."""

    def __init__(self, store):
        self.db = store.db
        self.db.executescript(SCHEMA)
        if "frame" not in [r[1] for r in self.db.execute("PRAGMA table_info(command)")]:
            self.db.execute("ALTER TABLE command ADD COLUMN frame TEXT")    # a store of before
        self.by_id = {}
        self.open_by_meter = {}
        rows = self.db.execute("SELECT %s FROM command WHERE state IN (%s)" % (
            COLUMNS, ",".join("?" * len(OPEN))), OPEN)
        for row in rows:
            c = Command.from_row(row)
            self.by_id[c.id] = c
            self.open_by_meter.setdefault(c.meter, []).append(c)

    def get(self, command_id):
        c = self.by_id.get(command_id)
        if c is None:
            row = self.db.execute("SELECT %s FROM command WHERE id=?" % COLUMNS,
                                  (command_id,)).fetchone()
            if row is not None:
                c = Command.from_row(row)
        return c

    def open_commands(self, meter=None):
        if meter is not None:
            return list(self.open_by_meter.get(meter, ()))
        return [c for cs in self.open_by_meter.values() for c in cs]

    def submit(self, command, now):
        """(command, created): the journaled command this one resolves to, and whether it is new.
        An expired command is journaled as expired and never sent."""
        known = self.get(command.id)
        if known is not None:
            return known, False
        group = GROUPS[command.action]
        for other in self.open_commands(command.meter):
            if other.action == command.action and group != SEALED:   # sealed: each its own
                return other, False
        with transaction(self.db):
            for other in self.open_commands(command.meter):
                if GROUPS[other.action] == group and group != SEALED:
                    self._move(other, "supersede", now, "by " + command.id)
            self._insert(command)
            if command.expires <= now:
                self._move(command, "expire", now)
        return command, True

    def _insert(self, c):
        self.db.execute("INSERT INTO command (%s) VALUES (%s)" % (
            COLUMNS, ",".join("?" * len(c.row()))), c.row())
        log.info("command %s journaled: %s meter %s (%s, from %s)", c.id, c.action, c.meter,
                 c.reason, c.source, extra={"event": "command_queued", "command": c.id,
                                            "meter": c.meter, "action": c.action,
                                            "state": c.state, "source": c.source})
        self.by_id[c.id] = c
        self.open_by_meter.setdefault(c.meter, []).append(c)

    def move(self, command, event, now, note=""):
        """Apply ``event``; the new state is durable when this returns."""
        with transaction(self.db):
            self._move(command, event, now, note)

    def _move(self, c, event, now, note=""):
        c.state = next_state(c.state, event, c.id)
        c.updated = now
        if event == "send":
            c.attempts += 1
        c.history.append([round(now, 3), event, note] if note else [round(now, 3), event])
        self.db.execute("UPDATE command SET state=?, attempts=?, updated=?, history=? WHERE id=?",
                        (c.state, c.attempts, c.updated, json.dumps(c.history), c.id))
        log.log(logging.WARNING if event in WARN_EVENTS else logging.INFO,
                "command %s (%s meter %s): %s -> %s%s", c.id, c.action, c.meter, event, c.state,
                " (%s)" % note if note else "", extra={
                    "event": "command_" + event, "command": c.id, "meter": c.meter,
                    "action": c.action, "state": c.state, "attempts": c.attempts, "note": note})
        if not c.open:
            self.by_id.pop(c.id, None)
            left = [o for o in self.open_by_meter.get(c.meter, ()) if o is not c]
            if left:
                self.open_by_meter[c.meter] = left
            else:
                self.open_by_meter.pop(c.meter, None)

    def state_counts(self):
        """{state: commands in it}, every state named (zero included), from the journal on disk."""
        counts = {state: 0 for state in OPEN + ENDED}
        for state, n in self.db.execute("SELECT state, COUNT(*) FROM command GROUP BY state"):
            counts[state] = n
        return counts

    def last_relay_done(self):
        """meter -> (action, source) of its last relay command carried out."""
        rows = self.db.execute("SELECT meter, action, source FROM command WHERE state=? AND action"
                               " IN ('trip', 'allow_close', 'direct_close') ORDER BY updated, id",
                               (DONE,))
        return {m: (a, src) for m, a, src in rows}

    def all(self, meter=None):
        sql, args = "SELECT %s FROM command" % COLUMNS, ()
        if meter is not None:
            sql, args = sql + " WHERE meter=?", (meter,)
        return [Command.from_row(r) for r in self.db.execute(sql + " ORDER BY created, id", args)]
