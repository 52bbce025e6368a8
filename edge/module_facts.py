"""What the carrier module tells the agent about the area, kept in the agent's store: each
meter's phase (10F31) and place in the network (10F21), and the meters its registration found
that the archive lacks (06F4/06F1): archive candidates, for the operator or the master station
to accept; never added to the archive by themselves."""
import json
import logging

from protocols.gdw1376_2 import afn as A

from edge.module_reset import on_reset
from edge.store import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS module_node (
    port TEXT NOT NULL, addr TEXT NOT NULL, phases INTEGER, three_phase INTEGER, tei INTEGER,
    proxy TEXT, level INTEGER, role INTEGER, at REAL NOT NULL, PRIMARY KEY (port, addr));
CREATE TABLE IF NOT EXISTS archive_candidate (
    addr TEXT PRIMARY KEY, port TEXT NOT NULL, protocol INTEGER NOT NULL, device INTEGER,
    found_at REAL NOT NULL, source TEXT NOT NULL);
"""


def _db(store):
    store.db.executescript(SCHEMA)
    if "quality" not in {r[1] for r in store.db.execute("PRAGMA table_info(module_node)")}:
        store.db.execute("ALTER TABLE module_node ADD COLUMN quality INTEGER")   # older stores
    return store.db


def printed(wire_addr):
    """The printed (most significant first) address of 6 wire-order bytes."""
    return bytes(wire_addr)[::-1].hex()


def save_phases(store, port, nodes, at):
    db = _db(store)
    with transaction(db):
        for n in nodes:
            db.execute("INSERT INTO module_node (port, addr, phases, three_phase, at) VALUES"
                       " (?,?,?,?,?) ON CONFLICT (port, addr) DO UPDATE SET"
                       " phases=excluded.phases, three_phase=excluded.three_phase, at=excluded.at",
                       (port, printed(n.addr), n.phases, int(n.three_phase), at))


def save_slaves(store, port, nodes, at):
    """10F2 slave nodes: the signal quality (0..15) the module gives each, and its relay level
    where the topology (10F21) has not said it."""
    db = _db(store)
    with transaction(db):
        for n in nodes:
            db.execute("INSERT INTO module_node (port, addr, level, quality, at) VALUES"
                       " (?,?,?,?,?) ON CONFLICT (port, addr) DO UPDATE SET"
                       " quality=excluded.quality, level=COALESCE(level, excluded.level),"
                       " at=excluded.at", (port, printed(n.addr), n.level, n.quality, at))


def save_topology(store, port, nodes, at):
    """10F21 nodes; a node's proxy is kept as its address (TEI numbers change between builds),
    the master node's (CCO) as None."""
    db = _db(store)
    by_tei = {n.tei: printed(n.addr) for n in nodes if n.role != A.ROLE_CCO}
    with transaction(db):
        for n in nodes:
            if n.role == A.ROLE_CCO:
                continue
            db.execute("INSERT INTO module_node (port, addr, tei, proxy, level, role, at) VALUES"
                       " (?,?,?,?,?,?,?) ON CONFLICT (port, addr) DO UPDATE SET tei=excluded.tei,"
                       " proxy=excluded.proxy, level=excluded.level, role=excluded.role,"
                       " at=excluded.at", (port, printed(n.addr), n.tei, by_tei.get(n.proxy),
                                           n.level, n.role, at))


def nodes(store, port=None):
    """{address: {phases, three_phase, tei, proxy, level, role, quality}} as the module last
    said."""
    db = _db(store)
    sql, args = ("SELECT addr, phases, three_phase, tei, proxy, level, role, quality FROM"
                 " module_node"), ()
    if port is not None:
        sql, args = sql + " WHERE port = ?", (port,)
    keys = ("phases", "three_phase", "tei", "proxy", "level", "role", "quality")
    return {r[0]: dict(zip(keys, r[1:])) for r in db.execute(sql, args)}


def add_candidates(store, port, found, at, source):
    """Meters (wire address, protocol, device type) a registration found; those already known
    as candidates keep their first sighting. Returns how many are new."""
    db = _db(store)
    new = 0
    with transaction(db):
        for addr, protocol, device in found:
            cur = db.execute("INSERT OR IGNORE INTO archive_candidate VALUES (?,?,?,?,?,?)",
                             (printed(addr), port, protocol, device, at, source))
            new += cur.rowcount
    return new


def candidates(store):
    """Archive candidates in the order found: dicts of addr, port, protocol, device, found_at,
    source."""
    keys = ("addr", "port", "protocol", "device", "found_at", "source")
    return [dict(zip(keys, r)) for r in _db(store).execute(
        "SELECT addr, port, protocol, device, found_at, source FROM archive_candidate"
        " ORDER BY found_at, addr")]


def on_report(agent, port, unit, src):
    """One module report the agent's link received: registration results become archive
    candidates (unless archived), a meter event leads to reading its events, a 2019 power event
    of meters is logged."""
    if isinstance(unit, A.ReportDevices):
        found = [(d.addr, d.protocol, d.kind) for d in unit.devices]
        found += [(a, p, A.DEVICE_METER) for d in unit.devices for a, p in d.subs]
        _candidates(agent, port, found, "06F4")
    elif isinstance(unit, A.ReportSlaves):
        _candidates(agent, port, [(a, p, A.DEVICE_METER) for a, p, _ in unit.nodes], "06F1")
    elif isinstance(unit, A.ReportEvent) and unit.protocol == A.PROTO_POWER_EVENT:
        kind, addrs = unit.power_event()
        agent.store.log_event("module_power_event", json.dumps(
            {"port": port, "event": kind, "meters": [printed(a) for a in addrs]}), agent.wall)
        from edge import outages
        try:
            outages.on_power_event(agent, port, kind, [printed(a) for a in addrs])
        except Exception:
            logging.getLogger(__name__).exception("power event of port %s not recorded", port)
    elif isinstance(unit, A.ReportEvent) and src is not None:
        agent._on_event_report(printed(src))
    elif isinstance(unit, A.RunMode):
        on_reset(agent, port)


def _candidates(agent, port, found, source):
    fresh = [f for f in found if printed(f[0]) not in agent.archive.meters]
    agent.count("module_found_archived", len(found) - len(fresh))
    agent.count("archive_candidates", add_candidates(agent.store, port, fresh, agent.wall, source))
