"""Top-ups the master station seals (forward mode: its encryption machine makes the MACs): a
070102FF the master forwards in AFN10 F1 goes into the top-up journal (``edge.prepaid.topup``)
under its meter and purchase count before it goes on, is relayed as it came, and is verified by
reading the meter's purchase count and remaining money back in plaintext (03330201, 00900200,
00900201: the agent holds no key, so no MAC to check).

Idempotent by purchase count: the same count again is the same top-up (with another amount or
customer it is refused), the meter's "repeat recharge" refusal or its count already at ours
means applied. The agent never sends a top-up again on its own - it cannot seal one - it reads
back until it knows, and a top-up not applied waits in ``retry`` for the master's next forward of
that count (a fresh seal under a new session) until it expires.
"""
import logging

from protocols.dlt645 import apdu, const as K, di as DI, security as S
from protocols.dlt645.frame import decode_frame as decode_645, encode_frame as encode_645
from protocols.errors import ProtocolError

from edge.effects import SleepUntil, Transact
from edge.jobs import _value
from edge.prepaid.carrier import FORWARD_EXPIRY_S, REPLIES_KEPT
from edge.prepaid.jobs import RETRY_STEPS_S, VERIFY_AFTER_S
from edge.prepaid.sessions import serr_text
from edge.prepaid.topup import (DONE, MONEY_SLACK_CENTS, QUEUED, RETRY, SCHEMA, SENT, VERIFYING,
                                TopUp, TopUps)
from edge.store import transaction

log = logging.getLogger(__name__)
PREFIX = "fwd-topup-"
FRAMES = """
CREATE TABLE IF NOT EXISTS topup_frame (id TEXT PRIMARY KEY, content BLOB NOT NULL);
"""
READS = (DI.DI_PURCHASE_COUNT, DI.DI_REMAINING_MONEY, DI.DI_OVERDRAFT_MONEY)


def forward_topup_id(addr, count):
    """The journal id of a forwarded top-up: its meter and purchase count (购电次数)."""
    return "%s%s-%d" % (PREFIX, addr, count)


def recharge_of(request):
    """The ``security.Recharge`` a forwarded 645 request carries, or None (another request)."""
    if not isinstance(request, apdu.Security) or request.di != S.DI_RECHARGE:
        return None
    return S.Recharge.parse(request.body)


class ForwardedTopUps(TopUps):
    """The master's sealed top-ups through ``agent`` (no cost-control engine needed)."""

    def __init__(self, agent):
        self.engine = None
        self.agent = agent
        self.db = agent.store.db
        self._ready = False         # the tables are made at the first forwarded top-up
        self._waiting = {}
        self.replies = {}           # top-up id -> the meter's answer bytes to its last send
        self._answer_to = {}        # top-up id -> callbacks waiting for the send's answer
        self._refused = set()       # ids whose last send the meter refused: nothing to verify

    def forward(self, meter, request, content, on_answer):
        """Journal and carry the forwarded 070102FF ``request`` (its frame ``content``) for
        ``meter``; ``on_answer`` gets the meter's answer bytes to the send (None: no answer, or
        nothing was sent because it is applied already). Returns (TopUp, new); ValueError when
        it cannot be carried."""
        item = recharge_of(request)
        self._ensure()
        tid = forward_topup_id(meter.addr, item.count)
        customer = item.customer[::-1].hex()
        t = self.get(tid)
        now = self.agent.wall
        if t is not None and (t.cents, t.customer) != (item.amount_cents, customer):
            raise ValueError("purchase count %d of meter %s is top-up %s of %.2f yuan for %s: "
                             "another top-up needs the next count" % (
                                 item.count, meter.addr, tid, t.cents / 100.0, t.customer))
        if t is not None and t.open and now >= t.expires:
            self.move(t, "expire")
            self._event(meter, t, "topup_expired", "not applied before its expiry")
        if t is not None and not t.open:
            if t.state != DONE:
                raise ValueError("top-up %s ended %s" % (tid, t.state))
            on_answer(self.replies.get(tid))
            return t, False
        running = any(x.id == tid for _, x in self._waiting.get(meter.addr, ()))
        if t is not None and (t.state != RETRY or running):
            raise ValueError("top-up %s is %s: its answer is still to come" % (tid, t.state))
        with transaction(self.db):
            if t is None:
                t = TopUp(tid, meter.addr, customer, item.amount_cents, count=item.count,
                          created=now, expires=now + FORWARD_EXPIRY_S)
                self.db.execute("INSERT INTO topup (id, meter, customer, cents, count, before,"
                                " state, created, expires, attempts, history) VALUES"
                                " (?,?,?,?,?,?,?,?,?,?,?)", t.row())
            self.db.execute("INSERT OR REPLACE INTO topup_frame (id, content) VALUES (?, ?)",
                            (tid, bytes(content)))
        self._answer_to.setdefault(tid, []).append(on_answer)
        self._start(meter, t)
        return t, t.attempts == 0

    def _ensure(self):
        if not self._ready:
            self.db.executescript(SCHEMA + FRAMES)
            self._ready = True

    def resume(self):
        """After a restart: verify the forwarded top-ups left sent or verifying (a ``retry``
        one waits for the master)."""
        if self.db.execute("SELECT 1 FROM sqlite_master WHERE name='topup_frame'").fetchone() \
                is None:
            return                      # none ever came: no tables on a board without them
        self._ready = True
        for t in self.all():
            if t.id.startswith(PREFIX) and t.state in (SENT, VERIFYING):
                m = self.agent.archive.meters.get(t.meter)
                if m is not None:
                    self._start(m, t)

    def _content(self, tid):
        row = self.db.execute("SELECT content FROM topup_frame WHERE id=?", (tid,)).fetchone()
        return None if row is None else bytes(row[0])

    def _answered(self, tid, reply):
        self.replies[tid] = reply
        while len(self.replies) > REPLIES_KEPT:
            del self.replies[next(iter(self.replies))]
        for callback in self._answer_to.pop(tid, []):
            callback(reply)

    def _plain(self, meter):
        """Generator: (purchase count, remaining fen, overdraft fen) read in plaintext, or None."""
        reqs = [apdu.Read(d) for d in READS]
        result = yield Transact(reqs)
        try:
            count, money, owed = (_value(q, r) for q, r in zip(reqs, result.replies))
            return int(count), int(round(money * 100)), int(round(owed * 100))
        except (TypeError, ValueError, AttributeError) as exc:
            log.debug("meter %s: plain status not read: %s", meter.addr, exc)
            return None

    def job(self, meter, t):
        """Generator: relay the master's frame unless the meter's count shows it applied, then
        read back until the count and money show it (or the tries run out)."""
        try:
            if t.state in (QUEUED, RETRY):
                yield from self._send(meter, t)
            if t.state in (SENT, VERIFYING, RETRY) and t.id not in self._refused:
                yield from self._verify(meter, t)
        finally:
            if t.id in self._answer_to:          # ended before its send: the master hears so
                self._answered(t.id, self.replies.get(t.id))
            self._refused.discard(t.id)

    def _send(self, meter, t):
        status = yield from self._plain(meter)
        if status is not None and status[0] >= t.count:
            self.move(t, "send", "not sent: the meter's purchase count is %d" % status[0])
            self.move(t, "already_applied", "count %d" % status[0])
            self._answered(t.id, None)
            return
        before = None if status is None else status[1] - status[2]
        try:
            request = apdu.parse_request(decode_645(self._content(t.id)))
        except (ProtocolError, TypeError) as exc:      # not what forward() journaled
            self.move(t, "send", "not sent")
            self.move(t, "refused", "journaled frame: %s" % exc)
            self._refused.add(t.id)
            return
        self.move(t, "send", "relayed the master's sealed count %d" % t.count, before=before)
        result = yield Transact([request], early=0.0)
        reply = result.replies[0] if result.replies else None
        self._answered(t.id, None if reply is None else encode_645(
            reply.to_frame(meter.wire_addr)))
        if isinstance(reply, apdu.Ack):
            self.move(t, "ack")
        elif isinstance(reply, apdu.ErrorReply) and (reply.serr or 0) & K.SERR_REPEAT_RECHARGE:
            self.move(t, "already_applied", serr_text(reply))
        elif isinstance(reply, apdu.ErrorReply):
            why = serr_text(reply)
            self.move(t, "refused", why)
            self._refused.add(t.id)
            self._event(meter, t, "topup_refused", "%s: the master must seal count %d again"
                        % (why, t.count))
        else:
            self.move(t, "no_answer", result.kind)

    def _verify(self, meter, t):
        """Generator: read the count and money back after ``VERIFY_AFTER_S``, then at the retry
        steps; done when the count is ours and the money rose by the amount (less what was owed)."""
        waits = (VERIFY_AFTER_S,) + RETRY_STEPS_S
        for wait in waits:
            yield SleepUntil(self.agent.now + wait)
            if t.state == RETRY:
                self.move(t, "verify")
            status = yield from self._plain(meter)
            if status is None:
                self.move(t, "no_answer", "read-back: no answer")
                continue
            count, money, _ = status
            expected = None if t.before is None else max(0, t.before + t.cents)
            if count >= t.count and (expected is None or money >= expected - MONEY_SLACK_CENTS):
                self.move(t, "verified", "count %d, remaining %.2f yuan (plaintext read-back)"
                          % (count, money / 100.0))
                self.agent.count("prepaid_topup_done")
                return
            self.move(t, "not_credited", "count %d, remaining %.2f yuan: not credited" % (
                count, money / 100.0))
        self._event(meter, t, "topup_not_applied", "count %d not seen on the meter: the master "
                    "must forward it again (sealed anew)" % t.count)
