"""Tamper faults: a ``slowed`` register counts a share of the energy and leaves no event; a
``magnetic`` field opens and closes the meter's own 恒定磁场干扰 record (645 03350001, 698 302A)
with the energies at both ends; the area meter counts the share they miss as stolen."""
import pytest

from protocols.civil import from_civil
from protocols.dlt645 import Read, di as DI
from protocols.dlt698 import OAD, RSD, GetRecord
from hil.scenario import Scenario, ScenarioError
from meter_sim.area_meter import build_area_meter
from meter_sim.faults import Fault, FaultyMeter, faults_from_spec
from meter_sim.firmware import ConstantLoad, Meter
from tests.helpers import ask698, value

T0 = from_civil(2026, 1, 1)
DAY = 86400


def test_a_slowed_register_advances_at_its_factor_with_no_event_and_the_area_sees_it_all():
    fw = Meter("000000000001", T0, ConstantLoad(2.0))
    m = FaultyMeter(fw, [Fault("slowed", T0 + DAY, factor=0.25)], None)
    area = build_area_meter([m], T0, ct_ratio=1, fixed_kw=0.0, k_per_kw=0.0)
    assert fw.energy(T0 + DAY) - fw.energy(T0) == pytest.approx(48.0, abs=0.01)
    assert fw.energy(T0 + 2 * DAY) - fw.energy(T0 + DAY) == pytest.approx(12.0, abs=0.01)
    assert fw.power(T0 + DAY + 10) == pytest.approx(0.5)
    m.due(T0 + 2 * DAY)
    assert fw.events.counts == {}
    truth = area.source.truth(T0 + DAY, T0 + 2 * DAY)
    assert truth["supplied_kwh"] == pytest.approx(48.0)
    assert truth["stolen_kwh"] == pytest.approx(36.0)


def test_slowed_after_a_bypass_counts_its_factor_of_what_the_bypass_left():
    fw = Meter("000000000001", T0, ConstantLoad(4.0))
    m = FaultyMeter(fw, [Fault("bypass", T0, fraction=0.5), Fault("slowed", T0, factor=0.5)],
                    None)
    area = build_area_meter([m], T0, ct_ratio=1, fixed_kw=0.0, k_per_kw=0.0)
    assert fw.energy(T0 + DAY) - fw.energy(T0) == pytest.approx(4.0 * 24 * 0.5 * 0.5, abs=0.01)
    assert area.source.truth(T0, T0 + DAY)["stolen_kwh"] == pytest.approx(4.0 * 24 * 0.75)


def test_a_magnet_opens_and_closes_its_record_with_the_energies_read_over_645():
    fw = Meter("000000000001", T0, ConstantLoad(1.0), base_kwh=[0.0, 0.0, 0.0, 0.0])
    m = FaultyMeter(fw, [Fault("magnetic", T0 + 3600, T0 + 7 * 3600, factor=0.5)], None)
    m.due(T0 + 2 * 3600)
    opened = value(fw, Read(DI.EV_MAGNETIC + 1), T0 + 2 * 3600)
    assert opened["start"] == "2026-01-01 01:00:00" and opened["end"] is None
    assert opened["forward_kwh_start"] == pytest.approx(1.0) and opened["reverse_kwh_start"] == 0
    m.due(T0 + DAY)
    record = value(fw, Read(DI.EV_MAGNETIC + 1), T0 + DAY)
    assert record["end"] == "2026-01-01 07:00:00"
    assert record["forward_kwh_end"] == pytest.approx(1.0 + 6 * 0.5)
    assert record["reverse_kwh_end"] == 0
    assert value(fw, Read(DI.EV_MAGNETIC), T0 + DAY) == 1
    assert fw.energy(T0 + DAY) == pytest.approx(24 - 3.0, abs=0.01)


def test_a_magnet_without_a_factor_leaves_the_event_only():
    fw = Meter("000000000001", T0, ConstantLoad(1.0))
    (f,) = faults_from_spec([{"kind": "magnetic", "meters": [0], "start_h": 1}], 1, 1, T0)[0]
    m = FaultyMeter(fw, [f], None)
    m.due(T0 + DAY)
    assert value(fw, Read(DI.EV_MAGNETIC), T0 + DAY) == 1
    assert fw.energy(T0 + DAY) - fw.energy(T0) == pytest.approx(24.0, abs=0.01)


def test_a_698_meter_keeps_the_magnet_as_302a_with_its_energies():
    fw = Meter("000000000042", T0, ConstantLoad(1.0), base_kwh=[0.0] * 4, protocol=698)
    m = FaultyMeter(fw, [Fault("magnetic", T0 + 3600, T0 + 3 * 3600)], None)
    m.due(T0 + DAY)
    cols = [OAD(0x201E, 2), OAD(0x2020, 2), OAD(0x0010, 2, 1, 1), OAD(0x0020, 2, 1, 1),
            OAD(0x0010, 2, 1, 4), OAD(0x0020, 2, 1, 4)]
    row = ask698(fw, GetRecord(OAD(0x302A, 2), RSD(9, [1]), cols), T0 + DAY).record.rows[0]
    assert (row[0].value.hour, row[1].value.hour) == (1, 3)
    assert [d.value for d in row[2:]] == [100, 0, 300, 0]     # kWh x 100
    assert OAD(0x302A, 2) in fw.front_end.new_events()


def test_the_schema_takes_factor_for_slowed_and_magnetic_only():
    base = {"scenario": {"seed": 1}, "area": {"meters": 2}}
    Scenario.from_dict(dict(base, fault=[{"kind": "slowed", "meters": [0], "factor": 0.5},
                                         {"kind": "magnetic", "meters": [1]}]))
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(dict(base, fault=[{"kind": "bypass", "meters": [0], "fraction": 0.5,
                                              "factor": 0.5}, {"kind": "slowed", "meters": [1]}]))
    assert "fault[0].factor: not a parameter of bypass" in str(err.value)
    assert "fault[1].factor: needed by slowed" in str(err.value)
    with pytest.raises(ValueError):
        Fault("slowed", T0, factor=1.5)


def test_a_tamper_starting_mid_hour_is_stolen_from_that_instant():
    fw = Meter("000000000001", T0, ConstantLoad(2.0))
    m = FaultyMeter(fw, [Fault("slowed", T0 + 1800, T0 + 5400, factor=0.5)], None)
    area = build_area_meter([m], T0, ct_ratio=1, fixed_kw=0.0, k_per_kw=0.0)
    assert area.source.truth(T0, T0 + 3600)["stolen_kwh"] == pytest.approx(0.5)
    assert area.source.truth(T0, T0 + 7200)["stolen_kwh"] == pytest.approx(1.0)
