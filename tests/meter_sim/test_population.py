import pytest

from meter_sim.faults import Fault, FaultyMeter, faults_from_spec
from meter_sim.population import DEFAULT_EPOCH, build_meters, build_population
from meter_sim.profiles import WeeklyProfile, weekday
from protocols.civil import from_civil
from protocols.dlt645 import Read, decode_frame, encode_frame, parse_reply
from protocols.dlt645 import di as DI
import random

DAY = 86400


def read(m, di, t):
    raw = m.handle(encode_frame(Read(di).to_frame(m.addr)), t)
    return None if raw is None else raw


def test_population_is_deterministic_and_varied():
    a = build_meters(50, seed=3)
    b = build_meters(50, seed=3)
    c = build_meters(50, seed=4)
    t = DEFAULT_EPOCH + 3 * DAY
    assert [m.energy(t) for m in a] == [m.energy(t) for m in b]
    assert [m.energy(t) for m in a] != [m.energy(t) for m in c]
    kinds = {m.kind for m in build_meters(300, seed=1)}
    assert kinds == {"residential", "commercial"}


def test_ten_thousand_meters_build_lazily():
    meters = build_population(10000, seed=1)
    assert len({m.addr for m in meters}) == 10000
    assert all(not m.source._days for m in meters[:100])      # nothing evaluated yet


def test_weekly_profile_integrates_exactly_and_has_a_weekend_shape():
    p = WeeklyProfile([1.0] * 24, seed="x", weekend_factor=0.5, day_sigma=0.0, hour_sigma=0.0)
    monday = from_civil(2026, 1, 5)
    assert weekday(monday) == 0
    assert sum(p.between(monday, monday + DAY)) == pytest.approx(24.0)
    saturday = monday + 5 * DAY
    assert sum(p.between(saturday, saturday + DAY)) == pytest.approx(12.0)
    q = WeeklyProfile([1.0] * 24, seed="y")
    a, b, c = monday + 1234.5, monday + 3 * DAY + 77, monday + 9 * DAY
    whole = q.between(a, c)
    parts = [x + y for x, y in zip(q.between(a, b), q.between(b, c))]
    assert whole == pytest.approx(parts)


def test_fault_spec_validates_and_draws_shares_from_the_seed():
    spec = [{"kind": "dead", "share": 0.1}, {"kind": "slow", "meters": [3], "delay_s": 4.0,
                                             "start_h": 1, "end_h": 2}]
    f1 = faults_from_spec(spec, 100, 7, DEFAULT_EPOCH)
    f2 = faults_from_spec(spec, 100, 7, DEFAULT_EPOCH)
    assert {k: repr(v) for k, v in f1.items()} == {k: repr(v) for k, v in f2.items()}
    assert sum(1 for v in f1.values() for f in v if f.kind == "dead") == 10
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults_from_spec([{"kind": "haunted"}], 10, 1, DEFAULT_EPOCH)
    with pytest.raises(ValueError, match="unknown parameters"):
        faults_from_spec([{"kind": "dead", "meters": [1], "p": 0.5}], 10, 1, DEFAULT_EPOCH)
    with pytest.raises(ValueError, match="outside"):
        faults_from_spec([{"kind": "dead", "meters": [10]}], 10, 1, DEFAULT_EPOCH)


def faulty(*faults):
    m = build_meters(1, seed=1)[0]
    return FaultyMeter(m, list(faults), random.Random(1))


T = DEFAULT_EPOCH + DAY + 600


def test_dead_window_and_slow_meter():
    m = faulty(Fault("dead", T, T + 60), Fault("slow", T + 100, T + 200, delay_s=3.0))
    assert read(m, DI.DI_FORWARD_TOTAL, T + 10) is None and not m.module_alive(T + 10)
    assert read(m, DI.DI_FORWARD_TOTAL, T + 70) is not None
    read(m, DI.DI_FORWARD_TOTAL, T + 150)
    assert m.reply_delay == pytest.approx(m.meter.reply_delay + 3.0)


def test_outage_is_recorded_as_a_power_down_event_at_its_own_time():
    m = faulty(Fault("outage", T, T + 3600))
    assert read(m, DI.DI_FORWARD_TOTAL, T + 60) is None
    raw = read(m, DI.EV_POWER_DOWN + 1, T + 4000)
    name, value, _ = parse_reply(decode_frame(raw)).value()
    assert name == "power_down_last_1"
    assert m.meter.events.count(DI.EV_POWER_DOWN) == 1


def test_clock_jump_and_stuck_relay():
    m = faulty(Fault("clock_jump", T, seconds=3600.0), Fault("relay_stuck", T))
    before = m.meter.clock.read(T - 1)
    m.due(T + 1)
    assert m.meter.clock.read(T + 1) - before == pytest.approx(3602.0, abs=0.01)
    assert m.meter.relay.stuck


def test_wrong_and_garbled_replies():
    wrong = faulty(Fault("wrong", T))
    raw = read(wrong, DI.DI_FORWARD_TOTAL, T + 1)
    assert decode_frame(raw).addr != wrong.addr
    garbled = faulty(Fault("garbled", T))
    clean = read(faulty(), DI.DI_FORWARD_TOTAL, T + 1)
    assert read(garbled, DI.DI_FORWARD_TOTAL, T + 1) != clean
