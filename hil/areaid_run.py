"""Area and phase identification KPIs of a scenario, from the simulator's truth (never from the
agent): ``cross_area`` meters are archived here but supplied by the neighbour, ``neighbour``
meters are the neighbouring area's own, heard by our module; the true phase is the topology's.

Figures: ``cross_area_true``, ``cross_area_found`` (listed foreign), ``neighbours_true``,
``neighbours_found``, ``foreign_false`` (listed foreign, truly ours), ``foreign_read`` (freeze
readings of cross-area meters stored for days whose window opened after they were listed),
``phase_meters`` (our meters with a phase stored), ``phase_correct``, ``phase_accuracy``
(correct / stored; None without any), ``phase_coverage`` (stored / our meters) and
``read_rate_ours``
(the agent's own last closed freeze read rate, whose denominator leaves the foreign out).
"""
from edge import area_ident, module_facts
from meter_sim.faults import faults_of, foreign
from protocols.civil import parse_local
from protocols.gdw1376_2.afn import phase_of_mask

FIGURES = ("cross_area_true", "cross_area_found", "neighbours_true", "neighbours_found",
           "foreign_false", "foreign_read", "phase_meters", "phase_correct", "phase_accuracy",
           "phase_coverage", "read_rate_ours")
FREEZE = "daily_freeze"


def _printed(wire):
    return bytes(wire)[::-1].hex()


def truth(area):
    """(cross-area, neighbour, ours) printed addresses; ours: {address: true phase}."""
    cross, neigh, ours = set(), set(), {}
    topo = area.topology
    for i, m in enumerate(area.meters):
        a = _printed(m.addr)
        if faults_of(m, "cross_area"):
            cross.add(a)
        elif faults_of(m, "neighbour"):
            neigh.add(a)
        elif not foreign(m):
            ours[a] = topo.phase[i] if topo is not None else 0
    return cross, neigh, ours


def empty():
    return dict({k: 0 for k in FIGURES}, phase_accuracy=None, phase_coverage=None,
                read_rate_ours=None, areaid=None)


def _read_rate(agent):
    if not agent.read_rates:
        return None
    rows = agent.read_rates[max(agent.read_rates)]
    meters = sum(r[2] for r in rows)
    return round(sum(r[3] for r in rows) / float(meters), 6) if meters else None


def _read_after(store, listed, addrs):
    n = 0
    for r in store.readings(task=FREEZE):
        if r.addr in addrs and r.quality == "ok" and r.addr in listed:
            opened = parse_local(r.period + " 00:00") + 86400.0     # the window opens next day
            n += opened > listed[r.addr]
    return n


def report(store, area, agent):
    """The figures of a run against the store the agent left."""
    cross, neigh, ours = truth(area)
    rows = area_ident.foreign(store)
    listed = {r["addr"]: r["first_at"] for r in rows}
    nodes = module_facts.nodes(store)
    known = {a: phase_of_mask(n["phases"]) for a, n in nodes.items()
             if a in ours and n["phases"]}
    correct = sum(p == ours[a] for a, p in known.items())
    return {"cross_area_true": len(cross), "cross_area_found": len(cross & set(listed)),
            "neighbours_true": len(neigh), "neighbours_found": len(neigh & set(listed)),
            "foreign_false": len(set(listed) - cross - neigh),
            "foreign_read": _read_after(store, listed, cross),
            "phase_meters": len(known), "phase_correct": correct,
            "phase_accuracy": round(correct / float(len(known)), 6) if known else None,
            "phase_coverage": round(len(known) / float(len(ours)), 6) if ours else None,
            "read_rate_ours": _read_rate(agent),
            "areaid": {"foreign": [{k: r[k] for k in ("addr", "cco", "archived", "flag")}
                                   for r in rows],
                       "cross_area": sorted(cross), "neighbours": sorted(neigh),
                       "phase_wrong": sorted(a for a, p in known.items() if p != ours[a])}}
