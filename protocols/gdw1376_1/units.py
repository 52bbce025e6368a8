"""Q/GDW 1376.1 data units: DA (point Pn) + DT (item Fn) + the item's data, typed per AFN/Fn.

DA: p0 is 00 00; otherwise DA1 = 1 << ((n-1) % 8), DA2 = (n-1) // 8 + 1. DT: DT1 = 1 << ((n-1)
% 8), DT2 = (n-1) // 8. Several bits in DA1 or DT1 name several points or items; their data
follow point by point, item by item within a point (UNVERIFIED order; our peers send one of
each). Values are dicts of named fields in appendix-A formats (None where the sender filled EE);
an item with an EE count (M) cannot be measured, so its remaining bytes are kept raw as
``rest`` - which the standard only allows for the last unit of a frame. Bytes after the last
unit that form no unit come back as a unit with ``fn = 0`` and ``{"trailing", "reason"}``.
"""
from protocols.gdw1376_1 import formats as F
from protocols.gdw1376_1.errors import DecodeError, EncodeError

AFN_CONFIRM, AFN_LINK, AFN_SET, AFN_CONTROL, AFN_QUERY = 0x00, 0x02, 0x04, 0x05, 0x0A
AFN_CLASS1, AFN_CLASS2, AFN_CLASS3, AFN_FORWARD = 0x0C, 0x0D, 0x0E, 0x10


def encode_da(pns):
    """DA bytes naming points ``pns`` (all in one group of 8), or p0."""
    pns = sorted(set(pns))
    if pns == [0] or not pns:
        return b"\x00\x00"
    group = (pns[0] - 1) // 8
    if any(not 1 <= p <= 2040 or (p - 1) // 8 != group for p in pns):
        raise EncodeError("DA", "points %r are not one group of 8 within 1..2040" % (pns,))
    return bytes([sum(1 << ((p - 1) % 8) for p in pns), group + 1])


def decode_da(da1, da2):
    if da1 == 0 and da2 == 0:
        return [0]
    if da1 == 0xFF and da2 == 0:
        return ["all"]                  # all measurement points (UNVERIFIED encoding)
    if da2 == 0 or da1 == 0:
        raise DecodeError("DA", "a point group needs DA1 and DA2", bytes([da1, da2]))
    return [(da2 - 1) * 8 + k + 1 for k in range(8) if da1 >> k & 1]


def encode_dt(fns):
    fns = sorted(set(fns))
    group = (fns[0] - 1) // 8
    if any(not 1 <= f <= 248 or (f - 1) // 8 != group for f in fns):
        raise EncodeError("DT", "items %r are not one group of 8 within 1..248" % (fns,))
    return bytes([sum(1 << ((f - 1) % 8) for f in fns), group])


def decode_dt(dt1, dt2):
    if dt1 == 0 or dt2 > 30:
        raise DecodeError("DT", "DT1 needs a bit and DT2 <= 30", bytes([dt1, dt2]))
    return [dt2 * 8 + k + 1 for k in range(8) if dt1 >> k & 1]


# --- layouts ----------------------------------------------------------------------------------
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
    """Fixed fields in order: [(name, format)] with formats from ``formats`` or "u8"."""

    def __init__(self, *fields):
        self.fields = fields

    def parse(self, data, pos):
        out, invalid = {}, []
        for name, fmt in self.fields:
            n = 1 if fmt == "u8" else F.size(fmt)
            chunk = _take(data, pos, n, name)
            out[name] = chunk[0] if fmt == "u8" else _value(fmt, chunk, name, invalid)
            pos += n
        if invalid:
            out["invalid"] = invalid
        return out, pos

    def encode(self, value):
        return b"".join(bytes([value[n]]) if f == "u8" else F.encode(f, value.get(n), n)
                        for n, f in self.fields)


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


POSITIVE = Energy(("forward_active", "A14"), ("forward_reactive", "A11"),
                  ("q1_reactive", "A11"), ("q4_reactive", "A11"))
REVERSE = Energy(("reverse_active", "A14"), ("reverse_reactive", "A11"),
                 ("q2_reactive", "A11"), ("q3_reactive", "A11"))
FORWARD_ACTIVE = Energy(("forward_active", "A14"))
POWER = Fields(("time", "A15"), *[(k, "A9") for k in (
    "p", "pa", "pb", "pc", "q", "qa", "qb", "qc")] + [(k, "A5") for k in (
    "pf", "pfa", "pfb", "pfc")] + [(k, "A7") for k in ("ua", "ub", "uc")] + [(k, "A25") for k in (
    "ia", "ib", "ic", "i0")] + [(k, "A9") for k in ("s", "sa", "sb", "sc")])
PURCHASE = Fields(("time", "A15"), ("purchases", "A8"), ("remaining_money", "A14"),
                  ("purchased_money", "A14"), ("remaining_kwh", "A11"), ("overdraft_kwh", "A11"),
                  ("purchased_kwh", "A11"), ("credit_limit_kwh", "A11"), ("alarm_kwh", "A11"),
                  ("fault_kwh", "A11"))


# AFN0C F168 (settlement): reading time, M, settled then unsettled active energy, total + tariffs
SETTLEMENT = Energy(("settled", "A14"), ("unsettled", "A14"))


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


# AFN04/0A F10 meter archive entry (终端电能表配置参数), 27 bytes: index, measuring point,
# D7..D5 baud code + D4..D0 port, protocol (1 = 645-1997, 30 = 645-2007), address, password,
# tariff count, integer/decimal digits, collector address, user class (UNVERIFIED against the
# 2013 text; the layout as commonly implemented)
METER_ENTRY = Concat(U16("index"), U16("point"), Fields(
    ("port_baud", "u8"), ("protocol", "u8"), ("addr", "A12")), Fields(
    *[("pw%d" % k, "u8") for k in range(6)]), Fields(
    ("tariffs", "u8"), ("digits", "u8"), ("collector", "A12"), ("user_class", "u8")))
PROTOCOL_645_1997, PROTOCOL_645_2007 = 1, 30
BAUD_CODES = (0, 600, 1200, 2400, 4800, 7200, 9600, 19200)

# (AFN, Fn, up) -> layout; requests for class 1 carry no data, class 2 requests carry the date
LAYOUTS = {
    (AFN_CONFIRM, 1, True): Empty(), (AFN_CONFIRM, 1, False): Empty(),
    (AFN_CONFIRM, 2, True): Empty(), (AFN_CONFIRM, 2, False): Empty(),
    (AFN_CONFIRM, 3, True): PerUnitConfirm(), (AFN_CONFIRM, 3, False): PerUnitConfirm(),
    (AFN_LINK, 1, True): Empty(), (AFN_LINK, 2, True): Empty(), (AFN_LINK, 3, True): Empty(),
    (AFN_CLASS1, 25, True): POWER, (AFN_CLASS1, 33, True): POSITIVE,
    (AFN_CLASS1, 34, True): REVERSE, (AFN_CLASS1, 129, True): FORWARD_ACTIVE,
    (AFN_CLASS1, 167, True): PURCHASE, (AFN_CLASS1, 168, True): SETTLEMENT,
    (AFN_CLASS2, 1, False): Dated("A20"), (AFN_CLASS2, 1, True): Dated("A20", POSITIVE),
    (AFN_CLASS2, 2, False): Dated("A20"), (AFN_CLASS2, 2, True): Dated("A20", REVERSE),
    (AFN_CLASS2, 17, False): Dated("A21"), (AFN_CLASS2, 17, True): Dated("A21", POSITIVE),
    (AFN_CLASS2, 18, False): Dated("A21"), (AFN_CLASS2, 18, True): Dated("A21", REVERSE),
    (AFN_CLASS2, 161, False): Dated("A20"), (AFN_CLASS2, 161, True): Dated("A20", FORWARD_ACTIVE),
    (AFN_CLASS2, 177, False): Dated("A21"), (AFN_CLASS2, 177, True): Dated("A21", FORWARD_ACTIVE),
    # F101 forward active total energy curve: the request carries Td_c with no values; the
    # points are A.11 (UNVERIFIED: some peers use A.14 for the indication curves)
    (AFN_CLASS2, 101, False): Curve(), (AFN_CLASS2, 101, True): Curve("A11"),
    # AFN10 F1 transparent forward (ksy afn16_f1 for the answer)
    (AFN_FORWARD, 1, False): Carried((("port", "u8"), ("control", "u8"), ("frame_timeout", "u8"),
                                      ("byte_timeout", "u8"))),
    (AFN_FORWARD, 1, True): Carried((("port", "u8"),)),
    (AFN_FORWARD, 9, True): Carried((("port", "u8"), ("meter", "A12"), ("result", "u8")), 1),
    (AFN_FORWARD, 10, True): Fields(("port", "u8"), ("meter", "A12"), ("result", "u8"),
                                    ("flag", "u8")),
    # archive: set (AFN04) and query (AFN0A) F10
    (AFN_SET, 10, False): Repeated(METER_ENTRY),
    (AFN_QUERY, 10, False): Repeated(U16("index")), (AFN_QUERY, 10, True): Repeated(METER_ENTRY),
    # control (AFN05): F1 trip (one byte: D7..D4 limit time x 0.5 h, D3..D0 alarm delay min,
    # UNVERIFIED packing), F2 allow close, F25 keep-power on (duration x 0.5 h, 0 = until
    # released), F33 keep-power off
    (AFN_CONTROL, 1, False): Fields(("limit_alarm", "u8")), (AFN_CONTROL, 2, False): Empty(),
    (AFN_CONTROL, 25, False): Fields(("half_hours", "u8")), (AFN_CONTROL, 33, False): Empty(),
    # class 3 events: request Pm Pn, answer counters + records
    (AFN_CLASS3, 1, False): Fields(("pm", "u8"), ("pn", "u8")), (AFN_CLASS3, 1, True): Events(),
    (AFN_CLASS3, 2, False): Fields(("pm", "u8"), ("pn", "u8")), (AFN_CLASS3, 2, True): Events(),
    # forwarding downlink: F9 direct meter read, F10 remote trip / allow close (UNVERIFIED field
    # order: port, relay count, relays, target, then the DI or the control flag)
    (AFN_FORWARD, 9, False): Fields(("port", "u8"), ("relays", "u8"), ("meter", "A12"),
                                    ("di_kind", "u8"), ("di0", "u8"), ("di1", "u8"),
                                    ("di2", "u8"), ("di3", "u8")),
    (AFN_FORWARD, 10, False): Fields(("port", "u8"), ("relays", "u8"), ("meter", "A12"),
                                     ("flag", "u8"), ("valid_min", "u8")),
}
for _fn in (25, 33, 34, 129, 167, 168):
    LAYOUTS[(AFN_CLASS1, _fn, False)] = Empty()


def layout(afn, fn, up):
    return LAYOUTS.get((afn, fn, up))


class Unit:
    """One data unit: AFN, item ``fn``, point ``pn`` and its ``value`` (dict or None)."""

    __slots__ = ("afn", "fn", "pn", "value", "up")

    def __init__(self, afn, fn, pn=0, value=None, up=True):
        self.afn = afn
        self.fn = fn
        self.pn = pn
        self.value = value
        self.up = up

    def __eq__(self, other):
        return isinstance(other, Unit) and (self.afn, self.fn, self.pn, self.value, self.up) == (
            other.afn, other.fn, other.pn, other.value, other.up)

    def __repr__(self):
        return "Unit(AFN%02X F%d p%s %r)" % (self.afn, self.fn, self.pn, self.value)


def parse_units(afn, data, up):
    """The data units of a frame's data part. An item without a known layout ends the parse:
    its bytes and all that follows are kept raw in a unit with ``value = {"raw": ...}``."""
    units = []
    pos = 0
    while pos < len(data):
        try:
            head = _take(data, pos, 4, "DA DT")
            pns, fns = decode_da(head[0], head[1]), decode_dt(head[2], head[3])
        except DecodeError as exc:
            if not units:
                raise
            # bytes after the last unit that are no unit (a peer's padding): kept, not lost
            units.append(Unit(afn, 0, 0, {"trailing": bytes(data[pos:]), "reason": str(exc)}, up))
            return units
        pos += 4
        for pn in pns:
            for fn in fns:
                lay = layout(afn, fn, up)
                if lay is None:
                    units.append(Unit(afn, fn, pn, {"raw": bytes(data[pos:])}, up))
                    return units
                value, pos = lay.parse(data, pos)
                units.append(Unit(afn, fn, pn, value, up))
    return units


def encode_units(units):
    """Data part for ``units`` (one DA/DT each)."""
    out = bytearray()
    for u in units:
        if u.fn == 0:
            out += u.value["trailing"]
            continue
        lay = layout(u.afn, u.fn, u.up) or Rest()
        out += encode_da([u.pn]) + encode_dt([u.fn]) + lay.encode(u.value or {})
    return bytes(out)
