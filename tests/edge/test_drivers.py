"""The drivers: the same neutral items read from the same meter state over 645 and over 698 give
the same values; relay commands and time sync act on the real meter firmware both ways."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.civil import from_civil
from protocols.dlt645 import apdu
from protocols.dlt645.deframer import Deframer as Deframer645
from protocols.dlt645.frame import encode_frame
from protocols.dlt698 import OAD, Deframer as Deframer698, decode_apdu, decode_frame
from protocols.dlt698.frame import encode_frame as encode_698
from protocols.dlt698.link import reply_frame
from protocols.dlt698 import services as V
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.deframer import Deframer as Deframer1376
from protocols.gdw1376_2.frame import COMM_HPLC, encode_frame as encode_1376
from meter_sim.firmware import HourlyProfile, Meter
from edge.archive import MeterRecord
from edge.drivers import driver_for, items as I
from edge.drivers.dlt645 import DRIVER_645, CODES
from edge.drivers.dlt698 import DRIVER_698, engineering
from edge.drivers.wire698 import Reply698, match_replies
from edge.exchange import GARBLED, OK
from edge.links import ModuleLink, Rs485Link
from edge.module_sync import _protocol

T0 = from_civil(2026, 3, 1)
DAY = 86400.0
PROFILE = HourlyProfile([0.4] * 7 + [1.2] * 12 + [2.5] * 3 + [0.8] * 2)
ADDR = "000000000042"
READS = [I.ENERGY_NOW, I.VOLTAGE_A, I.CURRENT_A, I.METER_CLOCK, I.RELAY_STATUS, I.DAILY_FREEZE]


def meters():
    kw = {"source": PROFILE, "base_kwh": [100.0, 200.0, 300.0, 400.0]}
    return Meter(ADDR, T0, **kw), Meter(ADDR, T0, protocol=698, **kw)


def records():
    return (MeterRecord(ADDR, "p", "645-2007", preamble=0),
            MeterRecord(ADDR, "p", "698.45", preamble=0))


def ask(meter, record, requests, t):
    """Send each request as its driver encodes it; the replies parsed as the links parse them."""
    replies = []
    for req in requests:
        if getattr(req, "protocol", 0) == 698:
            raw = meter.handle(req.encode(record.wire_addr, 0), t) or b""
            replies += match_replies(raw, record.wire_addr, [req])[0]
        else:
            raw = meter.handle(encode_frame(req.to_frame(record.wire_addr)), t)
            d = Deframer645()
            d.feed(raw or b"", 0.0)
            d.flush()
            frames = [f for f in d if hasattr(f, "addr")]
            replies.append(apdu.parse_reply(frames[0]) if frames else None)
    return replies


def read(meter, record, items, t):
    drv = driver_for(record)
    requests = drv.requests(record, items)
    return drv.values(record, items, requests, ask(meter, record, requests, t))


def test_698_reads_coalesce_into_one_normal_list_and_one_record_get():
    _, r698 = records()
    requests = driver_for(r698).requests(r698, READS)
    assert [type(q.apdu) for q in requests] == [V.GetList, V.GetRecord]
    assert [q.apdu.piid for q in requests] == [1, 2]
    record = requests[1].apdu
    assert record.oad.text() == "50040200" and record.rsd.selector == 9
    assert [c.text() for c in record.columns] == ["20210200", "00100200"]
    assert len(DRIVER_645.requests(records()[0], READS)) == 8        # one frame per DI


def test_the_same_meter_state_reads_the_same_over_645_and_698():
    m645, m698 = meters()
    r645, r698 = records()
    t = T0 + 2 * DAY + 3600.0
    a, b = read(m645, r645, READS, t), read(m698, r698, READS, t)
    assert a[:4] == b[:4]
    assert a[4] == b[4] == 0                  # closed, no alarm, no trip, no keep-power
    assert a[5] == b[5] and b[5]["time"] == T0 + 2 * DAY      # the freeze of 00:00 today
    assert len(b[5]["kwh"]) == 5 and b[5]["kwh"][0] > 1000.0


@pytest.mark.parametrize("action,bits", [(I.TRIP, 0x50), (I.KEEP_POWER, 0x1000), (I.ALARM, 0x80)])
def test_a_command_moves_the_698_relay_and_reads_back_as_the_645_status_word(action, bits):
    m645, m698 = meters()
    r645, r698 = records()
    t = T0 + DAY
    for meter, record in ((m645, r645), (m698, r698)):
        drv = driver_for(record)
        req = drv.command(record, action, t + 600.0, t)
        reply = ask(meter, record, [req], t)[0]
        assert reply is not None and not getattr(reply, "error", False), reply
        status = read(meter, record, [I.RELAY_STATUS], t + 10.0)[0]
        assert status & bits == bits, (record.protocol, hex(status))


def test_a_698_command_past_its_time_tag_is_refused_as_an_error_reply():
    _, m698 = meters()
    _, r698 = records()
    t = T0 + DAY
    req = driver_for(r698).command(r698, I.TRIP, t + 60.0, t)      # valid 1 minute
    reply = ask(m698, r698, [req], t + 600.0)[0]
    assert isinstance(reply, Reply698) and reply.error
    assert read(m698, r698, [I.RELAY_STATUS], t + 610.0)[0] == 0


def test_698_time_sync_is_a_broadcast_the_meter_obeys_silently():
    _, m698 = meters()
    _, r698 = records()
    t = T0 + DAY + 12 * 3600.0
    m698.clock.jump(t, 120.0)
    assert abs(read(m698, r698, [I.METER_CLOCK], t)[0] - t - 120.0) < 2.0
    req = driver_for(r698).time_sync(t)
    raw = req.encode(r698.wire_addr, 4)
    frame = decode_frame(raw)
    assert frame.kind == 3 and isinstance(decode_apdu(frame.data), V.ActionNormal)
    assert m698.handle(raw, t) is None
    assert abs(read(m698, r698, [I.METER_CLOCK], t)[0] - t) < 2.0


def test_an_item_a_reply_lacks_raises_unanswered():
    _, r698 = records()
    drv = driver_for(r698)
    requests = drv.requests(r698, [I.ENERGY_NOW])
    with pytest.raises(I.Unanswered):
        drv.values(r698, [I.ENERGY_NOW], requests, [None])
    with pytest.raises(I.Unanswered):
        DRIVER_645.values(records()[0], [I.ENERGY_NOW], DRIVER_645.requests(records()[0],
                                                                            [I.ENERGY_NOW]), [None])
    assert set(CODES) == set(I.COMMANDS)


# --- public vectors and never-crash --------------------------------------------------------------

GET_LIST_RESPONSE = ("85 02 02 02 20 00 02 00 01 01 03 12 09 6D 12 09 6D 12 09 6D 20 01 02 00 01 01"
                     " 03 05 00 00 03 E8 05 00 00 03 E8 05 00 00 03 E8 00 00")
GET_RECORD_RESPONSE = ("85 03 03 50 04 02 00 02 00 20 21 02 00 00 00 10 02 00 01 01 1C 07 E0 01 14"
                       " 00 00 00 01 05 06 00 00 00 00 06 00 00 00 00 06 00 00 00 00 06 00 00 00"
                       " 00 06 00 00 00 00 00 00")


def test_public_698_replies_give_the_items_values():
    """600888/dlt698 tests/vectors get-list-response.hex (appendix D.3.2: 241.3 V x3, 1.000 A x3)
    and get_record_response.hex (a 5004 row of 2016-01-20 with zero energy)."""
    results = decode_apdu(bytes.fromhex(GET_LIST_RESPONSE)).results
    assert engineering(OAD(0x2000, 2), results[0].data) == [241.3] * 3
    assert engineering(OAD(0x2001, 2), results[1].data) == [1.0] * 3
    _, r698 = records()
    reply = Reply698(decode_apdu(bytes.fromhex(GET_RECORD_RESPONSE)))
    requests = DRIVER_698.requests(r698, [I.DAILY_FREEZE])
    [freeze] = DRIVER_698.values(r698, [I.DAILY_FREEZE], requests, [reply])
    assert freeze == {"time": from_civil(2016, 1, 20), "kwh": [0.0] * 5}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_matching_any_bytes_never_crashes_and_values_fail_only_as_unanswered(raw):
    _, r698 = records()
    requests = DRIVER_698.requests(r698, READS)
    replies, garbage = match_replies(b"\xFE" + raw, r698.wire_addr, requests)
    assert len(replies) == len(requests) and garbage >= 0
    try:
        DRIVER_698.values(r698, READS, requests, replies)
    except ValueError:
        pass


def _real_replies():
    _, m698 = meters()
    _, r698 = records()
    requests = DRIVER_698.requests(r698, READS)
    t = T0 + 2 * DAY + 3600.0
    return r698, requests, [m698.handle(q.encode(r698.wire_addr, 0), t) for q in requests]


R698, REQUESTS_698, RAW_REPLIES = _real_replies()


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 1), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)),
                                   min_size=1, max_size=4), st.integers(0, 8))
def test_a_mutated_698_reply_is_a_value_or_unanswered_never_a_crash(which, edits, cut):
    frame = decode_frame(RAW_REPLIES[which])
    apdu = bytearray(frame.data)
    for pos, b in edits:
        apdu[pos % len(apdu)] = b
    apdu = bytes(apdu[:len(apdu) - cut])
    raws = list(RAW_REPLIES)
    raws[which] = encode_698(reply_frame(apdu, R698.wire_addr))
    replies = [match_replies(r, R698.wire_addr, [q])[0][0] for r, q in zip(raws, REQUESTS_698)]
    try:
        DRIVER_698.values(R698, READS, REQUESTS_698, replies)
    except ValueError:
        pass


def test_the_settlement_reads_the_same_over_645_and_698():
    m645, m698 = meters()
    r645, r698 = records()
    t = from_civil(2026, 4, 1, 1, 0)
    a = read(m645, r645, [I.SETTLEMENT_ENERGY], t)[0]
    b = read(m698, r698, [I.SETTLEMENT_ENERGY], t)[0]
    assert a == b and len(a) == 5 and a[0] > 100.0


def test_the_module_link_reads_a_698_meter_with_protocol_type_03_and_matches_its_reply():
    _, m698 = meters()
    _, r698 = records()
    assert _protocol(r698) == A.PROTO_698 == 3
    link = ModuleLink(COMM_HPLC, concurrency=2, answer_timeout=30.0)
    requests = DRIVER_698.requests(r698, READS)
    link.start("job", r698.wire_addr, requests, 0, 0.0)
    d = Deframer1376()
    d.feed(link.data_to_send(0.0), 0.0)
    (req,) = list(d)
    unit = A.unit_of(req)
    assert unit.protocol == A.PROTO_698 and req.dst == r698.wire_addr
    t = T0 + 2 * DAY + 3600.0
    body = b"".join(m698.handle(f, t) for f in _frames_698(unit.body))
    link.receive_data(encode_1376(A.to_frame(A.ConcurrentReply(A.PROTO_698, body),
                                             seq=req.seq, up=True, comm=COMM_HPLC,
                                             src=r698.wire_addr, dst=b"\x00" * 6)), 1.0)
    ((token, result),) = link.completed()
    assert result.kind == OK
    values = DRIVER_698.values(r698, READS, requests, result.replies)
    assert values == read(m698, r698, READS, t)


def _frames_698(raw):
    d = Deframer698()
    d.feed(raw, 0.0)
    d.flush()
    return [f.raw for f in d if hasattr(f, "raw") and hasattr(f, "addr")]


def test_the_rs485_link_runs_a_698_exchange_retries_a_silence_and_skips_a_645_frame():
    _, m698 = meters()
    _, r698 = records()
    t = T0 + 2 * DAY + 3600.0
    link = Rs485Link(2400, response_timeout=0.5, retries=1)
    requests = DRIVER_698.requests(r698, [I.ENERGY_NOW])
    link.start("job", r698.wire_addr, requests, 0, 0.0)
    first = link.data_to_send(0.0)
    link.on_timer(link.next_deadline())                     # silence: asked once more
    again = link.data_to_send(2.0)
    assert again == first
    noise = encode_frame(apdu.Read(0x0001FF00).to_frame(r698.wire_addr))  # a 645 frame on the line
    link.receive_data(noise + m698.handle(again, t), 2.2)
    ((token, result),) = link.completed()
    assert result.kind == OK and result.replies[0].piid == 1
    assert DRIVER_698.values(r698, [I.ENERGY_NOW], requests, result.replies) == \
        read(m698, r698, [I.ENERGY_NOW], t)
    link.start("job2", r698.wire_addr, requests, 0, 3.0)
    link.data_to_send(3.0)
    link.receive_data(b"\x68\x01\x02garbage", 3.1)
    for _ in range(2):
        link.on_timer(link.next_deadline())
        link.data_to_send(link.next_deadline() or 5.0)
    link.on_timer(100.0)
    ((token, result),) = link.completed()
    assert token == "job2" and result.kind == GARBLED and result.replies == [None]


def test_a_load_curve_reads_the_same_over_645_and_698_as_one_5002_span():
    m645, m698 = meters()
    r645, r698 = records()
    t = T0 + 2 * DAY + 3600.0 + 30.0
    curve = I.Curve(T0 + 2 * DAY - 3 * 3600.0, 16, 900)          # 4 h before, 15-minute points
    q = driver_for(r698).requests(r698, [curve])[0].apdu
    assert q.oad.text() == "50020200" and q.rsd.selector == 2
    assert [c.text() for c in q.columns] == ["20210200", "00100201"]
    a, b = read(m645, r645, [curve], t)[0], read(m698, r698, [curve], t)[0]
    assert a == b and len(b["values"]) == 16 and None not in b["values"]
    assert b["start"] == "2026-03-02 21:00"
    assert b["values"] == sorted(b["values"]) and b["values"][-1] > b["values"][0]


def test_a_curve_span_reaching_past_the_meter_clock_has_no_value_there():
    m645, m698 = meters()
    r645, r698 = records()
    t = T0 + 2 * DAY + 30.0
    curve = I.Curve(T0 + 2 * DAY - 1800.0, 4, 900)                # 2 points not yet frozen
    a, b = read(m645, r645, [curve], t)[0], read(m698, r698, [curve], t)[0]
    assert a == b and b["values"][:3] != [None] * 3 and b["values"][3] is None


def test_power_down_events_read_the_same_over_645_and_698():
    m645, m698 = meters()
    r645, r698 = records()
    t = T0 + DAY
    for m in (m645, m698):
        for k in range(3):
            m.power_down(t + k * 3600.0)
            m.power_up(t + k * 3600.0 + 600.0)
        m.power_down(t + 5 * 3600.0)                                # still out ...
        m.power_up(t + 5 * 3600.0 + 60.0)                           # ... then back
    t_read = t + 6 * 3600.0
    a = read(m645, r645, [I.POWER_DOWN_COUNT], t_read)[0]
    b = read(m698, r698, [I.POWER_DOWN_COUNT], t_read)[0]
    assert a == b == 4
    item = I.PowerDownRecords(4, 3)
    q = driver_for(r698).requests(r698, [item])
    assert len(q) == 1 and q[0].apdu.oad.text() == "30110200" and q[0].apdu.rsd.selector == 2
    ra, rb = read(m645, r645, [item], t_read)[0], read(m698, r698, [item], t_read)[0]
    assert ra == rb and [n for n, _ in rb] == [4, 3, 2]
    assert rb[0][1]["start"] == "2026-03-02 05:00:00" and rb[0][1]["end"] == "2026-03-02 05:01:00"


def test_a_698_meter_without_events_counts_zero():
    _, m698 = meters()
    _, r698 = records()
    assert read(m698, r698, [I.POWER_DOWN_COUNT], T0 + DAY)[0] == 0


def test_a_698_reply_in_blocks_and_fragments_is_read_on_by_the_rs485_exchange():
    """A day's curve (96 rows) is longer than the meter's APDU size (1024 before a CONNECT):
    GET-Response-Next blocks, the first in 3 link fragments; the exchange confirms each, asks the
    next block and gives the whole as one record reply, the same values as 645 reads."""
    from protocols.dlt698.deframer import Deframer as D698
    from edge.drivers.wire698 import Exchange698
    m645, m698 = meters()
    r645, r698 = records()
    t = T0 + 3 * DAY + 60.0
    curve = I.Curve(T0 + 2 * DAY, 96, 900)
    q = driver_for(r698).requests(r698, [curve])
    ex = Exchange698(r698.wire_addr, q[0], t, timeout=1.0, retries=0)
    seen = []
    while not ex.done:
        out = ex.data_to_send(t)
        assert out is not None
        sent = decode_frame(out)
        seen.append("confirm" if sent.segmented else type(decode_apdu(sent.data)).__name__)
        raw = m698.handle(out, t) or b""
        ex.receive_data(raw, t + 0.1)
        t += 0.2
    assert seen == ["GetRecord", "confirm", "confirm", "GetNext"]
    assert ex.outcome.kind == OK and isinstance(ex.outcome.reply.apdu, V.GetRecordReply)
    b = driver_for(r698).values(r698, [curve], q, [ex.outcome.reply])[0]
    assert len(b["values"]) == 96 and None not in b["values"]
    one_by_one = [read(m645, r645, [I.Curve(curve.start + 900 * k, 1, 900)], t)[0]["values"][0]
                  for k in range(96)]
    assert b["values"] == one_by_one


def test_a_secured_698_meter_takes_the_agents_secured_actions_and_refuses_plaintext():
    """A meter in security mode (plaintext_control False) refuses a plaintext trip (DAR 20)
    and plaintext reads of 8000; the archive's ``secured`` wraps the ACTION in SECURITY-Request
    (ciphered, SID_MAC: the test-key backend) and the read-back in plaintext + RN."""
    from meter_sim.firmware.esam import TEST_KEY
    from protocols.dlt698 import security as S
    from edge.drivers.wire698 import TEST_KEY as AGENT_KEY
    assert AGENT_KEY == TEST_KEY
    m698 = Meter(ADDR, T0, protocol=698, plaintext_control=False, source=PROFILE)
    plain = MeterRecord(ADDR, "p", "698.45", preamble=0)
    secured = MeterRecord(ADDR, "p", "698.45", preamble=0, extra={"secured": True})
    t = T0 + DAY
    refused = ask(m698, plain, [DRIVER_698.command(plain, I.TRIP, t + 600.0, t)], t)[0]
    assert isinstance(refused, Reply698) and refused.error
    with pytest.raises(I.Unanswered):
        read(m698, plain, [I.RELAY_STATUS], t)
    req = DRIVER_698.command(secured, I.TRIP, t + 600.0, t)
    sent = decode_apdu(decode_frame(req.encode(secured.wire_addr, 0)).data)
    assert isinstance(sent, S.SecurityRequest) and sent.ciphered
    reply = ask(m698, secured, [req], t)[0]
    assert isinstance(reply, Reply698) and not reply.error, reply
    assert isinstance(reply.apdu, V.ActionNormalReply)
    assert read(m698, secured, [I.RELAY_STATUS], t + 10.0)[0] & 0x50 == 0x50
    assert read(m698, secured, [I.ENERGY_NOW, I.DAILY_FREEZE], t + 10.0)[1]["time"] == T0 + DAY


def _long_frames(record, apdu_max, frame_data):
    """The frames a meter sends for ``record`` in GET-Response-Next blocks of ``apdu_max``
    bytes, each block in link fragments of ``frame_data`` bytes (the firmware's splitting)."""
    from meter_sim.firmware import blocks698 as B
    from protocols.dlt698.link import frames_for
    blocks = B.split([record], apdu_max)
    out = []
    for n, block in enumerate(blocks):
        reply = V.GetNextReply(n == len(blocks) - 1, n + 1, block, True, piid=1)
        out.append(frames_for(reply_frame(reply, bytes.fromhex(ADDR)[::-1]), frame_data))
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 150), st.integers(120, 1024), st.integers(60, 500))
def test_a_record_in_any_blocks_and_fragments_reads_back_whole(rows, apdu_max, frame_data):
    from protocols.dlt698 import data as D
    from protocols.dlt698.apdu import RecordResult
    from protocols.dlt698.data import Data
    from edge.drivers.dlt698 import MINUTE, FREEZE_TIME, CURVE_ENERGY, date_time
    from edge.drivers.wire698 import Continue, LongReply, Request698
    record = RecordResult(MINUTE, [FREEZE_TIME, CURVE_ENERGY], [
        [Data(D.DATE_TIME_S, date_time(T0 + 900 * k)), Data(D.DOUBLE_LONG_UNSIGNED, 1000 + k)]
        for k in range(rows)])
    request = Request698(V.GetRecord(MINUTE, None, record.columns, piid=1))
    long = LongReply(request, bytes.fromhex(ADDR)[::-1])
    frames = [f for block in _long_frames(record, apdu_max, frame_data) for f in block]
    for k, f in enumerate(frames):
        out = long.feed(decode_frame(encode_698(f)))
        if k < len(frames) - 1:
            assert isinstance(out, Continue)
            sent = decode_frame(out.encode(b"", 0))
            assert not sent.from_server
        else:
            assert isinstance(out, Reply698) and not out.error
    assert out.apdu.record.rows == record.rows and out.apdu.record.oad == MINUTE


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_never_crash_the_698_reply_readers(raw):
    from edge.drivers.wire698 import LongReply, Request698
    _, r698 = records()
    requests = DRIVER_698.requests(r698, [I.ENERGY_NOW, I.Curve(T0, 4, 900)])
    match_replies(raw, r698.wire_addr, requests)
    d = Deframer698()
    d.feed(raw, 0.0)
    d.flush()
    long = LongReply(requests[1], r698.wire_addr)
    for item in d:
        if hasattr(item, "addr"):
            long.feed(item)


def test_a_secured_command_takes_no_plain_or_mac_less_reply():
    """A forged plain ACTION-Response, or a SECURITY-Response without a MAC, to a secured trip
    was taken as success (review finding): now neither fills the request's slot."""
    from protocols.dlt698 import security as S
    secured = MeterRecord(ADDR, "p", "698.45", preamble=0, extra={"secured": True})
    t = from_civil(2026, 3, 2, 12)
    req = DRIVER_698.command(secured, I.TRIP, t + 600.0, t)
    ok = V.ActionNormalReply(req.apdu.omd, 0, None, piid=req.apdu.piid)
    forged = S.SecurityResponse(ok.encode(), False, None)
    for apdu_ in (ok, forged):
        raw = encode_698(reply_frame(apdu_, secured.wire_addr))
        replies, garbage = match_replies(raw, secured.wire_addr, [req])
        assert replies == [None] and garbage == 1


def test_a_list_reply_shorter_than_asked_is_unanswered_not_an_index_error():
    from edge.drivers.wire698 import Reply698 as R
    meter = MeterRecord(ADDR, "p", "698.45", preamble=0)
    reqs = DRIVER_698.requests(meter, [I.RELAY_STATUS])
    with pytest.raises(I.Unanswered):
        DRIVER_698.values(meter, [I.RELAY_STATUS], reqs, [R(V.GetListReply([], piid=1))])


@pytest.mark.parametrize("family,oi", [("magnetic", "302A0200"), ("cover_open", "301B0200")])
def test_the_last_event_record_reads_the_same_times_over_645_and_698(family, oi):
    m645, m698 = meters()
    r645, r698 = records()
    t = T0 + DAY
    item = I.LastEvent(family)
    assert read(m698, r698, [item], t)[0] is None                  # none yet: no row
    for m in (m645, m698):
        on, off = (m.magnet_on, m.magnet_off) if family == "magnetic" else (m.open_cover,
                                                                            m.close_cover)
        on(t)
        off(t + 1800.0)
    q = driver_for(r698).requests(r698, [item])
    assert len(q) == 1 and q[0].apdu.oad.text() == oi and q[0].apdu.rsd.selector == 9
    a = read(m645, r645, [item], t + 3600.0)[0]
    b = read(m698, r698, [item], t + 3600.0)[0]
    assert (a["start"], a["end"]) == (b["start"], b["end"]) == ("2026-03-02 00:00:00",
                                                                 "2026-03-02 00:30:00")
    assert not DRIVER_645.supports(MeterRecord(ADDR, "p", "645-1997"), item)


def _event_reply():
    _, m698 = meters()
    _, r698 = records()
    m698.magnet_on(T0 + DAY)
    item = [I.LastEvent("magnetic")]
    q = DRIVER_698.requests(r698, item)
    return item, q, m698.handle(q[0].encode(r698.wire_addr, 0), T0 + DAY + 60.0)


EVENT_ITEM, EVENT_REQUEST, EVENT_RAW = _event_reply()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=4),
       st.integers(0, 8))
def test_a_mutated_event_record_reply_is_a_value_or_unanswered_never_a_crash(edits, cut):
    apdu = bytearray(decode_frame(EVENT_RAW).data)
    for pos, b in edits:
        apdu[pos % len(apdu)] = b
    raw = encode_698(reply_frame(bytes(apdu[:len(apdu) - cut]), R698.wire_addr))
    replies = match_replies(raw, R698.wire_addr, EVENT_REQUEST)[0]
    try:
        got = DRIVER_698.values(R698, EVENT_ITEM, EVENT_REQUEST, replies)[0]
    except ValueError:
        return
    assert got is None or set(got) == {"start", "end"}
