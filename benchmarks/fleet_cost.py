"""Fleet cost (KPIS.md): what one simulated area-day costs in CPU, against the bare SimPy engine.

One standard area-day (2 000 HPLC meters, the full agent: freeze, curves, events, clock check,
24 h) runs in this process and counts its SimPy events; a bare SimPy skeleton (processes doing
nothing but timeouts) measures the engine's own cost per event in the same process. Then a fleet
of 4 such areas (seed + k) runs on a pool of 2 worker processes. Figures: meter-days per core
second, SimPy events per meter-day, the area-day's cost expressed in skeleton events per
meter-day, and the pool's efficiency (areas x one area's CPU time / (workers x pool wall)).
Last line: one JSON object. Run: .venv/bin/python benchmarks/fleet_cost.py [--meters N --hours H]
"""
import argparse
import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SETTLE_H = 300 / 3600.0


def counting_environment():
    """A SimPy Environment class that counts the events it processes."""
    import simpy

    class Counting(simpy.Environment):
        processed = 0

        def step(self):
            self.processed += 1
            return simpy.Environment.step(self)
    return Counting


def area_day(meters, hours, seed):
    """One area run by the full agent: its figures and its CPU/wall seconds."""
    from hil.agent_run import run_agent
    env_class = counting_environment()
    made = []

    def environment(**kw):
        env = env_class(**kw)
        made.append(env)
        return env
    wall, cpu = time.perf_counter(), time.process_time()
    report, _ = run_agent(meters, "hplc", seed, hours - SETTLE_H, day_hours=hours,
                          environment=environment)
    return {"seed": seed, "meters": meters, "hours": hours,
            "cpu_s": round(time.process_time() - cpu, 3),
            "wall_s": round(time.perf_counter() - wall, 3),
            "events": made[0].processed, "read_rate": report["read_rate"],
            "readings": report["readings"],
            "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}


def skeleton_cost(events=400000, processes=50):
    """CPU seconds per event of bare SimPy: ``processes`` processes yielding timeouts."""
    env = counting_environment()()
    per = events // processes

    def ticker(k):
        for _ in range(per):
            yield env.timeout(1.0 + k * 1e-3)
    for k in range(processes):
        env.process(ticker(k))
    cpu = time.process_time()
    env.run()
    return (time.process_time() - cpu) / env.processed


def fleet(meters, hours, seed, areas, workers):
    """``areas`` area-days on a pool of ``workers`` processes: per-area results, pool wall."""
    wall = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        runs = list(pool.map(area_day, [meters] * areas, [hours] * areas,
                             [seed + k for k in range(areas)]))
    return runs, time.perf_counter() - wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meters", type=int, default=2000)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--areas", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-fleet", action="store_true", help="the single area-day only")
    args = ap.parse_args()
    one = area_day(args.meters, args.hours, args.seed)
    per_event = skeleton_cost()
    meter_days = args.meters * args.hours / 24.0
    out = {"meters": args.meters, "hours": args.hours, "seed": args.seed,
           "area_cpu_s": one["cpu_s"], "area_wall_s": one["wall_s"], "rss_mb": one["rss_mb"],
           "read_rate": one["read_rate"],
           "meter_days_per_core_s": round(meter_days / one["cpu_s"], 3),
           "sim_events_per_meter_day": round(one["events"] / meter_days, 1),
           "skeleton_us_per_event": round(per_event * 1e6, 3),
           "skeleton_events_per_meter_day": round(one["cpu_s"] / per_event / meter_days, 1),
           "pool_efficiency": None}
    print("area-day: %d meters x %.1f h: %.1f s CPU (%.1f s wall), %.1f MB RSS, %d events; "
          "%.2f meter-days per core-second; skeleton %.2f us/event -> %.0f skeleton events per "
          "meter-day (%.0f real)" % (
              args.meters, args.hours, one["cpu_s"], one["wall_s"], one["rss_mb"], one["events"],
              out["meter_days_per_core_s"], out["skeleton_us_per_event"],
              out["skeleton_events_per_meter_day"], out["sim_events_per_meter_day"]))
    if not args.no_fleet:
        runs, wall = fleet(args.meters, args.hours, args.seed, args.areas, args.workers)
        out.update(areas=args.areas, workers=args.workers, fleet_wall_s=round(wall, 3),
                   fleet_cpu_s=round(sum(r["cpu_s"] for r in runs), 3),
                   pool_efficiency=round(args.areas * one["cpu_s"] / (args.workers * wall), 3),
                   fleet_meter_days_per_wall_s=round(args.areas * meter_days / wall, 3))
        print("fleet: %d areas on %d workers in %.1f s wall (%.1f s CPU in the workers): pool "
              "efficiency %.2f" % (args.areas, args.workers, wall, out["fleet_cpu_s"],
                                   out["pool_efficiency"]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
