import pytest
import serial

from meter_sim.faults import Fault
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from plc_channel.baseline import ModuleMaster, is_freeze_reply, DI_DAILY_FREEZE_1
from plc_channel.module_1376_2 import CarrierModule
from plc_channel.phy import HPLC
from plc_channel.realtime import ModulePortServer
from plc_channel.uart import UartLink
from protocols.dlt645 import Read, encode_frame as encode_645
from protocols.gdw1376_2 import Deframer, Frame, encode_frame
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.frame import COMM_HPLC
from tests.plc_channel.helpers import START, line_area, run

import simpy


def rig(area, **kw):
    link = UartLink(area.env)
    module = CarrierModule(area.env, area.network, link.b.send, **kw)
    link.b.on_bytes = module.on_bytes
    return module, ModuleMaster(area.env, link.a, COMM_HPLC)


def ask(area, master, unit, dst=None):
    return run(area.env, master.request(unit, dst=dst))


def freeze_read(addr):
    return encode_645(Read(DI_DAILY_FREEZE_1).to_frame(addr), preamble=4)


@pytest.fixture
def area():
    return line_area([30, 60, 90, 140])


def test_module_information_and_master_address(area):
    module, master = rig(area)
    info = ask(area, master, A.ModuleInfoQuery())
    assert isinstance(info, A.ModuleInfo) and info.vendor == "GE"
    assert ask(area, master, A.MasterAddressQuery()).addr == module.addr
    assert isinstance(ask(area, master, A.SetMasterAddress(b"\x99" * 6)), A.Confirm)
    assert ask(area, master, A.MasterAddressQuery()).addr == b"\x99" * 6


def test_slave_nodes_add_query_delete(area):
    module, master = rig(area)
    addrs = [m.addr for m in area.meters]
    assert isinstance(ask(area, master, A.AddSlaves([(a, 2) for a in addrs])), A.Confirm)
    assert ask(area, master, A.AddSlaves([(addrs[0], 2)])).code == A.DENY_DUPLICATE_METER
    count = ask(area, master, A.SlaveCountQuery())
    assert (count.count, count.capacity) == (4, module.capacity)
    page = ask(area, master, A.SlaveInfoQuery(2, 2))
    assert page.total == 4 and [n.addr for n in page.nodes] == addrs[1:3]
    assert [n.level for n in page.nodes] == [area.network.depth(a) for a in addrs[1:3]]
    assert isinstance(ask(area, master, A.DeleteSlaves([addrs[0]])), A.Confirm)
    assert ask(area, master, A.DeleteSlaves([addrs[0]])).code == A.DENY_NO_SUCH_METER
    assert ask(area, master, A.SlaveCountQuery()).count == 3


def test_monitor_slave_node_forwards_and_returns_the_meter_reply(area):
    module, master = rig(area)
    far = area.meters[3]
    ask(area, master, A.RoutePause())
    ask(area, master, A.AddSlaves([(m.addr, 2) for m in area.meters]))
    reply = ask(area, master, A.MonitorRequest(2, freeze_read(far.addr)), dst=far.addr)
    assert isinstance(reply, A.MonitorReply) and is_freeze_reply(reply.body, far.addr)
    fwd = ask(area, master, A.Forward(2, freeze_read(far.addr)))
    assert isinstance(fwd, A.ForwardReply) and is_freeze_reply(fwd.body, far.addr)
    # a meter not registered is refused, a dead one is reported silent
    assert ask(area, master, A.MonitorRequest(2, freeze_read(b"\x77" * 6))).code == A.DENY_NO_SUCH_METER
    far.faults.append(Fault("dead", area.env.now))
    assert ask(area, master, A.MonitorRequest(2, freeze_read(far.addr)), dst=far.addr).code == \
        A.DENY_SLAVE_SILENT


def test_concurrent_reads_are_bounded_and_all_answered():
    slow_hplc = HPLC.copy(access_s=0.5)        # reads outlast the UART time of five requests
    area = line_area([20, 30, 40, 50, 60, 70, 80], phy=slow_hplc)
    module, master = rig(area, concurrency=3)
    env = area.env
    ask(area, master, A.AddSlaves([(m.addr, 2) for m in area.meters]))
    procs = [env.process(master.request(A.ConcurrentRequest(2, freeze_read(m.addr)), dst=m.addr))
             for m in area.meters[:5]]
    env.run(until=env.all_of(procs))
    got = [p.value for p in procs]
    replies = [u for u in got if isinstance(u, A.ConcurrentReply)]
    denied = [u for u in got if isinstance(u, A.Deny)]
    assert len(replies) == 3 and len(denied) == 2
    assert all(d.code == A.DENY_OVER_CONCURRENCY for d in denied)     # 10376.2-2019 table 10
    assert {m.addr for m in area.meters[:3]} == {
        next(mm.addr for mm in area.meters if is_freeze_reply(r.body, mm.addr)) for r in replies}


def test_line_garbage_is_skipped_and_the_next_frame_answered(area):
    module, master = rig(area)
    master.end.send(b"\x00\x68\x11\x16garbage")
    assert ask(area, master, A.ModuleInfoQuery()).vendor == "GE"
    assert module.stats["garbage_bytes"] == 11 and module.stats["frames"] == 1


def test_unknown_information_class_is_denied_with_reason(area):
    module, master = rig(area)
    got = []
    master.end.on_bytes = lambda data: got.append(data)
    master.end.send(encode_frame(Frame(0x15, 3, b"\x01", down=True)))
    area.env.run(until=area.env.now + 1)
    d = Deframer()
    d.feed(b"".join(got))
    unit = A.unit_of(d.next())
    assert isinstance(unit, A.Deny) and unit.code == A.DENY_NO_SUCH_CLASS


def test_router_driven_reading_reports_data_and_route_status(area):
    module, master = rig(area)
    env = area.env
    answers = []

    def on_report(unit, seq):
        if isinstance(unit, A.RouterRequest):
            # the router asks again after each 06F2 until the node is ended (A.6.2 c)
            done = unit.addr in answers
            answers.append(unit.addr)
            master._send(A.RouterRequestAnswer(A.READ_DONE) if done else
                         A.RouterRequestAnswer(A.READ_GO, freeze_read(unit.addr)), seq)

    def hook(data):
        master.deframer.feed(data, env.now)
        for f in master.deframer:
            if isinstance(f, Frame):
                u = A.unit_of(f)
                master.reports.append((env.now, u))
                on_report(u, f.seq)

    master.end.on_bytes = hook
    master._send(A.AddSlaves([(m.addr, 2) for m in area.meters]), 1)
    master._send(A.RouteResume(), 2)
    env.run(until=env.now + 600)
    kinds = [type(u) for _, u in master.reports]
    data = [u for _, u in master.reports if isinstance(u, A.ReportReadData)]
    assert answers == [m.addr for m in area.meters for _ in (1, 2)]
    assert [u.index for u in data] == [1, 2, 3, 4]
    assert all(is_freeze_reply(u.body, m.addr) for u, m in zip(data, area.meters))
    assert kinds[-1] is A.ReportRouteChange


def test_meter_power_down_is_reported_as_an_event_after_power_returns(area):
    module, master = rig(area, event_scan_s=300)
    env = area.env
    m = area.meters[1]
    ask(area, master, A.AddSlaves([(x.addr, 2) for x in area.meters]))
    m.faults.append(Fault("outage", env.now + 100, env.now + 1000))
    m._actions = m._schedule()
    env.run(until=env.now + 1300)
    events = [u for _, u in master.reports if isinstance(u, A.ReportEvent)]
    assert len(events) == 1
    from protocols.dlt645 import decode_frame, parse_reply
    reply = parse_reply(decode_frame(events[0].body))
    assert reply.value()[0] == "power_down_last_1"


def test_module_served_on_a_real_pty_reads_a_meter():
    server = ModulePortServer(lambda env_at: build_area(env_at(START), 30, "hplc", 1, DEFAULT_EPOCH),
                              COMM_HPLC).start()
    try:
        port = serial.Serial(server.path, 9600, parity="E", timeout=0.2)
        deframer = Deframer()

        def exchange(unit, seq, dst=None, wait=15.0):
            port.write(encode_frame(A.to_frame(unit, seq=seq, src=b"\0" * 6 if dst else None,
                                               dst=dst)))
            import time
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                deframer.feed(port.read(256))
                for f in deframer:
                    if isinstance(f, Frame) and f.seq == seq:
                        return A.unit_of(f)
            return None

        assert exchange(A.ModuleInfoQuery(), 1).vendor == "GE"
        meter = next(m for m in server.area.meters if server.area.network.depth(m.addr) == 2)
        assert isinstance(exchange(A.AddSlaves([(meter.addr, 2)]), 2), A.Confirm)
        reply = exchange(A.MonitorRequest(2, freeze_read(meter.addr)), 3, dst=meter.addr)
        assert isinstance(reply, A.MonitorReply) and is_freeze_reply(reply.body, meter.addr)
        port.close()
    finally:
        server.close()
