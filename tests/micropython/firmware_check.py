"""Runs unchanged on CPython and MicroPython: drive a meter through the codec, print a transcript.

tests/micropython/test_micropython.py runs it in both interpreters and compares the transcripts.
"""
from protocols.civil import from_civil
from protocols.errors import hexstr
from protocols.dlt645 import (Control, Deframer, Freeze, Read, ReadFollowUp, Write, BroadcastTime,
                              address, decode_frame, encode_frame, parse_reply)
from protocols.dlt645 import di as DI
from protocols.dlt645.deframer import NEED_DATA
from protocols.dlt645 import Security, security as S, testkey as TK
from meter_sim.firmware import HourlyProfile, Meter, LOCAL, TestEsam
from meter_sim.firmware.phases import ThreePhase
from meter_sim.firmware.wallet import Wallet


R1 = b"\x11" * 8
FACTOR = b"\x00\x00\x42\x00\x00\x00\x00\x00"


def transcript():
    t0 = from_civil(2026, 3, 1)
    profile = HourlyProfile([0.4] * 7 + [1.2] * 12 + [2.5] * 3 + [0.8] * 2)
    meter = Meter("000000000042", t0, profile, drift_ppm=15.0, esam=TestEsam())
    local = Meter("000000000043", t0, profile, mode=LOCAL,
                  wallet=Wallet(balance=25.0, alarm_1=20.0, alarm_2=10.0, overdraft_limit=5.0))
    priced = Meter("000000000044", t0, profile, mode=LOCAL, wallet=Wallet(balance=500.0))
    prices = DI.lookup(DI.DI_STANDBY_PRICES).encode([0.8, 0.8, 0.8, 0.8])
    ladder = DI.lookup(DI.DI_STANDBY_LADDER).encode(
        [5.0, None, None, None, None, None, 0.0, 0.2] + [None] * 11)
    switch = DI.lookup(DI.DI_PRICE_SWITCH_TIME).encode(t0 + 2 * 86400)
    three = Meter("000000000045", t0, profile)
    three.three_phase = ThreePhase()
    three.three_phase.lost[1] = 0x10                # phase B lost (失压) from day 2
    three.three_phase.begin(three, 0x10, t0 + 2 * 86400, 1)
    three.magnet_on(t0 + 2.1 * 86400)               # 恒定磁场干扰 for six hours
    three.magnet_off(t0 + 2.35 * 86400)
    lines = []
    requests = [
        (priced, Write(DI.DI_STANDBY_PRICES, prices, 0x02, b"\x00\x00\x00"), 1.0),
        (priced, Write(DI.DI_STANDBY_LADDER, ladder, 0x02, b"\x00\x00\x00"), 1.0),
        (priced, Write(DI.DI_PRICE_SWITCH_TIME, switch, 0x02, b"\x00\x00\x00"), 1.0),
        (priced, Write(DI.DI_LADDER_SWITCH_TIME, switch, 0x02, b"\x00\x00\x00"), 1.0),
        (priced, Read(DI.DI_PRICE_SWITCH_TIME), 1.1),
        (priced, Read(DI.DI_REMAINING_MONEY), 2.0),
        (priced, Read(DI.DI_REMAINING_MONEY), 3.0),
        (priced, Read(DI.DI_YEAR_KWH), 3.0),
        (meter, Read(0x00010000), 3.5),
        (meter, Read(DI.parse("0001FF00")), 3.6),
        (meter, Read(DI.parse("05060101")), 3.7),
        (meter, Read(DI.parse("05060001")), 3.7),
        (meter, Read(DI.parse("02010100")), 4.2),
        (meter, Read(DI.parse("04000101")), 4.2),
        (meter, Read(DI.parse("04000102")), 4.2),
        (meter, Read(DI.parse("06100601"), 60, t0 + 86400), 4.3),
        (meter, ReadFollowUp(DI.parse("06100601"), 1), 4.3),
        (meter, Control(0x1A, t0 + 5 * 86400), 4.4),
        (meter, Read(DI.DI_STATUS_3), 4.41),
        (meter, Control(0x1A, t0), 4.5),
        (meter, Write(DI.DI_TIME, b"\x00\x00\x12", 0x04, b"\x00\x00\x00"), 4.6),
        (meter, Read(DI.parse("1D000001")), 4.7),
        (local, Read(DI.DI_REMAINING_MONEY), 2.0),
        (local, Read(DI.DI_STATUS_3), 9.0),
        (local, Read(DI.DI_OVERDRAFT_MONEY), 9.0),
        (three, Read(DI.parse("0201FF00")), 2.5),
        (three, Read(DI.parse("0202FF00")), 2.5),
        (three, Read(DI.parse("0203FF00")), 2.5),
        (three, Read(DI.parse("04000505")), 2.5),
        (three, Read(DI.parse("10020001")), 2.5),
        (three, Read(DI.parse("10020101")), 2.5),
        (three, Read(DI.parse("03350000")), 2.5),
        (three, Read(DI.parse("03350001")), 2.5),
        (meter, Freeze(), 5.0),
        (meter, Read(DI.parse("05010101")), 5.0),
        (meter, Security(S.DI_IDENTITY, S.IdentityAuth(
            b"\x00" * 4, TK.auth_cipher(TK.TEST_KEY, R1, FACTOR), R1, FACTOR).encode()), 5.1),
    ]
    for m, req, days in requests:
        t = t0 + days * 86400
        raw = encode_frame(req.to_frame(m.addr), preamble=4)
        reply = m.handle(raw, t)
        lines.append("%s -> %s" % (hexstr(raw), hexstr(reply) if reply else "-"))
        if reply:
            r = parse_reply(decode_frame(reply))
            whole = hasattr(r, "value") and not r.more and r.seq is None
            lines.append("   %s" % (_show(r.value()) if whole else repr(r)))
    r2 = S.IdentityReply.parse(parse_reply(decode_frame(reply)).data[4:]).random2
    sealed = Control(None, None, 0x98, b"\x00" * 3, b"\x00" * 4, cipher=TK.seal_control(
        TK.TEST_KEY, r2, meter.esam.serial, Control(0x1C, t0 + 9 * 86400).body()))
    reply = meter.handle(encode_frame(sealed.to_frame(meter.addr)), t0 + 5.1 * 86400 + 10)
    lines.append("sealed close -> %s relay closed %s" % (hexstr(reply), meter.relay.closed))
    bc = encode_frame(BroadcastTime(t0 + 6 * 86400 + 3600 + 30).to_frame(b"\x99" * 6))
    lines.append("broadcast -> %r" % (meter.handle(bc, t0 + 6 * 86400 + 3600),))
    d = Deframer()
    d.feed(b"\x00\x16\x68" + raw[:7])
    d.feed(raw[7:] + b"\xFE\xFE")
    while True:
        item = d.next()
        if item is NEED_DATA:
            break
        lines.append("deframer: %r" % (item,))
    return lines


def _show(value):
    """Stable text on both interpreters (MicroPython dicts are unordered)."""
    name, v, unit = value
    if isinstance(v, dict):
        v = "{" + ", ".join("%s: %s" % (k, _num(v[k])) for k in sorted(v)) + "}"
    elif isinstance(v, list):
        v = "[" + ", ".join(_num(x) for x in v) + "]"
    return "%s = %s %s" % (name, _num(v), unit)


def _num(v):
    return "%.4f" % v if isinstance(v, float) else str(v)


def main():
    for line in transcript():
        print(line)
    print("TRANSCRIPT END")


main()
