"""What the meters themselves recorded, as evidence for line-loss candidates (edge.lineloss).

``cover_opened`` and ``magnetic``: the last cover-open (开表盖, 645 03300D01, 698 301B) and
constant-magnetic-field (恒定磁场干扰, 645 03350001, 698 302A) records, read after a hint;
``reverse_energy``: a reversed-current alarm (ERC9) or the reverse active register advancing in
the real-time reads; ``phase_loss``: a loss-of-voltage or phase-break alarm (ERC10, from real-time
values or the meter's own records). docs/lineloss.md.
"""
import json

from protocols.civil import iso, parse_local

FELL, STOPPED, COVER, MAGNETIC = ("consumption_fell", "consumption_stopped", "cover_opened",
                                  "magnetic")
REVERSE, PHASE_LOSS, OTHER = "reverse_energy", "phase_loss", "other"
# every evidence name, in this order: kept stable (a 1376.1 F221 extension encodes them as bits)
EVIDENCE = (FELL, STOPPED, COVER, MAGNETIC, REVERSE, PHASE_LOSS, OTHER)
RECORDS = {COVER: 0x03300D01, MAGNETIC: 0x03350001}   # 645-2007: the last record, start first
PROBED = "on_demand"                # the task the records are read under (edge.jobs.OnDemand)
ERC_TASK = "audit_event"            # edge.audit.TASK: the three-phase alarms (edge.pq_phases)
ALARMS = {9: REVERSE, 10: PHASE_LOSS}


def found(store, addrs, since_day):
    """addr -> {evidence: when, 'YYYY-MM-DD hh:mm:ss'} of the events of ``addrs`` on or after
    ``since_day`` (the last record of each kind; the first alarm)."""
    addrs = set(addrs)
    out = {}

    def note(addr, name, when, last=True):
        if addr in addrs and when and when[:10] >= since_day:
            got = out.setdefault(addr, {})
            if last or name not in got:
                got[name] = when
    for name, di in sorted(RECORDS.items()):
        for addr, value in store.db.execute(
                "SELECT addr, value FROM reading WHERE task=? AND di=? AND quality='ok'"
                " ORDER BY id", (PROBED, di)):
            v = json.loads(value) if value else None
            note(addr, name, v.get("start") if isinstance(v, dict) else None)
    since = parse_local(since_day + " 00:00")
    for addr, di, value in store.db.execute(
            "SELECT addr, di, value FROM reading WHERE task=? AND di IN (9, 10) ORDER BY id",
            (ERC_TASK,)):
        v = json.loads(value) if value else {}
        if isinstance(v, dict) and v.get("began") and isinstance(v.get("at"), (int, float)):
            note(addr, ALARMS[di], iso(v["at"]), last=False)
    seen = {}
    for addr, value, at in store.db.execute(
            "SELECT addr, value, read_at FROM reading WHERE task='realtime' AND quality='ok'"
            " AND read_at >= ? AND value LIKE '%reverse_kwh%' ORDER BY read_at", (since,)):
        kwh = ((json.loads(value) or {}).get("phases") or {}).get("reverse_kwh")
        if isinstance(kwh, (int, float)) and addr in addrs:
            first = seen.setdefault(addr, kwh)
            if kwh > first:
                note(addr, REVERSE, iso(at), last=False)
    return out


def rank(names):
    """``names`` in the order of ``EVIDENCE``."""
    return sorted(names, key=EVIDENCE.index)
