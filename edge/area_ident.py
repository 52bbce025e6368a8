"""Area identification (台区识别) on carrier ports: the agent allows it in the module (05F6) once
the module is synced; each node the module judges to belong to another transformer area
(06F5 area result) is kept as a foreign meter, journaled and logged. A foreign archived meter is
no longer read as ours (no task opens for it, it leaves the read-rate denominator and the line
loss) but stays in the archive: the master station decides. Phases (10F31) are kept per meter
by ``edge.module_facts``. No standard ERC fits a cross-area meter; none goes up (docs/areaid.md).
"""
import json
import logging

from protocols.civil import iso
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.errors import DecodeError

from edge import module_facts
from edge.effects import ModuleCall
from edge.schema import INHERIT, Bool, Section
from edge.store import transaction

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS foreign_meter (
    addr TEXT PRIMARY KEY, port TEXT NOT NULL, cco TEXT NOT NULL, archived INTEGER NOT NULL,
    flag INTEGER NOT NULL, first_at REAL NOT NULL, last_at REAL NOT NULL,
    reports INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS area_ident_start (
    port TEXT PRIMARY KEY, at REAL NOT NULL, answer TEXT NOT NULL);
"""


class AreaIdentPolicy:
    """Whether the agent allows area identification and what a foreign verdict does
    (``[tasks.areaid]``)."""

    def __init__(self, enabled=True, exclude=True):
        self.enabled = enabled
        self.exclude = exclude


AREAID = Section("tasks.areaid", "Area identification on carrier ports (edge.area_ident).", [
    Bool("enabled", INHERIT, doc="allow area identification in the module (05F6) after each "
         "sync; off: the module is not asked and its results are still kept"),
    Bool("exclude", INHERIT, doc="a meter judged another area's is not read as ours (no task, "
         "out of the read rate and the line loss); off: listed only"),
], target=AreaIdentPolicy)


def _db(store):
    store.db.executescript(SCHEMA)
    return store.db


def start(agent, port):
    """Generator: allow area identification in the module on ``port`` (05F6, once per sync);
    a module that refuses it (2013 edition) is journaled so and left alone."""
    if not agent.settings.areaid.enabled:
        return
    answer = yield ModuleCall(port, A.AreaDetection(1))
    kind = "confirmed" if isinstance(answer, A.Confirm) else \
        "denied" if isinstance(answer, A.Deny) else "silent"
    db = _db(agent.store)
    with transaction(db):
        db.execute("INSERT INTO area_ident_start VALUES (?,?,?) ON CONFLICT (port) DO UPDATE"
                   " SET at = excluded.at, answer = excluded.answer", (port, agent.wall, kind))
    agent.count("area_ident_%s" % kind)


def is_result(unit):
    """Whether a module report is an area identification result (06F5, control 9EH)."""
    return isinstance(unit, A.ReportEvent) and A.is_area_result(unit.body)


def on_result(agent, port, unit):
    """A 06F5 area result: a foreign node is recorded (idempotent: a repeat counts a report),
    one judged ours again leaves the list. A malformed result is counted, never fatal."""
    try:
        result = A.parse_area_result(unit.body)
    except DecodeError as exc:
        agent.count("area_result_malformed")
        log.warning("port %s: malformed area result: %s", port, exc)
        return
    addr = module_facts.printed(result.addr)
    db = _db(agent.store)
    if not result.foreign:
        with transaction(db):
            gone = db.execute("DELETE FROM foreign_meter WHERE addr = ?", (addr,)).rowcount
        if gone:
            agent.foreign.discard(addr)
            agent.store.log_event("area_ours", json.dumps({"addr": addr, "port": port}),
                                  agent.wall)
        return
    archived = addr in agent.archive.meters
    cco = module_facts.printed(result.cco)
    with transaction(db):
        new = db.execute("INSERT OR IGNORE INTO foreign_meter VALUES (?,?,?,?,?,?,?,1)",
                         (addr, port, cco, int(archived), result.flag, agent.wall,
                          agent.wall)).rowcount
        if not new:
            db.execute("UPDATE foreign_meter SET cco = ?, archived = ?, flag = ?, last_at = ?,"
                       " reports = reports + 1 WHERE addr = ?",
                       (cco, int(archived), result.flag, agent.wall, addr))
    if agent.settings.areaid.exclude:
        agent.foreign.add(addr)
    if new:
        agent.count("foreign_meters")
        agent.store.log_event("area_foreign", json.dumps(
            {"addr": addr, "port": port, "cco": cco, "archived": archived}), agent.wall)
        log.warning("port %s: meter %s belongs to the area of CCO %s (%s); not read as ours,"
                    " archive unchanged", port, addr, cco,
                    "archived here" if archived else "not archived")


def foreign_set(store):
    """Printed addresses the module judged to belong to another area."""
    return {r[0] for r in _db(store).execute("SELECT addr FROM foreign_meter")}


def foreign(store):
    """Foreign meters in the order found: dicts of the foreign_meter columns."""
    cur = _db(store).execute("SELECT * FROM foreign_meter ORDER BY first_at, addr")
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, r)) for r in cur]


def summary(store, archive=None):
    """What ``gridedge areaid`` prints: each node's phase as the module said, the foreign
    meters (archived ones first: they need the master's decision) and when identification
    was started on each port, with local times."""
    def at(t):
        return None if t is None else iso(t)[:19].replace("T", " ")
    nodes = module_facts.nodes(store)
    phases = [{"addr": a, "phase": A.phase_of_mask(n["phases"]) if n["phases"] else None,
               "phases_mask": n["phases"], "three_phase": bool(n["three_phase"]),
               "archived": None if archive is None else a in archive.meters}
              for a, n in sorted(nodes.items()) if n["phases"] is not None]
    rows = sorted(foreign(store), key=lambda r: (-r["archived"], r["first_at"], r["addr"]))
    starts = [{"port": p, "at": at(t), "answer": k} for p, t, k in _db(store).execute(
        "SELECT port, at, answer FROM area_ident_start ORDER BY port")]
    return {"identification": starts, "phases": phases,
            "foreign": [dict(r, archived=bool(r["archived"]), first_at=at(r["first_at"]),
                             last_at=at(r["last_at"])) for r in rows]}
