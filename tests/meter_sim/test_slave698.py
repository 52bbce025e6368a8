"""The 698 meter: the same meter state as the 645 slave, read, set and controlled in DL/T 698.45."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.civil import from_civil, to_civil
from protocols.dlt645 import Read
from protocols.dlt645 import di as DI
from protocols.dlt698 import (MS, OAD, OMD, RSD, TI, ActionNormal, Association, ConnectRequest,
                              Data, DateTime, ErrorResponse, GetList, GetNext, GetNormal, GetRecord,
                              ReleaseRequest, ReportResponse, SetList, SetNormal, TimeTag, address,
                              decode_apdu, decode_frame, encode_frame, follow_results, registry,
                              request_frame)
from protocols.dlt698 import connect as C
from protocols.dlt698 import data as D
from protocols.dlt698.axdr import ROAD
from meter_sim.firmware import ConstantLoad, HourlyProfile, LOCAL, Meter
from meter_sim.firmware import objects698 as O
from meter_sim.firmware import slave698
from meter_sim.firmware.wallet import Wallet
from tests.helpers import ask698, value
from tests.protocols.test_dlt698_props import associations, datas

T0 = from_civil(2026, 3, 1)
DAY = 86400
PROFILE = HourlyProfile([0.4] * 7 + [1.2] * 12 + [2.5] * 3 + [0.8] * 2)
BASE = [100.0, 200.0, 300.0, 400.0]
RELAY = Data(D.T_OAD, OAD(0xF205, 2, 1))


def pair(**kw):
    """The same meter twice: once a 645 slave, once a 698 one."""
    kw.setdefault("source", PROFILE)
    kw.setdefault("base_kwh", BASE)
    return (Meter("000000000042", T0, **kw), Meter("000000000042", T0, protocol=698, **kw))


def meter698(**kw):
    return pair(**kw)[1]


def get(m, oad, t):
    reply = ask698(m, GetNormal(OAD.parse(oad), piid=1), t)
    assert reply.result.dar is None, reply
    return reply.result.data


def cents(d):
    return [x.value for x in d.value]


def tagged(msg, m, t, minutes=5):
    c = m.clock.read(t)
    y, mo, dd, hh, mi, ss = to_civil(c)[:6]
    msg.time_tag = TimeTag(DateTime(y, mo, dd, hh, mi, ss), TI(1, minutes))
    return msg


def trip(delay=0, limit=0, auto=True):
    return ActionNormal(OMD(0x8000, 129), Data(D.ARRAY, [Data(D.STRUCTURE, [
        RELAY, Data(D.UNSIGNED, delay), Data(D.LONG_UNSIGNED, limit), Data(D.BOOL, auto)])]))


def close(direct):
    return ActionNormal(OMD(0x8000, 130), Data(D.ARRAY, [Data(D.STRUCTURE, [
        RELAY, Data(D.ENUM, 1 if direct else 0)])]))


def act(m, msg, t):
    return ask698(m, tagged(msg, m, t), t).dar


def test_energy_voltage_clock_read_the_same_state_as_the_645_slave():
    m645, m698 = pair()
    t = T0 + 3.5 * DAY
    block = value(m645, Read(DI.parse("0001FF00")), t)
    assert [c / 100 for c in cents(get(m698, "00100200", t))] == pytest.approx(block)
    assert get(m698, "00100201", t).value / 100 == pytest.approx(block[0])
    assert get(m698, "20000200", t).value[0].value / 10 == pytest.approx(
        value(m645, Read(0x02010100), t))
    assert get(m698, "40000200", t).value.text() == "2026-03-04 12:00:00"
    assert get(m698, "40010200", t).value == bytes.fromhex("000000000042")
    answers = ask698(m698, GetList([OAD(0x2000, 2), OAD(0x2001, 2), OAD(0x9999, 2)]), t).results
    assert [r.dar for r in answers] == [None, None, 6]


def test_every_registered_attribute_answers_data_or_a_dar():
    m = meter698(mode=LOCAL, wallet=Wallet(balance=50.0))
    t = T0 + 2 * DAY
    ois = sorted(set(registry.FIXED) | {0x0000, 0x0010, 0x0020, 0x0030, 0x1010}
                 | {0x3000 + k for k in range(len(registry.EVENT_NAMES))} | set(registry.FREEZE_NAMES))
    for oi in ois:
        for attr in sorted(registry.attributes(oi)):
            reply = ask698(m, GetNormal(OAD(oi, attr)), t)
            r = reply.result
            assert (r.data is None) != (r.dar is None), (oi, attr)
            if r.data is not None and registry.lookup(r.oad) and registry.lookup(r.oad).tag != D.NULL:
                assert r.data.tag == registry.lookup(r.oad).tag, (oi, attr, r.data)


def test_daily_freeze_records_by_time_by_count_and_columns():
    m645, m698 = pair()
    t = T0 + 5 * DAY + 600
    freeze_time = OAD(0x2021, 2)
    day3 = Data(D.DATE_TIME_S, DateTime(2026, 3, 3))
    rec = ask698(m698, GetRecord(OAD(0x5004, 2), RSD(1, [freeze_time, day3]),
                                 [freeze_time, OAD(0x0010, 2, 1)]), t).record
    assert rec.columns == [freeze_time, OAD(0x0010, 2, 1)] and len(rec.rows) == 1
    assert rec.rows[0][1].value / 100 == pytest.approx(
        value(m645, Read(DI.parse("05060104")), t)["total"])   # 4th last: 03-03
    between = RSD(2, [freeze_time, day3, Data(D.DATE_TIME_S, DateTime(2026, 3, 6)), Data(D.NULL)])
    rows = ask698(m698, GetRecord(OAD(0x5004, 2), between, [freeze_time]), t).record.rows
    assert [r[0].value.text() for r in rows] == ["2026-03-0%d 00:00:00" % d for d in (3, 4, 5)]
    last = ask698(m698, GetRecord(OAD(0x5004, 2), RSD(9, [1]), []), t).record
    assert last.columns[:2] == [OAD(0x2023, 2), freeze_time] and len(last.columns) == 5
    assert last.rows[0][1].value.text() == "2026-03-06 00:00:00" and last.rows[0][0].value == 5
    assert cents(last.rows[0][3]) == cents(ask698(m698, GetRecord(
        OAD(0x5004, 2), RSD(1, [OAD(0x2023, 2), Data(D.DOUBLE_LONG_UNSIGNED, 5)]),
        [OAD(0x0010, 2)]), t).record.rows[0][0])
    newest = ask698(m698, GetRecord(OAD(0x5004, 2), RSD(10, [2, MS(1)]), [freeze_time]), t)
    assert [r[0].value.day for r in newest.record.rows] == [5, 6]
    assert ask698(m698, GetRecord(OAD(0x5004, 2), RSD(9, [30]), []), t).record.rows == []


def test_refused_selectors_columns_and_normal_get_of_records():
    m = meter698()
    t = T0 + 2 * DAY
    five = RSD(5, [DateTime(2026, 3, 1), MS(1)])
    assert ask698(m, GetRecord(OAD(0x5004, 2), five, []), t).record.dar == 3
    road = ROAD(OAD(0x5004, 2), [OAD(0x0010, 2)])
    assert ask698(m, GetRecord(OAD(0x5004, 2), RSD(9, [1]), [road]), t).record.dar == 3
    assert ask698(m, GetNormal(OAD(0x5004, 2)), t).result.dar == 5
    unknown = ask698(m, GetRecord(OAD(0x4000, 2), RSD(9, [1]), []), t).record
    assert unknown.dar == 5


def test_settlement_and_monthly_freezes_and_the_load_curve():
    m645, m698 = pair()
    t = T0 + 62 * DAY
    monthly = ask698(m698, GetRecord(OAD(0x5006, 2), RSD(0), [OAD(0x2021, 2)]), t).record
    assert [r[0].value.text()[:10] for r in monthly.rows] == ["2026-04-01", "2026-05-01"]
    settled = ask698(m698, GetRecord(OAD(0x5005, 2), RSD(9, [1]), [OAD(0x0010, 2)]), t).record
    assert [c / 100 for c in cents(settled.rows[0][0])] == pytest.approx(
        [value(m645, Read(0x00010001 + (k << 8)), t) for k in range(5)])
    hour = RSD(2, [OAD(0x2021, 2), Data(D.DATE_TIME_S, DateTime(2026, 4, 2, 8)),
                   Data(D.DATE_TIME_S, DateTime(2026, 4, 2, 12)), Data(D.T_TI, TI(1, 60))])
    curve = ask698(m698, GetRecord(OAD(0x5002, 2), hour, [OAD(0x2021, 2), OAD(0x0010, 2, 1),
                                                          OAD(0x2004, 2, 1)]), t).record
    assert [r[0].value.hour for r in curve.rows] == [8, 9, 10, 11]
    energy = [r[1].value / 100 for r in curve.rows]
    assert energy[1] - energy[0] == pytest.approx(1.2, abs=0.02)
    assert curve.rows[0][2].value == 12000                          # 1.2 kW in 0.1 W
    day = RSD(2, [OAD(0x2021, 2), Data(D.DATE_TIME_S, DateTime(2026, 4, 1)),
                  Data(D.DATE_TIME_S, DateTime(2026, 4, 2)), Data(D.NULL)])
    frames, blocks = [], []
    whole = ask698(m698, GetRecord(OAD(0x5002, 2), day, []), t, frames=frames, blocks=blocks).record
    assert len(whole.rows) == 96 and [b.block for b in blocks] == list(range(1, len(blocks) + 1))
    assert [b.last for b in blocks] == [False] * (len(blocks) - 1) + [True]
    assert all(len(b.encode()) <= slave698.DEFAULT_APDU_MAX for b in blocks)   # 分块 by APDU size
    assert any(f.segmented for f in frames)                    # and 分帧 by the 512-byte frames
    first = ask698(m698, GetRecord(OAD(0x5002, 2), day, []), t, follow=False)   # block 1 only
    assert ask698(m698, GetNext(first.block + 1), t).dar == 14          # not the block it sent
    assert ask698(m698, GetNext(1), t, follow=False).block == 2          # the client may retry
    ask698(m698, GetNormal(OAD(0x4000, 2)), t)
    assert ask698(m698, GetNext(2), t).dar == 11                        # another request ended it


def test_relay_actions_need_a_valid_time_tag_and_move_the_relay():
    m = meter698()
    t = T0 + DAY
    assert ask698(m, trip(), t).dar == 32 and m.relay.closed            # no TimeTag
    stale = trip()
    stale.time_tag = TimeTag(DateTime(2026, 3, 1, 23, 0, 0), TI(1, 5))
    assert ask698(m, stale, t).dar == 32 and m.relay.closed             # sent an hour ago
    assert act(m, trip(), t) == 0 and not m.relay.closed
    assert get(m, "80000300", t + 1).value == (8, b"\x80")            # relay 1 open
    assert act(m, close(False), t + 60) == 0 and not m.relay.closed     # allow close: button
    assert m.press_button(t + 120) and m.relay.closed
    assert act(m, trip(), t + 200) == 0 and act(m, close(True), t + 300) == 0 and m.relay.closed
    assert get(m, "80000300", t + 301).value == (8, b"\x00")
    assert act(m, ActionNormal(OMD(0x8000, 127), Data(D.NULL)), t + 400) == 0
    assert get(m, "80000400", t + 401).value == (8, b"\x80")
    assert act(m, ActionNormal(OMD(0x8000, 128), Data(D.NULL)), t + 500) == 0
    assert get(m, "80000400", t + 501).value == (8, b"\x00")
    assert act(m, ActionNormal(OMD(0x8001, 127), Data(D.NULL)), t + 600) == 0
    assert act(m, trip(), t + 700) == 0 and m.relay.closed               # absorbed by keep-power
    assert get(m, "80010200", t + 701).value == 1
    assert act(m, ActionNormal(OMD(0x8001, 128), Data(D.NULL)), t + 800) == 0
    assert act(m, trip(), t + 900) == 0 and not m.relay.closed
    wrong = ActionNormal(OMD(0x8000, 130), Data(D.ARRAY, [Data(D.STRUCTURE, [
        Data(D.T_OAD, OAD(0xF205, 2, 2)), Data(D.ENUM, 1)])]))
    assert act(m, wrong, t + 1000) == 6 and act(m, trip(), t + 1000) == 0
    assert act(m, ActionNormal(OMD(0x8000, 200), Data(D.NULL)), t + 1000) == 6


def test_trip_with_alarm_delay_and_power_limit_time_restores_itself():
    m = meter698()
    t = T0 + DAY
    assert act(m, trip(delay=10, limit=30, auto=True), t) == 0
    assert m.relay.closed and get(m, "80000500", t + 1).value == (8, b"\x80")
    m.advance(t + 9 * 60)
    assert m.relay.closed
    m.advance(t + 11 * 60)
    assert not m.relay.closed
    m.advance(t + 39 * 60)
    assert not m.relay.closed
    m.advance(t + 41 * 60)
    assert m.relay.closed
    assert act(m, trip(limit=30, auto=False), t + DAY) == 0 and not m.relay.closed
    m.advance(t + DAY + 31 * 60)
    assert not m.relay.closed and m.press_button(t + DAY + 32 * 60) and m.relay.closed


def test_set_thresholds_and_clock():
    m645, m698 = pair(mode=LOCAL, wallet=Wallet(balance=80.0))
    t = T0 + DAY
    new = Data(D.STRUCTURE, [Data(D.DOUBLE_LONG_UNSIGNED, 3000), Data(D.DOUBLE_LONG_UNSIGNED, 1500)])
    assert ask698(m698, SetNormal(OAD(0x401E, 2), new), t).dar == 0
    assert (m698.wallet.alarm_1, m698.wallet.alarm_2) == (30.0, 15.0)
    assert ask698(m698, SetNormal(OAD(0x401F, 2, 3), Data(D.DOUBLE_LONG_UNSIGNED, 2000)), t).dar == 0
    assert m698.wallet.close_allowed == 20.0 and cents(get(m698, "401F0200", t))[2] == 2000
    assert ask698(m698, SetNormal(OAD(0x401E, 2), Data(D.LONG, 5)), t).dar == 7
    assert ask698(m698, SetNormal(OAD(0x0010, 2), Data(D.NULL)), t).dar == 3
    clock = Data(D.DATE_TIME_S, DateTime(2026, 3, 2, 0, 10, 0))
    assert ask698(m698, SetNormal(OAD(0x4000, 2), clock), t + 30).dar == 0
    assert get(m698, "40000200", t + 35).value.text() == "2026-03-02 00:10:05"
    clock_set = ask698(m698, GetRecord(OAD(0x3016, 2), RSD(9, [1]), []), t + 40).record
    assert clock_set.rows[0][0].value == 1 and clock_set.rows[0][-1].value.minute == 10
    programming = ask698(m698, GetRecord(OAD(0x3012, 2), RSD(9, [1]), []), t + 40).record
    assert programming.rows[0][-1].value[0].value == OAD(0x401F, 2, 3)


def test_security_refuses_plaintext_actions_accepts_valid_macs_refuses_bad_ones():
    m = meter698(plaintext_control=False)
    t = T0 + DAY
    assert act(m, trip(), t) == 20 and m.relay.closed                  # bare ACTION: DAR 20
    assert ask698(m, GetNormal(OAD(0x2000, 2)), t).result.dar == 20     # bare GET of a variable
    assert ask698(m, GetNormal(OAD(0x0010, 2)), t).result.dar is None   # energy: plaintext ok
    backend = m.front_end.backend
    rn = bytes(range(16))
    sealed = backend.protect(tagged(trip(), m, t).encode(), True, rn)
    reply = ask698(m, sealed, t)
    assert reply.ciphered and decode_apdu(backend.open_response(reply, sealed)).dar == 0
    assert not m.relay.closed
    plain_rn = backend.protect(GetNormal(OAD(0x2000, 2)).encode(), False, rn)
    answer = ask698(m, plain_rn, t)
    assert decode_apdu(backend.open_response(answer, plain_rn)).result.dar is None
    assert decode_apdu(backend.open_response(ask698(m, backend.protect(
        tagged(close(True), m, t).encode(), False, rn), t), plain_rn)).dar == 20
    forged = backend.protect(tagged(close(True), m, t).encode(), True, rn)
    forged.mac = b"\x00" * 4
    assert ask698(m, forged, t).dar == 22 and not m.relay.closed


def test_association_connect_release_and_negotiated_sizes():
    m = meter698()
    t = T0 + DAY
    reply = ask698(m, ConnectRequest(Association(receive_max=256, timeout=60)), t)
    assert reply.result == 0 and reply.association.send_max == 256
    assert m.front_end.association is not None
    frames = []
    assert len(ask698(m, GetRecord(OAD(0x5002, 2), RSD(0), []), t, frames=frames).record.rows) == 97
    assert len(frames) > 4 and max(len(encode_frame(f, preamble=0)) - 2 for f in frames) == 256
    assert isinstance(ask698(m, ReleaseRequest(piid=4), t), C.ReleaseResponse)
    assert m.front_end.association is None
    wrong = ask698(m, ConnectRequest(Association(), C.MECHANISM_PASSWORD, password="12345678"), t)
    assert wrong.result == 1 and m.front_end.association is None
    right = ask698(m, ConnectRequest(Association(), C.MECHANISM_PASSWORD, password="00000000"), t)
    assert right.result == 0
    ask698(m, ConnectRequest(Association(timeout=60)), t)
    ask698(m, GetNormal(OAD(0x4000, 2)), t + 61)
    assert m.front_end.association is None                              # timed out
    cipher = b"\x11" * 32
    sym = ask698(m, ConnectRequest(Association(), C.MECHANISM_SYMMETRY, cipher=cipher,
                                   signature=m.front_end.backend.mac(b"connect", cipher)), t)
    assert sym.result == 0 and len(sym.security[0]) == 16
    bad = ask698(m, ConnectRequest(Association(), C.MECHANISM_SYMMETRY, cipher=cipher,
                                   signature=b"\x00" * 4), t)
    assert bad.result == 2


def test_events_follow_the_answers_and_are_reported_until_confirmed():
    m = meter698()
    t = T0 + DAY
    assert act(m, trip(), t) == 0
    plain = ask698(m, GetNormal(OAD(0x4000, 2)), t + 1)
    assert plain.follow_report is None and plain.piid & 0x40           # ACD: something to report
    assert ask698(m, SetNormal(OAD(0x4300, 7), Data(D.BOOL, True)), t + 2).dar == 0
    follow = ask698(m, GetNormal(OAD(0x4000, 2)), t + 3)
    assert [r.data.value for r in follow_results(follow.follow_report)] == [OAD(0x301F, 2)]
    assert get(m, "33200200", t + 4).value == [Data(D.T_OAD, OAD(0x301F, 2))]
    assert ask698(m, SetNormal(OAD(0x4300, 8), Data(D.BOOL, True)), t + 5).dar == 0
    note = decode_apdu(decode_frame(m.front_end.report(t + 6)).data)
    assert note.results[0].data.value == [Data(D.T_OAD, OAD(0x301F, 2))]
    assert m.front_end.report(t + 7) is None                          # notified once
    assert ask698(m, ReportResponse([OAD(0x3320, 2)]), t + 8) is None
    done = ask698(m, GetNormal(OAD(0x4000, 2)), t + 9)
    assert done.follow_report is None and not done.piid & 0x40
    m.power_down(t + 100)
    m.power_up(t + 200)
    assert m.front_end.new_events() == [OAD(0x3011, 2)]
    outage = ask698(m, GetRecord(OAD(0x3011, 2), RSD(9, [1]), [OAD(0x201E, 2), OAD(0x2020, 2)]),
                    t + 300).record.rows[0]
    assert (outage[1].value.second - outage[0].value.second) % 60 == 40    # 100 s outage


def test_bus_manners_wildcard_broadcast_silence_and_errors():
    m = meter698()
    t = T0 + DAY
    assert ask698(m, GetNormal(OAD(0x4000, 2)), t, addr=address("000000000043")) is None
    wild = request_frame(GetNormal(OAD(0x4001, 2)), address("AAAAAAAAAA42"))
    wild.kind = 1
    assert decode_frame(m.handle(encode_frame(wild), t)).addr == m.addr
    broadcast = request_frame(ActionNormal(OMD(0x4000, 127), Data(
        D.DATE_TIME_S, DateTime(2026, 3, 2, 1, 2, 0))), b"\xAA")
    broadcast.kind = 3
    assert m.handle(encode_frame(broadcast), t + 3600) is None         # 645 rules: <= 5 min
    assert get(m, "40000200", t + 3600).value.text() == "2026-03-02 01:02:00"
    assert isinstance(ask698(m, bytes.fromhex("05 01 07"), t), ErrorResponse)
    assert ask698(m, bytes.fromhex("77 01"), t).kind == 2
    assert m.handle(b"\x68\x17\x00garbage", t) is None
    m.power_down(t + 10)
    assert ask698(m, GetNormal(OAD(0x4000, 2)), t + 20) is None


def test_a_segmented_request_is_confirmed_and_answered():
    from protocols.dlt698 import frames_for, segment
    m = meter698()
    t = T0 + DAY
    request = GetList([OAD(0x2000, 2), OAD(0x2001, 2), OAD(0x4000, 2)] * 8)
    parts = frames_for(request_frame(request, m.addr), 40)
    replies = [m.handle(encode_frame(p), t) for p in parts]
    confirms = [segment.Fragment.decode(decode_frame(r).data) for r in replies[:-1]]
    assert [c.kind for c in confirms] == [segment.CONFIRM] * (len(parts) - 1)
    assert len(decode_apdu(decode_frame(replies[-1]).data).results) == 24


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120), st.integers(0, 60))
def test_never_crashes_on_any_bytes(tail, cut):
    m = meter698()
    good = encode_frame(request_frame(GetNormal(OAD(0x4000, 2)), m.addr))
    for raw in (tail, good[:cut] + tail, bytes.fromhex("68") + tail):
        m.handle(raw, T0 + 100)
    body = request_frame(tail, m.addr)
    reply = m.handle(encode_frame(body), T0 + 100)
    assert reply is None or decode_frame(reply).from_server



@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_typed_request_gets_an_answer(data):
    m = meter698(mode=LOCAL, wallet=Wallet(balance=40.0))
    t = T0 + DAY
    oi, attr = data.draw(st.sampled_from(sorted(O.SETTERS)))
    d = data.draw(datas)
    assert ask698(m, SetList([(OAD(oi, attr, data.draw(st.integers(0, 4))), d)]), t) is not None
    oi, method = data.draw(st.sampled_from(sorted(O.METHODS)))
    assert ask698(m, tagged(ActionNormal(OMD(oi, method), d), m, t), t) is not None
    assert isinstance(ask698(m, ConnectRequest(data.draw(associations)), t), C.ConnectResponse)
    rsd = RSD(2, [OAD(0x2021, 2), data.draw(datas), data.draw(datas), data.draw(datas)])
    assert ask698(m, GetRecord(OAD(0x5002, 2), rsd, []), t) is not None
    assert ask698(m, GetRecord(OAD(0x5004, 2), RSD(1, [OAD(0x2023, 2), d]), []), t) is not None
