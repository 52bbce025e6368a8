"""A-XDR primitives of DL/T 698.45: a byte reader, length encoding, integers and the fixed
composite types (OAD, OMD, ROAD, TI, TSA, scaler_unit, date-times).

Multi-byte integers are big-endian (600888/dlt698 appendix-D vectors: ``12 09 6D`` is 2413).
A variable length is one byte below 80H, else 80H + the count of big-endian length bytes that
follow (A-XDR, as dlt698_rs ``asn1_type`` reads it).
"""
from protocols.errors import hexstr
from protocols.dlt698.errors import DecodeError, EncodeError


class Reader:
    """Cursor over ``buf``; every short read raises DecodeError naming the field and offset."""

    def __init__(self, buf, pos=0):
        self.buf = bytes(buf)
        self.pos = pos

    def take(self, n, field):
        end = self.pos + n
        if n < 0 or end > len(self.buf):
            raise DecodeError(field, "needs %d bytes, %d left" % (n, len(self.buf) - self.pos),
                              self.buf[self.pos:], self.pos)
        out = self.buf[self.pos:end]
        self.pos = end
        return out

    def u8(self, field):
        return self.take(1, field)[0]

    def uint(self, n, field):
        v = 0
        for b in self.take(n, field):
            v = (v << 8) | b
        return v

    def sint(self, n, field):
        v = self.uint(n, field)
        return v - (1 << (8 * n)) if v >> (8 * n - 1) else v

    def length(self, field):
        first = self.u8(field)
        if first < 0x80:
            return first
        count = first & 0x7F
        if not 1 <= count <= 4:
            raise DecodeError(field, "length of %d length bytes" % count, bytes([first]),
                              self.pos - 1)
        n = self.uint(count, field)
        if n > len(self.buf) - self.pos:
            raise DecodeError(field, "length %d runs past the end" % n, self.buf[self.pos - 1 - count:],
                              self.pos - 1 - count)
        return n

    def rest(self):
        out = self.buf[self.pos:]
        self.pos = len(self.buf)
        return out

    @property
    def left(self):
        return len(self.buf) - self.pos


def put_uint(out, value, n, field):
    if not isinstance(value, int) or not 0 <= value < (1 << (8 * n)):
        raise EncodeError(field, "%r does not fit %d unsigned bytes" % (value, n))
    for shift in range(8 * (n - 1), -8, -8):
        out.append((value >> shift) & 0xFF)


def put_sint(out, value, n, field):
    half = 1 << (8 * n - 1)
    if not isinstance(value, int) or not -half <= value < half:
        raise EncodeError(field, "%r does not fit %d signed bytes" % (value, n))
    put_uint(out, value & ((1 << (8 * n)) - 1), n, field)


def put_length(out, n):
    if n < 0x80:
        out.append(n)
    elif n < 0x100:
        out += bytes((0x81, n))
    elif n < 0x10000:
        out += bytes((0x82, n >> 8, n & 0xFF))
    else:
        raise EncodeError("length", "%d bytes is too long" % n)


def _same(a, b, names):
    return type(a) is type(b) and all(getattr(a, n) == getattr(b, n) for n in names)


class OAD:
    """Object attribute descriptor 对象属性描述符: OI, attribute (bits 0..4), its feature
    (bits 5..7) and element index (0 = all)."""

    def __init__(self, oi, attr=2, index=0, feature=0):
        self.oi = oi
        self.attr = attr
        self.index = index
        self.feature = feature

    def put(self, out):
        put_uint(out, self.oi, 2, "OAD.OI")
        if not (0 <= self.attr <= 31 and 0 <= self.feature <= 7):
            raise EncodeError("OAD", "attribute 0..31 and feature 0..7 needed")
        out.append((self.feature << 5) | self.attr)
        put_uint(out, self.index, 1, "OAD.index")

    @classmethod
    def get(cls, r):
        b = r.take(4, "OAD")
        return cls((b[0] << 8) | b[1], b[2] & 0x1F, b[3], b[2] >> 5)

    @classmethod
    def parse(cls, text):
        """``"40010200"`` to an OAD."""
        v = int(text, 16)
        return cls(v >> 16, (v >> 8) & 0x1F, v & 0xFF, (v >> 13) & 7)

    def __eq__(self, other):
        return _same(self, other, ("oi", "attr", "index", "feature"))

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self.oi, self.attr, self.index, self.feature))

    def text(self):
        return "%04X%02X%02X" % (self.oi, (self.feature << 5) | self.attr, self.index)

    def __repr__(self):
        return "OAD(%s)" % self.text()


class OMD:
    """Object method descriptor 对象方法描述符: OI, method id, operation mode."""

    def __init__(self, oi, method, mode=0):
        self.oi = oi
        self.method = method
        self.mode = mode

    def put(self, out):
        put_uint(out, self.oi, 2, "OMD.OI")
        put_uint(out, self.method, 1, "OMD.method")
        put_uint(out, self.mode, 1, "OMD.mode")

    @classmethod
    def get(cls, r):
        b = r.take(4, "OMD")
        return cls((b[0] << 8) | b[1], b[2], b[3])

    def __eq__(self, other):
        return _same(self, other, ("oi", "method", "mode"))

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self.oi, self.method, self.mode))

    def text(self):
        return "%04X%02X%02X" % (self.oi, self.method, self.mode)

    def __repr__(self):
        return "OMD(%s)" % self.text()


class ROAD:
    """Record OAD 记录型对象属性描述符: an OAD and the OADs associated with it."""

    def __init__(self, oad, oads):
        self.oad = oad
        self.oads = list(oads)

    def put(self, out):
        self.oad.put(out)
        put_length(out, len(self.oads))
        for o in self.oads:
            o.put(out)

    @classmethod
    def get(cls, r):
        oad = OAD.get(r)
        return cls(oad, [OAD.get(r) for _ in range(r.length("ROAD.count"))])

    def __eq__(self, other):
        return _same(self, other, ("oad", "oads"))

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "ROAD(%s: %s)" % (self.oad.text(), ",".join(o.text() for o in self.oads))


TI_UNITS = {0: "s", 1: "min", 2: "h", 3: "day", 4: "month", 5: "year"}


class TI:
    """Time interval 时间间隔: unit (0 s, 1 min, 2 h, 3 day, 4 month, 5 year) and count."""

    def __init__(self, unit, value):
        self.unit = unit
        self.value = value

    def put(self, out):
        put_uint(out, self.unit, 1, "TI.unit")
        put_uint(out, self.value, 2, "TI.value")

    @classmethod
    def get(cls, r):
        return cls(r.u8("TI.unit"), r.uint(2, "TI.value"))

    def __eq__(self, other):
        return _same(self, other, ("unit", "value"))

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "TI(%d %s)" % (self.value, TI_UNITS.get(self.unit, "?"))


class TSA:
    """Target server address 目标服务器地址: length, an SA-style flag byte, the address bytes
    (wire order). Read from the 600888/dlt698 record-meters vector (``06 04 00 00 00 01 21``)."""

    def __init__(self, addr, kind=0, logical=0):
        self.addr = bytes(addr)
        self.kind = kind
        self.logical = logical

    def put(self, out):
        if not 1 <= len(self.addr) <= 16:
            raise EncodeError("TSA", "address of 1..16 bytes needed")
        put_length(out, len(self.addr) + 1)
        out.append((self.kind << 6) | ((self.logical & 3) << 4) | (len(self.addr) - 1))
        out += self.addr

    @classmethod
    def get(cls, r):
        n = r.length("TSA.length")
        body = r.take(n, "TSA")
        if n < 2 or (body[0] & 0x0F) + 2 != n:
            raise DecodeError("TSA", "flag byte does not match the length", body, r.pos - n)
        return cls(body[1:], body[0] >> 6, (body[0] >> 4) & 3)

    def __eq__(self, other):
        return _same(self, other, ("addr", "kind", "logical"))

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.addr)

    def text(self):
        return "".join("%02X" % b for b in reversed(self.addr))

    def __repr__(self):
        return "TSA(%s)" % self.text()


class ScalerUnit:
    """换算及单位: a power-of-ten scaler (integer) and a unit code (enum)."""

    def __init__(self, scaler, unit):
        self.scaler = scaler
        self.unit = unit

    def put(self, out):
        put_sint(out, self.scaler, 1, "Scaler_Unit.scaler")
        put_uint(out, self.unit, 1, "Scaler_Unit.unit")

    @classmethod
    def get(cls, r):
        return cls(r.sint(1, "Scaler_Unit.scaler"), r.u8("Scaler_Unit.unit"))

    def __eq__(self, other):
        return _same(self, other, ("scaler", "unit"))

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "ScalerUnit(%d, %d)" % (self.scaler, self.unit)


class DateTime:
    """A civil time as it travels. ``fields`` are (year, month, day, hour, minute, second) plus,
    for date_time, weekday and milliseconds. FF/FFFF mean 'not given' and are kept as is."""

    def __init__(self, year, month, day, hour=0, minute=0, second=0, weekday=None, ms=None):
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.weekday = weekday
        self.ms = ms

    def put_s(self, out):
        """date_time_s: year(2) month day hour minute second."""
        put_uint(out, self.year, 2, "date_time_s.year")
        for v in (self.month, self.day, self.hour, self.minute, self.second):
            put_uint(out, v, 1, "date_time_s")

    @classmethod
    def get_s(cls, r):
        b = r.take(7, "date_time_s")
        return cls((b[0] << 8) | b[1], b[2], b[3], b[4], b[5], b[6])

    def put_full(self, out):
        """date_time: year(2) month day weekday hour minute second milliseconds(2)."""
        put_uint(out, self.year, 2, "date_time.year")
        for v in (self.month, self.day, self.weekday or 0, self.hour, self.minute, self.second):
            put_uint(out, v, 1, "date_time")
        put_uint(out, self.ms or 0, 2, "date_time.ms")

    @classmethod
    def get_full(cls, r):
        b = r.take(10, "date_time")
        return cls((b[0] << 8) | b[1], b[2], b[3], b[5], b[6], b[7], b[4], (b[8] << 8) | b[9])

    def __eq__(self, other):
        return _same(self, other, ("year", "month", "day", "hour", "minute", "second",
                                   "weekday", "ms"))

    def __ne__(self, other):
        return not self.__eq__(other)

    def text(self):
        out = "%04d-%02d-%02d %02d:%02d:%02d" % (self.year, self.month, self.day, self.hour,
                                                 self.minute, self.second)
        if self.ms is not None:
            out += ".%03d" % self.ms
        return out

    def __repr__(self):
        return "DateTime(%s)" % self.text()


def bytes_text(b):
    return hexstr(b)
