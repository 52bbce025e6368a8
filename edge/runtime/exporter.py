"""Prometheus exposition of metric samples (``prometheus_client``'s HTTP server), with the
standard process, platform and garbage-collector collectors beside ours."""
import concurrent.futures
import logging

from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import CollectorRegistry
from prometheus_client.utils import floatToGoString

FAMILIES = {"counter": CounterMetricFamily, "gauge": GaugeMetricFamily,
            "histogram": HistogramMetricFamily}
LOOP_WAIT_S = 5.0

log = logging.getLogger(__name__)


def families(samples):
    """The Prometheus metric families of ``samples`` (``hostlink.metrics.Sample``)."""
    out = {}
    for s in samples:
        fam = out.get(s.name)
        keys = sorted(s.labels)
        if fam is None:
            fam = out[s.name] = FAMILIES[s.kind](s.name, s.help, labels=keys)
        values = [s.labels[k] for k in keys]
        if s.kind == "histogram":
            buckets, total = s.value
            fam.add_metric(values, [(floatToGoString(b), n) for b, n in buckets], total)
        else:
            fam.add_metric(values, s.value)
    return list(out.values())


class SampleCollector:
    """Serves what ``source()`` returns (a list of samples) at every scrape."""

    def __init__(self, source):
        self.source = source

    def collect(self):
        return families(self.source())


class SnapshotCollector(SampleCollector):
    """Serves the runner's latest snapshot (taken on the event loop, so no shared-state races)."""

    def __init__(self, runner):
        SampleCollector.__init__(self, lambda: runner.snapshot)


def on_loop(loop, fn, wait_s=LOOP_WAIT_S):
    """A source that runs ``fn`` on ``loop`` (the thread that owns the state it reads) and
    waits at most ``wait_s`` for its samples."""
    def source():
        done = concurrent.futures.Future()

        def run():
            try:
                done.set_result(fn())
            except Exception as exc:                 # the scrape fails, the loop goes on
                log.exception("metric samples failed")
                done.set_exception(exc)
        loop.call_soon_threadsafe(run)
        return done.result(wait_s)
    return source


def serve(collector, hostport):
    """Serve ``collector`` and the standard collectors on ``HOST:PORT`` (port 0: any free one);
    returns the HTTP server (``server_address``, ``shutdown()``)."""
    host, _, port = hostport.rpartition(":")
    registry = CollectorRegistry()
    registry.register(collector)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    httpd, _ = start_http_server(int(port), addr=host or "127.0.0.1", registry=registry)
    return httpd


def serve_metrics(runner, hostport):
    """The agent's exporter: the runner's snapshot on ``HOST:PORT``; returns the HTTP server."""
    return serve(SnapshotCollector(runner), hostport)


def serve_samples(fn, hostport, loop):
    """An exporter of ``fn()``'s samples, taken on ``loop`` at each scrape (``gridedge master
    --metrics``: ``hostlink.metrics.master_samples``); returns the HTTP server."""
    return serve(SampleCollector(on_loop(loop, fn)), hostport)


def serve_master_metrics(server, hostport, loop):
    """``gridedge master --metrics``: the station's samples (``hostlink.metrics``) on
    ``HOST:PORT``; returns the HTTP server."""
    from hostlink.metrics import master_samples
    return serve_samples(lambda: master_samples(server), hostport, loop)
