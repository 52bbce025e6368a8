"""The collection lower bound (KPIS.md): the least time any reader could take for the same reads.

Three bounds from the simulator's ground truth, never from a reader's log: the channel airtime
over the medium's concurrency, the bytes through the concentrator-module UART (one full-duplex
wire shared by every read), and the instant the last read meter first became readable (alive,
routed, and on carrier its channel open: some neighbour or the coordinator hears it and is
heard by it at a frame error rate of at most 50 % - local noise near a meter closes it).
"""
from protocols.dlt645 import Read, encode_frame
from protocols.dlt645 import di as DI
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.frame import COMM_HPLC, COMM_NBPLC, encode_frame as encode_3762
from meter_sim.faults import alive_by_schedule, firmware, silent_windows
from plc_channel.uart import BITS_PER_BYTE, DEFAULT_BAUD

PREAMBLE = 4                      # FE bytes a meter's PLC/RS-485 frames carry on the medium
CLEAR_PER = 0.5                   # a hop whose frames get through half the time or more is open
CLEAR_STEP_S = 60.0               # the noise model moves by the minute (hourly ramps, sources)
SHARES = ((90, 0.9), (99, 0.99), (999, 0.999))
_ANY_ADDR = b"\x01\x00\x00\x00\x00\x00"


def item_bytes(di, preamble=PREAMBLE):
    """(request, reply) DL/T 645 frame sizes of a plain read of ``di``."""
    return 16 + preamble, 12 + 4 + DI.lookup(di).size + preamble


def channel_airtime_bound(area, addrs, dis):
    """Sum of each read's least airtime (one clean attempt per hop both ways, all items in one
    message with the meter's answers back to back, plus its reply delay) over concurrency."""
    net = area.network
    sizes = [item_bytes(d) for d in dis]
    total = 0.0
    for addr in addrs:
        if area.medium == "rs485":
            total += sum(net.min_cost(addr, q, r) for q, r in sizes)
        else:
            delay = firmware(net.meters[net.index[addr]]).reply_delay
            total += (net.min_cost(addr, sum(q for q, _ in sizes), sum(r for _, r in sizes))
                      + (len(sizes) - 1) * delay)
    return total / net.concurrency


def uart_frame_bytes(dis, medium):
    """(down, up) bytes of the smallest 1376.2 exchange reading ``dis`` from one meter: one
    carrier frame (13F1 or F1F1, whichever is shorter) each way, 645 frames without preamble."""
    comm = COMM_HPLC if medium == "hplc" else COMM_NBPLC
    body = b"".join(encode_frame(Read(d).to_frame(_ANY_ADDR), preamble=0) for d in dis)
    reply = b"\x00" * sum(item_bytes(d, 0)[1] for d in dis)
    proto = A.PROTO_645_2007
    down = min(len(encode_3762(A.to_frame(u, comm=comm, src=b"\x00" * 6, dst=_ANY_ADDR)))
               for u in (A.MonitorRequest(proto, body), A.ConcurrentRequest(proto, body)))
    up = min(len(encode_3762(A.to_frame(u, comm=comm, src=_ANY_ADDR, dst=_ANY_ADDR)))
             for u in (A.MonitorReply(proto, reply), A.ConcurrentReply(proto, reply)))
    return down, up


def uart_bound(area, addrs, dis, baud=DEFAULT_BAUD):
    """Seconds the module UART needs for the reads at ``baud`` (11 bits a byte, 8E1): the busier
    direction, each direction being one wire; None on RS-485 (no module)."""
    if area.medium == "rs485":
        return None
    down, up = uart_frame_bytes(dis, area.medium)
    return len(addrs) * max(down, up) * BITS_PER_BYTE / float(baud)


def first_readable(area, i, t):
    """The first instant >= ``t`` at which meter ``i`` was readable: its module alive by its
    fault schedule and, on carrier, routed - or, alive without a route, a discovery later
    (relays on the way are not checked, so this stays a lower bound); None if never."""
    meter = area.network.meters[i]
    times = [t] + [e for _, e in silent_windows(meter) if e is not None and e > t]
    router = getattr(area.network, "router", None)
    if router is None:
        return next((c for c in sorted(times) if alive_by_schedule(meter, c)), None)
    times += [at for at, has in router.route_log.get(i, ()) if has and at > t]
    found = None
    for c in sorted(times):
        if found is not None and c >= found:
            break
        if alive_by_schedule(meter, c):
            if router.routed_at(i, c):
                return c
            if found is None:
                found = c + area.network.phy.discovery_s
    return found


def link_open(net, i, t, down_bytes, up_bytes):
    """Whether a read of meter ``i`` could get through at ``t`` over its route as it stood then:
    every hop heard at a frame error rate of at most ``CLEAR_PER`` each way, under the noise at
    ``t`` (a local load near a meter or a relay closes the route) and every relay alive. True
    when the route is not known then (the other bounds decide)."""
    router, phy = net.router, net.phy
    path = router.path_at(i, t)
    if path is None:
        return True
    for a, b in zip(path, path[1:]):
        if b != i and not net._alive(b, t):
            return False
        if (phy.per(router.snr(a, b, t), down_bytes) > CLEAR_PER
                or phy.per(router.snr(b, a, t), up_bytes) > CLEAR_PER):
            return False
    return True


def first_clear(net, i, t, until, down_bytes, up_bytes):
    """The first instant from ``t`` (at most ``until``) at which ``link_open`` holds: scanned by
    the minute, then narrowed to the second (a noisy load switches off at any instant)."""
    if link_open(net, i, t, down_bytes, up_bytes):
        return t
    closed = t
    while closed < until:
        t = min(closed + CLEAR_STEP_S, until)
        if link_open(net, i, t, down_bytes, up_bytes):
            while t - closed > 1.0:
                mid = (closed + t) / 2.0
                if link_open(net, i, mid, down_bytes, up_bytes):
                    t = mid
                else:
                    closed = mid
            return t
        closed = t
    return until


def reachable_from(area, addrs, start, done=None, dis=()):
    """Seconds from ``start`` to the instant the last of ``addrs`` first became readable. With
    ``done`` (address -> time read) on carrier, readable also needs the channel open
    (``link_open``), never later than the meter was in fact read."""
    net = area.network
    index = net.index
    sizes = [item_bytes(d) for d in dis]
    down, up = sum(q for q, _ in sizes), sum(r for _, r in sizes)
    clear = done is not None and sizes and getattr(net, "router", None) is not None
    latest = start
    for addr in sorted(addrs, key=lambda a: -(done or {}).get(a, 0.0)):
        if done is not None and done[addr] <= latest:
            break                       # read by then: readable by then
        at = first_readable(area, index[addr], start)
        if at is not None and clear and at < done[addr]:
            at = first_clear(net, index[addr], at, done[addr], down, up)
        if at is not None and at > latest:
            latest = at
    return latest - start


def time_to_share(times, n, share):
    """Time of the read that brings ``share`` of the ``n`` meters in; None if never reached
    (``times``: sorted read times, from the task's start)."""
    need = -(-int(round(share * n * 1000)) // 1000)
    need = max(need, 1)
    return times[need - 1] if len(times) >= need else None


def collection_bounds(area, done, dis, start, baud=DEFAULT_BAUD):
    """The KPIS.md bounds and read-time shares of one collection run (``done``: address -> time
    its read completed): every figure rounded for report.json."""
    addrs = list(done)
    air = channel_airtime_bound(area, addrs, dis)
    uart = uart_bound(area, addrs, dis, baud)
    reach = reachable_from(area, addrs, start, done, dis)
    lower = max(air, uart or 0.0, reach)
    times = sorted(t - start for t in done.values())
    out = {"channel_airtime_bound_s": round(air, 3),
           "uart_bound_s": None if uart is None else round(uart, 3),
           "reachable_from_s": round(reach, 3), "lower_bound_s": round(lower, 3),
           "module_baud": None if area.medium == "rs485" else baud}
    n = len(area.meters)
    for tag, share in SHARES:
        got = time_to_share(times, n, share)
        out["t%d_s" % tag] = None if got is None else round(got, 3)
    return out, lower
