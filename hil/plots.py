"""The report's plots (matplotlib, the [hil] extra): PNGs sized for a laptop screen, each axis
in a unit and a range the data needs."""
import base64
import io

WIDTH_IN, HEIGHT_IN, DPI = 6.4, 3.3, 96          # two plots side by side on a 1366 px screen


def available():
    """Whether matplotlib is installed (``pip install gridedge[hil]``)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    ax.grid(True, alpha=0.3)
    return plt, fig, ax


def _png(plt, fig):
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def time_unit(longest_s):
    """(name, seconds per unit) for an axis that runs to ``longest_s`` seconds."""
    if longest_s < 300:
        return "s", 1.0
    if longest_s < 3 * 3600:
        return "min", 60.0
    return "h", 3600.0


def _freeze_curve(report, times):
    plt, fig, ax = _figure()
    n = report["meters"]
    unit, scale = time_unit(times[-1])
    xs = [0.0] + [t / scale for t in times]
    ax.step(xs, [0.0] + [100.0 * (k + 1) / n for k in range(len(times))], where="post")
    ax.set_xlim(0, xs[-1] * 1.05 or 1.0)
    ax.set_xlabel("%s after the daily-freeze window opened" % unit)
    ax.set_ylabel("meters read (%)")
    ax.set_ylim(0, 101)
    return _png(plt, fig)


def _by_depth(depth):
    plt, fig, ax = _figure()
    keys = sorted(depth, key=int)
    rates = [100.0 * depth[k]["rate"] for k in keys]
    ax.bar(keys, rates)
    for k, r in zip(keys, rates):
        ax.annotate(str(depth[k]["meters"]), (k, r), ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("relay depth (0: not in the network; labels: meters)")
    ax.set_ylabel("read by the deadline (%)")
    ax.set_ylim(0, 108)
    return _png(plt, fig)


def _latency(values):
    plt, fig, ax = _figure()
    unit, scale = time_unit(max(values))
    ax.hist([v / scale for v in values], bins=30)
    ax.set_xlabel("latency (%s)" % unit)
    ax.set_ylabel("commands")
    return _png(plt, fig)


def _by_hour(hours):
    plt, fig, ax = _figure()
    xs = sorted(int(h) for h in hours)
    ax.plot(xs, [100.0 * hours[str(h)] for h in xs], marker="o")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("requests answered (%)")
    ax.set_xlim(xs[0] - 0.5, xs[-1] + 0.5)
    ax.set_xticks(range(xs[0], xs[-1] + 1, max(1, (xs[-1] - xs[0]) // 12 + 1)))
    ax.set_ylim(0, 102)
    return _png(plt, fig)


def plots(report, samples):
    """[(title, base64 PNG)] of the figures the data allows."""
    out = []
    times = samples.get("freeze_read_times_s")
    if times:
        out.append(("Cumulative daily-freeze read rate (%s)" % report.get("period"),
                    _freeze_curve(report, times)))
    depth = report.get("read_rate_by_depth") or {}
    if depth:
        out.append(("Read rate by relay depth", _by_depth(depth)))
    for key, title in (("trip_latency_s", "Trip latency"),
                       ("reconnect_latency_s", "Reconnect latency")):
        values = samples.get(key)
        if values:
            out.append(("%s (n = %d)" % (title, len(values)), _latency(values)))
    hours = report.get("channel_by_hour") or {}
    if hours:
        out.append(("Channel quality by hour", _by_hour(hours)))
    return out
