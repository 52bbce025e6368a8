"""The agent's figures as metric samples (KPIS.md read rate per task, medium and depth; health;
exchange and read outcomes and latency; the store; commands; the uplink), computed from the
core's state. A runtime exports them (Prometheus); docs/METRICS.md lists every family."""
import bisect

from edge.exchange import ERROR, GARBLED, OK, TIMEOUT
from edge.health import Health
from edge.uplink_metrics import uplink_samples
from hostlink.metrics import Sample

__all__ = ["Sample", "Histogram", "samples", "LATENCY_BUCKETS"]

OUTCOMES = (OK, ERROR, GARBLED, TIMEOUT)
ANSWERED = (OK, ERROR)          # the exchanges whose latency is observed
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)


class Histogram:
    """Observations counted in fixed buckets (``v <= bound``), with their sum."""

    def __init__(self, bounds=LATENCY_BUCKETS):
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)      # the last: above every bound
        self.sum = 0.0

    def observe(self, value):
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    def value(self):
        """(cumulative [(bound, count)] ending with +inf, sum): a histogram Sample's value."""
        out, n = [], 0
        for bound, count in zip(self.bounds + (float("inf"),), self.counts):
            n += count
            out.append((bound, n))
        return out, self.sum


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
    for medium, hist in sorted(agent.latency.items()):
        out.append(Sample("gridedge_exchange_latency_seconds", "histogram",
                          "Seconds a meter exchange took on the bus, from its start to the"
                          " answer (answered exchanges: ok or error reply), by medium.",
                          {"medium": medium},
                          hist.value()))
    out.extend(store_samples(agent.store))
    journal = command_journal(agent)
    if journal is not None:
        for state, n in sorted(journal.state_counts().items()):
            out.append(Sample("gridedge_commands", "gauge",
                              "Relay and cost-control commands in the journal, by state.",
                              {"state": state}, n))
    if agent.prepaid is not None:
        for state, n in sorted(agent.prepaid.campaigns.counts().items()):
            out.append(Sample("gridedge_price_campaign_meters", "gauge",
                              "Meters of price campaigns (调价) by state.", {"state": state}, n))
    if agent.uplink is not None:
        out.extend(uplink_samples(agent.uplink, agent.now))
    return out


def command_journal(agent):
    """The journal the agent's commands go through: the cost control's or the uplink's own."""
    carrier = agent.prepaid or getattr(agent.uplink, "carrier", None)
    return None if carrier is None else carrier.journal


def store_samples(store):
    """Readings lost, denied and rejected by the master, and the database's size."""
    return [
        Sample("gridedge_readings_lost_total", "counter",
               "Readings evicted before the master confirmed them.", {},
               store.counter("readings_lost")),
        Sample("gridedge_readings_pulled_total", "counter",
               "Readings the master pulled (answered in AFN0D or AFN0E) before any upload: delivered.",
               {}, store.counter("readings_pulled")),
        Sample("gridedge_readings_denied_total", "counter",
               "Denials of uploaded readings by the master (a reading denied twice counts"
               " twice).", {}, store.counter("readings_denied")),
        Sample("gridedge_readings_rejected_total", "counter",
               "Readings rejected: denied max_denies times, never sent again.", {},
               store.counter("readings_rejected")),
        Sample("gridedge_readings_rejected_kept", "gauge",
               "Rejected readings kept in the store now (queryable).", {},
               store.rejected_count()),
        Sample("gridedge_store_bytes", "gauge",
               "Bytes of the SQLite database (page_count x page_size), free pages included.", {},
               store.db_bytes()),
    ]
