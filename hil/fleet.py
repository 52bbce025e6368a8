"""Fleet runs: one scenario over many areas at once (area k runs with seed + k), in a local
process pool by default or on a Dask cluster given its scheduler's address; the areas' reports
are merged into one, and the scenario's gates are checked on the merged figures.

Each area is a pure function of (scenario document, seed), so the merged report is the same
whichever executor ran it and in whatever order the areas finished.
"""
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from hil.lineloss_run import merge as lineloss_merge
from hil.prepaid_run import percentiles
from hil import areaid_run, minute_run, outages_run, swaps_run
from hil.scenario import Scenario
from hil.scenario_run import run_scenario, version

AREA_FIGURES = ("seed", "read_rate", "reachable_read_rate", "completion_s", "efficiency",
                "wrongful_ops", "missed_ops", "wrong_values", "readings_produced", "readings_lost",
                "passed")


def area_job(doc, sha256, index):
    """Run area ``index`` of the scenario ``doc`` (picklable: what a worker receives)."""
    sc = Scenario.from_dict(doc, sha256)
    sc.seed = sc.seed + index
    report, samples = run_scenario(sc)
    return index, report, samples


def run_fleet(sc, areas, workers=None, scheduler=None, progress=None):
    """Run ``areas`` areas of ``sc``; returns (merged report, merged samples)."""
    results = {}

    def done(index, report, samples):
        results[index] = (report, samples)
        if progress is not None:
            progress(len(results), areas)
    if scheduler:
        from distributed import Client, as_completed as dask_completed
        with Client(scheduler) as client:
            futures = [client.submit(area_job, sc.doc, sc.sha256, k, pure=False)
                       for k in range(areas)]
            for f in dask_completed(futures):
                done(*f.result())
    else:
        with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
            futures = [pool.submit(area_job, sc.doc, sc.sha256, k) for k in range(areas)]
            for f in as_completed(futures):
                done(*f.result())
    ordered = [results[k] for k in range(areas)]
    return merge(sc, [r for r, _ in ordered], [s for _, s in ordered],
                 "dask" if scheduler else "process_pool")


def _total(reports, key):
    values = [r.get(key) for r in reports]
    return None if any(v is None for v in values) else sum(values)


def merge(sc, reports, samples, executor):
    """One report over all areas: sums, meter-weighted rates, latency percentiles over every
    command, the slowest area's completion; the gates checked on these."""
    meters = sum(r["meters"] for r in reports)
    read = sum(round((r.get("read_rate") or 0.0) * r["meters"]) for r in reports)
    reachable = sum(r["reachable"] for r in reports if r.get("reachable") is not None)
    reach_read = sum(r["read"] for r in reports if r.get("read") is not None)
    depth = {}
    for r in reports:
        for d, row in (r.get("read_rate_by_depth") or {}).items():
            acc = depth.setdefault(d, {"meters": 0, "read": 0})
            acc["meters"] += row["meters"]
            acc["read"] += row["read"]
    for row in depth.values():
        row["rate"] = round(row["read"] / float(row["meters"]), 6)
    completions = [r["completion_s"] for r in reports if r.get("completion_s") is not None]
    merged_samples = {"freeze_read_times_s": sorted(
        t for s in samples for t in s.get("freeze_read_times_s", ()))}
    out = {"scenario": sc.name, "scenario_sha256": sc.sha256, "seed": sc.seed,
           "version": version(), "executor": executor, "areas": len(reports),
           "medium": sc.medium, "meters": meters, "start": reports[0].get("start"),
           "hours": sc.hours, "period": reports[0].get("period"),
           "read_rate": round(read / float(meters), 6) if meters else None,
           "reachable_read_rate": round(reach_read / float(reachable), 6) if reachable else None,
           "completion_s": max(completions) if completions else None,
           "completion_by_area_s": percentiles(completions),
           "lower_bound_s": max((r.get("lower_bound_s") or 0.0) for r in reports),
           "read_rate_by_depth": {d: depth[d] for d in sorted(depth, key=int)}}
    eff = [r["efficiency"] for r in reports if r.get("efficiency") is not None]
    out["efficiency"] = round(sum(eff) / len(eff), 6) if eff else None
    for key in ("trip_latency_s", "reconnect_latency_s"):
        values = [v for s in samples for v in s.get(key, ())]
        merged_samples[key] = values
        out[key] = percentiles(values)
    for key in ("wrongful_ops", "missed_ops", "wrong_values", "readings_produced",
                "readings_confirmed_by_master", "readings_lost"):
        out[key] = _total(reports, key)
    hours = {}
    for r in reports:
        for h, q in (r.get("channel_by_hour") or {}).items():
            hours.setdefault(h, []).append(q)
    out["channel_by_hour"] = {h: round(sum(v) / len(v), 4) for h, v in sorted(hours.items())}
    out.update(lineloss_merge(reports))
    out.update(minute_run.merge(reports))
    for key in ("audit_events_true", "audit_events_found", "audit_events_false",
                "missed_list_errors"):
        out[key] = _total(reports, key)
    found, true = out["audit_events_found"], out["audit_events_true"]
    out["audit_event_recall"] = round(found / true, 4) if true and found is not None else None
    for key in ("voltage_days", "voltage_spells_true", "voltage_spells_found",
                "voltage_spells_false"):
        out[key] = _total(reports, key)
    for key in swaps_run.FIGURES:
        out[key] = _total(reports, key)
    for key in areaid_run.FIGURES[:-3]:           # counts add up; the rates are recomputed
        out[key] = _total(reports, key)
    known = out["phase_meters"]
    out["phase_accuracy"] = round(out["phase_correct"] / float(known), 6) if known else None
    out["phase_coverage"] = out["read_rate_ours"] = None
    for key in ("missed_causes_total", "missed_causes_right", "module_resets_true",
                "module_resets_found", "clock_resets_true", "clocks_corrected"):
        out[key] = _total(reports, key)
    right, total = out["missed_causes_right"], out["missed_causes_total"]
    out["missed_cause_rate"] = round(right / total, 4) if total and right is not None else None
    lost = [r["module_reset_lost_s"] for r in reports if r.get("module_reset_lost_s") is not None]
    out["module_reset_lost_s"] = max(lost) if lost else None
    for key in outages_run.FIGURES:                     # errors: the worst area's
        worst = [r.get(key) for r in reports if r.get(key) is not None]
        out[key] = (max(worst) if worst else None) if key.endswith("_error_s") else \
            _total(reports, key)
    errors = [r["voltage_rate_error_pp"] for r in reports
              if r.get("voltage_rate_error_pp") is not None]
    out["voltage_rate_error_pp"] = max(errors) if errors else None
    found, true = out["voltage_spells_found"], out["voltage_spells_true"]
    out["voltage_spell_recall"] = round(found / true, 4) if true and found is not None else None
    out["by_area"] = [dict({k: r.get(k) for k in AREA_FIGURES}, area=k)
                      for k, r in enumerate(reports)]
    out["gates"] = [g.check(out) for g in sc.gates]
    out["passed"] = all(g["passed"] for g in out["gates"])
    return out, merged_samples
