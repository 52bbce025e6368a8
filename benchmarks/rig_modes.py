"""The rig as a master with our agent as the concentrator under test, push and pull-only: an
HPLC area of ``--hplc`` meters plus ``--rs485`` RS-485 meters, one real-time run per mode. One
JSON line per mode (read rate, via counts, completion and delivered time), then the summary.

    python benchmarks/rig_modes.py --hplc 60 --rs485 20 --duration 150
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from hil.rig_dut import agent_toml

START = "2026-01-06 00:01"
PASSWORD = "0123456789abcdef" * 2
SCENARIO = """
[scenario]
name = "rig-modes-%(mode)s"
seed = %(seed)d
start = "%(start)s"
[area]
meters = %(hplc)d
medium = "hplc"
[rig]
rs485_meters = %(rs485)d
password = "%(password)s"
%(pull)s
"""
KEYS = ("read_rate", "read_rate_rs485", "via", "via_realtime", "pulls", "completion_s",
        "delivered_s", "wrong_values", "missing", "master_setup")


def run(mode, args, work):
    cli = [sys.executable, "-m", "hil.cli"]
    scenario = os.path.join(work, "rig-%s.toml" % mode)
    with open(scenario, "w") as f:
        f.write(SCENARIO % {"mode": mode, "seed": args.seed, "start": START, "hplc": args.hplc,
                            "rs485": args.rs485, "password": PASSWORD,
                            "pull": "pull_every_s = %g" % args.pull_every_s
                            if mode == "pull" else ""})
    rep = os.path.join(work, "rep-%s" % mode)
    rig = subprocess.Popen(cli + ["hil", "rig", scenario, "--listen", "127.0.0.1:0",
                                  "--duration", str(args.duration), "--report", rep],
                           stdout=subprocess.PIPE, text=True)
    agent = None
    try:
        info = json.loads(rig.stdout.readline())
        cfg = os.path.join(work, "agent-%s.toml" % mode)
        with open(cfg, "w") as f:
            f.write(agent_toml(info, PASSWORD, terminal=11, active_upload=mode == "push",
                               store=os.path.join(work, "agent-%s.sqlite" % mode)))
        agent = subprocess.Popen(cli + ["agent", "--config", cfg, "--epoch", START,
                                        "--duration", str(args.duration + 10)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rig.wait(timeout=args.duration + 120)
    finally:
        for p in (agent, rig):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
    with open(os.path.join(rep, "report.json")) as f:
        report = json.load(f)
    return dict({k: report.get(k) for k in KEYS}, mode=mode, meters=report["meters"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hplc", type=int, default=60)
    ap.add_argument("--rs485", type=int, default=20)
    ap.add_argument("--duration", type=float, default=150.0)
    ap.add_argument("--pull-every-s", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=4)
    args = ap.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as work:
        for mode in ("push", "pull"):
            out[mode] = run(mode, args, work)
            print(json.dumps(out[mode]), flush=True)
    print(json.dumps({"benchmark": "rig_modes", "hplc": args.hplc, "rs485": args.rs485,
                      "duration_s": args.duration, "pull_every_s": args.pull_every_s,
                      "read_rate": {m: r["read_rate"] for m, r in out.items()},
                      "delivered_s": {m: r["delivered_s"] for m, r in out.items()},
                      "via": {m: r["via"] for m, r in out.items()}}))


if __name__ == "__main__":
    main()
