"""The concentrator's end of the Q/GDW 1376.1 uplink (终端会话), sans-I/O.

One TCP connection at a time: dial, log in (AFN02 F1), heartbeat (F3), answer the master's
requests, and upload data (AFN0D/0E, CON set) one frame per confirm, rate-limited. Driven like an
aioquic connection: the shell dials at ``connect_at()``, reports ``connection_made`` /
``connection_failed`` / ``connection_lost``, feeds ``receive_data(data, now)``, writes
``data_to_send()``, closes the connection when ``wants_close``, and calls ``on_timer(now)`` at
``next_deadline()``. ``now`` is monotonic seconds. What the concentrator knows comes from a
handler (``edge.uplink.Uplink`` on a board):

    handler.answer(frame, now) -> [Unit]           the response; AFN00 units confirm or deny
    handler.has_upload() -> bool                   whether anything waits to go up
    handler.next_upload(max_bytes) -> (token, afn, [Unit]) or None
    handler.upload_done(token, outcome)            CONFIRMED, DENIED or LOST (not confirmed)

Rules of this file: the state moves only through TRANSITIONS, and an event a state does not
expect raises SessionError naming both. Uploads are never counted as delivered until the
master's confirm for that very frame arrives on the connection that carried them; a lost
connection or a confirm timeout hands them back to the handler as LOST, and they go up again.
A confirm names its frame by the 4-bit SEQ only, so: frames in flight are a table keyed by SEQ
(at most 16, bounded by ``window`` for uploads), a confirm that lists its units (AFN00 F3) must
list the frame's, and the SEQ of a frame whose confirm timed out is not reused for
``late_confirm_s`` - a late confirm then finds no frame to settle instead of settling the next
frame that happens to carry the same SEQ.
"""
import copy
import enum
import logging

from protocols.gdw1376_1 import Deframer, Frame, Garbage, NEED_DATA, Unit, encode_frame
from protocols.gdw1376_1.errors import DecodeError
from protocols.gdw1376_1.frame import F_CONFIRM, F_LINK_TEST, F_RESPONSE, F_USER_DATA
from protocols.gdw1376_1.units import AFN_CONFIRM, AFN_LINK, encode_units, parse_units

CONFIRMED, DENIED, LOST = "confirmed", "denied", "lost"
# an active upload goes as DIR 1 PRM 1 function 4 (user data) with CON set, and the master
# confirms it with AFN00 F1 (UNVERIFIED: peers differ on the C byte of active reports)
UPLOAD_FUNC = F_USER_DATA
LOGIN, LOGOUT, HEARTBEAT = 1, 2, 3             # AFN02 items
SEQS = 16                                      # PSEQ is 4 bits (SEQ D3..D0)
MAX_WINDOW = SEQS - 2                          # room left for a heartbeat and a late SEQ

log = logging.getLogger(__name__)
# why a connection is given up, as the log says it (the events that move to CLOSING)
CLOSE_REASONS = {"login_denied": "the master denied the login",
                 "login_timeout": "no confirm of the login",
                 "heartbeat_dead": "heartbeats not confirmed",
                 "seq_exhausted": "every SEQ waits for a confirm",
                 "logout": "logged out (the agent is stopping)"}


class State(enum.Enum):
    OFFLINE = "offline"        # no connection: dial at connect_at()
    LOGIN = "login"            # connected, login sent, waiting for its confirm
    ONLINE = "online"          # logged in: heartbeats, answers, uploads
    CLOSING = "closing"        # this connection is given up; the shell closes it


S = State
TRANSITIONS = {
    (S.OFFLINE, "connected"): S.LOGIN,
    (S.OFFLINE, "dial_failed"): S.OFFLINE,
    (S.LOGIN, "login_confirmed"): S.ONLINE,
    (S.LOGIN, "login_denied"): S.CLOSING,
    (S.LOGIN, "login_timeout"): S.CLOSING,
    (S.LOGIN, "lost"): S.OFFLINE,
    (S.ONLINE, "heartbeat_dead"): S.CLOSING,
    (S.ONLINE, "seq_exhausted"): S.CLOSING,
    (S.ONLINE, "logout"): S.CLOSING,
    (S.ONLINE, "lost"): S.OFFLINE,
    (S.CLOSING, "lost"): S.OFFLINE,
}


class SessionError(Exception):
    """An event the session's state does not allow (a shell bug)."""

    def __init__(self, state, event):
        self.state = state
        self.event = event
        super().__init__("1376.1 session: %r is not allowed in state %s" % (event, state.value))


class SessionSettings:
    """Timing of the uplink; every figure is a parameter (``[uplink]`` in agent.toml)."""

    FIELDS = ("heartbeat_s", "confirm_timeout_s", "login_tries", "max_missed", "reconnect_min_s",
              "reconnect_max_s", "jitter", "window", "upload_per_s", "frame_bytes",
              "late_confirm_s")

    def __init__(self, heartbeat_s=60.0, confirm_timeout_s=30.0, login_tries=3, max_missed=3,
                 reconnect_min_s=5.0, reconnect_max_s=300.0, jitter=0.5, window=1,
                 upload_per_s=2.0, frame_bytes=1024, late_confirm_s=None):
        self.heartbeat_s = heartbeat_s
        self.confirm_timeout_s = confirm_timeout_s
        self.login_tries = login_tries
        self.max_missed = max_missed              # unconfirmed heartbeats before giving up
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.jitter = jitter                      # a dial waits (1 - jitter .. 1) x the back-off
        self.window = window                      # upload frames awaiting a confirm at once
        self.upload_per_s = upload_per_s          # upload frames per second (token bucket)
        self.frame_bytes = frame_bytes            # data units per upload frame, bytes
        # a SEQ whose confirm timed out stays out of use this long (default 4 timeouts)
        self.late_confirm_s = 4.0 * confirm_timeout_s if late_confirm_s is None else late_confirm_s
        problems = [what for bad, what in (
            (not heartbeat_s > 0, "heartbeat_s > 0"),
            (not confirm_timeout_s > 0, "confirm_timeout_s > 0"),
            (login_tries < 1, "login_tries >= 1"), (max_missed < 1, "max_missed >= 1"),
            (not reconnect_min_s > 0, "reconnect_min_s > 0"),
            (not reconnect_min_s <= reconnect_max_s, "reconnect_min_s <= reconnect_max_s"),
            (not 0 <= jitter < 1, "0 <= jitter < 1"), (not 1 <= window <= MAX_WINDOW,
                                                       "1 <= window <= %d" % MAX_WINDOW),
            (not upload_per_s > 0, "upload_per_s > 0"), (frame_bytes < 64, "frame_bytes >= 64"),
            (not self.late_confirm_s >= 0, "late_confirm_s >= 0"))
            if bad]
        if problems:
            raise ValueError("need " + ", ".join(problems))


class _Pending:
    """A frame awaiting its confirm: what it was, and which units it carried ((pn, fn) pairs
    of its AFN), for a confirm that names them."""

    __slots__ = ("kind", "token", "deadline", "afn", "items")

    def __init__(self, kind, token, deadline, afn, items):
        self.kind = kind
        self.token = token
        self.deadline = deadline
        self.afn = afn
        self.items = items


class TerminalSession:
    """The terminal ``region``/``terminal`` (A1/A2) talking to one master station."""

    def __init__(self, region, terminal, handler, rng, settings=None):
        self.region = region
        self.terminal = terminal
        self.handler = handler
        self.rng = rng
        self.settings = settings or SessionSettings()
        self.state = S.OFFLINE
        self.counters = {}
        self._out = bytearray()
        self._deframer = Deframer()
        self._pseq = 0
        self._pending = {}                        # SEQ -> _Pending: frames in flight
        self._late = {}                           # SEQ -> until when it stays out of use
        self._failures = 0
        self._dial_at = 0.0
        self._next_heartbeat = None
        self._missed = 0
        self._login_tries = 0
        self._credit = 1.0
        self._credit_at = 0.0
        self.connection = 0                       # which connection answers belong to
        self.last_confirm = None                  # when the master last confirmed a frame of ours
        self._down_logged = False                 # "link down" said since the last link up

    # --- states -------------------------------------------------------------------------------
    def _move(self, event, reason=None):
        try:
            before, self.state = self.state, TRANSITIONS[(self.state, event)]
        except KeyError:
            raise SessionError(self.state, event) from None
        self.count(event)
        self._log(before, event, reason)

    def _log(self, before, event, reason):
        """One line per change of the link: up, down (with why), the first failed dial."""
        name = "%s-%05d" % (self.region, self.terminal)
        extra = {"event": "uplink_" + event, "terminal": name, "state": self.state.value}
        if event == "connected":
            log.info("uplink %s: connected, logging in", name, extra=extra)
        elif event == "login_confirmed":
            self._down_logged = False
            log.info("uplink %s: logged in, link up", name, extra=extra)
        elif event == "dial_failed":
            extra["reason"] = reason
            if not self._down_logged:
                self._down_logged = True
                log.warning("uplink %s: link down: cannot reach the master: %s", name, reason,
                            extra=extra)
            else:
                log.debug("uplink %s: still cannot reach the master: %s", name, reason,
                          extra=extra)
        elif event == "lost":
            extra["reason"] = reason = reason or "connection closed"
            if before is S.CLOSING or self._down_logged:
                log.info("uplink %s: connection closed: %s", name, reason, extra=extra)
            elif before is S.ONLINE:
                log.warning("uplink %s: link down: %s", name, reason, extra=extra)
            else:
                log.warning("uplink %s: link down before the login was confirmed: %s", name,
                            reason, extra=extra)
            self._down_logged = True
        elif event in CLOSE_REASONS:
            extra["reason"] = CLOSE_REASONS[event]
            level = logging.INFO if event == "logout" else logging.WARNING
            self._down_logged = True
            log.log(level, "uplink %s: link down: %s", name, CLOSE_REASONS[event], extra=extra)

    def count(self, name, n=1):
        self.counters[name] = self.counters.get(name, 0) + n

    @property
    def wants_close(self):
        return self.state is S.CLOSING

    @property
    def has_data_to_send(self):
        return bool(self._out)

    @property
    def online(self):
        return self.state is S.ONLINE

    # --- the shell's calls --------------------------------------------------------------------
    def connect_at(self):
        """When to dial (monotonic seconds), or None while connected."""
        return self._dial_at if self.state is S.OFFLINE else None

    def connection_made(self, now):
        self._move("connected")
        self.connection += 1
        self._deframer = Deframer()
        self._pending = {}
        self._late = {}                           # a new connection carries no old confirm
        self._missed = 0
        self._login_tries = 0
        self._send_login(now)

    def connection_failed(self, now, reason=None):
        """The dial failed (``reason``: what the shell saw, for the log)."""
        self._move("dial_failed", reason or "dial failed")
        self._failures += 1
        self._schedule_dial(now)

    def connection_lost(self, now, reason=None):
        """The connection is gone (``reason``: what the shell saw, for the log)."""
        if self.state is S.OFFLINE:
            return
        reached = self.state is not S.LOGIN
        self._move("lost", reason)
        for p in self._pending.values():
            if p.kind == "upload":
                self.handler.upload_done(p.token, LOST)
        self._pending = {}
        self._out = bytearray()
        self._next_heartbeat = None
        self._failures = 0 if reached else self._failures + 1
        self._schedule_dial(now)

    def close(self, now):
        """Log out (AFN02 F2) and give the connection up (the agent is stopping)."""
        if self.state is S.ONLINE:
            self._send_link(LOGOUT, now, expect=False)
            self._move("logout")

    def retune(self, heartbeat_s, now, confirm_timeout_s=None, login_tries=None):
        """Take the master's AFN04 F1 on the running session: a new heartbeat period (the next
        heartbeat goes ``heartbeat_s`` after the last one, or now if that has passed), and its
        answer timeout and resend count for frames sent from now on (None: unchanged)."""
        if not heartbeat_s > 0:
            raise ValueError("heartbeat_s > 0, got %r" % (heartbeat_s,))
        if confirm_timeout_s is not None and not confirm_timeout_s > 0:
            raise ValueError("confirm_timeout_s > 0, got %r" % (confirm_timeout_s,))
        if login_tries is not None and login_tries < 1:
            raise ValueError("login_tries >= 1, got %r" % (login_tries,))
        old = self.settings
        new = {"heartbeat_s": heartbeat_s, "confirm_timeout_s": confirm_timeout_s,
               "login_tries": login_tries}
        new = {k: v for k, v in new.items() if v is not None and v != getattr(old, k)}
        if not new:
            return
        self.settings = copy.copy(old)            # the configured settings stay as loaded
        for k, v in new.items():
            setattr(self.settings, k, v)
        if "heartbeat_s" in new:
            if self._next_heartbeat is not None:
                self._next_heartbeat = max(now, self._next_heartbeat - old.heartbeat_s +
                                           heartbeat_s)
            self.count("heartbeat_retuned")
        log.info("uplink %s-%05d: heartbeat every %g s, confirm timeout %g s, %d login tries "
                 "(AFN04 F1)", self.region, self.terminal, self.settings.heartbeat_s,
                 self.settings.confirm_timeout_s, self.settings.login_tries,
                 extra={"event": "uplink_heartbeat_retuned", "heartbeat_s": heartbeat_s,
                        "confirm_timeout_s": self.settings.confirm_timeout_s,
                        "login_tries": self.settings.login_tries})

    def data_to_send(self):
        out = bytes(self._out)
        self._out = bytearray()
        return out

    def next_deadline(self):
        if self.state is S.OFFLINE:
            return self._dial_at
        times = [p.deadline for p in self._pending.values()] + list(self._late.values())
        if self.state is S.ONLINE:
            times.append(self._next_heartbeat)
            if self._uploads_in_flight() < self.settings.window and self.handler.has_upload():
                times.append(self._credit_at + max(0.0, 1.0 - self._credit) / self.settings.upload_per_s)
        return min(times) if times else None

    def on_timer(self, now):
        for seq, until in list(self._late.items()):
            if until <= now:
                del self._late[seq]
        for seq, p in sorted(self._pending.items(), key=lambda kv: kv[1].deadline):
            if p.deadline > now or self.state is S.CLOSING:
                continue
            del self._pending[seq]
            self._late[seq] = now + self.settings.late_confirm_s
            self._expired(p, now)
        if self.state is S.ONLINE and now >= self._next_heartbeat:
            self._next_heartbeat = now + self.settings.heartbeat_s
            self._send_link(HEARTBEAT, now)
        self._pump_uploads(now)

    def receive_data(self, data, now):
        self._deframer.feed(data, now)
        while True:
            item = self._deframer.next()
            if item is NEED_DATA:
                break
            if isinstance(item, Garbage):
                self.count("garbage")
                continue
            self._on_frame(item, now)
        self._pump_uploads(now)

    def respond(self, request, units, connection):
        """Send a deferred answer (a forwarded meter read that took time) to ``request``,
        if the connection that asked is still the one up."""
        if connection == self.connection and self.state is S.ONLINE:
            self._answer(request, units)
        else:
            self.count("answer_dropped_connection_gone")

    def upload_overhead(self, afn):
        """Bytes an upload frame of ``afn`` adds around its data units (start, length, C, A,
        AFN, SEQ, CS, end)."""
        return len(encode_frame(self._frame(afn, [], UPLOAD_FUNC, seq=0, con=True)))

    # --- inside -------------------------------------------------------------------------------
    def _schedule_dial(self, now):
        s = self.settings
        delay = min(s.reconnect_max_s, s.reconnect_min_s * 2.0 ** min(self._failures, 16))
        self._dial_at = now + delay * (1.0 - s.jitter * self.rng.random())

    def _next_seq(self):
        """The next SEQ neither in flight nor waiting out a late confirm, or None."""
        for _ in range(SEQS):
            seq = self._pseq
            self._pseq = (self._pseq + 1) & 0x0F
            if seq not in self._pending and seq not in self._late:
                return seq
        return None

    def _frame(self, afn, units, func, prm=True, **kw):
        return Frame(afn, encode_units(units), up=True, prm=prm, func=func, region=self.region,
                     terminal=self.terminal, **kw)

    def _send(self, frame):
        self._out += encode_frame(frame)

    def _send_login(self, now):
        self._login_tries += 1
        self._send_link(LOGIN, now)

    def _send_link(self, fn, now, expect=True):
        seq = self._next_seq()
        if seq is None:                           # every SEQ waits for a confirm: give up
            if self.state is S.ONLINE:
                self._move("seq_exhausted")       # counts the event once
            else:
                self.count("seq_exhausted")
            return
        self._send(self._frame(AFN_LINK, [Unit(AFN_LINK, fn, 0, None, True)], F_LINK_TEST,
                               seq=seq, con=True))
        if expect:
            kind = "login" if fn == LOGIN else "heartbeat"
            self._pending[seq] = _Pending(kind, None, now + self.settings.confirm_timeout_s,
                                          AFN_LINK, {(0, fn)})

    def _expired(self, p, now):
        if p.kind == "login":
            if self._login_tries < self.settings.login_tries:
                self._send_login(now)
            else:
                self._move("login_timeout")
        elif p.kind == "heartbeat":
            self._missed += 1
            self.count("heartbeat_missed")
            if self._missed >= self.settings.max_missed:
                self._move("heartbeat_dead")
        else:
            self.count("upload_timeout")
            self.handler.upload_done(p.token, LOST)

    def _uploads_in_flight(self):
        return sum(1 for p in self._pending.values() if p.kind == "upload")

    def _pump_uploads(self, now):
        s = self.settings
        if self.state is not S.ONLINE:
            return
        self._credit = min(float(s.window), self._credit + (now - self._credit_at) * s.upload_per_s)
        self._credit_at = now
        while self._credit >= 1.0 and self._uploads_in_flight() < s.window:
            if len(self._pending) + len(self._late) >= SEQS - 1:
                break                             # keep a SEQ free for the next heartbeat
            if not self.handler.has_upload():
                break
            item = self.handler.next_upload(s.frame_bytes)
            if item is None:
                break
            token, afn, units = item
            seq = self._next_seq()
            self._send(self._frame(afn, units, UPLOAD_FUNC, seq=seq, con=True))
            self._pending[seq] = _Pending("upload", token, now + s.confirm_timeout_s, afn,
                                          {(u.pn, u.fn) for u in units})
            self._credit -= 1.0
            self.count("upload_frames")

    def _on_frame(self, f, now):
        if f.up or f.region != self.region or f.terminal != self.terminal:
            self.count("frame_not_for_us")
            return
        self._missed = 0
        if f.prm:
            if self.state is S.ONLINE:
                self._answer(f, self.handler.answer(f, now))
            else:
                self.count("request_before_login")
            return
        p = self._pending.get(f.seq)
        if p is None:
            if self._late.pop(f.seq, None) is not None:
                self.count("confirm_late")        # its frame went back to the handler as LOST
            else:
                self.count("confirm_unexpected")
            return
        outcome = _confirm_outcome(f, p)
        if outcome is None:
            self.count("confirm_mismatch")        # it names other units: not this frame's
            return
        del self._pending[f.seq]
        if outcome == CONFIRMED:
            self.last_confirm = now
        if p.kind == "login":
            if outcome == CONFIRMED:
                self._move("login_confirmed")
                self._next_heartbeat = now + self.settings.heartbeat_s
                self._credit, self._credit_at = 1.0, now
            else:
                self._move("login_denied")
        elif p.kind == "upload":
            self.count("upload_%s" % outcome)
            self.handler.upload_done(p.token, outcome)

    def _answer(self, request, units):
        """Pack ``units`` into response frames (several when long: FIR/FIN, RSEQ counting up
        from the request's), echoing the request's time label."""
        if not units:
            return
        afn = units[0].afn
        func = F_CONFIRM if afn == AFN_CONFIRM else F_RESPONSE
        frames, chunk, size = [], [], 0
        for u in units:
            n = len(encode_units([u]))
            if chunk and size + n > self.settings.frame_bytes:
                frames.append(chunk)
                chunk, size = [], 0
            chunk.append(u)
            size += n
        frames.append(chunk)
        for k, chunk in enumerate(frames):
            self._send(self._frame(afn, chunk, func, prm=False, msa=request.msa,
                                   seq=(request.seq + k) & 0x0F, fir=k == 0,
                                   fin=k == len(frames) - 1, tp=request.tp))
        self.count("answers")


def _confirm_outcome(f, pending):
    """CONFIRMED for AFN00 F1 (or F3 with every unit ok), DENIED for F2 or a unit in error;
    None when an F3 names other units than ``pending`` carried (another frame's confirm)."""
    if f.afn != AFN_CONFIRM:
        return DENIED
    try:
        units = parse_units(f.afn, f.data, up=False)
    except DecodeError:
        return DENIED
    for u in units:
        if u.fn == 1:
            return CONFIRMED
        if u.fn == 3:
            items = u.value["items"]
            named = {(pn, fn) for pns, fns, _ in items for pn in pns for fn in fns}
            if u.value["afn"] != pending.afn or named != pending.items:
                return None
            return CONFIRMED if all(err == 0 for _, _, err in items) else DENIED
    return DENIED
