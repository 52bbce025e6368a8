"""Typed DL/T 645-2007 requests and replies; meter-reported failures are values (ErrorReply).

``parse_request(frame)`` and ``parse_reply(frame)`` turn a decoded Frame into one of these;
``to_frame(addr)`` turns one back. Passwords are ``level`` (PA) plus 3 bytes P0 P1 P2 in wire
order; operator codes are 4 bytes C0..C3 in wire order.
"""
from protocols.bcd import byte_to_int, int_to_byte
from protocols.errors import hexstr
from protocols.dlt645 import const as K
from protocols.dlt645 import di as DI
from protocols.dlt645 import values
from protocols.dlt645.errors import DecodeError, EncodeError
from protocols.dlt645.frame import Frame

NO_PASSWORD = b"\x00\x00\x00"
NO_OPERATOR = b"\x00\x00\x00\x00"


def _need(data, n, field, exact=True):
    if (len(data) != n) if exact else (len(data) < n):
        raise DecodeError(field, "needs %s%d data bytes, got %d" % ("" if exact else ">=", n, len(data)),
                          data)


def _bytes(value, n, field):
    value = bytes(value)
    if len(value) != n:
        raise EncodeError(field, "needs %d bytes, got %d" % (n, len(value)))
    return value


class Apdu:
    """Base: a function code and a data field (without the +33H offset)."""

    function = 0
    name = "apdu"

    def payload(self):
        return b""

    def to_frame(self, addr, reply=False, preamble=0):
        ctrl = self.function | (K.DIR_REPLY if reply else 0)
        return Frame(addr, ctrl, self.payload(), preamble)

    def __eq__(self, other):
        return type(self) is type(other) and self.payload() == other.payload()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, hexstr(self.payload()))


class Read(Apdu):
    """0x11 read: DI, plus block count and start time for load curves / point reads."""

    function = K.F_READ
    name = "read"

    def __init__(self, di, blocks=None, start=None):
        self.di = di
        self.blocks = blocks
        self.start = start

    def payload(self):
        out = DI.to_bytes(self.di)
        if self.blocks is not None:
            out += values.encode("NN", self.blocks)
            if self.start is not None:
                out += values.encode("YYMMDDhhmm", self.start)   # wire: mm hh DD MM YY
        return out

    @classmethod
    def parse(cls, data):
        if len(data) not in (4, 5, 10):
            raise DecodeError("read", "data of 4, 5 or 10 bytes expected, got %d" % len(data), data)
        blocks = values.decode("NN", data[4:5]) if len(data) >= 5 else None
        start = values.time_seconds("YYMMDDhhmm", data[5:10]) if len(data) == 10 else None
        return cls(DI.from_bytes(data), blocks, start)


class ReadFollowUp(Apdu):
    """0x12 read follow-up: DI + SEQ."""

    function = K.F_READ_FOLLOW_UP
    name = "read_follow_up"

    def __init__(self, di, seq):
        self.di = di
        self.seq = seq

    def payload(self):
        return DI.to_bytes(self.di) + bytes([self.seq & 0xFF])

    @classmethod
    def parse(cls, data):
        _need(data, 5, "read_follow_up")
        return cls(DI.from_bytes(data), data[4])


class ReadAddress(Apdu):
    """0x13 read address (to all-AA on a point-to-point link)."""

    function = K.F_READ_ADDRESS
    name = "read_address"

    @classmethod
    def parse(cls, data):
        _need(data, 0, "read_address")
        return cls()


class Write(Apdu):
    """0x14 write: DI + PA P0 P1 P2 + C0..C3 + value."""

    function = K.F_WRITE
    name = "write"

    def __init__(self, di, value, level=0x02, password=NO_PASSWORD, operator=NO_OPERATOR):
        self.di = di
        self.value = bytes(value)
        self.level = level
        self.password = _bytes(password, 3, "password")
        self.operator = _bytes(operator, 4, "operator")

    def payload(self):
        return DI.to_bytes(self.di) + bytes([self.level]) + self.password + self.operator + self.value

    @classmethod
    def parse(cls, data):
        _need(data, 12, "write", exact=False)
        return cls(DI.from_bytes(data), data[12:], data[4], data[5:8], data[8:12])


class WriteAddress(Apdu):
    """0x15 write address: the new 6-byte address."""

    function = K.F_WRITE_ADDRESS
    name = "write_address"

    def __init__(self, new_addr):
        self.new_addr = _bytes(new_addr, 6, "address")

    def payload(self):
        return self.new_addr

    @classmethod
    def parse(cls, data):
        _need(data, 6, "write_address")
        return cls(data)


class BroadcastTime(Apdu):
    """0x08 broadcast time sync to 99..99: ss mm hh DD MM YY on the wire; never answered."""

    function = K.F_BROADCAST_TIME
    name = "broadcast_time"

    def __init__(self, t):
        self.t = t

    def payload(self):
        return values.encode("YYMMDDhhmmss", self.t)

    @classmethod
    def parse(cls, data):
        _need(data, 6, "broadcast_time")
        return cls(values.time_seconds("YYMMDDhhmmss", data))


class Freeze(Apdu):
    """0x16 freeze: mm hh DD MM on the wire; 99 in a field = periodic, all 99 = instant."""

    function = K.F_FREEZE
    name = "freeze"

    def __init__(self, month=99, day=99, hour=99, minute=99):
        self.month, self.day, self.hour, self.minute = month, day, hour, minute

    @property
    def instant(self):
        return self.month == self.day == self.hour == self.minute == 99

    def payload(self):
        return bytes([int_to_byte(self.minute, "freeze"), int_to_byte(self.hour, "freeze"),
                      int_to_byte(self.day, "freeze"), int_to_byte(self.month, "freeze")])

    @classmethod
    def parse(cls, data):
        _need(data, 4, "freeze")
        mi, hh, dd, mo = [byte_to_int(b, "freeze", i) for i, b in enumerate(data)]
        return cls(mo, dd, hh, mi)


class ChangeBaud(Apdu):
    """0x17 change baud rate: the feature word Z (one rate bit)."""

    function = K.F_CHANGE_BAUD
    name = "change_baud"

    def __init__(self, word):
        self.word = word

    def payload(self):
        return bytes([self.word])

    @classmethod
    def parse(cls, data):
        _need(data, 1, "change_baud")
        return cls(data[0])


class ChangePassword(Apdu):
    """0x18: DI (04000C01 + new level) + old PA P0P1P2 + new PA P0P1P2."""

    function = K.F_CHANGE_PASSWORD
    name = "change_password"

    def __init__(self, old_level, old_password, new_level, new_password):
        self.old_level = old_level
        self.old_password = _bytes(old_password, 3, "old_password")
        self.new_level = new_level
        self.new_password = _bytes(new_password, 3, "new_password")

    def payload(self):
        return (DI.to_bytes(DI.DI_PASSWORD_0 + self.new_level) + bytes([self.old_level])
                + self.old_password + bytes([self.new_level]) + self.new_password)

    @classmethod
    def parse(cls, data):
        _need(data, 12, "change_password")
        return cls(data[4], data[5:8], data[8], data[9:12])


class _Authorised(Apdu):
    """PA P0 P1 P2 + C0..C3 (0x19 max-demand reset, 0x1A meter clear), L = 8."""

    def __init__(self, level=0x02, password=NO_PASSWORD, operator=NO_OPERATOR):
        self.level = level
        self.password = _bytes(password, 3, "password")
        self.operator = _bytes(operator, 4, "operator")

    def payload(self):
        return bytes([self.level]) + self.password + self.operator

    @classmethod
    def parse(cls, data):
        _need(data, 8, cls.name)
        return cls(data[0], data[1:4], data[4:8])


class DemandReset(_Authorised):
    function = K.F_DEMAND_RESET
    name = "demand_reset"


class MeterClear(_Authorised):
    function = K.F_METER_CLEAR
    name = "meter_clear"


class EventClear(Apdu):
    """0x1B: PA P0P1P2 + C0..C3 + DI (FFFFFFFF = all events), L = 12."""

    function = K.F_EVENT_CLEAR
    name = "event_clear"

    def __init__(self, di=0xFFFFFFFF, level=0x02, password=NO_PASSWORD, operator=NO_OPERATOR):
        self.di = di
        self.level = level
        self.password = _bytes(password, 3, "password")
        self.operator = _bytes(operator, 4, "operator")

    def payload(self):
        return bytes([self.level]) + self.password + self.operator + DI.to_bytes(self.di)

    @classmethod
    def parse(cls, data):
        _need(data, 12, "event_clear")
        return cls(DI.from_bytes(data[8:12]), data[0], data[1:4], data[4:8])


class Control(Apdu):
    """0x1C remote control: PA P0P1P2 | C0..C3 | N1 | N2 | N3..N8 valid-until (ss mm hh DD MM YY).

    With level 0x98 the eight bytes N1..N8 travel as ``cipher`` (16 bytes from the ESAM).
    """

    function = K.F_CONTROL
    name = "control"

    def __init__(self, command=None, valid_until=None, level=0x02, password=NO_PASSWORD,
                 operator=NO_OPERATOR, cipher=None):
        self.command = command
        self.valid_until = valid_until
        self.level = level
        self.password = _bytes(password, 3, "password")
        self.operator = _bytes(operator, 4, "operator")
        self.cipher = None if cipher is None else bytes(cipher)

    def body(self):
        """N1..N8, the part an ESAM encrypts."""
        return bytes([self.command, 0x00]) + values.encode("YYMMDDhhmmss", self.valid_until)

    def payload(self):
        head = bytes([self.level]) + self.password + self.operator
        return head + (self.cipher if self.cipher is not None else self.body())

    @classmethod
    def parse(cls, data):
        _need(data, 16, "control", exact=False)
        level, password, operator = data[0], data[1:4], data[4:8]
        if level == K.LEVEL_CIPHER:
            return cls(None, None, level, password, operator, cipher=data[8:])
        _need(data, 16, "control")
        return cls.from_body(data[8:16], level, password, operator)

    @classmethod
    def from_body(cls, body, level, password, operator):
        if body[0] not in K.CONTROL_NAMES:
            raise DecodeError("control.N1", "unknown command", body[:1], 8)
        return cls(body[0], values.time_seconds("YYMMDDhhmmss", body[2:8]), level, password, operator)


class Security(Apdu):
    """0x03 security (ESAM) command: DI + body (layouts per DI in meter_sim.firmware.esam)."""

    function = K.F_SECURITY
    name = "security"

    def __init__(self, di, body=b""):
        self.di = di
        self.body = bytes(body)

    def payload(self):
        return DI.to_bytes(self.di) + self.body

    @classmethod
    def parse(cls, data):
        _need(data, 4, "security", exact=False)
        return cls(DI.from_bytes(data), data[4:])


REQUESTS = {}
for _cls in (Read, ReadFollowUp, ReadAddress, Write, WriteAddress, BroadcastTime, Freeze, ChangeBaud,
             ChangePassword, DemandReset, MeterClear, EventClear, Control, Security):
    REQUESTS[_cls.function] = _cls


def parse_request(frame):
    """A master->meter Frame to its typed request; DecodeError when it is not one."""
    if frame.is_reply:
        raise DecodeError("control", "a reply, not a request", bytes([frame.ctrl]))
    cls = REQUESTS.get(frame.function)
    if cls is None:
        raise DecodeError("control", "unknown function code", bytes([frame.ctrl]))
    return cls.parse(frame.data)


# --- replies ---------------------------------------------------------------------------------

class ReadReply(Apdu):
    """Normal reply to 0x11/0x12: DI + data (+ SEQ for follow-up frames); ``more`` = D5 set."""

    name = "read_reply"

    def __init__(self, di, data, seq=None, more=False, function=K.F_READ):
        self.di = di
        self.data = bytes(data)
        self.seq = seq
        self.more = more
        self.function = function

    def payload(self):
        tail = b"" if self.seq is None else bytes([self.seq & 0xFF])
        return DI.to_bytes(self.di) + self.data + tail

    def to_frame(self, addr, reply=True, preamble=0):
        ctrl = self.function | K.DIR_REPLY | (K.FOLLOW_UP if self.more else 0)
        return Frame(addr, ctrl, self.payload(), preamble)

    def value(self):
        """(name, value, unit) decoded through the DI registry."""
        return DI.decode_value(self.di, self.data)


class Ack(Apdu):
    """Normal reply to any other function (L = 0, or the echoed data the standard asks for)."""

    name = "ack"

    def __init__(self, function, data=b""):
        self.function = function
        self.data = bytes(data)

    def payload(self):
        return self.data

    def to_frame(self, addr, reply=True, preamble=0):
        return Frame(addr, self.function | K.DIR_REPLY, self.data, preamble)

    def __repr__(self):
        return "Ack(%s, [%s])" % (K.FUNCTION_NAMES.get(self.function, "0x%02X" % self.function),
                                  hexstr(self.data))


class ErrorReply(Apdu):
    """Abnormal reply C|0xC0 with ERR (1 byte) or SERR (2 bytes) - a value, not an exception."""

    name = "error_reply"

    def __init__(self, function, err=0, serr=None):
        self.function = function
        self.err = err
        self.serr = serr

    def payload(self):
        if self.serr is not None:
            return bytes([self.serr & 0xFF, (self.serr >> 8) & 0xFF])
        return bytes([self.err])

    def to_frame(self, addr, reply=True, preamble=0):
        return Frame(addr, self.function | K.DIR_REPLY | K.ABNORMAL, self.payload(), preamble)

    @property
    def reasons(self):
        if self.serr is not None:
            return K.serr_names(self.serr)
        return K.error_names(self.err)

    def __repr__(self):
        return "ErrorReply(%s, %s)" % (K.FUNCTION_NAMES.get(self.function, "0x%02X" % self.function),
                                       ",".join(self.reasons) or "none")


def parse_reply(frame):
    """A meter->master Frame to ReadReply / Ack / ErrorReply; DecodeError when malformed."""
    if not frame.is_reply:
        raise DecodeError("control", "a request, not a reply", bytes([frame.ctrl]))
    fn = frame.function
    data = frame.data
    if frame.is_abnormal:
        if len(data) == 1:
            return ErrorReply(fn, data[0])
        if len(data) == 2:
            return ErrorReply(fn, 0, data[0] | (data[1] << 8))
        raise DecodeError("error_reply", "ERR needs 1 byte or SERR 2 bytes", data)
    if fn == K.F_READ:
        _need(data, 4, "read_reply", exact=False)
        return ReadReply(DI.from_bytes(data), data[4:], None, frame.has_follow_up, fn)
    if fn == K.F_READ_FOLLOW_UP:
        _need(data, 5, "read_follow_up_reply", exact=False)
        return ReadReply(DI.from_bytes(data), data[4:-1], data[-1], frame.has_follow_up, fn)
    if fn in K.FUNCTION_NAMES:
        return Ack(fn, data)
    raise DecodeError("control", "unknown function code", bytes([frame.ctrl]))
