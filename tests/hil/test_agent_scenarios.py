"""Virtual-time scenarios: the agent collects a simulated day and must beat the round-robin
baseline (same area, same items, same faults) on daily-freeze read rate and completion time."""
import json

import pytest

from hil.agent_run import compare

FAULTS = [{"kind": "dead", "share": 0.01}, {"kind": "intermittent", "share": 0.03, "p": 0.5}]
KEYS = ("read_rate", "reachable_read_rate", "completion_s", "lower_bound_s", "efficiency",
        "read_rate_by_depth")


def check(result, tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(result, indent=1))
    agent, base = result["agent"], result["baseline"]
    for key in KEYS:
        assert key in agent and key in base
    assert agent["reachable_read_rate"] == 1.0
    assert agent["read_rate"] >= base["read_rate"]
    assert agent["completion_s"] < base["completion_s"]
    assert agent["lower_bound_s"] <= agent["completion_s"]
    assert result["agent_beats_baseline"]
    # the rest of the day ran too: curves, event scans and the clock check
    for task in ("load_curve", "event_count", "clock"):
        assert agent["counters"]["read_%s_ok" % task] > 0


@pytest.mark.timeout(120)
def test_rs485_200_meters_one_day(tmp_path):
    check(compare(200, "rs485", 1, 6.0, faults=FAULTS, day_hours=24), tmp_path)


# the smallest HPLC area that shows it (relays up to depth 3); 2 000 meters and more are
# benchmarks/agent_day.py
@pytest.mark.timeout(120)
def test_hplc_200_meters_one_day(tmp_path):
    result = compare(200, "hplc", 1, 6.0, faults=FAULTS, day_hours=24)
    check(result, tmp_path)
    # five concurrent reads: most of the area is in long before the round-robin reader
    assert result["agent"]["completion_p99_s"] < result["baseline"]["completion_p99_s"] / 3
