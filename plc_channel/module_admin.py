"""The emulated module's management side: what it says about itself (AFN03), initialisation and
link tests (AFN01, AFN04), control (AFN05), routing queries and settings (AFN10, AFN11),
meter registration (11F5/F6 -> 06F4, 06F3) and the module upgrade (AFN15).

A mixin of ``CarrierModule``: the handlers use its ``_emit``/``_confirm``/``_deny``/``_report``
and its slave archive ``nodes``. Layouts and flows: Q/GDW 10376.2-2019 (appendix A for the
flows); docs/gdw1376_2-editions.md for what the 2013 edition lacks.
"""
import crcmod.predefined
import simpy

from protocols.bcd import byte_to_int, int_to_byte
from protocols.errors import DecodeError
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.editions import EDITION_2013, defines
from protocols.gdw1376_2.frame import COMM_HPLC, MAX_LENGTH
from plc_channel.topology import ROOT, quality

MONITOR_TIMEOUT_S = 90          # 13F1 longest wait; 10376.2-2019 A.4 c) names 90 s the default
BROADCAST_TIMEOUT_S = 120
MAX_SEGMENT = 512               # largest AFN15 segment the module takes (its 03F10 says so)
UPGRADE_WAIT_S = 10             # the emulated module restarts this long after the last segment
HPLC_RATE = 0x8000 | 100        # 100 kbit/s (D15 = kbit/s, table 30 x)
NBPLC_RATE = 500                # 500 bit/s
PAGE_MAX = 32                   # nodes per 10F2/F5/F6/F21 reply
REGISTRATION_GAP_S = 2.0        # one 06F4 report per found meter, this far apart
# Our own upgrade file format (the standard leaves the file's content to the vendor): a magic,
# the new version as 03F1 carries it (2 BCD bytes), the image, then CRC-16/X.25 of all before it
# (2 bytes, low first). A file whose CRC does not match is refused (15F1 answer FFFFFFFF).
UPGRADE_MAGIC = b"GEFW"
_crc16 = crcmod.predefined.mkCrcFun("x-25")


def upgrade_file(version, image):
    """An upgrade file the emulated module accepts (for tests and the vendor script)."""
    body = UPGRADE_MAGIC + bytes([int_to_byte(version % 100), int_to_byte(version // 100)]) + image
    crc = _crc16(body)
    return body + bytes([crc & 0xFF, crc >> 8])


def _file_version(data):
    """The version of a well-formed upgrade file, else None."""
    if len(data) < 8 or not data.startswith(UPGRADE_MAGIC):
        return None
    if _crc16(data[:-2]) != data[-2] | (data[-1] << 8):
        return None
    try:
        return byte_to_int(data[4]) + 100 * byte_to_int(data[5])
    except DecodeError:
        return None


class ModuleAdmin:
    """Management handlers of the emulated module (mixed into ``CarrierModule``)."""

    # --- AFN03: the module about itself ---------------------------------------------------
    def run_mode(self):
        net = self.network
        broadband = self.comm == COMM_HPLC
        return A.RunMode(A.RUN_BROADBAND if broadband else A.RUN_NARROWBAND, True, True,
                         A.READ_BOTH, self.monitor_timeout_s, BROADCAST_TIMEOUT_S, MAX_LENGTH,
                         MAX_SEGMENT, UPGRADE_WAIT_S, self.addr, self.capacity, len(self.nodes),
                         self.info, [HPLC_RATE if broadband else NBPLC_RATE],
                         b"\x30\x10\x20" if self.edition != EDITION_2013 else b"\x01\x03\x13")

    def _run_mode(self, req, unit):
        self._emit(self.run_mode(), req.seq)

    def _noise(self, req, unit):
        self._emit(A.Noise(0), req.seq)

    def _listen(self, req, unit):
        self._emit(A.ListenInfo(0, []), req.seq)

    def _master_status(self, req, unit):
        # D7..D6 00: both reading modes (table 25 b), one channel, one rate
        rate = HPLC_RATE if self.comm == COMM_HPLC else NBPLC_RATE
        self._emit(A.MasterStatus(0x0100, [rate]), req.seq)

    def _interference(self, req, unit):
        self._emit(A.Interference(0), req.seq)

    def _monitor_timeout(self, req, unit):
        self._emit(A.MonitorTimeout(self.monitor_timeout_s), req.seq)

    def _wireless(self, req, unit):
        self._emit(A.Wireless(0, 0), req.seq)

    def _broadcast_delay(self, req, unit):
        self._emit(A.BroadcastDelay(self.broadcast_seconds(len(unit.body)), unit.protocol,
                                    unit.body), req.seq)

    def _afn_index(self, req, unit):
        fns = [fn for (afn, fn) in self.handled() if afn == unit.afn]
        self._emit(A.AfnIndex(unit.afn, fns), req.seq)

    def _module_id(self, req, unit):
        self._emit(A.ModuleId(self.info.vendor, self.addr), req.seq)

    # --- AFN01, AFN04, AFN05 ---------------------------------------------------------------
    def _hardware_init(self, req, unit):
        """01F1: confirm, reset (the router stops, the route table is relearned) and report the
        run mode once up again (10376.2-2019 A.2 b)."""
        self._confirm(req)
        self._reboot(self.boot_s)

    def _parameter_init(self, req, unit):
        self.nodes.clear()
        self.read_in_round = set()
        self._confirm(req)

    def _data_init(self, req, unit):
        self.read_in_round = set()
        self.network.build()
        self._confirm(req)

    def _event_reporting(self, req, unit):
        self.events_allowed = bool(unit.allow)
        self._confirm(req)

    def _set_monitor_timeout(self, req, unit):
        self.monitor_timeout_s = unit.timeout_s
        self._confirm(req)

    def _accept(self, req, unit):
        """A command with no effect on the emulation (link tests, wireless, time, work mode,
        fixed relay paths): confirmed."""
        self._confirm(req)

    # --- AFN10: routing queries ------------------------------------------------------------
    def _page(self, addrs, unit):
        start = max(unit.start - 1, 0)
        return addrs[start:start + min(unit.count, PAGE_MAX)]

    def _relay_info(self, req, unit):
        net = self.network
        i = net.index.get(unit.addr)
        if unit.addr not in self.nodes or i is None:
            return self._deny(req, A.DENY_NO_SUCH_METER)
        parent = net.router.parent[i]
        up = [] if parent is None or parent == ROOT else [net.meters[parent].addr]
        self._emit(A.RelayInfo([self._node_of(a) for a in up]), req.seq)

    def _node_of(self, addr):
        """The 10F2 view of a meter, whether archived or not."""
        net = self.network
        snr = net.snr_of(addr)
        return A.SlaveNode(addr, net.depth(addr), quality(snr) if snr is not None else 0,
                           A.phase_mask(net.phase_of(addr)),
                           self.nodes.get(addr, self.registered.get(addr, A.PROTO_645_2007)))

    def _unread(self, req, unit):
        left = [a for a in self.nodes if a not in self.read_in_round]
        self._emit(A.Unread(len(left), [self._node_of(a) for a in self._page(left, unit)]),
                   req.seq)

    def _registered(self, req, unit):
        found = list(self.registered)
        self._emit(A.Registered(len(found), [self._node_of(a) for a in self._page(found, unit)]),
                   req.seq)

    def _slave_ids(self, req, unit):
        addrs = list(self.nodes)
        vendor = self.info.vendor.encode()[::-1]
        self._emit(A.SlaveIds(len(addrs), [(a, 0, vendor, A.ID_BIN, a)
                                           for a in self._page(addrs, unit)]), req.seq)

    def _network_size(self, req, unit):
        self._emit(A.NetworkSize(self.capacity), req.seq)

    def _topology(self, req, unit):
        """10F21: node 1 is the master node (CCO), then the slave nodes in archive order; a
        node's proxy is the TEI of its parent on the route (table 85)."""
        addrs = [self.addr] + list(self.nodes)
        net = self.network
        tei = {a: k + 1 for k, a in enumerate(addrs) if k}
        parents = set()
        for a in self.nodes:
            i = net.index.get(a)
            p = None if i is None else net.router.parent[i]
            if p is not None and p != ROOT:
                parents.add(net.meters[p].addr)
        nodes = []
        start = max(unit.start - 1, 0)
        for k in range(start, min(start + min(unit.count, PAGE_MAX), len(addrs))):
            a = addrs[k]
            if k == 0:
                nodes.append(A.TopologyNode(a, 1, 0, 0, A.ROLE_CCO))
                continue
            i = net.index.get(a)
            p = None if i is None else net.router.parent[i]
            proxy = 1 if p == ROOT else tei.get(net.meters[p].addr, 0) if p is not None else 0
            role = A.ROLE_PCO if a in parents else A.ROLE_STA
            nodes.append(A.TopologyNode(a, tei[a], proxy, net.depth(a), role))
        self._emit(A.Topology(len(addrs), unit.start, nodes), req.seq)

    def _phases(self, req, unit):
        """10F31: the master node first (no phase of its own), then each slave node's phase and
        each node's that joined by registration (it is in the network)."""
        addrs = [self.addr] + list(self.nodes) + [a for a in self.registered if a not in self.nodes]
        start = max(unit.start - 1, 0)
        count = min(unit.count, A.PhaseInfo.MAX_NODES)
        nodes = [A.PhaseNode(addrs[k], 0 if k == 0 else A.phase_mask(self._ident_phase(addrs[k])))
                 for k in range(start, min(start + count, len(addrs)))]
        self._emit(A.PhaseInfo(len(addrs), unit.start, nodes), req.seq)

    # --- AFN11 F5/F6: registration (从节点主动注册, 10376.2-2019 A.5) -------------------------
    def _start_registration(self, req, unit):
        self._confirm(req)
        if self._search is None:
            self._search = self.env.process(self._registration(unit.duration_min * 60.0))

    def _stop_registration(self, req, unit):
        self._confirm(req)
        if self._search is not None and self._search.is_alive:
            self._search.interrupt("stopped")

    def _registration(self, duration_s):
        """Meters on the network that the slave archive lacks answer the search; each is
        reported once (06F4), then the end of the search (06F3 kind 2)."""
        env, net = self.env, self.network
        end = env.now + duration_s
        try:
            for i, m in enumerate(net.meters):
                if env.now + REGISTRATION_GAP_S > end:
                    break
                if m.addr in self.nodes or m.addr in self.registered or not net.reachable(i, env.now):
                    continue
                yield env.timeout(REGISTRATION_GAP_S)
                proto = A.PROTO_645_1997 if getattr(m, "protocol", 2007) == 1997 else A.PROTO_645_2007
                self.registered[m.addr] = proto
                index = len(self.nodes) + len(self.registered)
                self._report(A.ReportDevices([A.Device(m.addr, proto, index, A.DEVICE_METER)]))
        except simpy.Interrupt:
            pass
        finally:
            self._search = None
        self._report(A.ReportRouteChange(A.ROUTE_SEARCH_DONE))

    # --- AFN15: module upgrade by file transfer --------------------------------------------
    def _file_segment(self, req, unit):
        """15F1: segments in order (a repeated one is acknowledged again); the last one checks
        the file and, when good, the module restarts on the new version after its upgrade wait
        (03F10 upgrade wait) and reports its run mode."""
        if unit.file_id == A.FILE_CLEAR:
            self._upgrade = []
            return self._emit(A.FileSegmentAck(unit.index), req.seq)
        if unit.file_id != A.FILE_MODULE or len(unit.data) > MAX_SEGMENT:
            return self._deny(req, A.DENY_FORMAT)
        if unit.index == 0:
            self._upgrade = []
        if unit.index == len(self._upgrade) - 1 and self._upgrade[-1] == unit.data:
            return self._emit(A.FileSegmentAck(unit.index), req.seq)
        if unit.index != len(self._upgrade):
            return self._emit(A.FileSegmentAck(A.SEGMENT_REFUSED), req.seq)
        self._upgrade.append(unit.data)
        if not unit.last:
            return self._emit(A.FileSegmentAck(unit.index), req.seq)
        version = _file_version(b"".join(self._upgrade))
        self._upgrade = []
        if version is None or unit.index + 1 != unit.total:
            return self._emit(A.FileSegmentAck(A.SEGMENT_REFUSED), req.seq)
        self._emit(A.FileSegmentAck(unit.index), req.seq)
        self._reboot(UPGRADE_WAIT_S, version)

    def _reboot(self, after_s, version=None):
        self._set_running(False)
        self.booting = True
        self.env.process(self._boot(after_s, version))

    def _boot(self, after_s, version):
        yield self.env.timeout(after_s)
        if version is not None:
            i = self.info
            self.info = A.ModuleInfo(i.vendor, i.chip, i.date, version)
        self.booting = False
        self.report_run_mode()

    def report_run_mode(self):
        """The module's own 03F10 after a reset (10376.2-2019 A.2 b: the concentrator waits a
        minute for it, then asks)."""
        self._report(self.run_mode(), prm=True)

    def handled(self):
        """(AFN, Fn) pairs this module answers in its edition."""
        return sorted((c.AFN, c.FN) for c in self.handlers() if defines(self.edition, c.AFN, c.FN))

    # --- AFN05 F6: area identification (台区识别, plc_channel.area_ident) ---------------------
    def _ident_phase(self, addr):
        ident = getattr(self.network, "area_ident", None)
        phase = self.network.phase_of(addr)
        return phase if ident is None else ident.phase(addr, phase)

    def _area_detection(self, req, unit):
        """05F6: allow starts identification rounds (every ``ident_h``), forbid stops them."""
        self._confirm(req)
        self.area_ident_on = bool(unit.allow)
        if self.area_ident_on and getattr(self, "_ident", None) is None:
            self._ident = self.env.process(self._identify())

    def _identify(self):
        """Each round judges the nodes in the network not judged yet; those of another area
        are reported (06F5, ``A.AreaResult``); the first round ends with 06F3 kind 3."""
        ident = getattr(self.network, "area_ident", None)
        net, judged, rounds = self.network, set(), 0
        while ident is not None and self.area_ident_on:
            yield self.env.timeout(max(ident.ident_s, 60.0))
            if not self.area_ident_on or self.booting:
                continue
            for i, m in enumerate(net.meters):
                if m.addr in judged or not net.reachable(i, self.env.now):
                    continue
                judged.add(m.addr)
                if ident.foreign(m):
                    flag = A.FLAG_FOREIGN if m.addr in self.nodes else A.FLAG_FOREIGN_UNARCHIVED
                    body = A.AreaResult(m.addr, flag, ident.neighbour_cco).body()
                    self._report(A.ReportEvent(A.PROTO_645_2007, body, A.DEVICE_METER), m.addr)
            rounds += 1
            if rounds == 1:
                self._report(A.ReportRouteChange(A.ROUTE_AREA_DONE))
        self._ident = None


ADMIN_HANDLERS = {
    A.RunModeQuery: "_run_mode", A.NoiseQuery: "_noise", A.ListenQuery: "_listen",
    A.MasterStatusQuery: "_master_status", A.InterferenceQuery: "_interference",
    A.MonitorTimeoutQuery: "_monitor_timeout", A.WirelessQuery: "_wireless",
    A.BroadcastDelayQuery: "_broadcast_delay", A.AfnIndexQuery: "_afn_index",
    A.ModuleIdQuery: "_module_id",
    A.HardwareInit: "_hardware_init", A.ParameterInit: "_parameter_init", A.DataInit: "_data_init",
    A.SendTest: "_accept", A.RollCall: "_accept", A.CommTest: "_accept",
    A.EventReporting: "_event_reporting", A.SetMonitorTimeout: "_set_monitor_timeout",
    A.SetWireless: "_accept", A.AreaDetection: "_area_detection", A.SetNodeTime: "_accept",
    A.RelayQuery: "_relay_info", A.UnreadQuery: "_unread", A.RegisteredQuery: "_registered",
    A.SlaveIdQuery: "_slave_ids", A.NetworkSizeQuery: "_network_size",
    A.TopologyQuery: "_topology", A.PhaseQuery: "_phases",
    A.SetRelayPath: "_accept", A.SetWorkMode: "_accept",
    A.StartRegistration: "_start_registration", A.StopRegistration: "_stop_registration",
    A.FileSegment: "_file_segment",
}
