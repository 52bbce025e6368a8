"""What one metrics snapshot costs the agent's loop with a large uplink backlog (an outage of
days): ``agent.metrics()`` time, and the store's write rate beside it. Prints JSON last.

    python benchmarks/metrics_cost.py [readings]
"""
import json
import os
import random
import sys
import tempfile
import time

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.store import Reading, Store
from edge.uplink import Uplink, UplinkSettings
from protocols.civil import DAY, from_civil, iso

METERS = 2000


def main(n=200_000):
    folder = tempfile.mkdtemp()
    archive = Archive.from_dict({"port": [{"name": "p1", "url": "loop://"}],
                                 "meter": [{"addr": "%012d" % (k + 1), "port": "p1"}
                                           for k in range(METERS)]})
    store = Store(os.path.join(folder, "agent.sqlite"), durable=False)
    wall = from_civil(2026, 11, 22, 8, 0)
    agent = Agent(archive, store, Settings(curve_every_min=0, event_every_h=0, clock_check_h=-1),
                  now=0.0, wall=wall)
    Uplink(agent, UplinkSettings("127.0.0.1:0", "0171", 1), random.Random(1))
    t0 = time.perf_counter()
    batch = []
    for k in range(n):      # half to go upstream (freezes), half local (realtime)
        task = "daily_freeze" if k % 2 else "realtime"
        period = iso(wall - DAY * (1 + k // METERS))[:10]
        batch.append(Reading("%012d" % (k % METERS + 1), task, 0x05060101, period,
                             {"kwh": [1000.0, 400.0, 300.0, 200.0, 100.0], "at": wall}))
        if len(batch) == 2000:
            store.commit(batch)
            batch = []
    store.commit(batch)
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        got = {s.name: s.value for s in agent.metrics()}
    snapshot_s = (time.perf_counter() - t0) / rounds
    print(json.dumps({"readings": n, "backlog_readings": got["gridedge_uplink_backlog_readings"],
                      "backlog_bytes": got["gridedge_uplink_backlog_bytes"],
                      "store_bytes": got["gridedge_store_bytes"],
                      "metrics_snapshot_s": round(snapshot_s, 4),
                      "write_readings_per_s": round(n / write_s)}))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
