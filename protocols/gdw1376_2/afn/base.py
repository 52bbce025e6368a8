"""What every 1376.2 data unit shares: the registry, the field helpers and the codes of the standard.

Rules of this package: each unit class has ``AFN``, ``FN``, ``UP`` (True for module ->
concentrator), ``payload()`` -> bytes and ``parse(data)`` -> instance (raises DecodeError);
``unit_of(frame)`` picks the class by (AFN, Fn, direction). Layouts follow Q/GDW 10376.2-2019
section 6.5 (table numbers in each docstring); docs/gdw1376_2-editions.md says what the 2013
edition lacks and where each fact was read.
"""
from protocols.gdw1376_2.errors import DecodeError, EncodeError
from protocols.gdw1376_2.frame import COMM_HPLC, Frame, down_info, up_info

# Communication protocol type of a slave node / carried frame (通信协议类型, table 13 a).
PROTO_TRANSPARENT = 0
PROTO_645_1997 = 1
PROTO_645_2007 = 2
PROTO_698 = 3
PROTO_POWER_EVENT = 4       # 06F5 only, 2019: a communication unit's power-off / power-on report
PROTO_REFUSED_NODE = 5      # 06F5 only, 2019: nodes refused after an area change (台区改切)

# Deny reasons (否认 AFN00 F2 错误状态字, table 10); 109..111 exist in the 2019 edition only.
DENY_TIMEOUT = 0
DENY_INVALID_UNIT = 1
DENY_LENGTH = 2
DENY_CHECKSUM = 3
DENY_NO_SUCH_CLASS = 4
DENY_FORMAT = 5
DENY_DUPLICATE_METER = 6
DENY_NO_SUCH_METER = 7
DENY_METER_SILENT = 8
DENY_BUSY = 9
DENY_UNSUPPORTED = 10
DENY_SLAVE_SILENT = 11
DENY_NOT_IN_NETWORK = 12
DENY_OVER_CONCURRENCY = 109
DENY_TOO_MANY_FRAMES = 110
DENY_READING_METER = 111
DENY_NAMES = {0: "communication timeout", 1: "invalid data unit", 2: "length error",
              3: "checksum error", 4: "no such information class", 5: "format error",
              6: "duplicate meter", 7: "no such meter", 8: "meter application layer silent",
              9: "master node busy", 10: "unsupported command", 11: "slave node silent",
              12: "slave node not in network", 109: "over the concurrency limit",
              110: "too many meter frames in one 1376.2 frame", 111: "meter already being read"}

_REGISTRY: dict = {}


def register(cls):
    _REGISTRY[(cls.AFN, cls.FN, cls.UP)] = cls
    if cls.AFN == 0x00:
        _REGISTRY[(cls.AFN, cls.FN, not cls.UP)] = cls    # confirm/deny go both ways
    return cls


def u16(data, i):
    return data[i] | (data[i + 1] << 8)


def u32(data, i):
    return u16(data, i) | (u16(data, i + 2) << 16)


def p16(v):
    if not 0 <= v <= 0xFFFF:
        raise EncodeError("u16", "%r does not fit two bytes" % (v,))
    return bytes([v & 0xFF, v >> 8])


def p32(v):
    if not 0 <= v <= 0xFFFFFFFF:
        raise EncodeError("u32", "%r does not fit four bytes" % (v,))
    return p16(v & 0xFFFF) + p16(v >> 16)


def p8(v, field="u8"):
    if not 0 <= v <= 0xFF:
        raise EncodeError(field, "%r does not fit one byte" % (v,))
    return bytes([v])


def addr6(a, field="address"):
    a = bytes(a)
    if len(a) != 6:
        raise EncodeError(field, "addresses are 6 bytes, got %d" % len(a))
    return a


def need(data, n, name):
    if len(data) < n:
        raise DecodeError(name, "needs %d bytes, got %d" % (n, len(data)), data, 0)


def exact(data, n, name):
    if len(data) != n:
        raise DecodeError(name, "needs exactly %d bytes, got %d" % (n, len(data)), data, 0)


def frame_field(data, i, n, name):
    """A carried meter frame of length ``n`` at ``data[i]``; must end the unit exactly."""
    if len(data) != i + n:
        raise DecodeError(name, "frame length %d does not match the %d bytes carried"
                          % (n, len(data) - i), data, i)
    return data[i:i + n]


class Unit:
    """Base of the data units; equality by class and payload."""

    AFN = -1
    FN = -1
    UP = False

    def payload(self):
        return b""

    @classmethod
    def parse(cls, data):
        exact(data, 0, cls.__name__)
        return cls()

    def __eq__(self, other):
        return type(self) is type(other) and self.payload() == other.payload()

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (k, v) for k, v in sorted(self.__dict__.items())))


class Down(Unit):
    """A downlink unit without data (a query or a command)."""
    UP = False


class Fields(Unit):
    """A unit of fixed little-endian fields: ``FIELDS`` = ((name, bytes), ...), 1, 2 or 4 bytes,
    or 6 for an address / raw 6-byte field (kept as bytes)."""

    FIELDS: tuple = ()

    def __init__(self, *args, **kw):
        names = [n for n, _ in self.FIELDS]
        if len(args) > len(names):
            raise TypeError("%s takes %d fields" % (type(self).__name__, len(names)))
        for k, (name, size) in enumerate(self.FIELDS):
            value = args[k] if k < len(args) else kw.pop(name, b"\x00" * 6 if size == 6 else 0)
            setattr(self, name, bytes(value) if size == 6 else value)
        if kw:
            raise TypeError("unknown fields %s" % ", ".join(sorted(kw)))

    def payload(self):
        return b"".join(put(size, getattr(self, name), name) for name, size in self.FIELDS)

    @classmethod
    def parse(cls, data):
        exact(data, sum(s for _, s in cls.FIELDS), cls.__name__)
        values, i = [], 0
        for _, size in cls.FIELDS:
            values.append(get(size, data, i))
            i += size
        return cls(*values)


def put(size, v, name):
    """One field of ``size`` bytes (1, 2, 4 little-endian unsigned; 6 raw) on the wire."""
    if size == 1:
        return p8(v, name)
    if size == 2:
        return p16(v)
    if size == 4:
        return p32(v)
    return addr6(v, name)


def get(size, data, i):
    if size == 1:
        return data[i]
    if size == 2:
        return u16(data, i)
    if size == 4:
        return u32(data, i)
    return bytes(data[i:i + size])


class PageQuery(Fields):
    """A paged query: start index (1-based, 2 bytes) and count (1 byte) - 10F2, F5, F6, F7,
    F21, F31 (tables 59, 61-63, 64, 65)."""

    FIELDS = (("start", 2), ("count", 1))


class Carried(Unit):
    """A unit that carries one meter frame: protocol(1) + L + frame."""

    LEN2 = False

    def __init__(self, protocol, body):
        self.protocol = protocol
        self.body = bytes(body)

    def tail(self):
        n = len(self.body)
        if n > (0xFFFF if self.LEN2 else 0xFF):
            raise EncodeError("L", "carried frame of %d bytes is too long" % n)
        return (p16(n) if self.LEN2 else bytes([n])) + self.body


class Unknown(Unit):
    """An AFN/Fn this codec has no layout for; the data is kept as bytes."""

    def __init__(self, afn, fn, up, data):
        self.afn = afn
        self.fn = fn
        self.up = up
        self.data = bytes(data)

    def payload(self):
        return self.data


def unit_class(afn, fn, up):
    return _REGISTRY.get((afn, fn, up))


def unit_of(frame):
    """The typed data unit of ``frame`` (``Unknown`` when the codec has no layout)."""
    cls = _REGISTRY.get((frame.afn, frame.fn, not frame.down))
    if cls is None:
        return Unknown(frame.afn, frame.fn, not frame.down, frame.data)
    return cls.parse(frame.data)


# the module's own reports (主动上报) start an exchange: AFN06, AFN14 and the boot-time 03F10
_MODULE_INITIATED = (0x06, 0x14)


def to_frame(unit, seq=0, up=None, src=None, dst=None, relays=(), comm=COMM_HPLC, info=None,
             prm=None):
    """A Frame for ``unit``; ``up`` defaults to the unit's direction (confirm/deny go both ways).

    PRM is 1 for requests and for the module's own reports (AFN06, AFN14), 0 for answers;
    ``prm`` overrides it (the module's 03F10 report after a reset, 10376.2-2019 A.2 b).
    """
    up = unit.UP if up is None else up
    if info is None:
        info = up_info(seq=seq) if up else down_info(seq=seq)
    if prm is None:
        prm = unit.AFN in _MODULE_INITIATED if up else unit.AFN not in (0x00, 0x14)
    return Frame(unit.AFN, unit.FN, unit.payload(), down=not up, prm=prm, comm=comm, info=info,
                 src=src, relays=relays, dst=dst)
