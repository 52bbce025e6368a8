"""ESAM sessions under load (issue 20 finding): on a crowded RS-485 bus a step queued behind
everyone's work met a session the meter had ended, and the top-up escalated instead of
authenticating again. Now the steps under a session go first, and a step refused for its
session is retried at once under a fresh one (a real MAC failure still escalates)."""
import collections

import simpy

from edge.prepaid.jobs import RETRY_STEPS_S
from edge.prepaid.security import TestKeyBackend
from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from tests.hil.test_prepaid_secured import START, build_local, notes


def crowded(count, meter_session_s, agent_session_min):
    env = simpy.Environment(initial_time=START)
    area = build_area(env, count, "rs485", 4, DEFAULT_EPOCH,
                      population={"local_share": 1.0, "secured_share": 1.0,
                                  "esam_session_s": meter_session_s})
    return build_local(env=env, area=area, esam_session_min=agent_session_min)


def test_top_ups_on_a_crowded_bus_are_not_refused_for_an_ended_session():
    # 30 payments at once, 20 s sessions: the status query used to wait behind the other 29
    # authentications, meet SERR 0008 at every attempt and escalate (9 of 30 before the fix)
    env, area, agent, runtime = crowded(30, 20.0, 20.0 / 60.0)
    for i in range(30):
        runtime.call(agent.prepaid.pay, "pay-%d" % i, "%012d" % (i + 1), 10.0)
    env.run(until=START + 1800.0)
    states = collections.Counter(agent.prepaid.topups.get("pay-%d" % i).state for i in range(30))
    assert states == {"done": 30}
    assert agent.prepaid.sessions.stats["serr"] == 0
    assert all(firmware(m).wallet.purchase_count == 2 for m in area.meters)


def test_a_session_the_meter_ended_is_renewed_within_the_same_attempt():
    # the meter keeps a session 60 s, the agent believes 10 min: the second top-up's status
    # query meets SERR 0008 and is asked again at once, not after a retry step
    env, area, agent, runtime = crowded(2, 60.0, 10.0)
    runtime.call(agent.prepaid.pay, "pay-0", "000000000001", 10.0)
    env.run(until=START + 120.0)
    runtime.call(agent.prepaid.pay, "pay-1", "000000000001", 10.0)
    env.run(until=START + 600.0)
    t = agent.prepaid.topups.get("pay-1")
    assert t.state == "done" and t.count == 3
    refused = [h[0] for h in t.history if "SERR 0008" in " ".join(map(str, h[2:]))]
    verified = [h[0] for h in t.history if h[1] == "verified"]
    assert len(refused) == 1 and verified[0] - refused[0] < RETRY_STEPS_S[0]
    stats = agent.prepaid.sessions.stats
    assert (stats["serr"], stats["renewed"], stats["authentications"]) == (1, 1, 2)


def test_a_top_up_whose_mac_the_meter_rejects_still_escalates():
    class Garbling(TestKeyBackend):
        """The right key, damaged top-up MACs: a real MAC failure, not a session's end."""

        def recharge_macs(self, session, amount_cents, count, customer):
            mac1, mac2 = TestKeyBackend.recharge_macs(self, session, amount_cents, count,
                                                      customer)
            return mac1[:-1] + bytes([mac1[-1] ^ 0xFF]), mac2
    env, area, agent, runtime = crowded(2, 300.0, 5.0)
    agent.prepaid.security = agent.prepaid.sessions.backend = Garbling()
    runtime.call(agent.prepaid.pay, "pay-g", "000000000001", 10.0)
    env.run(until=START + 1800.0)
    t = agent.prepaid.topups.get("pay-g")
    assert t.state == "escalated" and "SERR 0004 esam_verify_failed" in notes(t)[-1]
    assert agent.prepaid.sessions.stats.get("renewed", 0) == 0
    assert firmware(area.meters[0]).wallet.purchase_count == 1


def test_a_top_up_and_a_price_write_at_once_share_one_authentication():
    # both jobs found no session and each authenticated: the meter knows only the later one,
    # so the other job's MACs could not verify (the SERR 0004 writes of the finding)
    from tests.hil.test_price_campaign import secured_run
    env, area, agent, store, addr = secured_run()

    def pay():
        yield env.timeout(60.0)             # when the inbox starts the campaign's jobs
        agent.prepaid.pay("pay-x", "000000000001", 10.0)
    env.process(pay())
    env.run(until=env.now + 1800.0)
    assert agent.prepaid.topups.get("pay-x").state == "done"
    assert {r[1]: r[3] for r in store.rows("c")}[addr[0]] == "verified"
    assert firmware(area.meters[0]).esam.authentications == 1
    assert agent.prepaid.sessions.stats["serr"] == 0


def test_a_price_write_refused_for_an_ended_session_is_written_at_once_under_a_fresh_one():
    from tests.hil.test_price_campaign import secured_run
    env, area, agent, store, addr = secured_run()
    esam = firmware(area.meters[0]).esam
    agent.prepaid.pay("pay-x", "000000000001", 10.0)        # opens the agent's session

    def meter_ends_it():
        yield env.timeout(30.0)
        esam.end()                          # e.g. a power cycle: the agent still believes it
    env.process(meter_ends_it())
    start = env.now
    env.run(until=start + 1800.0)
    row = {r[1]: r for r in store.rows("c")}[addr[0]]
    events = [e[1] for e in row[6]]
    assert row[3] == "verified" and "no_answer" not in events
    assert [e[0] for e in row[6] if e[1] == "write"][0] - start < 60.0 + RETRY_STEPS_S[0]
    assert agent.prepaid.sessions.stats["renewed"] == 1 and esam.authentications == 2


def test_a_control_refused_for_an_ended_session_goes_again_at_once():
    from tests.hil.test_prepaid_secured import addr, build
    env, area, agent, runtime = build(session_s=60.0, esam_session_min=10.0)
    relay = firmware(area.meters[1]).relay
    runtime.call(agent.prepaid.command, addr(area, 1), "keep_power", "kp-1")
    env.run(until=START + 120.0)
    runtime.call(agent.prepaid.command, addr(area, 1), "keep_power_release", "kp-2")
    env.run(until=START + 600.0)
    release = agent.prepaid.journal.get("kp-2")
    assert release.state == "done" and not relay.keep_power
    refused = [e[0] for e in release.history if "SERR 0008" in " ".join(map(str, e[2:]))]
    verified = [e[0] for e in release.history if e[1] == "verified"]
    assert len(refused) == 1 and verified[0] - refused[0] < RETRY_STEPS_S[0]
