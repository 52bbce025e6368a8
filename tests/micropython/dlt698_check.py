"""Runs unchanged on CPython and MicroPython: 698.45 frames and APDUs through the codec.

tests/micropython/test_micropython.py runs it in both interpreters and compares the transcripts.
The first frame is the standard's appendix D.1 GET (600888/dlt698 get-frame.hex).
"""
from protocols.errors import hexstr
from protocols.dlt698 import (OAD, OMD, ActionNormal, Data, DateTime, DecodeError, Deframer,
                              GetNormalReply, GetRecord, LinkRequest, Result, RSD, TestKeyBackend,
                              address, decode_apdu, decode_frame, encode_frame, frames_for,
                              reply_frame, request_frame)
from protocols.dlt698 import data as D
from protocols.dlt698 import segment as S
from protocols.dlt698.deframer import NEED_DATA

GOLDEN = bytes([0x68, 0x17, 0x00, 0x43, 0x05, 0x07, 0x09, 0x19, 0x05, 0x16, 0x20, 0x00, 0x15,
                0x60, 0x05, 0x01, 0x01, 0x40, 0x01, 0x02, 0x00, 0x00, 0xC6, 0x07, 0x16])


def transcript():
    lines = []
    f = decode_frame(GOLDEN)
    lines.append("golden: %r %r" % (f, decode_apdu(f.data)))
    lines.append("re-encoded equal: %r" % (encode_frame(f) == GOLDEN))
    addr = address("000000000042")
    msgs = [
        GetNormalReply(Result(OAD(0x0010, 2, 0), Data(D.ARRAY, [Data(D.DOUBLE_LONG_UNSIGNED, 123456),
                                                                 Data(D.DOUBLE_LONG_UNSIGNED, -0 + 7)]))),
        GetRecord(OAD(0x5004, 2, 0), RSD(1, [OAD(0x2021, 2, 0),
                                             Data(D.DATE_TIME_S, DateTime(2026, 3, 1))]),
                  [OAD(0x2021, 2, 0), OAD(0x0010, 2, 0)], piid=3),
        ActionNormal(OMD(0x8000, 129), Data(D.ARRAY, [Data(D.STRUCTURE, [
            Data(D.T_OAD, OAD(0xF205, 2, 1)), Data(D.UNSIGNED, 0), Data(D.LONG_UNSIGNED, 0),
            Data(D.BOOL, True)])])),
        LinkRequest(1, 300, DateTime(2026, 3, 1, 8, 5, 0, 0, 0)),
    ]
    for m in msgs:
        raw = encode_frame(request_frame(m, addr), preamble=4)
        back = decode_apdu(decode_frame(raw).data)
        lines.append("%s -> %s" % (hexstr(raw), back == m))
    reply = encode_frame(reply_frame(msgs[0], addr))
    d = Deframer()
    d.feed(b"\x00\x16\x68" + reply[:9])
    d.feed(reply[9:] + GOLDEN[:3])
    while True:
        item = d.next()
        if item is NEED_DATA:
            break
        lines.append("deframer: %r" % (item,))
    big = bytes(range(200)) * 2
    parts = frames_for(request_frame(big, addr), 150)
    r = S.Reassembler()
    for p in parts:
        confirm, out = r.accept(S.Fragment.decode(decode_frame(encode_frame(p)).data))
        lines.append("fragment %r confirm %r" % (S.Fragment.decode(p.data), confirm))
    lines.append("reassembled: %r" % (out == big))
    backend = TestKeyBackend(b"test-key-0123456")
    req = backend.protect(msgs[2].encode(), True, b"\x01" * 16)
    inner, dar = backend.open_request(decode_apdu(req.encode()))
    lines.append("cipher round trip: %r %r" % (inner == msgs[2].encode(), dar))
    for bad in (GOLDEN[:-2] + b"\x00\x16", b"\x85\x01\x00", b"\x05\x01\x00\x40"):
        try:
            decode_frame(bad) if bad[0] == 0x68 else decode_apdu(bad)
        except DecodeError as exc:
            lines.append("error: %s" % exc)
    return lines


def main():
    for line in transcript():
        print(line)
    print("TRANSCRIPT END")


main()
