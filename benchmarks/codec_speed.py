"""Codec round trips per second: gridedge vs the public ``dlt645`` and ``dlt698`` packages.

Same work in the same run. 645: build a read-reply frame for 00010000 with a 4-byte value,
encode it to wire bytes, decode it back and take the value out. 698: build a GET-Response-Normal
frame for 0010 0201 with a double-long-unsigned, encode it, decode frame and APDU, take the value.
Last line: one JSON object (KPIS.md).
Run: .venv/bin/python benchmarks/codec_speed.py [--seconds S]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from protocols.dlt645 import ReadReply, decode_frame, encode_frame, parse_reply, values  # noqa: E402

ADDR = bytes([0x01, 0, 0, 0, 0, 0])


def ours(n):
    for i in range(n):
        reply = ReadReply(0x00010000, values.encode("XXXXXX.XX", (i % 99999) / 100.0))
        raw = encode_frame(reply.to_frame(ADDR), preamble=4)
        back = parse_reply(decode_frame(raw))
        back.value()


def theirs(n):
    from dlt645 import DLT645Protocol
    from dlt645.common.transform import bcd_to_float, float_to_bcd
    for i in range(n):
        data = bytes([0x00, 0x00, 0x01, 0x00]) + bytes(float_to_bcd((i % 99999) / 100.0, "XXXXXX.XX", "little"))
        raw = DLT645Protocol.build_frame(ADDR, 0x91, data, preamble_count=4)
        frame = DLT645Protocol.deserialize(bytes(raw))
        bcd_to_float(frame.data[4:8], "XXXXXX.XX", "little")


ADDR698 = bytes.fromhex("070919051620")


def ours_698(n):
    from protocols.dlt698 import (OAD, Data, GetNormalReply, Result, decode_apdu, decode_frame,
                                  encode_frame, reply_frame)
    oad = OAD(0x0010, 2, 1)
    for i in range(n):
        msg = GetNormalReply(Result(oad, Data(6, i)))
        raw = encode_frame(reply_frame(msg, ADDR698))
        decode_apdu(decode_frame(raw).data).result.data.value


def theirs_698(n):
    from dlt698 import codec
    from dlt698 import _native as N
    srv = N.ServerAddress(bytes=ADDR698, logical=0, type=N.AddressType.single)
    oad = N.Oad(oi=0x0010, attribute=2, index=1)
    for i in range(n):
        msg = N.GetResponse(attributes=[N.AttributeResult(attribute=oad, result=N.Data.uint32(i))])
        raw = codec.encode_frame(codec.Frame(client=0x10, control=0xC3,
                                             payload=codec.encode_apdu(msg), server=srv))
        codec.decode_apdu(codec.decode_frame(raw).payload).attributes[0].result.as_uint32()


def rate(fn, seconds):
    fn(200)                                   # warm up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(1000)
        n += 1000
    return n / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    import logging
    logging.disable(logging.CRITICAL)
    g = rate(ours, args.seconds)
    d = rate(theirs, args.seconds)
    g698 = rate(ours_698, args.seconds)
    d698 = rate(theirs_698, args.seconds)
    print("645: gridedge %.0f round trips/s, dlt645 %.0f round trips/s" % (g, d))
    print("698: gridedge %.0f round trips/s, dlt698 %.0f round trips/s" % (g698, d698))
    print(json.dumps({"gridedge_roundtrips_per_s": round(g), "dlt645_roundtrips_per_s": round(d),
                      "ratio": round(g / d, 2), "gridedge_698_roundtrips_per_s": round(g698),
                      "dlt698_roundtrips_per_s": round(d698), "ratio_698": round(g698 / d698, 3)}))


if __name__ == "__main__":
    main()
