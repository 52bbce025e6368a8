"""Why a meter-day was missed (漏抄原因): each entry of the audit's missed-reading list gets the
cause the agent's own evidence supports, the strongest first - an archive entry never heard
(phantom), a swap candidate's old meter (swapped), a power-down record over the freeze window
(outage), a clock error (ERC12, a freeze stamped at another time, a clock that restarted at
power-up), garbage where the meter should answer (bus fault: checksum errors or inverted bytes,
A/B swapped), a carrier module reset during the window, and else no answer on any route.
The causes of a day are kept in the store with the list (``save``)."""
from protocols.civil import DAY, from_civil, iso, parse_local

from edge import module_reset, swaps
from edge import validate as V
from edge.store import transaction

CAUSES = ("phantom", "swapped", "outage", "clock", "bus_fault", "module_reset", "flagged",
          "no_answer")
FREEZE = "daily_freeze"
CLOCK_FLAGS = (V.CLOCK, V.FREEZE_TIME)

SCHEMA = """
CREATE TABLE IF NOT EXISTS missed_reading (
    day TEXT NOT NULL, addr TEXT NOT NULL, kind TEXT NOT NULL, quality TEXT NOT NULL,
    cause TEXT NOT NULL, evidence TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (day, addr));
"""


def window(day, offset_s=300.0, deadline_h=6.0):
    """(begin, deadline) of the freeze window that reads ``day`` (YYYY-MM-DD)."""
    d1 = from_civil(int(day[:4]), int(day[5:7]), int(day[8:10])) + DAY
    return d1 + offset_s, d1 + 3600.0 * deadline_h


class Evidence:
    """What the store says, area-wide (swaps, resets) once per list, per meter (indexed by
    address) only for the meters on it."""

    def __init__(self, store, archive):
        self.store = store
        self.ports = {a: m.port for a, m in archive.meters.items()}
        self.phantoms = {p["addr"] for p in swaps.phantoms(store)}
        self.swapped = {c["old_addr"]: c["new_addr"] for c in swaps.candidates(store)}
        self.resets = module_reset.windows(store)

    def _any(self, addr, where):
        return self.store.db.execute("SELECT 1 FROM reading WHERE addr = ? AND %s LIMIT 1"
                                     % where, (addr,)).fetchone() is not None

    def heard(self, addr):
        """Whether ``addr`` ever answered a read well."""
        return self._any(addr, "quality = 'ok' AND task != 'audit_event'")

    def garbled(self, addr):
        return self._any(addr, "quality = 'garbled'")

    def records(self, addr):
        """The meter's power-down records (start, end as the meter stamped them)."""
        return [r.value for r in self.store.readings(addr=addr, task="event")
                if isinstance(r.value, dict) and "start" in r.value]

    def erc12(self, addr):
        return [(r.value["at"], r.value["began"]) for r in
                self.store.readings(addr=addr, task="audit_event") if r.di == 12]


def cause(ev, entry, tries, begin, deadline):
    """(cause, evidence text) of one missed-list ``entry`` whose freeze reads were ``tries``."""
    addr = entry["addr"]
    heard = ev.heard(addr)
    garbled = any(r.quality == "garbled" for r in tries) or (not heard and ev.garbled(addr))
    if addr in ev.phantoms or (not heard and not garbled):
        return "phantom", "never answered since the archive listed it"
    if addr in ev.swapped:
        return "swapped", "vanished; %s answers in its place (swap candidate)" % ev.swapped[addr]
    answered = any(r.quality in ("ok", "invalid", "error_reply") for r in tries)
    records = ev.records(addr)
    outage = _outage(records, begin, deadline, answered)
    if outage:
        return "outage", outage
    clock = _clock(ev.erc12(addr), records, entry, deadline)
    if clock:
        return "clock", clock
    if entry["kind"] == "wrong":
        return "flagged", "value flagged: %s" % ", ".join(entry["flags"])
    if garbled:
        return "bus_fault", "garbage instead of a reply (checksum errors or inverted bytes: A/B" \
                            " swapped?)"
    port = ev.ports.get(addr)
    for w in ev.resets:
        if w["port"] == port and w["at"] < deadline and (w["read_at"] is None
                                                        or w["read_at"] > begin):
            return "module_reset", "carrier module on %s reset at %s, lost %s s" % (
                port, _local(w["at"]), w["lost_s"])
    return "no_answer", "no answer on any try (%d stored)" % len(tries)


def _outage(records, begin, deadline, answered):
    """A power-down record over the window; one whose end the meter stamped before its start
    (its clock restarted at power-up) counts while the meter did not answer."""
    for rec in records:
        start = _t(rec.get("start"))
        end = _t(rec.get("end"))
        if start is None or start >= deadline:
            continue
        if end is not None and end >= start:
            if end > begin and start < begin + 600.0:
                return "powered down %s to %s" % (rec["start"], rec["end"])
        elif not answered:
            return "powered down %s (power-up stamped %s)" % (rec["start"], rec.get("end"))
    return None


def _clock(erc12, records, entry, deadline):
    if any(f in CLOCK_FLAGS for f in entry["flags"]):
        return "freeze flagged %s" % ", ".join(f for f in entry["flags"] if f in CLOCK_FLAGS)
    state = None
    for at, began in sorted(erc12):
        if at < deadline:
            state = at if began else None
    if state is not None:
        return "clock off (ERC12 since %s)" % _local(state)
    for rec in records:
        start, end = _t(rec.get("start")), _t(rec.get("end"))
        if start is not None and end is not None and end < start and start < deadline:
            return "clock restarted at power-up (record end %s before its start %s: battery" \
                   " flat?)" % (rec["end"], rec["start"])
    return None


def _t(text):
    try:
        return parse_local(text)
    except (TypeError, ValueError):
        return None


def _local(t):
    return iso(t)[:16].replace("T", " ")


def explain(store, archive, day, entries, offset_s=300.0, deadline_h=6.0):
    """``entries`` (the missed list of ``day``) each with ``cause`` and ``evidence``."""
    ev = Evidence(store, archive)
    begin, deadline = window(day, offset_s, deadline_h)
    out = []
    for e in entries:
        tries = store.readings(addr=e["addr"], task=FREEZE, period=day)
        c, why = cause(ev, e, tries, begin, deadline)
        out.append(dict(e, cause=c, evidence=why))
    return out


def save(store, day, entries, at):
    """Keep ``day``'s explained missed list (replacing an earlier judgement of the day)."""
    store.db.executescript(SCHEMA)
    with transaction(store.db):
        store.db.execute("DELETE FROM missed_reading WHERE day = ?", (day,))
        store.db.executemany("INSERT INTO missed_reading VALUES (?,?,?,?,?,?,?)", [
            (day, e["addr"], e["kind"], e["quality"], e["cause"], e["evidence"], at)
            for e in entries])


def saved(store, day):
    """The missed list of ``day`` as last kept: dicts of addr, kind, quality, cause, evidence."""
    store.db.executescript(SCHEMA)
    cur = store.db.execute("SELECT addr, kind, quality, cause, evidence FROM missed_reading"
                           " WHERE day = ? ORDER BY addr", (day,))
    return [dict(zip(("addr", "kind", "quality", "cause", "evidence"), r)) for r in cur]


def counts(entries):
    """{cause: meters} of an explained list."""
    out = {}
    for e in entries:
        out[e["cause"]] = out.get(e["cause"], 0) + 1
    return dict(sorted(out.items()))
