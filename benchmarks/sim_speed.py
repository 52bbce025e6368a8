"""Simulation speed (KPIS.md): full-fidelity simulated reads per wall second against a bare SimPy
skeleton of the same event pattern, sim-time / wall-time over a simulated day, peak RSS per 1000
meters.

Full fidelity: a seeded HPLC area (topology, noise, routing, faults-free meters), the round-robin
reader driving the emulated 1376.2 module over a simulated UART (13F1), each 645 frame encoded,
every hop's frame error drawn, the meter firmware answering. The skeleton replays the same pattern
per read - a slot request, UART legs, one timeout per hop attempt each way, the reply delay - with
no bytes, channel or firmware. Each size runs in its own process so peak RSS is its own.
Last line: one JSON object with a ``runs`` list. Run: .venv/bin/python benchmarks/sim_speed.py
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def skeleton(pattern, concurrency=1):
    """Bare SimPy: the same resource requests and timeouts as the full run, nothing else."""
    import simpy
    env = simpy.Environment()
    slot = simpy.Resource(env, capacity=concurrency)

    def one(uart, hops, delay):
        yield env.timeout(uart)
        with slot.request() as req:
            yield req
            for air in hops:
                yield env.timeout(air)
            yield env.timeout(delay)
        yield env.timeout(uart)

    def reader():
        for uart, hops, delay in pattern:
            yield env.process(one(uart, hops, delay))

    t = time.perf_counter()
    env.run(env.process(reader()))
    return len(pattern) / (time.perf_counter() - t)


def measure(meters, seed):
    import simpy
    from meter_sim.population import DEFAULT_EPOCH
    from plc_channel.area import build_area
    from plc_channel.baseline import RoundRobin
    base = rss_mb()
    start = DEFAULT_EPOCH + 86400 + 300
    env = simpy.Environment(initial_time=start)
    trace = []
    t_build = time.perf_counter()
    area = build_area(env, meters, "hplc", seed, trace=trace)
    build_s = time.perf_counter() - t_build
    reader = RoundRobin(area)
    env.process(reader.run(start + 86400 - 600))
    t = time.perf_counter()
    env.run(until=start + 86400 - 600)           # the rest of the simulated day
    wall = time.perf_counter() - t
    reads = sum(1 for e in trace if e[1] == "delivery")     # meter reads simulated, answered or not
    # the same event pattern, read from the trace: per delivery its hop attempts and reply delay
    phy = area.network.phy
    pattern = []
    hops = []
    for e in trace:
        if e[1] == "hop":
            hops.append(phy.airtime(e[4]))
        elif e[1] == "delivery":
            pattern.append((0.05, hops, 0.08))
            hops = []
    skel = skeleton(pattern)
    return {
        "meters": meters, "reads": reads, "read_ok": len(reader.done), "build_s": round(build_s, 3),
        "sim_reads_per_s": round(reads / wall, 1), "skeleton_reads_per_s": round(skel, 1),
        "ratio": round((reads / wall) / skel, 4),
        "sim_seconds_per_wall_second": round((86400 - 600) / wall, 1),
        "rss_mb": round(rss_mb(), 1),
        "rss_mb_per_1000_meters": round((rss_mb() - base) / (meters / 1000.0), 2),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meters", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.seed)))
        return
    runs = []
    for n in args.meters:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)],
                             capture_output=True, text=True, check=True)
        run = json.loads(out.stdout.strip().splitlines()[-1])
        runs.append(run)
        print("%6d meters: %8.1f reads/s full, %9.1f skeleton (ratio %.3f), sim/wall %8.1f, "
              "build %.1f s, %.2f MB RSS per 1000 meters"
              % (n, run["sim_reads_per_s"], run["skeleton_reads_per_s"], run["ratio"],
                 run["sim_seconds_per_wall_second"], run["build_s"], run["rss_mb_per_1000_meters"]))
    print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main()
