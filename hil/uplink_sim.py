"""The 1376.1 uplink in virtual time: the agent's terminal session and a master station joined by
a simulated TCP link on the SimPy clock, with latency and scheduled outages.

The sans-I/O cores are the ones the asyncio shells drive on a board (``hostlink.aio``); here a
SimPy process plays the network: dialling fails while the link is down, an outage cuts the
connection (both ends see it lost), and bytes arrive after ``latency_s``.
"""
import os
import random

import simpy

from edge.agent import Agent
from edge.plan import Settings
from edge.store import SIM_BATCH, Store
from edge.uplink import UPLOAD_TASKS, Uplink, UplinkSettings
from hostlink.master import MasterConnection, terminal_name
from hostlink.store import MasterStore, unit_records
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY
from hil.agent_run import PORT, area_archive
from hil.simruntime import SimRuntime


SIM_PASSWORD = "5349" * 8              # the simulated terminal's PW (a sim has no secret)


class SimLink:
    """``uplink`` (an ``edge.uplink.Uplink`` on ``runtime``'s agent) talking to ``store`` (a
    ``hostlink.store.MasterStore``) over a link that is down during ``outages`` [(start, end)]."""

    def __init__(self, env, runtime, uplink, store, latency_s=0.05, outages=(), loss=0.0,
                 rng=None):
        self.env = env
        self.loss = loss                  # share of byte chunks lost on the way, either way
        self.rng = rng or random.Random(0)
        self.runtime = runtime
        self.uplink = uplink
        self.session = uplink.session
        self.store = store
        self.latency_s = latency_s
        self.outages = sorted(outages)
        self.master = None
        self.connections = 0
        self._wake = env.event()
        self._cut = env.event()
        self._commits = -1
        runtime.after_step.append(self._after_agent_step)
        for start, end in self.outages:
            env.process(self._outage(start))
        self.process = env.process(self._loop())

    def down(self, t):
        return any(a <= t < b for a, b in self.outages)

    def _after_agent_step(self):
        """New readings committed (something to upload) or a deferred answer queued."""
        store = self.runtime.agent.store
        if store.commits != self._commits or self.session.has_data_to_send:
            self._commits = store.commits
            self.kick()

    def kick(self):
        if not self._wake.triggered:
            self._wake.succeed()

    def _outage(self, start):
        yield self.env.timeout(max(0.0, start - self.env.now))
        if not self._cut.triggered:
            self._cut.succeed()

    def _clocks(self):
        self.runtime.agent.set_clock(self.env.now, self.env.now)

    def _deliver_up(self, data, master):
        yield self.env.timeout(self.latency_s)
        if master is self.master:
            master.receive_data(data, self.env.now, self.env.now)
            self.kick()

    def _deliver_down(self, data, master):
        yield self.env.timeout(self.latency_s)
        if master is self.master:
            self._clocks()
            self.session.receive_data(data, self.env.now)
            self.runtime.kick()
            self.kick()

    def _flush(self):
        master = self.master
        up = self.session.data_to_send()
        if up and not self._lost():
            self.env.process(self._deliver_up(up, master))
        down = master.data_to_send()
        if down and not self._lost():
            self.env.process(self._deliver_down(down, master))

    def _lost(self):
        return self.loss and self.rng.random() < self.loss

    def _loop(self):
        env, s = self.env, self.session
        while True:
            self._clocks()
            at = s.connect_at()
            if at is not None:
                if at > env.now:
                    yield env.timeout(at - env.now)
                    continue
                yield env.timeout(self.latency_s)
                self._clocks()
                if self.down(env.now):
                    s.connection_failed(env.now, "the master is unreachable (a simulated outage)")
                    continue
                self._cut = env.event()
                self.master = MasterConnection(self.store)
                self.connections += 1
                s.connection_made(env.now)
            self._flush()
            if s.wants_close or self.down(env.now):
                self._hang_up()
                continue
            times = [t for t in (s.next_deadline(), self.master.next_deadline()) if t is not None]
            if self._wake.triggered:
                self._wake = env.event()
            events = [self._wake, self._cut]
            if times:
                events.append(env.timeout(max(0.0, min(times) - env.now)))
            yield env.any_of(events)
            self._clocks()
            if self._cut.triggered and self.down(env.now):
                self._hang_up()
                continue
            s.on_timer(env.now)
            self.master.on_timer(env.now)

    def _hang_up(self):
        self.master.connection_lost()
        self.master = None
        self._clocks()
        self.session.connection_lost(self.env.now, "cut (a simulated outage)"
                                     if self.down(self.env.now) else None)


def disk_bytes(path):
    """Bytes of a SQLite file and its WAL on disk."""
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


class UplinkArea:
    """A simulated area, the agent collecting it, and its uplink to a master station on a
    ``SimLink``: what the uplink scenarios and tests start from."""

    def __init__(self, meters=20, medium="rs485", seed=1, outages=(), loss=0.0,
                 max_store_mb=None, folder=None, settings=None, uplink=None, start=None):
        self.start = start = DEFAULT_EPOCH + DAY if start is None else start
        self.env = env = simpy.Environment(initial_time=start)
        self.area = build_area(env, meters, medium, seed, DEFAULT_EPOCH)
        self.path = ":memory:" if folder is None else os.path.join(str(folder), "agent.sqlite")
        self.bound = None if max_store_mb is None else int(max_store_mb * 2 ** 20)
        self.store = Store(self.path, durable=False, max_bytes=self.bound, batch=SIM_BATCH)
        self.agent = Agent(area_archive(self.area), self.store, settings or Settings(),
                           now=start, wall=start)
        self.runtime = SimRuntime(env, self.agent, {PORT[medium]: self.area.network})
        self.settings = uplink or UplinkSettings("sim:0", "0171", 2082, seed=seed,
                                                 password=SIM_PASSWORD)
        self.uplink = Uplink(self.agent, self.settings, random.Random(seed))
        self.master = MasterStore(":memory:" if folder is None else
                                  os.path.join(str(folder), "master.sqlite"))
        self.link = SimLink(env, self.runtime, self.uplink, self.master, outages=outages,
                            loss=loss, rng=random.Random(seed + 1))
        self.name = terminal_name(self.settings.region, self.settings.terminal)

    def ask(self, afn, units, timeout_s=600.0, **kw):
        """SimPy process: send ``units`` from the master once connected (with the terminal's
        password); returns the finished Request."""
        env = self.env
        while self.link.master is None or not self.link.session.online:
            yield env.timeout(1.0)
        kw.setdefault("pw", self.settings.password)
        r = self.link.master.request(afn, units, env.now, env.now, timeout_s, **kw)
        self.link.kick()
        while not r.done:
            yield env.timeout(0.5)
        return r


def run_outage(meters=20, medium="rs485", seed=1, days=5.0, outage_start_h=1.0,
               outage_h=96.0, loss=0.0, max_store_mb=None, folder=None, settings=None,
               uplink=None):
    """The agent collects for ``days`` while the uplink is down ``outage_h`` hours from
    ``outage_start_h``; returns the uplink KPIs (KPIS.md) checked against both databases:
    every uploadable reading the agent produced is at the master exactly once, or counted lost
    (evicted by the disk bound before the master confirmed it)."""
    start = DEFAULT_EPOCH + DAY
    begin, end = start + 3600.0 * outage_start_h, start + 3600.0 * (outage_start_h + outage_h)
    ua = UplinkArea(meters, medium, seed, [(begin, end)], loss, max_store_mb, folder, settings,
                    uplink, start)
    env, store, path, up, master = ua.env, ua.store, ua.path, ua.uplink, ua.master
    peak = {"bytes_used": 0, "disk_bytes": 0, "backlog": 0}
    drained = []

    def watch():
        while True:
            peak["bytes_used"] = max(peak["bytes_used"], store.bytes_used())
            if path != ":memory:":
                peak["disk_bytes"] = max(peak["disk_bytes"], disk_bytes(path))
            backlog = store.unsent_count()
            peak["backlog"] = max(peak["backlog"], backlog)
            if env.now >= end and backlog == 0 and not drained:
                drained.append(env.now - end)
            yield env.timeout(60.0)
    env.process(watch())
    env.run(until=start + days * DAY)
    at_master = {(d["afn"], d["fn"], d["pn"], d["label"]) for d in master.data(ua.name)}
    return dict(
        {"meters": meters, "medium": medium, "seed": seed, "days": days,
         "outage_h": outage_h, "loss": loss},
        **uplink_counts(store, master),
        readings_evicted=store.counter("readings_evicted"),
        readings_kept_not_at_master=sum(_key(up, r) not in at_master for r in uploadable(store)),
        backlog_peak=peak["backlog"],
        drain_s=drained[0] if drained else None,
        drain_readings_per_s=round(peak["backlog"] / drained[0], 1) if drained and drained[0] else None,
        store_bound_bytes=ua.bound,
        store_bytes_used_peak=peak["bytes_used"],
        disk_bytes_peak=peak["disk_bytes"] or None,
        connections=ua.link.connections,
        session=dict(sorted(up.session.counters.items())))


def uploadable(store):
    """The readings in ``store`` that go upstream (ok or flagged ones of the uploaded tasks)."""
    return [r for r in store.readings() if r.task in UPLOAD_TASKS
            and r.quality in ("ok", "invalid")]


def uplink_counts(store, master):
    """The uplink KPIs (KPIS.md) from the agent's store and the master's database: a reading
    produced is at the master, counted lost (evicted unconfirmed), or still in the backlog."""
    counts = master.counts()
    lost, left = store.counter("readings_lost"), store.unsent_count()
    return {"readings_produced": counts["units"] + lost + left,
            "readings_confirmed_by_master": counts["units"], "readings_lost": lost,
            "backlog_left": left,
            "repeated_deliveries_absorbed": counts["deliveries"] - counts["units"]}


def _key(uplink, reading):
    """The master's key of the unit that carries ``reading``."""
    unit = uplink.upload_unit(reading)
    label = unit_records(unit)[0][0]
    return (unit.afn, unit.fn, unit.pn, label)
