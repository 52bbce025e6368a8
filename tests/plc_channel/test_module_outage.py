"""The emulated module's 停电上报 (10376.2-2019 table 54, 06F5 protocol 04): the power-down of
the table's meters while an outage lasts, their power-up once they rejoin, batched; none from
a 2013 module or for meters not in its table."""
from meter_sim.faults import Fault
from plc_channel.module_1376_2 import (DEVICE_HPLC_UNIT, POWER_BATCH_S, POWER_DOWN_REPORT_S, POWER_REPORT_MAX,
                                       POWER_UP_REPORT_S)
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.editions import EDITION_2013
from tests.plc_channel.helpers import line_area
from tests.plc_channel.test_module import ask, rig


def outage_area(n, cut, start_s=100.0, hours=0.5):
    area = line_area([20 + 15 * k for k in range(n)])
    t0 = area.env.now
    for i in cut:
        m = area.meters[i]
        m.faults.append(Fault("outage", t0 + start_s, t0 + start_s + hours * 3600.0))
        m._actions = m._schedule()
    return area, t0


def power_reports(master):
    return [(at, u) for at, u in master.reports if isinstance(u, A.ReportEvent)
            and u.protocol == A.PROTO_POWER_EVENT]


def test_power_down_while_it_lasts_then_power_up_in_one_report_each():
    area, t0 = outage_area(6, [1, 2, 4, 5])
    module, master = rig(area, event_scan_s=0)
    ask(area, master, A.AddSlaves([(m.addr, 2) for m in area.meters[:5]]))  # meter 5: not ours
    area.env.run(until=t0 + 100 + 1800 + 300)
    (down_at, down), (up_at, up) = power_reports(master)
    cut = [area.meters[i].addr for i in (1, 2, 4)]
    assert down.power_event() == (A.POWER_OFF, cut) and up.power_event() == (A.POWER_ON, cut)
    assert down.device == DEVICE_HPLC_UNIT
    assert t0 + 100 < down_at <= t0 + 100 + POWER_DOWN_REPORT_S + POWER_BATCH_S + 1
    assert t0 + 1900 < up_at <= t0 + 1900 + POWER_UP_REPORT_S + POWER_BATCH_S + 1


def test_many_meters_are_split_into_frames_of_at_most_forty():
    n = POWER_REPORT_MAX + 5
    area, t0 = outage_area(n, range(n), hours=0.1)
    module, master = rig(area, event_scan_s=0)
    ask(area, master, A.AddSlaves([(m.addr, 2) for m in area.meters]))
    area.env.run(until=t0 + 100 + 60)
    power = [u for _, u in power_reports(master)]
    assert [len(p.power_event()[1]) for p in power] == [POWER_REPORT_MAX, 5]
    assert all(len(p.body) <= 255 for p in power)
    (first, _), (second, _) = power_reports(master)
    assert POWER_BATCH_S - 1 < second - first < POWER_BATCH_S + 1   # sent 2 s apart, less the UART time


def test_a_2013_module_has_no_power_report():
    area, t0 = outage_area(3, [0, 1])
    module, master = rig(area, event_scan_s=0, edition=EDITION_2013)
    ask(area, master, A.AddSlaves([(m.addr, 2) for m in area.meters]))
    area.env.run(until=t0 + 100 + 1800 + 300)
    assert not [u for _, u in master.reports if isinstance(u, A.ReportEvent)]
