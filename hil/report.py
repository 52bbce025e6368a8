"""A run's report: ``report.json`` (every KPIS.md figure, the seed, versions, scenario hash and
the gates) and ``report.html`` for people, with the plots embedded (matplotlib, no server)."""
import base64
import html
import io
import json
import os


def write_report(report, samples, folder):
    """Write report.json and report.html into ``folder``; returns their paths."""
    os.makedirs(folder, exist_ok=True)
    path_json = os.path.join(folder, "report.json")
    with open(path_json, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    path_html = os.path.join(folder, "report.html")
    with open(path_html, "w") as f:
        f.write(render_html(report, samples))
    return path_json, path_html


def _figure():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=96)
    return plt, fig, ax


def _png(plt, fig):
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def plots(report, samples):
    """[(title, base64 PNG)] of the figures the data allows."""
    out = []
    times = samples.get("freeze_read_times_s")
    if times:
        plt, fig, ax = _figure()
        n = report["meters"]
        unit, scale = ("minutes", 60.0) if times[-1] < 7200 else ("hours", 3600.0)
        ax.step([0.0] + [t / scale for t in times], [0.0] + [(k + 1) / n for k in range(len(times))],
                where="post")
        ax.set_xlabel("%s after the daily-freeze window opened" % unit)
        ax.set_ylabel("share of meters read")
        ax.set_ylim(0, 1.01)
        ax.grid(True, alpha=0.3)
        out.append(("Cumulative daily-freeze read rate (%s)" % report.get("period"), _png(plt, fig)))
    depth = report.get("read_rate_by_depth") or {}
    if depth:
        plt, fig, ax = _figure()
        keys = sorted(depth, key=int)
        ax.bar(keys, [depth[k]["rate"] for k in keys])
        for k in keys:
            ax.annotate(str(depth[k]["meters"]), (k, depth[k]["rate"]), ha="center", va="bottom",
                        fontsize=8)
        ax.set_xlabel("relay depth (0: not in the network; labels: meters)")
        ax.set_ylabel("read rate by the deadline")
        ax.set_ylim(0, 1.05)
        out.append(("Read rate by relay depth", _png(plt, fig)))
    for key, title in (("trip_latency_s", "Trip latency"),
                       ("reconnect_latency_s", "Reconnect latency")):
        values = samples.get(key)
        if values:
            plt, fig, ax = _figure()
            ax.hist([v / 60.0 for v in values], bins=30)
            ax.set_xlabel("minutes")
            ax.set_ylabel("commands")
            out.append(("%s (n = %d)" % (title, len(values)), _png(plt, fig)))
    hours = report.get("channel_by_hour") or {}
    if hours:
        plt, fig, ax = _figure()
        keys = sorted(hours, key=int)
        ax.plot([int(k) for k in keys], [hours[k] for k in keys], marker="o")
        ax.set_xlabel("hour of day")
        ax.set_ylabel("requests answered")
        ax.set_xlim(-0.5, 23.5)
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        out.append(("Channel quality by hour", _png(plt, fig)))
    return out


FIGURES = ("read_rate", "reachable_read_rate", "completion_s", "completion_p99_s",
           "lower_bound_s", "efficiency",
           "wrongful_ops", "missed_ops", "readings_produced", "readings_confirmed_by_master",
           "readings_lost")


def render_html(report, samples):
    e = html.escape
    rows = "".join("<tr><td>%s</td><td>%s</td></tr>" % (e(k), e(json.dumps(report.get(k))))
                   for k in FIGURES)
    for k in ("trip_latency_s", "reconnect_latency_s"):
        v = report.get(k) or {}
        rows += "<tr><td>%s</td><td>p50 %s, p95 %s, max %s</td></tr>" % (
            e(k), v.get("p50"), v.get("p95"), v.get("max"))
    gates = "".join(
        '<tr class="%s"><td>%s %s %s</td><td>%s</td><td>%s</td></tr>' % (
            "pass" if g["passed"] else "fail", e(g["metric"]), e(g["op"]), g["limit"],
            e(json.dumps(g["value"])), "pass" if g["passed"] else "FAIL")
        for g in report.get("gates", []))
    figs = "".join('<h2>%s</h2><img alt="%s" src="data:image/png;base64,%s">' % (e(t), e(t), p)
                   for t, p in plots(report, samples))
    verdict = "PASSED" if report.get("passed") else "FAILED"
    return """<!doctype html>
<html><head><meta charset="utf-8"><title>gridedge %(name)s</title><style>
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; }
table { border-collapse: collapse; } td { border: 1px solid #ccc; padding: 0.2em 0.6em; }
.pass td:last-child { color: #070; } .fail td:last-child { color: #b00; font-weight: bold; }
</style></head><body>
<h1>%(name)s: %(verdict)s</h1>
<p>%(meters)s %(medium)s meters, %(hours)s h from %(start)s, seed %(seed)s, scenario sha256
<code>%(sha)s</code>, gridedge %(version)s.</p>
<h2>Gates</h2><table>%(gates)s</table>
<h2>Figures (KPIS.md)</h2><table>%(rows)s</table>
%(figs)s
</body></html>
""" % {"name": e(str(report.get("scenario"))), "verdict": verdict, "meters": report.get("meters"),
       "medium": e(str(report.get("medium"))), "hours": report.get("hours"),
       "start": e(str(report.get("start"))), "seed": report.get("seed"),
       "sha": e(str(report.get("scenario_sha256"))),
       "version": e(str((report.get("version") or {}).get("gridedge"))), "gates": gates,
       "rows": rows, "figs": figs}
