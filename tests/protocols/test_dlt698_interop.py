"""Interop with the public PyPI ``dlt698`` package (an independent C++ implementation): its
encoder's frames decode here, ours decode there, and its TCP client and server talk to ours on
127.0.0.1 (the gridedge side is a small fixture over the codec until the meter speaks 698)."""
import socket
import threading

import pytest

dlt698 = pytest.importorskip("dlt698")
from dlt698 import codec  # noqa: E402
from dlt698 import _native as N  # noqa: E402

from protocols.dlt698 import (OAD, OMD, ActionNormal, ErrorResponse, Data, DateTime, Deframer, Frame,  # noqa: E402
                              GetList, GetNormal, GetNormalReply, GetRecord, LinkRequest,
                              LinkResponse, Result,
                              RSD, SetNormal, Unparsed, decode_apdu, decode_frame, encode_frame,
                              reply_frame, request_frame)
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


class FixtureMeter:
    """A one-connection 698 server on 127.0.0.1 over our codec: answers GET-Normal from
    ``values`` (DAR 6 otherwise); stops after ``limit`` frames or the socket timeout."""

    def __init__(self, values, limit=20):
        self.values, self.limit, self.seen, self.linked = values, limit, [], False
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(5)
        d = Deframer()
        with conn:
            # a meter on TCP logs in first (LINK-Request login, heartbeat 60 s)
            login = LinkRequest(0, 60, DateTime(2026, 3, 1, 8, 0, 0, 0, 0))
            conn.sendall(encode_frame(reply_frame(login, ADDR, ca=0)))
            while len(self.seen) < self.limit:
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                d.feed(chunk)
                for item in d:
                    if isinstance(item, Frame):
                        self.seen.append(item)
                        reply = self._answer(item)
                        if reply is not None:
                            conn.sendall(encode_frame(reply))

    def _answer(self, frame):
        msg = decode_apdu(frame.data)
        if isinstance(msg, LinkResponse):
            self.linked = msg.result == 0
        if isinstance(msg, GetNormal):
            data = self.values.get(msg.oad.text())
            result = Result(msg.oad, data) if data is not None else Result(msg.oad, dar=6)
            return reply_frame(GetNormalReply(result, piid=msg.piid), frame.addr, frame.ca)
        return None

    def close(self):
        self.sock.close()
        self.thread.join(10)


def test_their_client_logs_in_to_our_served_meter():
    """Our meter's LINK login is answered by their client with a LINK-Response we decode; their
    client then opens an application association (CONNECT), which this codec carries but does
    not serve yet, so their client times out after it (bounded: 2 s)."""
    meter = FixtureMeter({"200F0200": Data(D.LONG_UNSIGNED, 5000)}, limit=2)
    srv = N.ServerAddress(bytes=ADDR, logical=0, type=N.AddressType.single)
    options = N.ClientOptions(protocol=N.SessionOptions(server=srv, request_timeout=2.0),
                              login_timeout=2.0)
    try:
        with dlt698.Client(options) as client:
            with pytest.raises(dlt698.Dlt698Error):
                client.connect_tcp("127.0.0.1", meter.port)
    finally:
        meter.close()
    assert meter.linked
    assert [f.ctrl for f in meter.seen] == [0x01, 0x43]           # LINK-Response, then CONNECT
    assert isinstance(decode_apdu(meter.seen[1].data), Unparsed)


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


def test_our_client_talks_to_their_server():
    """Their server logs in (LINK-Request we decode), takes our LINK-Response, and answers our
    GET; without an application association (CONNECT, not in this codec yet) it answers with an
    ERROR-Response 'service unsupported', which we decode as such."""
    options = N.ServerOptions(protocol=N.SessionOptions(preset_association=True))
    with dlt698.Server(options=options) as server:
        server.set(dlt698.Oad(oi=0x200F, attribute=2), dlt698.Data.uint16(5000))
        server.start_tcp("127.0.0.1", 0)
        with socket.create_connection(("127.0.0.1", server.local_port), timeout=5) as s:
            d = Deframer()
            login = _read_frames(s, d, 1)[0]
            link = decode_apdu(login.data)
            assert isinstance(link, LinkRequest) and link.kind == 0 and login.from_server
            answer = LinkResponse(0, True, link.time, link.time, link.time, piid=link.piid)
            s.sendall(encode_frame(request_frame(answer, login.addr, login.ca)))
            get = request_frame(GetNormal(OAD(0x200F, 2, 0), piid=5), login.addr, login.ca)
            s.sendall(encode_frame(get))
            got = _read_frames(s, d, 1)
    reply = decode_apdu(got[0].data)
    assert isinstance(reply, ErrorResponse) and reply.kind == 2
    assert reply.piid & 0x3F == 5 and got[0].from_server and got[0].prm
