"""A price change on a large area (issue 20): half local-wallet, half remote-cost-control
meters, a ladder campaign effective at midnight, 5 % unreachable for a day from the start,
payments across the switch. The test suite proves the same on 40 meters
(tests/hil/test_price_campaign.py). Last line: JSON with the ground-truth KPIs and the wall time.
Run: .venv/bin/python benchmarks/price_campaign.py [--meters 2000] [--medium hplc]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    from hil.price_run import PriceRun
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=2000)
    parser.add_argument("--medium", default="hplc", choices=["rs485", "nbplc", "hplc"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hours-after", type=float, default=24.0)
    args = parser.parse_args()
    t = time.monotonic()
    run = PriceRun(count=args.meters, seed=args.seed, medium=args.medium, pay_share=0.2)
    kpi = run.run(hours_after=args.hours_after)
    kpi["old_price_kwh_after_switch"] = round(sum(kpi["old_price_kwh_after_switch"].values()), 2)
    out = dict(kpi, medium=args.medium, seed=args.seed, wall_s=round(time.monotonic() - t, 1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
