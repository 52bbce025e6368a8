"""Concentrators for the uplink tests: a real agent core (archive, store, uplink handler) with
daily freezes already in its store, no meters behind it."""
import random

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.store import Reading, Store
from edge.uplink import Uplink, UplinkSettings
from protocols.civil import from_civil

DAY_READ = "2026-11-21"
WALL = from_civil(2026, 11, 22, 8, 0)


def concentrator(terminal, meters=2, region="0171", path=":memory:", **settings):
    """An agent core holding the daily freeze of ``DAY_READ`` for each of its meters, and its
    uplink (``agent.uplink``)."""
    archive = Archive.from_dict({
        "port": [{"name": "p1", "url": "loop://"}],
        "meter": [{"addr": "%06d%06d" % (terminal, k + 1), "port": "p1"} for k in range(meters)]})
    store = Store(path, durable=False)
    agent = Agent(archive, store, Settings(curve_every_min=0, event_every_h=0, clock_check_h=-1),
                  now=0.0, wall=WALL)
    Uplink(agent, UplinkSettings("127.0.0.1:0", region, terminal, **settings),
           random.Random(terminal))
    store.put_readings([Reading(m, "daily_freeze", 0x05060101, DAY_READ,
                                {"kwh": freeze_kwh(terminal, k), "time": DAY_READ + " 00:00:00",
                                 "at": WALL - 7 * 3600}, read_at=WALL - 7 * 3600)
                        for k, m in enumerate(archive.meters)])
    return agent


def freeze_kwh(terminal, k):
    total = round(1000 + terminal * 1.25 + k * 0.5, 2)
    return [total, round(total * 0.4, 2), round(total * 0.3, 2), round(total * 0.2, 2),
            round(total * 0.1, 2)]
