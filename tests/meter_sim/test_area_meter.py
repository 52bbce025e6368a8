"""The area meter (台区总表) and the bypass fault: the area meter registers what the customers
really draw plus the documented losses, through its CT; a bypass takes energy past a customer's
register and leaves no other trace."""
import pytest

from protocols.civil import from_civil
from protocols.dlt645 import Read, di as DI
from meter_sim.area_meter import build_area_meter
from meter_sim.faults import Fault, FaultyMeter, firmware
from meter_sim.firmware import ConstantLoad, Meter
from meter_sim.population import build_population
from hil.agent_run import true_freeze
from tests.helpers import value

T0 = from_civil(2026, 1, 1)
DAY = 86400


def test_the_area_meter_registers_customers_plus_fixed_and_load_squared_loss_through_its_ct():
    a = Meter("000000000001", T0, ConstantLoad(20.0))
    b = Meter("000000000002", T0, ConstantLoad(30.0))
    area = build_area_meter([a, b], T0, ct_ratio=40, fixed_kw=1.0, k_per_kw=1e-3,
                            base_kwh=(0, 0, 0, 0))
    # a day at 50 kW: 1 kW fixed + 0.001 * 50**2 = 2.5 kW of loss, 53.5 kW through the CT
    assert true_freeze(area, T0 + DAY + 60) == pytest.approx(53.5 * 24 / 40, abs=0.006)
    truth = area.source.truth(T0, T0 + DAY)
    assert truth["technical_kwh"] == pytest.approx(3.5 * 24)
    assert truth["stolen_kwh"] == 0
    assert value(area, Read(0x00010000), T0 + DAY) == pytest.approx(53.5 * 24 / 40, abs=0.006)


def test_a_tripped_customer_is_no_load_on_the_area_from_the_trip():
    a = Meter("000000000001", T0, ConstantLoad(2.0))
    b = Meter("000000000002", T0, ConstantLoad(3.0))
    area = build_area_meter([a, b], T0, ct_ratio=1, fixed_kw=0.0, k_per_kw=0.0)
    b.advance(T0 + 12 * 3600)
    b.relay.trip(T0 + 12 * 3600, b"\x00" * 4)
    truth = area.source.truth(T0, T0 + DAY)
    assert truth["supplied_kwh"] == pytest.approx(2 * 24 + 3 * 12, abs=0.01)


def test_a_bypass_registers_the_rest_with_no_event_and_the_area_meter_sees_it_all():
    fw = Meter("000000000001", T0, ConstantLoad(2.0))
    thief = FaultyMeter(fw, [Fault("bypass", T0 + DAY, fraction=0.75)], None)
    counts = {f: fw.events.count(f) for f in (DI.EV_COVER_OPEN, DI.EV_POWER_DOWN)}
    area = build_area_meter([thief], T0, ct_ratio=1, fixed_kw=0.0, k_per_kw=0.0)
    assert fw.energy(T0 + DAY) - fw.energy(T0) == pytest.approx(48.0, abs=0.01)
    assert fw.energy(T0 + 2 * DAY) - fw.energy(T0 + DAY) == pytest.approx(12.0, abs=0.01)
    assert fw.power(T0 + DAY + 10) == pytest.approx(0.5)      # the current it measures, too
    assert {f: fw.events.count(f) for f in counts} == counts
    truth = area.source.truth(T0 + DAY, T0 + 2 * DAY)
    assert truth["supplied_kwh"] == pytest.approx(48.0)
    assert truth["stolen_kwh"] == pytest.approx(36.0)


def test_a_stopped_register_is_energy_drawn_and_not_sold_from_the_instant_it_stops():
    fw = Meter("000000000001", T0, ConstantLoad(2.0))
    stuck = FaultyMeter(fw, [Fault("stopped", T0 + DAY + 1800, T0 + DAY + 7200)], None)
    area = build_area_meter([stuck], T0, ct_ratio=1, fixed_kw=0.0, k_per_kw=0.0)
    truth = area.source.truth(T0 + DAY, T0 + 2 * DAY)
    sold = fw.energy(T0 + 2 * DAY) - fw.energy(T0 + DAY)
    assert truth["supplied_kwh"] == pytest.approx(48.0)
    assert sold == pytest.approx(45.0, abs=0.01)                 # 1.5 h at 2 kW not registered
    assert truth["stolen_kwh"] == pytest.approx(3.0)
    assert area.source.truth(T0, T0 + DAY)["stolen_kwh"] == 0


def test_a_lost_phase_of_a_three_phase_customer_is_missed_by_its_forward_register():
    faults = [{"kind": "phase_loss", "meters": [0], "phase": 1, "start_h": 30, "end_h": 36}]
    meters = build_population(2, 3, T0, faults, three_phase_share=1.0)
    area = build_area_meter(meters, T0, ct_ratio=1, fixed_kw=0.0, k_per_kw=0.0)
    a, b = T0 + DAY, T0 + 2 * DAY
    truth = area.source.truth(a, b)
    sold = sum(firmware(m).energy(b) - firmware(m).energy(a) for m in meters)
    assert truth["stolen_kwh"] > 0.1
    assert truth["supplied_kwh"] - sold == pytest.approx(truth["stolen_kwh"], abs=0.02)


def test_over_a_week_supplied_minus_sold_is_the_true_loss_of_every_day():
    faults = [{"kind": "bypass", "share": 0.05, "start_h": 72, "fraction": 0.6},
              {"kind": "outage", "share": 0.05, "start_h": 30, "end_h": 40}]
    meters = build_population(60, 3, T0, faults)
    area = build_area_meter(meters, T0, ct_ratio=40)
    for d in range(1, 6):
        a, b = T0 + d * DAY, T0 + (d + 1) * DAY
        supplied = (true_freeze(area, b + 60, 1) - true_freeze(area, b + 60, 2)) if d == 5 else None
        truth = area.source.truth(a, b)
        sold = sum(firmware(m).energy(b) - firmware(m).energy(a) for m in meters)
        assert truth["supplied_kwh"] - sold == pytest.approx(
            truth["technical_kwh"] + truth["stolen_kwh"], abs=0.01 * len(meters))
        assert (truth["stolen_kwh"] > 0) == (d >= 3)
        if supplied is not None:
            assert supplied * 40 == pytest.approx(truth["supplied_kwh"], abs=0.02 * 40)


def test_bypass_needs_a_fraction_within_zero_and_one():
    with pytest.raises(ValueError):
        Fault("bypass", T0, fraction=1.5)


def test_a_cover_open_fault_leaves_the_meter_s_own_cover_record():
    fw = Meter("000000000001", T0, ConstantLoad(1.0))
    m = FaultyMeter(fw, [Fault("cover_open", T0 + 3600, T0 + 5400)], None)
    m.due(T0 + DAY)
    record = value(fw, Read(DI.EV_COVER_OPEN + 1), T0 + DAY)
    assert record["start"] == "2026-01-01 01:00:00" and record["end"] == "2026-01-01 01:30:00"
    assert value(fw, Read(DI.EV_COVER_OPEN), T0 + DAY) == 1


def test_the_area_meter_is_per_phase_its_customers_on_their_phases():
    a = Meter("000000000001", T0, ConstantLoad(3.0))           # index 0: phase A
    b = Meter("000000000002", T0, ConstantLoad(6.0))           # index 1: phase B
    c = build_population(1, seed=3, t0=T0, three_phase_share=1.0)[0]   # split evenly
    area = build_area_meter([a, b, c], T0, ct_ratio=10, fixed_kw=0.3, k_per_kw=0.0)
    t = T0 + 3600
    third = firmware(c).source.power(t) / 3
    p = value(area, Read(0x0203FF00), t)
    assert p[1:] == [pytest.approx((3.0 + third + 0.1) / 10, abs=2e-4),
                     pytest.approx((6.0 + third + 0.1) / 10, abs=2e-4),
                     pytest.approx((third + 0.1) / 10, abs=2e-4)]
    assert p[0] == pytest.approx(area.source.power(t), abs=3e-4)
    u = value(area, Read(0x0201FF00), t)
    assert len(u) == 3 and all(225 < v < 235 for v in u)
    i = value(area, Read(0x0202FF00), t)
    assert i[1] > i[0] > i[2] > 0
