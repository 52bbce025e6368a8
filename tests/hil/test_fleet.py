"""Fleet runs: the same areas on a local process pool and on a local Dask cluster (loopback)
give the same merged report; each area has its own seed; the merge adds up."""
import pytest

from hil.fleet import merge, run_fleet
from hil.scenario import Scenario

DOC = {"scenario": {"name": "fleet", "seed": 2, "start": "2026-01-06 00:00", "hours": 7},
       "area": {"meters": 20, "medium": "rs485"},
       "fault": [{"kind": "intermittent", "share": 0.1, "p": 0.5}],
       "tasks": {"curve_every_min": 0, "event_every_h": 0},
       "gate": [{"metric": "reachable_read_rate", "op": ">=", "value": 0.999},
                {"metric": "read_rate", "op": ">=", "value": 0.5}]}


@pytest.mark.timeout(180)
def test_process_pool_and_dask_cluster_merge_to_the_same_report():
    distributed = pytest.importorskip("distributed")
    sc = Scenario.from_dict(DOC, "f" * 64)
    pool, pool_samples = run_fleet(sc, 3, workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        dask, _ = run_fleet(sc, 3, scheduler=cluster.scheduler_address)
    assert (pool["executor"], dask["executor"]) == ("process_pool", "dask")
    strip = lambda r: {k: v for k, v in r.items() if k != "executor"}
    assert strip(pool) == strip(dask)
    assert [a["seed"] for a in pool["by_area"]] == [2, 3, 4]
    assert pool["meters"] == 60 and pool["passed"]
    assert len(pool_samples["freeze_read_times_s"]) == round(pool["read_rate"] * 60)
    depth = pool["read_rate_by_depth"]
    assert sum(row["meters"] for row in depth.values()) == 60


def test_merge_weights_rates_by_meters_and_pools_latencies():
    sc = Scenario.from_dict(DOC)
    a = {"meters": 100, "read_rate": 1.0, "read": 100, "reachable": 100, "completion_s": 50.0,
         "efficiency": 0.5, "lower_bound_s": 20.0, "wrongful_ops": 0, "missed_ops": 1,
         "wrong_values": 2, "readings_produced": 10, "readings_confirmed_by_master": None, "readings_lost": None,
         "read_rate_by_depth": {"1": {"meters": 100, "read": 100, "rate": 1.0}}}
    b = dict(a, meters=300, read_rate=0.9, read=270, reachable=280, completion_s=80.0,
             efficiency=0.3, missed_ops=0, wrong_values=1,
             read_rate_by_depth={"1": {"meters": 200, "read": 190, "rate": 0.95},
                                 "2": {"meters": 100, "read": 80, "rate": 0.8}})
    out, samples = merge(sc, [a, b], [{"trip_latency_s": [60.0]}, {"trip_latency_s": [120.0,
                                                                                     600.0]}],
                         "test")
    assert out["read_rate"] == 0.925 and out["reachable_read_rate"] == round(370 / 380, 6)
    assert out["completion_s"] == 80.0 and out["missed_ops"] == 1
    assert out["readings_confirmed_by_master"] is None and out["readings_produced"] == 20
    assert out["read_rate_by_depth"]["1"] == {"meters": 300, "read": 290, "rate": 0.966667}
    assert out["trip_latency_s"]["n"] == 3 and samples["trip_latency_s"] == [60.0, 120.0, 600.0]
    assert out["efficiency"] == 0.4
    assert out["wrong_values"] == 3 and [r["wrong_values"] for r in out["by_area"]] == [2, 1]
