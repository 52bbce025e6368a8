"""ESAM sessions with secured meters: authenticate (070000FF), reuse the session while it is
valid, authenticate again when it expires or the meter answers a security error (SERR).

The agent's validity is the meter's (``[prepaid] esam_session_min``) less a margin, so that a
command is never sealed under a session the meter is about to end. Every SERR is counted by
name and returned for the command journal. On a crowded bus a step queued behind everyone else
would meet a session the meter already ended, so the steps under a session go first in their
lane (``not_before``), one authentication per meter is in flight at a time, and a step refused
for an ended or superseded session (``renewable``) is retried once under a fresh one.
"""
import logging

from protocols.dlt645 import apdu, const as K, security as S
from protocols.errors import DecodeError

from edge.effects import SleepUntil, Transact
from edge.prepaid.security import Session

log = logging.getLogger(__name__)
MARGIN_S = 30.0
AHEAD_S = 3600.0        # a step under a session sorts before lane work queued this much after it
WAIT_S = 1.0            # how often a job waiting for another job's authentication looks again


def serr_text(reply):
    """``SERR 0008 identity_authentication_failed`` for an abnormal reply with SERR."""
    if reply.serr is None:
        return "ERR %02X %s" % (reply.err, ",".join(reply.reasons))
    return "SERR %04X %s" % (reply.serr, ",".join(S.serr_names(reply.serr)))


class Sessions:
    """Sessions per meter through ``backend``; ``count`` gets counter names (agent.count)."""

    def __init__(self, backend, validity_s=300.0, count=None):
        self.backend = backend
        self.validity_s = float(validity_s)
        self.by_meter = {}
        self.generation = {}            # meter -> authentications made with it
        self.authenticating = set()     # meters with an identity authentication in flight
        self._count = count or (lambda name, n=1: None)
        self.stats = {"authentications": 0, "reused": 0, "expired": 0, "serr": 0,
                      "auth_refused": 0, "renewed": 0}

    def _note(self, name):
        self.stats[name] = self.stats.get(name, 0) + 1
        self._count("esam_" + name)

    def current(self, addr, wall):
        """The live session with ``addr``, else None (an expired one is dropped)."""
        s = self.by_meter.get(addr)
        if s is None:
            return None
        if not s.valid(wall):
            del self.by_meter[addr]
            self._note("expired")
            return None
        return s

    def drop(self, addr):
        self.by_meter.pop(addr, None)

    def not_before(self, session, now):
        """When a step under ``session`` may start: before its authentication was queued, so it
        runs next in its lane instead of behind work queued since (other authentications too)
        with the session ending on the way; the oldest session's step first."""
        return now if session is None else min(now, session.queued - AHEAD_S)

    def superseded(self, session):
        """Whether the agent authenticated with the meter again after ``session`` (the meter
        then knows only the newer one, and every MAC of the older fails)."""
        return self.generation.get(session.addr, 0) != session.generation

    def renewable(self, session, reply=None, mac_failed=False):
        """Whether a refusal of a step under ``session`` comes from the session, not from the
        step: SERR 0008 (the meter ended it), or a MAC failure (SERR 0004 or the meter's MAC on
        a status answer) under a session superseded since."""
        if session is None:
            return False
        serr = getattr(reply, "serr", None) or 0
        if serr & K.SERR_IDENTITY:
            return True
        if mac_failed or serr & K.SERR_ESAM_VERIFY:
            return self.superseded(session)
        return False

    def renew_next(self, addr, stale):
        """The next ``ensure`` for ``addr`` gives a session other than ``stale``."""
        if self.by_meter.get(addr) is stale:
            self.drop(addr)
        self._note("renewed")

    def renew(self, agent, meter, operator, stale):
        """Generator: a session other than ``stale`` (a step's retry): the newer one another
        job opened, if live, else a fresh authentication. Returns what ``ensure`` returns."""
        self.renew_next(meter.addr, stale)
        return (yield from self.ensure(agent, meter, operator))

    def on_reply(self, addr, reply):
        """A secured command's answer: a SERR ends the session (the next send authenticates
        again). Returns the SERR text for the journal, or None."""
        if isinstance(reply, apdu.ErrorReply):
            if reply.serr is not None:
                self._note("serr")
                for name in S.serr_names(reply.serr):
                    self._count("esam_serr_" + name)
                self.drop(addr)
            return serr_text(reply)
        return None

    def ensure(self, agent, meter, operator):
        """Generator (``yield from``): the live session, or a new one. Returns (Session, None,
        True) or (None, why, whether the meter answered); raises SecurityError when the backend cannot authenticate at all."""
        while meter.addr in self.authenticating:       # another job is authenticating: share it
            yield SleepUntil(agent.now + WAIT_S)
        s = self.current(meter.addr, agent.wall)
        if s is not None:
            s.uses += 1
            self._note("reused")
            return s, None, True
        r1 = self.backend.random1(meter.addr)          # SecurityError: this backend cannot
        item = self.backend.identity(meter.addr, r1, operator)
        queued = agent.now
        self.authenticating.add(meter.addr)
        try:
            result = yield Transact([apdu.Security(S.DI_IDENTITY, item.encode())], queued)
        finally:
            self.authenticating.discard(meter.addr)
        self.generation[meter.addr] = self.generation.get(meter.addr, 0) + 1
        reply = result.replies[0] if result.replies else None
        if isinstance(reply, apdu.ErrorReply):
            self._note("auth_refused")
            self.on_reply(meter.addr, reply)
            return None, "identity authentication refused: " + serr_text(reply), True
        if not isinstance(reply, apdu.Ack):
            return None, "identity authentication: " + result.kind, reply is not None
        try:
            answer = S.IdentityReply.parse(reply.data[4:])
        except DecodeError as exc:
            return None, "identity authentication: %s" % exc, True
        wall = agent.wall
        s = Session(meter.addr, r1, answer.random2, answer.serial, wall,
                    wall + max(0.0, self.validity_s - MARGIN_S))
        s.uses, s.queued, s.generation = 1, queued, self.generation[meter.addr]
        self.by_meter[meter.addr] = s
        self._note("authentications")
        log.debug("ESAM session with %s (serial %s)", meter.addr, answer.serial.hex())
        return s, None, True
