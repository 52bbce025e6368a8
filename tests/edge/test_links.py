"""The bus links and re-reads at the byte level: the 1376.2 module link against scripted module
frames (busy, silent, lost, reports, garbage), and a partial re-read on RS-485 against a firmware
meter whose one reply is lost."""
from protocols.dlt645 import apdu, decode_frame as decode_645, encode_frame as encode_645
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.deframer import Deframer
from protocols.gdw1376_2.frame import COMM_HPLC, encode_frame

from edge.agent import Agent
from edge.archive import Archive
from edge.exchange import OK, TIMEOUT
from edge.jobs import DI_FREEZE_ENERGY, DI_FREEZE_TIME
from edge.links import ModuleLink
from edge.plan import Settings
from edge.store import Store
from meter_sim.population import DEFAULT_EPOCH, build_meters
from protocols.civil import DAY

METER = bytes.fromhex("010000000000")        # wire order of 000000000001
REQUESTS = [apdu.Read(DI_FREEZE_TIME), apdu.Read(DI_FREEZE_ENERGY)]


def sent(link, now=0.0):
    """The 1376.2 frames the link wants on the UART now."""
    d = Deframer()
    d.feed(link.data_to_send(now) or b"", now)
    return list(d)


def answer(link, unit, seq, now, src=None):
    frame = A.to_frame(unit, seq=seq, up=True, comm=COMM_HPLC, src=src,
                       dst=b"\x00" * 6 if src else None)
    link.receive_data(encode_frame(frame), now)


def meter_reply(t):
    meter = build_meters(1, 1, DEFAULT_EPOCH)[0]
    return b"".join(meter.handle(encode_645(r.to_frame(meter.addr)), t) for r in REQUESTS)


def test_busy_deny_is_resent_after_a_second_then_the_reply_completes_the_job():
    link = ModuleLink(COMM_HPLC, concurrency=2, answer_timeout=30.0)
    link.start("job", METER, REQUESTS, 4, 0.0)
    (req,) = sent(link)
    assert isinstance(A.unit_of(req), A.ConcurrentRequest) and req.dst == METER
    answer(link, A.Deny(A.DENY_BUSY), req.seq, 0.1)
    assert link.completed() == [] and link.next_deadline() == 1.1
    link.on_timer(1.1)
    (again,) = sent(link, 1.1)
    assert again.seq == req.seq and again.data == req.data
    answer(link, A.ConcurrentReply(A.PROTO_645_2007, meter_reply(DEFAULT_EPOCH + DAY)), req.seq, 2.0)
    ((token, result),) = link.completed()
    assert token == "job" and result.kind == OK and result.latency == 2.0
    assert [r.di for r in result.replies] == [DI_FREEZE_TIME, DI_FREEZE_ENERGY]


def test_a_silent_meter_deny_is_a_timeout_with_its_code_and_a_lost_answer_times_out():
    link = ModuleLink(COMM_HPLC, concurrency=2, answer_timeout=30.0)
    link.start("silent", METER, REQUESTS, 4, 0.0)
    link.start("lost", METER, REQUESTS, 4, 0.0)
    first, second = sent(link)
    answer(link, A.Deny(A.DENY_METER_SILENT), first.seq, 5.0)
    ((token, result),) = link.completed()
    assert (token, result.kind, result.deny, result.replies) == ("silent", TIMEOUT,
                                                                A.DENY_METER_SILENT, [None, None])
    assert link.next_deadline() == 30.0
    link.on_timer(29.9)
    assert link.completed() == []
    link.on_timer(30.0)
    ((token, result),) = link.completed()
    assert (token, result.kind) == ("lost", TIMEOUT)
    answer(link, A.Deny(A.DENY_BUSY), second.seq, 31.0)     # too late: ignored, nothing resent
    assert link.completed() == [] and link.data_to_send(31.0) is None


def test_module_reports_are_kept_and_acknowledged_and_garbage_is_skipped():
    link = ModuleLink(COMM_HPLC)
    event = A.ReportEvent(A.PROTO_645_2007, b"\x68\x16")
    data = (b"\x00\xFF\x68\x12" + encode_frame(A.to_frame(event, seq=9, up=True, src=METER,
                                                         dst=b"\x00" * 6))
            + b"\x16\x16" + encode_frame(A.to_frame(A.RouterRequest(1, METER, 1), seq=10, up=True)))
    link.receive_data(data, 0.0)
    assert [type(u) for u, _ in link.reports] == [A.ReportEvent, A.RouterRequest]
    assert link.reports[0][1] == METER and link.garbage_bytes > 0
    confirm, done = sent(link)
    assert (confirm.seq, type(A.unit_of(confirm))) == (9, A.Confirm)
    assert done.seq == 10 and A.unit_of(done).flag == A.READ_DONE


def test_a_reread_asks_only_for_the_item_that_was_missing():
    """The freeze time arrives, the energy block's reply is lost: the re-read sends one frame."""
    t = DEFAULT_EPOCH + DAY + 400.0
    archive = Archive.from_dict({"port": [{"name": "p", "url": "loop://", "medium": "rs485"}],
                                 "meter": [{"addr": "000000000001", "port": "p"}]})
    agent = Agent(archive, Store(":memory:"), Settings(curve_every_min=0, event_every_h=0,
                                                       clock_check_h=None), now=t, wall=t)
    meter = build_meters(1, 1, DEFAULT_EPOCH)[0]
    asked, lost = [], [DI_FREEZE_ENERGY]
    for _ in range(200):
        out = agent.data_to_send("p", t)
        if out:
            req = apdu.parse_request(decode_645(out))
            asked.append(req.di)
            reply = meter.handle(out, t)
            if req.di in lost:
                lost.remove(req.di)
            else:
                agent.receive_data("p", reply, t + 0.2, t + 0.2)
                continue
        nxt = agent.next_deadline()
        if nxt is None or agent.store.good("000000000001", "daily_freeze", "2026-01-01"):
            break
        t = max(t, nxt)
        agent.on_timer(t, t)
    assert asked == [DI_FREEZE_TIME, DI_FREEZE_ENERGY, DI_FREEZE_ENERGY]
    assert agent.store.good("000000000001", "daily_freeze", "2026-01-01") is not None


# --- against a real module: both confirm lengths, waiting time, follow-ups, run mode --------
def call(link, unit, now=0.0):
    link.call("call", unit, now)
    (req,) = sent(link, now)
    return req


def test_a_legacy_and_a_standard_confirm_both_complete_a_call():
    for confirm in (A.Confirm(0xFFFF, 0, legacy=True), A.Confirm(A.ALL_IDLE_DONE, 0)):
        link = ModuleLink(COMM_HPLC)
        req = call(link, A.RoutePause())
        answer(link, confirm, req.seq, 0.5)
        ((token, unit),) = link.completed()
        assert token == "call" and isinstance(unit, A.Confirm) and unit.done


def test_a_confirm_with_a_waiting_time_holds_the_next_request_that_long():
    link = ModuleLink(COMM_HPLC)
    req = call(link, A.StartBroadcast(A.PROTO_645_2007, b"\x68\x16"))
    answer(link, A.Confirm(A.ALL_IDLE_DONE, 12), req.seq, 1.0)
    link.completed()
    link.start("job", METER, REQUESTS, 4, 1.0)
    assert link.data_to_send(5.0) is None and link.next_deadline() == 13.0
    (read,) = sent(link, 13.0)
    assert isinstance(A.unit_of(read), A.ConcurrentRequest)
    assert link.next_deadline() == 13.0 + link.answer_timeout     # the wait starts when sent


def test_a_long_reply_is_read_on_with_follow_up_frames_through_the_module():
    """A curve read whose reply has D5 set: the link asks 0x12 SEQ 1, 2 ... through the module
    and hands over one reply with all the data (it was scored ok and not decoded before)."""
    meter = build_meters(1, 1, DEFAULT_EPOCH)[0]
    t = DEFAULT_EPOCH + 3 * DAY
    req = apdu.Read(0x06100601, blocks=96, start=DEFAULT_EPOCH + 2 * DAY)
    link = ModuleLink(COMM_HPLC)
    link.start("curve", METER, [req], 0, t)
    frames, n = [], 0
    while True:
        out = sent(link, t)
        if not out:
            break
        (f,) = out
        body = A.unit_of(f).body
        frames.append(decode_645(body).ctrl)
        answer(link, A.ConcurrentReply(A.PROTO_645_2007, meter.handle(body, t)), f.seq, t,
               src=METER)
        n += 1
        assert n < 20
    ((token, result),) = link.completed()
    assert frames[0] == 0x11 and set(frames[1:]) == {0x12} and len(frames) > 1
    assert result.kind == OK and not result.replies[0].more
    whole = meter.handle(encode_645(req.to_frame(meter.addr)), t)
    assert len(result.replies[0].data) > len(apdu.parse_reply(decode_645(whole)).data)


def test_run_mode_of_a_module_without_f1f1_makes_reads_one_at_a_time():
    link = ModuleLink(COMM_HPLC, concurrency=5)
    link.configure(A.RunMode(monitor_timeout_s=40), concurrent=False)
    assert link.capacity == 1 and link.answer_timeout == 45.0
    link.start("job", METER, REQUESTS, 4, 0.0)
    (req,) = sent(link)
    assert isinstance(A.unit_of(req), A.MonitorRequest)
