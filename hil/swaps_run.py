"""Meter-swap and archive-mismatch KPIs of a scenario, from the fault schedule (never from the
agent): ``swapped`` meters are true swaps (old address, new address), ``phantom`` meters true
phantom entries, ``unarchived`` meters true archive candidates.

Figures: ``swaps_true``, ``swaps_found`` (candidates naming the right old and new address),
``swaps_false`` (candidates that are not a true swap), ``phantoms_true``, ``phantoms_found``,
``phantoms_false``, ``unarchived_true``, ``unarchived_found`` (listed as archive candidates and
not mistaken for a swap's successor).
"""
from edge import swaps
from meter_sim.faults import faults_of, swapped_addr

FIGURES = ("swaps_true", "swaps_found", "swaps_false", "phantoms_true", "phantoms_found",
           "phantoms_false", "unarchived_true", "unarchived_found")


def _printed(wire):
    return bytes(wire)[::-1].hex()


def truth(area, end):
    """(swaps {old: new}, phantoms, unarchived) as printed addresses, for faults begun by ``end``."""
    pairs, phantom, unarch = {}, set(), set()
    for m in area.meters:
        for f in faults_of(m, "swapped"):
            if f.start < end:
                pairs[_printed(m.old_addr)] = _printed(swapped_addr(m.old_addr))
        if faults_of(m, "phantom"):
            phantom.add(_printed(m.addr))
        if faults_of(m, "unarchived"):
            unarch.add(_printed(m.addr))
    return pairs, phantom, unarch


def empty():
    return dict({k: 0 for k in FIGURES}, swaps=None)


def report(store, area, end):
    """The figures of a run against the store the agent left."""
    pairs, phantom, unarch = truth(area, end)
    cands = swaps.candidates(store)
    found = [c for c in cands if pairs.get(c["old_addr"]) == c["new_addr"]]
    listed = {p["addr"] for p in swaps.phantoms(store)}
    archive_cands = {c["addr"] for c in swaps.unarchived(store)}
    return {"swaps_true": len(pairs), "swaps_found": len(found),
            "swaps_false": len(cands) - len(found), "phantoms_true": len(phantom),
            "phantoms_found": len(listed & phantom), "phantoms_false": len(listed - phantom),
            "unarchived_true": len(unarch), "unarchived_found": len(archive_cands & unarch),
            "swaps": {"candidates": [{k: c[k] for k in ("old_addr", "new_addr", "phase",
                                                          "old_kwh", "old_period", "new_kwh")}
                                     for c in cands],
                      "truth": pairs, "phantoms": sorted(listed),
                      "archive_candidates": sorted(archive_cands)}}
