"""Prometheus exposition of the agent's metric samples (``prometheus_client``'s HTTP server)."""
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import CollectorRegistry
from prometheus_client import start_http_server


class SnapshotCollector:
    """Serves the runner's latest snapshot (taken on the event loop, so no shared-state races)."""

    def __init__(self, runner):
        self.runner = runner

    def collect(self):
        families = {}
        for s in self.runner.snapshot:
            fam = families.get(s.name)
            if fam is None:
                cls = CounterMetricFamily if s.kind == "counter" else GaugeMetricFamily
                fam = families[s.name] = cls(s.name, s.help, labels=sorted(s.labels))
            fam.add_metric([s.labels[k] for k in sorted(s.labels)], s.value)
        return list(families.values())


def serve_metrics(runner, hostport):
    """Start the HTTP exporter on ``HOST:PORT``; returns the registry used."""
    host, _, port = hostport.rpartition(":")
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(runner))
    start_http_server(int(port), addr=host or "127.0.0.1", registry=registry)
    return registry

