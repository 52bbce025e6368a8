"""The emulated local carrier module (本地通信模块, the CCO side of Q/GDW 1376.2).

Any 1376.2 master - our agent or a real concentrator in a rig - talks to it over a byte stream;
behind it is a simulated carrier network (``CarrierNetwork``). It speaks one edition, 2013 or
2019 (``protocols.gdw1376_2.editions``), and answers: confirm/deny, module information (03F1,
03F4, 05F1), slave nodes (10F1, 10F2, 10F4, 11F1, 11F2), route control (12F1 restart, 12F2
pause, 12F3 resume), broadcast (05F3), forwarding a 645 frame (02F1, 13F1 monitor slave node),
HPLC concurrent reads (F1F1, bounded, 2019), and the management units of ``module_admin`` (the
rest of AFN01/03/04/05/10/11, registration, upgrade). It reports on its own: router-driven
reading (14F1 requests, 06F2 read data), route status changes (06F3), registration results
(06F4), meter events (06F5), with the 2019 edition the power-down and power-up of its meters
while an outage lasts (06F5 protocol 04, 停电上报: ``_power_reporter``) and its run mode after a
reset (03F10).
Rules of this file: every reply echoes the request's sequence number; the module's own reports
use its own counter; anything it cannot parse is denied with a reason, never dropped silently:
a unit its edition does not define gets "no such information class", one it defines but does
not emulate "unsupported command".
"""
import math

from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645 import Read, decode_frame as decode_645, encode_frame as encode_645
from protocols.dlt645 import di as DI
from protocols.dlt698 import services as V
from protocols.dlt698.axdr import OAD
from protocols.dlt698.data import RSD
from protocols.dlt698.frame import encode_frame as encode_698
from protocols.dlt698.link import request_frame
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.deframer import Deframer, Garbage
from protocols.gdw1376_2.editions import EDITION_2019, check, defines, deny_code
from protocols.gdw1376_2.frame import COMM_HPLC, encode_frame, up_info
from meter_sim.faults import SILENT, faults_of, firmware
from meter_sim.firmware.records698 import FAMILY_OI
from plc_channel.medium import Delivery
from plc_channel.module_admin import ADMIN_HANDLERS, MONITOR_TIMEOUT_S, ModuleAdmin
from plc_channel.topology import quality

MODULE_ADDR = bytes.fromhex("010000000000")
ROUTER_ANSWER_TIMEOUT_S = 10.0    # router-driven mode: wait this long for the 14F1 answer
ROUTER_ITEMS_PER_NODE = 16        # 14F1 asks per node before the router moves on (a concentrator
                                  # ends a node with "read done"/"read failed", A.6.2 c)
BOOT_S = 2.0                      # a reset module reports its run mode this long after
EVENT_FAMILIES = (DI.EV_POWER_DOWN,)
BROADCAST_REPEATS = 3             # each relay level repeats a broadcast this often (flooding)
# 停电上报 as the public ZC3750 CCO firmware does it (docs/outages.md): the CCO collects the STAs'
# power-down reports for 15 s after the first, then sends 06F5 frames of at most 40 addresses
# (MAXBMPOWERNUM) 2 s apart, device type 02 (HPLC communication unit)
POWER_DOWN_REPORT_S = 15.0
POWER_UP_REPORT_S = 60.0          # a restored STA rejoins and reports after this (ours, UNVERIFIED)
POWER_BATCH_S = 2.0
POWER_REPORT_MAX = 40
DEVICE_HPLC_UNIT = 2              # 06F5 device type: 0 collector, 1 meter, 2 HPLC communication unit


class CarrierModule(ModuleAdmin):
    """A 1376.2 module on a SimPy ``env`` in front of ``network``; ``send(bytes)`` goes upstream.
    ``legacy_confirm``: confirm in the 4-byte form of older modules; ``boot_report``: report the
    run mode (03F10) once started, as a module does after power-up."""

    def __init__(self, env, network, send, comm=COMM_HPLC, addr=MODULE_ADDR, capacity=None,
                 concurrency=None, event_scan_s=900.0, info=None, log=None,
                 edition=EDITION_2019, legacy_confirm=False, boot_report=False):
        self.env = env
        self.edition = check(edition)
        self.legacy_confirm = legacy_confirm
        self.monitor_timeout_s = MONITOR_TIMEOUT_S
        self.boot_s = BOOT_S
        self.events_allowed = True
        self.booting = False
        self.registered = {}            # meters found by registration: address -> protocol
        self.resets = 0
        self.forming_until = None       # after a reset: no meter reachable before this
        self._search = None
        self._upgrade = []
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
        if self.edition == EDITION_2019:
            env.process(self._power_reporter())
        if boot_report:
            self._reboot(0.0)

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

    def _emit(self, unit, seq, meter=None, phase=0, snr=None, prm=None):
        q = quality(snr) if snr is not None else 0
        frame = A.to_frame(unit, seq=seq, up=True, comm=self.comm,
                           info=up_info(phase=phase, cmd_quality=q, reply_quality=q, seq=seq),
                           src=meter, dst=self.addr if meter is not None else None, prm=prm)
        if self.log:
            self.log("up", self.env.now, unit)
        self.send(encode_frame(frame))

    def _report(self, unit, meter=None, phase=0, prm=None, snr=None):
        self.seq = (self.seq + 1) & 0xFF
        self.stats["reports"] += 1
        self._emit(unit, self.seq, meter, phase, snr, prm=prm)

    def _deny(self, req, code):
        self.denied += 1
        self._emit(A.Deny(deny_code(self.edition, code)), req.seq)

    def _confirm(self, req, wait_s=0):
        if self.legacy_confirm:
            self._emit(A.Confirm(0xFFFF, wait_s, legacy=True), req.seq)
        else:
            self._emit(A.Confirm(A.ALL_IDLE_DONE, wait_s), req.seq)

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
        if isinstance(unit, (A.Confirm, A.Deny)):
            return None                 # the concentrator acknowledging one of our reports
        if not defines(self.edition, frame.afn, frame.fn):
            return self._deny(frame, A.DENY_NO_SUCH_CLASS)
        name = _HANDLERS.get(type(unit))
        if name is None:
            return self._deny(frame, A.DENY_UNSUPPORTED)
        if self.booting:
            return self._deny(frame, A.DENY_BUSY)
        return getattr(self, name)(frame, unit)

    @staticmethod
    def handlers():
        return list(_HANDLERS)

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
        self._emit(A.SlaveInfo(len(addrs), [self._node_of(a) for a in page]), req.seq)

    def _route_status(self, req, unit):
        net = self.network
        depths = [net.depth(a) for a in self.nodes]
        relayed = sum(1 for a in self.read_in_round if net.depth(a) > 1)
        self._emit(A.RouteStatus(self._round is None and bool(self.read_in_round),
                                 self.running or self._search is not None,
                                 len(self.nodes), len(self.read_in_round), relayed,
                                 depth=max(depths) if depths else 0,
                                 state=A.STATE_SEARCHING if self._search else A.STATE_READING,
                                 registering=self._search is not None), req.seq)

    def _add_slaves(self, req, unit):
        if any(a in self.nodes for a, _ in unit.nodes):
            return self._deny(req, A.DENY_DUPLICATE_METER)
        if len(self.nodes) + len(unit.nodes) > self.capacity:
            return self._deny(req, A.DENY_BUSY)
        for a, proto in unit.nodes:
            self.nodes[a] = proto
            self.registered.pop(a, None)
        self._confirm(req)

    def _delete_slaves(self, req, unit):
        if any(a not in self.nodes for a in unit.addrs):
            return self._deny(req, A.DENY_NO_SUCH_METER)
        for a in unit.addrs:
            del self.nodes[a]
            self.read_in_round.discard(a)
        self._confirm(req)

    def reset(self, forming_s=0.0):
        """The module resets (a watchdog, a supply glitch: fault ``module_reset``): its slave
        archive, registration finds and routes are lost; it boots for ``boot_s`` and reports its
        run mode (03F10); the network is formed again ``forming_s`` after the reset (until then
        no meter is reachable: HPLC networking of an area takes minutes to hours)."""
        self.nodes.clear()
        self.registered.clear()
        self.read_in_round = set()
        self.resets += 1
        self.forming_until = self.env.now + max(forming_s, self.boot_s)
        if self.log:
            self.log("reset", self.env.now, None)
        self._reboot(self.boot_s)
        self.env.process(self._renetwork(self.forming_until))

    def _renetwork(self, at):
        yield self.env.timeout(max(0.0, at - self.env.now))
        if self.env.now >= self.forming_until:
            self.network.build()

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
        levels = self._levels()
        per_level = BROADCAST_REPEATS * self.network.airtime(len(unit.body))
        self._confirm(req, self.broadcast_seconds(len(unit.body)))
        self.env.process(self._flood(unit.body, per_level, levels))

    def _levels(self):
        net = self.network
        levels = {}
        for i, m in enumerate(net.meters):
            levels.setdefault(max(net.depth(m.addr), 1), []).append(i)
        return levels

    def broadcast_seconds(self, nbytes):
        """Whole seconds a flood of an ``nbytes`` frame takes, rounded up, plus one."""
        per_level = BROADCAST_REPEATS * self.network.airtime(nbytes)
        return int(math.ceil(max(self._levels() or [1]) * per_level)) + 1

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
        if addr not in self.nodes and addr not in self.registered:   # joined by registration
            return self._deny(req, A.DENY_NO_SUCH_METER)
        self.monitor_busy = True
        self.env.process(self._read(req, unit, addr, type(unit)))

    def _concurrent(self, req, unit):
        if self.in_flight >= self.concurrency:
            return self._deny(req, A.DENY_OVER_CONCURRENCY)
        addr = self._target(req, unit.body)
        if addr is None or (addr not in self.nodes and addr not in self.registered):
            return self._deny(req, A.DENY_NO_SUCH_METER if addr else A.DENY_FORMAT)
        self.in_flight += 1
        self.env.process(self._read(req, unit, addr, A.ConcurrentRequest))

    def _read(self, req, unit, addr, kind):
        try:
            if self.forming_until is not None and self.env.now < self.forming_until:
                yield self.env.timeout(getattr(getattr(self.network, "phy", None), "discovery_s",
                                               0.0))    # searched for, not found
                d = Delivery("unreachable")
            else:
                d = yield self.env.process(self.network.transact(addr, unit.body))
        finally:
            if kind is A.ConcurrentRequest:
                self.in_flight -= 1
            else:
                self.monitor_busy = False
        if d.reply is None and kind is A.ConcurrentRequest:
            # F1F1: a meter not read is an answer with L = 0 and A1 = that meter (table 123)
            return self._emit(A.ConcurrentReply(unit.protocol, b""), req.seq, addr)
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
        """Router-driven reading (路由主动抄表, 10376.2-2019 A.6.2): for each node the router
        asks the concentrator what to read (14F1) and reports each answer (06F2), until the
        concentrator ends the node with "read done" or "read failed"; then 06F3 once all are
        done. A long meter reply is read on by the concentrator's next 14F1 answer (0x12)."""
        env = self.env
        try:
            for index, addr in enumerate(list(self.nodes), 1):
                if not self.running:
                    return
                if addr in self.read_in_round or addr not in self.nodes:
                    continue
                yield from self._read_node(index, addr)
            self._report(A.ReportRouteChange(A.ROUTE_READ_DONE))
        finally:
            self._round = None
            self._answer = None

    def _read_node(self, index, addr):
        env, net = self.env, self.network
        for _ in range(ROUTER_ITEMS_PER_NODE):
            if not self.running:
                return
            self._answer = env.event()
            self._report(A.RouterRequest(net.phase_of(addr), addr, index))
            got = yield self._answer | env.timeout(ROUTER_ANSWER_TIMEOUT_S)
            answer = got[self._answer] if self._answer in got else None
            if answer is None or answer.flag != A.READ_GO:
                break
            d = yield env.process(net.transact(addr, answer.body))
            if d.reply is not None:
                self._report(A.ReportReadData(index, self.nodes.get(addr, A.PROTO_645_2007),
                                              d.reply, int(d.ended - d.started)),
                             addr, net.phase_of(addr), snr=net.snr_of(addr))
        self.read_in_round.add(addr)

    def _event_scanner(self, every):
        """Meters that logged a new event report it once their module can reach us (06F5)."""
        env = self.env
        net = self.network
        while True:
            yield env.timeout(every)
            if not self.events_allowed:
                continue
            for addr in list(self.nodes):
                i = net.index.get(addr)
                if i is None or not net.reachable(i, env.now):
                    continue
                m = net.meters[i]
                for fam in EVENT_FAMILIES:
                    n = m.events.count(fam)
                    if n != self._event_counts.get((addr, fam), 0):
                        self._event_counts[(addr, fam)] = n
                        body = m.handle(_last_event_read(m, fam, addr), env.now)
                        if body:
                            self._report(A.ReportEvent(self.nodes[addr], body), addr,
                                         net.phase_of(addr))

    def _power_reporter(self):
        """停电上报 (10376.2-2019 table 54, protocol 04): while an outage lasts the module reports
        the power-down of the table's meters it hears go dark (event type 1), and their
        power-up once they rejoin (type 2), at most ``POWER_REPORT_MAX`` per frame. The outage
        schedule is read when the module starts (faults added later are not reported)."""
        env, net = self.env, self.network
        edges = []
        for m in net.meters:
            for f in faults_of(m, "outage"):
                edges.append((f.start + POWER_DOWN_REPORT_S, A.POWER_OFF, m.addr))
                if f.end is not None:
                    edges.append((f.end + POWER_UP_REPORT_S, A.POWER_ON, m.addr))
        edges.sort()
        k = 0
        while k < len(edges):
            yield env.timeout(max(0.0, edges[k][0] - env.now))
            batch = {A.POWER_OFF: [], A.POWER_ON: []}
            while k < len(edges) and edges[k][0] <= env.now:
                _, kind, addr = edges[k]
                k += 1
                if addr in self.nodes and not self._silent(addr):
                    batch[kind].append(addr)
            if not self.events_allowed:
                continue
            for kind in (A.POWER_OFF, A.POWER_ON):
                addrs = batch[kind]
                for j in range(0, len(addrs), POWER_REPORT_MAX):
                    body = bytes([kind]) + b"".join(bytes(a) for a in addrs[j:j + POWER_REPORT_MAX])
                    self._report(A.ReportEvent(A.PROTO_POWER_EVENT, body, DEVICE_HPLC_UNIT))
                    yield env.timeout(POWER_BATCH_S)

    def _silent(self, addr):
        """A meter whose module says nothing at all now (dead, a phantom entry)."""
        i = self.network.index.get(addr)
        if i is None:
            return True
        return any(f.active(self.env.now) for f in faults_of_kinds(self.network.meters[i], SILENT))

def faults_of_kinds(meter, kinds):
    return [f for k in kinds for f in faults_of(meter, k)]


def _last_event_read(meter, family, addr):
    """The meter-side module's read of a meter's last event record: 645 ``family`` record 1, or
    for a 698 meter the last row of that family's event object (GET-Record selector 9)."""
    fw = firmware(meter)
    if fw.front_end is None:
        return encode_645(Read(family + 1).to_frame(addr))
    get = V.GetRecord(OAD(FAMILY_OI[family], 2), RSD(9, [1]), [], piid=1)
    return encode_698(request_frame(get, addr))


_HANDLERS = dict(ADMIN_HANDLERS)
_HANDLERS.update({
    A.ModuleInfoQuery: "_module_info", A.MasterAddressQuery: "_master_address",
    A.SetMasterAddress: "_set_master_address", A.SlaveCountQuery: "_slave_count",
    A.SlaveInfoQuery: "_slave_info", A.RouteStatusQuery: "_route_status",
    A.AddSlaves: "_add_slaves", A.DeleteSlaves: "_delete_slaves",
    A.RouteRestart: "_restart", A.RoutePause: "_pause", A.RouteResume: "_resume",
    A.StartBroadcast: "_broadcast", A.MonitorRequest: "_monitor", A.Forward: "_monitor",
    A.ConcurrentRequest: "_concurrent", A.RouterRequestAnswer: "_router_answer",
})
