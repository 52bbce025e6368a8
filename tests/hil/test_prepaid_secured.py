"""The secured path in virtual time: ESAM-secured meters (the simulator's TEST-key ESAM) under
the agent's cost control - sealed trip, alarm, close and keep-power, sessions reused and
renewed, a plaintext control refused, a wrong key, an expired session (issue 20)."""
import simpy

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.prepaid.engine import PrepaidSettings
from edge.prepaid.policy import FriendlyWindows
from edge.store import Store
from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY
from hil.simruntime import SimRuntime

START = DEFAULT_EPOCH + DAY + 8 * 3600.0
PORT = "rs485-1"


def build(count=3, level=152, customers=(), session_s=300.0, **prepaid):
    env = simpy.Environment(initial_time=START)
    area = build_area(env, count, "rs485", 3, DEFAULT_EPOCH,
                      population={"local_share": 0.0, "secured_share": 1.0,
                                  "esam_session_s": session_s})
    doc = {"port": [{"name": PORT, "url": "sim:rs485", "medium": "rs485"}],
           "meter": [{"addr": m.addr[::-1].hex(), "port": PORT, "prepaid": "remote",
                      "control_level": level, "tariff": "flat", "customer": "C%d" % i}
                     for i, m in enumerate(area.meters)]}
    settings = PrepaidSettings.from_dict(dict({
        "every_min": 15, "tariff": {"flat": {"price": 1.0}}, "security": "test-key",
        "defaults": {"alarm": 5.0, "trip": 0.0, "close_allowed": 2.0, "balance": 50.0},
        "customer": list(customers)}, **prepaid))
    settings.friendly = FriendlyWindows(0, 0, weekends=False)
    agent = Agent(Archive.from_dict(doc), Store(":memory:", durable=False),
                  Settings(curve_every_min=0, event_every_h=0, clock_check_h=None),
                  now=env.now, wall=env.now, prepaid=settings)
    runtime = SimRuntime(env, agent, {PORT: area.network})
    return env, area, agent, runtime


def addr(area, i):
    return area.meters[i].addr[::-1].hex()


def notes(cmd):
    return [" ".join(str(x) for x in e[1:]) for e in cmd.history]


def test_sealed_trip_alarm_close_and_keep_power_on_secured_meters():
    env, area, agent, runtime = build(customers=[
        {"id": "C0", "balance": 0.5, "direct_close": True}, {"id": "C1", "balance": 0.5,
                                                             "keep_power": True}])
    relays = [firmware(m).relay for m in area.meters]
    env.run(until=START + 2 * 3600.0)
    assert not relays[0].closed and relays[0].alarm          # sealed 2A, then sealed 1A
    assert relays[1].closed                                  # keep-power: no trip sent
    done = [c for c in agent.prepaid.journal.all() if c.state == "done"]
    assert {(c.meter, c.action) for c in done} >= {(addr(area, 0), "alarm"), (addr(area, 0), "trip")}
    assert all("send sealed" in notes(c) for c in done)
    assert runtime.call(agent.prepaid.pay, "pay-0", "C0", 10.0)
    runtime.call(agent.prepaid.command, addr(area, 2), "keep_power", "master-kp-1")
    env.run(until=START + 2.5 * 3600.0)
    assert relays[0].closed and relays[2].keep_power         # sealed 1C and sealed 3A
    stats = agent.prepaid.sessions.stats
    assert stats["authentications"] >= 3 and stats["serr"] == 0 and stats["auth_refused"] == 0
    assert sum(firmware(m).esam.authentications for m in area.meters) == stats["authentications"]


def test_a_secured_meter_refuses_plaintext_and_the_agent_escalates():
    env, area, agent, runtime = build(level=2, customers=[{"id": "C0", "balance": 0.5}])
    env.run(until=START + 2 * 3600.0)
    assert firmware(area.meters[0]).relay.closed
    cmds = [c for c in agent.prepaid.journal.all() if c.meter == addr(area, 0)]
    assert cmds and all(c.state == "escalated" for c in cmds if c.action in ("alarm", "trip"))
    assert any("refused error_reply" in n for c in cmds for n in notes(c))
    assert agent.counters["prepaid_escalated"] >= 1


def test_a_wrong_key_is_refused_by_identity_authentication_and_escalated():
    env, area, agent, runtime = build(customers=[{"id": "C0", "balance": 0.5}])
    agent.prepaid.security.key = b"not the meters' key"
    env.run(until=START + 2 * 3600.0)
    assert firmware(area.meters[0]).relay.closed and not firmware(area.meters[0]).relay.alarm
    cmds = [c for c in agent.prepaid.journal.all() if c.meter == addr(area, 0)]
    assert cmds and all(c.state == "escalated" for c in cmds)
    assert any("SERR 0008 identity_authentication_failed" in n for c in cmds for n in notes(c))
    assert agent.prepaid.sessions.stats["auth_refused"] >= 4
    assert agent.prepaid.sessions.stats["authentications"] == 0


def test_a_session_the_meter_ended_is_renewed_after_its_serr():
    # the meters keep a session 60 s, the agent believes 10 min: the second command meets SERR
    env, area, agent, runtime = build(session_s=60.0, esam_session_min=10.0)
    relay = firmware(area.meters[1]).relay
    runtime.call(agent.prepaid.command, addr(area, 1), "keep_power", "kp-1")
    env.run(until=START + 120.0)
    assert relay.keep_power
    runtime.call(agent.prepaid.command, addr(area, 1), "keep_power_release", "kp-2")
    env.run(until=START + 600.0)
    assert not relay.keep_power
    release = agent.prepaid.journal.get("kp-2")
    assert release.state == "done"
    assert any("SERR 0008 identity_authentication_failed" in n for n in notes(release))
    stats = agent.prepaid.sessions.stats
    assert (stats["serr"], stats["authentications"]) == (1, 2)
