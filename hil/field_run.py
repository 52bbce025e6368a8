"""The field-faults area (issue 21): a carrier area with RS-485 meters on a second port, and
the KPIs of the faults that cost readings, from the scenario's fault schedule and the simulated
meters (never from the agent).

Fault indices from ``[area] meters`` on name the RS-485 meters (``rs485_meters``). Figures:
``missed_causes_total`` (meter-days in the agent's missed lists, our meters),
``missed_causes_right`` (the agent's cause equal to the true one), ``missed_cause_rate`` (right / total),
``module_resets_true`` / ``module_resets_found`` (resets the agent kept a window of),
``module_reset_lost_s`` (the longest time lost: reset to synced again), ``clock_resets_true``
(meters whose flat battery reset their clock) and ``clocks_corrected`` (of them within the
clock limit at the end).
"""
from edge import audit
from edge import module_reset
from edge.archive import Archive
from meter_sim.faults import area_faults, faults_of, firmware
from meter_sim.population import DEFAULT_EPOCH, build_population, derive
from plc_channel.module_faults import schedule_resets
from plc_channel.rs485 import Rs485Bus
from protocols.civil import DAY, from_civil, midnight
from hil.agent_run import ARCHIVE_PROTOCOL

PORT = "rs485-1"
FIGURES = ("missed_causes_total", "missed_causes_right", "missed_cause_rate",
           "module_resets_true", "module_resets_found", "module_reset_lost_s",
           "clock_resets_true", "clocks_corrected")


class Meters:
    """Every simulated meter of a run (the carrier area's and the RS-485 port's), for the
    KPI modules that look only at ``meters``."""

    def __init__(self, meters):
        self.meters = list(meters)


def split_faults(spec, count):
    """(faults of the carrier area, faults of the RS-485 meters re-indexed from 0): entries
    keep their order (a share entry's draw depends on its place), meters split at ``count``."""
    carrier, wired = [], []
    for entry in spec:
        if "meters" not in entry:
            carrier.append(entry)
            continue
        carrier.append(dict(entry, meters=[i for i in entry["meters"] if i < count]))
        mine = [i - count for i in entry["meters"] if i >= count]
        if mine:
            wired.append(dict(entry, meters=mine))
    return carrier, wired


def add_rs485_meters(env, archive, count, first, faults, seed, population, password=None):
    """(meters, their RS-485 bus, the archive with them on port ``PORT``)."""
    meters = build_population(count, seed, DEFAULT_EPOCH, faults, first=first + 1,
                              **(population or {}))
    bus = Rs485Bus(env, meters, derive(seed, "rs485-field"))
    bus.build()
    doc = archive.to_dict()
    doc["port"].append({"name": PORT, "url": "sim:rs485", "medium": "rs485"})
    doc["meter"] += [{"addr": m.addr[::-1].hex(), "port": PORT,
                      "protocol": ARCHIVE_PROTOCOL[firmware(m).protocol]}
                     for m in meters if not faults_of(m, "unarchived")]
    return meters, bus, Archive.from_dict(doc)


def with_password(archive, password):
    """The archive with every meter's level-4 password (a targeted clock set needs one)."""
    doc = archive.to_dict()
    for m in doc["meter"]:
        m.setdefault("password", password)
        m.setdefault("control_level", 4)
    return Archive.from_dict(doc)


def schedule(env, module, spec):
    """The scenario's ``module_reset`` faults on the carrier ``module``; returns them."""
    resets = area_faults(spec, DEFAULT_EPOCH)
    schedule_resets(env, module, resets)
    return resets


def _printed(m):
    """A meter's archived (first) address, printed: a swapped meter's old one."""
    return getattr(m, "old_addr", m.addr)[::-1].hex()


def true_cause(m, carrier, resets, begin, deadline):
    """The cause a meter-day missed in the window ``[begin, deadline]`` truly has (the same
    order as ``edge.missed_causes``: the fault that hides the others first)."""
    if faults_of(m, "phantom"):
        return "phantom"
    if any(f.start < deadline for f in faults_of(m, "swapped")):
        return "swapped"
    for f in faults_of(m, "outage") + faults_of(m, "clock_battery"):
        if f.start < deadline and (f.end is None or f.end > begin):
            return "outage"
    if any(f.end is not None and f.end <= begin and not _set_since(m, f.end, midnight(begin))
           for f in faults_of(m, "clock_battery")):
        return "clock"
    if any(f.active(begin) for f in faults_of(m, "ab_swapped")):
        return "bus_fault"
    if carrier and any(f.start < deadline and (f.end or f.start) > begin for f in resets):
        return "module_reset"
    return "no_answer"


def _set_since(m, reset, freeze):
    """Whether the meter's clock was set again after its reset at ``reset`` and before the
    freeze midnight ``freeze`` (its last set, the meter keeps one)."""
    last = getattr(firmware(m).clock, "last_set", None)
    return last is not None and reset + 1.0 < last < freeze


def report(store, archive, meters, carrier_addrs, resets, settings, days, end, clock_limit_s):
    """The field-fault figures of a run whose freeze days are ``days`` (YYYY-MM-DD)."""
    by_addr = {_printed(m): m for m in meters}
    total = right = 0
    detail = []
    for day in days:
        d1 = from_civil(int(day[:4]), int(day[5:7]), int(day[8:10])) + DAY
        begin = d1 + settings.freeze_offset_s
        deadline = d1 + 3600.0 * settings.freeze_deadline_h
        listed = audit.missed(store, archive, day,
                              window=(settings.freeze_offset_s, settings.freeze_deadline_h))
        for e in listed:
            m = by_addr.get(e["addr"])
            if m is None:
                continue
            want = true_cause(m, e["addr"] in carrier_addrs, resets, begin, deadline)
            total += 1
            right += want == e["cause"]
            detail.append({"day": day, "addr": e["addr"], "cause": e["cause"], "truth": want})
    windows = module_reset.windows(store)
    flat = [m for m in meters if any(f.end is not None and f.end < end
                                     for f in faults_of(m, "clock_battery"))]
    fixed = [m for m in flat if abs(firmware(m).clock.read(end) - end) <= clock_limit_s]
    lost = [w["lost_s"] for w in windows if w["lost_s"] is not None]
    begun = [f for f in resets if f.start < end]
    return {"missed_causes_total": total, "missed_causes_right": right,
            "missed_cause_rate": round(right / total, 4) if total else None,
            "module_resets_true": len(begun),
            "module_resets_found": min(len(windows), len(begun)),
            "module_reset_lost_s": max(lost) if lost else None,
            "clock_resets_true": len(flat), "clocks_corrected": len(fixed),
            "field_faults": {"missed": detail,
                             "wrong_causes": [d for d in detail if d["cause"] != d["truth"]],
                             "module_resets": [module_reset.printed(w) for w in windows],
                             "clocks": {_printed(m): round(firmware(m).clock.read(end) - end, 1)
                                        for m in flat}}}


def empty():
    return dict({k: None for k in FIGURES}, field_faults=None)

