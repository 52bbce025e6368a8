"""Outage KPIs of a scenario from the fault schedule (never from the agent): meters whose
``outage`` faults share a window are one true outage (of the area when every meter, of a
branch when several, else of a meter), judged against the outages the agent stored
(``edge.outages``).

Figures: ``outages_true``, ``outages_found`` (a stored outage whose meters are mostly the true
one's and that starts within ``MATCH_S``), ``outages_false`` (stored outages that match none),
``outage_meters_right`` (found outages with exactly the true meters and the true kind),
``outage_start_error_s`` / ``outage_end_error_s`` (the largest error of a found outage's
meters, against the true window), ``outage_meter_events_missing`` (true meter outages of found
outages without a stored start or end).
"""
from edge import outages
from meter_sim.faults import faults_of

FIGURES = ("outages_true", "outages_found", "outages_false", "outage_meters_right",
           "outage_start_error_s", "outage_end_error_s", "outage_meter_events_missing")
MATCH_S = 900.0
OVERLAP = 0.8                   # share of the true meters a stored outage must hold


def _printed(wire):
    return bytes(wire)[::-1].hex()


def truth(area, start, end):
    """[(start, end, kind, {printed address})] of the outages begun in ``[start, end)``."""
    by_window = {}
    for m in area.meters:
        for f in faults_of(m, "outage"):
            if start <= f.start < end:
                by_window.setdefault((f.start, f.end), set()).add(_printed(m.addr))
    out = []
    for (s, e), addrs in sorted(by_window.items(), key=lambda kv: kv[0][0]):
        kind = "area" if len(addrs) == len(area.meters) else "branch" if len(addrs) > 1 \
            else "meter"
        out.append((s, e, kind, addrs))
    return out


def report(store, area, start, end):
    """The figures of a run against the store the agent left."""
    true = truth(area, start, end)
    got = outages.groups(store)
    by_meter = {}
    for r in outages.meter_outages(store):
        by_meter.setdefault(r["addr"], []).append(r)
    used, found, right, start_err, end_err, missing, rows = set(), 0, 0, [], [], 0, []
    for s, e, kind, addrs in true:
        match = None
        for k, g in enumerate(got):
            if k in used or abs(g["start"] - s) > MATCH_S:
                continue
            if len(addrs & set(g["meters"])) >= OVERLAP * len(addrs):
                match = k
                break
        row = {"kind": kind, "start": s, "end": e, "meters": len(addrs), "found": None}
        rows.append(row)
        if match is None:
            continue
        used.add(match)
        g = got[match]
        found += 1
        ok = set(g["meters"]) == addrs and g["kind"] == kind
        right += ok
        row["found"] = {"kind": g["kind"], "meters": len(g["meters"]), "parent": g["parent"],
                        "right": ok}
        for a in addrs:
            mine = [r for r in by_meter.get(a, ()) if abs(r["start"] - s) <= MATCH_S]
            if not mine or mine[0]["end"] is None:
                missing += 1
                continue
            start_err.append(abs(mine[0]["start"] - s))
            if e is not None:
                end_err.append(abs(mine[0]["end"] - e))
    return {"outages_true": len(true), "outages_found": found,
            "outages_false": len(got) - len(used), "outage_meters_right": right,
            "outage_start_error_s": round(max(start_err), 1) if start_err else None,
            "outage_end_error_s": round(max(end_err), 1) if end_err else None,
            "outage_meter_events_missing": missing,
            "outages": {"truth": rows, "stored": [
                {k: g[k] for k in ("kind", "start", "end", "parent")} | {"meters": len(g["meters"])}
                for g in got]}}
