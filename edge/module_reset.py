"""A carrier module that resets on its own has lost its slave archive: its run-mode report
(03F10, sent after a reset, 10376.2-2019 A.2 b) makes the agent hold the port and sync the
module again. The reset window is kept in the store - reported, synced again (the time lost,
``lost_s``), first meter read again - and is the cause of the readings it cost
(``edge.missed_causes``)."""
import logging

from protocols.civil import iso

from edge.store import transaction

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS module_reset (
    port TEXT NOT NULL, at REAL NOT NULL, synced_at REAL, read_at REAL, PRIMARY KEY (port, at));
"""


def _db(store):
    store.db.executescript(SCHEMA)
    return store.db


def resets_of(agent, port):
    """How many resets the module on ``port`` reported since the agent started."""
    return getattr(agent.buses[port], "resets", 0)


def on_reset(agent, port):
    """The module on ``port`` reported its run mode unasked: a reset. Before the port was
    first synced it is the module's power-up: the sync under way starts over, nothing is kept."""
    bus = agent.buses[port]
    bus.resets = resets_of(agent, port) + 1
    if not getattr(bus, "synced_once", False):
        return
    db = _db(agent.store)
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO module_reset VALUES (?, ?, NULL, NULL)",
                   (port, agent.wall))
    bus.reset_open = True
    agent.count("module_resets")
    log.warning("port %s: carrier module reset (03F10 unasked): slave table synced again", port,
                extra={"event": "module_reset", "port": port})
    bus.ready = False
    if not bus.syncing:
        agent._sync_module(port)


def synced(agent, port):
    """The module on ``port`` is synced (again)."""
    agent.buses[port].synced_once = True
    db = _db(agent.store)
    with transaction(db):
        db.execute("UPDATE module_reset SET synced_at = ? WHERE port = ? AND synced_at IS NULL",
                   (agent.wall, port))


def read_again(agent, port):
    """A meter on ``port`` answered: an open reset window ends (the time lost is known)."""
    bus = agent.buses[port]
    if not getattr(bus, "reset_open", False):
        return
    bus.reset_open = False
    db = _db(agent.store)
    with transaction(db):
        db.execute("UPDATE module_reset SET read_at = ? WHERE port = ? AND read_at IS NULL",
                   (agent.wall, port))
    log.info("port %s: meters read again after the module's reset", port)


def windows(store, port=None):
    """Reset windows, oldest first: dicts of port, at, synced_at, read_at (None: not yet),
    lost_s (reset to synced again: the agent's time lost) and unread_s (to the first meter
    read again: the network's, the next read task's)."""
    sql, args = "SELECT port, at, synced_at, read_at FROM module_reset", ()
    if port is not None:
        sql, args = sql + " WHERE port = ?", (port,)
    rows = _db(store).execute(sql + " ORDER BY at", args).fetchall()
    return [{"port": p, "at": a, "synced_at": s, "read_at": r,
             "lost_s": None if s is None else round(s - a, 1),
             "unread_s": None if r is None else round(r - a, 1)} for p, a, s, r in rows]


def printed(w):
    """A window with local times, for the CLI."""
    def at(t):
        return None if t is None else iso(t)[:19].replace("T", " ")
    return dict(w, at=at(w["at"]), synced_at=at(w["synced_at"]), read_at=at(w["read_at"]))
