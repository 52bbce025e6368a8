"""Agent efficiency (KPIS.md): channel lower bound / completion time of the daily-freeze task,
per medium, with the round-robin baseline measured on the same area, items and faults in the
same run.

Each medium runs a seeded area in virtual time: the agent (freeze task only, so nothing else
shares the bus) and the baseline both read the last daily freeze (freeze time + energy block)
from 00:05. Last line: one JSON object ``{"rs485": {...}, "nbplc": {...}, "hplc": {...}}``, each
with ``completion_s``, ``t90_s``/``t99_s``/``t999_s``, ``lower_bound_s`` and its three parts
(``channel_airtime_bound_s``, ``uart_bound_s``, ``reachable_from_s``), ``efficiency`` (also at
t99), ``read_rate`` and the baseline's figures.
Run: .venv/bin/python benchmarks/agent_efficiency.py [--faults] [--module-baud 115200]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SIZES = {"rs485": 200, "nbplc": 500, "hplc": 2000}
FAULTS = [{"kind": "dead", "share": 0.01}, {"kind": "intermittent", "share": 0.03, "p": 0.5}]


def main():
    from edge.plan import Settings
    from hil.agent_run import compare
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", action="store_true", help="1 %% dead, 3 %% intermittent meters")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--module-baud", type=int, default=9600, help="carrier module UART rate")
    args = parser.parse_args()
    out = {}
    for medium, count in SIZES.items():
        t = time.monotonic()
        settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=None)
        r = compare(count, medium, args.seed, args.hours, faults=FAULTS if args.faults else (),
                    settings=settings, module_baud=args.module_baud)
        a, b = r["agent"], r["baseline"]
        out[medium] = {
            "meters": count, "completion_s": a["completion_s"], "lower_bound_s": a["lower_bound_s"],
            "efficiency": a["efficiency"], "read_rate": a["read_rate"],
            "completion_p99_s": a["completion_p99_s"],
            "t90_s": a["t90_s"], "t99_s": a["t99_s"], "t999_s": a["t999_s"],
            "channel_airtime_bound_s": a["channel_airtime_bound_s"],
            "uart_bound_s": a["uart_bound_s"], "reachable_from_s": a["reachable_from_s"],
            "efficiency_t99": a["efficiency_t99"], "module_baud": a["module_baud"],
            "baseline_completion_p99_s": b["completion_p99_s"],
            "baseline_completion_s": b["completion_s"], "baseline_efficiency": b["efficiency"],
            "baseline_read_rate": b["read_rate"],
            "efficiency_ratio": round(a["efficiency"] / b["efficiency"], 3)
            if a["efficiency"] and b["efficiency"] else None,
            "wall_s": round(time.monotonic() - t, 2)}
        row = out[medium]
        print("%-6s %5d meters  agent %8.1f s (p99 %7.1f, eff %.3f, read %.2f%%)  round-robin "
              "%8.1f s (p99 %7.1f, eff %.3f)  lower bound %7.1f s" % (
                  medium, count, row["completion_s"], row["completion_p99_s"], row["efficiency"],
                  100 * row["read_rate"], row["baseline_completion_s"],
                  row["baseline_completion_p99_s"], row["baseline_efficiency"],
                  row["lower_bound_s"]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
