"""Outages of a branch or of the whole area (scenario ``[[outages]]``) as per-meter ``outage``
faults: a branch is a feeder of the topology (``feeder``) or one lateral of it (``lateral``;
0 the trunk), ``area = true`` every meter. The topology is the one ``build_area`` draws from the
same seed, so the meters chosen are the meters that go dark in the run."""
from meter_sim.population import derive
from plc_channel.topology import generate


def members(topology, entry):
    """Indices of the meters an ``[[outages]]`` entry cuts off, ascending."""
    if entry.get("area"):
        return list(range(topology.size))
    feeder, lateral = entry.get("feeder"), entry.get("lateral")
    out = []
    for i, b in enumerate(topology.box_of):
        box = topology.boxes[b]
        if feeder is not None and box.feeder != feeder:
            continue
        if lateral is not None and box.branch != lateral:
            continue
        out.append(i)
    return out


def label(entry):
    """A short name of an entry: ``area``, ``feeder 0`` or ``feeder 0 lateral 2``."""
    if entry.get("area"):
        return "area"
    parts = []
    if entry.get("feeder") is not None:
        parts.append("feeder %d" % entry["feeder"])
    if entry.get("lateral") is not None:
        parts.append("lateral %d" % entry["lateral"])
    return " ".join(parts) or "area"


def expand(entries, count, seed, topology=None):
    """([fault entries], [(entry, [meter indices])]): each outage as one ``outage`` fault on
    its meters, and the truth the HIL report is judged against."""
    topo = generate(count, derive(seed, "topology"), **(topology or {}))
    faults, truth = [], []
    for e in entries:
        chosen = members(topo, e)
        truth.append((e, chosen))
        if chosen:
            faults.append({"kind": "outage", "meters": chosen, "start_h": e["start_h"],
                           "end_h": e["end_h"]})
    return faults, truth
