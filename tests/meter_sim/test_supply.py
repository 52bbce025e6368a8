"""The supply voltage model: drop with load and distance, seeded noise, fault spells, and the
645 (02010100) and 698 (2000) voltage registers report it."""
from protocols.dlt645 import Read
from meter_sim.population import DEFAULT_EPOCH, build_population
from meter_sim.supply import SupplyModel
from tests.helpers import value

T = DEFAULT_EPOCH + 5 * 86400.0


def test_drop_grows_with_distance_and_load_and_noise_is_seeded():
    near = SupplyModel("k", 0.0, noise_v=0.0)
    far = SupplyModel("k", 1.0, noise_v=0.0)
    peak, night = T + 19 * 3600.0, T + 3 * 3600.0
    assert near.volts(peak, 0.0) == 230.0
    assert far.volts(peak, 0.0) < far.volts(night, 0.0) < near.volts(night, 0.0)
    assert far.volts(peak, 3.0) < far.volts(peak, 0.0)
    a, b = SupplyModel("x", 0.5), SupplyModel("x", 0.5)
    assert [a.volts(T + 60.0 * i, 1.0) for i in range(30)] == \
        [b.volts(T + 60.0 * i, 1.0) for i in range(30)]
    assert len({a.volts(T + 60.0 * i, 1.0) for i in range(30)}) > 20


def test_undervoltage_spell_is_what_the_registers_report():
    start_h = 5 * 24 + 10
    faults = [{"kind": "undervoltage", "meters": [1], "start_h": start_h, "end_h": start_h + 2,
               "volts": 185.0}]
    meters = build_population(3, seed=4, faults=faults, local_share=0.0)
    inside, after = DEFAULT_EPOCH + 3600.0 * (start_h + 1), DEFAULT_EPOCH + 3600.0 * (start_h + 3)
    m = meters[1]
    v = value(m, Read(0x02010100), inside)
    assert 180.0 < v < 190.0
    assert 198.0 < value(m, Read(0x02010100), after) < 235.4
    assert 198.0 < value(meters[0], Read(0x02010100), inside) < 235.4
    assert abs(v - m.meter.voltage(inside)) < 0.06


def test_a_698_meter_reports_the_same_spell_in_2000():
    from tests.meter_sim.test_slave698 import get
    start_h = 5 * 24 + 10
    faults = [{"kind": "overvoltage", "meters": [0], "start_h": start_h, "end_h": start_h + 1,
               "volts": 242.0}]
    (m,) = build_population(1, seed=4, faults=faults, local_share=0.0, protocol_698_share=1.0)
    t = DEFAULT_EPOCH + 3600.0 * (start_h + 0.5)
    assert m.meter.protocol == 698
    v = get(m, "20000200", t).value[0].value / 10
    assert 237.0 < v < 247.0 and abs(v - m.meter.voltage(t)) < 0.06
