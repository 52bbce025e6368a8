"""The master station's end of one concentrator connection (主站), sans-I/O.

Like the terminal session: ``receive_data(data, now, wall)``, ``data_to_send()``,
``next_deadline()``, ``on_timer(now)``. It confirms the terminal's logins, heartbeats and uploads
(after the station has stored them: a confirm means "durable here"), and carries the
station's requests: ``request(...)`` returns a ``Request`` that completes with the answer units
(several frames are joined until FIN), a denial, or a timeout.
"""
from protocols.gdw1376_1 import Deframer, Frame, Garbage, NEED_DATA, Tp, Unit, encode_frame
from protocols.gdw1376_1.errors import DecodeError
from protocols.gdw1376_1.frame import (F_CLASS1, F_CLASS2, F_CONFIRM, F_LINK_STATUS,
                                       F_USER_DATA)
from protocols.gdw1376_1.units import (AFN_CLASS1, AFN_CLASS2, AFN_CLASS3, AFN_CONFIRM, AFN_LINK,
                                       encode_units, parse_units)

OK, DENIED, TIMEOUT, GONE = "ok", "denied", "timeout", "gone"
LINK_NAMES = {1: "login", 2: "logout", 3: "heartbeat"}


def terminal_name(region, terminal):
    """How a terminal is named in logs, the database and the CLI: ``RRRR-NNNNN`` (A1 as
    printed, A2 in decimal)."""
    return "%s-%05d" % (region, terminal)


def parse_terminal_name(text):
    region, _, number = text.partition("-")
    if len(region) != 4 or not region.isdigit() or not number.isdigit() or int(number) > 0xFFFF:
        raise ValueError("a terminal is RRRR-N (region code, address 0..65535), got %r" % text)
    return region, int(number)


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


class MasterConnection:
    """One accepted TCP connection: a concentrator once it logged in."""

    def __init__(self, station, msa=1):
        self.station = station          # stores and logs: hostlink.store.MasterStore-like
        self.msa = msa
        self.name = None                # the terminal's name once it sent anything valid
        self.region = None
        self.terminal = None
        self.logged_in = False
        self.counters = {}
        self._out = bytearray()
        self._deframer = Deframer()
        self._pseq = 0
        self._pfc = 0
        self._requests = {}

    def count(self, name, n=1):
        self.counters[name] = self.counters.get(name, 0) + n

    # --- the shell's calls --------------------------------------------------------------------
    def receive_data(self, data, now, wall):
        self._deframer.feed(data, now)
        while True:
            item = self._deframer.next()
            if item is NEED_DATA:
                return
            if isinstance(item, Garbage):
                self.count("garbage")
                continue
            self._on_frame(item, now, wall)

    def data_to_send(self):
        out = bytes(self._out)
        self._out = bytearray()
        return out

    def next_deadline(self):
        return min((r.deadline for r in self._requests.values()), default=None)

    def on_timer(self, now):
        for seq, r in list(self._requests.items()):
            if r.deadline <= now:
                del self._requests[seq]
                r._finish(TIMEOUT)

    def connection_lost(self):
        for r in self._requests.values():
            r._finish(GONE)
        self._requests = {}
        if self.name is not None:
            self.station.link_event(self.name, "disconnected", "")

    # --- requests -----------------------------------------------------------------------------
    def request(self, afn, units, now, wall, timeout_s=30.0, pw=None, tp_delay_min=5):
        """Send ``units`` (downlink) as one frame; the Request completes on the answer."""
        if self.name is None:
            raise ValueError("no terminal has spoken on this connection yet")
        seq = self._pseq
        self._pseq = (self._pseq + 1) & 0x0F
        self._pfc = (self._pfc + 1) & 0xFF
        func = {AFN_CLASS1: F_CLASS1, AFN_CLASS2: F_CLASS2, AFN_CLASS3: F_CLASS2}.get(
            afn, F_USER_DATA)
        frame = Frame(afn, encode_units(units), up=False, prm=True, func=func, region=self.region,
                      terminal=self.terminal, msa=self.msa, seq=seq, con=False,
                      pw=pw if Frame(afn).has_pw else None, tp=Tp.at(self._pfc, wall, tp_delay_min))
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
    def _on_frame(self, f, now, wall):
        if not f.up:
            self.count("frame_wrong_direction")
            return
        name = terminal_name(f.region, f.terminal)
        if self.name is None:
            self.name, self.region, self.terminal = name, f.region, f.terminal
        elif name != self.name:
            self.count("frame_other_terminal")
            return
        try:
            units = parse_units(f.afn, f.data, up=True)
        except DecodeError as exc:
            self.station.link_event(self.name, "malformed", str(exc))
            self.count("malformed")
            return
        if f.prm:
            self._on_initiated(f, units, wall)
        else:
            self._on_answer(f, units)

    def _on_initiated(self, f, units, wall):
        """A login, heartbeat, logout or upload from the terminal: record, then confirm."""
        if f.afn == AFN_LINK:
            for u in units:
                what = LINK_NAMES.get(u.fn, "link_f%d" % u.fn)
                self.station.link_event(self.name, what, "", wall)
                if u.fn == 1:
                    self.logged_in = True
            # every link test is confirmed unit by unit (AFN00 F3), as dgiot's master does
            self._confirm(f, [Unit(AFN_CONFIRM, 3, 0, {"afn": AFN_LINK, "items": [
                ([u.pn], [u.fn], 0) for u in units]}, False)], F_LINK_STATUS)
            return
        self.station.store_upload(self.name, f.afn, units, wall)
        if f.con:
            self._confirm(f, [Unit(AFN_CONFIRM, 1, 0, None, False)], F_CONFIRM)

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
