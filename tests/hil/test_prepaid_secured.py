"""The secured path in virtual time: ESAM-secured meters (the simulator's TEST-key ESAM) under
the agent's cost control - sealed trip, alarm, close and keep-power, sessions reused and
renewed, a plaintext control refused, a wrong key, an expired session (issue 20)."""
import pytest
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


# --- remote top-up of local-wallet meters ---------------------------------------------------

def build_local(count=3, env=None, area=None, store=None, **prepaid):
    env = env or simpy.Environment(initial_time=START)
    area = area or build_area(env, count, "rs485", 4, DEFAULT_EPOCH,
                              population={"local_share": 1.0, "secured_share": 1.0})
    doc = {"port": [{"name": PORT, "url": "sim:rs485", "medium": "rs485"}],
           "meter": [{"addr": m.addr[::-1].hex(), "port": PORT, "prepaid": "local",
                      "control_level": 152, "customer": "%012d" % (i + 1)}
                     for i, m in enumerate(area.meters)]}
    settings = PrepaidSettings.from_dict(dict({"every_min": 15, "security": "test-key",
                                               "audit_every_h": 0, "inbox_s": 0}, **prepaid))
    store = store or Store(":memory:", durable=False)
    agent = Agent(Archive.from_dict(doc), store,
                  Settings(curve_every_min=0, event_every_h=0, clock_check_h=None),
                  now=env.now, wall=env.now, prepaid=settings)
    runtime = SimRuntime(env, agent, {PORT: area.network})
    return env, area, agent, runtime


def test_a_payment_tops_up_a_local_wallet_once_and_is_verified():
    env, area, agent, runtime = build_local()
    m = firmware(area.meters[0])
    before = m.balance(env.now)
    assert runtime.call(agent.prepaid.pay, "pay-1", "000000000001", 50.0)
    assert not runtime.call(agent.prepaid.pay, "pay-1", "000000000001", 50.0)   # same id
    env.run(until=START + 600.0)
    t = agent.prepaid.topups.get("pay-1")
    assert t.state == "done" and t.count == 2 and m.wallet.purchase_count == 2
    assert m.balance(env.now) == pytest.approx(before + 50.0, abs=0.5)
    assert "send sealed count 2" in notes(t) and any(n.startswith("verified count 2") for n in notes(t))


def test_overdraft_is_paid_first_and_the_hoarding_limit_is_not_passed():
    env, area, agent, runtime = build_local()
    owing, full = firmware(area.meters[0]), firmware(area.meters[1])
    owing.advance(env.now)
    owing.wallet.settle(owing.ledger.at(env.now))
    owing.wallet._balance = -3.0                            # 3 yuan overdrawn
    full.wallet.hoarding_limit = full.balance(env.now) + 10.0
    runtime.call(agent.prepaid.pay, "pay-o", "000000000001", 20.0)
    runtime.call(agent.prepaid.pay, "pay-h", "000000000002", 50.0)
    env.run(until=START + 900.0)
    assert agent.prepaid.topups.get("pay-o").state == "done"
    assert owing.balance(env.now) == pytest.approx(17.0, abs=0.5)
    held = agent.prepaid.topups.get("pay-h")
    assert held.state == "escalated" and "hoarding limit" in notes(held)[-1]
    assert full.wallet.purchase_count == 1 and held.count is None      # never sent
    events = {r.value["event"] for r in agent.store.readings(task="prepaid_event")}
    assert "topup_escalated" in events


def test_an_applied_purchase_count_is_already_applied_after_a_restart():
    # the meter applied our count 2 but the answer was lost and the agent restarted
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 3, "rs485", 4, DEFAULT_EPOCH,
                      population={"local_share": 1.0, "secured_share": 1.0})
    m = firmware(area.meters[0])
    store = Store(":memory:", durable=False)
    doc = {"port": [{"name": PORT, "url": "sim:rs485", "medium": "rs485"}],
           "meter": [{"addr": m.addr[::-1].hex(), "port": PORT, "prepaid": "local",
                      "control_level": 152, "customer": "000000000001"}]}
    first = Agent(Archive.from_dict(doc), store, Settings(curve_every_min=0, event_every_h=0,
                                                           clock_check_h=None),
                  now=env.now, wall=env.now, prepaid=PrepaidSettings.from_dict(
                      {"security": "test-key", "audit_every_h": 0, "inbox_s": 0}))
    t = first.prepaid.topups.submit("pay-r", first.archive.meters[m.addr[::-1].hex()],
                                    "000000000001", 30 * 10 ** 6)  # never runs: no runtime
    before = int(round(m.balance(env.now) * 100))
    first.prepaid.topups.move(t, "send", "sealed count 2", count=2, before=before)
    m.top_up(30.0, env.now)                             # what the lost answer acknowledged
    env, area, agent, runtime = build_local(env=env, area=area, store=store)
    env.run(until=START + 600.0)
    t = agent.prepaid.topups.get("pay-r")
    assert t.state == "done" and m.wallet.purchase_count == 2        # credited once
    assert notes(t).count("send sealed count 2") == 1


def test_a_wrong_key_cannot_top_up_and_an_unreachable_meter_expires():
    env, area, agent, runtime = build_local(expiry_h=0.02)
    agent.prepaid.security.key = b"wrong"
    firmware(area.meters[1]).power_down(env.now)
    runtime.call(agent.prepaid.pay, "pay-k", "000000000001", 10.0)
    runtime.call(agent.prepaid.pay, "pay-u", "000000000002", 10.0)
    env.run(until=START + 900.0)
    wrong, gone = agent.prepaid.topups.get("pay-k"), agent.prepaid.topups.get("pay-u")
    assert wrong.state in ("escalated", "expired") and firmware(area.meters[0]).wallet.purchase_count == 1
    assert any("SERR 0008 identity_authentication_failed" in n for n in notes(wrong))
    assert gone.state == "expired"


# --- the forwarding backend: the master station seals, the agent carries and verifies -------

def test_the_forward_backend_carries_a_master_sealed_trip_once_and_reads_it_back():
    from protocols.dlt645 import Control, Security, security as S, testkey as TK
    from protocols.dlt645.frame import decode_frame, encode_frame
    from protocols.dlt645 import parse_reply
    from protocols.gdw1376_1.units import AFN_FORWARD
    from edge.prepaid.security import ForwardingBackend
    from edge.uplink import UplinkSettings
    from hil.uplink_sim import SIM_PASSWORD
    from meter_sim.population import secure
    from tests.security.uplink_parts import Attack, forward_unit
    a = Attack(uplink=UplinkSettings("sim:0", "0171", 2082, password=SIM_PASSWORD,
                                     forward_allow=["security"]))
    fw = secure(a.meter())
    a.ua.uplink.carrier.security = ForwardingBackend()      # as [prepaid] security = "forward"
    r1, factor = b"\x21" * 8, b"\x00\x00" + fw.addr        # the master's encryption machine
    ident = S.IdentityAuth(b"\x00" * 4, TK.auth_cipher(TK.TEST_KEY, r1, factor), r1, factor)
    sealed = {}

    def authenticate(now):
        return a.frame(AFN_FORWARD, [forward_unit(encode_frame(Security(
            S.DI_IDENTITY, ident.encode()).to_frame(fw.addr)))], now)

    def trip(now):
        answer = parse_reply(decode_frame(a.answers[0][1][0].value["content"]))
        r2 = S.IdentityReply.parse(answer.data[4:]).random2
        sealed.setdefault("content", encode_frame(Control(None, None, 0x98, b"\x00" * 3,
                                                          b"\x00" * 4, cipher=TK.seal_control(
            TK.TEST_KEY, r2, fw.esam.serial, Control(0x1A, now + 600).body())).to_frame(fw.addr)))
        return a.frame(AFN_FORWARD, [forward_unit(sealed["content"])], now)
    a.run([(0.0, authenticate), (1.0, trip), (5.0, trip)], seconds=60)
    assert [o for o, _ in a.answers] == ["ok"] * 3
    assert not fw.relay.closed
    [cmd] = a.journal()
    assert (cmd.action, cmd.source, cmd.state, cmd.attempts) == ("sealed", "master-forward",
                                                                 "done", 1)
    assert "status3" in cmd.history[-1][2]


def test_backends_that_make_no_ciphertext_refuse_at_once_with_their_reason():
    for kind, says in (("forward", "comes sealed from the master station"),
                       ("hardware", "no hardware ESAM driver is installed")):
        env, area, agent, runtime = build(security=kind, customers=[{"id": "C0", "balance": 0.5}])
        env.run(until=START + 3600.0)
        cmds = [c for c in agent.prepaid.journal.all() if c.meter == addr(area, 0)]
        assert cmds and all(c.state == "escalated" and c.attempts == 1 for c in cmds)
        assert any(says in n for c in cmds for n in notes(c))
        assert firmware(area.meters[0]).relay.closed
        assert agent.counters["prepaid_escalated"] == len(cmds)


def test_a_control_whose_mac_does_not_verify_is_refused_with_its_serr_and_escalated():
    from edge.prepaid.security import TestKeyBackend

    class Garbling(TestKeyBackend):
        """The right key, a damaged seal: what a corrupted ciphertext looks like to a meter."""

        def seal_control(self, session, body):
            sealed = TestKeyBackend.seal_control(self, session, body)
            return sealed[:-1] + bytes([sealed[-1] ^ 0xFF])
    env, area, agent, runtime = build(customers=[{"id": "C0", "balance": 0.5}])
    agent.prepaid.security = agent.prepaid.sessions.backend = Garbling()
    env.run(until=START + 3600.0)
    assert firmware(area.meters[0]).relay.closed and not firmware(area.meters[0]).relay.alarm
    cmds = [c for c in agent.prepaid.journal.all() if c.meter == addr(area, 0)]
    assert cmds and all(c.state == "escalated" for c in cmds)
    assert all(sum("SERR 0004 esam_verify_failed" in n for n in notes(c)) == 4 for c in cmds)
    stats = agent.prepaid.sessions.stats
    assert stats["serr"] == stats["authentications"] == 4 * len(cmds)  # a SERR ends the session
    assert agent.counters["esam_serr_esam_verify_failed"] == 4 * len(cmds)


def test_a_top_up_needs_a_sealing_backend_and_a_customer_number():
    env, area, agent, runtime = build_local(security="hardware")
    runtime.call(agent.prepaid.pay, "pay-x", "000000000001", 10.0)
    env.run(until=START + 300.0)
    t = agent.prepaid.topups.get("pay-x")
    assert t.state == "escalated" and t.attempts == 1 and t.count is None
    assert "no hardware ESAM driver" in notes(t)[-1]
    assert firmware(area.meters[0]).wallet.purchase_count == 1
    meter = agent.archive.meters[addr(area, 1)]
    odd = agent.prepaid.topups.submit("pay-y", meter, "C-17", 10 ** 6)
    assert odd.state == "failed" and "12-digit customer number" in notes(odd)[-1]


def test_two_payments_for_one_meter_at_once_take_two_purchase_counts():
    """Both jobs took the meter's count + 1; the second's repeat refusal read as 'already
    applied' and the meter gained one payment for two (review finding): now one at a time."""
    env, area, agent, runtime = build_local()
    m = firmware(area.meters[0])
    runtime.call(agent.prepaid.pay, "pay-0", "000000000001", 10.0)    # a session is open now
    env.run(until=START + 200.0)
    count = m.wallet.purchase_count
    runtime.call(agent.prepaid.pay, "pay-1", "000000000001", 50.0)
    runtime.call(agent.prepaid.pay, "pay-2", "000000000001", 50.0)
    env.run(until=START + 3600.0)
    done = [agent.prepaid.topups.get(p) for p in ("pay-1", "pay-2")]
    assert [t.state for t in done] == ["done", "done"]
    assert sorted(t.count for t in done) == [count + 1, count + 2]
    assert m.wallet.purchase_count == count + 2
