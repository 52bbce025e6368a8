"""The agent core, sans-I/O: archive, task windows, jobs, bus scheduling, health, store.

A runtime drives it like an aioquic connection: ``data_to_send(port, now)`` gives bytes to write
on a port, ``receive_data(port, data, now, wall)`` takes what a port received, and
``on_timer(now, wall)`` runs at ``next_deadline()``. ``now`` is monotonic seconds (deadlines);
``wall`` is local civil seconds (task windows, stamps); both are always passed in. The real
runtime (asyncio + pyserial) and the simulated one (SimPy, in ``hil``) are thin shells over this.
"""
import heapq
import itertools
import logging

from protocols.civil import DAY, from_civil, iso
from protocols.dlt645 import const as K
from protocols.gdw1376_2.frame import COMM_HPLC, COMM_NBPLC

from edge import (area_ident, audit, lineloss, missed_causes, module_reset, outages, pq, pq_phases,
                  swaps)
from edge.archive import ArchiveError
from edge.effects import Broadcast, ModuleCall, SleepUntil, Transact
from edge.exchange import ERROR, OK
from edge.health import Health, MeterHealth
from edge.job_context import ReadContext
from edge.jobs import (ClockCheck, DailyFreeze, LastEvent, OnDemand, PowerDownEvents, Window,
                       failed_reading, read_job, time_sync_job)
from edge.links import ModuleLink, Rs485Link
from edge.metrics import ANSWERED, Histogram, samples
from edge.module_facts import on_report as on_module_report
from edge.module_sync import area_facts, meter_search, module_sync
from edge.plan import Settings, next_opening, open_windows
from edge.scheduler import PREPAID, BusScheduler, Job

log = logging.getLogger(__name__)

BROADCAST_SETTLE_S = 1.0          # silence after a broadcast: meters act on it, none answers
EVENT_REPORT_DEADLINE_S = 3600.0  # a reported event is read within the hour or left to the task
LOST_SWEEP_S = 60.0               # a lost port's queue drops its jobs past their deadline this often
MODULE_RESYNC_S = 60.0            # a carrier module sync that failed is started again after this


class Bus:
    """One port: its link (bytes), its scheduler (who goes next) and whether it may read yet."""

    def __init__(self, port, link, scheduler):
        self.port = port
        self.link = link
        self.scheduler = scheduler
        self.ready = not port.carrier          # a carrier module is synced before reading
        self.syncing = False                   # a module_sync job runs on it
        self.lost = False                      # the runtime lost the port: jobs wait
        self.sweep_at = 0.0


class _Run:
    """One job in progress: its generator, meter (None: port-wide), lane and port; ``name``
    (for logs and counts), ``on_error`` (called when the job dies of an exception) and
    ``deadline`` (monotonic; a read job's window deadline, after which it is dropped unsent)."""

    __slots__ = ("gen", "meter", "lane", "port", "name", "on_error", "deadline")

    def __init__(self, gen, meter, lane, port, name=None, on_error=None, deadline=None):
        self.gen = gen
        self.meter = meter
        self.lane = lane
        self.port = port
        self.name = name or getattr(gen, "__name__", "job")
        self.on_error = on_error
        self.deadline = deadline


def _after(t, gen):
    """Job: sleep until ``t``, then run ``gen``."""
    yield SleepUntil(t)
    return (yield from gen)


def make_link(port, settings):
    if port.carrier:
        return ModuleLink(COMM_HPLC if port.medium == "hplc" else COMM_NBPLC, port.concurrency,
                          answer_timeout=settings.module_timeout_s)
    return Rs485Link(port.baud, settings.response_timeout_s, settings.retries)


class Agent:
    """The concentrator's collection logic over one archive and one store."""

    def __init__(self, archive, store, settings=None, now=0.0, wall=0.0, prepaid=None):
        self.store = store
        self.counters = {}
        self.archive = self._with_saved_changes(archive)
        self.settings = settings or Settings()
        self.policy = self.settings.health
        self.limits = self.settings.limits
        self.tasks = self.settings.tasks()
        self.event_task = PowerDownEvents(DAY, 0.0, EVENT_REPORT_DEADLINE_S)
        self.now = now
        self.wall = wall
        self.buses = {}
        for name, port in archive.ports.items():
            link = make_link(port, self.settings)
            self.buses[name] = Bus(port, link, BusScheduler(link.capacity, self.settings.gap_s))
        self.latency = {port.medium: Histogram() for port in archive.ports.values()}
        self.health = {}
        self.read_context = ReadContext(self)   # what read jobs see of the agent
        self.planned = {}                 # (task, period) -> deadline of the windows opened
        self.closing = {}                 # freeze windows whose read rate is saved at the deadline
        self.read_rates = {}              # (task, period) -> rows, once closed
        self.active = 0
        self._sleepers = []
        self._order = itertools.count()
        self._plan_wall = self._plan_due = None
        self._restore()
        self.foreign = area_ident.foreign_set(store) if self.settings.areaid.exclude else set()
        self.prepaid = None
        self.uplink = None                # edge.uplink.Uplink, when [uplink] is configured
        if prepaid is not None:           # cost control only where [prepaid] is configured
            from edge.prepaid.engine import Prepaid
            self.prepaid = Prepaid(self, prepaid)
            self.tasks[:0] = self.prepaid.tasks
            self.prepaid.resume()
        for name, bus in self.buses.items():
            if bus.port.carrier:
                self._sync_module(name)
        self._plan()

    # --- time ---------------------------------------------------------------------------------
    def set_clock(self, now, wall):
        """Bring the agent's clocks up to date (a runtime does so before every call into it)."""
        self.now = now
        self.wall = wall

    def to_now(self, wall_t):
        return wall_t - self.wall + self.now

    def to_wall(self, now_t):
        return now_t - self.now + self.wall

    # --- runtime interface --------------------------------------------------------------------
    def data_to_send(self, port, now):
        bus = self.buses[port]
        out = bus.link.data_to_send(now)
        self._collect(bus)
        return out

    def line_baud(self, port):
        """The line rate the bytes of ``port`` now due are meant for (a shared RS-485 pair may
        carry meters at different rates; a runtime sets its UART before writing)."""
        return self.buses[port].link.line_baud

    def receive_data(self, port, data, now, wall):
        self.set_clock(now, wall)
        bus = self.buses[port]
        bus.link.receive_data(data, now)
        self._collect(bus)
        self._pump_all()

    def on_timer(self, now, wall):
        self.set_clock(now, wall)
        self._plan()
        for bus in self.buses.values():
            bus.link.on_timer(now)
            self._collect(bus)
            if bus.lost and now >= bus.sweep_at:
                self._expire_waiting(bus)
                bus.sweep_at = now + LOST_SWEEP_S
        while self._sleepers and self._sleepers[0][0] <= now:
            _, _, run = heapq.heappop(self._sleepers)
            self._advance(run, None)
        self._close_windows()
        self._pump_all()
        if self.uplink is not None:
            self.uplink.backlog.check(now)

    def next_deadline(self):
        times = [self.to_now(self._next_plan)]
        if self._sleepers:
            times.append(self._sleepers[0][0])
        for bus in self.buses.values():
            times.append(bus.link.next_deadline())
            if bus.ready:
                times.append(bus.scheduler.wake_at(self.now))
        times.extend(self.to_now(w.deadline) for w in self.closing.values())
        return min(t for t in times if t is not None)

    # --- jobs ---------------------------------------------------------------------------------
    def spawn(self, gen, meter, lane, port, name=None, on_error=None, deadline=None):
        """Run job generator ``gen`` (for ``meter``, or None for a port-wide job). An exception
        the job raises ends that job alone (``_job_failed``), never the agent."""
        self.active += 1
        self._advance(_Run(gen, meter, lane, port, name, on_error, deadline), None)

    def _advance(self, run, value):
        """Resume ``run`` with ``value`` and carry out the effect it yields next."""
        try:
            effect = run.gen.send(value)
            self._carry_out(run, effect)
        except StopIteration:
            self.active -= 1
        except Exception as exc:            # one job's bug or a peer's odd bytes: that job ends
            self._job_failed(run, exc)

    def _carry_out(self, run, effect):
        if isinstance(effect, SleepUntil):
            heapq.heappush(self._sleepers, (effect.t, next(self._order), run))
            return
        bus = self.buses[getattr(effect, "port", None) or run.port]
        if isinstance(effect, Transact):
            meter = effect.meter or run.meter
            bus.scheduler.submit(Job(meter.addr, run.lane, effect.not_before, (run, effect),
                                     effect.early, effect.humble))
        elif isinstance(effect, Broadcast):
            bus.scheduler.submit(Job("broadcast", PREPAID, 0.0, (run, effect),
                                     after_s=BROADCAST_SETTLE_S))
        elif isinstance(effect, ModuleCall):
            bus.link.call(run, effect.unit, self.now)
        else:
            raise TypeError("a job yielded %r, not an effect" % (effect,))

    def _job_failed(self, run, exc):
        """Contain an exception of one job: log it, count it (``gridedge_job_errors_total``),
        let the job's ``on_error`` mark what it was doing as failed; everything else goes on."""
        self.active -= 1
        self.count("job_errors")
        addr = run.meter.addr if run.meter is not None else None
        log.error("job %s (meter %s, port %s) failed: %s: %s", run.name, addr, run.port,
                  type(exc).__name__, exc, exc_info=exc,
                  extra={"event": "job_error", "job": run.name, "meter": addr, "port": run.port})
        try:
            run.gen.close()
        except Exception:                   # a generator that raises on close: already dead
            pass
        if run.on_error is not None:
            try:
                run.on_error(exc)
            except Exception:
                log.exception("marking the failure of job %s failed too", run.name)

    def _pump_all(self):
        for bus in self.buses.values():
            if not bus.ready:
                continue
            for job in bus.scheduler.ready(self.now):
                run, effect = job.payload
                try:
                    if isinstance(effect, Broadcast):
                        bus.link.start(job, K.BROADCAST_ADDR, [effect.request], 4, self.now,
                                       effect.baud)
                    else:
                        m = effect.meter or run.meter
                        bus.link.start(job, m.wire_addr, effect.requests, m.preamble, self.now,
                                       m.baud)
                except Exception as exc:    # e.g. a request that cannot be encoded
                    bus.scheduler.done(job, self.now)
                    self._job_failed(run, exc)

    def _expire_waiting(self, bus):
        for job in bus.scheduler.drop(lambda j: j.payload[0].deadline is not None
                                      and j.payload[0].deadline <= self.now):
            job.payload[0].gen.close()
            self.active -= 1
            self.count("job_expired")

    def _collect(self, bus):
        for token, result in bus.link.completed():
            if isinstance(token, Job):
                bus.scheduler.done(token, self.now)
                self.count("exchange_%s" % result.kind)
                if result.kind in ANSWERED and result.latency is not None:
                    self.latency[bus.port.medium].observe(result.latency)
                self._advance(token.payload[0], result)
            else:
                self._advance(token, result)
        reports = getattr(bus.link, "reports", None)     # only a carrier module reports
        if reports:
            for unit, src in reports:
                self.count("module_report_%s" % type(unit).__name__)
                if area_ident.is_result(unit):
                    area_ident.on_result(self, bus.port.name, unit)
                else:
                    on_module_report(self, bus.port.name, unit, src)
            del reports[:]

    def read(self, meter, task, window):
        """Start ``task`` for ``meter`` in ``window``: a read job on the meter's port. Should
        the job die of an exception, the read is stored as failed."""
        def failed(exc):
            self.store_readings([failed_reading(meter, task, window, self.wall)])
        self.spawn(read_job(self.read_context, meter, task, window), meter, task.lane, meter.port,
                   task.name, failed, self.to_now(window.deadline))

    def read_from_now(self, meter, task, period, deadline_s):
        """``task`` for ``meter`` in a window opening now (a report, a payment, a request)."""
        now = self.wall
        self.read(meter, task, Window(task.name, period, now, now + deadline_s, now))

    def _on_event_report(self, addr):
        """A meter reported a new event through the module (06F5): read its event count and the
        new records now instead of at the next event window."""
        m = self.archive.meters.get(addr)
        if m is None or not self.event_task.applies(m, self.wall):
            self.count("event_report_unknown_meter")
            return
        if addr in self.foreign:
            self.count("foreign_not_read")
            return
        self.read_from_now(m, self.event_task, iso(self.wall), EVENT_REPORT_DEADLINE_S)

    def _sync_module(self, port, after_s=0.0):
        """Sync the carrier module on ``port``; a sync that dies of an exception is started
        again after ``MODULE_RESYNC_S`` (the port reads nothing until a sync succeeds)."""
        def again(exc):
            self._sync_module(port, MODULE_RESYNC_S)
        self.buses[port].syncing = True
        gen = module_sync(self, port)
        if after_s:
            gen = _after(self.now + after_s, gen)
        self.spawn(gen, None, PREPAID, port, "module_sync", again)

    def module_ready(self, port):
        bus = self.buses[port]
        bus.scheduler.capacity = bus.link.capacity      # what the module's run mode allows
        bus.ready = True
        bus.syncing = False

    def search_meters(self, port, minutes=10):
        """Start a meter search through the carrier module on ``port``; the meters it finds
        that the archive lacks become archive candidates (``edge.module_facts``)."""
        self.spawn(meter_search(self, port, minutes), None, PREPAID, port)

    # --- a port lost and back (the runtime tells) -------------------------------------------------
    def port_lost(self, port):
        """The runtime lost ``port``: its jobs wait in their queue; those whose deadline passes
        meanwhile end unsent (the window counts the meter unread)."""
        bus = self.buses[port]
        bus.ready = False
        bus.lost = True
        bus.sweep_at = self.now + LOST_SWEEP_S
        self.count("port_lost")

    def port_back(self, port):
        """``port`` is open again: RS-485 reads on; a carrier module (maybe reset) is synced again."""
        bus = self.buses[port]
        bus.lost = False
        self._expire_waiting(bus)
        if not bus.port.carrier:
            bus.ready = True
        elif not bus.syncing:
            self._sync_module(port)

    # --- archive changes (档案设置, from the master station) ------------------------------------
    def _with_saved_changes(self, archive):
        add, remove = self.store.archive_changes()
        if not add and not remove:
            return archive
        try:
            return archive.with_changes(add, remove)
        except ArchiveError:
            pass
        # one record at a time: a saved record the archive refuses now (a port the config no
        # longer has, an entry an older version let in) is skipped, the others still apply
        for rec in add:
            try:
                archive = archive.with_changes([rec])
            except ArchiveError as exc:
                self.count("archive_changes_rejected")
                log.warning("saved archive change %s skipped: %s", rec.get("addr"),
                            "; ".join("%s: %s" % p for p in exc.problems))
        return archive.with_changes((), [a for a in remove if a in archive.meters])

    def change_archive(self, add=(), remove=()):
        """Add or replace meter records (dicts as in the archive TOML) and remove addresses.
        Validated first (ArchiveError: nothing changes), saved, then applied: jobs of changed
        or removed meters stop, carrier modules are re-synced, open task windows start for the
        new records."""
        add, remove = [dict(m) for m in add], list(remove)
        new = self.archive.with_changes(add, remove)
        old = self.archive
        self.store.save_archive_changes(add, remove)
        self.archive = new
        touched = [old.meters[a] for a in remove if a in old.meters]
        touched += [old.meters[m["addr"]] for m in add if m["addr"] in old.meters]
        fresh = [new.meters[m["addr"]] for m in add]
        for a in remove:
            self.health.pop(a, None)
        for name in sorted({m.port for m in touched + fresh}):
            bus = self.buses[name]
            if bus.port.carrier and bus.ready:
                bus.ready = False
                self._sync_module(name)
        for task in self.tasks:
            if isinstance(task, ClockCheck):
                continue
            for window in open_windows(task, self.wall):
                for m in fresh:
                    if task.applies(m, window.boundary):
                        self.read(m, task, window)
        self._pump_all()

    # --- planning -----------------------------------------------------------------------------
    def _plan(self):
        """Open the task windows that started; forget closed ones (they cannot open again).
        Nothing changes before the next opening or closing, unless the wall clock went back."""
        due = self._plan_due
        if due is not None and self._plan_wall <= self.wall < due:
            return
        for key in [k for k, deadline in self.planned.items() if deadline <= self.wall]:
            del self.planned[key]
        for task in self.tasks:
            for window in open_windows(task, self.wall):
                key = (task.name, window.period)
                if key not in self.planned:
                    self.planned[key] = window.deadline
                    self._open(task, window)
        self._next_plan = min(next_opening(task, self.wall) for task in self.tasks)
        self._plan_wall = self.wall
        self._plan_due = min([self._next_plan] + list(self.planned.values()))

    def _open(self, task, window):
        if isinstance(task, ClockCheck):          # per port: time sync first, then the checks
            for name in self.buses:
                self.spawn(time_sync_job(self, name, task, window), None, PREPAID, name)
            return
        for m in self.archive.meters.values():
            if m.addr in self.foreign:
                self.count("foreign_not_read")
            elif task.applies(m, window.boundary):
                self.read(m, task, window)
        if isinstance(task, DailyFreeze):
            self.closing[(task.name, window.period)] = window

    def read_now(self, addrs, items, deadline_s=600.0, task=None):
        """On-demand read of data identifiers ``items`` from meters ``addrs`` (printed addresses)
        (or of ``task``, an on-demand ``edge.jobs`` task); results land in the store under task
        ``on_demand`` and period = a request label."""
        task = task or OnDemand(items, deadline_s)
        label = "req-%d" % next(self._order)
        window = Window(task.name, label, self.wall, self.wall + task.deadline_s, self.wall)
        for addr in addrs:
            m = self.archive.meters[addr]
            if not task.applies(m, self.wall):
                self.count("on_demand_unsupported")      # 645 DIs asked of a 698.45 meter
                continue
            self.read(m, task, window)
        self._pump_all()
        return label

    def _close_windows(self):
        for key, window in list(self.closing.items()):
            if self.wall >= window.deadline:
                del self.closing[key]
                self.read_rates[key] = rows = self.read_rate(*key)
                self.store.save_read_rate(key[0], key[1], rows)
                self._line_loss(key[1])
                self._swaps()
                if key[0] == "daily_freeze":
                    self._missed_causes(key[1])
                self._topology_day()

    def _missed_causes(self, period):
        """The missed-reading list of the day just closed and of the day before (its evidence
        may have grown), each with its cause, kept in the store; a failure is logged."""
        try:
            window = (self.settings.freeze_offset_s, self.settings.freeze_deadline_h)
            for day in (iso(from_civil(*map(int, period.split("-"))) - DAY)[:10], period):
                listed = audit.missed(self.store, self.archive, day, window=window)
                missed_causes.save(self.store, day, listed, self.wall)
        except Exception:
            log.exception("missed readings of %s not explained", period)

    def _topology_day(self):
        """Once a day, each carrier port's topology (10F21, 10F31) read and kept as the day's
        (``edge.topology_days``)."""
        day = iso(self.wall)[:10]
        if getattr(self, "_topology_read", None) == day:
            return
        self._topology_read = day
        for name, bus in self.buses.items():
            if bus.port.carrier:
                self.spawn(area_facts(self, name), None, PREPAID, name, "topology_day")

    def _swaps(self):
        """The day's meter-swap and archive-mismatch judgement (``edge.swaps``); a failure is
        logged, never fatal."""
        try:
            swaps.close_day(self, self.settings.swaps)
        except Exception:
            log.exception("meter swaps not judged")

    def _line_loss(self, period):
        """The day's line loss once its freeze window closed, and the cover-open and magnetic-field
        records of the customers a hint names; a failure is logged, never fatal."""
        try:
            day = lineloss.close_day(self.store, self.ours(), period, self.settings.lineloss,
                                     self.wall)
            named = lineloss.probe(day)
            for family in lineloss.PROBED if named else ():
                # their own event records (645 or 698), one job each (a meter may lack one):
                # the next hint's evidence
                self.read_now(named, (), task=LastEvent(family, deadline_s=6 * 3600.0))
        except Exception:
            log.exception("line loss of %s not computed", period)
        try:                            # per hour, where the curves allow
            lineloss.close_hours(self.store, self.archive, period,
                                 60.0 * self.settings.curve_interval_min, self.wall)
        except Exception:
            log.exception("hourly line loss of %s not computed", period)

    def read_rate(self, task, period):
        """Rows (medium, depth, meters, read) of ``task``'s read rate for ``period`` so far."""
        got = self.store.read_addrs(task, period)
        rows = {}
        for m in self.archive.meters.values():
            if m.addr in self.foreign:
                continue                # another area's meter: not in our denominator
            key = (self.archive.ports[m.port].medium, self.health_of(m.addr).depth)
            row = rows.setdefault(key, [0, 0])
            row[0] += 1
            row[1] += m.addr in got
        return [k + tuple(v) for k, v in sorted(rows.items())]

    def ours(self):
        """The archive without the meters judged another area's (``edge.area_ident``)."""
        gone = sorted(self.foreign & set(self.archive.meters))
        return self.archive.with_changes((), gone) if gone else self.archive

    def current_read_rates(self):
        """Read-rate rows of the daily freeze: the open window (so far) and the last closed one."""
        out = {}
        if self.read_rates:
            key = max(self.read_rates)
            out[key] = self.read_rates[key]
        for key in self.closing:
            out[key] = self.read_rate(*key)
        return out

    def metrics(self):
        self.store.flush()              # what is counted is durable
        return samples(self)

    # --- health and the store -----------------------------------------------------------------
    def _restore(self):
        for addr, st in self.store.meter_states().items():
            if addr not in self.archive.meters:
                continue
            nxt, last = st["next_probe"], st["last_success"]
            h = self.health[addr] = MeterHealth(addr, Health(st["health"]), st["failures"],
                                                None if last is None else self.to_now(last),
                                                self.to_now(nxt) if nxt is not None else self.now,
                                                st["depth"])
            if h.failures:
                h.failing_since = self.now      # not stored: a restart starts the span anew

    def health_of(self, addr):
        h = self.health.get(addr)
        if h is None:
            h = self.health[addr] = MeterHealth(addr, next_try=self.now)
        return h

    def count(self, name, n=1):
        self.counters[name] = self.counters.get(name, 0) + n

    def previous_value(self, addr, task, period):
        """(total kWh, time) of the ok reading of ``task`` for ``period``, or None."""
        r = self.store.good(addr, task, period)
        if r is None or not isinstance(r.value, dict) or r.value.get("at") is None:
            return None
        return r.value["kwh"][0], r.value["at"]

    def record(self, meter, task, result, readings, persist=True):
        """Store an attempt's readings and the meter's new health in one transaction. A failure
        like the one before (``persist`` False) only updates health in memory unless the meter's
        state changed: a dead meter costs no flash writes per retry."""
        h = self.health_of(meter.addr)
        before = h.health
        if result.kind in (OK, ERROR):
            self.policy.success(h, self.now)
            module_reset.read_again(self, meter.port)
            swaps.answered(self, meter.addr)
        else:
            self.policy.failure(h, self.now)
        self.count("read_%s_%s" % (task.name, result.kind))
        if not persist and h.health is before:
            return
        readings = list(readings) + self._audit(readings)
        state = (meter.addr, h.health.value,
                 None if h.last_success is None else self.to_wall(h.last_success), h.failures,
                 h.depth, self.to_wall(h.next_try))
        self.store.commit(readings, [state])

    def _audit(self, readings):
        """The ERC event readings a validated attempt raises; a failure is logged, never fatal."""
        try:
            return (audit.raise_events(self.store, self.limits, readings, self.wall)
                    + pq.raise_events(self.store, self.limits, readings, self.wall,
                                      float(self.settings.realtime_s or 900),
                                      60.0 * self.settings.curve_interval_min)
                    + pq_phases.raise_alarms(self.store, self.limits, readings, self.wall))
        except Exception:
            log.exception("audit events of %s not raised", [r.addr for r in readings][:1])
            return []

    def store_readings(self, readings):
        if readings:
            self.store.commit(readings)
            if any(r.task == outages.RECORD_TASK for r in readings):
                try:
                    outages.on_records(self, readings)
                except Exception:
                    log.exception("outage records not reconciled")
