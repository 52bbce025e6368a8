"""Two edges of the secured path in virtual time (issue 20): the agent's own session validity
running out (it authenticates again before the meter would refuse, no SERR), and a meter
refusing a top-up's purchase count as a repeat (applied already: verified, not failed, credited
once)."""
import pytest
import simpy

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.prepaid.engine import PrepaidSettings
from edge.store import Store
from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.dlt645 import const as K

from tests.hil.test_prepaid_secured import PORT, START, build_local, notes


def test_the_agent_authenticates_again_when_its_own_session_validity_runs_out():
    env, area, agent, runtime = build_local(esam_session_min=5.0)   # the meter keeps 300 s too
    esam = firmware(area.meters[0]).esam
    runtime.call(agent.prepaid.pay, "pay-a", "000000000001", 10.0)
    env.run(until=START + 120.0)
    assert agent.prepaid.topups.get("pay-a").state == "done" and esam.authentications == 1
    env.run(until=START + 600.0)            # past the 5 min (less 30 s) the agent believes
    runtime.call(agent.prepaid.pay, "pay-b", "000000000001", 10.0)
    env.run(until=START + 900.0)
    t = agent.prepaid.topups.get("pay-b")
    assert t.state == "done" and t.count == 3
    assert esam.authentications == 2                        # a fresh session, asked first
    stats = agent.prepaid.sessions.stats
    assert stats["serr"] == 0 and stats.get("renewed", 0) == 0   # never refused for it


def test_a_count_the_meter_refuses_as_a_repeat_is_applied_not_failed():
    # the meter applied our count 2, its answer was lost, the agent restarted - and the meter's
    # status answer still shows count 1, so the agent sends count 2 again: the meter's "repeat
    # recharge" refusal says it is applied
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 3, "rs485", 4, DEFAULT_EPOCH,
                      population={"local_share": 1.0, "secured_share": 1.0})
    fw = firmware(area.meters[0])
    first = Agent(Archive.from_dict({"port": [{"name": PORT, "url": "sim:rs485"}], "meter": [
        {"addr": "000000000001", "port": PORT, "prepaid": "local", "control_level": 152,
         "customer": "000000000001"}]}), Store(":memory:", durable=False),
        Settings(curve_every_min=0, event_every_h=0, clock_check_h=None), now=env.now,
        wall=env.now, prepaid=PrepaidSettings.from_dict({"security": "test-key",
                                                         "audit_every_h": 0, "inbox_s": 0}))
    t = first.prepaid.topups.submit("pay-r", first.archive.meters["000000000001"],
                                    "000000000001", 30 * 10 ** 6)   # no runtime: never runs
    before = int(round(fw.balance(env.now) * 100))
    first.prepaid.topups.move(t, "send", "sealed count 2", count=2, before=before)
    fw.top_up(30.0, env.now)                            # what the lost answer acknowledged
    real_status, lag = fw._status, {"left": 1}

    def lagging(at):                        # its MACs made over the stale count
        s = real_status(at)
        if lag["left"]:
            lag["left"] -= 1
            s.count -= 1
            s.mac_remaining, s.mac_count = fw.esam.status_macs(s.remaining_cents, s.count, at)
        return s
    fw._status = lagging
    env, area, agent, runtime = build_local(env=env, area=area, store=first.store)
    env.run(until=START + 900.0)
    t = agent.prepaid.topups.get("pay-r")
    events = [h[1] for h in t.history]
    assert events.count("send") == 2 and "already_applied" in events
    assert any("SERR %04X" % K.SERR_REPEAT_RECHARGE in n for n in notes(t))
    assert t.state == "done" and fw.wallet.purchase_count == 2          # credited once
    assert fw.balance(env.now) == pytest.approx(before / 100.0 + 30.0, abs=0.5)
