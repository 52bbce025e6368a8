"""Compressed BCD helpers shared by the codecs (MicroPython-safe).

Values on the wire are low byte first; helpers here work on *natural* order (most significant
byte first) and callers reverse where the standard says so.
"""
from protocols.errors import DecodeError, EncodeError


def byte_to_int(b, field="bcd", offset=-1):
    """One BCD byte (0x00..0x99) to 0..99."""
    hi = b >> 4
    lo = b & 0x0F
    if hi > 9 or lo > 9:
        raise DecodeError(field, "not a BCD byte", bytes([b]), offset)
    return hi * 10 + lo


def int_to_byte(value, field="bcd"):
    """0..99 to one BCD byte."""
    if not 0 <= value <= 99:
        raise EncodeError(field, "%r does not fit one BCD byte" % (value,))
    return ((value // 10) << 4) | (value % 10)


def decode_uint(data, field="bcd"):
    """Natural-order BCD bytes to a non-negative integer."""
    value = 0
    for i, b in enumerate(data):
        value = value * 100 + byte_to_int(b, field, i)
    return value


def encode_uint(value, nbytes, field="bcd"):
    """Non-negative integer to ``nbytes`` natural-order BCD bytes."""
    if value < 0 or value >= 100 ** nbytes:
        raise EncodeError(field, "%r does not fit %d BCD bytes" % (value, nbytes))
    out = bytearray(nbytes)
    for i in range(nbytes - 1, -1, -1):
        out[i] = int_to_byte(value % 100, field)
        value //= 100
    return bytes(out)


def decode_sint(data, field="bcd"):
    """Natural-order BCD with the top bit of the first byte as the sign (DL/T 645 signed formats)."""
    if not data:
        return 0
    negative = data[0] & 0x80
    body = bytes([data[0] & 0x7F]) + bytes(data[1:])
    value = decode_uint(body, field)
    return -value if negative else value


def encode_sint(value, nbytes, field="bcd"):
    """Signed integer to natural-order BCD with the sign in the top bit of the first byte."""
    magnitude = -value if value < 0 else value
    if magnitude >= 8 * 10 ** (2 * nbytes - 1):
        raise EncodeError(field, "%r does not fit %d signed BCD bytes" % (value, nbytes))
    out = bytearray(encode_uint(magnitude, nbytes, field))
    if value < 0:
        out[0] |= 0x80
    return bytes(out)


def hex_to_bytes(text, field="hex"):
    """Parse hex with optional spaces (``"68 AA"`` or ``"68aa"``) into bytes."""
    clean = "".join(text.split())
    if len(clean) % 2:
        raise DecodeError(field, "odd number of hex digits in %r" % (text[:40],))
    out = bytearray()
    for i in range(0, len(clean), 2):
        try:
            out.append(int(clean[i:i + 2], 16))
        except ValueError:
            raise DecodeError(field, "not hex: %r" % (clean[i:i + 2],)) from None
    return bytes(out)
