"""Requests per second a firmware meter answers, 645 slave vs 698 slave of the same state.

Same meter, same time, ``Meter.handle(request bytes)`` only: the energy register (645 read
00010000, 698 GET 0010 0200) and the newest daily freeze (645 read 05060101, 698 GET-Record 5004
selector 9); for 698 also one whole day of the 15-minute curve (GET-Record 5002 selector 2: 96
rows in GET-Next blocks and link fragments, the client side's encoding and confirms included).
Last line: one JSON object.
Run: .venv/bin/python benchmarks/meter_speed.py [--seconds S]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from protocols.civil import from_civil  # noqa: E402
from protocols.dlt645 import Read, encode_frame as encode645  # noqa: E402
from protocols.dlt698 import (OAD, RSD, Data, DateTime, GetNormal, GetRecord, encode_frame,  # noqa: E402
                              request_frame)
from protocols.dlt698 import data as D  # noqa: E402
from meter_sim.firmware import HourlyProfile, Meter  # noqa: E402

T0 = from_civil(2026, 3, 1)
T = T0 + 20 * 86400 + 3600
PROFILE = HourlyProfile([0.4] * 7 + [1.2] * 12 + [2.5] * 3 + [0.8] * 2)


def meter(protocol):
    return Meter("000000000042", T0, PROFILE, protocol=protocol)


def rate(ask, seconds):
    ask()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(20):
            ask()
        n += 20
    return n / (time.perf_counter() - start)


def main():
    from tests.helpers import ask698
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    m645, m698 = meter(2007), meter(698)
    read = encode645(Read(0x00010000).to_frame(m645.addr))
    freeze = encode645(Read(0x05060101).to_frame(m645.addr))
    energy698 = encode_frame(request_frame(GetNormal(OAD(0x0010, 2)), m698.addr))
    freeze698 = encode_frame(request_frame(GetRecord(OAD(0x5004, 2), RSD(9, [1]), []), m698.addr))
    day = RSD(2, [OAD(0x2021, 2), Data(D.DATE_TIME_S, DateTime(2026, 3, 20)),
                  Data(D.DATE_TIME_S, DateTime(2026, 3, 21)), Data(D.NULL)])
    out = {
        "energy_645_per_s": rate(lambda: m645.handle(read, T), args.seconds),
        "energy_698_per_s": rate(lambda: m698.handle(energy698, T), args.seconds),
        "daily_freeze_645_per_s": rate(lambda: m645.handle(freeze, T), args.seconds),
        "daily_freeze_698_per_s": rate(lambda: m698.handle(freeze698, T), args.seconds),
        "curve_day_698_per_s": rate(lambda: ask698(m698, GetRecord(OAD(0x5002, 2), day, []), T),
                                    args.seconds),
    }
    out = dict((k, round(v, 1)) for k, v in out.items())
    for k, v in out.items():
        print("%-24s %10.1f" % (k, v))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
