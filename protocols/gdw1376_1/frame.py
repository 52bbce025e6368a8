"""Q/GDW 1376.1 frame (master station <-> concentrator).

    68 | L L | L L | 68 | C | A1(2) A2(2) A3 | AFN | SEQ | units | [PW 16] [EC 2] [Tp 6] | CS | 16

L (LE, sent twice): D1D0 protocol id = 10b, D15..D2 the user-data length (C through AUX); CS is
the sum of the user data. C: D7 DIR (1 = up), D6 PRM (1 = initiator), D5 FCB (down) / ACD (up:
events pending, then EC is present), D4 FCV (down), D3..D0 function. A1 region code (BCD, low
first), A2 terminal address (BIN), A3 D0 group flag, D7..D1 master address MSA. SEQ: D7 TpV
(Tp present), D6 FIR, D5 FIN, D4 CON, D3..D0 PSEQ/RSEQ. PW (16 bytes) only downlink on AFN 01,
04, 05, 06, 0F and 10; Tp = PFC, send time A.16 (ss mm hh DD), allowed delay in minutes.
"""
from protocols.civil import from_civil, to_civil
from protocols.errors import hexstr
from protocols.stream import checksum_defect, whole_frame
from protocols.gdw1376_1.errors import DecodeError, EncodeError

PROTOCOL_ID = 2
HEADER = 6
MAX_USER = 16383
PW_AFNS = (0x01, 0x04, 0x05, 0x06, 0x0F, 0x10)
# function codes (C D3..D0)
F_RESET, F_USER_DATA, F_LINK_TEST, F_CLASS1, F_CLASS2 = 1, 4, 9, 10, 11      # PRM = 1
F_CONFIRM, F_RESPONSE, F_NO_DATA, F_LINK_STATUS = 0, 8, 9, 11                # PRM = 0
# the function a master's request of each AFN goes with (docs/gdw1376_1-notes.md): 10 where
# the answer is a confirm (set, control), 11 where it is data (configuration, parameter
# queries, class 1/2/3 data); others as user data
REQUEST_FUNCTION = {0x01: F_RESET, 0x04: F_CLASS1, 0x05: F_CLASS1, 0x09: F_CLASS2,
                    0x0A: F_CLASS2, 0x0C: F_CLASS2, 0x0D: F_CLASS2, 0x0E: F_CLASS2}


def request_function(afn):
    """The PRM=1 function code of a master's request of ``afn``."""
    return REQUEST_FUNCTION.get(afn, F_USER_DATA)


class Tp:
    """Time label: PFC, send time (ss, mm, hh, DD) and the allowed delay in minutes (0: none)."""

    __slots__ = ("pfc", "time", "delay_min")

    def __init__(self, pfc, time, delay_min=0):
        self.pfc = pfc
        self.time = tuple(time)
        self.delay_min = delay_min

    def __eq__(self, other):
        return isinstance(other, Tp) and (self.pfc, self.time, self.delay_min) == (
            other.pfc, other.time, other.delay_min)

    @classmethod
    def at(cls, pfc, wall, delay_min=0):
        """The label of a frame sent at local seconds ``wall``."""
        c = to_civil(wall)
        return cls(pfc & 0xFF, (c[5], c[4], c[3], c[2]), delay_min)

    def sent_at(self, wall, skew_s=300.0):
        """Local seconds the label names: the latest instant with its day, hour, minute and
        second not after ``wall + skew_s`` (the label has no month; searched back two months),
        or None when no month has that day."""
        ss, mm, hh, dd = self.time
        y, m = to_civil(wall + skew_s)[:2]
        for _ in range(3):
            try:
                t = from_civil(y, m, dd, hh, mm, ss)
            except ValueError:
                t = None
            if t is not None and t <= wall + skew_s:
                return t
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        return None

    def stale(self, wall):
        """Whether a frame with this label arrives too late at ``wall`` (its allowed delay is
        over, or its time is no date at all); delay 0 means no limit."""
        if self.delay_min == 0:
            return False
        sent = self.sent_at(wall)
        return sent is None or wall - sent > self.delay_min * 60

    def nearest(self, wall):
        """The instant with the label's day, hour, minute and second closest to ``wall`` (in
        the month before, of or after it), or None when none of them has that day."""
        ss, mm, hh, dd = self.time
        y, m = to_civil(wall)[:2]
        best = None
        before = (y, m - 1) if m > 1 else (y - 1, 12)
        after = (y, m + 1) if m < 12 else (y + 1, 1)
        for yy, mo in (before, (y, m), after):
            try:
                t = from_civil(yy, mo, dd, hh, mm, ss)
            except ValueError:
                continue
            if best is None or abs(t - wall) < abs(best - wall):
                best = t
        return best

    def problem(self, wall, skew_s=300.0):
        """Why a frame that changes state must not act on this label at local seconds ``wall``,
        or None when it may: it must allow a delay (0 would never expire), name a real day, be
        sent no more than ``skew_s`` ahead of our clock, and arrive within its delay. (Public
        terminal firmware skips the check for delay 0 and takes labels from the future:
        gdgly/NUC97X_JS STM32F4xx/Terminal/Terminal_Uart_3761_COM.c ``Uart_376_Tp``.)"""
        if self.delay_min == 0:
            return "time label without an allowed delay (0 never expires)"
        sent = self.nearest(wall)
        if sent is None:
            return "time label names no date (day %02d)" % self.time[3]
        if sent - wall > skew_s:
            return "time label %d s ahead of the terminal's clock" % (sent - wall)
        if wall - sent > self.delay_min * 60:
            return "stale time label: sent %d s ago, %d min allowed" % (wall - sent, self.delay_min)
        return None

    def __repr__(self):
        return "Tp(pfc=%d %02d:%02d:%02d day %02d delay %d)" % (
            self.pfc, self.time[2], self.time[1], self.time[0], self.time[3], self.delay_min)


class Frame:
    """One 1376.1 frame; ``data`` is the data-unit part between SEQ and the AUX fields."""

    def __init__(self, afn, data=b"", up=False, prm=True, func=F_USER_DATA, region="0000",
                 terminal=0, msa=0, group=False, seq=0, fir=True, fin=True, con=False,
                 fcb=False, fcv=False, acd=False, pw=None, ec=None, tp=None, raw=None):
        self.afn = afn
        self.data = bytes(data)
        self.up = up
        self.prm = prm
        self.func = func
        self.region = region            # A1, four digits as printed
        self.terminal = terminal        # A2
        self.msa = msa
        self.group = group
        self.seq = seq
        self.fir = fir
        self.fin = fin
        self.con = con
        self.fcb = fcb
        self.fcv = fcv
        self.acd = acd
        self.pw = None if pw is None else bytes(pw)
        self.ec = None if ec is None else tuple(ec)
        self.tp = tp
        self.raw = raw

    @property
    def ctrl(self):
        c = (0x80 if self.up else 0) | (0x40 if self.prm else 0) | (self.func & 0x0F)
        if self.up:
            return c | (0x20 if self.acd else 0)
        return c | (0x20 if self.fcb else 0) | (0x10 if self.fcv else 0)

    @property
    def seq_byte(self):
        return ((0x80 if self.tp is not None else 0) | (0x40 if self.fir else 0)
                | (0x20 if self.fin else 0) | (0x10 if self.con else 0) | (self.seq & 0x0F))

    @property
    def has_pw(self):
        return not self.up and self.afn in PW_AFNS

    def key(self):
        return (self.afn, self.data, self.ctrl, self.region, self.terminal, self.msa, self.group,
                self.seq_byte, self.pw, self.ec, self.tp)

    def __eq__(self, other):
        return isinstance(other, Frame) and self.key() == other.key()

    def __repr__(self):
        return "Frame(AFN=%02X %s C=%02X %s-%d seq=%d data=[%s])" % (
            self.afn, "up" if self.up else "down", self.ctrl, self.region, self.terminal,
            self.seq, hexstr(self.data))


def checksum(data):
    return sum(data) & 0xFF


def _region_bytes(region):
    if len(region) != 4 or not region.isdigit():
        raise EncodeError("A1", "region code is 4 decimal digits, got %r" % (region,))
    return bytes([int(region[2:4], 16), int(region[0:2], 16)])


def encode_frame(f):
    """Wire bytes of frame ``f``."""
    if not 0 <= f.terminal <= 0xFFFF or not 0 <= f.msa <= 127:
        raise EncodeError("A", "terminal 0..65535 and MSA 0..127")
    user = bytearray([f.ctrl]) + _region_bytes(f.region)
    user += bytes([f.terminal & 0xFF, f.terminal >> 8, (f.msa << 1) | (1 if f.group else 0)])
    user += bytes([f.afn & 0xFF, f.seq_byte]) + f.data
    if f.has_pw:
        pw = f.pw if f.pw is not None else b"\x00" * 16
        if len(pw) != 16:
            raise EncodeError("PW", "the password field is 16 bytes")
        user += pw
    elif f.pw is not None:
        raise EncodeError("PW", "only downlink AFN 01/04/05/06/0F/10 carry a password")
    if f.up and f.acd:
        if f.ec is None or len(f.ec) != 2:
            raise EncodeError("EC", "ACD set: give the two event counters")
        user += bytes(f.ec)
    if f.tp is not None:
        user += bytes([f.tp.pfc & 0xFF]) + bytes(_bcd(v) for v in f.tp.time) + bytes([f.tp.delay_min])
    if len(user) > MAX_USER:
        raise EncodeError("L", "user data of %d bytes exceeds %d" % (len(user), MAX_USER))
    l = (len(user) << 2) | PROTOCOL_ID
    head = bytes([0x68, l & 0xFF, l >> 8, l & 0xFF, l >> 8, 0x68])
    return head + bytes(user) + bytes([checksum(user), 0x16])


def _bcd(v):
    if not 0 <= v <= 99:
        raise EncodeError("Tp", "time field %r is not 0..99" % (v,))
    return ((v // 10) << 4) | (v % 10)


def _unbcd(b, field, offset):
    if b >> 4 > 9 or b & 0x0F > 9:
        raise DecodeError(field, "not BCD", bytes([b]), offset)
    return (b >> 4) * 10 + (b & 0x0F)


def check_frame(buf, i=0):
    """Structural check at ``buf[i] == 68``: ('ok'|'short'|reason, end index)."""
    if len(buf) - i < HEADER:
        return "short", 0
    l1 = buf[i + 1] | (buf[i + 2] << 8)
    l2 = buf[i + 3] | (buf[i + 4] << 8)
    if l1 != l2:
        return "length fields differ", 0
    if l1 & 0x03 != PROTOCOL_ID:
        return "protocol id %d is not 1376.1" % (l1 & 0x03), 0
    if buf[i + 5] != 0x68:
        return "no second 68", 0
    n = l1 >> 2
    if n < 8:
        return "user data shorter than C A AFN SEQ", 0
    end = i + HEADER + n + 2
    if len(buf) < end:
        return "short", end
    if buf[end - 1] != 0x16:
        return "no end 16", 0
    cs = checksum(buf[i + HEADER:end - 2])
    if buf[end - 2] != cs:
        return checksum_defect(cs, buf[end - 2]), 0
    return "ok", end


def decode_frame(raw):
    """Strictly decode one whole frame; raises ``DecodeError`` naming the bad field."""
    raw = bytes(raw)
    end = whole_frame(raw, check_frame, DecodeError)
    return parse(raw, raw[HEADER:end - 2])


def parse(raw, user):
    c, afn, sq = user[0], user[6], user[7]
    up = bool(c & 0x80)
    region = "%02X%02X" % (user[2], user[1])
    if not region.isdigit():
        raise DecodeError("A1", "region code is not BCD", user[1:3], 7)
    tail = len(user)
    tp = ec = pw = None
    if sq & 0x80:
        if tail - 6 < 8:
            raise DecodeError("Tp", "no room for the time label", user[8:], 14)
        t = user[tail - 6:tail]
        tp = Tp(t[0], [_unbcd(b, "Tp", tail - 5 + k) for k, b in enumerate(t[1:5])], t[5])
        tail -= 6
    acd = up and bool(c & 0x20)
    if acd:
        if tail - 2 < 8:
            raise DecodeError("EC", "no room for the event counters", user[8:], 14)
        ec = (user[tail - 2], user[tail - 1])
        tail -= 2
    if not up and afn in PW_AFNS:
        if tail - 16 < 8:
            raise DecodeError("PW", "no room for the 16-byte password", user[8:], 14)
        pw = user[tail - 16:tail]
        tail -= 16
    return Frame(afn, user[8:tail], up, bool(c & 0x40), c & 0x0F, region,
                 user[3] | (user[4] << 8), user[5] >> 1, bool(user[5] & 1), sq & 0x0F,
                 bool(sq & 0x40), bool(sq & 0x20), bool(sq & 0x10),
                 not up and bool(c & 0x20), not up and bool(c & 0x10), acd, pw, ec, tp, raw)
