from edge.health import Health, HealthPolicy, MeterHealth
from edge.scheduler import CURVE, EVENT, FREEZE, PREPAID, BusScheduler, Job


def test_single_flight_with_gap_and_priority_lanes():
    s = BusScheduler(capacity=1, gap_s=0.05)
    s.submit(Job("m1", CURVE))
    s.submit(Job("m2", FREEZE))
    s.submit(Job("m3", PREPAID))
    first = s.ready(0.0)
    assert [j.meter for j in first] == ["m3"]
    assert s.ready(0.0) == []                    # single flight
    s.done(first[0], 1.0)
    assert s.ready(1.01) == [] and abs(s.wake_at(1.01) - 1.05) < 1e-12
    assert [j.meter for j in s.ready(1.05)] == ["m2"]


def test_bounded_concurrency_for_hplc():
    s = BusScheduler(capacity=3)
    for i in range(5):
        s.submit(Job("m%d" % i, FREEZE))
    got = s.ready(0.0)
    assert len(got) == 3 and len(s) == 5
    s.done(got[0], 0.5)
    assert len(s.ready(0.5)) == 1


def test_a_backing_off_dead_meter_does_not_starve_live_ones():
    s = BusScheduler()
    policy = HealthPolicy(base_s=60.0)
    dead = MeterHealth("000000000009")
    now = 0.0
    s.submit(Job(dead.addr, FREEZE, 0.0))
    served = []
    for i in range(20):
        s.submit(Job("live%02d" % i, FREEZE, now))
    while len(s):
        jobs = s.ready(now)
        if not jobs:
            now = s.wake_at(now)
            continue
        job = jobs[0]
        now += 1.0
        s.done(job, now)
        served.append(job.meter)
        if job.meter == dead.addr and dead.failures < 3:
            policy.failure(dead, now)
            job.not_before = dead.next_try
            s.submit(job)
    assert served[0] == dead.addr                  # tried once in order
    assert served[1:21] == ["live%02d" % i for i in range(20)]   # live ones are not held up
    assert served.count(dead.addr) == 4


def test_health_moves_online_suspect_offline_and_back():
    p = HealthPolicy(suspect_after=2, offline_after=4, base_s=10.0, cap_s=40.0, probe_s=1000.0,
                     offline_after_s=60.0)
    m = MeterHealth("000000000001")
    delays, t = [], 100.0
    for k in range(4):
        p.failure(m, t)
        delays.append(m.next_try - t)
        t = m.next_try
    assert m.health is Health.OFFLINE and delays[-1] >= 1000.0
    assert delays[0] < delays[1] < delays[2] <= 40.0 * 1.25
    p.success(m, 5000.0)
    assert (m.health, m.failures, m.last_success) == (Health.ONLINE, 0, 5000.0)


def test_quick_failures_make_a_meter_suspect_not_offline():
    """Five failures within seconds (idle-bus re-reads) are not yet a dead meter."""
    p = HealthPolicy(offline_after=5, offline_after_s=600.0)
    m = MeterHealth("000000000002")
    for k in range(8):
        p.failure(m, 10.0 + k)
    assert m.health is Health.SUSPECT
    p.failure(m, 610.0)
    assert m.health is Health.OFFLINE
    p.success(m, 700.0)
    p.failure(m, 701.0)
    assert m.failing_since == 701.0 and m.health is Health.ONLINE


def test_backoff_stays_at_the_cap_after_any_number_of_failures():
    p = HealthPolicy(base_s=5.0, cap_s=1800.0)
    assert 1800.0 <= p.backoff("000000000003", 10 ** 6) < 1800.0 * 1.25


def test_backoff_is_spread_per_meter_but_deterministic():
    p = HealthPolicy()
    a = [p.backoff("%012d" % i, 3) for i in range(20)]
    assert len(set(a)) > 10 and a == [p.backoff("%012d" % i, 3) for i in range(20)]
    assert all(240.0 <= d < 240.0 * 1.25 for d in a)
    assert EVENT > CURVE > FREEZE > PREPAID
