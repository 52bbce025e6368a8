"""Forward mode (the master's encryption machine seals): a sealed top-up (070102FF) the master
forwards in AFN10 F1 goes through the agent's top-up journal by its purchase count - applied
once however often it comes, refused with another amount under the same count, read back in
plaintext - and a seal the meter refuses waits for the master's next one. The unmodified agent
on the SimPy clock, its firmware meter under the TEST-key ESAM, frames through the master's end
of the link (issue 20)."""
import pytest

from edge.prepaid.security import ForwardingBackend
from edge.prepaid.topup import TopUps
from edge.prepaid.topup_forward import forward_topup_id
from edge.uplink import UplinkSettings
from hil.uplink_sim import SIM_PASSWORD
from hostlink.aio import request_units
from meter_sim.firmware.meter import LOCAL
from meter_sim.firmware.wallet import Wallet
from meter_sim.population import secure
from protocols.dlt645 import Ack, Security, di as DI, parse_reply, security as S, \
    testkey as TK
from protocols.dlt645 import const as K
from protocols.dlt645.frame import decode_frame, encode_frame
from protocols.gdw1376_1.units import AFN_FORWARD

from tests.security.uplink_parts import Attack, denied


class Station:
    """The master's encryption machine (the TEST key) and the frames it forwards."""

    def __init__(self):
        self.attack = a = Attack(uplink=UplinkSettings("sim:0", "0171", 2082,
                                                       password=SIM_PASSWORD,
                                                       forward_allow=["security"]))
        fw = a.meter()
        fw.mode, fw.wallet = LOCAL, Wallet(balance=10.0, hoarding_limit=500.0)
        self.fw = secure(fw)
        a.ua.uplink.carrier.security = ForwardingBackend()     # [prepaid] security = "forward"
        self.r2 = None

    def authenticate(self, now):
        r1, factor = b"\x21" * 8, b"\x00\x00" + self.fw.addr
        ident = S.IdentityAuth(b"\x00" * 4, TK.auth_cipher(TK.TEST_KEY, r1, factor), r1, factor)
        return self.forward(Security(S.DI_IDENTITY, ident.encode()), now)

    def recharge(self, cents, count, good=True):
        def make(now):
            for _, units in reversed(self.attack.answers):   # the last identity answer: its
                answer = parse_reply(decode_frame(units[0].value["content"]))  # random 2
                if isinstance(answer, Ack) and answer.data[:4] == DI.to_bytes(S.DI_IDENTITY):
                    self.r2 = S.IdentityReply.parse(answer.data[4:]).random2
                    break
            customer = self.fw.wallet.customer
            mac1, mac2 = TK.recharge_macs(TK.TEST_KEY, self.r2, self.fw.esam.serial, cents, count,
                                          customer)
            if not good:
                mac1 = bytes(b ^ 0xFF for b in mac1)
            item = S.Recharge(b"\x00" * 4, cents, count, mac1, customer, mac2)
            return self.forward(Security(S.DI_RECHARGE, item.encode()), now)
        return make

    def forward(self, request, now):
        """The AFN10 F1 frame `gridedge master ask forward --frame HEX` sends."""
        afn, units = request_units({"op": "forward", "frame": encode_frame(
            request.to_frame(self.fw.addr)).hex()})
        return self.attack.frame(afn, units, now)

    def topup(self, count):
        return self.attack.ua.uplink.topups.get(forward_topup_id(self.attack.addr(self.fw), count))


def meter_answer(answer):
    """The meter's reply the master got back in AFN10 F1."""
    outcome, units = answer
    assert outcome == "ok" and units[0].afn == AFN_FORWARD, answer
    return parse_reply(decode_frame(units[0].value["content"]))


def test_a_sealed_top_up_is_applied_once_by_its_purchase_count_and_read_back():
    st = Station()
    before = st.fw.balance(st.attack.env.now)
    sends = [(0.0, st.authenticate), (1.0, st.recharge(5000, 2)), (30.0, st.recharge(5000, 2)),
             (1.0, st.recharge(7000, 2))]
    answers = st.attack.run(sends, seconds=120)
    ack = meter_answer(answers[1])
    assert isinstance(ack, Ack) and ack.data == DI.to_bytes(S.DI_RECHARGE)
    assert answers[2][1] == answers[1][1]         # the repeat: the same answer, nothing sent
    assert denied(answers[3])                      # another amount under the same count
    assert st.fw.wallet.purchase_count == 2
    assert st.fw.balance(st.attack.env.now) == pytest.approx(before + 50.0, abs=0.5)
    t = st.topup(2)
    assert (t.state, t.cents, t.count, t.attempts) == ("done", 5000, 2, 1)
    history = [h[1] for h in t.history]
    assert history == ["send", "ack", "verified"]
    assert "plaintext read-back" in t.history[-1][2]
    assert any("another top-up needs the next count" in why for _, why in st.attack.ua.uplink
               .denials)


def test_a_seal_the_meter_refuses_waits_for_the_master_s_next_one():
    st = Station()
    sends = [(0.0, st.authenticate), (1.0, st.recharge(2000, 2, good=False)),
             (0.0, st.authenticate), (1.0, st.recharge(2000, 2))]    # a new session, sealed anew
    answers = st.attack.run(sends[:2], seconds=600)
    refused = meter_answer(answers[1])
    assert refused.serr == K.SERR_ESAM_VERIFY          # the MAC did not verify
    t = st.topup(2)
    assert t.state == "retry" and st.fw.wallet.purchase_count == 1      # nothing credited
    events = [r.value for r in st.attack.ua.store.readings(task="prepaid_event")]
    assert [e["event"] for e in events] == ["topup_refused"]
    st.attack.run(sends[2:], seconds=120)
    t = st.topup(2)
    assert t.state == "done" and t.attempts == 2 and st.fw.wallet.purchase_count == 2


def test_the_cost_control_s_own_resume_leaves_the_master_s_top_ups_alone():
    st = Station()
    st.attack.run([(0.0, st.authenticate), (1.0, st.recharge(2000, 2, good=False))], seconds=60)
    assert st.topup(2).state == "retry"
    own = TopUps.__new__(TopUps)
    own.agent, own.db, own._waiting = st.attack.ua.agent, st.attack.ua.store.db, {}
    started = []
    own._start = lambda meter, t: started.append(t.id)
    own.resume()
    assert started == []
