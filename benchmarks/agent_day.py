"""A whole simulated day of a large area: the agent (every task: freeze, curves, events, clock
check) against the round-robin baseline on the same area and faults (1 % dead, 3 % intermittent).
The test suite proves the same on 200 meters (tests/hil/test_agent_scenarios.py); this is the
size a province's areas have. Last line: JSON with both readers' figures and the wall time.
Run: .venv/bin/python benchmarks/agent_day.py [--meters 2000] [--medium hplc]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FAULTS = [{"kind": "dead", "share": 0.01}, {"kind": "intermittent", "share": 0.03, "p": 0.5}]
FIGURES = ("read_rate", "reachable_read_rate", "completion_s", "completion_p99_s", "lower_bound_s",
           "efficiency")


def main():
    from hil.agent_run import compare
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=2000)
    parser.add_argument("--medium", default="hplc", choices=["rs485", "nbplc", "hplc"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    t = time.monotonic()
    r = compare(args.meters, args.medium, args.seed, 6.0, faults=FAULTS, day_hours=24)
    out = {"meters": args.meters, "medium": args.medium, "seed": args.seed,
           "agent": {k: r["agent"][k] for k in FIGURES},
           "baseline": {k: r["baseline"][k] for k in FIGURES},
           "agent_beats_baseline": r["agent_beats_baseline"],
           "wall_s": round(time.monotonic() - t, 1)}
    print("%s %d meters, one day: agent %s s (p99 %s), round-robin %s s (p99 %s)" % (
        args.medium, args.meters, out["agent"]["completion_s"], out["agent"]["completion_p99_s"],
        out["baseline"]["completion_s"], out["baseline"]["completion_p99_s"]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
