"""DL/T 645 value formats: natural-order format strings, low-byte-first on the wire.

A format is a string such as ``XXXXXX.XX`` (BCD number), ``YYMMDDhhmm`` (BCD time fields),
``NN`` (BCD integer), ``ADDR`` (12-digit address), ``WORD`` (binary bit field, 2 bytes),
``DI`` (a 4-byte identifier) or ``HEX4`` (opaque 4 bytes such as an operator code).
Every multi-byte value travels low byte first, so the natural-order bytes are reversed.
"""
from protocols import bcd
from protocols.civil import from_civil, to_civil
from protocols.dlt645.errors import DecodeError, EncodeError

_TIME_LETTERS = "YMDWhms"
_SPECIAL = {"ADDR": 6, "WORD": 2, "DI": 4, "HEX4": 4}


def size(fmt):
    """Bytes a value of ``fmt`` takes."""
    if fmt in _SPECIAL:
        return _SPECIAL[fmt]
    return len(fmt.replace(".", "")) // 2


def decimals(fmt):
    """Digits after the decimal point of a numeric format."""
    dot = fmt.find(".")
    return 0 if dot < 0 else len(fmt) - dot - 1


def is_time(fmt):
    return fmt[0] in _TIME_LETTERS


def decode(fmt, data, signed=False):
    """Wire bytes of one value to a Python value (float/int/str; None for an all-FF gap)."""
    n = size(fmt)
    if len(data) != n:
        raise DecodeError(fmt, "needs %d bytes, got %d" % (n, len(data)), data)
    if fmt == "WORD":
        return data[0] | (data[1] << 8)
    if fmt == "DI":
        return "%02X%02X%02X%02X" % (data[3], data[2], data[1], data[0])
    if fmt == "HEX4":
        return "%02X%02X%02X%02X" % (data[3], data[2], data[1], data[0])
    if all(b == 0xFF for b in data):
        return None
    natural = bytes(reversed(data))
    if fmt == "ADDR":
        bcd.decode_uint(natural, fmt)
        return "".join("%02X" % b for b in natural)
    if is_time(fmt):
        return _decode_time(fmt, natural)
    value = bcd.decode_sint(natural, fmt) if signed else bcd.decode_uint(natural, fmt)
    places = decimals(fmt)
    if places:
        return round(value / (10 ** places), places)
    return value


def encode(fmt, value, signed=False):
    """A Python value to the wire bytes of ``fmt``."""
    n = size(fmt)
    if fmt == "WORD":
        return bytes([value & 0xFF, (value >> 8) & 0xFF])
    if fmt in ("DI", "HEX4"):
        raw = bcd.hex_to_bytes(value, fmt) if isinstance(value, str) else bytes(value)
        if len(raw) != 4:
            raise EncodeError(fmt, "needs 4 bytes")
        return bytes(reversed(raw)) if isinstance(value, str) else raw
    if value is None:
        return b"\xFF" * n
    if fmt == "ADDR":
        natural = bcd.hex_to_bytes(value, fmt)
        if len(natural) != 6:
            raise EncodeError(fmt, "needs 12 digits")
    elif is_time(fmt):
        natural = _encode_time(fmt, value)
    else:
        scaled = int(round(value * (10 ** decimals(fmt))))
        try:
            natural = bcd.encode_sint(scaled, n, fmt) if signed else bcd.encode_uint(scaled, n, fmt)
        except Exception as exc:
            raise EncodeError(fmt, "%r out of range (%s)" % (value, exc)) from None
    return bytes(reversed(natural))


def _fields(fmt):
    return [fmt[i:i + 2] for i in range(0, len(fmt), 2)]


def _decode_time(fmt, natural):
    parts = {}
    for i, name in enumerate(_fields(fmt)):
        parts[name] = bcd.byte_to_int(natural[i], fmt, i)
    y = 2000 + parts.get("YY", 0)
    mo = parts.get("MM", 1)
    d = parts.get("DD", 1)
    hh = parts.get("hh", 0)
    mi = parts.get("mm", 0)
    ss = parts.get("ss", 0)
    if "MM" in parts and not 1 <= mo <= 12:
        raise DecodeError(fmt, "month %d" % mo, natural)
    if "DD" in parts and not 1 <= d <= 31:
        raise DecodeError(fmt, "day %d" % d, natural)
    if hh > 23 or mi > 59 or ss > 59:
        raise DecodeError(fmt, "time %02d:%02d:%02d" % (hh, mi, ss), natural)
    out = []
    if "YY" in parts:
        out.append("%04d-%02d-%02d" % (y, mo, d))
    elif "MM" in parts:
        out.append("%02d-%02d" % (mo, d))
    elif "DD" in parts:
        out.append("%02d" % d)
    if "hh" in parts:
        clock = "%02d" % hh
        if "mm" in parts:
            clock += ":%02d" % mi
        if "ss" in parts:
            clock += ":%02d" % ss
        out.append(clock)
    if "WW" in parts:
        out.append("w%d" % parts["WW"])
    return " ".join(out)


def _encode_time(fmt, value):
    """``value``: seconds (int/float) or a (Y, M, D, hh, mm, ss[, week]) tuple."""
    if isinstance(value, (int, float)):
        value = to_civil(value)
    y, mo, d, hh, mi, ss = value[:6]
    week = value[6] if len(value) > 6 else to_civil(from_civil(y, mo, d))[6]
    table = {"YY": y % 100, "MM": mo, "DD": d, "hh": hh, "mm": mi, "ss": ss, "WW": week}
    return bytes([bcd.int_to_byte(table[name], fmt) for name in _fields(fmt)])


def time_seconds(fmt, data):
    """Wire bytes of a time format with a year to seconds (None for an all-FF gap)."""
    if all(b == 0xFF for b in data):
        return None
    natural = bytes(reversed(data))
    parts = {}
    for i, name in enumerate(_fields(fmt)):
        parts[name] = bcd.byte_to_int(natural[i], fmt, i)
    try:
        return from_civil(2000 + parts.get("YY", 0), parts.get("MM", 1), parts.get("DD", 1),
                          parts.get("hh", 0), parts.get("mm", 0), parts.get("ss", 0))
    except ValueError as exc:
        raise DecodeError(fmt, str(exc), data) from None
