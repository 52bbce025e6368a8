"""The area's day over the uplink (gridedge's 1376.1 extension, ``protocols.gdw1376_1.area_ext``):
AFN0D F221 answers the day's line loss and its hint as ``edge.lineloss`` stored them, F222 the
day's missed and wrong points as ``edge.audit.missed`` finds them now. Both are p0. A mixin of
``edge.uplink.Uplink``: it uses the handler's ``agent``, ``store``, ``points`` and ``point_of``."""
from protocols.civil import DAY, from_civil
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.area_ext import LINE_LOSS_FN, MAX_CANDIDATES, MAX_POINTS, REASONS
from protocols.gdw1376_1.units import AFN_CLASS2

from edge import audit, lineloss
from edge.uplink_answers import Refused

MAX_KWH, MAX_RATE_PCT = 999999.9999, 799.999      # what A.14 and A.25 can carry


def _fits(x, top):
    """``x`` when its format can carry it, else None (EE: no value, not a wrong one)."""
    return x if x is not None and abs(x) <= top else None


def line_loss_value(day, row, hint, point_of):
    """The F221 value of ``day`` from its stored ``row`` and ``hint`` (either None); a candidate
    whose meter has no measuring point is left out."""
    if row is None:
        return {"status": "not_computed", "customers": 0, "missing": 0, "reasons": [],
                "candidates": []}
    rate = row["rate"]
    out = {"status": row["status"], "supplied_kwh": _fits(row["supplied_kwh"], MAX_KWH),
           "sold_kwh": _fits(row["sold_kwh"], MAX_KWH),
           "rate_pct": _fits(None if rate is None else round(rate * 100.0, 3), MAX_RATE_PCT),
           "customers": min(row["customers"], 0xFFFF), "missing": min(row["missing"], 0xFFFF),
           "reasons": [], "candidates": []}
    if hint is not None:
        out["reasons"] = [r for r in REASONS if r in hint["reasons"]]
        for c in hint["candidates"]:
            pn = point_of(c["addr"])
            if pn is not None and pn <= MAX_POINTS:
                out["candidates"].append({"point": pn, "evidence": list(c["evidence"])})
        del out["candidates"][MAX_CANDIDATES:]
    return out


def missed_value(listed, points):
    """The F222 value from ``audit.missed``'s ``listed`` over the archive's ``points``."""
    n = min(max(points, default=0), MAX_POINTS)
    out = {"points": n, "missed": [], "wrong": []}
    for e in listed:
        pn = e.get("point")
        if pn is not None and 1 <= pn <= n:
            out["wrong" if e["kind"] == "wrong" else "missed"].append(pn)
    out["missed"].sort()
    out["wrong"].sort()
    return out


class AreaAnswers:
    """AFN0D F221/F222 of the terminal's area (p0)."""

    def area_answer(self, u):
        """The answer unit of request unit ``u`` (F221 or F222 at p0, dated Td_d)."""
        if u.pn != 0:
            raise Refused("F%d is the terminal's area (p0), not p%s" % (u.fn, u.pn))
        td = (u.value or {}).get("td")
        if td is None:
            raise Refused("F%d needs a date" % u.fn)
        try:
            end = from_civil(2000 + td[2], td[1], td[0]) + DAY
        except ValueError as exc:
            raise Refused("F%d: %s" % (u.fn, exc))
        day = "20%02d-%02d-%02d" % (td[2], td[1], td[0])
        if u.fn == LINE_LOSS_FN:
            value = self.line_loss_of(day)
        elif end > self.agent.wall:            # today's list would name every meter not read yet
            raise Refused("F%d of %s: the day is not over" % (u.fn, day))
        else:
            value = self.missed_of(day)
        return Unit(AFN_CLASS2, u.fn, 0, dict(value, td=td), True)

    def line_loss_of(self, day):
        """F221's value of ``day`` from what ``edge.lineloss`` stored (not_computed: nothing)."""
        row = next((r for r in lineloss.rows(self.store) if r["period"] == day), None)
        hint = next((h for h in lineloss.hints(self.store) if h["period"] == day), None)
        return line_loss_value(day, row, hint, self.point_of)

    def missed_of(self, day):
        """F222's value of ``day``: ``edge.audit.missed`` over the archive now."""
        points = self.points()
        s = self.agent.settings
        listed = audit.missed(self.store, self.agent.archive, day,
                              {a: p for p, a in points.items()},
                              (s.freeze_offset_s, s.freeze_deadline_h))
        return missed_value(listed, points)
