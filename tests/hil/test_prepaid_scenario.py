"""The prepaid scenario in small (the CLI runs it at 5 000 meters for a week): zero wrongful and
zero missed operations against the simulated meters' own relays, stuck relays escalated, and
latencies measured."""
from hil.prepaid_run import run_prepaid


def test_three_days_of_prepaid_control_make_no_wrongful_or_missed_operation():
    report, agent, area = run_prepaid(count=80, days=3.0, seed=2, every_min=15, stuck_share=0.1,
                                      keep_share=0.05)
    assert report["wrongful_ops"] == 0, report["wrongful"]
    assert report["missed_ops"] == 0, report["missed"]
    assert report["end_check_quiet"]                    # the end is outside friendly windows
    assert report["trip_latency_s"]["n"] >= 10 and report["reconnect_latency_s"]["n"] >= 1
    assert 1 <= report["escalated"] <= report["stuck_relays"]     # only stuck relays escalate
    assert report["trip_latency_not_load_deferred_s"]["p95"] <= 15 * 60 + 60
    # at the end only load-held trips may still be open (verifying)
    assert set(report["commands_by_state"]) <= {"done", "escalated", "superseded", "expired",
                                                "verifying"}


def test_latency_counts_only_time_outside_friendly_windows():
    from edge.prepaid.policy import FriendlyWindows
    from hil.prepaid_run import allowed_time
    from protocols.civil import from_civil
    w = FriendlyWindows(20, 8, weekends=False)
    start = from_civil(2026, 3, 4, 19, 30)
    assert allowed_time(w, start, from_civil(2026, 3, 5, 8, 10)) == 40 * 60.0
    assert allowed_time(w, start + 10, start + 70) == 60.0
