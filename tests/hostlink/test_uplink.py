"""The agent's side of the uplink: every public request sample answered from the store, the
archive and controls carried into the agent, and refusals (wrong password, stale time label,
malformed data) denied, logged, and changing nothing."""
import random

import pytest

from edge.agent import Agent
from edge.archive import Archive
from edge.drivers import driver_for
from edge.plan import Settings
from edge.prepaid.engine import PrepaidSettings
from edge.prepaid.journal import Journal
from edge.store import Reading, Store
from edge.uplink import Uplink, UplinkSettings, points_of
from hostlink.master import MasterConnection
from hostlink.session import S
from hostlink.store import MasterStore
from protocols.civil import from_civil
from protocols.gdw1376_1 import Deframer, Frame, Tp, Unit, decode_frame, encode_frame
from protocols.gdw1376_1.catalog import PROTOCOL_698_45
from protocols.gdw1376_1.frame import F_CLASS2, F_USER_DATA
from protocols.gdw1376_1.units import (AFN_CLASS1, AFN_CLASS2, AFN_CONFIRM, AFN_CONTROL, AFN_FORWARD,
                                       AFN_QUERY, AFN_SET,
                                       encode_units, parse_units)

from tests.helpers import deframe
from tests.protocols.test_gdw1376_1 import SAMPLES

PASSWORD = bytes(range(16))
WEDNESDAY = from_civil(2026, 11, 25, 12, 0)          # no friendly window: trips may go out


def agent_at(wall, prepaid=False, carrier=False, protocol="645-2007"):
    meters = [{"addr": "000000000001", "port": "p1", "protocol": protocol},
              {"addr": "000000000002", "port": "p1", "point": 7, "protocol": protocol}]
    if prepaid:
        for m in meters:
            m.update(prepaid="remote", customer="C%s" % m["addr"][-1], tariff="flat")
    ports = [{"name": "p1", "url": "loop://"}]
    if carrier:
        ports.append({"name": "plc", "url": "loop://", "medium": "hplc", "baud": 9600})
    archive = Archive.from_dict({"port": ports, "meter": meters})
    settings = PrepaidSettings.from_dict({"tariff": {"flat": {"price": 1.0}},
                                          "defaults": {"balance": -5.0}}) if prepaid else None
    agent = Agent(archive, Store(":memory:", durable=False),
                  Settings(curve_every_min=0, event_every_h=0, clock_check_h=-1),
                  now=0.0, wall=wall, prepaid=settings)
    Uplink(agent, UplinkSettings("127.0.0.1:0", "0171", 2082, password=PASSWORD.hex()),
           random.Random(1))
    return agent


def online(agent):
    """The agent's session logged in to a master connection core; returns the master."""
    s, master = agent.uplink.session, MasterConnection(MasterStore(":memory:"))
    s.connection_made(0.0)
    master.receive_data(s.data_to_send(), 0.0, agent.wall)
    s.receive_data(master.data_to_send(), 0.0)
    assert s.state is S.ONLINE
    return master


def ask(agent, frame):
    """Feed one downlink frame; the frames the terminal answers with (not its uploads)."""
    s = agent.uplink.session
    s.receive_data(encode_frame(frame), 1.0)
    return [f for f in deframe(Deframer(), [s.data_to_send()]) if not f.prm]


def down(afn, units, tp=None, pw=None, func=F_USER_DATA, data=None):
    return Frame(afn, encode_units(units) if data is None else data, up=False, prm=True,
                 func=func, region="0171", terminal=2082, msa=1, seq=5, tp=tp, pw=pw)


def test_points_are_the_records_or_numbered_in_order():
    assert points_of(agent_at(WEDNESDAY).archive) == {1: "000000000001", 7: "000000000002"}


REQUESTS = sorted(n for n in SAMPLES if n.startswith("q"))


@pytest.mark.parametrize("name", REQUESTS)
def test_every_request_sample_is_answered_like_the_sample_response(name):
    request = decode_frame(SAMPLES[name])
    agent = agent_at(from_civil(2018, 8, 28, 16, 30))
    agent.store.put_readings([Reading("000000000001", "daily_freeze", 0x05060101, "2018-08-27",
                                      {"kwh": [1.0, 0.25, 0.25, 0.25, 0.25], "at": 0.0})])
    online(agent)
    [answer] = ask(agent, request)
    ours = parse_units(answer.afn, answer.data, True)
    asked = parse_units(request.afn, request.data, False)
    assert (answer.afn, answer.ctrl, answer.seq, answer.tp) == (
        request.afn, 0x88, request.seq, request.tp)
    assert [(u.fn, u.pn) for u in ours] == [(u.fn, u.pn) for u in asked]
    if "r" + name[1:] in SAMPLES:       # the concentrator's own answer (qafn13f18 has none)
        expected = decode_frame(SAMPLES["r" + name[1:]])
        theirs = [u for u in parse_units(expected.afn, expected.data, True) if u.fn]
        assert [(u.fn, u.pn) for u in ours] == [(u.fn, u.pn) for u in theirs]
        assert set(ours[0].value) >= set(theirs[0].value) - {"invalid", "rest"}
    if name in ("qafn13f1",):
        assert ours[0].value["forward_active"] == [1.0, 0.25, 0.25, 0.25, 0.25]


def _trip(pw=PASSWORD, tp=None, pn=1):
    return down(AFN_CONTROL, [Unit(AFN_CONTROL, 1, pn, {"limit_alarm": 0}, False)],
                tp=tp or Tp.at(1, WEDNESDAY, 5), pw=pw)


def _denied(agent, frame, reason):
    [answer] = ask(agent, frame)
    assert answer.afn == AFN_CONFIRM and parse_units(0, answer.data, True)[0].fn == 2
    logged = agent.store.logged("uplink_denied")
    assert logged and reason in logged[-1][2]


def test_a_control_with_the_right_password_and_a_fresh_label_is_journaled():
    agent = agent_at(WEDNESDAY, prepaid=True)
    online(agent)
    [answer] = ask(agent, _trip())
    assert parse_units(0, answer.data, True)[0].fn == 1
    [cmd] = Journal(agent.store).all()
    assert (cmd.meter, cmd.action, cmd.source) == ("000000000001", "trip", "master")
    ask(agent, _trip())                                 # the same frame again acts once
    assert len(Journal(agent.store).all()) == 1


@pytest.mark.parametrize("frame,reason", [
    (_trip(pw=bytes(16)), "wrong password"),
    (_trip(tp=Tp.at(1, WEDNESDAY - 600, 5)), "stale time label"),
    (_trip(tp=Tp(1, (0, 0, 12, 31), 5)), "stale time label"),     # 31 November: no such day
    (down(AFN_CONTROL, [], pw=PASSWORD, tp=Tp.at(1, WEDNESDAY, 5), data=b"\x01\x01\x01"),
     "malformed"),
    (_trip(pn=9), "no meter at point 9"),
])
def test_refused_controls_are_denied_logged_and_change_nothing(frame, reason):
    agent = agent_at(WEDNESDAY, prepaid=True)
    online(agent)
    _denied(agent, frame, reason)
    assert Journal(agent.store).all() == []


def _entry(addr, point, port=1, protocol=30):
    return {"index": point, "point": point, "port_baud": (3 << 5) | port, "protocol": protocol,
            "addr": addr, **{"pw%d" % k: 0 for k in range(6)}, "tariffs": 4, "digits": 9,
            "collector": None, "user_class": 0}


def test_archive_set_and_query_through_the_uplink():
    agent = agent_at(WEDNESDAY)
    online(agent)
    new = _entry("000000000003", 3)
    [answer] = ask(agent, down(AFN_SET, [Unit(AFN_SET, 10, 0, {"items": [new]}, False)],
                               pw=PASSWORD, tp=Tp.at(2, WEDNESDAY, 5)))
    assert parse_units(0, answer.data, True)[0].fn == 1
    m = agent.archive.meters["000000000003"]
    assert (m.baud, m.extra["point"]) == (2400, 3)
    [answer] = ask(agent, down(AFN_QUERY, [Unit(AFN_QUERY, 10, 0, {"items": [{"index": 3}]},
                                                False)], tp=Tp.at(3, WEDNESDAY, 5)))
    [got] = parse_units(AFN_QUERY, answer.data, True)[0].value["items"]
    assert got["addr"] == "000000000003" and got["point"] == 3 and got["port_baud"] == 0x61
    assert agent.store.archive_changes()[0][0]["addr"] == "000000000003"    # kept for restarts


def test_a_698_meter_goes_into_the_archive_and_back_with_its_protocol_code():
    agent = agent_at(WEDNESDAY)
    online(agent)
    entry = _entry("000000000003", 3, protocol=PROTOCOL_698_45)
    ask(agent, down(AFN_SET, [Unit(AFN_SET, 10, 0, {"items": [entry]}, False)],
                    pw=PASSWORD, tp=Tp.at(2, WEDNESDAY, 5)))
    m = agent.archive.meters["000000000003"]
    assert m.protocol == "698.45" and driver_for(m).protocol == "698"
    [answer] = ask(agent, down(AFN_QUERY, [Unit(AFN_QUERY, 10, 0, {"items": [{"index": 3},
                                                                             {"index": 1}]},
                                                False)], tp=Tp.at(3, WEDNESDAY, 5)))
    got = parse_units(AFN_QUERY, answer.data, True)[0].value["items"]
    assert [g["protocol"] for g in got] == [PROTOCOL_698_45, 30]


def test_port_31_names_the_carrier_module_as_concentrators_number_it():
    agent = agent_at(WEDNESDAY, carrier=True)
    online(agent)
    entries = [_entry("000000000003", 3, port=31), _entry("000000000004", 4, port=2),
               _entry("000000000005", 5, port=1)]
    ask(agent, down(AFN_SET, [Unit(AFN_SET, 10, 0, {"items": entries}, False)],
                    pw=PASSWORD, tp=Tp.at(2, WEDNESDAY, 5)))
    ports = {a: agent.archive.meters[a].port for a in ("000000000003", "000000000004",
                                                       "000000000005")}
    assert ports == {"000000000003": "plc", "000000000004": "plc", "000000000005": "p1"}
    query = [{"index": 3}, {"index": 5}]
    [answer] = ask(agent, down(AFN_QUERY, [Unit(AFN_QUERY, 10, 0, {"items": query}, False)],
                               tp=Tp.at(3, WEDNESDAY, 5)))
    got = parse_units(AFN_QUERY, answer.data, True)[0].value["items"]
    assert [g["port_baud"] & 0x1F for g in got] == [31, 1]


@pytest.mark.parametrize("entries,reason", [
    ([_entry("000000000003", 7)], "point 7 belongs to 000000000002"),
    ([_entry("000000000003", 3, port=4)], "no port 4"),
    ([_entry("000000000003", 3, protocol=2)], "protocol 2 not served"),
])
def test_bad_archive_entries_are_denied_and_the_archive_is_unchanged(entries, reason):
    agent = agent_at(WEDNESDAY)
    online(agent)
    before = dict(agent.archive.meters)
    _denied(agent, down(AFN_SET, [Unit(AFN_SET, 10, 0, {"items": entries}, False)],
                        pw=PASSWORD, tp=Tp.at(2, WEDNESDAY, 5)), reason)
    assert agent.archive.meters == before and agent.store.archive_changes() == ([], [])


@pytest.mark.parametrize("protocol", ["645-2007", "698.45"])
def test_class1_balance_comes_from_the_prepaid_ledger(protocol):
    agent = agent_at(WEDNESDAY, prepaid=True, protocol=protocol)
    agent.prepaid.pay("r1", "C1", 42.5)
    online(agent)
    [answer] = ask(agent, down(AFN_CLASS1, [Unit(AFN_CLASS1, 167, 1, None, False)],
                               func=F_CLASS2, tp=Tp.at(4, WEDNESDAY, 5)))
    assert parse_units(AFN_CLASS1, answer.data, True)[0].value["remaining_money"] == 37.5


def test_events_go_up_as_records_and_are_settled_by_the_confirm():
    agent = agent_at(WEDNESDAY)
    agent.store.put_readings([
        Reading("000000000002", "event", 0x03110001, "power_down#3",
                {"start": "2026-11-24 21:10:05", "end": "2026-11-24 21:40:00"}, read_at=1.0),
        Reading("000000000001", "prepaid_event", 0, "cmd-1",
                {"event": "relay_not_moved", "action": "trip"}, read_at=WEDNESDAY)])
    master = online(agent)
    s = agent.uplink.session
    for _ in range(4):
        s.on_timer(10.0)
        master.receive_data(s.data_to_send(), 10.0, WEDNESDAY)
        s.receive_data(master.data_to_send(), 10.0)
    rows = master.station.data()
    assert [(r["afn"], r["value"]["erc"]) for r in rows] == [(0x0E, 13), (0x0E, 64), (0x0E, 65)]
    from protocols.gdw1376_1.erc import Erc13MeterFault
    fault = Erc13MeterFault.decode(bytes.fromhex(rows[0]["value"]["data"]))
    assert fault.pn == 7 and fault.flags == 0x08 and fault.at == (10, 21, 24, 11, 26)
    rows = rows[1:]
    power = bytes.fromhex(rows[0]["value"]["data"])
    assert power[:2] == b"\x07\x00" and power[2:7] == bytes.fromhex("1021241126")   # point 7, A.15
    assert bytes.fromhex(rows[1]["value"]["data"])[7] == 2                          # relay_not_moved
    assert agent.store.unsent_count() == 0


def test_a_curve_request_for_no_real_instant_is_denied():
    agent = agent_at(WEDNESDAY)
    online(agent)
    bad = Unit(AFN_CLASS2, 101, 1, {"start": (0, 0, 31, 2, 26), "density": 1, "points": 4}, False)
    _denied(agent, down(AFN_CLASS2, [bad], func=F_CLASS2, tp=Tp.at(5, WEDNESDAY, 5)), "bad value")


def test_forwarding_645_to_a_698_meter_is_refused_and_a_forwarded_trip_goes_out_in_698():
    agent = agent_at(WEDNESDAY, prepaid=True, protocol="698.45")
    online(agent)
    read = Unit(AFN_FORWARD, 9, 0, {"port": 1, "relays": 0, "meter": "000000000001", "di_kind": 1,
                                     "di0": 0, "di1": 0, "di2": 1, "di3": 0}, False)
    _denied(agent, down(AFN_FORWARD, [read], pw=PASSWORD, tp=Tp.at(2, WEDNESDAY, 5)),
            "speaks DL/T 698.45")
    trip = Unit(AFN_FORWARD, 10, 0, {"port": 1, "relays": 0, "meter": "000000000001", "flag": 0,
                                      "valid_min": 30}, False)
    ask(agent, down(AFN_FORWARD, [trip], pw=PASSWORD, tp=Tp.at(3, WEDNESDAY, 5)))
    [cmd] = [c for c in Journal(agent.store).all() if c.source == "master"]
    assert cmd.action == "trip"
    request = agent.prepaid.control_request(agent.archive.meters[cmd.meter], cmd)
    assert request.protocol == 698 and request.apdu.omd.oi == 0x8000
    assert request.apdu.time_tag is not None
