"""The agent's figures as metric samples (KPIS.md read rate per task, medium and depth; health;
exchange and read outcomes), computed from the core's state. A runtime exports them (Prometheus)."""
from edge.exchange import ERROR, GARBLED, OK, TIMEOUT
from edge.health import Health

OUTCOMES = (OK, ERROR, GARBLED, TIMEOUT)


class Sample:
    """One metric sample: ``kind`` is 'counter' or 'gauge'."""

    __slots__ = ("name", "kind", "help", "labels", "value")

    def __init__(self, name, kind, help_text, labels, value):
        self.name = name
        self.kind = kind
        self.help = help_text
        self.labels = labels
        self.value = value


def samples(agent):
    """Every sample of ``agent`` now."""
    out = []
    out.append(Sample("gridedge_job_errors_total", "counter",
                      "Jobs ended by an unexpected exception (logged; a read job's meter is stored"
                      " as failed; every other job goes on).", {},
                      agent.counters.get("job_errors", 0)))
    for key, n in sorted(agent.counters.items()):
        if key == "job_errors":
            continue
        if key.startswith("exchange_"):
            out.append(Sample("gridedge_exchanges_total", "counter", "Meter exchanges by outcome.",
                              {"outcome": key[len("exchange_"):]}, n))
        elif key.startswith("read_"):
            outcome = next(o for o in OUTCOMES if key.endswith("_" + o))
            task = key[len("read_"):-len(outcome) - 1]
            out.append(Sample("gridedge_read_attempts_total", "counter",
                              "Read attempts by task and outcome.", {"task": task, "outcome": outcome}, n))
        else:
            out.append(Sample("gridedge_events_total", "counter", "Other agent events.",
                              {"event": key}, n))
    by_health = {h.value: 0 for h in Health}
    for h in agent.health.values():
        by_health[h.health.value] += 1
    by_health[Health.ONLINE.value] += len(agent.archive.meters) - len(agent.health)
    for health, n in sorted(by_health.items()):
        out.append(Sample("gridedge_meters", "gauge", "Archived meters by health.",
                          {"health": health}, n))
    for (task, period), rows in sorted(agent.current_read_rates().items()):
        for medium, depth, meters, read in rows:
            labels = {"task": task, "period": period, "medium": medium, "depth": str(depth)}
            out.append(Sample("gridedge_read_rate", "gauge",
                              "Share of archived meters read for the task window (KPIS.md).",
                              labels, read / float(meters) if meters else 0.0))
    out.append(Sample("gridedge_readings_stored", "gauge", "Readings held in the store.", {},
                      agent.store.count()))
    out.append(Sample("gridedge_readings_evicted_total", "counter",
                      "Readings evicted to keep the store bounded.", {},
                      agent.store.counter("readings_evicted")))
    out.append(Sample("gridedge_jobs_active", "gauge", "Jobs in progress.", {}, agent.active))
    return out
