import hashlib

import pytest

from meter_sim.faults import Fault
from plc_channel.area import build_area
from plc_channel.baseline import DI_DAILY_FREEZE_1, RoundRobin, is_freeze_reply
from plc_channel.phy import HPLC, NBPLC, per
from plc_channel.topology import ROOT
from protocols.dlt645 import Read, encode_frame
from tests.plc_channel.helpers import START, line_area, run

import simpy


def read_request(addr):
    return encode_frame(Read(DI_DAILY_FREEZE_1).to_frame(addr), preamble=4)


def test_meter_three_hops_out_is_read_through_its_relays():
    trace = []
    area = line_area([50, 100, 150], trace=trace)
    net = area.network
    assert net.router.level == [1, 2, 3]
    far = area.meters[2]
    assert net.router.path(2) == [ROOT, 0, 1, 2]
    d = run(area.env, net.transact(far.addr, read_request(far.addr)))
    assert d.ok and d.depth == 3 and is_freeze_reply(d.reply, far.addr)
    hops = [(a, b) for _, kind, a, b, _, ok in (e for e in trace if e[1] == "hop") if ok]
    assert hops == [(ROOT, 0), (0, 1), (1, 2), (2, 1), (1, 0), (0, ROOT)]
    # every hop costs airtime both ways: at least six clean transmissions
    clean = 3 * (NBPLC.airtime(len(read_request(far.addr))) + NBPLC.airtime(len(d.reply)))
    assert d.airtime >= clean - 1e-9


def test_a_relay_that_dies_is_routed_around():
    area = line_area([50, 100, 102, 150])
    net, env = area.network, area.env
    target = area.meters[3]
    relay = net.router.path(3)[-2]
    assert relay in (1, 2)
    other = 3 - relay
    area.meters[relay].faults.append(Fault("dead", env.now))
    outcomes = [run(env, net.transact(target.addr, read_request(target.addr))) for _ in range(3)]
    assert [d.reason for d in outcomes[:2]] == ["hop failed", "hop failed"]
    assert net.router.repairs == 1 and relay in net.router.down
    assert outcomes[2].ok
    assert net.router.path(3)[-2] == other


def test_dead_target_is_not_a_repair_and_a_meter_back_from_outage_rejoins():
    area = line_area([50, 100])
    net, env = area.network, area.env
    m = area.meters[1]
    m.faults.append(Fault("dead", env.now, env.now + 600))
    d = run(env, net.transact(m.addr, read_request(m.addr)))
    assert d.reason == "hop failed" and net.router.repairs == 0
    env.run(until=env.now + 700)
    assert run(env, net.transact(m.addr, read_request(m.addr))).ok


def test_frame_error_rises_with_length_and_falls_at_night():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 400, "nbplc", seed=3)
    net = area.network
    router = net.router
    day0 = START - 300                          # midnight of the run day
    evening, night = day0 + 19.5 * 3600, day0 + 3 * 3600
    i = next(k for k in range(400) if router.level[k] == 2)
    p = router.parent[i]
    s_evening, s_night = router.snr(p, i, evening), router.snr(p, i, night)
    assert s_evening < s_night
    for snr in (s_evening - 20, 4.0, 5.0, 6.0):
        assert NBPLC.per(snr, 200) >= NBPLC.per(snr, 20)
    assert per("dbpsk_fec", 5.0, 200) > per("dbpsk_fec", 5.0, 20) > 0
    assert NBPLC.per(s_evening - 25, 40) > NBPLC.per(s_night - 25, 40)


def hop_failure_rate(start_hour, seed=4):
    trace = []
    from plc_channel.baseline import run_baseline
    run_baseline(300, "nbplc", seed, 1.0, start_hour, trace=trace)
    hops = [e for e in trace if e[1] == "hop"]
    return sum(1 for e in hops if not e[5]) / float(len(hops))


def test_more_transmissions_fail_in_the_evening_than_at_night():
    assert hop_failure_rate(19) > 2 * hop_failure_rate(3)


def test_same_seed_gives_byte_identical_traces():
    def trace_of(seed):
        trace = []
        from plc_channel.baseline import run_baseline
        rep = run_baseline(150, "hplc", seed, 0.5, 19, [{"kind": "intermittent", "share": 0.1,
                                                        "p": 0.5}], trace=trace)
        return hashlib.sha256(repr(trace).encode()).hexdigest(), rep

    (h1, r1), (h2, r2), (h3, _) = trace_of(9), trace_of(9), trace_of(10)
    assert h1 == h2 and r1 == r2
    assert h1 != h3


@pytest.mark.parametrize("phy, overlap", [(HPLC, True), (NBPLC, False)])
def test_hplc_reads_overlap_and_narrowband_reads_queue(phy, overlap):
    area = line_area([20, 30, 40, 50, 60], phy=phy)
    env, net = area.env, area.network
    procs = [env.process(net.transact(m.addr, read_request(m.addr))) for m in area.meters]
    env.run(until=env.all_of(procs))
    ds = sorted((p.value for p in procs), key=lambda d: d.ended)
    assert all(d.ok and d.started == START for d in ds)
    if overlap:
        assert ds[-1].ended - START < sum(d.airtime for d in ds)
    else:
        for prev, d in zip(ds, ds[1:]):
            assert d.ended - prev.ended >= d.airtime - 1e-9


def test_round_robin_reads_a_small_area_completely_at_night():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 120, "hplc", seed=2)
    rr = RoundRobin(area)
    env.process(rr.run(START + 3600))
    env.run(until=START + 3600)
    assert len(rr.done) == 120 and rr.passes == 1


def test_a_relays_subtree_is_every_meter_whose_path_runs_through_it():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 400, "nbplc", seed=5)
    router = area.network.router
    paths = {i: router.path(i) for i in range(400)}
    relays = {p[-2] for p in paths.values() if p and len(p) > 2}
    assert relays
    for j in relays:
        through = sorted(i for i, p in paths.items() if p and j in p[1:])
        assert sorted(router._subtree(j)) == through
