"""The collection lower bound's three parts (KPIS.md), checked against what a run really does."""
import pytest
import simpy

from hil.scenario import check
from meter_sim.faults import Fault
from plc_channel.area import build_area
from plc_channel.baseline import RoundRobin, report
from plc_channel.bounds import time_to_share, uart_frame_bytes
from plc_channel.uart import UartLink
from tests.plc_channel.helpers import START, line_area


def counted(fn, box):
    def send(data):
        box.append(len(data))
        fn(data)
    return send


def read_all(area, until_s, baud=9600):
    rr = RoundRobin(area, baud=baud)
    down, up = [], []
    rr.master.end.send = counted(rr.master.end.send, down)
    rr.module.send = counted(rr.module.send, up)
    area.env.process(rr.run(START + until_s))
    area.env.run(until=START + until_s)
    return rr, sum(down), sum(up)


def test_uart_bound_is_below_the_bytes_a_reader_puts_on_the_uart_and_scales_with_baud():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 30, "hplc", seed=3)
    rr, down, up = read_all(area, 1800)
    assert len(rr.done) == 30
    slow = report(area, rr, START, START + 1800, baud=9600)
    fast = report(area, rr, START, START + 1800, baud=115200)
    per_down, per_up = uart_frame_bytes(rr.dis, "hplc")
    assert 30 * per_down <= down and 30 * per_up <= up
    assert slow["uart_bound_s"] == pytest.approx(30 * max(per_down, per_up) * 11 / 9600.0, abs=1e-3)
    assert slow["uart_bound_s"] == pytest.approx(12 * fast["uart_bound_s"], rel=1e-3)
    assert slow["lower_bound_s"] == max(slow["channel_airtime_bound_s"], slow["uart_bound_s"],
                                        slow["reachable_from_s"])
    assert slow["lower_bound_s"] <= slow["completion_s"]


def test_a_meter_silent_for_the_first_quarter_hour_sets_reachable_from():
    area = line_area([50, 100])
    area.meters[1].faults.append(Fault("dead", START - 60, START + 900))
    rr, _, _ = read_all(area, 3600)
    r = report(area, rr, START, START + 3600)
    assert r["read"] == 2
    assert r["reachable_from_s"] == 900.0       # routed all along, alive again at +900 s
    assert r["lower_bound_s"] >= 900.0 and r["completion_s"] >= r["lower_bound_s"]


def test_a_meter_networked_while_dead_is_readable_no_earlier_than_its_return():
    area = line_area([50, 100])
    area.meters[1].faults.append(Fault("dead", START - 60, START + 900))
    area.network.build()                        # networked while meter 1 is silent: no route
    assert area.network.router.parent[1] is None
    rr, _, _ = read_all(area, 3600)
    r = report(area, rr, START, START + 3600)
    assert r["read"] == 2
    assert 900.0 < r["reachable_from_s"] <= 900.0 + area.network.phy.discovery_s
    assert r["completion_s"] >= r["reachable_from_s"]


def test_time_to_share_counts_the_archive_not_the_meters_read():
    times = [float(k) for k in range(1, 2001)]
    assert time_to_share(times, 2000, 0.9) == 1800.0
    assert time_to_share(times, 2000, 0.999) == 1998.0
    assert time_to_share(times[:10], 10, 0.9) == 9.0
    assert time_to_share(times[:1000], 2000, 0.9) is None


def test_module_baud_is_a_scenario_parameter_with_known_rates():
    assert not check({"area": {"medium": "hplc", "module_baud": 115200}})[0]
    assert check({"area": {"medium": "hplc"}})[1]["area"]["module_baud"] == 9600
    assert check({"area": {"medium": "hplc", "module_baud": 4800}})[0]
    with pytest.raises(ValueError):
        UartLink(simpy.Environment(), 4800)


def test_efficiency_at_t99_weighs_the_reads_done_by_then():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 120, "rs485", seed=4)
    rr = RoundRobin(area)
    env.process(rr.run(START + 1800))
    env.run(until=START + 1800)
    r = report(area, rr, START, START + 1800)
    assert r["read"] == 120 and r["t99_s"] < r["completion_s"]
    assert 0 < r["efficiency_t99"] <= 1 and 0 < r["efficiency"] <= 1


def test_a_meter_whose_route_local_noise_closes_is_readable_when_the_noise_stops():
    from plc_channel.noise import NoiseSource
    area = line_area([50, 100])
    net = area.network
    net.noise.sources.append(NoiseSource(1, 40.0, 0.0, 1.0))   # at meter 1's box, 00:00-01:00
    net.noise._near = {}
    assert net.router.path_at(1, START) == net.router.path(1)      # networked on the quiet hour
    rr, _, _ = read_all(area, 7200)
    r = report(area, rr, START, START + 7200)
    assert r["read"] == 2
    # 00:05 to 01:00: its route was there, no read could get through it
    assert r["reachable_from_s"] == pytest.approx(3300.0, abs=1.0)
    assert r["completion_s"] >= r["reachable_from_s"] and r["efficiency"] > 0.9
