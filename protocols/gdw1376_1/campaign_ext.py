"""gridedge's 1376.1 extension for price campaigns (调价), in an Fn the standard leaves reserved
(备用), as provinces and vendors extend it (e.g. F241+): AFN04 F201 posts a campaign, AFN0C F201
answers one measuring point's campaign state. F201 is reserved in both AFNs of a public item
table (code-search file id 7931816199: AFN04 "F83~F248 备用", AFN0C "F171~F248 备用"). No
standard unit carries a campaign (docs/price-notes.md), so a master that is not gridedge's needs
this page to speak it.

AFN04 F201 (p0): campaign id (16 ASCII, space-padded), effective instant (A.15), target (1 byte:
0 all meters, 1 a tariff class (8 ASCII), 2 measuring points (1 byte n, n x 2-byte pn)), tariff
(1 byte: 1 flat, 2 time-of-use, 3 ladder; 1 byte m; m prices A.13 yuan/kWh; a ladder's m - 1
block tops A.11 kWh, its last block open).

AFN0C F201 (pn): campaign id, state (1 byte, STATES order, 0 none), attempts (1 byte), the
instant of the last change (A.15), reason (1 byte, REASONS order, 0 none).
"""
from protocols.gdw1376_1 import formats as F
from protocols.gdw1376_1.errors import DecodeError, EncodeError
from protocols.gdw1376_1.layouts import Layout, _take

FN = 201
ID_BYTES, CLASS_BYTES = 16, 8
TARGETS = ("all", "tariff_class", "points")
TARIFFS = (None, "flat", "tou", "ladder")
STATES = (None, "pending", "written", "verified", "switched", "failed", "unreachable")
REASONS = (None, "refused", "read_back", "wrong_price", "unverified", "other")
MAX_POINTS, MAX_PRICES = 255, 7


def _text(raw, name):
    try:
        return raw.decode("ascii").rstrip(" \x00")
    except UnicodeDecodeError:
        raise DecodeError(name, "not ASCII", raw) from None


def _put_text(value, n, name):
    raw = (value or "").encode("ascii", "replace") if isinstance(value, str) else None
    if raw is None or not raw or len(raw) > n or b"?" in raw and "?" not in value:
        raise EncodeError(name, "1..%d ASCII characters" % n)
    return raw + b" " * (n - len(raw))


def _read(fmt, data, pos, name):
    n = F.size(fmt)
    return F.decode(fmt, _take(data, pos, n, name), name), pos + n


class PriceCampaign(Layout):
    """AFN04 F201: one campaign (see the module's text)."""

    def parse(self, data, pos):
        cid = _text(_take(data, pos, ID_BYTES, "id"), "id")
        effective, pos = _read("A15", data, pos + ID_BYTES, "effective")
        kind = _take(data, pos, 1, "target")[0]
        pos += 1
        if kind >= len(TARGETS):
            raise DecodeError("target", "kind %d" % kind, bytes([kind]), pos - 1)
        out = {"id": cid, "effective": effective, "target": TARGETS[kind]}
        if kind == 1:
            out["tariff_class"] = _text(_take(data, pos, CLASS_BYTES, "class"), "class")
            pos += CLASS_BYTES
        elif kind == 2:
            n = _take(data, pos, 1, "points")[0]
            raw = _take(data, pos + 1, 2 * n, "points")
            out["points"] = [raw[2 * k] | raw[2 * k + 1] << 8 for k in range(n)]
            pos += 1 + 2 * n
        tk, m = _take(data, pos, 2, "tariff")
        pos += 2
        if not 1 <= tk < len(TARIFFS) or not 1 <= m <= MAX_PRICES:
            raise DecodeError("tariff", "kind %d with %d prices" % (tk, m), bytes([tk, m]), pos - 2)
        prices = []
        for k in range(m):
            p, pos = _read("A13", data, pos, "price %d" % (k + 1))
            prices.append(p)
        out.update(tariff=TARIFFS[tk], prices=prices)
        if tk == 3:
            tops = []
            for k in range(m - 1):
                top, pos = _read("A11", data, pos, "block %d" % (k + 1))
                tops.append(top)
            out["tops"] = tops
        return out, pos

    def encode(self, value):
        out = _put_text(value.get("id"), ID_BYTES, "id")
        out += F.encode("A15", value.get("effective"), "effective")
        target = value.get("target", "all")
        if target not in TARGETS:
            raise EncodeError("target", "one of %s" % ", ".join(TARGETS))
        out += bytes([TARGETS.index(target)])
        if target == "tariff_class":
            out += _put_text(value.get("tariff_class"), CLASS_BYTES, "class")
        elif target == "points":
            pts = value.get("points") or []
            if not 1 <= len(pts) <= MAX_POINTS or not all(1 <= p <= 0xFFFF for p in pts):
                raise EncodeError("points", "1..%d measuring points 1..65535" % MAX_POINTS)
            out += bytes([len(pts)]) + b"".join(bytes([p & 0xFF, p >> 8]) for p in pts)
        kind, prices = value.get("tariff"), value.get("prices") or []
        if kind not in TARIFFS[1:] or not 1 <= len(prices) <= MAX_PRICES:
            raise EncodeError("tariff", "flat, tou or ladder with 1..%d prices" % MAX_PRICES)
        out += bytes([TARIFFS.index(kind), len(prices)])
        out += b"".join(F.encode("A13", p, "price") for p in prices)
        if kind == "ladder":
            tops = value.get("tops") or []
            if len(tops) != len(prices) - 1:
                raise EncodeError("tops", "a ladder of m prices has m - 1 block tops")
            out += b"".join(F.encode("A11", t, "block") for t in tops)
        return out


class CampaignState(Layout):
    """AFN0C F201 answer: one point's campaign state (see the module's text)."""

    def parse(self, data, pos):
        cid = _text(_take(data, pos, ID_BYTES, "id"), "id")
        state, attempts = _take(data, pos + ID_BYTES, 2, "state")
        at, pos = _read("A15", data, pos + ID_BYTES + 2, "changed")
        reason = _take(data, pos, 1, "reason")[0]
        if state >= len(STATES) or reason >= len(REASONS):
            raise DecodeError("state", "state %d, reason %d" % (state, reason),
                              bytes([state, reason]), pos)
        return {"id": cid or None, "state": STATES[state], "attempts": attempts,
                "changed": at, "reason": REASONS[reason]}, pos + 1

    def encode(self, value):
        cid = value.get("id")
        out = _put_text(cid, ID_BYTES, "id") if cid else b" " * ID_BYTES
        state, reason = value.get("state"), value.get("reason")
        attempts = value.get("attempts", 0)
        if state not in STATES or reason not in REASONS or not 0 <= attempts <= 255:
            raise EncodeError("state", "a state of %s, a reason of %s, attempts 0..255" % (
                STATES[1:], REASONS[1:]))
        out += bytes([STATES.index(state), attempts])
        return out + F.encode("A15", value.get("changed"), "changed") + bytes(
            [REASONS.index(reason)])


PRICE_CAMPAIGN, CAMPAIGN_STATE = PriceCampaign(), CampaignState()
