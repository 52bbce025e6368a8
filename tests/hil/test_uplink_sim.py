"""The uplink in virtual time against the simulated area: a 4-day outage while the agent
collects (every reading at the master exactly once afterwards, backlog drained, disk bounded),
the bound itself, and requests that reach the simulated meters through the agent."""
import pytest

from protocols.civil import DAY, iso
from protocols.dlt645 import di as DI
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.units import AFN_CLASS2, AFN_FORWARD
from meter_sim.faults import firmware
from hil.uplink_sim import UplinkArea, run_outage


@pytest.mark.timeout(300)
def test_four_days_without_the_master_lose_nothing_and_duplicate_nothing(tmp_path):
    r = run_outage(meters=20, days=5.0, outage_h=96.0, loss=0.02, max_store_mb=8,
                   folder=tmp_path)
    assert r["readings_produced"] > 2000 and r["backlog_peak"] > 1500
    assert r["readings_confirmed_by_master"] == r["readings_produced"]
    assert r["readings_lost"] == 0 and r["readings_evicted"] == 0
    assert r["readings_kept_not_at_master"] == 0 and r["backlog_left"] == 0
    assert r["repeated_deliveries_absorbed"] > 0          # lost confirms were re-sent, kept once
    assert r["drain_s"] is not None and r["drain_s"] < 3600
    assert r["store_bytes_used_peak"] <= r["store_bound_bytes"]
    assert r["disk_bytes_peak"] <= r["store_bound_bytes"]
    assert r["session"]["dial_failed"] > 100              # it kept trying, backing off


@pytest.mark.timeout(300)
def test_a_disk_bound_too_small_for_the_outage_evicts_and_counts_every_loss(tmp_path):
    r = run_outage(meters=20, days=5.0, outage_h=96.0, max_store_mb=0.25, folder=tmp_path)
    assert r["readings_lost"] > 0 and r["store_bytes_used_peak"] <= r["store_bound_bytes"]
    assert r["readings_produced"] == r["readings_confirmed_by_master"] + r["readings_lost"]
    assert r["readings_kept_not_at_master"] == 0 and r["backlog_left"] == 0


def test_master_requests_reach_the_simulated_meters_through_the_agent():
    ua = UplinkArea(meters=6, medium="hplc", seed=4)
    env = ua.env
    meter = ua.area.meters[2]
    addr = meter.addr[::-1].hex()
    read = {"port": 1, "relays": 0, "meter": addr, "di_kind": 4,
            **{"di%d" % k: (DI.DI_TIME >> 8 * k) & 0xFF for k in range(4)}}
    yesterday = iso(ua.start - DAY)[:10]
    y, m, d = int(yesterday[:4]), int(yesterday[5:7]), int(yesterday[8:10])
    out = {}

    def master():
        out["forward"] = yield env.process(ua.ask(AFN_FORWARD, [Unit(AFN_FORWARD, 9, 0, read,
                                                                     False)]))
        out["asked_at"] = env.now
        yield env.timeout(6 * 3600.0)                   # the freeze window has done its work
        pn = ua.uplink.point_of(addr)
        out["freeze"] = yield env.process(ua.ask(AFN_CLASS2, [Unit(
            AFN_CLASS2, 161, pn, {"td": (d, m, y % 100)}, False)]))
    env.process(master())
    env.run(until=ua.start + 7 * 3600.0)
    fwd = out["forward"]
    assert fwd.outcome == "ok"
    [u] = fwd.answer
    assert u.value["meter"] == addr and u.value["result"] == 1
    content = u.value["content"]
    assert int.from_bytes(content[:4], "little") == DI.DI_TIME      # DI + hhmmss from the meter
    clock = firmware(meter).clock.read(out["asked_at"])
    hh, mm, ss = (int(x) for x in DI.decode_value(DI.DI_TIME, content[4:])[1].split(":"))
    assert abs(hh * 3600 + mm * 60 + ss - clock % DAY) < 120
    [f] = out["freeze"].answer
    stored = ua.store.good(addr, "daily_freeze", yesterday)
    assert stored is not None and f.value["forward_active"] == stored.value["kwh"]
