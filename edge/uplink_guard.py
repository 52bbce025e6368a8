"""What the terminal checks before a master's frame may change anything (Q/GDW 1376.1): the time
label every state-changing frame must carry, a replay window of the labels already acted on,
and the policy for DL/T 645 frames forwarded to meters (AFN10 F1).

- **Time labels.** The AFNs that carry a password (01 reset, 04 set, 05 control, 06 security, 0F
  file, 10 forwarding) change state; each needs Tp (PFC, send time, allowed delay), with a
  delay (0 would never expire), a real day, no more than ``tp_skew_s`` ahead of our clock and
  not past its delay (``protocols.gdw1376_1.frame.Tp.problem``). A frame without Tp is refused:
  nothing is ever identified by its 4-bit SEQ.
- **Replay window.** Every state-changing frame that passed the checks leaves two keys until
  its label expires: (MSA, PFC, send time) and (MSA, send time, AFN, data, PW). A second frame
  with either - the same frame again, or the same frame with its PFC or delay edited - is
  refused and does not act. The keys are in the agent's store, so a restart keeps them. A
  frame re-stamped with a new send time cannot be told from a new command with a static PW;
  against an attacker on the path, use TLS (``[uplink] tls``).
- **Forwarding (AFN10 F1).** Reads (0x11, 0x12, 0x13) pass. A relay control (0x1C) never goes
  to the meter as it came: it goes through the prepaid journal (``edge.prepaid.carrier``),
  journaled, acted on once and read back. Everything else - writes, address, baud and password
  changes, clears, time, freeze, security - is refused unless its kind is in
  ``[uplink] forward_allow``. A forwarded ChangePassword would break the agent's own cost
  control, and three wrong passwords lock a meter for the day.
"""
import hashlib

from protocols.gdw1376_1.frame import PW_AFNS

from edge.store import transaction

TP_REQUIRED_AFNS = PW_AFNS
READ_KINDS = ("read", "read_follow_up", "read_address")
CONTROL_KIND = "control"
# the DL/T 645 request (its apdu name) -> the forward_allow kind that lets it through
GUARDED_KINDS = {"write": "write", "write_address": "address", "change_baud": "baud",
                 "change_password": "password", "demand_reset": "clear", "meter_clear": "clear",
                 "event_clear": "clear", "broadcast_time": "time", "freeze": "freeze",
                 "security": "security"}
FORWARD_ALLOW = ("write", "address", "baud", "password", "clear", "time", "freeze", "security")

SCHEMA = """
CREATE TABLE IF NOT EXISTS uplink_label (key TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS uplink_label_expiry ON uplink_label (expires);
CREATE TABLE IF NOT EXISTS uplink_body (key TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS uplink_body_expiry ON uplink_body (expires);
"""
# Tp names DD hh:mm:ss only, so a label comes round again the next month: the bodies of the
# frames acted on are kept longer than that, at most BODIES of them (oldest go first; adding
# one needs the PW)
BODY_KEEP_S = 62 * 86400.0
BODIES = 100_000


def forward_kind(request):
    """'read', 'control' or the forward_allow kind of a forwarded 645 request."""
    if request.name in READ_KINDS:
        return "read"
    if request.name == CONTROL_KIND:
        return CONTROL_KIND
    return GUARDED_KINDS.get(request.name, "other")


def label_problem(frame, wall, skew_s):
    """Why ``frame``'s time label does not let it act at ``wall`` (None: it does). A frame
    that changes state needs one; any other frame is checked only when it carries one."""
    tp = frame.tp
    if tp is None:
        return "no time label (Tp) on AFN%02X, which changes state" % frame.afn \
            if frame.afn in TP_REQUIRED_AFNS else None
    if frame.afn in TP_REQUIRED_AFNS:
        return tp.problem(wall, skew_s)
    return "stale time label %r" % (tp,) if tp.stale(wall) else None


class ReplayWindow:
    """The labels of the state-changing frames acted on, each until its label expires (at most
    ``size`` at once: a full window refuses, it never forgets a live label)."""

    def __init__(self, db, size, skew_s):
        self.db = db
        self.size = size
        self.skew_s = skew_s
        db.executescript(SCHEMA)

    @staticmethod
    def keys(frame):
        tp = frame.tp
        sent = "%02d%02d%02d%02d" % tuple(reversed(tp.time))          # DD hh mm ss
        body = hashlib.sha256(bytes([frame.afn]) + frame.data + (frame.pw or b"")).hexdigest()
        return ("pfc:%d:%d:%s" % (frame.msa, tp.pfc, sent),
                "body:%d:%s:%s" % (frame.msa, sent, body[:32]))

    def admit(self, frame, wall):
        """None when ``frame`` (its label checked) may act, and its keys are kept from now;
        else why not."""
        keys = self.keys(frame)
        sent = frame.tp.nearest(wall)
        expires = (wall if sent is None else sent) + frame.tp.delay_min * 60 + self.skew_s
        with transaction(self.db):
            self.db.execute("DELETE FROM uplink_label WHERE expires <= ?", (wall,))
            if self.db.execute("SELECT 1 FROM uplink_label WHERE key IN (?, ?)", keys).fetchone():
                return "replayed frame: PFC %d sent %r was acted on already" % (
                    frame.tp.pfc, frame.tp)
            self.db.execute("DELETE FROM uplink_body WHERE expires <= ?", (wall,))
            if self.db.execute("SELECT 1 FROM uplink_body WHERE key = ?", (keys[1],)).fetchone():
                return "replayed frame: the same frame with label %r acted within %d days" % (
                    frame.tp, BODY_KEEP_S // 86400)
            (n,) = self.db.execute("SELECT COUNT(*) FROM uplink_label").fetchone()
            if n + 2 > self.size:
                return "replay window full (%d labels not yet expired)" % (n // 2)
            self.db.executemany("INSERT INTO uplink_label VALUES (?, ?)",
                                [(k, expires) for k in keys])
            self.db.execute("INSERT OR REPLACE INTO uplink_body VALUES (?, ?)",
                            (keys[1], wall + BODY_KEEP_S))
            self.db.execute("DELETE FROM uplink_body WHERE key IN (SELECT key FROM uplink_body "
                            "ORDER BY expires DESC LIMIT -1 OFFSET ?)", (BODIES,))
        return None
