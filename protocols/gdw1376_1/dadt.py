"""Q/GDW 1376.1 data-unit identifiers: DA (points Pn) and DT (items Fn), and the pairs they name.

DA: p0 is 00 00; otherwise DA1 = 1 << ((n-1) % 8), DA2 = (n-1) // 8 + 1, so one DA names up to 8
points of one group; DA1 = FF with DA2 = 00 names all valid points (a real terminal tests for
exactly 00FF: gdgly/NUC97X_JS Terminal_Uart_AFN0D_CongealData.c). DT: DT1 = 1 << ((n-1) % 8),
DT2 = (n-1) // 8, so one DT names up to 8 items of one group. The data follow pair by pair, point
by point and item by item within a point (the same file counts a pair's time label as
"points before it x items + items before it").
"""
from protocols.gdw1376_1.errors import DecodeError, EncodeError

ALL_POINTS = "all"
MAX_POINT, MAX_ITEM = 2040, 248


def encode_da(pns):
    """DA bytes naming points ``pns`` (all in one group of 8), p0, or all points."""
    if pns == [ALL_POINTS]:
        return b"\xFF\x00"
    pns = sorted(set(pns))
    if pns == [0] or not pns:
        return b"\x00\x00"
    group = (pns[0] - 1) // 8
    if any(not 1 <= p <= MAX_POINT or (p - 1) // 8 != group for p in pns):
        raise EncodeError("DA", "points %r are not one group of 8 within 1..2040" % (pns,))
    return bytes([sum(1 << ((p - 1) % 8) for p in pns), group + 1])


def decode_da(da1, da2):
    if da1 == 0 and da2 == 0:
        return [0]
    if da1 == 0xFF and da2 == 0:
        return [ALL_POINTS]
    if da2 == 0 or da1 == 0:
        raise DecodeError("DA", "a point group needs DA1 and DA2", bytes([da1, da2]))
    return [(da2 - 1) * 8 + k + 1 for k in range(8) if da1 >> k & 1]


def encode_dt(fns):
    fns = sorted(set(fns))
    if not fns:
        raise EncodeError("DT", "a DT names at least one item")
    group = (fns[0] - 1) // 8
    if any(not 1 <= f <= MAX_ITEM or (f - 1) // 8 != group for f in fns):
        raise EncodeError("DT", "items %r are not one group of 8 within 1..248" % (fns,))
    return bytes([sum(1 << ((f - 1) % 8) for f in fns), group])


def decode_dt(dt1, dt2):
    if dt1 == 0 or dt2 > 30:
        raise DecodeError("DT", "DT1 needs a bit and DT2 <= 30", bytes([dt1, dt2]))
    return [dt2 * 8 + k + 1 for k in range(8) if dt1 >> k & 1]


def pairs(pns, fns):
    """The (Pn, Fn) pairs one DA/DT names, in the order their data follow."""
    return [(pn, fn) for pn in pns for fn in fns]


def same_group(a, b, size=8):
    """Whether points (or items) ``a`` and ``b`` fall in one group of 8 (p0 groups with none)."""
    return isinstance(a, int) and isinstance(b, int) and a > 0 and b > 0 and (
        (a - 1) // size == (b - 1) // size)
