"""Voltage quality KPIs in a scenario: the agent's day qualification rates against the simulator's
true ones, and the ERC24 spells it raised against the undervoltage/overvoltage faults.

Truth from the meters' own supply model (never from the agent): the true rate of a meter-day is
the share of its minutes (each sampled at :30) within the agent's ``[tasks.limits]`` band; a true
spell is a voltage fault lasting at least one real-time period before the run's end. Figures:
``voltage_days`` (meter-days the agent stored), ``voltage_rate_error_pp`` (the largest
|agent - true| rate, percentage points), ``voltage_spells_true``, ``voltage_spells_found``
(raised as ERC24 of the same kind between its start and one period after its end),
``voltage_spells_false`` (began with no such fault) and ``voltage_spell_recall``.
"""
from edge import audit, pq
from meter_sim.faults import FaultyMeter
from protocols.civil import from_civil

KINDS = {"undervoltage": "under", "overvoltage": "over"}


def true_rate(meter, day, limits):
    """The share of ``day``'s minutes the meter's true supply is within the band."""
    if getattr(meter.meter, "three_phase", None) is not None:
        from hil.pq_phases_run import true_rates        # phase A by the fault schedule
        return true_rates(meter, day, limits)[0]
    d0 = from_civil(int(day[:4]), int(day[5:7]), int(day[8:10]))
    ok = 0
    for k in range(1440):
        v = round(meter.meter.voltage(d0 + 60.0 * k + 30.0), 1)
        ok += limits.voltage_lower_v <= v <= limits.voltage_upper_v
    return ok / 1440.0


def true_spells(area, period_s, end):
    """[(printed address, kind, start, end)] of the voltage faults the agent can see."""
    out = []
    for m in area.meters:
        if not isinstance(m, FaultyMeter):
            continue
        for f in m.faults:
            if f.kind in KINDS and f.start < end:
                stop = end if f.end is None else min(end, f.end)
                if stop - f.start >= period_s:
                    out.append((m.addr[::-1].hex(), KINDS[f.kind], f.start, stop))
    return out


def report(store, area, settings, end):
    """The voltage quality figures of a run ending at ``end``."""
    limits, period_s = settings.limits, float(settings.realtime_s or 900)
    by_addr = {m.addr[::-1].hex(): m for m in area.meters}
    worst, days = 0.0, []
    for r in store.readings(task=pq.TASK):
        if r.addr in by_addr and r.quality == "ok":
            truth = true_rate(by_addr[r.addr], r.period, limits)
            worst = max(worst, abs(r.value["rate"] - truth))
            days.append({"addr": r.addr, "day": r.period, "rate": r.value["rate"],
                         "true_rate": round(truth, 4)})
    began = [r for r in store.readings(task=audit.TASK)
             if r.di == 24 and r.value.get("began") and r.addr in by_addr]
    truth = true_spells(area, period_s, end)
    found, used = 0, set()
    for addr, kind, start, stop in truth:
        hit = [r for r in began if r.addr == addr and r.value["kind"] == kind
               and start <= r.value["at"] <= stop + period_s]
        if hit:
            found += 1
            used.update(id(r) for r in hit)
    false = [r for r in began if id(r) not in used]
    return {"voltage_days": len(days),
            "voltage_rate_error_pp": round(100.0 * worst, 2) if days else None,
            "voltage_spells_true": len(truth), "voltage_spells_found": found,
            "voltage_spells_false": len(false),
            "voltage_spell_recall": round(found / len(truth), 4) if truth else None,
            "voltage": {"days": sorted(days, key=lambda d: (d["day"], d["addr"])),
                        "false": sorted("%s/%s" % (r.addr, r.period) for r in false)}}

