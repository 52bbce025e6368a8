"""Three-phase power-quality KPIs in a scenario: the agent's ERC9/10/11/17 alarms against the
wiring faults the simulator gave its three-phase meters, and its day qualification rates per phase
against the meters' true supply.

Truth from the simulator only: a fault ``phase_loss`` (ERC10 on its phase), ``reverse_polarity``
(ERC9 on its phase), ``imbalance`` whose degree 2f / (1 + f) passes the agent's
``current_imbalance_pct`` (ERC17), ``voltage_imbalance`` whose degree passes
``voltage_imbalance_pct`` (ERC17) and ``reverse_sequence`` (ERC11), each lasting at least one
real-time period before the run's end (with the event scan on, ``event_every_h``, any that
ended a scan before the end: the meter's record shows it), on a three-phase meter. Figures: ``three_phase_meters``,
``pq_alarms_true``, ``pq_alarms_found`` (an alarm of the same code and phase began between the
fault's start and one period after its end), ``pq_alarms_false`` (began with no such fault),
``pq_alarm_recall`` (an alarm from a meter's event record, time on the meter's clock, may
begin up to ``CLOCK_SLACK_S`` before the fault) and ``voltage_rate_error_pp_by_phase`` (a, b, c: the largest |agent - true|
day rate of the three-phase meters; the truth samples every minute).
"""
from edge import audit, pq
from meter_sim.faults import faults_of, firmware
from meter_sim.firmware.phases import IMBALANCE_EVENT, LOST_V, VOLTAGE_IMBALANCE_EVENT
from protocols.civil import from_civil

CLOCK_SLACK_S = 120.0     # an alarm from a meter's record carries the meter's clock (offset)
CODES = {"phase_loss": 10, "reverse_polarity": 9, "imbalance": 17, "voltage_imbalance": 17,
         "reverse_sequence": 11}
LIMIT_OF = {"imbalance": "current_imbalance_pct", "voltage_imbalance": "voltage_imbalance_pct"}
# the degree from which the meter keeps its own record (below it only real-time reads show it)
RECORDED_FROM = {"imbalance": IMBALANCE_EVENT, "voltage_imbalance": VOLTAGE_IMBALANCE_EVENT}
PHASES = "abc"


def three_phase(area):
    """{printed address: meter} of the area's three-phase meters."""
    return {m.addr[::-1].hex(): m for m in area.meters
            if getattr(firmware(m), "three_phase", None) is not None}


def true_alarms(meters, limits, period_s, end, scan_s=0.0):
    """[(printed address, erc, phase or None, start, end)] the agent should raise: faults that
    last a real-time period, and with an event scan every ``scan_s`` any fault over a scan
    before the end that the meter's event record tells (an imbalance from its own threshold)."""
    out = []
    for addr, m in sorted(meters.items()):
        for kind, erc in sorted(CODES.items()):
            for f in faults_of(m, kind):
                if kind in LIMIT_OF and 200.0 * f.fraction / (1 + f.fraction) <= \
                        getattr(limits, LIMIT_OF[kind]):
                    continue
                stop = end if f.end is None else min(end, f.end)
                recorded = kind not in RECORDED_FROM or \
                    2.0 * f.fraction / (1 + f.fraction) >= RECORDED_FROM[kind]
                seen = stop - f.start >= period_s or (scan_s and recorded and f.end is not None
                                                      and f.end + scan_s + 600 < end)
                if f.start < end and seen:
                    ph = PHASES[f.phase] if kind in ("phase_loss", "reverse_polarity") else None
                    out.append((addr, erc, ph, f.start, stop))
    return out


def true_rates(meter, day, limits):
    """[a, b, c]: the share of ``day``'s minutes each phase's true voltage is within the band."""
    d0 = from_civil(int(day[:4]), int(day[5:7]), int(day[8:10]))
    fw = firmware(meter)
    lost = faults_of(meter, "phase_loss")
    skews = faults_of(meter, "voltage_imbalance")
    ok = [0, 0, 0]
    for k in range(1440):
        t = d0 + 60.0 * k + 30.0
        kw = fw.power(t) / 3.0
        volts = [s.volts(t, kw) for s in fw.three_phase.supplies]
        for f in skews:
            if f.active(t):
                volts[0] *= 1.0 + f.fraction
                volts[2] *= 1.0 - f.fraction
        for f in lost:
            if f.active(t):
                volts[f.phase] = LOST_V
        for ph in range(3):
            ok[ph] += limits.voltage_lower_v <= round(volts[ph], 1) <= limits.voltage_upper_v
    return [n / 1440.0 for n in ok]


def report(store, area, settings, end):
    """The three-phase figures of a run ending at ``end`` (none without three-phase meters)."""
    meters = three_phase(area)
    if not meters:
        return {}
    limits, period_s = settings.limits, float(settings.realtime_s or 900)
    worst = [None, None, None]
    for r in store.readings(task=pq.TASK):
        if r.addr not in meters or r.quality != "ok":
            continue
        truth = true_rates(meters[r.addr], r.period, limits)
        got = [r.value["rate"]] + [(r.value.get("phases") or {}).get(ph, {}).get("rate")
                                   for ph in "bc"]
        for k in range(3):
            if got[k] is not None:
                worst[k] = max(worst[k] or 0.0, abs(got[k] - truth[k]))
    began = [r for r in store.readings(task=audit.TASK)
             if r.di in (9, 10, 11, 17) and r.value.get("began") and r.addr in meters]
    scan_s = 3600.0 * (settings.event_every_h or 0)
    truth = true_alarms(meters, limits, period_s, end, scan_s)
    found, used, rows = 0, set(), []
    for addr, erc, ph, start, stop in truth:
        hit = [r for r in began if r.addr == addr and r.di == erc and r.value.get("phase") == ph
               and start - CLOCK_SLACK_S <= r.value["at"] <= stop + period_s]
        found += bool(hit)
        used.update(id(r) for r in hit)
        rows.append({"addr": addr, "erc": erc, "phase": ph, "found": bool(hit)})
    false = sorted("%s/ERC%d/%s" % (r.addr, r.di, r.value.get("phase") or "-")
                   for r in began if id(r) not in used)
    return {"three_phase_meters": len(meters), "pq_alarms_true": len(truth),
            "pq_alarms_found": found, "pq_alarms_false": len(false),
            "pq_alarm_recall": round(found / len(truth), 4) if truth else None,
            "voltage_rate_error_pp_by_phase": dict(
                (ph, None if w is None else round(100.0 * w, 2)) for ph, w in zip(PHASES, worst)),
            "pq_alarms": {"truth": rows, "false": false}}
