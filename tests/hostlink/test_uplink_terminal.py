"""The terminal's own parameters over the uplink: AFN04 F1/F3/F33/F65-F68 sets are checked,
kept in a real SQLite store across a restart, journaled once (a repeat changes nothing), and
queried back with AFN0A; AFN05 F31 moves the terminal's clock (kept, journaled, time-labelled);
AFN09 F1 answers the version; a pull-only terminal uploads nothing but answers F129/F161, and
what an answer (F161, AFN0E) carried is delivered."""
import random

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.store import Reading, Store
from edge.terminal_params import TerminalClock, TerminalParams
from edge.uplink import Uplink, UplinkSettings
from protocols.civil import from_civil, iso, to_civil
from protocols.gdw1376_1 import Tp, Unit, parse_units
from protocols.gdw1376_1.params import AFN_VERSION, a1_of_civil
from protocols.gdw1376_1.units import (AFN_CLASS1, AFN_CLASS2, AFN_CLASS3, AFN_CONTROL, AFN_QUERY,
                                       AFN_SET)

from tests.hostlink.test_uplink import PASSWORD, WEDNESDAY, ask, down, online

F3 = {"ip": "10.0.0.1", "port": 8033, "backup_ip": "10.0.0.2", "backup_port": 8034,
      "apn": "cmnet"}
F33 = {"ports": [{"port": 1, "control": 0x30, "days": 1, "read_time": (0, 0), "interval_min": 20,
                  "clock_time": (0, 0, 0), "spans": [((10, 0), (55, 23))]}]}
F66 = {"unit": "day", "period": 1, "base": (0, 0, 1, 1, 1, 26), "ratio": 1,
       "items": [(["all"], [161])]}


def agent_in(path, wall=WEDNESDAY, **settings):
    archive = Archive.from_dict({"port": [{"name": "p1", "url": "loop://"}], "meter": [
        {"addr": "000000000001", "port": "p1"}, {"addr": "000000000002", "port": "p1"}]})
    store = Store(str(path), durable=False)
    agent = Agent(archive, store, Settings(curve_every_min=0, event_every_h=0, clock_check_h=-1),
                  now=0.0, wall=wall)
    Uplink(agent, UplinkSettings("127.0.0.1:0", "0171", 2082, password=PASSWORD.hex(),
                                 **settings), random.Random(1))
    return agent


def outcome(answer):
    return parse_units(0, answer.data, True)[0].fn        # 1 confirmed, 2 denied


def set_units(pfc, units, wall=WEDNESDAY):
    return down(AFN_SET, units, pw=PASSWORD, tp=Tp.at(pfc, wall, 5))


def test_parameters_are_kept_journaled_once_and_queried_back(tmp_path):
    agent = agent_in(tmp_path / "a.sqlite")
    online(agent)
    units = [Unit(AFN_SET, 1, 0, {"rts_20ms": 0, "send_delay_min": 5, "timeout_s": 30,
                                  "retries": 3, "con_flags": 3, "heartbeat_min": 5}, False),
             Unit(AFN_SET, 3, 0, F3, False), Unit(AFN_SET, 33, 0, F33, False),
             Unit(AFN_SET, 66, 1, F66, False), Unit(AFN_SET, 68, 1, {"switch": 0x55}, False)]
    [a] = ask(agent, set_units(1, units))
    assert outcome(a) == 1
    assert len(agent.store.logged("param_set")) == 5
    [a] = ask(agent, set_units(2, units, WEDNESDAY + 1))      # the same values again
    assert outcome(a) == 1 and len(agent.store.logged("param_set")) == 5
    agent.store.close()
    again = agent_in(tmp_path / "a.sqlite")                  # a restart keeps them
    online(again)
    [a] = ask(again, down(AFN_QUERY, [Unit(AFN_QUERY, 3, 0, None, False),
                                      Unit(AFN_QUERY, 66, 1, None, False)],
                          tp=Tp.at(3, WEDNESDAY, 5)))
    f3, f66 = parse_units(AFN_QUERY, a.data, True)
    assert f3.value == F3 and f66.pn == 1 and f66.value["items"] == [(["all"], [161])]


def test_f59_thresholds_replace_the_configured_audit_limits_and_survive_a_restart(tmp_path):
    from edge import validate as V
    agent = agent_in(tmp_path / "t.sqlite")
    online(agent)
    day = 24 * 3600.0
    rise = 1.3 * agent.limits.max_kw * 24                 # 1.3 x what the supply could give
    assert V.energy_flags(rise, day, (0.0, 0.0), agent.limits) == []       # [tasks.limits] 1.5
    f59 = {"over_difference": 1.2, "flying": 2.0, "stopped_15min": 8, "clock_s": 120}
    [a] = ask(agent, set_units(1, [Unit(AFN_SET, 59, 0, f59, False)]))
    assert outcome(a) == 1
    lim = agent.limits
    assert (lim.jump_margin, lim.flying_margin, lim.stopped_s, lim.clock_s) == (1.2, 2.0, 7200.0,
                                                                                120.0)
    assert V.energy_flags(rise, day, (0.0, 0.0), lim) == [V.JUMP]
    assert agent.settings.limits.jump_margin == 1.5          # the configured ones stay as loaded
    [a] = ask(agent, set_units(2, [Unit(AFN_SET, 59, 0, dict(f59, flying=1.0), False)],
                               WEDNESDAY + 1))
    assert outcome(a) == 2 and agent.limits.flying_margin == 2.0     # flying below over: denied
    [a] = ask(agent, down(AFN_QUERY, [Unit(AFN_QUERY, 59, 0, None, False)],
                          tp=Tp.at(3, WEDNESDAY, 5)))
    assert parse_units(AFN_QUERY, a.data, True)[0].value == f59
    agent.store.close()
    again = agent_in(tmp_path / "t.sqlite")                  # a restart applies them again
    assert again.limits.clock_s == 120.0 and again.limits.stopped_s == 7200.0
    online(again)
    [a] = ask(again, set_units(4, [Unit(AFN_SET, 59, 0, dict(f59, flying=0, clock_s=0), False)],
                               WEDNESDAY + 2))
    assert outcome(a) == 1                                   # 0 turns a check off
    assert V.energy_flags(100 * rise, day, (0.0, 0.0), again.limits) == [V.JUMP]
    assert V.clock_flags(0.0, 1e6, again.limits) == []


def test_bad_parameters_are_denied_and_nothing_is_kept(tmp_path):
    agent = agent_in(tmp_path / "b.sqlite")
    online(agent)
    bad = [[Unit(AFN_SET, 33, 0, dict(F33, ports=[dict(F33["ports"][0], port=9)]), False)],
           [Unit(AFN_SET, 33, 0, dict(F33, ports=[dict(F33["ports"][0], interval_min=0)]),
                 False)],
           [Unit(AFN_SET, 68, 2, {"switch": 0x55}, False)],          # task 2 is not defined
           [Unit(AFN_SET, 68, 1, {"switch": 0x12}, False)],
           [Unit(AFN_SET, 3, 0, dict(F3, port=0), False)],
           # a good unit with a bad one: the whole request is denied
           [Unit(AFN_SET, 3, 0, F3, False), Unit(AFN_SET, 66, 70, F66, False)]]
    for k, units in enumerate(bad):
        [a] = ask(agent, set_units(10 + k, units, WEDNESDAY + k))
        assert outcome(a) == 2, units
    assert agent.store.logged("param_set") == [] and TerminalParams(agent.store.db).all() == {}


def _clock_set(pfc, t, wall):
    time, weekday = a1_of_civil(to_civil(t))
    return down(AFN_CONTROL, [Unit(AFN_CONTROL, 31, 0, {"time": time, "weekday": weekday},
                                   False)], pw=PASSWORD, tp=Tp.at(pfc, wall, 5))


def test_a_clock_set_moves_the_terminal_clock_and_survives_a_restart(tmp_path):
    agent = agent_in(tmp_path / "c.sqlite")
    online(agent)
    target = WEDNESDAY + 90.0
    [a] = ask(agent, _clock_set(4, target, WEDNESDAY))
    assert outcome(a) == 1 and agent.wall == target
    [(at, kind, detail)] = agent.store.logged("clock_set")
    assert "offset 0.000 s -> 90.000 s" in detail and "4-" in detail
    params = TerminalParams(agent.store.db)
    assert params.offset_s == 90.0
    assert TerminalClock(lambda: 1000.0, params)() == 1090.0
    [a] = ask(agent, _clock_set(4, target, WEDNESDAY))      # the same frame is a replay
    assert outcome(a) == 2 and len(agent.store.logged("clock_set")) == 1
    no_label = down(AFN_CONTROL, [Unit(AFN_CONTROL, 31, 0, {"time": (0, 0, 0, 1, 1, 26),
                                                             "weekday": 4}, False)], pw=PASSWORD)
    [a] = ask(agent, no_label)
    assert outcome(a) == 2


def test_the_version_is_answered(tmp_path):
    agent = agent_in(tmp_path / "d.sqlite")
    online(agent)
    [a] = ask(agent, down(AFN_VERSION, [Unit(AFN_VERSION, 1, 0, None, False)]))
    [u] = parse_units(AFN_VERSION, a.data, True)
    assert u.value["vendor"] == "GRDE" and u.value["device"] == "01712082"
    assert u.value["capacity"] == "P0002" and u.value["protocol"] == "1376"


def test_a_pull_only_terminal_uploads_nothing_but_answers_f129_and_f161(tmp_path):
    agent = agent_in(tmp_path / "e.sqlite", active_upload=False)
    freeze_at = from_civil(2026, 11, 25, 0, 2)
    agent.store.put_readings([Reading("000000000001", "daily_freeze", 0x05060101, "2026-11-24",
                                      {"kwh": [12.5, 3, 3, 3, 3.5], "at": freeze_at},
                                      read_at=freeze_at)])
    online(agent)
    assert not agent.uplink.has_upload() and agent.uplink.next_upload(4096) is None
    assert agent.store.unsent_ids(10)                       # kept for the master to ask
    [a] = ask(agent, down(AFN_CLASS2, [Unit(AFN_CLASS2, 161, 1, {"td": (24, 11, 26)}, False)],
                          tp=Tp.at(5, WEDNESDAY, 5)))
    [u] = parse_units(AFN_CLASS2, a.data, True)
    assert u.value["forward_active"][0] == 12.5
    [a] = ask(agent, down(AFN_CLASS1, [Unit(AFN_CLASS1, 129, 1, None, False)],
                          tp=Tp.at(6, WEDNESDAY, 5)))
    [u] = parse_units(AFN_CLASS1, a.data, True)             # the freeze stands in for F129
    assert u.value["forward_active"][0] == 12.5 and u.value["time"] == (2, 0, 25, 11, 26)


def test_a_restart_after_an_outage_is_reported_as_erc14(tmp_path):
    from edge.terminal_params import power_restored
    from protocols.gdw1376_1.erc import decode_event
    agent = agent_in(tmp_path / "f.sqlite")
    params = TerminalParams(agent.store.db)
    assert power_restored(agent.store, params, WEDNESDAY) is None      # a first start
    params.alive(WEDNESDAY + 600)
    r = power_restored(agent.store, params, WEDNESDAY + 4200)          # off for an hour
    assert r is not None and agent.store.logged("power_restored")
    token, afn, [unit] = agent.uplink.next_upload(4096)
    [event] = unit.value["events"]
    rec = decode_event(event["erc"], event["data"])
    assert event["erc"] == 14
    assert (rec.off_at, rec.on_at) == ((10, 12, 25, 11, 26), (10, 13, 25, 11, 26))
    assert power_restored(agent.store, params, WEDNESDAY + 4210) is None   # no gap: no outage


def test_a_started_class_2_task_drives_which_freezes_go_up_and_when(tmp_path):
    night = from_civil(2026, 11, 25, 0, 30)
    agent = agent_in(tmp_path / "g.sqlite", wall=night)
    task = dict(F66, base=(0, 0, 1, 25, 11, 26), items=[([1], [161])])    # 01:00 daily, p1
    online(agent)
    [a] = ask(agent, set_units(1, [Unit(AFN_SET, 66, 1, task, False),
                                   Unit(AFN_SET, 68, 1, {"switch": 0x55}, False)], night))
    assert outcome(a) == 1
    freeze_at = from_civil(2026, 11, 25, 0, 2)
    agent.store.put_readings([Reading(m, "daily_freeze", 0x05060101, "2026-11-24",
                                      {"kwh": [12.5, 3, 3, 3, 3.5], "at": freeze_at},
                                      read_at=freeze_at)
                              for m in ("000000000001", "000000000002")])
    up = agent.uplink
    assert not up.has_upload() and up.next_upload(4096) is None      # before 01:00: nothing
    agent.set_clock(agent.now, from_civil(2026, 11, 25, 1, 0, 5))
    assert up.has_upload()
    token, afn, units = up.next_upload(4096)
    assert [(u.fn, u.pn) for u in units] == [(161, 1)]               # p2 is in no task
    assert not up.has_upload()
    [a] = ask(agent, set_units(2, [Unit(AFN_SET, 68, 1, {"switch": 0xAA}, False)],
                               agent.wall))                           # stopped: all go again
    assert outcome(a) == 1
    assert len(up._in_flight_ids()) == 2                 # p2's freeze went up with the answer


def test_report_instants_of_hourly_and_monthly_tasks():
    from edge.report_tasks import last_instant
    hourly = {"unit": "hour", "period": 2, "base": (0, 15, 1, 1, 1, 26)}
    assert last_instant(hourly, from_civil(2026, 1, 1, 0, 0)) is None
    assert last_instant(hourly, from_civil(2026, 1, 1, 6, 0)) == from_civil(2026, 1, 1, 5, 15)
    monthly = {"unit": "month", "period": 1, "base": (0, 0, 2, 31, 1, 26)}   # the 31st, 02:00
    assert last_instant(monthly, from_civil(2026, 3, 30)) == from_civil(2026, 1, 31, 2, 0)
    assert last_instant(monthly, from_civil(2026, 3, 31, 3)) == from_civil(2026, 3, 31, 2, 0)


def test_a_task_base_that_is_no_date_is_denied_and_uploads_go_on(tmp_path):
    """An F66 base all EE or naming 31 February was kept and then raised in the upload path
    at every connection (the uplink lost for good, again after each restart): now denied."""
    agent = agent_in(tmp_path / "a.sqlite")
    online(agent)
    agent.store.put_readings([Reading("000000000001", "daily_freeze", 0x05060101, "2026-11-24",
                                      {"kwh": [1.0, 0.25, 0.25, 0.25, 0.25], "at": 0.0})])
    for pfc, base in enumerate([None, (0, 0, 0, 31, 2, 26), (0, 0, 25, 1, 1, 26)], 1):
        units = [Unit(AFN_SET, 66, 1, dict(F66, base=base), False),
                 Unit(AFN_SET, 68, 1, {"switch": 0x55}, False)]
        [a] = ask(agent, set_units(pfc, units, WEDNESDAY + pfc))
        assert outcome(a) == 2
    assert agent.store.logged("param_set") == [] and agent.uplink.report_tasks() == []
    agent.uplink.has_upload()                   # raised TypeError / ValueError before
    agent.uplink.next_upload(1024)


def test_a_handler_that_fails_denies_and_the_uplink_serves_on(tmp_path, monkeypatch):
    agent = agent_in(tmp_path / "a.sqlite")
    online(agent)

    def broken(frame, units):
        raise RuntimeError("a bug")
    monkeypatch.setattr(agent.uplink, "_version", broken)
    [a] = ask(agent, down(AFN_VERSION, [Unit(AFN_VERSION, 1, 0, None, False)]))
    assert outcome(a) == 2
    assert "internal error: RuntimeError" in agent.uplink.denials[-1][1]
    monkeypatch.undo()
    [a] = ask(agent, down(AFN_VERSION, [Unit(AFN_VERSION, 1, 0, None, False)]))
    assert a.afn == AFN_VERSION
# public master requests (docs/gdw1376_1-notes.md, "Function codes of the master's requests")
PUBLIC_QUERIES = ["68 32 00 32 00 68 4B 00 50 02 00 02 09 70 00 00 01 00 19 16",    # AFN09 F1
                  "68 32 00 32 00 68 4B 01 32 B4 37 02 0A 65 00 00 10 0A F4 16",    # AFN0A
                  "68 32 00 32 00 68 4B 84 51 5C FD 02 0C 61 01 01 40 14 3E 16"]    # AFN0C
PUBLIC_SETS = ["68 76 00 76 00 68 4A 00 00 FF FF 20 04 63 01 01 02 06 EE EE EE 03 32 02 64 04"
               " 96 06 64 05 00 0A 14 3C 55 F6 16",                                   # AFN04
               "68 6A 00 6A 00 68 4A 10 13 39 30 F6 05 F1 00 00 40 03 55 30 10 12 83 15 60 04"
               " 01 55 30 10 12 00 50 16"]                                            # AFN05 F31


def test_the_masters_requests_carry_the_function_public_masters_use(tmp_path):
    from protocols.gdw1376_1 import Deframer, decode_frame
    from protocols.gdw1376_1.frame import request_function
    from tests.helpers import deframe
    for text in PUBLIC_QUERIES:
        f = decode_frame(bytes.fromhex(text))
        assert request_function(f.afn) == f.func == 11, text
    for text in PUBLIC_SETS:
        raw = bytes.fromhex(text)
        assert request_function(raw[12]) == raw[6] & 0x0F == 10, text
    agent = agent_in(tmp_path / "h.sqlite")
    master = online(agent)
    for afn in (AFN_VERSION, AFN_QUERY, AFN_CLASS1, AFN_CLASS2, AFN_SET, AFN_CONTROL):
        master.request(afn, [Unit(afn, 1, 0, None, False)] if afn in (AFN_VERSION, AFN_QUERY)
                       else [], 1.0, WEDNESDAY)
    sent = deframe(Deframer(), [master.data_to_send()])
    assert [(f.afn, f.func) for f in sent] == [(0x09, 11), (0x0A, 11), (0x0C, 11), (0x0D, 11),
                                               (0x04, 10), (0x05, 10)]


def _f1(heartbeat_min):
    return {"rts_20ms": 0, "send_delay_min": 5, "timeout_s": 30, "retries": 3, "con_flags": 3,
            "heartbeat_min": heartbeat_min}


def test_f1_retunes_the_heartbeat_and_f3_is_where_the_next_dial_goes(tmp_path):
    import asyncio
    import time
    from hostlink.aio import MasterServer, TerminalClient, local_wall
    from hostlink.master import OK
    from tests.hostlink.helpers import concentrator

    path = str(tmp_path / "t.sqlite")

    async def until(predicate, timeout=10.0):
        end = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < end, "timed out"
            await asyncio.sleep(0.02)

    async def scenario():
        first, second = MasterServer(tmp_path / "m1.sqlite"), MasterServer(tmp_path / "m2.sqlite")
        _, p1 = await first.listen("127.0.0.1", 0)
        _, p2 = await second.listen("127.0.0.1", 0)
        agent = concentrator(2082, path=path, password=PASSWORD.hex(), reconnect_min_s=0.05,
                             reconnect_max_s=0.2)
        agent.uplink.settings.master = "127.0.0.1:%d" % p1
        up = agent.uplink

        def clocks():
            agent.set_clock(time.monotonic(), local_wall())
        client = TerminalClient(up.session, "127.0.0.1", 1, before=clocks,
                                addresses=up.master_addresses)
        task = asyncio.ensure_future(client.run())
        try:
            await until(lambda: first.online())
            f3 = {"ip": "127.0.0.1", "port": p2, "backup_ip": "127.0.0.1", "backup_port": p1,
                  "apn": "cmnet"}
            r = await first.request(first.online()[0], AFN_SET, [
                Unit(AFN_SET, 1, 0, _f1(7), False), Unit(AFN_SET, 3, 0, f3, False)],
                pw=PASSWORD)
            assert r.outcome == OK
            assert up.session.settings.heartbeat_s == 420.0             # retuned, online
            assert up.session.settings.confirm_timeout_s == 30.0          # F1's answer timeout
            assert up.session.settings.login_tries == 4                   # and 3 resends
            assert up.session.next_deadline() <= time.monotonic() + 420.0
            assert client.port == p1                                  # not redialled yet
            client.drop()
            await until(lambda: second.online())                      # the next dial: F3's main
            await second.close()                                      # main gone: the backup
            await until(lambda: first.online() and client.port == p1)
            details = [d.split(" by ")[0] for _, _, d in agent.store.logged("uplink_retuned")]
            assert details == ["heartbeat 7 min, timeout 30 s, 3 resends",
                               "master 127.0.0.1:%d, 127.0.0.1:%d" % (p2, p1)]
        finally:
            client.stop()
            await asyncio.wait_for(task, 10)
            await first.close()
        agent.store.close()
        again = agent_in(path)                                       # a restart keeps both
        assert again.uplink.master_addresses() == [("127.0.0.1", p2), ("127.0.0.1", p1)]
        assert again.uplink.session.settings.heartbeat_s == 420.0
    asyncio.run(scenario())


def test_a_reading_the_master_pulled_is_delivered_not_lost(tmp_path):
    from edge.metrics import store_samples
    agent = agent_in(tmp_path / "p.sqlite", active_upload=False)
    freeze_at = from_civil(2026, 11, 25, 0, 2)
    day = [Reading(m, "daily_freeze", 0x05060101, "2026-11-24", {"kwh": [12.5, 3, 3, 3, 3.5],
                                                                 "at": freeze_at},
                   read_at=freeze_at) for m in ("000000000001", "000000000002")]
    agent.store.put_readings(day)
    online(agent)
    [a] = ask(agent, down(AFN_CLASS2, [Unit(AFN_CLASS2, 161, 1, {"td": (24, 11, 26)}, False),
                                       Unit(AFN_CLASS2, 161, 2, {"td": (23, 11, 26)}, False)],
                          tp=Tp.at(5, WEDNESDAY, 5)))
    assert [u.value["forward_active"][0] for u in parse_units(AFN_CLASS2, a.data, True)] == [
        12.5, None]                                       # p2 has no freeze of the 23rd
    assert agent.store.unsent_count() == 1 and agent.store.pulled_count() == 1
    samples = {s.name: s.value for s in store_samples(agent.store)}
    assert samples["gridedge_readings_pulled_total"] == 1
    agent.store.max_readings = 2                          # a new freeze evicts one reading
    agent.store.put_readings([Reading("000000000001", "daily_freeze", 0x05060101, "2026-11-25",
                                      {"kwh": [13.0] * 5}, read_at=freeze_at + 86400)])
    assert agent.store.counter("readings_evicted") == 1
    assert agent.store.counter("readings_lost") == 0      # the pulled one went, not p2's
    assert [r.addr for r in agent.store.readings(period="2026-11-24")] == ["000000000002"]


def test_events_the_master_pulled_with_afn0e_are_delivered_when_every_record_went(tmp_path):
    agent = agent_in(tmp_path / "e.sqlite", active_upload=False)
    agent.store.put_readings([        # a meter's power-down goes up as two records: ERC13, ours
        Reading(m, "event", 0x03110001, "power_down#3",
                {"start": "2026-11-24 21:10:05", "end": "2026-11-24 21:40:00"}, read_at=at)
        for m, at in (("000000000001", 1.0), ("000000000002", 2.0))])
    online(agent)

    def pull(pfc, pm, pn):
        [a] = ask(agent, down(AFN_CLASS3, [Unit(AFN_CLASS3, 1, 0, {"pm": pm, "pn": pn}, False)],
                              tp=Tp.at(pfc, WEDNESDAY, 5)))
        return [e["erc"] for e in parse_units(AFN_CLASS3, a.data, True)[0].value["events"]]
    assert pull(5, 0, 3) == [13, 64, 13]          # all of p1's, half of p2's
    assert agent.store.pulled_count() == 1 and agent.store.unsent_count() == 1
    assert pull(6, 3, 4) == [64]                  # p2's rest alone: it still goes up itself
    assert agent.store.pulled_count() == 1
    assert pull(7, 2, 4) == [13, 64]              # both of p2's in one answer: delivered
    assert agent.store.pulled_count() == 2 and agent.store.unsent_count() == 0


def _task_set(agent, task, pfc, wall):
    [a] = ask(agent, set_units(pfc, [Unit(AFN_SET, 66, 1, task, False),
                                     Unit(AFN_SET, 68, 1, {"switch": 0x55}, False)], wall))
    assert outcome(a) == 1


def test_a_due_reading_behind_a_long_not_yet_due_backlog_goes_up(tmp_path):
    night = from_civil(2026, 11, 25, 0, 30)
    agent = agent_in(tmp_path / "q.sqlite", wall=night)
    online(agent)
    _task_set(agent, dict(F66, base=(0, 0, 1, 25, 11, 26), items=[([1], [161])]), 1, night)
    first = from_civil(2026, 8, 1)
    agent.store.put_readings([Reading("000000000002", "daily_freeze", 0x05060101,
                                      "%04d-%02d-%02d" % to_civil(first + k * 86400)[:3],
                                      {"kwh": [1.0] * 5}) for k in range(100)])   # p2: no task
    agent.store.put_readings([Reading("000000000001", "daily_freeze", 0x05060101, day,
                                      {"kwh": [2.0] * 5}) for day in ("2026-11-25", "2026-11-24")])
    up = agent.uplink
    agent.set_clock(agent.now, from_civil(2026, 11, 25, 1, 0, 5))
    assert up.has_upload()
    token, afn, units = up.next_upload(4096)
    assert [(u.fn, u.pn, u.value["td"]) for u in units] == [(161, 1, (24, 11, 26))]
    assert not up.has_upload()                      # the 25th waits for the next 01:00
    for where, args, index in up._due_clauses():         # each read by its index, in order
        plan = " ".join(str(r) for r in agent.store.db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM reading INDEXED BY %s WHERE confirmed = 0 AND %s"
            " ORDER BY id LIMIT 1" % (index, where), args))
        assert "USING INDEX " + index in plan, plan


def test_the_stores_due_condition_is_the_tasks_rule(tmp_path):
    from edge.report_tasks import due
    agent = agent_in(tmp_path / "r.sqlite", wall=from_civil(2026, 11, 1))
    agent.settings.curve_interval_min = 15
    online(agent)
    tasks = [dict(F66, unit="hour", period=6, base=(0, 30, 0, 1, 11, 26),
                  items=[([1], [161]), ([1], [101]), (["all"], [177])])]
    _task_set(agent, tasks[0], 1, agent.wall)
    rs = []
    for k in range(40):
        t = from_civil(2026, 10, 28) + k * 5 * 3600 + 17 * 60
        addr = "00000000000%d" % (1 + k % 2)
        rs.append(Reading(addr, "daily_freeze", 1, iso(t)[:10], {"kwh": [1.0] * 5}))
        rs.append(Reading(addr, "settlement", 2, iso(t)[:7], {"kwh": [1.0] * 5}))
        rs.append(Reading(addr, "load_curve", 3, iso(t - t % 900), {"values": [1.0]}))
        rs.append(Reading("000000000009", "daily_freeze", 1, iso(t)[:10], {}))  # no point
    agent.store.put_readings(rs)
    up = agent.uplink
    unmapped = len({r.period for r in rs if r.addr == "000000000009"})
    for hours in range(0, 24 * 8, 7):
        agent.set_clock(agent.now, from_civil(2026, 10, 29) + hours * 3600)
        chosen = {i for i, _ in agent.store.unsent(10 ** 6, up._due_clauses())}
        every = agent.store.unsent(10 ** 6)
        rule = {i for i, r in every if due(up.report_tasks(), up.upload_unit(r), agent.wall)}
        assert chosen == rule, iso(agent.wall)
        assert all(r.addr != "000000000009" for _, r in every)    # no point: dropped, counted
    assert agent.counters["uplink_unmapped"] == unmapped


def test_a_heartbeat_set_acts_once_and_only_with_the_password_and_a_fresh_label(tmp_path):
    agent = agent_in(tmp_path / "s.sqlite")
    online(agent)
    s = agent.uplink.session
    f1 = [Unit(AFN_SET, 1, 0, _f1(3), False)]
    [a] = ask(agent, down(AFN_SET, f1, pw=bytes(16), tp=Tp.at(1, WEDNESDAY, 5)))
    assert outcome(a) == 2 and s.settings.heartbeat_s == 60.0          # wrong password
    [a] = ask(agent, down(AFN_SET, f1, pw=PASSWORD))
    assert outcome(a) == 2 and s.settings.heartbeat_s == 60.0          # no time label
    [a] = ask(agent, down(AFN_SET, f1, pw=PASSWORD, tp=Tp.at(2, WEDNESDAY - 3600, 5)))
    assert outcome(a) == 2 and s.settings.heartbeat_s == 60.0          # stale label
    [a] = ask(agent, set_units(3, f1))
    assert outcome(a) == 1 and s.settings.heartbeat_s == 180.0
    [a] = ask(agent, set_units(4, f1, WEDNESDAY + 1))                   # the same again
    assert outcome(a) == 1 and len(agent.store.logged("uplink_retuned")) == 1
    assert s.counters["heartbeat_retuned"] == 1


def test_a_clock_set_replayed_a_month_later_or_far_from_its_label_is_denied(tmp_path):
    """Tp names only DD hh:mm:ss: a captured clock set sent again on the same day and hour
    of a later month passed the label check and wound the clock back a month (review
    finding). The time set must agree with the frame's own label."""
    from protocols.civil import DAY
    from protocols.gdw1376_1 import encode_frame
    agent = agent_in(tmp_path / "c.sqlite")
    online(agent)
    frame = _clock_set(5, WEDNESDAY + 30.0, WEDNESDAY)
    [a] = ask(agent, frame)
    assert outcome(a) == 1
    agent.set_clock(agent.now, WEDNESDAY + 30 * DAY)        # a month on, same DD hh:mm
    [a] = ask(agent, frame)
    assert outcome(a) == 2 and agent.wall == WEDNESDAY + 30 * DAY
    [a] = ask(agent, _clock_set(6, WEDNESDAY + 30 * DAY + 3600.0, WEDNESDAY + 30 * DAY))
    assert outcome(a) == 2                                   # an hour away from its label
    assert len(agent.store.logged("clock_set")) == 1
    assert encode_frame(frame)                               # the frame itself is well formed


def test_any_control_replayed_the_next_month_is_denied(tmp_path):
    """The replay window forgot a label when it expired, and the same DD hh:mm:ss comes round
    the next month: the bodies of acted-on frames are kept two months."""
    from protocols.civil import DAY
    agent = agent_in(tmp_path / "r.sqlite")
    online(agent)
    units = [Unit(AFN_SET, 66, 1, F66, False)]
    frame = set_units(7, units)
    [a] = ask(agent, frame)
    assert outcome(a) == 1
    agent.set_clock(agent.now, WEDNESDAY + 30 * DAY)         # the same DD in the next month
    [a] = ask(agent, frame)
    assert outcome(a) == 2 and "replayed" in agent.uplink.denials[-1][1]


def test_the_running_note_follows_a_clock_set_back(tmp_path):
    params = TerminalParams(Store(str(tmp_path / "n.sqlite"), durable=False).db)
    params.alive(WEDNESDAY + 3600.0)
    params.alive(WEDNESDAY)                  # the clock was set back an hour
    assert params.started(WEDNESDAY + 10.0) == WEDNESDAY


def test_a_parameter_set_goes_up_as_erc3_naming_the_master_and_its_items(tmp_path):
    from protocols.gdw1376_1.erc import Erc3ParameterChange
    agent = agent_in(tmp_path / "p.sqlite")
    online(agent)
    units = [Unit(AFN_SET, 3, 0, F3, False), Unit(AFN_SET, 66, 1, F66, False)]
    [a] = ask(agent, set_units(8, units))
    assert outcome(a) == 1
    [a] = ask(agent, set_units(9, units, WEDNESDAY + 1))       # the same values: no change
    [r] = agent.store.readings(task="terminal_param")
    unit = agent.uplink.upload_unit(r)
    [event] = unit.value["events"]
    rec = Erc3ParameterChange.decode(event["data"])
    assert event["erc"] == 3 and rec.msa == 1           # the test master's MSA
    assert sorted((tuple(p), tuple(f)) for p, f in rec.units) == [((0,), (3,)), ((1,), (66,))]
def test_afn0d_f27_answers_the_stored_day_voltage_statistics(tmp_path):
    from edge import pq
    agent = agent_in(tmp_path / "v.sqlite", active_upload=False)
    max_at, min_at = from_civil(2026, 11, 24, 19, 30), from_civil(2026, 11, 24, 10, 15)
    stats = {"samples": 96, "mean_v": 219.4, "rate": 0.9167, "over_min": 0.0,
             "under_min": 120.0, "ok_min": 1320.0, "max_v": 231.2, "max_at": max_at,
             "min_v": 185.3, "min_at": min_at, "lower_v": 198.0, "upper_v": 235.4}
    agent.store.put_readings([Reading("000000000001", pq.TASK, pq.DI_VOLTAGE, "2026-11-24", stats,
                                      read_at=max_at)])
    online(agent)
    [a] = ask(agent, down(AFN_CLASS2, [Unit(AFN_CLASS2, 27, 1, {"td": (24, 11, 26)}, False),
                                       Unit(AFN_CLASS2, 27, 1, {"td": (23, 11, 26)}, False)],
                          tp=Tp.at(5, WEDNESDAY, 5)))
    day, empty = parse_units(AFN_CLASS2, a.data, True)
    v = day.value
    assert v["td"] == (24, 11, 26) and len(a.data) > 93
    assert (v["a_under_lower_min"], v["a_under_lower_lower_min"], v["a_ok_min"]) == (120, 120,
                                                                                     1320)
    assert (v["a_max_v"], v["a_max_at"], v["a_min_v"], v["a_min_at"]) == (231.2, (30, 19, 24),
                                                                          185.3, (15, 10, 24))
    assert v["a_ok_rate"] == 91.67 and v["a_mean_v"] == 219.4 and v["b_max_v"] is None
    assert v["b_ok_min"] == pq.NO_MINUTES
    assert empty.value["a_ok_min"] == pq.NO_MINUTES and empty.value["a_max_v"] is None
