"""The emulated local carrier module (本地通信模块, the CCO side of Q/GDW 1376.2).

Any 1376.2 master - our agent or a real concentrator in a rig - talks to it over a byte stream;
behind it is a simulated carrier network (``CarrierNetwork``) or an RS-485 bus. It answers:
confirm/deny, module information (03F1, 03F4, 05F1), slave nodes (10F1, 10F2, 10F4, 11F1, 11F2),
route control (12F1 restart, 12F2 pause, 12F3 resume), broadcast (05F3), forwarding a 645 frame (02F1, 13F1 monitor
slave node), HPLC concurrent reads (F1F1, bounded), and it reports on its own: router-driven
reading (14F1 requests, 06F2 read data), route status changes (06F3) and meter events (06F5).
Rules of this file: every reply echoes the request's sequence number; the module's own reports
use its own counter; anything it cannot parse is denied with a reason, never dropped silently.
"""
import math

from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645 import Read, decode_frame as decode_645, encode_frame as encode_645
from protocols.dlt645 import di as DI
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.deframer import Deframer, Garbage
from protocols.gdw1376_2.frame import COMM_HPLC, encode_frame, up_info
from plc_channel.topology import quality

MODULE_ADDR = bytes.fromhex("010000000000")
ROUTER_ANSWER_TIMEOUT_S = 10.0    # router-driven mode: wait this long for the 14F1 answer
EVENT_FAMILIES = (DI.EV_POWER_DOWN,)
BROADCAST_REPEATS = 3             # each relay level repeats a broadcast this often (flooding)


class CarrierModule:
    """A 1376.2 module on a SimPy ``env`` in front of ``network``; ``send(bytes)`` goes upstream."""

    def __init__(self, env, network, send, comm=COMM_HPLC, addr=MODULE_ADDR, capacity=None,
                 concurrency=None, event_scan_s=900.0, info=None, log=None):
        self.env = env
        self.network = network
        self.send = send
        self.comm = comm
        self.addr = bytes(addr)
        self.capacity = capacity or max(2040, len(network.meters))   # typical CCO table: 2040
        self.concurrency = concurrency or network.concurrency
        self.info = info or A.ModuleInfo("GE", "SM", (1, 1, 26), 100)
        self.log = log
        self.deframer = Deframer()
        self.nodes = {}                 # slave archive: address -> protocol type (insertion order)
        self.running = False            # router-driven reading active
        self.monitor_busy = False
        self.in_flight = 0
        self.seq = 0
        self.read_in_round = set()
        self.denied = 0
        self._answer = None             # event the router-driven round waits on for a 14F1 answer
        self._round = None
        self._event_counts = {}
        self.stats = {"frames": 0, "garbage_bytes": 0, "reports": 0}
        if event_scan_s:
            env.process(self._event_scanner(event_scan_s))

    # --- byte stream --------------------------------------------------------------------------
    def on_bytes(self, data):
        """Bytes from the concentrator."""
        self.deframer.feed(data, self.env.now)
        for item in self.deframer:
            if isinstance(item, Garbage):
                self.stats["garbage_bytes"] += len(item.raw)
                continue
            self.stats["frames"] += 1
            self._on_frame(item)

    def _emit(self, unit, seq, meter=None, phase=0, snr=None):
        q = quality(snr) if snr is not None else 0
        frame = A.to_frame(unit, seq=seq, up=True, comm=self.comm,
                           info=up_info(phase=phase, cmd_quality=q, reply_quality=q, seq=seq),
                           src=meter, dst=self.addr if meter is not None else None)
        if self.log:
            self.log("up", self.env.now, unit)
        self.send(encode_frame(frame))

    def _report(self, unit, meter=None, phase=0):
        self.seq = (self.seq + 1) & 0xFF
        self.stats["reports"] += 1
        self._emit(unit, self.seq, meter, phase)

    def _deny(self, req, code):
        self.denied += 1
        self._emit(A.Deny(code), req.seq)

    def _confirm(self, req):
        self._emit(A.Confirm(), req.seq)

    # --- dispatch -----------------------------------------------------------------------------
    def _on_frame(self, frame):
        if not frame.down:
            return                      # an uplink frame echoed back: not for us
        try:
            unit = A.unit_of(frame)
        except ProtocolDecodeError:
            return self._deny(frame, A.DENY_FORMAT)
        if self.log:
            self.log("down", self.env.now, unit)
        handler = _HANDLERS.get(type(unit))
        if handler is None:
            if isinstance(unit, (A.Confirm, A.Deny)):
                return None             # the concentrator acknowledging one of our reports
            return self._deny(frame, A.DENY_NO_SUCH_CLASS)
        return handler(self, frame, unit)

    def _module_info(self, req, unit):
        self._emit(self.info, req.seq)

    def _master_address(self, req, unit):
        self._emit(A.MasterAddress(self.addr), req.seq)

    def _set_master_address(self, req, unit):
        self.addr = unit.addr
        self._confirm(req)

    def _slave_count(self, req, unit):
        self._emit(A.SlaveCount(len(self.nodes), self.capacity), req.seq)

    def _slave_info(self, req, unit):
        addrs = list(self.nodes)
        page = addrs[max(unit.start - 1, 0):max(unit.start - 1, 0) + min(unit.count, 32)]
        self._emit(A.SlaveInfo(len(addrs), [self._node(a) for a in page]), req.seq)

    def _node(self, addr):
        net = self.network
        snr = net.snr_of(addr)
        return A.SlaveNode(addr, net.depth(addr), quality(snr) if snr is not None else 0,
                           net.phase_of(addr), self.nodes[addr])

    def _route_status(self, req, unit):
        net = self.network
        depths = [net.depth(a) for a in self.nodes]
        relayed = sum(1 for a in self.read_in_round if net.depth(a) > 1)
        self._emit(A.RouteStatus(self._round is None and bool(self.read_in_round), self.running,
                                 len(self.nodes), len(self.read_in_round), relayed,
                                 depth=max(depths) if depths else 0), req.seq)

    def _add_slaves(self, req, unit):
        if any(a in self.nodes for a, _ in unit.nodes):
            return self._deny(req, A.DENY_DUPLICATE_METER)
        if len(self.nodes) + len(unit.nodes) > self.capacity:
            return self._deny(req, A.DENY_BUSY)
        for a, proto in unit.nodes:
            self.nodes[a] = proto
        self._confirm(req)

    def _delete_slaves(self, req, unit):
        if any(a not in self.nodes for a in unit.addrs):
            return self._deny(req, A.DENY_NO_SUCH_METER)
        for a in unit.addrs:
            del self.nodes[a]
            self.read_in_round.discard(a)
        self._confirm(req)

    def _restart(self, req, unit):
        self._confirm(req)
        self.network.build()
        self.read_in_round = set()
        self._set_running(True)

    def _pause(self, req, unit):
        self._confirm(req)
        self._set_running(False)

    def _resume(self, req, unit):
        self._confirm(req)
        self._set_running(True)

    def _set_running(self, on):
        self.running = on
        if on and self._round is None and self.nodes:
            self._round = self.env.process(self._router_round())

    def _broadcast(self, req, unit):
        """05F3: confirm with the flood's duration, then every meter with a route gets the frame
        as its relay level is reached (a meter cut off at that moment misses it)."""
        net = self.network
        per_level = BROADCAST_REPEATS * net.airtime(len(unit.body))
        levels = {}
        for i, m in enumerate(net.meters):
            levels.setdefault(max(net.depth(m.addr), 1), []).append(i)
        wait = int(math.ceil(max(levels or [1]) * per_level)) + 1
        self._emit(A.Confirm(wait_s=wait), req.seq)
        self.env.process(self._flood(unit.body, per_level, levels))

    def _flood(self, body, per_level, levels):
        env, net = self.env, self.network
        start = env.now
        for level in sorted(levels):
            yield env.timeout(max(0.0, start + level * per_level - env.now))
            for i in levels[level]:
                if net.reachable(i, env.now):
                    net.meters[i].handle(body, env.now)

    # --- reading ------------------------------------------------------------------------------
    def _target(self, req, body):
        """Meter address of a carried 645 frame: A3 of the 1376.2 frame, else the 645 address."""
        if req.dst is not None:
            return req.dst
        try:
            return decode_645(body).addr
        except ProtocolDecodeError:
            return None

    def _monitor(self, req, unit):
        if self.monitor_busy:
            return self._deny(req, A.DENY_BUSY)
        addr = self._target(req, unit.body)
        if addr is None:
            return self._deny(req, A.DENY_FORMAT)
        if addr not in self.nodes:
            return self._deny(req, A.DENY_NO_SUCH_METER)
        self.monitor_busy = True
        self.env.process(self._read(req, unit, addr, type(unit)))

    def _concurrent(self, req, unit):
        if self.in_flight >= self.concurrency:
            return self._deny(req, A.DENY_BUSY)
        addr = self._target(req, unit.body)
        if addr is None or addr not in self.nodes:
            return self._deny(req, A.DENY_NO_SUCH_METER if addr else A.DENY_FORMAT)
        self.in_flight += 1
        self.env.process(self._read(req, unit, addr, A.ConcurrentRequest))

    def _read(self, req, unit, addr, kind):
        try:
            d = yield self.env.process(self.network.transact(addr, unit.body))
        finally:
            if kind is A.ConcurrentRequest:
                self.in_flight -= 1
            else:
                self.monitor_busy = False
        if d.reply is None:
            code = A.DENY_METER_SILENT if d.reason == "meter silent" else A.DENY_SLAVE_SILENT
            return self._deny(req, code)
        if kind is A.ConcurrentRequest:
            out = A.ConcurrentReply(unit.protocol, d.reply)
        elif kind is A.Forward:
            out = A.ForwardReply(unit.protocol, d.reply)
        else:
            out = A.MonitorReply(unit.protocol, d.reply, int(d.ended - d.started))
        self.read_in_round.add(addr)
        self._emit(out, req.seq, addr, self.network.phase_of(addr), self.network.snr_of(addr))

    def _router_answer(self, req, unit):
        if self._answer is not None and not self._answer.triggered:
            self._answer.succeed(unit)

    def _router_round(self):
        """Router-driven reading (路由主动抄表): ask the concentrator what to read, node by node."""
        env = self.env
        try:
            for index, addr in enumerate(list(self.nodes), 1):
                if not self.running:
                    return
                if addr in self.read_in_round or addr not in self.nodes:
                    continue
                self._answer = env.event()
                self._report(A.RouterRequest(self.network.phase_of(addr), addr, index))
                got = yield self._answer | env.timeout(ROUTER_ANSWER_TIMEOUT_S)
                answer = got[self._answer] if self._answer in got else None
                if answer is None or answer.flag != A.READ_GO:
                    self.read_in_round.add(addr)
                    continue
                d = yield env.process(self.network.transact(addr, answer.body))
                if d.reply is not None:
                    self.read_in_round.add(addr)
                    self._report(A.ReportReadData(index, self.nodes[addr], d.reply,
                                                  int(d.ended - d.started)), addr, self.network.phase_of(addr))
            self._report(A.ReportRouteChange(A.ROUTE_READ_DONE))
        finally:
            self._round = None
            self._answer = None

    def _event_scanner(self, every):
        """Meters that logged a new event report it once their module can reach us (06F5)."""
        env = self.env
        net = self.network
        while True:
            yield env.timeout(every)
            for addr in list(self.nodes):
                i = net.index.get(addr)
                if i is None or not net.reachable(i, env.now):
                    continue
                m = net.meters[i]
                for fam in EVENT_FAMILIES:
                    n = m.events.count(fam)
                    if n != self._event_counts.get((addr, fam), 0):
                        self._event_counts[(addr, fam)] = n
                        body = m.handle(encode_645(Read(fam + 1).to_frame(addr)), env.now)
                        if body:
                            self._report(A.ReportEvent(self.nodes[addr], body), addr,
                                         net.phase_of(addr))


_HANDLERS = {
    A.ModuleInfoQuery: CarrierModule._module_info,
    A.MasterAddressQuery: CarrierModule._master_address,
    A.SetMasterAddress: CarrierModule._set_master_address,
    A.SlaveCountQuery: CarrierModule._slave_count,
    A.SlaveInfoQuery: CarrierModule._slave_info,
    A.RouteStatusQuery: CarrierModule._route_status,
    A.AddSlaves: CarrierModule._add_slaves,
    A.DeleteSlaves: CarrierModule._delete_slaves,
    A.RouteRestart: CarrierModule._restart,
    A.RoutePause: CarrierModule._pause,
    A.RouteResume: CarrierModule._resume,
    A.StartBroadcast: CarrierModule._broadcast,
    A.MonitorRequest: CarrierModule._monitor,
    A.Forward: CarrierModule._monitor,
    A.ConcurrentRequest: CarrierModule._concurrent,
    A.RouterRequestAnswer: CarrierModule._router_answer,
}
