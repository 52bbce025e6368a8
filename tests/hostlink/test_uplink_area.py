"""The area's day over 1376.1 (gridedge's extension AFN0D F221/F222, p0): the master reads the
line loss the agent stored - with its missing customers and its hint's candidates as measuring
points - and the day's missed and wrong points, from a real SQLite store; over real TCP too."""
import asyncio
import random
import time

from edge.agent import Agent
from edge.archive import Archive
from edge.lineloss import LineLossPolicy, close_day, rows
from edge.plan import Settings
from edge.store import Store
from edge.uplink import Uplink, UplinkSettings
from protocols.civil import from_civil
from protocols.gdw1376_1 import Tp, Unit, parse_units
from protocols.gdw1376_1.area_ext import LINE_LOSS_FN, MISSED_FN
from protocols.gdw1376_1.units import AFN_CLASS2, AFN_CONFIRM

from tests.edge.test_lineloss import AREA, CUSTOMERS, DAYS, fill, freeze, thief_use
from tests.hostlink.test_uplink import PASSWORD, ask, down, online

AFTER = from_civil(2026, 1, 20, 12, 0)          # the agent's clock: every day of DAYS is over


def agent_in(path, wall=AFTER):
    """An agent whose archive is the line-loss area: the area meter is p1, customers p2..p6."""
    archive = Archive.from_dict({
        "port": [{"name": "p1", "url": "loop://"}, {"name": "area", "url": "loop://"}],
        "meter": [{"addr": AREA, "port": "area", "role": "area", "ct_ratio": 40}]
        + [{"addr": a, "port": "p1"} for a in CUSTOMERS]})
    agent = Agent(archive, Store(str(path), durable=False),
                  Settings(curve_every_min=0, event_every_h=0, clock_check_h=-1),
                  now=0.0, wall=wall)
    Uplink(agent, UplinkSettings("127.0.0.1:0", "0171", 2082, password=PASSWORD.hex()),
           random.Random(1))
    return agent


def td(day):
    return (int(day[8:10]), int(day[5:7]), int(day[2:4]))


def area_day(agent, fn, day, pfc=1):
    """The answer unit of AFN0D ``fn`` p0 for ``day``, or the AFN00 unit of a denial."""
    [a] = ask(agent, down(AFN_CLASS2, [Unit(AFN_CLASS2, fn, 0, {"td": td(day)}, False)],
                          tp=Tp.at(pfc, agent.wall, 5)))
    [u] = parse_units(a.afn, a.data, True)
    return u


def closed(agent, use, loss, skip=()):
    fill(agent.store, use, loss, skip=skip)
    for period in DAYS[1:]:
        close_day(agent.store, agent.archive, period, LineLossPolicy(step=0.01, min_kwh=1.0),
                  at=1.0)


def test_the_master_reads_a_day_of_line_loss_and_its_hint_by_measuring_point(tmp_path):
    agent = agent_in(tmp_path / "a.sqlite")
    online(agent)
    closed(agent, thief_use, lambda d: 0.04 if d < 4 else 0.04 + 0.12)
    quiet = area_day(agent, LINE_LOSS_FN, DAYS[2]).value
    assert quiet["status"] == "complete" and quiet["customers"] == 5 and quiet["missing"] == 0
    assert abs(quiet["rate_pct"] - 4.0) < 0.7 and quiet["reasons"] == [] == quiet["candidates"]
    stored = next(r for r in rows(agent.store) if r["period"] == DAYS[2])
    assert quiet["sold_kwh"] == round(stored["sold_kwh"], 4)
    hinted = area_day(agent, LINE_LOSS_FN, DAYS[4], 2).value
    assert hinted["reasons"] == ["above_threshold", "step_change"] and hinted["td"] == td(DAYS[4])
    # CUSTOMERS[3] fell, CUSTOMERS[1] stopped: points 5 and 3 (the area meter is p1)
    assert hinted["candidates"] == [{"point": 5, "evidence": ["consumption_fell"]},
                                    {"point": 3, "evidence": ["consumption_stopped"]}]
    assert area_day(agent, LINE_LOSS_FN, "2026-01-30", 3).value["status"] == "not_computed"


def test_a_missing_customer_is_counted_and_the_day_carries_no_rate(tmp_path):
    agent = agent_in(tmp_path / "b.sqlite")
    online(agent)
    closed(agent, lambda i, d: 10.0, lambda d: 0.03, skip={(CUSTOMERS[2], DAYS[3])})
    got = area_day(agent, LINE_LOSS_FN, DAYS[3]).value
    assert got["status"] == "incomplete" and got["missing"] == 1 and got["rate_pct"] is None


def test_the_master_reads_the_day_s_missed_and_wrong_points(tmp_path):
    agent = agent_in(tmp_path / "c.sqlite")
    online(agent)
    fill(agent.store, lambda i, d: 10.0, lambda d: 0.03,
         skip={(CUSTOMERS[2], DAYS[3]), (CUSTOMERS[4], DAYS[3])})
    agent.store.put_readings([freeze(CUSTOMERS[4], DAYS[3], 1.0, "invalid",
                                     ("register_backwards",))])
    got = area_day(agent, MISSED_FN, DAYS[3]).value
    assert got == {"td": td(DAYS[3]), "points": 6, "missed": [4], "wrong": [6]}
    assert area_day(agent, MISSED_FN, DAYS[2], 2).value["missed"] == []


def test_a_day_not_over_a_point_other_than_p0_or_no_date_is_denied(tmp_path):
    agent = agent_in(tmp_path / "d.sqlite", wall=from_civil(2026, 1, 9, 12, 0))
    online(agent)
    assert area_day(agent, MISSED_FN, "2026-01-09").afn == AFN_CONFIRM      # today: not over
    assert area_day(agent, MISSED_FN, "2026-01-08", 2).fn == MISSED_FN
    [a] = ask(agent, down(AFN_CLASS2, [Unit(AFN_CLASS2, LINE_LOSS_FN, 2, {"td": td(DAYS[1])},
                                            False)], tp=Tp.at(3, agent.wall, 5)))
    assert a.afn == AFN_CONFIRM and parse_units(a.afn, a.data, True)[0].fn == 2


def test_over_real_tcp_and_the_master_s_control_command(tmp_path):
    from hostlink.aio import MasterServer, TerminalClient, local_wall

    async def until(predicate, timeout=10.0):
        end = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < end, "timed out"
            await asyncio.sleep(0.02)

    async def scenario():
        master = MasterServer(tmp_path / "m.sqlite")
        _, port = await master.listen("127.0.0.1", 0)
        agent = agent_in(tmp_path / "t.sqlite")
        closed(agent, thief_use, lambda d: 0.04 if d < 4 else 0.04 + 0.12)
        agent.uplink.settings.master = "127.0.0.1:%d" % port

        def clocks():
            agent.set_clock(time.monotonic(), local_wall())
        clocks()
        client = TerminalClient(agent.uplink.session, "127.0.0.1", port, before=clocks)
        task = asyncio.ensure_future(client.run())
        try:
            await until(lambda: master.online())
            terminal = master.online()[0]
            loss = await master.command({"op": "line-loss", "terminal": terminal,
                                         "date": DAYS[4], "timeout_s": 10})
            missed = await master.command({"op": "missed", "terminal": terminal,
                                           "date": DAYS[4], "timeout_s": 10})
        finally:
            client.stop()
            await asyncio.wait_for(task, 5)
            await master.close()
        return loss, missed
    loss, missed = asyncio.run(scenario())
    assert loss["outcome"] == "ok" and missed["outcome"] == "ok"
    [u] = loss["units"]
    assert (u["fn"], u["pn"]) == (LINE_LOSS_FN, 0) and u["value"]["status"] == "complete"
    assert [c["point"] for c in u["value"]["candidates"]] == [5, 3]
    [m] = missed["units"]
    assert m["value"]["points"] == 6 and m["value"]["missed"] == [] == m["value"]["wrong"]
