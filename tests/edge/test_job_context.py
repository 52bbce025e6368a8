"""Read jobs see the agent through a ReadContext: the job runs on it alone, and it offers no
way to the archive, the buses or the store beyond its few questions."""
from protocols.civil import DAY, from_civil
from meter_sim.firmware import HourlyProfile, Meter
from edge.agent import Agent
from edge.archive import Archive
from edge.exchange import OK
from edge.job_context import ReadContext
from edge.jobs import DailyFreeze, Settlement, Window, read_job
from edge.links import Result
from edge.plan import Settings
from edge.store import Store
from tests.edge.test_drivers import ask

T0 = from_civil(2026, 3, 1)


def test_a_698_daily_freeze_job_runs_on_the_context_alone():
    archive = Archive.from_dict({"port": [{"name": "p", "url": "loop://"}],
                                 "meter": [{"addr": "000000000042", "port": "p",
                                            "protocol": "698.45", "preamble": 0}]})
    t = T0 + 2 * DAY + 600.0
    agent = Agent(archive, Store(":memory:", durable=False), Settings(), now=t, wall=t)
    ctx = ReadContext(agent)
    for name in ("archive", "store", "buses", "spawn", "tasks"):
        assert not hasattr(ctx, name), name
    meter = archive.meters["000000000042"]
    firmware = Meter("000000000042", T0, source=HourlyProfile([1.0] * 24), protocol=698)
    task = DailyFreeze(DAY, 300.0, 6 * 3600.0)
    window = Window(task.name, "2026-03-02", t - 300.0, t + 3600.0, t - 600.0)
    job = read_job(ctx, meter, task, window)
    effect = next(job)
    assert len(effect.requests) == 1                  # one Record GET of 5004
    replies = ask(firmware, meter, effect.requests, t)
    try:
        job.send(Result(OK, replies, 0.1))
    except StopIteration:
        pass
    r = agent.store.good(meter.addr, "daily_freeze", "2026-03-02")
    assert r is not None and r.value["time"].startswith("2026-03-03 00:00")
    assert r.value["kwh"][0] > 0


def test_a_settlement_read_stores_the_five_registers():
    """0001FF01 decodes to a list; main's jobs took it for a dict and stored every settlement
    read as garbled."""
    archive = Archive.from_dict({"port": [{"name": "p", "url": "loop://"}],
                                 "meter": [{"addr": "000000000042", "port": "p", "preamble": 0}]})
    t = from_civil(2026, 4, 1, 1, 0)
    agent = Agent(archive, Store(":memory:", durable=False), Settings(), now=t, wall=t)
    meter = archive.meters["000000000042"]
    firmware = Meter("000000000042", T0, source=HourlyProfile([1.0] * 24))
    task = Settlement(DAY, 300.0, 6 * 3600.0)
    window = Window(task.name, task.period(t - 3600.0), t - 3000.0, t + 3600.0, t - 3600.0)
    job = read_job(agent.read_context, meter, task, window)
    effect = next(job)
    replies = ask(firmware, meter, effect.requests, t)
    try:
        job.send(Result(OK, replies, 0.1))
    except StopIteration:
        pass
    r = agent.store.good(meter.addr, "settlement", window.period)
    assert r is not None and len(r.value["kwh"]) == 5 and r.value["kwh"][0] > 0


def test_an_on_demand_read_of_645_dis_skips_a_698_meter():
    archive = Archive.from_dict({"port": [{"name": "p", "url": "loop://"}],
                                 "meter": [{"addr": "000000000042", "port": "p",
                                            "protocol": "698.45"},
                                           {"addr": "000000000043", "port": "p"}]})
    agent = Agent(archive, Store(":memory:", durable=False), Settings(), now=T0, wall=T0)
    before = agent.active
    agent.read_now(["000000000042", "000000000043"], [0x0001FF00])
    assert agent.counters.get("on_demand_unsupported") == 1
    assert agent.active == before + 1                 # only the 645 meter's job
