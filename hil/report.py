"""A run's report: ``report.json`` (every KPIS.md figure, the unread meters, the seed, versions,
scenario hash and the gates) and ``report.html`` for people: the verdict and the read rates at
a glance, failing gates first, every figure with its unit, the plots embedded (no server).
Without matplotlib (the [hil] extra) only report.json is written."""
import html
import json
import os
import sys

from hil.plots import available, plots
from protocols.civil import iso

UNREAD_SHOWN = 200              # more unread meters are in report.json only
HTML_NOTE = "install gridedge[hil] for the HTML report"

# (key, label, unit) of the daily-freeze figures; the unit decides the format
FREEZE_FIGURES = (
    ("read", "meters read by the deadline", "meters"),
    ("reachable", "meters reachable", "meters"),
    ("completion_s", "completion (last meter read)", "min"),
    ("completion_p99_s", "99 % of the meters read", "min"),
    ("t90_s", "90 % read", "min"), ("t99_s", "99 % read", "min"), ("t999_s", "99.9 % read", "min"),
    ("lower_bound_s", "channel lower bound", "min"),
    ("uart_bound_s", "UART lower bound", "min"),
    ("reachable_from_s", "every meter reachable from", "min"),
    ("efficiency", "efficiency (lower bound / completion)", "%"),
    ("deadline", "deadline", ""),
)
UPLINK_FIGURES = (
    ("readings_produced", "readings produced", "readings"),
    ("readings_confirmed_by_master", "confirmed by the master", "readings"),
    ("readings_lost", "lost", "readings"),
    ("uplink.session.dial_failed", "dial failures", "dials"),
    ("uplink.session.heartbeat_missed", "heartbeats missed", "heartbeats"),
    ("uplink.backlog_peak", "backlog peak", "readings"),
    ("uplink.backlog_left", "backlog left at the end", "readings"),
)
PREPAID_FIGURES = (
    ("wrongful_ops", "wrongful operations", "commands"),
    ("missed_ops", "missed operations", "commands"),
    ("prepaid.commands", "commands", "commands"),
    ("prepaid.escalated", "escalations", "commands"),
    ("prepaid.stuck_relays", "stuck relays", "meters"),
    ("prepaid.held_for_load", "trips held for load", "commands"),
    ("prepaid.payments", "payments", "payments"),
)

PRICE_FIGURES = (
    ("price.wrong_price_reachable", "billing at the wrong price after the switch, reachable",
     "meters"),
    ("price.wrong_price_unreachable", "the same, unreachable meters", "meters"),
    ("price.old_price_kwh_total", "energy billed at the old price after the switch", "kWh"),
    ("price.mischarged_customers", "customers mis-charged", "customers"),
    ("price.mischarged_uyuan_total", "money mis-charged", "micro-yuan"),
    ("price.completion_s", "campaign completion (last meter switched)", "min"),
    ("price.wrongful_relay_ops", "wrongful relay operations", "operations"),
    ("price.missed_relay_ops", "missed relay operations", "operations"),
    ("price.topups_applied_twice", "top-ups applied twice", "top-ups"),
    ("price.topups_not_applied", "top-ups not applied yet", "top-ups"),
    ("price.payments", "payments", "payments"),
)


def write_report(report, samples, folder):
    """Write report.json and report.html into ``folder``; returns their paths (the HTML one
    None, with a note on stderr, where matplotlib is not installed)."""
    os.makedirs(folder, exist_ok=True)
    path_json = os.path.join(folder, "report.json")
    with open(path_json, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    if not available():
        sys.stderr.write(HTML_NOTE + "\n")
        return path_json, None
    path_html = os.path.join(folder, "report.html")
    with open(path_html, "w") as f:
        f.write(render_html(report, samples))
    return path_json, path_html


def figure(report, key):
    """``report``'s figure at a dotted ``key`` (None when absent)."""
    got = report
    for part in key.split("."):
        got = got.get(part) if isinstance(got, dict) else None
    return got


def fmt(value, unit):
    """A figure as text with its unit: shares in %, durations in s or min, money in yuan."""
    if value is None:
        return "–"
    if unit == "%":
        return "%.2f %%" % (100.0 * value)
    if unit == "min":
        return "%.1f min (%.0f s)" % (value / 60.0, value) if value >= 60 else "%.1f s" % value
    if unit == "s":
        return "%.1f s" % value
    if unit == "yuan":
        return "%.2f yuan" % value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return ("%s %s" % (value, unit)).strip()


def _table(rows, head=None):
    e = html.escape
    out = "<table>"
    if head:
        out += "<tr>%s</tr>" % "".join("<th>%s</th>" % e(h) for h in head)
    for row in rows:
        out += "<tr>%s</tr>" % "".join("<td>%s</td>" % e(str(c)) for c in row)
    return out + "</table>"


def _figures(report, spec):
    return _table([(label, fmt(figure(report, key), unit)) for key, label, unit in spec
                   if figure(report, key) is not None])


def _uplink(report):
    if not report.get("uplink"):
        return "<p>no uplink in this run.</p>"
    session = report["uplink"].get("session") or {}
    rows = []
    for key, label, unit in UPLINK_FIGURES:
        value = figure(report, key)
        if value is None and key.startswith("uplink.session."):
            value = session.get(key.rsplit(".", 1)[1], 0)      # a counter never incremented
        rows.append((label, fmt(value, unit)))
    return _table(rows)


def _latency(v):
    v = v or {}
    if not v.get("n"):
        return "–"
    return "p50 %s, p95 %s, max %s (n = %d)" % (fmt(v.get("p50"), "min"), fmt(v.get("p95"), "min"),
                                                 fmt(v.get("max"), "min"), v["n"])


def _gates(report):
    gates = sorted(report.get("gates", []), key=lambda g: g["passed"])     # failing first
    rows = "".join('<tr class="%s"><td>%s</td><td>%s %s</td><td>%s</td><td>%s</td></tr>' % (
        "pass" if g["passed"] else "fail", html.escape(g["metric"]), html.escape(g["op"]),
        g["limit"], html.escape(json.dumps(g["value"])), "pass" if g["passed"] else "FAIL")
        for g in gates)
    return "<table><tr><th>figure</th><th>must be</th><th>got</th><th></th></tr>%s</table>" % rows


def _unread(report):
    unread = report.get("unread")
    if unread is None:
        return ""
    if not unread:
        return "<h2>Unread meters</h2><p>none: every meter was read by the deadline.</p>"
    rows = [(m["address"], m["depth"], m["medium"], "yes" if m.get("reachable") else "no",
             ", ".join(m.get("faults") or ()) or "–", m.get("last_error") or "–")
            for m in unread[:UNREAD_SHOWN]]
    more = ("<p>and %d more in report.json.</p>" % (len(unread) - UNREAD_SHOWN)
            if len(unread) > UNREAD_SHOWN else "")
    return "<h2>Unread meters (%d)</h2>%s%s" % (len(unread), _table(
        rows, ("address", "relay depth", "medium", "reachable", "faults (ground truth)",
               "agent's last error")), more)


def _prepaid(report):
    if report.get("prepaid") is None and not (report.get("trip_latency_s") or {}).get("n"):
        return "<h2>Prepaid cost control</h2><p>no prepaid customers in this run.</p>"
    rows = [("trip latency", _latency(report.get("trip_latency_s"))),
            ("reconnect latency", _latency(report.get("reconnect_latency_s"))),
            ("trip latency without load holds",
             _latency(figure(report, "prepaid.trip_latency_not_load_deferred_s")))]
    rows += [(label, fmt(figure(report, key), unit)) for key, label, unit in PREPAID_FIGURES
             if figure(report, key) is not None]
    by_state = figure(report, "prepaid.commands_by_state") or {}
    if by_state:
        rows.append(("commands by state", ", ".join("%s %d" % kv for kv in sorted(by_state.items()))))
    return "<h2>Prepaid cost control</h2>" + _table(rows)


LINE_LOSS_FIGURES = (
    ("line_loss_error_pp", "largest error against the true loss", "points"),
    ("line_loss_days_complete", "complete days", "days"),
    ("theft_detect_days", "theft start to the first hint naming each thief", "days"),
    ("true_hint_rate", "thieves named", "%"),
    ("false_hint_rate", "named customers who are not thieves", "%"),
    ("false_hint_days", "days hinted before any theft", "days"),
    ("line_loss_hour_error_pp", "largest hourly error against the true loss", "points"),
    ("line_loss_hours_complete", "complete hours", "hours"),
)


def _price(report):
    if report.get("price") is None:
        return ""
    p = report["price"]
    states = _table([(k, v) for k, v in sorted((p.get("states") or {}).items())],
                    ("state", "meters"))
    failed = _table([(a, why) for a, why in sorted((p.get("failed") or {}).items())],
                    ("meter", "failed because"))
    return ("<h2>Price campaign (调价)</h2><p>%s meters: %s local, %s remote cost control, %s "
            "covered, %s unreachable.</p>%s%s%s" % (
                p.get("meters"), p.get("local"), p.get("remote"), p.get("covered"),
                p.get("unreachable"), _figures(report, PRICE_FIGURES), states, failed))


def _line_loss(report):
    ll = report.get("line_loss")
    if not ll:
        return ""
    pct = lambda v: fmt(v, "%")
    days = [(d["period"], d["status"], d["missing"], pct(d["rate"]), pct(d["true_rate"]),
             fmt(d["error_pp"], "points"), fmt(d["stolen_kwh"], "kWh")) for d in ll["days"]]
    hints = [(h["period"], ", ".join(h["reasons"]), pct(h["rate"]), pct(h["baseline"]),
              " ".join(h["candidates"]) or "–") for h in ll["hints"]]
    hours = [(h["period"], h["status"], h["missing"], pct(h["rate"]), pct(h["true_rate"]),
              fmt(h["error_pp"], "points")) for h in ll.get("hours") or ()]
    by_hour = ("<h3>By hour (where the curves allow)</h3>" + _table(
        hours, ("hour", "status", "customers missing", "agent", "true", "error"))
        if any(h[1] != "no_supply" for h in hours) else "")
    return ("<h2>Line loss (台区线损)</h2>%s%s%s<h3>Hints (a list to look at, never an accusation; "
            "thieves by ground truth: %s)</h3>%s" % (
                _figures(report, LINE_LOSS_FIGURES),
                _table(days, ("day", "status", "customers missing", "agent", "true", "error",
                              "bypassed (truth)")),
                by_hour,
                html.escape(" ".join(ll["thieves"]) or "none"),
                _table(hints, ("day", "why", "loss", "baseline", "candidates, strongest first"))
                if hints else "<p>no hint.</p>"))


AUDIT_FIGURES = (
    ("audit_events_true", "events the faults truly cause", "events"),
    ("audit_events_found", "of them raised by the agent", "events"),
    ("audit_events_false", "raised without such a fault", "events"),
    ("audit_event_recall", "true events raised", "%"),
    ("missed_list_errors", "missed-list entries off the truth", "meters"),
)


def _audit(report):
    au = report.get("audit")
    if not au or not (au["events"] or au["not_raised"] or any(d["truth"] for d in au["days"])):
        return ""
    days = [(d["day"], " ".join(d["missed"]) or "–", " ".join(d["truth"]) or "–")
            for d in au["days"]]
    return ("<h2>Audit upstream (错抄漏抄)</h2>%s<p>Events raised: %s; not raised: %s.</p>%s" % (
        _figures(report, AUDIT_FIGURES), html.escape(" ".join(au["events"]) or "none"),
        html.escape(" ".join(au["not_raised"]) or "none"),
        _table(days, ("day", "missed-reading list", "truth"))))


VOLTAGE_FIGURES = (
    ("voltage_days", "meter-days with statistics", "days"),
    ("voltage_rate_error_pp", "largest rate error against the truth", "pp"),
    ("voltage_spells_true", "voltage fault spells", "spells"),
    ("voltage_spells_found", "of them raised as ERC24", "spells"),
    ("voltage_spells_false", "ERC24 raised without such a fault", "spells"),
)


def _voltage(report):
    vq = report.get("voltage")
    if not vq or not (vq["days"] or report.get("voltage_spells_true")):
        return ""
    worst = sorted(vq["days"], key=lambda d: abs(d["rate"] - d["true_rate"]))[-10:][::-1]
    return "<h2>Voltage quality (电压合格率)</h2>%s%s" % (
        _figures(report, VOLTAGE_FIGURES),
        _table([(d["day"], d["addr"], d["rate"], d["true_rate"]) for d in worst],
               ("day", "meter", "agent rate", "true rate")))


PHASE_FIGURES = (
    ("three_phase_meters", "three-phase meters", "meters"),
    ("pq_alarms_true", "wiring faults (phase loss, reversal, imbalance, sequence)", "faults"),
    ("pq_alarms_found", "of them raised as ERC10/9/17/11", "faults"),
    ("pq_alarms_false", "alarms raised without such a fault", "alarms"),
    ("voltage_rate_error_pp_by_phase.a", "phase A: largest rate error", "pp"),
    ("voltage_rate_error_pp_by_phase.b", "phase B: largest rate error", "pp"),
    ("voltage_rate_error_pp_by_phase.c", "phase C: largest rate error", "pp"),
)


def _phases(report):
    pa = report.get("pq_alarms")
    if not report.get("three_phase_meters") or pa is None:
        return ""
    rows = [(t["addr"], "ERC%d" % t["erc"], t["phase"] or "–", "yes" if t["found"] else "NO")
            for t in pa["truth"]]
    return "<h2>Three-phase power quality</h2>%s%s<p>False alarms: %s.</p>" % (
        _figures(report, PHASE_FIGURES), _table(rows, ("meter", "alarm", "phase", "raised")),
        html.escape(" ".join(pa["false"]) or "none"))


SWAP_FIGURES = (
    ("swaps_true", "meters truly swapped", "meters"),
    ("swaps_found", "of them found (old and new address)", "meters"),
    ("swaps_false", "swap candidates that are none", "meters"),
    ("phantoms_true", "phantom archive entries", "meters"),
    ("phantoms_found", "of them listed", "meters"),
    ("phantoms_false", "listed that are in the area", "meters"),
    ("unarchived_true", "unarchived meters in the area", "meters"),
    ("unarchived_found", "of them archive candidates", "meters"),
)


def _swaps(report):
    sw = report.get("swaps")
    if not sw or not (sw["truth"] or sw["candidates"] or sw["phantoms"] or
                      sw["archive_candidates"]):
        return ""
    rows = [(c["old_addr"], c["new_addr"], c["phase"], c["old_kwh"], c["old_period"], c["new_kwh"])
            for c in sw["candidates"]]
    return ("<h2>Meter swaps and archive mismatch</h2>%s%s<p>Phantoms listed: %s; archive "
            "candidates: %s.</p>" % (
                _figures(report, SWAP_FIGURES),
                _table(rows, ("old meter", "new meter", "phase", "old kWh (last freeze)",
                              "freeze day", "new kWh (first read)")) if rows else
                "<p>no swap candidate.</p>",
                html.escape(" ".join(sw["phantoms"]) or "none"),
                html.escape(" ".join(sw["archive_candidates"]) or "none")))


AREAID_FIGURES = (
    ("cross_area_true", "archived meters of the neighbouring area", "meters"),
    ("cross_area_found", "of them reported foreign", "meters"),
    ("neighbours_true", "neighbouring meters heard", "meters"),
    ("neighbours_found", "of them reported foreign", "meters"),
    ("foreign_false", "reported foreign that are ours", "meters"),
    ("foreign_read", "freezes read from a cross-area meter after it was reported", "readings"),
    ("phase_accuracy", "phase identification accuracy", "%"),
    ("phase_coverage", "our meters with a phase stored", "%"),
    ("read_rate_ours", "the agent's own read rate (foreign left out)", "%"),
)


def _areaid(report):
    ai = report.get("areaid")
    if not ai or not (ai["foreign"] or ai["cross_area"] or ai["neighbours"]):
        return ""
    rows = [(f["addr"], f["cco"], "yes" if f["archived"] else "no") for f in ai["foreign"]]
    return ("<h2>Area and phase identification (台区识别)</h2>%s%s<p>Phase wrong: %s.</p>" % (
        _figures(report, AREAID_FIGURES),
        _table(rows, ("meter", "belongs to CCO", "archived here")) if rows else
        "<p>no foreign meter reported.</p>",
        html.escape(" ".join(ai["phase_wrong"]) or "none")))
FIELD_FIGURES = (
    ("missed_causes_total", "missed meter-days (the agent's lists)", "meter-days"),
    ("missed_causes_right", "of them with the true cause", "meter-days"),
    ("missed_cause_rate", "missed-reading causes identified", "%"),
    ("module_resets_true", "carrier module resets", "resets"),
    ("module_resets_found", "of them kept by the agent", "resets"),
    ("module_reset_lost_s", "longest time lost (reset to synced again)", "s"),
    ("clock_resets_true", "clocks reset by a flat battery", "meters"),
    ("clocks_corrected", "of them set right again", "meters"),
)


def _field(report):
    ff = report.get("field_faults")
    if not ff:
        return ""
    counts = {}
    for d in ff["missed"]:
        counts[d["cause"]] = counts.get(d["cause"], 0) + 1
    wrong = [(d["day"], d["addr"], d["cause"], d["truth"]) for d in ff["wrong_causes"]]
    resets = [(w["port"], w["at"], w["synced_at"], w["read_at"], fmt(w["lost_s"], "s"))
              for w in ff["module_resets"]]
    return ("<h2>Field faults: why readings were missed</h2>%s<p>Causes given: %s.</p>%s%s" % (
        _figures(report, FIELD_FIGURES),
        html.escape(", ".join("%s %d" % kv for kv in sorted(counts.items())) or "none"),
        _table(wrong, ("day", "meter", "agent's cause", "true cause")) if wrong else
        "<p>every cause right.</p>",
        _table(resets, ("port", "module reset", "synced again", "meter read again",
                        "time lost")) if resets else ""))


OUTAGE_FIGURES = (
    ("outages_true", "true outages (area, branch, meter)", "outages"),
    ("outages_found", "of them found", "outages"),
    ("outage_meters_right", "found with exactly the right meters and kind", "outages"),
    ("outages_false", "stored outages that are none", "outages"),
    ("outage_start_error_s", "largest start error of a meter", "s"),
    ("outage_end_error_s", "largest end error of a meter", "s"),
    ("outage_meter_events_missing", "meters of found outages without start or end", "meters"),
)


def _outages(report):
    out = report.get("outages")
    if not out or not (out["truth"] or out["stored"]):
        return ""
    def at(t):
        return "-" if t is None else iso(t)[:19].replace("T", " ")
    rows = [(t["kind"], at(t["start"]), at(t["end"]), t["meters"],
             (t["found"] or {}).get("kind", "not found"), (t["found"] or {}).get("meters", "-"),
             (t["found"] or {}).get("parent") or "-") for t in out["truth"]]
    return "<h2>Outages (停电事件)</h2>%s%s" % (
        _figures(report, OUTAGE_FIGURES),
        _table(rows, ("true kind", "start", "end", "meters", "found as", "meters found",
                      "relay parent")))


def _wrong(report):
    days = [(d.get("period"), fmt(d.get("wrong_values"), "readings")) for d in report.get("days", [])]
    text = fmt(report.get("wrong_values"), "readings")
    return ("<h2>Wrong values</h2><p>Stored daily freezes that differ from the meter's own: "
            "%s.</p>%s" % (html.escape(text), _table(days, ("period", "wrong values")) if days else ""))


CSS = """
body { font-family: sans-serif; max-width: 1300px; margin: 1em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.3em 0 1em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
.headline { border-radius: 8px; padding: 0.8em 1.2em; color: #fff; display: flex;
            align-items: center; gap: 2.5em; flex-wrap: wrap; }
.headline.pass { background: #1a7f37; } .headline.fail { background: #c62828; }
.verdict { font-size: 3em; font-weight: bold; }
.big { font-size: 2.4em; font-weight: bold; } .big small { font-size: 0.4em; display: block; }
.pass td:last-child { color: #1a7f37; } .fail td:last-child { color: #c62828; font-weight: bold; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(600px, 1fr)); gap: 1em; }
.plots img { width: 100%; max-width: 620px; }
"""


MINUTE_FIGURES = (
    ("minute.completeness", "minute slots: points held of points due", "%"),
    ("minute.points_due", "points due", "points"),
    ("minute.wrong_points", "points off the meter's own", "points"),
    ("minute.backfilled_slots", "slots back-filled from the meters' curves", "slots"),
    ("minute.freeze_read_rate_group", "daily read rate of the group meters", "%"),
    ("minute.freeze_read_rate_rest", "... of the other meters", "%"),
)


def _minute(report):
    m = report.get("minute")
    if not m:
        return ""
    rows = [(k, v["meters"], v["points_due"], fmt(v["completeness"], "%"))
            for k, v in m["by_interval"].items()]
    return ("<h2>Minute-level collection (分钟级采集)</h2>%s%s" % (
        _figures(report, MINUTE_FIGURES),
        _table(rows, ("interval (min)", "meters", "points due", "held"))))


def render_html(report, samples):
    e = html.escape
    passed = report.get("passed")
    verdict = "PASS" if passed else "FAIL"
    context = "%s %s meters, %s h from %s, seed %s, scenario sha256 <code>%s</code>, gridedge %s" % (
        report.get("meters"), e(str(report.get("medium"))), report.get("hours"),
        e(str(report.get("start"))), report.get("seed"), e(str(report.get("scenario_sha256"))),
        e(str((report.get("version") or {}).get("gridedge"))))
    figs = "".join('<figure><figcaption>%s</figcaption><img alt="%s" src="data:image/png;base64,%s">'
                   '</figure>' % (e(t), e(t), p) for t, p in plots(report, samples))
    return """<!doctype html>
<html><head><meta charset="utf-8"><title>gridedge %(name)s: %(verdict)s</title>
<style>%(css)s</style></head><body>
<div class="headline %(cls)s" id="headline"><span class="verdict">%(verdict)s</span>
<span class="big">%(rate)s<small>read rate (%(period)s)</small></span>
<span class="big">%(reach)s<small>reachable read rate</small></span>
<span><b>%(name)s</b><br>%(failed)s</span></div>
<p>%(context)s.</p>
<h2>Gates</h2>%(gates)s
<h2>Daily freeze</h2>%(freeze)s
%(unread)s
<h2>Uplink to the master station</h2>%(uplink)s
%(prepaid)s
%(price)s
%(lineloss)s
%(audit)s
%(voltage)s
%(phases)s
%(swaps)s
%(areaid)s
%(minute)s
%(field)s
%(outages)s
%(wrong)s
<h2>Plots</h2><div class="plots">%(figs)s</div>
</body></html>
""" % {"name": e(str(report.get("scenario"))), "verdict": verdict, "css": CSS,
       "cls": "pass" if passed else "fail", "context": context,
       "rate": fmt(report.get("read_rate"), "%"), "reach": fmt(report.get("reachable_read_rate"), "%"),
       "period": e(str(report.get("period"))),
       "failed": "%d of %d gates failed" % (sum(not g["passed"] for g in report.get("gates", [])),
                                            len(report.get("gates", []))),
       "gates": _gates(report), "freeze": _figures(report, FREEZE_FIGURES),
       "unread": _unread(report), "uplink": _uplink(report),
        "prepaid": _prepaid(report), "price": _price(report), "lineloss": _line_loss(report),
        "audit": _audit(report), "voltage": _voltage(report), "phases": _phases(report), "swaps": _swaps(report),
       "areaid": _areaid(report), "wrong": _wrong(report), "minute": _minute(report),
       "field": _field(report),
       "outages": _outages(report),
       "figs": figs}
