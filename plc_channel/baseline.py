"""The plain round-robin reader: the baseline any smarter collector must beat.

It reads every meter's last daily freeze in archive order, one request at a time, with a fixed
timeout and no back-off or priorities, and repeats passes over the meters still missing until the
run ends. Carrier areas are read the way a simple concentrator does it: pause the router (12F2),
register the meters (11F1), then monitor each slave node (13F1) through the emulated module over a
simulated UART (9600 baud unless the area says otherwise). RS-485 areas are read straight on the bus.
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645 import Read, ReadReply, decode_frame, encode_frame, parse_reply
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.deframer import Deframer
from protocols.gdw1376_2.frame import COMM_HPLC, COMM_NBPLC, encode_frame as encode_3762
from meter_sim.faults import firmware
from plc_channel.module_1376_2 import CarrierModule
from plc_channel.bounds import collection_bounds
from plc_channel.uart import DEFAULT_BAUD, UartLink

DI_DAILY_FREEZE_1 = 0x05060101       # last daily freeze, forward active energy (total + tariffs)
MODULE_TIMEOUT_S = 120.0             # concentrator's wait for a 13F1 answer (modules: 59..99 s)
ADD_BATCH = 16                       # meters per 11F1 frame


class ModuleMaster:
    """Concentrator side of a simulated UART to the module: one request, one matching answer."""

    def __init__(self, env, end, comm):
        self.env = env
        self.end = end
        self.comm = comm
        self.deframer = Deframer()
        self.seq = 0
        self.waiting = {}
        self.reports = []
        end.on_bytes = self._on_bytes

    def _on_bytes(self, data):
        self.deframer.feed(data, self.env.now)
        for item in self.deframer:
            if not hasattr(item, "afn"):
                continue
            try:
                unit = A.unit_of(item)
            except ProtocolDecodeError:
                continue
            ev = self.waiting.pop(item.seq, None)
            if ev is not None and not item.prm:
                ev.succeed(unit)
            elif item.prm:
                self.reports.append((self.env.now, unit))
                if isinstance(unit, A.RouterRequest):
                    self._send(A.RouterRequestAnswer(A.READ_DONE), item.seq)
                else:
                    self._send(A.Confirm(), item.seq, up=False)

    def _send(self, unit, seq, up=None, dst=None, src=None):
        frame = A.to_frame(unit, seq=seq, up=up, comm=self.comm, src=src, dst=dst)
        self.end.send(encode_3762(frame))

    def request(self, unit, dst=None, timeout=MODULE_TIMEOUT_S):
        """SimPy process: the module's answer unit, or None after ``timeout``."""
        self.seq = seq = (self.seq + 1) & 0xFF
        ev = self.env.event()
        self.waiting[seq] = ev
        src = b"\x00" * 6 if dst is not None else None
        self._send(unit, seq, dst=dst, src=src)
        got = yield ev | self.env.timeout(timeout)
        self.waiting.pop(seq, None)
        return got[ev] if ev in got else None


class RoundRobin:
    """Reads the last daily freeze of every meter of ``area`` from ``start`` until ``until``
    (``dis``: the items to read from each meter, one request per item)."""

    def __init__(self, area, dis=(DI_DAILY_FREEZE_1,), baud=DEFAULT_BAUD):
        self.area = area
        self.env = area.env
        self.dis = tuple(dis)
        self.got = set()            # (address, di) read
        self.done = {}              # address -> time its last item was read
        self.requests = 0
        self.passes = 0
        self.master = None
        if area.medium != "rs485":
            link = UartLink(self.env, baud)
            comm = COMM_HPLC if area.medium == "hplc" else COMM_NBPLC
            self.module = CarrierModule(self.env, area.network, link.b.send, comm=comm)
            link.b.on_bytes = self.module.on_bytes
            self.master = ModuleMaster(self.env, link.a, comm)

    def run(self, until):
        """SimPy process: set up, then pass over the missing meters until done or ``until``."""
        if self.master is not None:
            yield from self._setup()
        missing = [m.addr for m in self.area.meters]
        while self.env.now < until and missing:
            self.passes += 1
            for addr in missing:
                if self.env.now >= until:
                    break
                yield from self._read(addr)
            missing = [a for a in missing if a not in self.done]

    def _setup(self):
        yield from self.master.request(A.RoutePause())
        addrs = [m.addr for m in self.area.meters]
        for k in range(0, len(addrs), ADD_BATCH):
            nodes = [(a, A.PROTO_645_2007) for a in addrs[k:k + ADD_BATCH]]
            yield from self.master.request(A.AddSlaves(nodes))

    def _read(self, addr):
        for di in self.dis:
            if (addr, di) in self.got:
                continue
            request = encode_frame(Read(di).to_frame(addr), preamble=4)
            self.requests += 1
            if self.master is None:
                d = yield self.env.process(self.area.network.transact(addr, request))
                reply = d.reply
            else:
                unit = yield from self.master.request(A.MonitorRequest(A.PROTO_645_2007, request),
                                                      dst=addr)
                reply = unit.body if isinstance(unit, A.MonitorReply) else None
            if reply is not None and is_freeze_reply(reply, addr, di):
                self.got.add((addr, di))
        if all((addr, di) in self.got for di in self.dis):
            self.done[addr] = self.env.now


def is_freeze_reply(raw, addr, di=DI_DAILY_FREEZE_1):
    try:
        frame = decode_frame(raw)
        reply = parse_reply(frame)
    except ProtocolDecodeError:
        return False
    return frame.addr == addr and isinstance(reply, ReadReply) and reply.di == di


def report(area, reader, start, until, name="round_robin", dis=None, baud=DEFAULT_BAUD):
    """KPIS.md figures of one collection run (read rate by depth, airtime, the lower bounds,
    t90/t99/t999); ``reader.done`` maps each meter read to the time its read completed;
    ``baud``: the concentrator-module UART's; ``efficiency_t99``: the bound of the reads done
    by t99 over t99."""
    net = area.network
    env = area.env
    by_depth = {}
    reachable = 0
    for i, m in enumerate(area.meters):
        depth = net.depth(m.addr)
        row = by_depth.setdefault(depth, {"meters": 0, "read": 0})
        row["meters"] += 1
        ok = m.addr in reader.done
        row["read"] += 1 if ok else 0
        reach = ok or net.reachable(i, env.now)
        reachable += 1 if reach else 0
    for row in by_depth.values():
        row["rate"] = round(row["read"] / float(row["meters"]), 6)
    done = len(reader.done)
    n = len(area.meters)
    completion = (max(reader.done.values()) - start) if reader.done else None
    times = sorted(reader.done.values())
    p99 = (times[int(0.99 * (len(times) - 1))] - start) if times else None
    dis = dis or getattr(reader, "dis", (DI_DAILY_FREEZE_1,))
    bounds, lower = collection_bounds(area, reader.done, dis, start, baud)
    t99 = bounds["t99_s"]
    lower99 = None              # the bound of the reads done by t99, against t99
    if t99:
        lower99 = collection_bounds(area, {a: t for a, t in reader.done.items()
                                           if t - start <= t99}, dis, start, baud)[1]
    airtime = {d: round(r["airtime_s"], 3) for d, r in sorted(net.stats.by_depth.items())}
    return {
        "medium": area.medium, "meters": n, "seed": area.seed, "hours": (until - start) / 3600.0,
        "reader": name, "read_rate": round(done / float(n), 6) if n else 0.0,
        "reachable_read_rate": round(done / float(reachable), 6) if reachable else 0.0,
        "reachable": reachable, "read": done,
        "completion_s": None if completion is None else round(completion, 3),
        "completion_p99_s": None if p99 is None else round(p99, 3),
        "t90_s": bounds["t90_s"], "t99_s": t99, "t999_s": bounds["t999_s"],
        "lower_bound_s": bounds["lower_bound_s"],
        "channel_airtime_bound_s": bounds["channel_airtime_bound_s"],
        "uart_bound_s": bounds["uart_bound_s"], "reachable_from_s": bounds["reachable_from_s"],
        "module_baud": bounds["module_baud"],
        "efficiency": round(lower / completion, 6) if completion else None,
        "efficiency_t99": round(lower99 / t99, 6) if t99 else None,
        "requests": reader.requests, "passes": getattr(reader, "passes", None),
        "read_rate_by_depth": {str(d): by_depth[d] for d in sorted(by_depth)},
        "airtime_s": round(sum(airtime.values()), 3),
        "airtime_by_depth_s": {str(d): v for d, v in airtime.items()},
        "transmissions": sum(r["transmissions"] for r in net.stats.by_depth.values()),
        "route_repairs": getattr(getattr(net, "router", None), "repairs", 0),
    }


def run_baseline(count, medium, seed, hours, start_hour=0.0, faults=(), settle_s=300.0,
                 dis=(DI_DAILY_FREEZE_1,), module_baud=DEFAULT_BAUD, **area_kw):
    """Build an area, read it round-robin for ``hours`` from ``start_hour`` of the second day
    (the first daily freeze exists then), and return ``report``'s figures."""
    import simpy
    from meter_sim.population import DEFAULT_EPOCH
    from plc_channel.area import build_area
    t0 = area_kw.pop("t0", DEFAULT_EPOCH)
    start = t0 + 86400.0 + 3600.0 * start_hour
    env = simpy.Environment(initial_time=start)
    area = build_area(env, count, medium, seed, t0, faults, **area_kw)
    reader = RoundRobin(area, dis, module_baud)
    begin = start + settle_s
    until = begin + 3600.0 * hours

    def job():
        yield env.timeout(settle_s)          # freezes settle a few minutes after midnight
        yield from reader.run(until)

    env.process(job())
    env.run(until=until)
    return report(area, reader, begin, until, baud=module_baud)
