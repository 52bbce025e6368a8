"""A vendor-style concentrator, written from public facts only, to drive a 1376.2 module.

Every sequence follows Q/GDW 10376.2-2019 appendix A (the standard's text is public in
liuning587/QGDW1376_2, doc/): A.2 identification (wait for the module's 03F10, else ask; set
the master address), A.3 archive sync (10F1, 10F2, 01F2/11F2, 11F1), A.6.2 router-driven
reading (12F1; answer 14F1; confirm 06F2; 06F3 ends it), A.4/A.6.1 concentrator-driven reading
(12F2, 13F1) and the 2019 concurrent reading (F1F1, section 6.5.15), A.5 registration (12F2,
11F5, confirm 06F4, 06F3 kind 2, 11F6), the 2019 topology and phase queries (10F21, 10F31, each
series starting at node 1, tables 64/65) and an upgrade by AFN15 F1 (table 119: segments of at
most the 03F10 segment size, the module restarts after its upgrade wait and reports 03F10).
The script is a generator yielding requests to a driver (virtual time or a real pty); every
answer is checked against the layout the standard gives (the unit type, and its fields).
"""
from protocols.dlt645 import Read, decode_frame as decode_645, encode_frame as encode_645
from protocols.dlt645 import parse_reply
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.editions import EDITION_2013

DI_FREEZE = 0x05060101          # last daily freeze, forward active energy (DL/T 645-2007)
CONCENTRATOR = bytes.fromhex("112233445566")
BOOT_WAIT_S = 60.0              # A.2 b): wait a minute for the module's own 03F10
ANSWER_S = 6.0                  # A.1: the module answers a direct command within 6 s
READ_S = 90.0                   # A.4 c): default wait for a 13F1 answer
BATCH = 10


class Send:
    """Send ``unit`` (to slave ``dst``) and resume with the answer unit (None on timeout)."""

    def __init__(self, unit, dst=None, timeout=ANSWER_S):
        self.unit = unit
        self.dst = dst
        self.timeout = timeout


class Report:
    """Wait up to ``timeout`` for a module report of class ``kind``; resume with it or None."""

    def __init__(self, kind, timeout):
        self.kind = kind
        self.timeout = timeout


def freeze_read(addr):
    return encode_645(Read(DI_FREEZE).to_frame(addr), preamble=4)


def freeze_of(body, addr):
    """The decoded freeze reply carried in ``body`` from meter ``addr`` (raises otherwise)."""
    frame = decode_645(body[body.index(b"\x68"):])
    assert frame.addr == addr
    reply = parse_reply(frame)
    assert reply.di == DI_FREEZE
    return reply


class Concentrator:
    """The concentrator's state and the answers it gives to the router's 14F1 (A.6.2 c)."""

    def __init__(self, edition, archive):
        self.edition = edition
        self.archive = list(archive)        # wire addresses this concentrator reads
        self.asked = {}                     # address -> 14F1 requests seen
        self.data = {}                      # address -> 06F2 bodies
        self.checks = []                    # (step, what) done, for the test's report

    def router_answer(self, unit):
        """14F1: read the freeze once, then tell the router this node is done."""
        n = self.asked[unit.addr] = self.asked.get(unit.addr, 0) + 1
        if unit.addr not in self.archive:
            return A.RouterRequestAnswer(A.READ_FAIL)
        if n == 1:
            return A.RouterRequestAnswer(A.READ_GO, freeze_read(unit.addr))
        return A.RouterRequestAnswer(A.READ_DONE)

    def on_report(self, unit):
        if isinstance(unit, A.ReportReadData):
            self.data.setdefault(self.archive[unit.index - 1], []).append(unit.body)

    def ok(self, step, what):
        self.checks.append((step, what))


def boot(c):
    """A.2 + A.3: identify the module, set our address, download the archive."""
    mode = yield Report(A.RunMode, BOOT_WAIT_S)
    if mode is None:
        mode = yield Send(A.RunModeQuery())
    assert isinstance(mode, A.RunMode) and len(mode.addr) == 6 and mode.max_slaves > 0
    assert mode.concentrator_may_read and mode.monitor_timeout_s > 0
    c.mode = mode
    c.ok("boot", "03F10 run mode, monitor timeout %d s" % mode.monitor_timeout_s)
    confirm = yield Send(A.ParameterInit())
    assert isinstance(confirm, A.Confirm) and confirm.done and not confirm.legacy
    if mode.addr != CONCENTRATOR:
        assert isinstance((yield Send(A.SetMasterAddress(CONCENTRATOR))), A.Confirm)
    assert (yield Send(A.MasterAddressQuery())).addr == CONCENTRATOR
    for k in range(0, len(c.archive), BATCH):
        nodes = [(a, A.PROTO_645_2007) for a in c.archive[k:k + BATCH]]
        assert isinstance((yield Send(A.AddSlaves(nodes))), A.Confirm)
    count = yield Send(A.SlaveCountQuery())
    assert count.count == len(c.archive) and count.capacity >= count.count
    page = yield Send(A.SlaveInfoQuery(1, len(c.archive)))
    assert [n.addr for n in page.nodes] == c.archive
    c.ok("boot", "01F2, 05F1, 11F1 x %d, 10F1/10F2 agree" % len(c.archive))


def night(c, timeout):
    """A.6.2: the router drives; we answer its 14F1 and confirm its 06F2 until 06F3."""
    assert isinstance((yield Send(A.RouteRestart())), A.Confirm)
    done = yield Report(A.ReportRouteChange, timeout)
    assert done is not None and done.kind == A.ROUTE_READ_DONE
    for addr in c.archive:
        assert c.asked[addr] == 2, "the router asks again after 06F2 until we end the node"
        (body,) = c.data[addr]
        freeze_of(body, addr)
    c.ok("night", "14F1 x %d answered, %d freezes by 06F2, 06F3" % (
        sum(c.asked.values()), len(c.data)))


def daytime(c, addrs):
    """A.6.1 / A.4: pause the router, read by 13F1; F1F1 on a 2019 module."""
    assert isinstance((yield Send(A.RoutePause())), A.Confirm)
    for addr in addrs[:2]:
        reply = yield Send(A.MonitorRequest(A.PROTO_645_2007, freeze_read(addr)), addr, READ_S)
        assert isinstance(reply, A.MonitorReply) and reply.protocol == A.PROTO_645_2007
        freeze_of(reply.body, addr)
    answer = yield Send(A.ConcurrentRequest(A.PROTO_645_2007, freeze_read(addrs[2])), addrs[2],
                        READ_S)
    if c.edition == EDITION_2013:
        assert isinstance(answer, A.Deny) and answer.code == A.DENY_NO_SUCH_CLASS
    else:
        assert isinstance(answer, A.ConcurrentReply)
        freeze_of(answer.body, addrs[2])
    c.ok("daytime", "13F1 x 2, F1F1 %s" % type(answer).__name__)


def registration(c, missing, timeout):
    """A.5: search for meters; what the module reports must be the ones we lack."""
    assert isinstance((yield Send(A.RoutePause())), A.Confirm)
    start = yield Send(A.StartRegistration(b"\x00\x00\x02\x02\x01\x26", 10, 3, 10))
    assert isinstance(start, A.Confirm)
    found = []
    while True:
        report = yield Report((A.ReportDevices, A.ReportRouteChange), timeout)
        assert report is not None, "the module ends a search with 06F3"
        if isinstance(report, A.ReportRouteChange):
            assert report.kind == A.ROUTE_SEARCH_DONE
            break
        found += [d.addr for d in report.devices if d.kind == A.DEVICE_METER]
    assert sorted(found) == sorted(missing)
    listed = yield Send(A.RegisteredQuery(1, 32))
    assert sorted(n.addr for n in listed.nodes) == sorted(missing)
    assert isinstance((yield Send(A.StopRegistration())), A.Confirm)
    c.ok("registration", "11F5, 06F4 found %d, 06F3 kind 2, 10F6, 11F6" % len(found))


def area(c, phase_of):
    """10F21 / 10F31 from node 1 (2019); a 2013 module has no such class."""
    topo = yield Send(A.TopologyQuery(1, 16))
    phases = yield Send(A.PhaseQuery(1, 16))
    if c.edition == EDITION_2013:
        assert isinstance(topo, A.Deny) and topo.code == A.DENY_NO_SUCH_CLASS
        assert isinstance(phases, A.Deny) and phases.code == A.DENY_NO_SUCH_CLASS
        c.ok("area", "10F21/10F31 denied: no such class in 2013")
        return
    assert topo.start == 1 and topo.nodes[0].role == A.ROLE_CCO and topo.nodes[0].tei == 1
    assert topo.total == len(c.archive) + 1
    teis = {n.tei for n in topo.nodes}
    for n in topo.nodes[1:]:
        assert n.role in (A.ROLE_STA, A.ROLE_PCO) and n.proxy in teis and n.level >= 1
    assert phases.nodes[0].addr == CONCENTRATOR and phases.nodes[0].phases == 0
    for n in phases.nodes[1:]:
        assert n.phases == A.phase_mask(phase_of(n.addr))
    c.ok("area", "10F21 %d nodes, 10F31 %d nodes" % (len(topo.nodes), len(phases.nodes)))


def upgrade(c, image_file, version):
    """AFN15 F1: segments in order, each acknowledged with its index; then the restart."""
    size = c.mode.max_segment
    parts = [image_file[i:i + size] for i in range(0, len(image_file), size)]
    for i, part in enumerate(parts):
        ack = yield Send(A.FileSegment(A.FILE_MODULE, i == len(parts) - 1, len(parts), i, part))
        assert isinstance(ack, A.FileSegmentAck) and ack.index == i
    mode = yield Report(A.RunMode, c.mode.upgrade_wait_s + BOOT_WAIT_S)
    assert mode is not None and mode.info.version == version
    info = yield Send(A.ModuleInfoQuery())
    assert info.version == version
    c.ok("upgrade", "15F1 x %d, 03F10 and 03F1 report version %d" % (len(parts), version))


def script(c, missing, phase_of, image_file, version, night_s):
    """The whole day of a concentrator against one module."""
    yield from boot(c)
    yield from night(c, night_s)
    yield from daytime(c, c.archive)
    yield from registration(c, missing, 60.0)
    yield from area(c, phase_of)
    yield from upgrade(c, image_file, version)
