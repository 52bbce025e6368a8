"""The A-XDR ``Data`` CHOICE of DL/T 698.45 (a type tag, then the value) and the selector types
that carry Data inside (RSD, CSD, RCSD, MS, Region).

Tags and layouts: 600888/dlt698 ``tests/vectors`` (appendix D of the standard) and its
``_native.pyi`` DataType list; dlt698_rs ``data_unit/data.rs``; freudshow/icprog dlt698.45
``StdDataType.h``. A Data is ``Data(tag, value)``; ``value`` is None, a bool, an int, a float, a
str, bytes, a list of Data (array, structure), a (bit count, bytes) pair (bit-string) or one of
the axdr/this module's composite objects.
"""
import struct

from protocols.dlt698._compat import const
from protocols.dlt698.axdr import (OAD, OMD, ROAD, TI, TSA, DateTime, Reader, ScalerUnit,
                                   put_length, put_sint, put_uint)
from protocols.dlt698.errors import DecodeError, EncodeError

NULL = const(0)
ARRAY = const(1)
STRUCTURE = const(2)
BOOL = const(3)
BIT_STRING = const(4)
DOUBLE_LONG = const(5)
DOUBLE_LONG_UNSIGNED = const(6)
OCTET_STRING = const(9)
VISIBLE_STRING = const(10)
UTF8_STRING = const(12)
INTEGER = const(15)
LONG = const(16)
UNSIGNED = const(17)
LONG_UNSIGNED = const(18)
LONG64 = const(20)
LONG64_UNSIGNED = const(21)
ENUM = const(22)
FLOAT32 = const(23)
FLOAT64 = const(24)
DATE_TIME = const(25)
DATE = const(26)
TIME = const(27)
DATE_TIME_S = const(28)
T_OI = const(80)
T_OAD = const(81)
T_ROAD = const(82)
T_OMD = const(83)
T_TI = const(84)
T_TSA = const(85)
T_MAC = const(86)
T_RN = const(87)
T_REGION = const(88)
T_SCALER_UNIT = const(89)
T_RSD = const(90)
T_CSD = const(91)
T_MS = const(92)
T_SID = const(93)
T_SID_MAC = const(94)
T_COMDCB = const(95)
T_RCSD = const(96)

TYPE_NAMES = {
    0: "null", 1: "array", 2: "structure", 3: "bool", 4: "bit-string", 5: "double-long",
    6: "double-long-unsigned", 9: "octet-string", 10: "visible-string", 12: "UTF8-string",
    15: "integer", 16: "long", 17: "unsigned", 18: "long-unsigned", 20: "long64",
    21: "long64-unsigned", 22: "enum", 23: "float32", 24: "float64", 25: "date_time",
    26: "date", 27: "time", 28: "date_time_s", 80: "OI", 81: "OAD", 82: "ROAD", 83: "OMD",
    84: "TI", 85: "TSA", 86: "MAC", 87: "RN", 88: "Region", 89: "Scaler_Unit", 90: "RSD",
    91: "CSD", 92: "MS", 93: "SID", 94: "SID_MAC", 95: "COMDCB", 96: "RCSD",
}
# tag: (bytes, signed)
INT_TYPES = {5: (4, True), 6: (4, False), 15: (1, True), 16: (2, True), 17: (1, False),
             18: (2, False), 20: (8, True), 21: (8, False), 22: (1, False), 80: (2, False)}
BYTE_TYPES = (OCTET_STRING, T_MAC, T_RN)
MAX_DEPTH = const(16)


class Data:
    """One tagged A-XDR value."""

    def __init__(self, tag, value=None):
        self.tag = tag
        self.value = value

    @property
    def type_name(self):
        return TYPE_NAMES.get(self.tag, "tag %d" % self.tag)

    def __eq__(self, other):
        return isinstance(other, Data) and self.tag == other.tag and self.value == other.value

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "Data(%s, %r)" % (self.type_name, self.value)


def structure(*items):
    return Data(STRUCTURE, list(items))


def array(items):
    return Data(ARRAY, list(items))


class Region:
    """区间: unit (0 [a,b), 1 (a,b], 2 [a,b], 3 (a,b)) and two Data bounds."""

    def __init__(self, unit, start, end):
        self.unit = unit
        self.start = start
        self.end = end

    def __eq__(self, other):
        return (isinstance(other, Region) and self.unit == other.unit
                and self.start == other.start and self.end == other.end)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "Region(%d, %r, %r)" % (self.unit, self.start, self.end)


class MS:
    """电能表集合 meter set: choice 0 none, 1 all, 2 user types (unsigned), 3 addresses (TSA),
    4 configuration numbers (long-unsigned), 5..7 Regions of those three."""

    def __init__(self, choice, items=()):
        self.choice = choice
        self.items = list(items)

    def __eq__(self, other):
        return isinstance(other, MS) and self.choice == other.choice and self.items == other.items

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "MS(%d, %r)" % (self.choice, self.items)


class RSD:
    """行选择描述符 row selector: ``selector`` 0..10 and its fields in order.

    1 (OAD, Data); 2 (OAD, start, end, interval Data); 3 list of selector-2 field tuples;
    4 and 5 (date_time_s, MS); 6..8 (start, end date_time_s, TI, MS); 9 (n); 10 (n, MS).
    """

    def __init__(self, selector, fields=()):
        self.selector = selector
        self.fields = list(fields)

    def __eq__(self, other):
        return (isinstance(other, RSD) and self.selector == other.selector
                and self.fields == other.fields)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "RSD(%d, %r)" % (self.selector, self.fields)


def put_csd(out, csd):
    """CSD: choice 0 OAD, 1 ROAD."""
    out.append(1 if isinstance(csd, ROAD) else 0)
    csd.put(out)


def get_csd(r):
    choice = r.u8("CSD")
    if choice == 0:
        return OAD.get(r)
    if choice == 1:
        return ROAD.get(r)
    raise DecodeError("CSD", "choice %d" % choice, bytes([choice]), r.pos - 1)


def put_rcsd(out, columns):
    put_length(out, len(columns))
    for c in columns:
        put_csd(out, c)


def get_rcsd(r):
    return [get_csd(r) for _ in range(r.length("RCSD.count"))]


def _put_ms_item(out, choice, item):
    if choice in (2, 3, 4):
        _put_plain(out, (UNSIGNED, T_TSA, LONG_UNSIGNED)[choice - 2], item)
    else:
        out.append(item.unit)
        put_data(out, item.start)
        put_data(out, item.end)


def put_ms(out, ms):
    if not 0 <= ms.choice <= 7:
        raise EncodeError("MS", "choice 0..7 needed")
    out.append(ms.choice)
    if ms.choice >= 2:
        put_length(out, len(ms.items))
        for item in ms.items:
            _put_ms_item(out, ms.choice, item)


def get_ms(r):
    choice = r.u8("MS")
    if choice > 7:
        raise DecodeError("MS", "choice %d" % choice, bytes([choice]), r.pos - 1)
    items = []
    if choice >= 2:
        for _ in range(r.length("MS.count")):
            if choice in (2, 3, 4):
                items.append(_get_plain(r, (UNSIGNED, T_TSA, LONG_UNSIGNED)[choice - 2], 0))
            else:
                items.append(Region(r.u8("Region.unit"), get_data(r), get_data(r)))
    return MS(choice, items)


def put_rsd(out, rsd):
    s, f = rsd.selector, rsd.fields
    out.append(s)
    if s == 1:
        f[0].put(out)
        put_data(out, f[1])
    elif s == 2:
        f[0].put(out)
        for d in f[1:4]:
            put_data(out, d)
    elif s == 3:
        put_length(out, len(f))
        for sel2 in f:
            put_rsd(out, RSD(2, sel2))
    elif s in (4, 5):
        f[0].put_s(out)
        put_ms(out, f[1])
    elif s in (6, 7, 8):
        f[0].put_s(out)
        f[1].put_s(out)
        f[2].put(out)
        put_ms(out, f[3])
    elif s in (9, 10):
        put_uint(out, f[0], 1, "RSD.n")
        if s == 10:
            put_ms(out, f[1])
    elif s != 0:
        raise EncodeError("RSD", "selector %r" % (s,))


def get_rsd(r):
    s = r.u8("RSD")
    if s == 0:
        return RSD(0)
    if s == 1:
        return RSD(1, [OAD.get(r), get_data(r)])
    if s == 2:
        return RSD(2, [OAD.get(r), get_data(r), get_data(r), get_data(r)])
    if s == 3:
        out = []
        for _ in range(r.length("RSD3.count")):
            if r.u8("RSD3.selector") != 2:
                raise DecodeError("RSD", "selector 3 holds selector-2 items", r.buf[r.pos - 1:],
                                  r.pos - 1)
            out.append([OAD.get(r), get_data(r), get_data(r), get_data(r)])
        return RSD(3, out)
    if s in (4, 5):
        return RSD(s, [DateTime.get_s(r), get_ms(r)])
    if s in (6, 7, 8):
        return RSD(s, [DateTime.get_s(r), DateTime.get_s(r), TI.get(r), get_ms(r)])
    if s == 9:
        return RSD(9, [r.u8("RSD.n")])
    if s == 10:
        return RSD(10, [r.u8("RSD.n"), get_ms(r)])
    raise DecodeError("RSD", "selector %d" % s, bytes([s]), r.pos - 1)


def put_data(out, d, depth=0):
    """Append the tagged Data ``d``."""
    if not isinstance(d, Data):
        raise EncodeError("Data", "expected a Data, got %r" % (d,))
    if d.tag not in TYPE_NAMES:
        raise EncodeError("Data", "unknown type tag %r" % (d.tag,))
    out.append(d.tag)
    _put_plain(out, d.tag, d.value, depth)


def _put_plain(out, tag, v, depth=0):
    """The value of type ``tag`` without its tag (how typed fields travel inside APDUs)."""
    if depth > MAX_DEPTH:
        raise EncodeError("Data", "nested deeper than %d" % MAX_DEPTH)
    if tag in INT_TYPES:
        n, signed = INT_TYPES[tag]
        (put_sint if signed else put_uint)(out, v, n, TYPE_NAMES[tag])
    elif tag == NULL:
        if v is not None:
            raise EncodeError("null", "carries no value")
    elif tag in (ARRAY, STRUCTURE):
        put_length(out, len(v))
        for item in v:
            put_data(out, item, depth + 1)
    elif tag == BOOL:
        out.append(1 if v else 0)
    elif tag == BIT_STRING:
        bits, raw = v
        if len(raw) != (bits + 7) // 8:
            raise EncodeError("bit-string", "%d bits need %d bytes" % (bits, (bits + 7) // 8))
        put_length(out, bits)
        out += raw
    elif tag in BYTE_TYPES or tag in (VISIBLE_STRING, UTF8_STRING):
        raw = v.encode() if isinstance(v, str) else bytes(v)
        put_length(out, len(raw))
        out += raw
    elif tag in (FLOAT32, FLOAT64):
        out += struct.pack(">f" if tag == FLOAT32 else ">d", v)
    elif tag == DATE_TIME:
        v.put_full(out)
    elif tag == DATE_TIME_S:
        v.put_s(out)
    elif tag == DATE:
        put_uint(out, v.year, 2, "date.year")
        for x in (v.month, v.day, v.weekday or 0):
            put_uint(out, x, 1, "date")
    elif tag == TIME:
        for x in (v.hour, v.minute, v.second):
            put_uint(out, x, 1, "time")
    else:
        _put_composite(out, tag, v)


def _put_composite(out, tag, v):
    if tag in (T_OAD, T_ROAD, T_OMD, T_TI, T_TSA, T_SCALER_UNIT):
        v.put(out)
    elif tag == T_REGION:
        out.append(v.unit)
        put_data(out, v.start)
        put_data(out, v.end)
    elif tag == T_RSD:
        put_rsd(out, v)
    elif tag == T_CSD:
        put_csd(out, v)
    elif tag == T_MS:
        put_ms(out, v)
    elif tag == T_RCSD:
        put_rcsd(out, v)
    elif tag in (T_SID, T_SID_MAC):
        ident, extra = v[0], v[1]
        put_uint(out, ident, 4, "SID.id")
        put_length(out, len(extra))
        out += extra
        if tag == T_SID_MAC:
            put_length(out, len(v[2]))
            out += v[2]
    elif tag == T_COMDCB:
        if len(v) != 5:
            raise EncodeError("COMDCB", "5 bytes: baud, parity, data bits, stop bits, flow")
        out += bytes(v)
    else:
        raise EncodeError("Data", "cannot encode type %d" % tag)


def get_data(r, depth=0):
    """Read one tagged Data."""
    tag = r.u8("Data.type")
    if tag not in TYPE_NAMES:
        raise DecodeError("Data", "unknown type tag %d" % tag, bytes([tag]), r.pos - 1)
    return Data(tag, _get_plain(r, tag, depth))


def _get_plain(r, tag, depth=0):
    if depth > MAX_DEPTH:
        raise DecodeError("Data", "nested deeper than %d" % MAX_DEPTH, b"", r.pos)
    name = TYPE_NAMES[tag]
    if tag in INT_TYPES:
        n, signed = INT_TYPES[tag]
        return r.sint(n, name) if signed else r.uint(n, name)
    if tag == NULL:
        return None
    if tag in (ARRAY, STRUCTURE):
        return [get_data(r, depth + 1) for _ in range(r.length(name))]
    if tag == BOOL:
        return r.u8(name) != 0
    if tag == BIT_STRING:
        bits = r.length(name)
        return (bits, r.take((bits + 7) // 8, name))
    if tag in BYTE_TYPES:
        return r.take(r.length(name), name)
    if tag in (VISIBLE_STRING, UTF8_STRING):
        raw = r.take(r.length(name), name)
        try:
            return raw.decode()
        except UnicodeError:
            raise DecodeError(name, "not text", raw, r.pos - len(raw)) from None
    if tag in (FLOAT32, FLOAT64):
        n = 4 if tag == FLOAT32 else 8
        return struct.unpack(">f" if n == 4 else ">d", r.take(n, name))[0]
    if tag == DATE_TIME:
        return DateTime.get_full(r)
    if tag == DATE_TIME_S:
        return DateTime.get_s(r)
    if tag == DATE:
        b = r.take(5, name)
        return DateTime((b[0] << 8) | b[1], b[2], b[3], weekday=b[4])
    if tag == TIME:
        b = r.take(3, name)
        return DateTime(0, 0, 0, b[0], b[1], b[2])
    return _get_composite(r, tag)


_FIXED = {T_OAD: OAD, T_ROAD: ROAD, T_OMD: OMD, T_TI: TI, T_TSA: TSA, T_SCALER_UNIT: ScalerUnit}


def _get_composite(r, tag):
    if tag in _FIXED:
        return _FIXED[tag].get(r)
    if tag == T_REGION:
        return Region(r.u8("Region.unit"), get_data(r), get_data(r))
    if tag == T_RSD:
        return get_rsd(r)
    if tag == T_CSD:
        return get_csd(r)
    if tag == T_MS:
        return get_ms(r)
    if tag == T_RCSD:
        return get_rcsd(r)
    if tag in (T_SID, T_SID_MAC):
        out = [r.uint(4, "SID.id"), r.take(r.length("SID.data"), "SID.data")]
        if tag == T_SID_MAC:
            out.append(r.take(r.length("MAC"), "MAC"))
        return out
    if tag == T_COMDCB:
        return list(r.take(5, "COMDCB"))
    raise DecodeError("Data", "cannot decode type %d" % tag, bytes([tag]), r.pos - 1)


def encode_data(d):
    """One tagged Data to bytes."""
    out = bytearray()
    put_data(out, d)
    return bytes(out)


def decode_data(raw):
    """Exactly one tagged Data from ``raw``; raises DecodeError (also for trailing bytes)."""
    r = Reader(raw)
    d = get_data(r)
    if r.left:
        raise DecodeError("Data", "%d bytes after the value" % r.left, r.buf[r.pos:], r.pos)
    return d
