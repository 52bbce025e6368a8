"""Interop with the public PyPI ``dlt698`` package (an independent C++ implementation): its
encoder's frames decode here and ours there; its client associates with and reads our served 698
meters (a real ``gridedge meters serve --protocol 698`` process on 127.0.0.1); our codec
associates with and reads its server. Where it cannot do something the test says what it does."""
import json
import socket
import subprocess
import sys
import threading
import time

import pytest

dlt698 = pytest.importorskip("dlt698")
from dlt698 import codec  # noqa: E402
from dlt698 import _native as N  # noqa: E402

from protocols.dlt698 import (OAD, OMD, RSD, ActionNormal, Association, ConnectRequest,  # noqa: E402
                              ConnectResponse, Data, DateTime, Deframer, FactoryVersion, Frame,
                              GetList, GetNormal, GetNormalReply, GetRecord, LinkRequest,
                              LinkResponse, ReleaseRequest, ReleaseResponse, Result, SetNormal,
                              decode_apdu, decode_data, decode_frame, encode_frame, reply_frame,
                              request_frame)
from protocols.dlt698 import data as D  # noqa: E402

ADDR = bytes.fromhex("070919051620")


def their_frame(apdu, control=0x43):
    srv = N.ServerAddress(bytes=ADDR, logical=0, type=N.AddressType.single)
    return codec.encode_frame(codec.Frame(client=0x10, control=control,
                                          payload=codec.encode_apdu(apdu), server=srv))


THEIRS = [
    (N.GetRequest(attributes=[N.Oad(oi=0x4001, attribute=2, index=0)], piid=1), GetNormal),
    (N.GetRequest(attributes=[N.Oad(oi=0x2000, attribute=2, index=0),
                              N.Oad(oi=0x2001, attribute=2, index=0)], list=True, piid=2),
     GetList),
    (N.SetRequest(attributes=[N.SetAttribute(attribute=N.Oad(oi=0x4000, attribute=2, index=0),
                                             value=N.Data.date_time_s([0x07, 0xEA, 3, 1, 8, 0, 0]))],
                  piid=3), SetNormal),
    (N.ActionRequest(methods=[N.ActionMethod(method=N.Omd(oi=0x8000, method=129, mode=0),
                                             parameter=N.Data.uint16(0))], piid=4), ActionNormal),
    (N.ConnectRequest(piid=5), ConnectRequest),
    (N.ReleaseRequest(piid=6), ReleaseRequest),
]


@pytest.mark.parametrize("apdu,cls", THEIRS, ids=[c.__name__ for _, c in THEIRS])
def test_their_frames_decode_here(apdu, cls):
    raw = their_frame(apdu)
    f = decode_frame(raw)
    msg = decode_apdu(f.data)
    assert type(msg) is cls and f.addr == ADDR and f.ca == 0x10
    assert encode_frame(f) == raw and msg.encode() == f.data


OURS = [
    GetNormal(OAD(0x0010, 2, 1), piid=7),
    GetList([OAD(0x2000, 2, 0), OAD(0x2001, 2, 0), OAD(0x200A, 2, 1)], piid=8),
    GetNormalReply(Result(OAD(0x0010, 2, 0), Data(D.ARRAY, [Data(D.DOUBLE_LONG_UNSIGNED, v)
                                                           for v in (123456, 1, 2, 3, 4)]))),
    GetNormalReply(Result(OAD(0x4001, 2, 0), dar=6)),
    GetRecord(OAD(0x5004, 2, 0), RSD(1, [OAD(0x2021, 2, 0), Data(D.DATE_TIME_S,
                                                                 DateTime(2026, 3, 1))]),
              [OAD(0x2021, 2, 0), OAD(0x0010, 2, 0)], piid=9),
    SetNormal(OAD(0x4000, 2, 0), Data(D.DATE_TIME_S, DateTime(2026, 3, 1, 8, 0, 0))),
    ActionNormal(OMD(0x8000, 130), Data(D.ARRAY, [Data(D.STRUCTURE, [
        Data(D.T_OAD, OAD(0xF205, 2, 1)), Data(D.ENUM, 0)])])),
    LinkRequest(1, 300, DateTime(2026, 3, 1, 8, 5, 0, 0, 0)),
    ConnectRequest(Association(receive_max=512, timeout=600), piid=3),
    ConnectResponse(FactoryVersion(), Association(send_max=512), 0, piid=3),
    ReleaseRequest(piid=4),
    ReleaseResponse(0, piid=4),
]


@pytest.mark.parametrize("msg", OURS, ids=[type(m).__name__ for m in OURS])
def test_our_frames_decode_there(msg):
    frame = (reply_frame(msg, ADDR) if msg.tag >= 0x80 or msg.tag == 1
             else request_frame(msg, ADDR))
    raw = encode_frame(frame)
    theirs = codec.decode_frame(raw)
    assert theirs.payload == msg.encode() and theirs.control == frame.ctrl
    assert bytes(theirs.server.bytes) == ADDR
    assert codec.encode_apdu(codec.decode_apdu(theirs.payload)) == msg.encode()




def _now_minute():
    return time.strftime("%Y-%m-%d %H:%M", time.localtime())


class Served:
    """``gridedge meters serve --protocol 698`` as a real process on 127.0.0.1, its meters'
    clock frozen (``--speed 0``) at ``start`` so in-process twins give the same answers."""

    def __init__(self, env, count=3, seed=4):
        from protocols.civil import parse_local
        from meter_sim.population import DEFAULT_EPOCH, build_meters
        self.start = _now_minute()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hil.cli", "meters", "serve", "--protocol", "698", "--count",
             str(count), "--seed", str(seed), "--tcp", "127.0.0.1:0", "--speed", "0",
             "--start", self.start, "--duration", "50"], stdout=subprocess.PIPE, text=True,
            env=env)
        self.info = json.loads(self.proc.stdout.readline())
        self.host, port = self.info["serving"].rsplit(":", 1)
        self.port = int(port)
        self.t = parse_local(self.start)
        self.twins = build_meters(count, seed, DEFAULT_EPOCH, protocol_698_share=1.0)

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


def their_client(addr, **session):
    srv = N.ServerAddress(bytes=addr, logical=0, type=N.AddressType.single)
    session.setdefault("request_timeout", 3.0)
    return dlt698.Client(N.ClientOptions(protocol=N.SessionOptions(server=srv, client_address=0x10,
                                                                   **session),
                                         login_timeout=2.0))


def O(oi, attr=2, index=0):
    return dlt698.Oad(oi=oi, attribute=attr, index=index)


def ours(twin, msg, t):
    from tests.helpers import ask698
    return ask698(twin, msg, t)


def test_their_client_reads_and_controls_our_served_698_meters(env_with_path):
    served = Served(env_with_path)
    twin = served.twins[1]
    day = served.t - served.t % 86400 - 86400                    # yesterday's daily freeze
    from meter_sim.firmware.objects698 import date_time
    at_day = date_time(day).value
    try:
        assert served.info["meters_698"] == 3
        with their_client(twin.addr, request_time_tag=N.Ti(unit=2, interval=24)) as c:
            c.connect_tcp(served.host, served.port, N.ConnectionProfile.local_public)
            for oad in (OAD(0x0010, 2), OAD(0x2000, 2), OAD(0x4000, 2), OAD(0x4001, 2)):
                theirs = c.get(O(oad.oi, oad.attr)).require_data()
                expect = ours(twin, GetNormal(oad), served.t).result.data
                assert decode_data(codec.encode_data(theirs)) == expect, oad
            stamp = [at_day.year >> 8, at_day.year & 0xFF, at_day.month, at_day.day, 0, 0, 0]
            query = N.GetRecord(attribute=O(0x5004), columns=[O(0x2021), O(0x0010)],
                                rows=N.Selector1(attribute=O(0x2021),
                                                 value=N.Data.date_time_s(stamp)))
            rows = c.get_record(query).result
            expect = ours(twin, GetRecord(OAD(0x5004, 2), RSD(1, [OAD(0x2021, 2), Data(
                D.DATE_TIME_S, at_day)]), [OAD(0x2021, 2), OAD(0x0010, 2)]), served.t).record
            assert [[decode_data(codec.encode_data(x)) for x in row] for row in rows] == expect.rows
            assert len(rows) == 1
            last = c.get_record(N.GetRecord(attribute=O(0x5004), columns=[],
                                            rows=N.Selector9(previous=1)))
            assert len(last.columns) == 5 and len(last.result) == 1
            trip = N.Data.array([N.Data.structure([N.Data.oad(O(0xF205, 2, 1)), N.Data.uint8(0),
                                                   N.Data.uint16(0), N.Data.boolean(True)])])
            assert c.action(dlt698.Omd(oi=0x8000, method=129, mode=0), trip).dar == 0
            assert codec.encode_data(c.get(O(0x8000, 3)).require_data()) == b"\x04\x08\x80"
            assert c.set(O(0x4300, 7), N.Data.boolean(True)) == 0     # follow report on:
            assert c.get(O(0x4000)).data is not None                  # it takes FollowReport
        with their_client(twin.addr) as c:                            # no TimeTag configured
            c.connect_tcp(served.host, served.port, N.ConnectionProfile.local_public)
            close = N.Data.array([N.Data.structure([N.Data.oad(O(0xF205, 2, 1)),
                                                    N.Data.enumeration(1)])])
            assert c.action(dlt698.Omd(oi=0x8000, method=130, mode=0), close).dar == 32
    finally:
        served.close()


def test_their_client_waits_for_a_link_login_our_rs485_meters_never_send(env_with_path):
    """remote_public (their connect_tcp default) expects the meter to log in with LINK first;
    a meter on RS-485 (and our served line) only answers, so their client gives up."""
    served = Served(env_with_path, count=1)
    try:
        with their_client(served.twins[0].addr) as c:
            with pytest.raises(dlt698.Dlt698Error):
                c.connect_tcp(served.host, served.port)
    finally:
        served.close()


def test_get_blocks_their_client_numbers_from_zero_ours_from_one():
    """A day of the load curve is longer than the negotiated 1024-byte APDU, so the meter sends
    GET-Response-Next blocks. CHINT's firmware numbers them from 1 (ours too); the dlt698 client
    accepts only blocks counted from 0, never asks for block 2 and times out. With the meter's
    first block set to 0 the same client reads all 96 rows."""
    from meter_sim.population import DEFAULT_EPOCH, build_meters
    from meter_sim.serve.bus import MeterBus
    from meter_sim.serve.stream import BusClock, Session, TcpServer
    meters = build_meters(1, seed=2, t0=DEFAULT_EPOCH, protocol_698_share=1.0)
    clock = BusClock(DEFAULT_EPOCH + 10 * 86400, 0.0)
    lock = threading.Lock()
    server = TcpServer(("127.0.0.1", 0), lambda: Session(MeterBus(meters), clock, lock)).start()
    curve = N.GetRecord(attribute=O(0x5002), columns=[], rows=N.Selector2(
        attribute=O(0x2021), begin=N.Data.date_time_s([0x07, 0xEA, 1, 5, 0, 0, 0]),
        end=N.Data.date_time_s([0x07, 0xEA, 1, 6, 0, 0, 0]), interval=N.Data.null()))
    try:
        with their_client(meters[0].addr, request_timeout=2.0) as c:
            c.connect_tcp("127.0.0.1", server.port, N.ConnectionProfile.local_public)
            with pytest.raises(dlt698.Dlt698Error):
                c.get_record(curve)
        meters[0].front_end.first_block = 0
        with their_client(meters[0].addr) as c:
            c.connect_tcp("127.0.0.1", server.port, N.ConnectionProfile.local_public)
            assert len(c.get_record(curve).result) == 96
    finally:
        server.close()


def _read_frames(s, d, want):
    got = []
    for _ in range(20):
        chunk = s.recv(4096)
        if not chunk:
            break
        d.feed(chunk)
        got += [i for i in d if isinstance(i, Frame)]
        if len(got) >= want:
            break
    return got


def _their_server(profile, **session):
    device = N.Device(N.DeviceOptions(layout=N.DeviceLayout(wiring=N.Wiring.single_phase,
                                                            tariff_count=4)))
    device.set(O(0x0010), N.Data.array([N.Data.uint32(v) for v in (123456, 1, 2, 3, 4)]))
    device.set(O(0x2000), N.Data.array([N.Data.uint16(2205)]))
    device.set(O(0x200F), N.Data.uint16(5000))
    srv = N.ServerAddress(bytes=ADDR, logical=0, type=N.AddressType.single)
    server = dlt698.Server(device, N.ServerOptions(protocol=N.SessionOptions(
        server=srv, client_address=0x10, **session)))
    server.start_tcp("127.0.0.1", 0, profile)
    return server


def test_our_codec_associates_with_and_reads_their_server():
    """local_public: CONNECT, GET, GET-List, RELEASE answered as set. Their app-level Server
    publishes plain attributes only: a GET-Record is DAR 4 (object undefined) and a SET of a
    published attribute DAR 3 (its Device.set is local configuration, not the protocol's SET)."""
    with _their_server(N.ConnectionProfile.local_public) as server:
        with socket.create_connection(("127.0.0.1", server.local_port), timeout=5) as s:
            d = Deframer()

            def ask(msg):
                s.sendall(encode_frame(request_frame(msg, ADDR)))
                return decode_apdu(_read_frames(s, d, 1)[0].data)
            connected = ask(ConnectRequest(Association(timeout=60), piid=1))
            assert isinstance(connected, ConnectResponse) and connected.result == 0
            assert connected.association.apdu_max == 1024 and connected.piid == 1
            energy = ask(GetNormal(OAD(0x0010, 2), piid=2)).result.data
            assert [x.value for x in energy.value] == [123456, 1, 2, 3, 4]
            answers = ask(GetList([OAD(0x2000, 2), OAD(0x200F, 2), OAD(0x2001, 2)], piid=3))
            assert [r.dar for r in answers.results] == [None, None, 4]
            assert answers.results[1].data == Data(D.LONG_UNSIGNED, 5000)
            record = ask(GetRecord(OAD(0x5004, 2), RSD(9, [1]), [], piid=4)).record
            assert record.dar == 4
            assert ask(SetNormal(OAD(0x200F, 2), Data(D.LONG_UNSIGNED, 4990), piid=5)).dar == 3
            released = ask(ReleaseRequest(piid=6))
            assert isinstance(released, ReleaseResponse) and released.result == 0


def test_their_server_logs_in_and_we_associate_then_read():
    """remote_public: their server logs in (LINK-Request), takes our LINK-Response, our CONNECT,
    then answers our GET (the first wave stopped at an ERROR-Response before CONNECT)."""
    with _their_server(N.ConnectionProfile.remote_public, preset_association=False) as server:
        with socket.create_connection(("127.0.0.1", server.local_port), timeout=5) as s:
            d = Deframer()
            login = _read_frames(s, d, 1)[0]
            link = decode_apdu(login.data)
            assert isinstance(link, LinkRequest) and link.kind == 0 and login.from_server
            answer = LinkResponse(0, True, link.time, link.time, link.time, piid=link.piid)
            s.sendall(encode_frame(request_frame(answer, login.addr, login.ca)))
            s.sendall(encode_frame(request_frame(ConnectRequest(Association(), piid=2),
                                                 login.addr, login.ca)))
            connected = [f for f in _read_frames(s, d, 1) if not isinstance(
                decode_apdu(f.data), LinkRequest)]
            while not connected:
                connected = [f for f in _read_frames(s, d, 1)
                             if not isinstance(decode_apdu(f.data), LinkRequest)]
            assert decode_apdu(connected[0].data).result == 0
            s.sendall(encode_frame(request_frame(GetNormal(OAD(0x200F, 2), piid=5),
                                                 login.addr, login.ca)))
            got = [f for f in _read_frames(s, d, 1) if isinstance(decode_apdu(f.data),
                                                                  GetNormalReply)]
    assert got and decode_apdu(got[0].data).result.data == Data(D.LONG_UNSIGNED, 5000)
