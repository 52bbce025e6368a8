"""The carrier network's topology kept per day: each time the module's 10F21 (and 10F31) is
read, the day's snapshot (meter, relay parent, level, role, phase) is replaced, so a user can
see how the network changed from day to day (``gridedge topology --day D``)."""
from protocols.civil import iso

from edge import module_facts
from edge.store import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS topology_day (
    day TEXT NOT NULL, port TEXT NOT NULL, addr TEXT NOT NULL, proxy TEXT, level INTEGER,
    role INTEGER, phases INTEGER, at REAL NOT NULL, PRIMARY KEY (day, port, addr));
"""
KEYS = ("port", "addr", "proxy", "level", "role", "phases", "at")


def _db(store):
    store.db.executescript(SCHEMA)
    return store.db


def save_day(store, port, at):
    """The port's nodes as the module last said (``module_facts``) as the day of ``at``."""
    day = iso(at)[:10]
    nodes = module_facts.nodes(store, port)
    db = _db(store)
    with transaction(db):
        db.execute("DELETE FROM topology_day WHERE day = ? AND port = ?", (day, port))
        for addr, n in sorted(nodes.items()):
            if n.get("level") is None and n.get("proxy") is None:
                continue                # never in a topology answer
            db.execute("INSERT INTO topology_day VALUES (?,?,?,?,?,?,?,?)",
                       (day, port, addr, n["proxy"], n["level"], n["role"], n["phases"], at))


def days(store):
    """Days that have a snapshot, ascending."""
    return [r[0] for r in _db(store).execute("SELECT DISTINCT day FROM topology_day ORDER BY day")]


def of_day(store, day):
    """The day's snapshot: dicts of port, addr, proxy, level, role, phases, at."""
    return [dict(zip(KEYS, r)) for r in _db(store).execute(
        "SELECT port, addr, proxy, level, role, phases, at FROM topology_day WHERE day = ?"
        " ORDER BY port, level, addr", (day,))]


def changes(store, day):
    """Meters whose parent or level differ from the previous day's snapshot, and meters
    joined or gone: {"moved": [...], "joined": [...], "gone": [...]} (None before a first day)."""
    earlier = [d for d in days(store) if d < day]
    if not earlier:
        return None
    old = {(r["port"], r["addr"]): r for r in of_day(store, earlier[-1])}
    new = {(r["port"], r["addr"]): r for r in of_day(store, day)}
    moved = [{"port": k[0], "addr": k[1], "proxy": [old[k]["proxy"], new[k]["proxy"]],
              "level": [old[k]["level"], new[k]["level"]]} for k in sorted(set(old) & set(new))
             if (old[k]["proxy"], old[k]["level"]) != (new[k]["proxy"], new[k]["level"])]
    return {"since": earlier[-1], "moved": moved,
            "joined": [k[1] for k in sorted(set(new) - set(old))],
            "gone": [k[1] for k in sorted(set(old) - set(new))]}


def summary(store, day):
    """What ``gridedge topology`` prints: the day's nodes and the change since the day before."""
    return {"day": day, "days": days(store),
            "nodes": [dict(r, at=iso(r["at"])[:19].replace("T", " ")) for r in of_day(store, day)],
            "changes": changes(store, day)}
