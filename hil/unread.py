"""The meters a run did not read: who they are from the simulator's ground truth (address,
relay depth, medium, reachable, the faults they were given) and the agent's last word on each
(the quality of its last failed attempt), for report.json and report.html."""


def unread_meters(area, done, store, period, now):
    """Meters of ``area`` whose daily freeze of ``period`` is not in ``done`` (wire address ->
    time read by the deadline), in archive order."""
    last = {}
    for r in store.readings(task="daily_freeze", period=period):
        if r.quality == "ok":
            last[r.addr] = "read after the deadline"
        elif last.get(r.addr) != "read after the deadline":
            last[r.addr] = r.quality + (" (%s)" % ",".join(r.flags) if r.flags else "")
    net = area.network
    out = []
    for i, m in enumerate(area.meters):
        if m.addr in done:
            continue
        addr = m.addr[::-1].hex()
        out.append({"address": addr, "depth": net.depth(m.addr), "medium": area.medium,
                    "reachable": bool(net.reachable(i, now)),
                    "faults": sorted({f.kind for f in getattr(m, "faults", ())}),
                    "last_error": last.get(addr, "not asked")})
    return out
