"""Remote top-up (远程充值) of local-wallet meters: a payment becomes a 070102FF purchase.

Each top-up is journaled (table ``topup``) before anything goes on the wire, with the purchase
count it will use, and carried by one job:

    queued --send--> sent --ack / already_applied--> verifying --verified--> done
                       |                                  |
                       +--no_answer / refused--> retry ---+--escalate--> escalated
    any open state --expire--> expired          queued --fail--> failed (never sendable)

Idempotent by purchase count: the count is fixed at the first send (the meter's count + 1),
a repeat is sent with the same count, and the meter's "repeat recharge" SERR (or its count
already at ours) means the top-up is applied, not failed. The result is verified by reading
the remaining money and purchase count back (078102FF, its MACs checked). The agent honours
the meter's hoarding limit (a top-up that would pass it is not sent) and its overdraft (money
owed is taken first, so the remaining money rises by the amount less the overdraft).
"""
import json
import logging

from protocols.dlt645 import apdu, const as K, di as DI, security as S
from protocols.errors import DecodeError

from edge.effects import SleepUntil, Transact
from edge.jobs import _value
from edge.prepaid.jobs import RETRY_STEPS_S, VERIFY_AFTER_S
from edge.prepaid.security import SecurityError
from edge.prepaid.sessions import serr_text
from edge.scheduler import PREPAID
from edge.store import Reading, transaction

log = logging.getLogger(__name__)
QUEUED, SENT, VERIFYING, RETRY = "queued", "sent", "verifying", "retry"
DONE, ESCALATED, EXPIRED, FAILED = "done", "escalated", "expired", "failed"
OPEN = (QUEUED, SENT, VERIFYING, RETRY)
TRANSITIONS = {
    (QUEUED, "send"): SENT, (RETRY, "send"): SENT, (SENT, "ack"): VERIFYING,
    (SENT, "already_applied"): VERIFYING, (SENT, "no_answer"): RETRY, (SENT, "refused"): RETRY,
    (VERIFYING, "verified"): DONE, (VERIFYING, "not_credited"): RETRY,
    (VERIFYING, "no_answer"): RETRY, (RETRY, "verify"): VERIFYING, (RETRY, "escalate"): ESCALATED,
    (QUEUED, "fail"): FAILED, (QUEUED, "expire"): EXPIRED, (RETRY, "expire"): EXPIRED,
    (SENT, "expire"): EXPIRED, (VERIFYING, "expire"): EXPIRED,
}
RENEWALS = 1                    # fresh sessions for a refused step within one attempt
MONEY_SLACK_CENTS = 100         # what the meter may bill between the two status reads
SCHEMA = """
CREATE TABLE IF NOT EXISTS topup (
    id TEXT PRIMARY KEY, meter TEXT NOT NULL, customer TEXT NOT NULL, cents INTEGER NOT NULL,
    count INTEGER, before INTEGER, state TEXT NOT NULL, created REAL NOT NULL,
    expires REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, history TEXT NOT NULL);
"""
COLUMNS = "id, meter, customer, cents, count, before, state, created, expires, attempts, history"


class TopUpError(ValueError):
    """An event the top-up's state does not allow."""


class TopUp:
    __slots__ = ("id", "meter", "customer", "cents", "count", "before", "state", "created",
                 "expires", "attempts", "history")

    def __init__(self, id, meter, customer, cents, count=None, before=None, state=QUEUED,
                 created=0.0, expires=0.0, attempts=0, history=None):
        self.id, self.meter, self.customer, self.cents = id, meter, customer, int(cents)
        self.count, self.before, self.state = count, before, state
        self.created, self.expires, self.attempts = created, expires, attempts
        self.history = list(history or [])

    @property
    def open(self):
        return self.state in OPEN

    def row(self):
        return (self.id, self.meter, self.customer, self.cents, self.count, self.before,
                self.state, self.created, self.expires, self.attempts, json.dumps(self.history))

    def __repr__(self):
        return "TopUp(%s %s %d fen #%s %s)" % (self.id, self.meter, self.cents, self.count,
                                              self.state)


def customer_number(customer):
    """The 6-byte customer number (户号, wire order) of a customer id of 12 digits."""
    if len(customer) != 12 or not customer.isdigit():
        raise ValueError("customer %r is not a 12-digit customer number (户号)" % (customer,))
    return bytes.fromhex(customer)[::-1]


def status_rows(db):
    """Every journaled top-up as plain data (``gridedge prepaid status``)."""
    db.executescript(SCHEMA)
    return [{"id": r[0], "meter": r[1], "customer": r[2], "amount": r[3] / 100.0,
             "purchase_count": r[4], "state": r[6], "attempts": r[9]}
            for r in db.execute("SELECT %s FROM topup ORDER BY created, id" % COLUMNS)]


class TopUps:
    """The top-up journal and its jobs for ``engine``'s agent (one per payment id)."""

    def __init__(self, engine):
        self.engine = engine
        self.agent = engine.agent
        self.db = self.agent.store.db
        self.db.executescript(SCHEMA)
        self._waiting = {}          # meter addr -> [(meter, TopUp)]: one top-up per meter at once

    def get(self, tid):
        row = self.db.execute("SELECT %s FROM topup WHERE id=?" % COLUMNS, (tid,)).fetchone()
        return None if row is None else TopUp(*row[:10], history=json.loads(row[10]))

    def all(self):
        return [TopUp(*r[:10], history=json.loads(r[10])) for r in
                self.db.execute("SELECT %s FROM topup ORDER BY created, id" % COLUMNS)]

    def move(self, t, event, note="", **fields):
        state = TRANSITIONS.get((t.state, event))
        if state is None:
            raise TopUpError("top-up %s: %r is not allowed in state %r" % (t.id, event, t.state))
        t.state = state
        for k, v in fields.items():
            setattr(t, k, v)
        if event == "send":
            t.attempts += 1
        now = self.agent.wall
        t.history.append([round(now, 3), event, note] if note else [round(now, 3), event])
        with transaction(self.db):
            self.db.execute("UPDATE topup SET state=?, count=?, before=?, attempts=?, history=?"
                            " WHERE id=?", (t.state, t.count, t.before, t.attempts,
                                            json.dumps(t.history), t.id))

    def submit(self, payment_id, meter, customer, uyuan):
        """Journal a top-up of ``uyuan`` micro-yuan for ``meter``; the same id acts once.
        Returns the TopUp (a new one's job is started)."""
        known = self.get(payment_id)
        if known is not None:
            return known
        now = self.agent.wall
        t = TopUp(payment_id, meter.addr, customer, uyuan // 10000, created=now,
                  expires=now + self.engine.settings.expiry_h * 3600.0)
        with transaction(self.db):
            self.db.execute("INSERT INTO topup (%s) VALUES (%s)" % (
                COLUMNS, ",".join("?" * 11)), t.row())
        why = None
        if uyuan % 10000:
            why = "amount %d micro-yuan is not a whole fen (0.01 yuan, the meter's unit)" % uyuan
        elif not self.engine.secured(meter):
            why = "meter %s is not archived for ESAM security (control_level 152): a top-up " \
                  "is always sealed" % meter.addr
        else:
            try:
                customer_number(customer)
            except ValueError as exc:
                why = str(exc)
        if why is not None:
            self.move(t, "fail", why)
            self._event(meter, t, "topup_failed", why)
            return t
        self._start(meter, t)
        return t

    def resume(self):
        rows = self.db.execute("SELECT %s FROM topup WHERE state IN (%s) AND id NOT LIKE"
                               " 'fwd-topup-%%' ORDER BY created, id"     # the master's own
                               % (COLUMNS, ",".join("?" * len(OPEN))), OPEN)
        for r in rows.fetchall():
            t = TopUp(*r[:10], history=json.loads(r[10]))
            m = self.agent.archive.meters.get(t.meter)
            if m is not None:
                self._start(m, t)

    def _start(self, meter, t):
        """Run ``t`` now, or after the top-up already running for its meter: each takes the
        meter's purchase count + 1, so two at once would both claim one count (and one
        payment would be lost while both read as applied)."""
        queue = self._waiting.setdefault(meter.addr, [])
        queue.append((meter, t))
        if len(queue) == 1:
            self.agent.spawn(self._serial(meter, t), meter, PREPAID, meter.port)

    def _serial(self, meter, t):
        """Generator: ``t``'s job, then the next waiting top-up of the same meter."""
        try:
            result = yield from self.job(meter, t)
        finally:
            queue = self._waiting.get(meter.addr, [])
            if queue:
                queue.pop(0)
            if queue:
                m, nxt = queue[0]
                self.agent.spawn(self._serial(m, nxt), m, PREPAID, m.port)
            else:
                self._waiting.pop(meter.addr, None)
        return result

    def _event(self, meter, t, event, why):
        log.warning("top-up %s of meter %s: %s (%s)", t.id, meter.addr, event, why)
        self.agent.count("prepaid_" + event)
        self.agent.store_readings([Reading(meter.addr, "prepaid_event", 0, t.id, {
            "event": event, "topup": t.id, "cents": t.cents, "why": why}, "ok", (),
            self.agent.wall)])

    # --- the job --------------------------------------------------------------------------
    def _status(self, meter, session):
        """Generator: ((Status, hoarding yuan, overdraft yuan) read with its MACs, None, False)
        or (None, why, whether a fresh session may help)."""
        op, sessions = self.engine.operator, self.engine.sessions
        reqs = [apdu.Security(S.DI_STATUS, op), apdu.Read(DI.DI_HOARDING_LIMIT),
                apdu.Read(DI.DI_OVERDRAFT_MONEY)]
        result = yield Transact(reqs, sessions.not_before(session, self.agent.now))
        reply = result.replies[0] if result.replies else None
        if isinstance(reply, apdu.ErrorReply):
            return None, "status query refused: " + (sessions.on_reply(
                meter.addr, reply) or serr_text(reply)), sessions.renewable(session, reply)
        if not isinstance(reply, apdu.Ack):
            return None, "status query: " + result.kind, False
        try:
            status = S.Status.parse(reply.data[4:])
            hoarding = _value(reqs[1], result.replies[1])
            overdraft = _value(reqs[2], result.replies[2])
        except (DecodeError, ValueError) as exc:
            return None, "status query: %s" % exc, False
        if not self.engine.security.verify_status(session, status):
            return None, "status answer: the meter's MAC does not verify", sessions.renewable(
                session, mac_failed=True)
        return (status, hoarding, overdraft), None, False

    def job(self, meter, t):
        """Generator: send, verify, retry and escalate one top-up (every step journaled). A
        step refused for its session (ended by the meter, or superseded) is tried again at
        once under a fresh one, ``RENEWALS`` times an attempt."""
        engine, failures, renewals, stale = self.engine, 0, 0, None
        sessions = engine.sessions
        while t.open:
            read, final, renew = None, False, False
            if self.agent.wall >= t.expires:
                self.move(t, "expire")
                self._event(meter, t, "topup_expired", "not applied before its expiry")
                return
            try:
                if stale is not None:
                    session, why, _ = yield from sessions.renew(self.agent, meter,
                                                                engine.operator, stale)
                    stale = None
                else:
                    session, why, _ = yield from sessions.ensure(self.agent, meter,
                                                                 engine.operator)
                if session is not None:
                    read, why, renew = yield from self._status(meter, session)
            except SecurityError as exc:       # this backend cannot seal: say so at once
                session, why, final = None, str(exc), True
            if session is not None and read is not None:
                status, hoarding, overdraft = read
                if t.state == SENT:             # sent before a restart: its answer is unknown
                    self.move(t, "no_answer", "answer unknown (restart)")
                if t.state in (QUEUED, RETRY) and (t.count is None or status.count < t.count):
                    why = self._check(t, status, hoarding)
                    final = why is not None             # sending it would not help
                    if why is None:
                        why, final, renew = yield from self._send(meter, t, session, status,
                                                                  overdraft)
                if t.state == VERIFYING or (t.state == RETRY and t.count is not None
                                            and status.count >= t.count):
                    why, renew, session = yield from self._verify(meter, t, session)
                    if t.state == DONE:
                        return
            if why is not None:
                if t.state == SENT:
                    self.move(t, "no_answer", why)
                elif t.state == QUEUED:
                    self.move(t, "send", "not sent")
                    self.move(t, "refused", why)
                elif t.state == VERIFYING:
                    self.move(t, "no_answer", why)
                if renew and not final and renewals < RENEWALS:
                    renewals, stale = renewals + 1, session
                    continue
                failures += 1
                if failures > len(RETRY_STEPS_S) or final:
                    self.move(t, "escalate", why)
                    self._event(meter, t, "topup_escalated", why)
                    return
                renewals = 0
                yield SleepUntil(self.agent.now + RETRY_STEPS_S[min(failures, 3) - 1])

    def _check(self, t, status, hoarding):
        if customer_number(t.customer) != status.customer:
            return "customer number on the meter is %s, not %s" % (
                status.customer[::-1].hex(), t.customer)
        if status.remaining_cents + t.cents > round(hoarding * 100):
            return "hoarding limit %.2f yuan: %.2f left + %.2f would pass it" % (
                hoarding, status.remaining_cents / 100.0, t.cents / 100.0)
        return None

    def _send(self, meter, t, session, status, overdraft):
        """Generator: the 070102FF purchase with the journaled count (fixed at the first send).
        Returns (why not applied or None, whether retrying is useless, whether a fresh session
        may help)."""
        if t.count is None:
            t.before = status.remaining_cents - round(overdraft * 100)
            t.count = status.count + 1
        customer = customer_number(t.customer)
        try:
            mac1, mac2 = self.engine.security.recharge_macs(session, t.cents, t.count, customer)
        except SecurityError as exc:
            return str(exc), True, False
        item = S.Recharge(self.engine.operator, t.cents, t.count, mac1, customer, mac2)
        self.move(t, "send", "sealed count %d" % t.count, count=t.count, before=t.before)
        sessions = self.engine.sessions
        result = yield Transact([apdu.Security(S.DI_RECHARGE, item.encode())],
                                sessions.not_before(session, self.agent.now))
        reply = result.replies[0] if result.replies else None
        if isinstance(reply, apdu.Ack):
            self.move(t, "ack")
            return None, False, False
        if isinstance(reply, apdu.ErrorReply):
            text = sessions.on_reply(meter.addr, reply) or serr_text(reply)
            serr = reply.serr or 0
            if serr & K.SERR_REPEAT_RECHARGE:
                self.move(t, "already_applied", text)
                return None, False, False
            self.move(t, "refused", text)
            return (text, bool(serr & (K.SERR_CUSTOMER | K.SERR_HOARDING)),
                    sessions.renewable(session, reply))
        self.move(t, "no_answer", result.kind)
        return "purchase: " + result.kind, False, False

    def _verify(self, meter, t, session):
        """Generator: read remaining money and count back (under the session live then, not
        the one of the send); done when the count is ours and the money rose by the amount
        (less any overdraft). Returns (why not or None, whether a fresh session may help,
        the session used)."""
        if t.state == RETRY:
            self.move(t, "verify")
        yield SleepUntil(self.agent.now + VERIFY_AFTER_S)
        session, why, _ = yield from self.engine.sessions.ensure(self.agent, meter,
                                                                 self.engine.operator)
        if session is None:
            return why, False, None
        read, why, renew = yield from self._status(meter, session)
        if read is None:
            return why, renew, session
        status = read[0]
        expected = max(0, (t.before or 0) + t.cents)       # overdraft is paid back first
        if status.count == t.count and status.remaining_cents >= expected - MONEY_SLACK_CENTS:
            self.move(t, "verified", "count %d, remaining %.2f yuan" % (
                status.count, status.remaining_cents / 100.0))
            self.agent.count("prepaid_topup_done")
            return None, False, session
        why = "count %d, remaining %.2f yuan: not credited" % (status.count,
                                                               status.remaining_cents / 100.0)
        self.move(t, "not_credited", why)
        return why, False, session
