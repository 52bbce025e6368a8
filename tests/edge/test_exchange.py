from protocols.civil import from_civil
from protocols.dlt645 import Read, address, encode_frame, v1997
from protocols.dlt645 import di as DI
from edge.exchange import ERROR, GARBLED, OK, TIMEOUT
from meter_sim.firmware import ConstantLoad, Meter
from meter_sim.serve.bus import MeterBus
from tests.helpers import exchange, run_in_memory

T0 = from_civil(2026, 3, 1)


def bus():
    return MeterBus([Meter("%012d" % i, T0, ConstantLoad(1.0)) for i in range(1, 4)])


def test_read_ok_with_latency_and_one_attempt():
    out = run_in_memory(exchange(address("000000000002"), Read(0x00010000)), bus().handle, T0 + 3600)
    assert out.kind == OK and out.attempts == 1 and out.reply.value()[1] == 1.0
    assert out.latency == bus().meters[0].reply_delay


def test_follow_up_frames_are_assembled():
    req = Read(0x06100601, 96, T0)
    out = run_in_memory(exchange(address("000000000001"), req), bus().handle, T0 + 2 * 86400)
    assert out.ok and len(out.frames) == 2
    curve = out.reply.value()[1]
    assert curve["start"] == "2026-03-01 00:00" and len(curve["values"]) == 96
    assert curve["values"][4] == 1.0


def test_dead_meter_times_out_after_retries():
    out = run_in_memory(exchange(address("000000000009"), Read(0x00010000), retries=2),
                        bus().handle, T0)
    assert out.kind == TIMEOUT and out.attempts == 3


def test_garbled_replies_are_retried_then_reported():
    def corrupt(reply):
        return [(0.0, reply[:-3] + b"\x00" + reply[-2:])]
    out = run_in_memory(exchange(address("000000000001"), Read(0x00010000)), bus().handle, T0, corrupt)
    assert out.kind == GARBLED and out.garbage > 0


def test_error_reply_is_a_value():
    out = run_in_memory(exchange(address("000000000001"), Read(0x12345678)), bus().handle, T0)
    assert out.kind == ERROR and out.reply.reasons == ["no_requested_data"]


def test_fragmented_noisy_link_still_delivers():
    def fragment(reply):
        noisy = b"\x00\x55" + reply
        return [(0.01, noisy[i:i + 3]) for i in range(0, len(noisy), 3)]
    out = run_in_memory(exchange(address("000000000003"), Read(DI.parse("0001FF00"))),
                        bus().handle, T0 + 3600, fragment)
    assert out.ok and out.garbage == 2 and out.reply.value()[1][0] == 1.0


def test_reply_from_another_meter_is_ignored():
    other = Meter("000000000005", T0, ConstantLoad(1.0))
    def wrong_meter(raw, t):
        return other.handle(encode_frame(Read(0x00010000).to_frame(other.addr)), t), 0.05
    out = run_in_memory(exchange(address("000000000001"), Read(0x00010000), retries=0), wrong_meter, T0)
    assert out.kind == GARBLED


def test_645_1997_exchange():
    m = Meter("000000000001", T0, ConstantLoad(1.0), protocol=1997)
    out = run_in_memory(exchange(m.addr, v1997.Read97(0x9010)), lambda r, t: (m.handle(r, t), 0.05),
                        T0 + 7200)
    assert out.ok and out.reply.value() == ("forward_active_total", 2.0, "kWh")


def test_broadcast_needs_no_reply():
    from protocols.dlt645 import BroadcastTime, const as K
    b = bus()
    out = run_in_memory(exchange(K.BROADCAST_ADDR, BroadcastTime(T0 + 3600 + 60)), b.handle, T0 + 3600)
    assert out.ok and out.reply is None
