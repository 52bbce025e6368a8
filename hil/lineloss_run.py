"""A scenario's area meter and its line-loss KPIs: the agent's daily figures and hints against
the simulator's ground truth (true technical loss and the energy bypassed, per true day).

Figures (KPIS.md): ``line_loss_error_pp`` (largest |agent - true| over complete days, percentage
points), ``theft_detect_days`` (theft start to the first hint naming each thief, the slowest;
a thief bypasses, or its register is slowed or a magnet slows it), ``true_hint_rate`` (thieves
named / thieves), ``false_hint_rate`` (named innocents / named) and ``false_hint_days`` (days
hinted before any theft began, or in an area without theft).
"""

from edge.archive import Archive
from edge.lineloss import hints, hour_rows, rows
from meter_sim.area_meter import build_area_meter
from meter_sim.faults import SLOWING, FaultyMeter, foreign
from meter_sim.population import derive
from plc_channel.rs485 import Rs485Bus
from protocols.civil import DAY, parse_local

PORT = "rs485-area"


def add_area_meter(env, area, archive, params, seed):
    """(area meter, its RS-485 bus, the archive with it as the area meter on port ``PORT``)."""
    ours = [m for m in area.meters if not foreign(m)]    # the neighbour's meters: its supply
    meter = build_area_meter(ours, area.t0, **params)
    bus = Rs485Bus(env, [meter], derive(seed, "rs485-area"))
    bus.build()
    doc = archive.to_dict()
    doc["port"].append({"name": PORT, "url": "sim:rs485", "medium": "rs485"})
    doc["meter"].append({"addr": meter.addr[::-1].hex(), "port": PORT, "role": "area",
                         "ct_ratio": meter.ct_ratio})
    return meter, bus, Archive.from_dict(doc)


def thieves(area):
    """Printed address -> true time its first theft starts: a bypass, a slowed register or a
    magnet that slows it (``factor`` below 1)."""
    out = {}
    for m in area.meters:
        if isinstance(m, FaultyMeter):
            starts = [f.start for f in m.faults if (f.kind == "bypass" and f.fraction > 0) or
                      (f.kind in SLOWING and f.factor < 1.0)]
            if starts:
                out[m.addr[::-1].hex()] = min(starts)
    return out


def report(store, area, meter):
    """The line-loss figures of a run (flat ones for gates, the detail under ``line_loss``)."""
    supply = meter.source
    days = []
    for r in rows(store):
        a = parse_local(r["period"] + " 00:00")
        truth = supply.truth(a, a + DAY)
        true_rate = (truth["technical_kwh"] + truth["stolen_kwh"]) / truth["supplied_kwh"]
        error = None if r["rate"] is None else abs(r["rate"] - true_rate) * 100.0
        days.append({"period": r["period"], "status": r["status"], "missing": r["missing"],
                     "rate": _round(r["rate"]), "true_rate": round(true_rate, 5),
                     "error_pp": _round(error), "supplied_kwh": _round(r["supplied_kwh"], 1),
                     "true_supplied_kwh": round(truth["supplied_kwh"], 1),
                     "stolen_kwh": round(truth["stolen_kwh"], 1)})
    found = hints(store)
    theft = thieves(area)
    named = {c["addr"] for h in found for c in h["candidates"]}
    detect = []
    for addr, start in theft.items():
        first = [h["computed_at"] for h in found
                 if any(c["addr"] == addr for c in h["candidates"])]
        detect.append((min(first) - start) / DAY if first else None)
    errors = [d["error_pp"] for d in days if d["error_pp"] is not None]
    hours = _hours(store, supply)
    hour_errors = [h["error_pp"] for h in hours if h["error_pp"] is not None]
    out = {
        "line_loss_error_pp": round(max(errors), 4) if errors else None,
        "line_loss_days_complete": len(errors),
        "theft_detect_days": (round(max(detect), 2) if detect and None not in detect else None),
        "true_hint_rate": round(len(named & set(theft)) / len(theft), 4) if theft else None,
        "false_hint_rate": round(len(named - set(theft)) / len(named), 4) if named else 0.0,
        "false_hint_days": sum(1 for h in found if not theft or parse_local(
            h["period"] + " 00:00") + DAY <= min(theft.values())),
    }
    out.update(line_loss_hours_complete=len(hour_errors),
               line_loss_hour_error_pp=round(max(hour_errors), 4) if hour_errors else None)
    out["line_loss"] = {"days": days, "thieves": sorted(theft), "hints": [
        {"period": h["period"], "reasons": h["reasons"], "rate": _round(h["rate"]),
         "baseline": _round(h["baseline"]), "onset": h["onset"], "candidates": [c["addr"] for c in h["candidates"]]}
        for h in found]}
    out["line_loss"]["hours"] = hours
    return out


def _hours(store, supply):
    """The agent's hourly line loss (edge.lineloss.close_hours) against the true one."""
    out = []
    for r in hour_rows(store):
        a = parse_local(r["period"])
        truth = supply.truth(a, a + 3600.0)
        true_rate = (truth["technical_kwh"] + truth["stolen_kwh"]) / truth["supplied_kwh"]
        error = None if r["rate"] is None else abs(r["rate"] - true_rate) * 100.0
        out.append({"period": r["period"], "status": r["status"], "missing": r["missing"],
                    "rate": _round(r["rate"]), "true_rate": round(true_rate, 5),
                    "error_pp": _round(error)})
    return out


def empty():
    """The figures of a run without an area meter."""
    return {"line_loss_error_pp": None, "line_loss_days_complete": 0, "theft_detect_days": None,
            "true_hint_rate": None, "false_hint_rate": None, "false_hint_days": None,
            "line_loss_hours_complete": 0, "line_loss_hour_error_pp": None, "line_loss": None}


def merge(reports):
    """The fleet's line-loss figures: the worst area's (a figure missing in any area: None)."""
    def worst(key, pick):
        values = [r.get(key) for r in reports]
        return None if not values or None in values else pick(values)
    if all(r.get("line_loss") is None for r in reports):
        return empty()
    out = {"line_loss_error_pp": worst("line_loss_error_pp", max),
           "line_loss_days_complete": worst("line_loss_days_complete", min),
           "theft_detect_days": worst("theft_detect_days", max),
           "true_hint_rate": worst("true_hint_rate", min),
           "false_hint_rate": worst("false_hint_rate", max),
           "false_hint_days": worst("false_hint_days", sum),
           "line_loss_hours_complete": worst("line_loss_hours_complete", min),
           "line_loss_hour_error_pp": worst("line_loss_hour_error_pp", max)}
    out["line_loss"] = None
    return out


def _round(x, n=5):
    return None if x is None else round(x, n)
