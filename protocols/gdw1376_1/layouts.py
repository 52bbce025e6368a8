"""Generic layouts of Q/GDW 1376.1 data-unit data: how one item's bytes read as a value and back.

``parse(data, pos) -> (value, pos)`` reads one item at ``pos`` of a frame's data part; ``encode``
is its inverse. Values are dicts of named fields in appendix-A formats (None where the sender
filled EE); BIN fields are ``u8``/``u16``/``u32`` (low byte first), ``A1`` is the 6-byte time
ss mm hh DD MM YY (the month byte's D7..D5 carry the weekday and are masked on read).
"""
from protocols import bcd, errors as _errors
from protocols.gdw1376_1 import formats as F
from protocols.gdw1376_1.dadt import decode_da, decode_dt, encode_da, encode_dt
from protocols.gdw1376_1.errors import DecodeError, EncodeError

BIN_SIZES = {"u8": 1, "u16": 2, "u32": 4}
A1_SIZE = 6


class Layout:
    """How one item's data is laid out; ``parse(data, pos) -> (value, pos)``."""

    def parse(self, data, pos):
        raise NotImplementedError

    def encode(self, value):
        raise NotImplementedError


class Empty(Layout):
    def parse(self, data, pos):
        return None, pos

    def encode(self, value):
        return b""


class Fields(Layout):
    """Fixed fields in order: [(name, format)] with formats from ``formats``, BIN ``u8``/``u16``/
    ``u32`` or the ``A1`` time."""

    def __init__(self, *fields):
        self.fields = fields

    def parse(self, data, pos):
        out, invalid = {}, []
        for name, fmt in self.fields:
            n = field_size(fmt)
            out[name] = read_field(fmt, _take(data, pos, n, name), name, invalid)
            pos += n
        if invalid:
            out["invalid"] = invalid
        return out, pos

    def encode(self, value):
        return b"".join(write_field(f, value.get(n), n) for n, f in self.fields)


def field_size(fmt):
    if fmt in BIN_SIZES:
        return BIN_SIZES[fmt]
    return A1_SIZE if fmt == "A1" else F.size(fmt)


def read_field(fmt, raw, name, invalid=None):
    """One field's value from its wire bytes (BIN low byte first; EE fill reads as None)."""
    if fmt in BIN_SIZES:
        return int.from_bytes(raw, "little")
    if fmt == "A1":
        return _a1(raw, name, invalid)
    return _value(fmt, raw, name, invalid)


def write_field(fmt, value, name):
    if fmt in BIN_SIZES:
        n = BIN_SIZES[fmt]
        if not isinstance(value, int) or not 0 <= value < 1 << (8 * n):
            raise EncodeError(name, "%r is not a %d-byte BIN number" % (value, n))
        return value.to_bytes(n, "little")
    if fmt == "A1":
        if value is None:
            return b"\xEE" * A1_SIZE
        if len(value) != A1_SIZE:
            raise EncodeError(name, "A1 needs ss mm hh DD MM YY")
        return bytes(bcd.int_to_byte(v, name) for v in value)
    return F.encode(fmt, value, name)


def _a1(raw, name, invalid):
    """A.1 ss mm hh DD MM YY; D7..D5 of the month byte are the weekday (not kept)."""
    if 0xEE in raw:
        return None
    try:
        return tuple(bcd.byte_to_int(b & 0x1F if k == 4 else b, name) for k, b in enumerate(raw))
    except _errors.DecodeError:
        if invalid is None:
            raise DecodeError(name, "A1: not BCD", raw) from None
        invalid.append(name)
        return None


class Energy(Layout):
    """Reading time A.15, tariff count M, then each group of (M + 1) values (total, 1..M)."""

    def __init__(self, *groups):
        self.groups = groups

    def parse(self, data, pos):
        t = _take(data, pos, 5, "time")
        m = _take(data, pos + 5, 1, "M")[0]
        out = {"time": _value("A15", t, "time"), "m": None if m == 0xEE else m}
        pos += 6
        if m == 0xEE:
            out["rest"] = bytes(data[pos:])
            return out, len(data)
        if m > 14:
            raise DecodeError("M", "more than 14 tariffs", bytes([m]), pos - 1)
        invalid = []
        for name, fmt in self.groups:
            n = F.size(fmt)
            out[name] = [_value(fmt, _take(data, pos + k * n, n, name), name, invalid)
                         for k in range(m + 1)]
            pos += (m + 1) * n
        if invalid:
            out["invalid"] = invalid
        return out, pos

    def encode(self, value):
        m = value.get("m")
        out = F.encode("A15", value.get("time")) + bytes([0xEE if m is None else m])
        if m is None:
            return out + value.get("rest", b"")
        for name, fmt in self.groups:
            vals = value.get(name) or [None] * (m + 1)
            if len(vals) != m + 1:
                raise EncodeError(name, "needs M + 1 = %d values" % (m + 1))
            out += b"".join(F.encode(fmt, v, name) for v in vals)
        return out


class Dated(Layout):
    """A freeze date (A.20 day or A.21 month) followed by ``inner``."""

    def __init__(self, fmt, inner=None):
        self.fmt = fmt
        self.inner = inner or Empty()

    def parse(self, data, pos):
        n = F.size(self.fmt)
        date = _value(self.fmt, _take(data, pos, n, "Td"), "Td")
        inner, pos = self.inner.parse(data, pos + n)
        out = {"td": date}
        if inner is not None:
            out.update(inner)
        return out, pos

    def encode(self, value):
        return F.encode(self.fmt, value.get("td")) + self.inner.encode(value)


class Rest(Layout):
    """Everything to the end of the data (carried frames, or an item we keep as bytes)."""

    def parse(self, data, pos):
        return {"raw": bytes(data[pos:])}, len(data)

    def encode(self, value):
        return bytes(value.get("raw", b""))


class PerUnitConfirm(Layout):
    """AFN00 F3: the AFN confirmed, then (DA, DT, error) per data unit (0 = ok, 1 = error)."""

    def parse(self, data, pos):
        afn = _take(data, pos, 1, "AFN")[0]
        pos += 1
        items = []
        while pos < len(data):
            c = _take(data, pos, 5, "unit result")
            items.append((decode_da(c[0], c[1]), decode_dt(c[2], c[3]), c[4]))
            pos += 5
        return {"afn": afn, "items": items}, pos

    def encode(self, value):
        return bytes([value["afn"]]) + b"".join(
            encode_da(pns) + encode_dt(fns) + bytes([err]) for pns, fns, err in value["items"])


class Carried(Layout):
    """A length-prefixed block: ``head`` fields, L (1 or 2 bytes LE), then L bytes of content."""

    def __init__(self, head, l_bytes=2):
        self.head = Fields(*head)
        self.l_bytes = l_bytes

    def parse(self, data, pos):
        out, pos = self.head.parse(data, pos)
        lb = _take(data, pos, self.l_bytes, "L")
        n = lb[0] | (lb[1] << 8 if self.l_bytes == 2 else 0)
        out["content"] = _take(data, pos + self.l_bytes, n, "content")
        return out, pos + self.l_bytes + n

    def encode(self, value):
        content = bytes(value.get("content", b""))
        if len(content) >= 1 << (8 * self.l_bytes):
            raise EncodeError("L", "content of %d bytes is too long" % len(content))
        n = len(content)
        lb = bytes([n & 0xFF, n >> 8]) if self.l_bytes == 2 else bytes([n])
        return self.head.encode(value) + lb + content


def _take(data, pos, n, field):
    if pos + n > len(data):
        raise DecodeError(field, "needs %d bytes, %d left" % (n, len(data) - pos), data[pos:], pos)
    return bytes(data[pos:pos + n])


def _value(fmt, raw, field, invalid=None):
    """A field's value; None for EE fill. A field that is not BCD either raises, or - given an
    ``invalid`` list - reads as None with its name noted there (a peer's bad field does not
    cost the rest of the frame)."""
    if 0xEE in raw:
        return None                     # EE anywhere in a field: the sender has no valid value
    try:
        return F.decode(fmt, raw, field)
    except DecodeError:
        if invalid is None:
            raise
        invalid.append(field)
        return None


class Curve(Layout):
    """A curve: time label Td_c (start A.15, density code, point count), then one ``fmt`` value
    per point, as ``{"start", "density", "values"}``; with ``fmt`` None only the label (a
    request), as ``{"start", "density", "points"}``."""

    def __init__(self, fmt=None):
        self.fmt = fmt

    def parse(self, data, pos):
        head = _take(data, pos, 7, "Td_c")
        out = {"start": _value("A15", head[:5], "start"), "density": head[5]}
        n = head[6]
        pos += 7
        if self.fmt is None:
            out["points"] = n
            return out, pos
        size = F.size(self.fmt)
        invalid = []
        out["values"] = [_value(self.fmt, _take(data, pos + k * size, size, "values"), "values",
                                invalid) for k in range(n)]
        if invalid:
            out["invalid"] = invalid
        return out, pos + n * size

    def encode(self, value):
        if self.fmt is None:
            return F.encode("A15", value.get("start")) + bytes([value.get("density", 1),
                                                                 value.get("points", 0)])
        vals = value.get("values", [])
        if len(vals) > 255:
            raise EncodeError("Td_c", "a curve has at most 255 points")
        return (F.encode("A15", value.get("start")) + bytes([value.get("density", 1), len(vals)])
                + b"".join(F.encode(self.fmt, v, "values") for v in vals))


# curve density codes (密度): minutes between points
DENSITY_MIN = {1: 15, 2: 30, 3: 60, 254: 5, 255: 1}


class Repeated(Layout):
    """A count (``count_bytes`` BIN LE) then that many ``item`` layouts, as a list ``items``."""

    def __init__(self, item, count_bytes=2, limit=2040):
        self.item = item
        self.count_bytes = count_bytes
        self.limit = limit

    def parse(self, data, pos):
        c = _take(data, pos, self.count_bytes, "n")
        n = c[0] | (c[1] << 8 if self.count_bytes == 2 else 0)
        if n > self.limit:
            raise DecodeError("n", "%d entries, at most %d" % (n, self.limit), c, pos)
        pos += self.count_bytes
        items = []
        for _ in range(n):
            item, pos = self.item.parse(data, pos)
            items.append(item)
        return {"items": items}, pos

    def encode(self, value):
        items = value.get("items", [])
        n = len(items)
        if n > self.limit:
            raise EncodeError("n", "%d entries, at most %d" % (n, self.limit))
        head = bytes([n & 0xFF, n >> 8]) if self.count_bytes == 2 else bytes([n])
        return head + b"".join(self.item.encode(i) for i in items)


class U16(Layout):
    """One BIN 16-bit LE number under ``name`` (a dict field)."""

    def __init__(self, name):
        self.name = name

    def parse(self, data, pos):
        b = _take(data, pos, 2, self.name)
        return {self.name: b[0] | (b[1] << 8)}, pos + 2

    def encode(self, value):
        v = value[self.name]
        if not 0 <= v <= 0xFFFF:
            raise EncodeError(self.name, "%r is not 0..65535" % (v,))
        return bytes([v & 0xFF, v >> 8])


class Concat(Layout):
    """Layouts one after the other, their dict values merged."""

    def __init__(self, *parts):
        self.parts = parts

    def parse(self, data, pos):
        out = {}
        for part in self.parts:
            value, pos = part.parse(data, pos)
            out.update(value or {})
        return out, pos

    def encode(self, value):
        return b"".join(p.encode(value) for p in self.parts)


class Events(Layout):
    """AFN0E F1/F2 answer: event counters EC1 EC2, pointers Pm Pn, then (ERC, Le, data) each."""

    def parse(self, data, pos):
        h = _take(data, pos, 4, "EC Pm Pn")
        pos += 4
        n = (h[3] - h[2]) % 256
        events = []
        for _ in range(n):
            erc, le = _take(data, pos, 2, "ERC Le")
            events.append({"erc": erc, "data": _take(data, pos + 2, le, "event data")})
            pos += 2 + le
        return {"ec1": h[0], "ec2": h[1], "pm": h[2], "pn": h[3], "events": events}, pos

    def encode(self, value):
        events = value.get("events", [])
        pm = value.get("pm", 0)
        out = bytes([value.get("ec1", 0), value.get("ec2", 0), pm, (pm + len(events)) % 256])
        for e in events:
            if len(e["data"]) > 255:
                raise EncodeError("Le", "event data over 255 bytes")
            out += bytes([e["erc"], len(e["data"])]) + bytes(e["data"])
        return out

