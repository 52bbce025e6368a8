"""Runs unchanged on CPython and MicroPython: a 698 meter driven through the codec, a transcript.

tests/micropython/test_micropython.py runs it in both interpreters and compares the transcripts:
association, GET and GET-List, a daily-freeze and a curve record (fragmented), a relay ACTION with
its TimeTag, a SET, SECURITY with test keys (good and bad MAC), the follow report of an event.
"""
from protocols.civil import from_civil, to_civil
from protocols.errors import hexstr
from protocols.dlt698 import (MS, OAD, OMD, RSD, TI, ActionNormal, Association, ConnectRequest,
                              Data, DateTime, GetList, GetNormal, GetRecord, SetNormal, TimeTag,
                              confirm_frame, decode_apdu, decode_frame, encode_frame,
                              follow_results, request_frame, segment)
from protocols.dlt698 import data as D
from meter_sim.firmware import HourlyProfile, LOCAL, Meter
from meter_sim.firmware.wallet import Wallet


def ask(meter, msg, t, lines):
    raw = encode_frame(request_frame(msg, meter.addr))
    reply = meter.handle(raw, t)
    parts = []
    frames = 0
    while reply is not None:
        f = decode_frame(reply)
        frames += 1
        if not f.segmented:
            lines.append("%s -> %s" % (hexstr(raw), hexstr(reply)))
            return decode_apdu(f.data)
        frag = segment.Fragment.decode(f.data)
        parts.append(frag.data)
        if frag.kind == segment.LAST:
            lines.append("%s -> %d fragments" % (hexstr(raw), frames))
            return decode_apdu(b"".join(parts))
        reply = meter.handle(encode_frame(confirm_frame(f, frag.seq)), t)
    lines.append("%s -> -" % hexstr(raw))
    return None


def tag(meter, t):
    y, mo, d, hh, mi, ss = to_civil(meter.clock.read(t))[:6]
    return TimeTag(DateTime(y, mo, d, hh, mi, ss), TI(1, 5))


def transcript():
    t0 = from_civil(2026, 3, 1)
    profile = HourlyProfile([0.4] * 7 + [1.2] * 12 + [2.5] * 3 + [0.8] * 2)
    m = Meter("000000000042", t0, profile, protocol=698, drift_ppm=15.0, mode=LOCAL,
              wallet=Wallet(balance=60.0), base_kwh=[10.0, 20.0, 30.0, 40.0])
    m.magnet_on(t0 + 2 * 86400)                     # 恒定磁场干扰 for six hours
    m.magnet_off(t0 + 2.25 * 86400)
    lines = []
    t = t0 + 3.5 * 86400
    msgs = [
        ConnectRequest(Association(receive_max=200, timeout=300)),
        GetNormal(OAD(0x0010, 2), piid=1),
        GetList([OAD(0x2000, 2), OAD(0x2001, 2), OAD(0x4000, 2), OAD(0x202C, 2)], piid=2),
        GetRecord(OAD(0x5004, 2), RSD(9, [1]), [], piid=3),
        GetRecord(OAD(0x5002, 2), RSD(10, [24, MS(1)]), []),
        GetRecord(OAD(0x302A, 2), RSD(9, [1]), [OAD(0x201E, 2), OAD(0x2020, 2),
                                                OAD(0x0010, 2, 1, 1), OAD(0x0020, 2, 1, 1),
                                                OAD(0x0010, 2, 1, 4), OAD(0x0020, 2, 1, 4)]),
        SetNormal(OAD(0x401E, 2, 1), Data(D.DOUBLE_LONG_UNSIGNED, 2500)),
        SetNormal(OAD(0x4300, 7), Data(D.BOOL, True)),
    ]
    for msg in msgs:
        lines.append("   %r" % (ask(m, msg, t, lines),))
    trip = ActionNormal(OMD(0x8000, 129), Data(D.ARRAY, [Data(D.STRUCTURE, [
        Data(D.T_OAD, OAD(0xF205, 2, 1)), Data(D.UNSIGNED, 0), Data(D.LONG_UNSIGNED, 0),
        Data(D.BOOL, True)])]))
    lines.append("   untagged %r" % (ask(m, trip, t, lines),))
    trip.time_tag = tag(m, t)
    reply = ask(m, trip, t, lines)
    lines.append("   tagged %r, relay closed %r" % (reply, m.relay.closed))
    follow = ask(m, GetNormal(OAD(0x4000, 2)), t + 5, lines)
    lines.append("   follow %r" % (follow_results(follow.follow_report),))
    secured = Meter("000000000043", t0, profile, protocol=698, plaintext_control=False)
    backend = secured.front_end.backend
    trip.time_tag = tag(secured, t)
    lines.append("   plaintext %r" % (ask(secured, trip, t, lines),))
    sealed = backend.protect(trip.encode(), True, b"\x07" * 16)
    answer = ask(secured, sealed, t, lines)
    lines.append("   sealed %r closed %r" % (decode_apdu(backend.open_response(answer, sealed)),
                                           secured.relay.closed))
    sealed.mac = b"\x00\x00\x00\x00"
    lines.append("   bad mac %r" % (ask(secured, sealed, t, lines),))
    return lines


def main():
    for line in transcript():
        print(line)
    print("TRANSCRIPT END")


main()
