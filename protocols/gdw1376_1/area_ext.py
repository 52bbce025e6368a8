"""gridedge's 1376.1 extension for the area's own daily figures, in class 2 items the standard
leaves reserved (备用): AFN0D F221 the day's line loss (台区日线损) with its hint, AFN0D F222 the
day's missed-reading list (错抄漏抄清单). Both are p0 (the terminal's area) and dated Td_d (A.20),
like every daily class 2 item. No standard unit carries either (docs/gdw1376_1-notes.md has the
sources), so a master that is not gridedge's needs this page to speak it.

AFN0D F221 (p0): Td_d (A.20), status (1 byte, STATUSES order), supplied and sold (A.14 kWh
each), loss rate (A.25 %, EE when the day has none), customers and missing (2 bytes each), hint
reasons (1 byte, bit k = REASONS[k]), n candidates (1 byte), each a measuring point (2 bytes)
and its evidence (1 byte, bit k = EVIDENCE[k]; bit 7 anything else, read as "other").

AFN0D F222 (p0): Td_d (A.20), n (2 bytes: the points 1..n the lists cover), the missed points
(漏抄: no value) as a bitmap of ceil(n / 8) bytes (bit k of byte j = point 8j + k + 1), then the
wrong points (错抄: a flagged value) as a bitmap of the same size.

Bits the definition does not name are ignored on read and never written.
"""
from protocols.gdw1376_1.dadt import MAX_POINT
from protocols.gdw1376_1.errors import DecodeError, EncodeError
from protocols.gdw1376_1.layouts import Layout, _take, _value, write_field

LINE_LOSS_FN, MISSED_FN = 221, 222
STATUSES = ("not_computed", "complete", "incomplete", "no_supply")
REASONS = ("above_threshold", "step_change")
EVIDENCE = ("consumption_fell", "consumption_stopped", "cover_opened", "magnetic",
            "reverse_energy", "phase_loss")
OTHER, OTHER_BIT = "other", 7
MAX_CANDIDATES = 255
MAX_POINTS = MAX_POINT          # a measuring point is 1..2040 (DA2 x 8)
_INF = float("inf")
_NUMBERS = (("supplied_kwh", "A14", 5), ("sold_kwh", "A14", 5), ("rate_pct", "A25", 3))


def _u16(data, pos, name):
    raw = _take(data, pos, 2, name)
    return raw[0] | raw[1] << 8, pos + 2


def _put_u16(value, name, lo=0, hi=0xFFFF):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise EncodeError(name, "%r is not %d..%d" % (value, lo, hi))
    return bytes([value & 0xFF, value >> 8])


def _bits(names, value, field, other=False):
    out = 0
    for name in value or ():
        if name in names:
            out |= 1 << names.index(name)
        elif other:
            out |= 1 << OTHER_BIT
        else:
            raise EncodeError(field, "%r is none of %s" % (name, ", ".join(names)))
    return out


def _names(names, byte, other=False):
    out = [n for k, n in enumerate(names) if byte >> k & 1]
    if other and byte >> OTHER_BIT & 1:
        out.append(OTHER)
    return out


class DailyLineLoss(Layout):
    """AFN0D F221 answer: the area's line loss of one day (see the module's text)."""

    def parse(self, data, pos):
        out = {"td": _value("A20", _take(data, pos, 3, "Td"), "Td")}
        status = _take(data, pos + 3, 1, "status")[0]
        if status >= len(STATUSES):
            raise DecodeError("status", "status %d" % status, bytes([status]), pos + 3)
        out["status"] = STATUSES[status]
        pos += 4
        for name, fmt, n in _NUMBERS:
            out[name] = _value(fmt, _take(data, pos, n, name), name)
            pos += n
        out["customers"], pos = _u16(data, pos, "customers")
        out["missing"], pos = _u16(data, pos, "missing")
        reasons, n = _take(data, pos, 2, "hint")
        out["reasons"] = _names(REASONS, reasons)
        pos += 2
        candidates = []
        for k in range(n):
            pn, pos = _u16(data, pos, "candidate %d" % (k + 1))
            evidence = _take(data, pos, 1, "evidence %d" % (k + 1))[0]
            pos += 1
            candidates.append({"point": pn, "evidence": _names(EVIDENCE, evidence, True)})
        out["candidates"] = candidates
        return out, pos

    def encode(self, value):
        status = value.get("status", STATUSES[0])
        if status not in STATUSES:
            raise EncodeError("status", "%r is none of %s" % (status, ", ".join(STATUSES)))
        out = write_field("A20", value.get("td"), "Td") + bytes([STATUSES.index(status)])
        for name, fmt, _ in _NUMBERS:
            x = value.get(name)
            if x is not None and (not isinstance(x, (int, float)) or isinstance(x, bool)
                                  or x != x or x in (_INF, -_INF)):       # NaN, infinities
                raise EncodeError(name, "%r is not a number" % (x,))
            out += write_field(fmt, x, name)
        out += _put_u16(value.get("customers", 0), "customers")
        out += _put_u16(value.get("missing", 0), "missing")
        candidates = value.get("candidates") or []
        if len(candidates) > MAX_CANDIDATES:
            raise EncodeError("candidates", "at most %d" % MAX_CANDIDATES)
        out += bytes([_bits(REASONS, value.get("reasons"), "reasons"), len(candidates)])
        for c in candidates:
            out += _put_u16(c.get("point"), "candidates", 1, MAX_POINTS)
            out += bytes([_bits(EVIDENCE, c.get("evidence"), "evidence", True)])
        return out


class MissedList(Layout):
    """AFN0D F222 answer: the day's missed and wrong points as bitmaps (see the module's text)."""

    def parse(self, data, pos):
        td = _value("A20", _take(data, pos, 3, "Td"), "Td")
        n, pos = _u16(data, pos + 3, "points")
        if n > MAX_POINTS:
            raise DecodeError("points", "%d points, at most %d" % (n, MAX_POINTS),
                              bytes([n & 0xFF, n >> 8]), pos - 2)
        size = (n + 7) // 8
        out = {"td": td, "points": n}
        for name in ("missed", "wrong"):
            raw = _take(data, pos, size, name)
            out[name] = [8 * j + k + 1 for j, b in enumerate(raw) for k in range(8)
                         if b >> k & 1 and 8 * j + k < n]
            pos += size
        return out, pos

    def encode(self, value):
        n = value.get("points", 0)
        out = write_field("A20", value.get("td"), "Td") + _put_u16(n, "points", 0, MAX_POINTS)
        for name in ("missed", "wrong"):
            bitmap = bytearray((n + 7) // 8)
            for pn in value.get(name) or ():
                if not isinstance(pn, int) or isinstance(pn, bool) or not 1 <= pn <= n:
                    raise EncodeError(name, "points 1..%d, not %r" % (n, pn))
                bitmap[(pn - 1) // 8] |= 1 << (pn - 1) % 8
            out += bytes(bitmap)
        return out


DAILY_LINE_LOSS, MISSED_LIST = DailyLineLoss(), MissedList()
