import random

import simpy

from meter_sim.firmware import Meter
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.rs485 import Rs485Bus, airtime
from protocols.dlt645 import Read, encode_frame, address
from tests.plc_channel.helpers import START, run


def bus(byte_error=0.0, meters=None, **kw):
    env = simpy.Environment(initial_time=START)
    meters = meters or [Meter("000000000001", DEFAULT_EPOCH, reply_delay=0.08),
                        Meter("000000000002", DEFAULT_EPOCH, reply_delay=0.2)]
    return env, Rs485Bus(env, meters, random.Random(1), byte_error=byte_error, **kw)


def request(addr_text, di=0x00010000):
    return encode_frame(Read(di).to_frame(address(addr_text)), preamble=4)


def test_airtime_is_eleven_bits_a_byte_plus_reply_delay():
    env, b = bus()
    req = request("000000000001")
    d = run(env, b.transact(address("000000000001"), req))
    assert d.ok
    expected = airtime(len(req), 2400) + 0.08 + airtime(len(d.reply), 2400)
    assert abs((d.ended - d.started) - expected) < 1e-6
    assert abs(airtime(20, 2400) - 20 * 11 / 2400.0) < 1e-12


def test_one_frame_in_flight_second_waits_for_the_first():
    env, b = bus()
    p1 = env.process(b.transact(address("000000000001"), request("000000000001")))
    p2 = env.process(b.transact(address("000000000002"), request("000000000002")))
    env.run(until=env.all_of([p1, p2]))
    assert p2.value.ended - p1.value.ended >= 0.2 + airtime(len(request("000000000002")), 2400)


def test_slow_meter_past_the_response_timeout_is_silent():
    env, b = bus(response_timeout=0.1)
    d = run(env, b.transact(address("000000000002"), request("000000000002")))
    assert d.reason == "meter silent" and d.reply is None
    assert abs((d.ended - d.started) - (airtime(20, 2400) + 0.1)) < 1e-6


def test_line_noise_corrupts_bytes():
    env, b = bus(byte_error=0.03)
    outcomes = [run(env, b.transact(address("000000000001"), request("000000000001")))
                for _ in range(60)]
    silent = [d for d in outcomes if d.reason == "meter silent"]        # request hit
    answered = [d.reply for d in outcomes if d.ok]
    good = run(*_clean())
    assert silent and any(r != good.reply for r in answered)


def _clean():
    env, b = bus()
    return env, b.transact(address("000000000001"), request("000000000001"))
