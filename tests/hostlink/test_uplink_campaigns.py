"""Price campaigns over 1376.1 (gridedge's extension, AFN04/AFN0C F201): the master posts a
campaign into the agent's store exactly as `gridedge prepaid price` does - checked whole,
idempotent by id, refused when past, unknown or on a terminal without cost control - and reads
each point's state back; over real TCP on 127.0.0.1 too."""
import asyncio
import random
import time

from hypothesis import given, settings, strategies as st

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.prepaid.engine import PrepaidSettings
from edge.store import Store
from edge.uplink import Uplink, UplinkSettings
from edge.uplink_campaigns import reason_code
from protocols.civil import from_civil
from protocols.errors import ProtocolError
from protocols.gdw1376_1 import Tp, Unit, encode_units, parse_units
from protocols.gdw1376_1.campaign_ext import CAMPAIGN_STATE, FN, PRICE_CAMPAIGN
from protocols.gdw1376_1.units import AFN_CLASS1, AFN_SET

from tests.hostlink.test_uplink import PASSWORD, WEDNESDAY, ask, down, online

LADDER = {"id": "ladder-2026", "effective": (0, 0, 26, 11, 26), "target": "all",
          "tariff": "ladder", "prices": [0.6, 0.9], "tops": [5.0]}


def agent_in(path, prepaid=True):
    meters = [{"addr": "000000000001", "port": "p1", "prepaid": "local", "customer": "C1"},
              {"addr": "000000000002", "port": "p1", "prepaid": "remote", "customer": "C2",
               "tariff": "flat"},
              {"addr": "000000000003", "port": "p1"}]
    if not prepaid:
        for m in meters:
            for k in ("prepaid", "customer", "tariff"):
                m.pop(k, None)
    archive = Archive.from_dict({"port": [{"name": "p1", "url": "loop://"}], "meter": meters})
    pre = PrepaidSettings.from_dict({"tariff": {"flat": {"price": 0.5}}}) if prepaid else None
    agent = Agent(archive, Store(str(path), durable=False),
                  Settings(curve_every_min=0, event_every_h=0, clock_check_h=-1),
                  now=0.0, wall=WEDNESDAY, prepaid=pre)
    Uplink(agent, UplinkSettings("127.0.0.1:0", "0171", 2082, password=PASSWORD.hex()),
           random.Random(1))
    return agent


def post(agent, value, pfc=1, wall=WEDNESDAY):
    [a] = ask(agent, down(AFN_SET, [Unit(AFN_SET, FN, 0, value, False)], pw=PASSWORD,
                          tp=Tp.at(pfc, wall, 5)))
    return parse_units(0, a.data, True)[0].fn            # 1 confirmed, 2 denied


def state(agent, pn, pfc=9):
    [a] = ask(agent, down(AFN_CLASS1, [Unit(AFN_CLASS1, FN, pn, None, False)],
                          tp=Tp.at(pfc, WEDNESDAY, 5)))
    return parse_units(AFN_CLASS1, a.data, True)[0].value


def test_the_master_posts_a_campaign_once_and_reads_each_point_s_state(tmp_path):
    agent = agent_in(tmp_path / "a.sqlite")
    online(agent)
    assert post(agent, LADDER) == 1
    campaigns = agent.prepaid.campaigns
    [c] = campaigns.all()
    assert c.effective == from_civil(2026, 11, 26) and c.tariff_doc == {
        "kind": "ladder", "blocks": [[5.0, 0.6], ["none", 0.9]]}
    assert [r[1] for r in campaigns.rows(c.id)] == ["000000000001", "000000000002"]
    assert post(agent, LADDER, 2, WEDNESDAY + 1) == 1        # the same again: nothing new
    assert len(campaigns.all()) == 1 and len(agent.store.logged("campaign_posted")) == 1
    assert [k for _, k, _ in agent.store.logged() if k == "param_set"] == []
    s = state(agent, 1)
    assert (s["id"], s["state"], s["reason"]) == ("ladder-2026", "pending", None)
    assert state(agent, 3, 10)["state"] is None              # no cost control: no row
    campaigns.move(c.id, "000000000001", "fail", WEDNESDAY, "read back 040502FF: 00, wrote 01")
    assert state(agent, 1, 11)["state"] == "failed" and state(agent, 1, 12)["reason"] == \
        "read_back"


def test_a_campaign_the_agent_cannot_carry_out_is_denied_and_nothing_is_stored(tmp_path):
    agent = agent_in(tmp_path / "b.sqlite")
    online(agent)
    bad = [dict(LADDER, effective=(0, 0, 24, 11, 26)),                   # in the past
           dict(LADDER, target="points", points=[9]),                    # no meter at p9
           dict(LADDER, tariff="ladder", prices=[0.9, 0.6], tops=[-0.0]),
           dict(LADDER, effective=None)]
    for k, value in enumerate(bad):
        assert post(agent, value, 1 + k, WEDNESDAY + k) == 2, value
    assert agent.prepaid.campaigns.all() == []
    assert post(agent, LADDER, 6, WEDNESDAY + 6) == 1
    assert post(agent, dict(LADDER, prices=[0.6, 1.0]), 7, WEDNESDAY + 7) == 2   # same id, other
    plain = agent_in(tmp_path / "c.sqlite", prepaid=False)
    online(plain)
    assert post(plain, LADDER) == 2


def test_a_campaign_for_points_names_their_meters(tmp_path):
    agent = agent_in(tmp_path / "d.sqlite")
    online(agent)
    assert post(agent, dict(LADDER, id="flat-2", target="points", points=[2], tariff="flat",
                            prices=[0.55], tops=None)) == 1
    [c] = agent.prepaid.campaigns.all()
    assert c.target == {"meters": ["000000000002"]} and c.tariff_doc == {"kind": "flat",
                                                                        "price": 0.55}


def test_over_real_tcp_the_master_posts_and_reads_the_state(tmp_path):
    from hostlink.aio import MasterServer, TerminalClient, local_wall
    from hostlink.master import OK

    async def until(predicate, timeout=10.0):
        end = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < end, "timed out"
            await asyncio.sleep(0.02)

    async def scenario():
        master = MasterServer(tmp_path / "m.sqlite")
        _, port = await master.listen("127.0.0.1", 0)
        agent = agent_in(tmp_path / "t.sqlite")
        agent.uplink.settings.master = "127.0.0.1:%d" % port

        def clocks():
            agent.set_clock(time.monotonic(), local_wall())
        clocks()
        client = TerminalClient(agent.uplink.session, "127.0.0.1", port, before=clocks)
        task = asyncio.ensure_future(client.run())
        try:
            await until(lambda: master.online())
            ladder = dict(LADDER, effective=(0, 0, 1, 1, 36))        # 2036: in the future
            r = await master.request(master.online()[0], AFN_SET, [
                Unit(AFN_SET, FN, 0, ladder, False)], pw=PASSWORD)
            assert r.outcome == OK
            r = await master.request(master.online()[0], AFN_CLASS1, [
                Unit(AFN_CLASS1, FN, 1, None, False), Unit(AFN_CLASS1, FN, 2, None, False)])
            assert [(u.pn, u.value["state"]) for u in r.answer] == [(1, "pending"),
                                                                    (2, "pending")]
        finally:
            client.stop()
            await asyncio.wait_for(task, 5)
            await master.close()
    asyncio.run(scenario())


def test_failure_texts_map_to_their_reason_codes():
    assert reason_code(None) is None
    assert reason_code("billing at the wrong price: 0.6 not 0.9") == "wrong_price"
    assert reason_code("no 0.5 kWh used within 48 h after the switch to verify the price") == \
        "unverified"
    assert reason_code("refused: ERR 04") == "refused"
    assert reason_code("the meter went away") == "other"


# --- the layouts (gridedge's own: hand-built bytes from the definition, round trip, fuzz) ---

def test_a_hand_built_campaign_decodes_to_its_fields():
    raw = (b"ladder-2026     " + bytes.fromhex("0000070126") + b"\x02\x02" + bytes.fromhex(
        "01000700") + b"\x03\x02" + bytes.fromhex("00600000" "00900000" "00050000"))
    value, end = PRICE_CAMPAIGN.parse(raw, 0)
    assert end == len(raw) and value == {
        "id": "ladder-2026", "effective": (0, 0, 7, 1, 26), "target": "points",
        "points": [1, 7], "tariff": "ladder", "prices": [0.6, 0.9], "tops": [5.0]}
    assert PRICE_CAMPAIGN.encode(value) == raw


PRICES = st.integers(0, 99999999).map(lambda n: n / 1e4)
CAMPAIGNS = st.builds(
    lambda cid, eff, target, kind, prices, tops_raw: dict(
        {"id": cid, "effective": eff, "tariff": kind, "prices": prices, **target},
        **({"tops": [t / 100.0 for t in tops_raw[:len(prices) - 1]]} if kind == "ladder"
           else {})),
    st.text("abcxyz-0123456789", min_size=1, max_size=16),
    st.tuples(st.integers(0, 59), st.integers(0, 23), st.integers(1, 28), st.integers(1, 12),
              st.integers(0, 99)),
    st.one_of(st.just({"target": "all"}),
              st.builds(lambda c: {"target": "tariff_class", "tariff_class": c},
                        st.text("abc", min_size=1, max_size=8)),
              st.builds(lambda p: {"target": "points", "points": p},
                        st.lists(st.integers(1, 2040), min_size=1, max_size=20))),
    st.sampled_from(["flat", "tou", "ladder"]), st.lists(PRICES, min_size=1, max_size=7),
    st.lists(st.integers(0, 99999999), min_size=6, max_size=6))


@settings(max_examples=150, deadline=None)
@given(CAMPAIGNS)
def test_every_campaign_round_trips_in_a_set_request(value):
    data = encode_units([Unit(AFN_SET, FN, 0, value, False)])
    (u,) = parse_units(AFN_SET, data, False)
    assert u.value == value


@settings(max_examples=100, deadline=None)
@given(st.builds(lambda cid, s, a, at, r: {"id": cid, "state": s, "attempts": a, "changed": at,
                                           "reason": r},
                 st.one_of(st.none(), st.text("abc-12", min_size=1, max_size=16)),
                 st.sampled_from(["pending", "written", "verified", "switched", "failed",
                                  "unreachable", None]),
                 st.integers(0, 255), st.one_of(st.none(), st.just((5, 12, 6, 1, 26))),
                 st.sampled_from([None, "refused", "read_back", "wrong_price", "unverified",
                                  "other"])))
def test_every_state_round_trips(value):
    raw = CAMPAIGN_STATE.encode(value)
    assert CAMPAIGN_STATE.parse(raw, 0) == (value, len(raw))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_no_byte_string_crashes_the_campaign_layouts(raw):
    for layout in (PRICE_CAMPAIGN, CAMPAIGN_STATE):
        try:
            layout.parse(raw, 0)
        except ProtocolError:
            pass


def test_the_master_cli_turns_prices_toml_into_f201_values(tmp_path):
    from hil.cli.common import InputError
    from hil.cli.master import campaign_values
    import pytest
    prices = tmp_path / "prices.toml"
    prices.write_text('[[campaign]]\nid = "a"\neffective = "2027-01-01 00:00"\n'
                      'tariff_class = "res"\n[campaign.tariff]\nkind = "tou"\n'
                      'prices = [0.3, 0.5, 0.7, 0.9]\n'
                      '[[campaign]]\nid = "b"\neffective = "2027-02-01 08:30"\n'
                      'meters = ["000000000001"]\n[campaign.tariff]\nkind = "flat"\nprice = 0.6\n')
    with pytest.raises(InputError, match="--point"):
        campaign_values(prices, [])
    a, b = campaign_values(prices, [3])
    assert a["target"] == "points" and b == {"id": "b", "effective": [30, 8, 1, 2, 27],
                                             "target": "points", "points": [3],
                                             "tariff": "flat", "prices": [0.6]}
    prices.write_text(prices.read_text().split("[[campaign]]\nid = \"b\"")[0])
    [a] = campaign_values(prices, [])
    assert a["target"] == "tariff_class" and a["tariff_class"] == "res" and a["prices"] == [
        0.3, 0.5, 0.7, 0.9]
    for v in (a, b):
        encode_units([Unit(AFN_SET, FN, 0, dict(v, effective=tuple(v["effective"])), False)])
