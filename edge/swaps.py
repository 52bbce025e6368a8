"""Meter swaps and archive mismatch on carrier ports, judged once a day when the freeze window
closes: an archived meter silent for ``vanish_h`` while a meter the archive lacks joined the
network on the same phase after its last answer is a swap candidate (both registers kept, ERC35
raised); archive entries that never answered are listed as phantoms; meters found by
registration and matched to no vanished meter stay archive candidates. Nothing is re-archived.
"""
import json
import logging

from protocols.dlt645 import apdu
from protocols.gdw1376_1 import erc as E
from protocols.gdw1376_1.formats import time_a15
from protocols.civil import iso, to_civil

from edge import area_ident, module_facts
from edge.archive import MeterRecord
from edge.effects import Transact
from edge.module_sync import area_facts, meter_search
from edge.scheduler import PREPAID
from edge.schema import INHERIT, Float, Int, Section
from edge.store import Reading, transaction

log = logging.getLogger(__name__)
TASK = "audit_event"                # edge.audit.TASK: ERC35 goes up like the audit's events
ERC_UNKNOWN = 35
DI_ENERGY = 0x00010000              # forward active total, the new meter's first read
FREEZE = "daily_freeze"

SCHEMA = """
CREATE TABLE IF NOT EXISTS swap_candidate (
    old_addr TEXT PRIMARY KEY, new_addr TEXT NOT NULL, port TEXT NOT NULL, phase INTEGER,
    old_last_seen REAL, old_kwh REAL, old_period TEXT, new_kwh REAL, new_read_at REAL,
    found_at REAL NOT NULL, alternatives INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS archive_phantom (
    addr TEXT PRIMARY KEY, port TEXT NOT NULL, first_listed REAL NOT NULL, days INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS swap_watch (port TEXT PRIMARY KEY, since REAL NOT NULL);
"""


class SwapPolicy:
    """When a silent meter counts as vanished and how long the daily meter search runs
    (``[tasks.swaps]``)."""

    def __init__(self, vanish_h=24.0, search_min=10):
        self.vanish_h = vanish_h
        self.search_min = search_min


SWAPS = Section("tasks.swaps", "Meter swaps and archive mismatch on carrier ports (edge.swaps).", [
    Float("vanish_h", INHERIT, 1, 24 * 30, "h", "an archived meter silent this long has vanished;"
          " one never heard this long after the watch began is a phantom"),
    Int("search_min", INHERIT, 0, 120, "min", "daily meter search (registration, 11F5) on each "
        "carrier port after the freeze window (0: off, and no swap or phantom judgement)"),
], target=SwapPolicy)


def _db(store):
    store.db.executescript(SCHEMA)
    return store.db


def close_day(agent, policy):
    """The day's judgement: phantoms listed, then per carrier port a meter search whose finds
    are matched against the vanished meters (a job on the port)."""
    if not policy.search_min:
        return
    db = _db(agent.store)
    for name, bus in agent.buses.items():
        if not bus.port.carrier:
            continue
        with transaction(db):
            db.execute("INSERT OR IGNORE INTO swap_watch VALUES (?, ?)", (name, agent.wall))
        since = db.execute("SELECT since FROM swap_watch WHERE port = ?", (name,)).fetchone()[0]
        if agent.wall - since >= policy.vanish_h * 3600.0:
            _list_phantoms(agent, name)
        agent.spawn(swap_search(agent, name, policy), None, PREPAID, name, "swap_search")


def _list_phantoms(agent, port):
    db = _db(agent.store)
    never = [m.addr for m in agent.archive.on_port(port)
             if agent.health_of(m.addr).last_success is None]
    with transaction(db):
        for addr in never:
            db.execute("INSERT INTO archive_phantom VALUES (?,?,?,1) ON CONFLICT (addr) DO UPDATE"
                       " SET days = days + 1", (addr, port, agent.wall))
        if never:
            db.execute("DELETE FROM archive_phantom WHERE port = ? AND addr NOT IN (%s)"
                       % ",".join("?" * len(never)), [port] + never)
        else:
            db.execute("DELETE FROM archive_phantom WHERE port = ?", (port,))
    if never:
        log.warning("port %s: %d archive entries never answered (phantoms?): %s", port,
                    len(never), " ".join(never[:20]))
    agent.count("archive_phantoms_listed", len(never))


def vanished(agent, port, policy):
    """{printed address: last good answer (agent time)} of archived meters on ``port`` silent
    for ``vanish_h`` after answering at least once."""
    limit = policy.vanish_h * 3600.0
    out = {}
    for m in agent.archive.on_port(port):
        last = agent.health_of(m.addr).last_success
        if m.addr in agent.foreign:
            continue                    # not read as ours since judged another area's
        if last is not None and agent.now - last >= limit:
            out[m.addr] = last
    return out


def swap_search(agent, port, policy):
    """Generator job: search meters, refresh the phases (found nodes included), then match."""
    yield from meter_search(agent, port, policy.search_min)
    yield from area_facts(agent, port)
    gone = vanished(agent, port, policy)
    if not gone:
        return
    phases = module_facts.nodes(agent.store, port)
    taken = {r["new_addr"] for r in candidates(agent.store)}
    known = {r["old_addr"] for r in candidates(agent.store)}
    found = [c for c in module_facts.candidates(agent.store)
             if c["port"] == port and c["addr"] not in taken and c["addr"] not in agent.foreign]
    for old, last in sorted(gone.items()):
        if old in known:
            continue
        phase = (phases.get(old) or {}).get("phases")
        fits = [c for c in found if agent.to_now(c["found_at"]) > last
                and (phase is None or (phases.get(c["addr"]) or {}).get("phases") in (None, phase))]
        if not fits:
            continue
        new = max(fits, key=lambda c: c["found_at"])      # the latest newcomer: the successor
        found.remove(new)
        meter = MeterRecord(new["addr"], port, "645-1997" if new["protocol"] == 1 else "645-2007")
        agent.spawn(_first_read(agent, port, old, last, new, phase, len(fits) - 1), meter,
                    PREPAID, port, "swap_first_read")


def _first_read(agent, port, old, last, new, phase, alternatives):
    """Job on the new (unarchived) meter: its forward active total read once through the
    module, then the candidate saved with both registers (None where the read failed)."""
    result = yield Transact([apdu.Read(DI_ENERGY)])
    reply = result.replies[0] if result.replies else None
    kwh = reply.value()[1] if isinstance(reply, apdu.ReadReply) else None
    if kwh is None:
        agent.count("swap_first_read_failed")
    _save(agent, port, old, last, new, phase, kwh, alternatives)


def _save(agent, port, old, last, new, phase, kwh, alternatives):
    good = [r for r in agent.store.readings(addr=old, task=FREEZE)
            if r.quality == "ok" and isinstance(r.value, dict) and r.value.get("kwh")]
    freeze = max(good, key=lambda r: r.period) if good else None
    row = (old, new["addr"], port, phase, agent.to_wall(last),
           freeze.value["kwh"][0] if freeze else None, freeze.period if freeze else None,
           kwh, agent.wall, new["found_at"], alternatives)
    db = _db(agent.store)
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO swap_candidate VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
    value = {"erc": ERC_UNKNOWN, "at": agent.wall, "day": iso(agent.wall)[:10], "began": True,
             "port": port, "addr": new["addr"], "phase": phase, "protocol": new["protocol"],
             "replaces": old}
    agent.store.put_readings([Reading(old, TASK, ERC_UNKNOWN, "swap/" + new["addr"], value,
                                      "ok", (), agent.wall)])
    agent.store.log_event("swap_candidate", json.dumps(dict(zip(
        ("old", "new", "port", "phase"), row[:4]))), agent.wall)
    agent.count("swap_candidates")
    log.warning("port %s: meter %s vanished, %s answers on its phase: swap candidate (old %s"
                " kWh on %s, new %s kWh); archive unchanged", port, old, new["addr"], row[5],
                row[6], kwh)


def record(value, pn):
    """The ERC35 record of a swap candidate's event reading (``edge.audit.record``)."""
    quality = (value.get("phase") or 0) << 5
    return E.Erc35UnknownMeter(at=time_a15(to_civil(value["at"])), port=_port_no(value["port"]),
                               meters=[{"addr": value["addr"], "phase_quality": quality,
                                        "protocol": 0 if value.get("protocol") == 1 else 1}])


def _port_no(name):
    digits = "".join(ch for ch in str(name) if ch.isdigit())
    return int(digits) & 0xFF if digits else 31       # 31: the carrier port (1376.1 convention)


def candidates(store):
    """Swap candidates, oldest first: dicts of the swap_candidate columns."""
    cur = _db(store).execute("SELECT * FROM swap_candidate ORDER BY new_read_at, old_addr")
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, r)) for r in cur]


def phantoms(store):
    """Archive entries never heard: dicts of addr, port, first_listed, days listed."""
    cur = _db(store).execute("SELECT addr, port, first_listed, days FROM archive_phantom"
                             " ORDER BY addr")
    return [dict(zip(("addr", "port", "first_listed", "days"), r)) for r in cur]


def unarchived(store):
    """Meters found by registration that are archive candidates: no swap's successor and not
    judged another area's (``edge.area_ident``)."""
    taken = {r["new_addr"] for r in candidates(store)} | area_ident.foreign_set(store)
    return [c for c in module_facts.candidates(store) if c["addr"] not in taken]


def summary(store):
    """What ``gridedge swaps`` prints: swap candidates, phantom entries and the other archive
    candidates, with local times."""
    def at(t):
        return None if t is None else iso(t)[:19].replace("T", " ")
    swaps = [dict(c, old_last_seen=at(c["old_last_seen"]), new_read_at=at(c["new_read_at"]),
                  found_at=at(c["found_at"])) for c in candidates(store)]
    return {"swap_candidates": swaps,
            "phantoms": [dict(p, first_listed=at(p["first_listed"])) for p in phantoms(store)],
            "archive_candidates": [dict(c, found_at=at(c["found_at"])) for c in unarchived(store)]}
