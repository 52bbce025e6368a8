"""The figures a report.json carries (a scenario run, a fleet run, a rig), by name: what a
scenario's ``[[gate]] metric`` may name, checked when the file is loaded rather than after the
run. Nested figures are dotted (``trip_latency_s.p95``); ``ANY`` marks a table whose keys are the
run's own (relay depths, hours, counter names)."""

ANY = "*"
PERCENTILES = {"p50": None, "p95": None, "max": None, "n": None}
DEPTH_ROW = {ANY: {"meters": None, "read": None, "rate": None}}

_PREPAID = {k: None for k in (
    "scenario", "medium", "meters", "seed", "days", "read_every_min", "missed_unreachable",
    "held_for_load", "end_check_quiet", "relay_moves", "payments", "keep_power_customers",
    "stuck_relays", "commands", "commands_retried", "escalated", "holidays", "wrongful", "missed",
    # the rig's master-side cost control
    "mode", "trips", "closes", "sends", "waiting", "given_up", "withdrawn")}
_PREPAID.update(trip_latency_not_load_deferred_s=PERCENTILES, delivery_latency_s=PERCENTILES,
                commands_by_state=ANY, answers=ANY,
                security={"secured_meters": None, "sessions": ANY, "meter_authentications": None,
                          "sealed_sends": None, "refusals": None, "serr_refusals": None})

REPORT = {k: None for k in (
    # every run: identity
    "scenario", "scenario_sha256", "seed", "medium", "meters", "start", "hours", "passed",
    # the daily freeze (KPIS.md)
    "read_rate", "reachable_read_rate", "completion_s", "completion_p99_s", "lower_bound_s",
    "t90_s", "t99_s", "t999_s", "channel_airtime_bound_s", "uart_bound_s", "reachable_from_s",
    "module_baud", "efficiency_t99", "efficiency", "period", "deadline", "read", "reachable", "wrong_values",
    # prepaid and the uplink
    "wrongful_ops", "missed_ops", "readings_produced", "readings_confirmed_by_master",
    "readings_lost",
    # line loss (an area meter in the scenario)
    "line_loss_error_pp", "line_loss_days_complete", "theft_detect_days", "true_hint_rate",
    "false_hint_rate", "false_hint_days",
    # the audit upstream (错抄漏抄)
    "audit_events_true", "audit_events_found", "audit_events_false", "audit_event_recall",
    "missed_list_errors",
    # voltage quality (电压合格率, hil/pq_run.py)
    "voltage_days", "voltage_rate_error_pp", "voltage_spells_true", "voltage_spells_found",
    "voltage_spells_false", "voltage_spell_recall",
    # three-phase PQ alarms (hil/pq_phases_run.py)
    "three_phase_meters", "pq_alarms_true", "pq_alarms_found", "pq_alarms_false",
    "pq_alarm_recall",
    # meter swaps and archive mismatch (hil/swaps_run.py)
    "swaps_true", "swaps_found", "swaps_false", "phantoms_true", "phantoms_found",
    "phantoms_false", "unarchived_true", "unarchived_found",
    # area and phase identification (hil/areaid_run.py)
    "cross_area_true", "cross_area_found", "neighbours_true", "neighbours_found", "foreign_false",
    "foreign_read", "phase_meters", "phase_correct", "phase_accuracy", "phase_coverage",
    "read_rate_ours",
    # field faults: missed-reading causes, module resets, flat clock batteries (hil/field_run.py)
    "missed_causes_total", "missed_causes_right", "missed_cause_rate", "module_resets_true",
    "module_resets_found", "module_reset_lost_s", "clock_resets_true", "clocks_corrected",
    # outages of meters, branches and the area (hil/outages_run.py)
    "outages_true", "outages_found", "outages_false", "outage_meters_right",
    "outage_start_error_s", "outage_end_error_s", "outage_meter_events_missing",
    # a fleet run
    "executor", "areas", "wall_s",
    # a rig
    "clock", "terminal", "read_rate_rs485", "delivered_s", "missing",
    # the meters not read by the deadline (a list: address, depth, medium, faults, last error)
    "unread")}
_PRICE = {k: None for k in (
    "meters", "local", "remote", "unreachable", "faulty", "covered", "wrong_price_reachable",
    "wrong_price_unreachable", "old_price_kwh_total", "mischarged_customers",
    "mischarged_uyuan_total", "remote_unsettled", "completion_s", "payments",
    "wrongful_relay_ops", "missed_relay_ops", "topups_applied_twice", "topups_not_applied")}
_PRICE.update(states=ANY, failed=ANY, old_price_kwh_after_switch=ANY)

REPORT.update(
    price=_PRICE, version=ANY, days=ANY, gates=ANY, counters=ANY, channel_by_hour=ANY,
    by_area=ANY, wrong=ANY, line_loss=ANY, audit=ANY, voltage=ANY, swaps=ANY, areaid=ANY, outages=ANY, read_rate_by_depth=DEPTH_ROW,
    field_faults=ANY,
    voltage_rate_error_pp_by_phase={"a": None, "b": None, "c": None}, pq_alarms=ANY,
    trip_latency_s=PERCENTILES, reconnect_latency_s=PERCENTILES,
    completion_by_area_s=PERCENTILES, prepaid=_PREPAID,
    uplink={"backlog_left": None, "backlog_peak": None, "repeated_deliveries_absorbed": None,
            "session": ANY})
REPORT["minute"] = ANY                  # minute-level collection (hil/minute_run.py)
REPORT["line_loss_hours_complete"] = REPORT["line_loss_hour_error_pp"] = None   # hourly line loss


def known_figure(name, figures=REPORT):
    """Whether the dotted ``name`` is a figure some report carries."""
    node = figures
    for part in name.split("."):
        if node is ANY:
            return True                 # a key of the run's own: any name may appear
        if not isinstance(node, dict):
            return False
        node = node.get(part, node.get(ANY, False)) if part else False
        if node is False:
            return False
    return True


def figure_paths(report, prefix=""):
    """Every dotted figure name of ``report`` (a dict), for checking ``REPORT`` against runs."""
    out = []
    for key, value in report.items():
        name = prefix + str(key)
        out.append(name)
        if isinstance(value, dict):
            out += figure_paths(value, name + ".")
    return out
