"""Three-phase alarms from a meter's real-time values and its own event states: ERC10 phase break
/ loss of voltage (断相/失压), ERC9 reversed current (电流回路反向), ERC17 voltage and current
imbalance (不平衡度越限) and ERC11 reverse phase sequence (相序异常, the meter's status word 7 bit 0).

Each condition is judged on every real-time read of a meter archived with ``phases = 3``
(``[tasks.limits]``: ``phase_loss_v``, ``phase_current_a``, ``current_imbalance_pct``,
``voltage_imbalance_pct``); a change
against the meter's previous read begins or ends an alarm, an event reading of ``audit.TASK``
keyed by its edge (so idempotent) that the uplink sends as the standard AFN0E record.
"""
import logging

from protocols.civil import iso

from edge.store import Reading

REALTIME = "realtime"
ERC_TASK = "audit_event"            # edge.audit.TASK (not imported: audit imports edge.pq)
PHASES = "abc"
BREAK, LOSS, REVERSED = 0x40, 0x80, 0xC0   # flags D7..D6 (ERC10: 01 break, 10 loss; ERC9: 11)
log = logging.getLogger(__name__)


def phases_of(reading):
    """The three-phase values a real-time reading carries, or None."""
    v = reading.value.get("phases") if isinstance(reading.value, dict) else None
    return v if isinstance(v, dict) and isinstance(v.get("voltage"), list) else None


def imbalance(values, what="current"):
    """Imbalance (max - min) / max of the phases' ``what`` ("current" or "voltage") magnitudes,
    or None."""
    x = [abs(a) for a in values.get(what) or () if isinstance(a, (int, float))]
    if len(x) != 3 or max(x) <= 0:
        return None
    return (max(x) - min(x)) / max(x)


IMBALANCE_FLAGS = {"voltage": 0x01, "current": 0x02, "voltage_current": 0x03}   # ERC17 D0, D1


def conditions(values, limits):
    """{(erc, phase or None): kind} of the alarms ``values`` show now."""
    out = {}
    volts, amps = values.get("voltage") or [], values.get("current") or []
    for k, ph in enumerate(PHASES):
        u = volts[k] if k < len(volts) else None
        i = amps[k] if k < len(amps) else None
        if not isinstance(u, (int, float)) or not isinstance(i, (int, float)):
            continue
        if u < limits.phase_loss_v:
            out[(10, ph)] = "break" if abs(i) < limits.phase_current_a else "loss"
        elif i <= -limits.phase_current_a:
            out[(9, ph)] = "reversed"
    top = max([abs(a) for a in amps if isinstance(a, (int, float))] or [0.0])
    d = imbalance(values)
    current = d is not None and top >= limits.phase_current_a and \
        100.0 * d > limits.current_imbalance_pct
    dv = imbalance(values, "voltage")
    lost = any(k[0] == 10 for k in out)         # a lost phase is ERC10's, not an imbalance
    voltage = dv is not None and not lost and 100.0 * dv > limits.voltage_imbalance_pct
    if voltage or current:
        out[(17, None)] = "voltage_current" if voltage and current else \
            "voltage" if voltage else "current"
    if int(values.get("status_7") or 0) & 1:
        out[(11, None)] = "reverse_sequence"
    return out


def _previous(store, addr, before):
    prev = store.latest(addr, REALTIME, before=before)
    for _ in range(8):
        if prev is None or phases_of(prev) is not None:
            return prev
        prev = store.latest(addr, REALTIME, before=prev.period)
    return None


def raise_alarms(store, limits, readings, wall):
    """The ERC9/10/11/17 edges the real-time ``readings`` bring (uncommitted)."""
    out = []
    for r in readings:
        if r.task != REALTIME or r.quality != "ok":
            continue
        now_v = phases_of(r)
        if now_v is None:
            continue
        prev = _previous(store, r.addr, r.period)
        was = conditions(phases_of(prev), limits) if prev is not None else {}
        now = conditions(now_v, limits)
        for key in sorted(set(was) | set(now), key=str):
            if was.get(key) == now.get(key):
                continue
            if key in was:
                out.append(alarm(r, key, was[key], False, now_v, wall))
            if key in now:
                out.append(alarm(r, key, now[key], True, now_v, wall))
    for e in out:
        log.info("meter %s: ERC%d %s %s %s", e.addr, e.value["erc"], e.value.get("phase") or "",
                 e.value["kind"], "began" if e.value["began"] else "ended")
    return out


def alarm(r, key, kind, began, values, wall):
    """The event reading of one alarm edge at the real-time reading ``r`` (``values``: its
    phases, empty when the alarm comes from the meter's event record)."""
    erc, ph = key
    flags = 0
    if erc in (9, 10):
        flags = (1 << PHASES.index(ph)) | {"break": BREAK, "loss": LOSS, "reversed": REVERSED}[kind]
    elif erc == 17:
        flags = IMBALANCE_FLAGS[kind]
    volts, amps = values.get("voltage") or [None] * 3, values.get("current") or [None] * 3
    kwh = r.value.get("kwh") or [None]
    value = {"erc": erc, "at": r.read_at, "day": iso(r.read_at)[:10], "began": began,
             "kind": kind, "phase": ph, "flags": flags,
             "ua": volts[0], "ub": volts[1], "uc": volts[2],
             "ia": amps[0], "ib": amps[1], "ic": amps[2], "forward_active": kwh[0]}
    if erc == 17:
        for what in ("current", "voltage"):
            d = imbalance(values, what)
            value[what + "_imbalance"] = None if d is None else round(100.0 * d, 1)
    edge = "began" if began else "ended"
    return Reading(r.addr, ERC_TASK, erc, "%s:%s:%s:%s" % (edge, erc, ph or "-", r.period), value,
                   "ok", (), wall)


def record_fields(value):
    """The typed record's fields (protocols.gdw1376_1.erc) of an ERC9/10/11/17 reading's value."""
    erc = value["erc"]
    fields = {}
    if erc != 11:
        fields.update((k, value.get(k)) for k in ("ua", "ub", "uc", "ia", "ib", "ic"))
    if erc in (9, 10):
        fields.update(flags=value["flags"], forward_active=value.get("forward_active"))
    elif erc == 17:
        fields.update(flags=value["flags"], current_imbalance=value.get("current_imbalance"),
                      voltage_imbalance=value.get("voltage_imbalance"))
    elif erc == 11:
        fields["forward_active"] = value.get("forward_active")
    return fields


def alarms(store, day=None, addrs=None):
    """The three-phase alarm edges raised (of ``day``), oldest first, as plain dicts."""
    out = []
    for r in store.readings(task=ERC_TASK):
        if r.di in (9, 10, 11, 17) and (day is None or r.value.get("day") == day) \
                and (addrs is None or r.addr in addrs):
            out.append(dict(r.value, addr=r.addr, at=iso(r.value["at"])))
    return sorted(out, key=lambda a: (a["at"], a["addr"], a["erc"]))
