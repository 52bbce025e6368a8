"""Q/GDW 1376.1 data units: DA (points) + DT (items) + the data of every (Pn, Fn) pair they name.

A frame's data part is a run of blocks, each a DA/DT followed by the data of its pairs, point by
point and item by item within a point (``dadt``). Parsing gives one ``Unit`` per pair; each
item's bytes are sized by its layout (``catalog``). When a pair cannot be sized (an item with
no known layout, or bytes its layout rejects after other units were read), the parse stops
there and says so: the last unit keeps every remaining byte as ``{"raw": ...}`` and a ``"stop"``
dict names the offset in the data part, the item, the point, the reason and the pairs of that
block left unread. Bytes after the last unit that form no DA/DT come back as a unit with
``fn = 0`` and ``{"trailing", "reason", "offset"}``.
"""
from protocols import errors as _errors
from protocols.gdw1376_1.catalog import (  # noqa: F401  (re-exported: the names callers use)
    AFN_CLASS1, AFN_CLASS2, AFN_CLASS3, AFN_CONFIRM, AFN_CONTROL, AFN_FORWARD, AFN_LINK, AFN_QUERY,
    AFN_SET, BAUD_CODES, FORWARD_ACTIVE, LAYOUTS, METER_ENTRY, POSITIVE, POWER, PROTOCOL_645_1997,
    PROTOCOL_645_2007, PURCHASE, REVERSE, SETTLEMENT, TD_KIND, layout)
from protocols.gdw1376_1.dadt import (  # noqa: F401
    ALL_POINTS, decode_da, decode_dt, encode_da, encode_dt, pairs, same_group)
from protocols.gdw1376_1.errors import DecodeError
from protocols.gdw1376_1.layouts import (  # noqa: F401
    DENSITY_MIN, Layout, Rest, _take)

MAX_PER_GROUP = 8
_RAW = Rest()


class Unit:
    """One data unit: AFN, item ``fn``, point ``pn`` and its ``value`` (dict or None)."""

    __slots__ = ("afn", "fn", "pn", "value", "up")

    def __init__(self, afn, fn, pn=0, value=None, up=True):
        self.afn = afn
        self.fn = fn
        self.pn = pn
        self.value = value
        self.up = up

    @property
    def stop(self):
        """Where the parse stopped at this unit (a dict), or None."""
        return (self.value or {}).get("stop") if isinstance(self.value, dict) else None

    def __eq__(self, other):
        return isinstance(other, Unit) and (self.afn, self.fn, self.pn, self.value, self.up) == (
            other.afn, other.fn, other.pn, other.value, other.up)

    def __repr__(self):
        return "Unit(AFN%02X F%d p%s %r)" % (self.afn, self.fn, self.pn, self.value)


def parse_units(afn, data, up):
    """One unit per (Pn, Fn) pair of a frame's data part. A first DA/DT or first pair that does
    not parse raises ``DecodeError``; later ones end the list with a stop unit (module doc)."""
    units = []
    pos = 0
    while pos < len(data):
        try:
            head = _take(data, pos, 4, "DA DT")
            named = pairs(decode_da(head[0], head[1]), decode_dt(head[2], head[3]))
        except DecodeError as exc:
            if not units:
                raise
            # bytes after the last unit that are no unit (a peer's padding): kept, not lost
            units.append(Unit(afn, 0, 0, {"trailing": bytes(data[pos:]), "reason": str(exc),
                                          "offset": pos}, up))
            return units
        pos += 4
        for k, (pn, fn) in enumerate(named):
            lay = layout(afn, fn, up)
            try:
                if lay is None:
                    raise DecodeError("F%d" % fn, "no layout for AFN%02X F%d in %s" % (
                        afn, fn, "an answer" if up else "a request"), b"", pos)
                value, end = lay.parse(data, pos)
            except _errors.DecodeError as exc:          # any codec's (a BCD helper's too)
                if not units and lay is not None:
                    raise
                units.append(_stopped(afn, pn, fn, up, data, pos, str(exc), named[k + 1:]))
                return units
            units.append(Unit(afn, fn, pn, value, up))
            pos = end
    return units


def _stopped(afn, pn, fn, up, data, pos, reason, pending):
    return Unit(afn, fn, pn, {"raw": bytes(data[pos:]), "stop": {
        "offset": pos, "fn": fn, "pn": pn, "reason": reason,
        "pending": [(p, f) for p, f in pending]}}, up)


def encode_units(units, pack=False):
    """Data part for ``units``: one DA/DT each, or with ``pack`` one DA/DT per run of units
    that forms a whole block (points of one group x items of one group, point by point)."""
    out = bytearray()
    for pns, fns, block in (blocks(units) if pack else [([u.pn], [u.fn], [u]) for u in units]):
        first = block[0]
        if first.fn == 0:
            out += first.value["trailing"]
            continue
        out += encode_da(pns) + encode_dt(fns)
        for u in block:
            lay = _RAW if u.stop is not None else layout(u.afn, u.fn, u.up) or _RAW
            out += lay.encode(u.value or {})
    return bytes(out)


def request_units(afn, pns, fns, value=None):
    """Downlink units asking for items ``fns`` of points ``pns`` (``value``, e.g. a class 2
    time label, for every pair), in the order one packed DA/DT per group carries them."""
    return [Unit(afn, fn, pn, value, False) for pn in _ordered(pns) for fn in sorted(set(fns))]


def _ordered(pns):
    return sorted(set(pns), key=lambda p: (not isinstance(p, int), p if isinstance(p, int) else 0))


def blocks(units):
    """Consecutive units grouped into (pns, fns, units) blocks the standard lets one DA/DT
    carry: the same items for each point, points and items each within one group of 8."""
    out = []
    i = 0
    while i < len(units):
        fns = _item_run(units, i)
        pns = [units[i].pn]
        j = i + len(fns)
        while len(pns) < MAX_PER_GROUP and _repeats(units, j, units[i], pns[-1], fns):
            pns.append(units[j].pn)
            j += len(fns)
        out.append((pns, fns, units[i:j]))
        i = j
    return out


def _packable(u, first):
    return (u.fn != 0 and u.afn == first.afn and u.up == first.up and u.stop is None
            and isinstance(u.pn, int) and layout(u.afn, u.fn, u.up) is not None)


def _item_run(units, i):
    """Items of the run of units at ``i`` on one point, increasing within one DT group."""
    first = units[i]
    fns = [first.fn]
    if not _packable(first, first):
        return fns
    for u in units[i + 1:]:
        if not (_packable(u, first) and u.pn == first.pn and u.fn > fns[-1]
                and same_group(u.fn, first.fn)):
            break
        fns.append(u.fn)
    return fns


def _repeats(units, j, first, last_pn, fns):
    """Whether units[j:] start with the same items ``fns`` for a next point of the group."""
    run = units[j:j + len(fns)]
    if len(run) < len(fns) or not _packable(first, first):
        return False
    pn = run[0].pn
    return (isinstance(pn, int) and pn > last_pn and same_group(pn, first.pn)
            and all(_packable(u, first) and u.pn == pn and u.fn == f for u, f in zip(run, fns)))
