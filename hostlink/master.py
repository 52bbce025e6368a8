"""The master station's end of one concentrator connection (主站), sans-I/O.

Like the terminal session: ``receive_data(data, now, wall)``, ``data_to_send()``,
``next_deadline()``, ``on_timer(now)``, and ``wants_close`` when the connection is to be cut.
It confirms the terminal's logins, heartbeats and uploads (after the station has stored them:
a confirm means "durable here"), and carries the station's requests: ``request(...)`` returns a
``Request`` that completes with the answer units (several frames are joined until FIN), a
denial, or a timeout.

Rules of this file: nothing but a login (AFN02 F1, p0) is taken from a connection before it
logged in; the login binds the terminal's address (A1/A2) to the connection, and a frame from
another address is ignored. With ``limits`` (the TCP server always gives them) a connection is
cut when it has not logged in within ``login_timeout_s`` or in ``prelogin_bytes``, is silent
for ``idle_s``, or sends more than ``garbage_bytes`` of garbage. Garbage and refusals are
counted in ``counters`` (the station persists them when the connection ends) and logged.
"""
import logging

from protocols.errors import ProtocolError
from protocols.gdw1376_1 import Deframer, Frame, Garbage, NEED_DATA, Tp, Unit, encode_frame
from protocols.gdw1376_1.frame import F_CONFIRM, F_LINK_STATUS, request_function
from protocols.gdw1376_1.units import AFN_CONFIRM, AFN_LINK, encode_units, parse_units

OK, DENIED, TIMEOUT, GONE = "ok", "denied", "timeout", "gone"
LINK_NAMES = {1: "login", 2: "logout", 3: "heartbeat"}
LOGIN = 1
log = logging.getLogger("gridedge.master")


def terminal_name(region, terminal):
    """How a terminal is named in logs, the database and the CLI: ``RRRR-NNNNN`` (A1 as
    printed, A2 in decimal)."""
    return "%s-%05d" % (region, terminal)


def parse_terminal_name(text):
    region, _, number = text.partition("-")
    if len(region) != 4 or not region.isdigit() or not number.isdigit() or int(number) > 0xFFFF:
        raise ValueError("a terminal is RRRR-N (region code, address 0..65535), got %r" % text)
    return region, int(number)


class Limits:
    """What one concentrator connection may cost the station (``gridedge master`` options)."""

    def __init__(self, login_timeout_s=30.0, idle_s=600.0, prelogin_bytes=4096,
                 garbage_bytes=65536):
        self.login_timeout_s = login_timeout_s    # from accept to the login
        self.idle_s = idle_s                      # silence (a terminal heartbeats far more often)
        self.prelogin_bytes = prelogin_bytes      # a login frame is 20 bytes
        self.garbage_bytes = garbage_bytes        # skipped bytes before the connection is cut
        if not (login_timeout_s > 0 and idle_s > 0 and prelogin_bytes >= 64
                and garbage_bytes >= 64):
            raise ValueError("need login_timeout_s > 0, idle_s > 0, prelogin_bytes >= 64 and "
                             "garbage_bytes >= 64")


class Request:
    """One master request in flight on a connection."""

    def __init__(self, afn, seq, deadline):
        self.afn = afn
        self.seq = seq
        self.next_seq = seq
        self.deadline = deadline
        self.answer = []              # units received so far
        self.outcome = None           # OK, DENIED, TIMEOUT or GONE once done
        self.callbacks = []

    @property
    def done(self):
        return self.outcome is not None

    def _finish(self, outcome):
        self.outcome = outcome
        for cb in self.callbacks:
            cb(self)


def _counter():
    n = [0]

    def nxt():
        n[0] = (n[0] + 1) & 0xFF
        return n[0]
    return nxt


class MasterConnection:
    """One accepted TCP connection: a concentrator once it logged in.

    ``admit(conn) -> bool`` decides a login (the server's policy for a terminal address that
    is already connected); ``pfc()`` gives the PFC of the next time label (a station-wide
    counter, so that labels differ across a terminal's reconnects)."""

    def __init__(self, station, msa=1, limits=None, now=0.0, admit=None, pfc=None):
        self.station = station          # stores and logs: hostlink.store.MasterStore-like
        self.msa = msa
        self.limits = limits
        self.admit = admit or (lambda conn: True)
        self._pfc = pfc or _counter()
        self.name = None                # the terminal's name once it logged in
        self.region = None
        self.terminal = None
        self.logged_in = False
        self.wants_close = False
        self.close_reason = None
        self.counters = {}
        self._out = bytearray()
        self._deframer = Deframer()
        self._pseq = 0
        self._requests = {}
        self._opened = now
        self._last_rx = now
        self._received = 0
        self._garbage = 0

    def count(self, name, n=1):
        self.counters[name] = self.counters.get(name, 0) + n

    def close(self, reason):
        """Give the connection up (the shell closes it)."""
        if not self.wants_close:
            self.wants_close = True
            self.close_reason = reason
            self.count("closed_" + reason.split(":")[0].replace(" ", "_"))
            log.info("connection %s closed: %s", self.name or "(not logged in)", reason)

    # --- the shell's calls --------------------------------------------------------------------
    def receive_data(self, data, now, wall):
        if self.wants_close:
            return
        self._last_rx = now
        self._received += len(data)
        lim = self.limits
        if lim is not None and not self.logged_in and self._received > lim.prelogin_bytes:
            self.close("prelogin bytes: %d bytes without a login" % self._received)
            return
        self._deframer.feed(data, now)
        while not self.wants_close:
            item = self._deframer.next()
            if item is NEED_DATA:
                return
            if isinstance(item, Garbage):
                self._on_garbage(item)
                continue
            try:
                self._on_frame(item, now, wall)
            except (ProtocolError, ValueError, TypeError, KeyError) as exc:
                # a frame whose content our encoders cannot echo (a login naming all points)
                self.count("frame_error")
                log.warning("%s: frame refused: %s (%s)", self.name or "(not logged in)", exc,
                            bytes(item.raw or b"").hex())
                if item.up and item.prm:
                    self._deny(item)

    def data_to_send(self):
        out = bytes(self._out)
        self._out = bytearray()
        return out

    def next_deadline(self):
        times = [r.deadline for r in self._requests.values()]
        lim = self.limits
        if lim is not None and not self.wants_close:
            times.append(self._last_rx + lim.idle_s)
            if not self.logged_in:
                times.append(self._opened + lim.login_timeout_s)
        return min(times, default=None)

    def on_timer(self, now):
        for seq, r in list(self._requests.items()):
            if r.deadline <= now:
                del self._requests[seq]
                r._finish(TIMEOUT)
        lim = self.limits
        if lim is None or self.wants_close:
            return
        if not self.logged_in and now - self._opened >= lim.login_timeout_s:
            self.close("login timeout: no login within %.0f s" % lim.login_timeout_s)
        elif now - self._last_rx >= lim.idle_s:
            self.close("idle: nothing for %.0f s" % lim.idle_s)

    def connection_lost(self):
        for r in self._requests.values():
            r._finish(GONE)
        self._requests = {}
        if self.name is not None:
            self.station.link_event(self.name, "disconnected", self.close_reason or "")
        if self._garbage:
            log.warning("%s: %d garbage bytes on this connection", self.name or "(not logged in)",
                        self._garbage, extra={"event": "garbage_total", "terminal": self.name,
                                              "bytes": self._garbage})
        bump = getattr(self.station, "bump", None)
        if bump is not None and self.counters:
            bump(self.counters)                 # the station's counters survive restarts
            self.counters = {}

    # --- requests -----------------------------------------------------------------------------
    def request(self, afn, units, now, wall, timeout_s=30.0, pw=None, tp_delay_min=5):
        """Send ``units`` (downlink) as one frame; the Request completes on the answer."""
        if not self.logged_in:
            raise ValueError("no terminal has logged in on this connection")
        seq = self._pseq
        self._pseq = (self._pseq + 1) & 0x0F
        frame = Frame(afn, encode_units(units), up=False, prm=True, func=request_function(afn),
                      region=self.region, terminal=self.terminal, msa=self.msa, seq=seq, con=False,
                      pw=pw if Frame(afn).has_pw else None,
                      tp=Tp.at(self._pfc(), wall, tp_delay_min))
        return self.send_request(frame, now, timeout_s)

    def send_request(self, frame, now, timeout_s=30.0):
        """Send a ready frame; it completes like ``request`` (a request reusing a sequence
        number still in flight ends the older one as a timeout)."""
        old = self._requests.pop(frame.seq, None)
        if old is not None:
            old._finish(TIMEOUT)
        r = Request(frame.afn, frame.seq, now + timeout_s)
        self._requests[frame.seq] = r
        self._out += encode_frame(frame)
        return r

    # --- inside -------------------------------------------------------------------------------
    def _on_garbage(self, item):
        self.count("garbage")
        self.count("garbage_bytes", len(item.raw))
        self._garbage += len(item.raw)
        if self._garbage == len(item.raw):      # the first on this connection; then a summary
            log.warning("%s: garbage on the link: %s", self.name or "(not logged in)", item,
                        extra={"event": "garbage", "terminal": self.name})
        lim = self.limits
        if lim is not None and self._garbage > lim.garbage_bytes:
            self.close("garbage bytes: %d" % self._garbage)

    def _on_frame(self, f, now, wall):
        if not f.up:
            self.count("frame_wrong_direction")
            return
        name = terminal_name(f.region, f.terminal)
        if not self.logged_in:
            self._before_login(f, name, wall)
            return
        if name != self.name:
            self.count("frame_other_terminal")
            return
        try:
            units = parse_units(f.afn, f.data, up=True)
        except ProtocolError as exc:
            self.station.link_event(self.name, "malformed", str(exc), wall)
            self.count("malformed")
            if f.prm and f.con:
                self._deny(f)                   # it will never parse: say so, do not time out
            return
        if f.prm:
            self._on_initiated(f, units, wall)
        else:
            self._on_answer(f, units)

    def _before_login(self, f, name, wall):
        """The first frame must be a login from p0; it binds the terminal's address."""
        units = parse_units(f.afn, f.data, up=True) if f.afn == AFN_LINK and f.prm else []
        if not any(u.fn == LOGIN for u in units):
            self.count("before_login")
            if self.counters["before_login"] == 1:
                log.warning("%s: AFN%02X before a login, ignored", name, f.afn)
            return
        if len(units) != 1 or units[0].pn != 0:
            self.count("login_malformed")       # e.g. a login naming all points
            log.warning("%s: login not from p0 alone: %r", name, units)
            self._deny(f)
            return
        self.name, self.region, self.terminal = name, f.region, f.terminal
        if not self.admit(self):
            self.count("login_refused")
            self.station.link_event(name, "login_refused", "address already connected", wall)
            log.warning("%s logged in again: refused, the address is already connected", name,
                        extra={"event": "second_login", "terminal": name, "policy": "refuse"})
            self._deny(f)
            self.name = None
            self.close("login refused: %s is already connected" % name)
            return
        self.logged_in = True
        log.info("%s logged in", name, extra={"event": "master_login", "terminal": name})
        self._on_initiated(f, units, wall)

    def _on_initiated(self, f, units, wall):
        """A login, heartbeat, logout or upload from the terminal: record, then confirm."""
        if f.afn == AFN_LINK:
            for u in units:
                what = LINK_NAMES.get(u.fn, "link_f%d" % u.fn)
                self.station.link_event(self.name, what, "", wall)
            # every link test is confirmed unit by unit (AFN00 F3), as dgiot's master does
            self._confirm(f, [Unit(AFN_CONFIRM, 3, 0, {"afn": AFN_LINK, "items": [
                ([u.pn], [u.fn], 0) for u in units]}, False)], F_LINK_STATUS)
            return
        if any(not isinstance(u.pn, int) for u in units):
            self.station.link_event(self.name, "malformed", "upload naming all points", wall)
            self.count("malformed")
            self._deny(f)
            return
        self.station.store_upload(self.name, f.afn, units, wall)
        if f.con:
            # confirmed unit by unit (AFN00 F3): the terminal matches the confirm to the frame
            # by its SEQ and by the units it names, not by the 4-bit SEQ alone
            self._confirm(f, [Unit(AFN_CONFIRM, 3, 0, {"afn": f.afn, "items": [
                ([u.pn], [u.fn], 0) for u in units if u.fn]}, False)], F_CONFIRM)

    def _deny(self, f):
        self.count("denied")
        self._confirm(f, [Unit(AFN_CONFIRM, 2, 0, None, False)], F_CONFIRM)

    def _confirm(self, f, units, func):
        self._out += encode_frame(Frame(AFN_CONFIRM, encode_units(units), up=False, prm=False,
                                        func=func, region=f.region, terminal=f.terminal,
                                        msa=self.msa, seq=f.seq))

    def _on_answer(self, f, units):
        # frames of a multi-frame answer count RSEQ up from the request's PSEQ
        r = next((c for c in self._requests.values() if c.next_seq == f.seq
                  and (f.fir or c.answer)), None)
        if r is None:
            self.count("answer_unexpected")
            return
        r.answer.extend(units)
        r.next_seq = (f.seq + 1) & 0x0F
        if f.fin:
            del self._requests[r.seq]
            denied = f.afn == AFN_CONFIRM and any(u.fn == 2 for u in units)
            r._finish(DENIED if denied else OK)
