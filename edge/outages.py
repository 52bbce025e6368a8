"""Outage events (停电事件) per meter and per branch: the carrier module's power-down and
power-up reports (06F5 protocol 04) open and close a meter's outage while it lasts; the meter's
own power-down record (645 0311 00xx, read after power-up) later corrects its start and end.
Meters that dropped together (starts within ``WINDOW_S``) on one port are one outage: of the
area when they are ``AREA_SHARE`` of the port's meters, else of a branch (the nearest common
relay parent in the module's topology, 10F21), or of one meter. Each meter's power-down goes
upstream as ERC13 (D3) at once; a branch or area outage has no standard ERC (docs/outages.md).
"""
import json
import logging

from protocols.civil import iso, parse_local, to_civil
from protocols.gdw1376_1 import erc as E
from protocols.gdw1376_1.formats import time_a15

from edge import module_facts
from edge.store import Reading, transaction

log = logging.getLogger(__name__)
TASK = "audit_event"            # edge.audit.TASK: ERC13 goes up like the audit's events
ERC_METER_FAULT = 13
POWER_DOWN_FLAG = 0x08          # ERC13 D3: power-down count changed
WINDOW_S = 180.0                # power-downs this close together are one outage
AREA_SHARE = 0.9                # ... of the area when they are this share of the port's meters
MATCH_S = 900.0                 # a meter's record belongs to an outage starting this close
RECORD_TASK = "event"           # edge.jobs.PowerDownEvents: the meters' own records

SCHEMA = """
CREATE TABLE IF NOT EXISTS outage_meter (
    port TEXT NOT NULL, addr TEXT NOT NULL, start REAL NOT NULL, end REAL,
    start_src TEXT NOT NULL, end_src TEXT, reported REAL, PRIMARY KEY (port, addr, start));
CREATE TABLE IF NOT EXISTS outage_group (
    port TEXT NOT NULL, start REAL NOT NULL, end REAL, kind TEXT NOT NULL, parent TEXT,
    meters TEXT NOT NULL, PRIMARY KEY (port, start));
"""


def _db(store):
    store.db.executescript(SCHEMA)
    return store.db


def on_power_event(agent, port, kind, addrs):
    """A module's 06F5 power event: type 1 opens an outage for each meter (unless one is
    open), type 2 closes the open one; journaled, logged, regrouped."""
    db = _db(agent.store)
    now = agent.wall
    changed, since = [], now
    with transaction(db):
        for addr in addrs:
            open_row = db.execute("SELECT start FROM outage_meter WHERE port = ? AND addr = ?"
                                  " AND end IS NULL", (port, addr)).fetchone()
            if kind == 1 and open_row is None:
                db.execute("INSERT OR IGNORE INTO outage_meter VALUES (?,?,?,NULL,'module',NULL,?)",
                           (port, addr, now, now))
                changed.append(addr)
            elif kind == 2 and open_row is not None:
                db.execute("UPDATE outage_meter SET end = ?, end_src = 'module' WHERE port = ?"
                           " AND addr = ? AND start = ?", (now, port, addr, open_row[0]))
                changed.append(addr)
                since = min(since, open_row[0])
    if not changed:
        return
    what = "outage_down" if kind == 1 else "outage_up"
    agent.store.log_event(what, json.dumps({"port": port, "meters": changed}), now)
    agent.count(what + "_meters", len(changed))
    if kind == 1:
        log.warning("port %s: %d meters lost power (module report): %s", port, len(changed),
                    " ".join(changed[:20]))
        _raise_erc13(agent, changed, now)
    else:
        log.info("port %s: power back at %d meters", port, len(changed))
    regroup(agent.store, port, _port_size(agent, port), since)


def _raise_erc13(agent, addrs, at):
    agent.store.put_readings(erc13_readings([a for a in addrs if a in agent.archive.meters], at))


def erc13_readings(addrs, at):
    """The ERC13 (D3 power-down) event readings of meters that lost power at ``at``."""
    value = {"erc": ERC_METER_FAULT, "at": at, "day": iso(at)[:10], "began": True,
             "flags": POWER_DOWN_FLAG, "source": "module"}
    return [Reading(a, TASK, ERC_METER_FAULT, "outage:" + iso(at)[:19], value, "ok", (), at)
            for a in addrs]


def record(value, pn):
    """The ERC13 record of an outage's event reading (``edge.audit.record``)."""
    return E.Erc13MeterFault(at=time_a15(to_civil(value["at"])), pn=pn, flags=value["flags"])


def on_records(agent, readings):
    """Meters' own power-down records (task ``event``): each corrects the outage it overlaps
    (start and end from the meter) or, when the module never reported it, becomes one."""
    db = _db(agent.store)
    ports = {}
    with transaction(db):
        for r in readings:
            v = r.value if isinstance(r.value, dict) else {}
            m = agent.archive.meters.get(r.addr)
            if r.task != RECORD_TASK or m is None or not v.get("start"):
                continue
            try:
                start = parse_local(v["start"])
                end = parse_local(v["end"]) if v.get("end") else None
            except ValueError:
                continue
            row = db.execute("SELECT start FROM outage_meter WHERE port = ? AND addr = ? AND"
                             " start BETWEEN ? AND ? ORDER BY abs(start - ?) LIMIT 1",
                             (m.port, r.addr, start - MATCH_S, start + MATCH_S, start)).fetchone()
            first = min(start, row[0]) if row is not None else start
            ports[m.port] = min(ports.get(m.port, first), first)
            if row is not None:
                db.execute("UPDATE outage_meter SET start = ?, start_src = 'meter', end ="
                           " COALESCE(?, end), end_src = CASE WHEN ? IS NULL THEN end_src ELSE"
                           " 'meter' END WHERE port = ? AND addr = ? AND start = ?",
                           (start, end, end, m.port, r.addr, row[0]))
            else:
                db.execute("INSERT OR IGNORE INTO outage_meter VALUES (?,?,?,?,'meter',?,NULL)",
                           (m.port, r.addr, start, end, "meter" if end is not None else None))
    for port, since in sorted(ports.items()):
        regroup(agent.store, port, _port_size(agent, port), since)


def _port_size(agent, port):
    return len(agent.archive.on_port(port))


def regroup(store, port, size, since=None):
    """Rebuild ``port``'s outage groups from its meters' outages: starts within ``WINDOW_S``
    of a group's first are one group. With ``since`` (no outage starting earlier changed) only
    from the last group begun by then."""
    db = _db(store)
    cutoff = None
    if since is not None:
        cutoff = db.execute("SELECT max(start) FROM outage_group WHERE port = ? AND start <= ?",
                            (port, since)).fetchone()[0]
    cutoff = float("-inf") if cutoff is None else cutoff
    rows = db.execute("SELECT addr, start, end FROM outage_meter WHERE port = ? AND start >= ?"
                      " ORDER BY start, addr", (port, cutoff)).fetchall()
    groups = []
    for addr, start, end in rows:
        if groups and start - groups[-1]["start"] <= WINDOW_S:
            groups[-1]["rows"].append((addr, start, end))
        else:
            groups.append({"start": start, "rows": [(addr, start, end)]})
    tree = module_facts.nodes(store, port)
    with transaction(db):
        db.execute("DELETE FROM outage_group WHERE port = ? AND start >= ?", (port, cutoff))
        for g in groups:
            addrs = sorted({a for a, _, _ in g["rows"]})
            ends = [e for _, _, e in g["rows"]]
            end = None if any(e is None for e in ends) else max(ends)
            if size and len(addrs) >= AREA_SHARE * size and len(addrs) > 1:
                kind, parent = "area", None
            elif len(addrs) > 1:
                kind, parent = "branch", common_parent(tree, addrs)
            else:
                kind, parent = "meter", None
            db.execute("INSERT INTO outage_group VALUES (?,?,?,?,?,?)",
                       (port, g["start"], end, kind, parent, json.dumps(addrs)))


def _chain(tree, addr):
    out, seen = [], set()
    while addr is not None and addr not in seen:
        seen.add(addr)
        out.append(addr)
        addr = (tree.get(addr) or {}).get("proxy")
    return out


def common_parent(tree, addrs):
    """The nearest relay (proxy) that every meter of ``addrs`` reaches the CCO through, or None
    (the CCO itself, or no topology known)."""
    chains = [_chain(tree, a)[1:] for a in addrs]
    if not chains or any(not c for c in chains):
        return None
    shared = set(chains[0]).intersection(*chains[1:])
    for a in chains[0]:
        if a in shared:
            return a
    return None


def meter_outages(store, day=None):
    """Per-meter outages (of ``day``: begun that local day), oldest first."""
    keys = ("port", "addr", "start", "end", "start_src", "end_src", "reported")
    rows = [dict(zip(keys, r)) for r in _db(store).execute(
        "SELECT port, addr, start, end, start_src, end_src, reported FROM outage_meter"
        " ORDER BY start, addr")]
    return [r for r in rows if day is None or iso(r["start"])[:10] == day]


def groups(store, day=None):
    """Outages of the area, a branch or one meter (of ``day``), oldest first."""
    keys = ("port", "start", "end", "kind", "parent", "meters")
    rows = [dict(zip(keys, r)) for r in _db(store).execute(
        "SELECT port, start, end, kind, parent, meters FROM outage_group ORDER BY start, port")]
    for r in rows:
        r["meters"] = json.loads(r["meters"])
    return [r for r in rows if day is None or iso(r["start"])[:10] == day]


def summary(store, day=None):
    """What ``gridedge outages`` prints: the outages (kind, branch parent, start, end,
    minutes, meters) and each meter's own, with local times."""
    def at(t):
        return None if t is None else iso(t)[:19].replace("T", " ")

    def minutes(r):
        return None if r["end"] is None else round((r["end"] - r["start"]) / 60.0, 1)
    return {"outages": [dict(g, start=at(g["start"]), end=at(g["end"]), minutes=minutes(g),
                             count=len(g["meters"])) for g in groups(store, day)],
            "meters": [dict(m, start=at(m["start"]), end=at(m["end"]), reported=at(m["reported"]))
                       for m in meter_outages(store, day)]}
