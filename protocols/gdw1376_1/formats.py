"""Q/GDW 1376.1 appendix A data formats used by the data units here, low byte first on the wire.

Every format reads ``EE`` bytes as "no data" (None) and writes None as EE; a value that is not
BCD is a typed error. Scales: A.5 (±xxx.x, 2 bytes), A.7 (xxx.x), A.8 (xxxx), A.9 (±xx.xxxx, 3),
A.11 (xxxxxx.xx, 4), A.14 (xxxxxx.xxxx, 5), A.25 (±xxx.xxx, 3); times A.15 (mm hh DD MM YY),
A.16 (ss mm hh DD), A.20 (DD MM YY), A.21 (MM YY); A.12 a 12-digit meter address.
"""
from protocols import bcd, errors as _errors
from protocols.gdw1376_1.errors import DecodeError, EncodeError

# name -> (bytes, decimals, signed)
NUMBERS = {"A5": (2, 1, True), "A7": (2, 1, False), "A8": (2, 0, False), "A9": (3, 4, True),
           "A11": (4, 2, False), "A14": (5, 4, False), "A25": (3, 3, True)}
# A.13 energy xxxx.xxxx kWh (curves F97..F100), A.22 x.x (ERC28/29 thresholds)
NUMBERS.update({"A13": (4, 4, False), "A22": (1, 1, False)})
TIMES = {"A15": 5, "A16": 4, "A18": 3, "A20": 3, "A21": 2}     # A.18 mm hh DD


def size(fmt):
    if fmt in NUMBERS:
        return NUMBERS[fmt][0]
    if fmt in TIMES:
        return TIMES[fmt]
    if fmt == "A12":
        return 6
    raise KeyError(fmt)


def decode(fmt, raw, field=None):
    """Value of ``raw`` (wire order) in format ``fmt``; None for EE fill."""
    field = field or fmt
    try:
        return _decode(fmt, bytes(raw), field)
    except _errors.DecodeError as exc:
        if isinstance(exc, DecodeError):
            raise
        raise DecodeError(field, "%s: %s" % (fmt, exc), raw) from None


def _decode(fmt, raw, field):
    raw = bytes(raw)
    if len(raw) != size(fmt):
        raise DecodeError(field, "%s needs %d bytes, got %d" % (fmt, size(fmt), len(raw)), raw)
    if all(b == 0xEE for b in raw):
        return None
    natural = raw[::-1]
    if fmt in NUMBERS:
        n, decimals, signed = NUMBERS[fmt]
        value = bcd.decode_sint(natural, field) if signed else bcd.decode_uint(natural, field)
        return value / 10.0 ** decimals if decimals else value
    if fmt == "A12":
        return "%012d" % bcd.decode_uint(natural, field)
    parts = [bcd.byte_to_int(b, field) for b in raw]
    return tuple(parts)         # the time fields in wire order (A.15: mm hh DD MM YY)


def encode(fmt, value, field=None):
    """The wire bytes of ``value`` in format ``fmt`` (None: EE); EncodeError when it does not fit."""
    field = field or fmt
    try:
        return _encode(fmt, value, field)
    except _errors.EncodeError as exc:
        if isinstance(exc, EncodeError):
            raise
        raise EncodeError(field, "%s: %s" % (fmt, exc)) from None


def _encode(fmt, value, field):
    if value is None:
        return b"\xEE" * size(fmt)
    if fmt in NUMBERS:
        n, decimals, signed = NUMBERS[fmt]
        scaled = int(round(value * 10 ** decimals))
        natural = bcd.encode_sint(scaled, n, field) if signed else bcd.encode_uint(scaled, n, field)
        return natural[::-1]
    if fmt == "A12":
        return bcd.encode_uint(int(value), 6, field)[::-1]
    if len(value) != TIMES[fmt]:
        raise EncodeError(field, "%s needs %d fields" % (fmt, TIMES[fmt]))
    return bytes(bcd.int_to_byte(v, field) for v in value)


def time_a15(t_civil):
    """A.15 fields (mm hh DD MM YY) from a ``protocols.civil.to_civil`` tuple."""
    y, m, d, hh, mm = t_civil[:5]
    return (mm, hh, d, m, y % 100)
