"""A lab rig for a real concentrator under test: the scenario's simulated area served on a real
port (its carrier module in Q/GDW 1376.2, or its RS-485 meters), and a 1376.1 master station the
concentrator logs in to. The master sets the concentrator's archive (AFN04 F10), collects what
it uploads, and the KPIs are computed from the simulator's ground truth: each meter's own
daily freeze against the value the concentrator delivered for it, and, with a ``[prepaid]``
section, its relays' true moves under the rig's own cost control (hil/rig_prepaid.py). The
KPIs are computed while the run goes (``drive``'s snapshots) and at its end, with the same keys
as a virtual-time run's report.
"""
import asyncio
import logging
import threading
import time

from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH, build_population
from meter_sim.serve.bus import MeterBus
from meter_sim.serve.stream import BusClock, PtyServer, SerialServer, Session
from plc_channel.area import build_area
from plc_channel.realtime import ModulePortServer
from plc_channel.baseline import report as area_report
from protocols.civil import DAY, iso, midnight, parse_local
from protocols.dlt645 import const as K
from protocols.dlt645.frame import decode_frame, encode_frame
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.units import AFN_SET, PROTOCOL_645_2007
from protocols.gdw1376_2.frame import COMM_HPLC, COMM_NBPLC
from hostlink.aio import MasterServer
from hil.agent_run import FREEZE_DIS, TOLERANCE_KWH, _Done, true_freeze
from hil.prepaid_run import percentiles
from hil.rig_master import REQUEST_TIMEOUT_S, RigMaster, freeze_label
from hil.rig_prepaid import CostControl
from hil.scenario_run import version

# the lower bound of a carrier area's freeze reads (KPIS.md), at the scenario's module baud
BOUND_KEYS = ("lower_bound_s", "channel_airtime_bound_s", "uart_bound_s", "reachable_from_s",
              "module_baud", "efficiency", "efficiency_t99", "t90_s", "t99_s", "t999_s",
              "read_rate_by_depth")
log = logging.getLogger(__name__)


class Rig:
    """The area of scenario ``sc`` on port ``url`` (None: a new pty), on the scenario's clock;
    with ``[rig] rs485_meters`` a carrier area also has that many RS-485 meters, served on
    ``rs485_url`` (None: a new pty) - a concentrator's module and its RS-485 port at once."""

    def __init__(self, sc, url=None, rs485_url=None):
        self.sc = sc
        self.start = sc.start
        self.area = self.control = self.rs485_path = None
        self.servers = []
        faults, pop = sc.meter_setup()
        if sc.medium == "rs485":
            self.meters = build_population(sc.meters, sc.seed, DEFAULT_EPOCH, faults, **pop)
            clock = BusClock(self.start)
            self._clock = clock.now
            self.lock = threading.RLock()
            self.path = self._serve_rs485(self.meters, clock, url)
            self.carrier_count = 0
            self.reachable = lambda i, t: True
            self.freeze_reads = watch_freeze_reads(self.meters)
            return
        kw = dict(sc.area_kw, population=pop)
        server = ModulePortServer(
            lambda env_at: build_area(env_at(self.start), sc.meters, sc.medium, sc.seed,
                                      DEFAULT_EPOCH, faults, **kw),
            COMM_HPLC if sc.medium == "hplc" else COMM_NBPLC, url=url).start()
        self.servers.append(server)
        self.path = server.path
        self._clock = server.sim_time
        self.area = server.area
        self.lock = server.lock         # the RS-485 meters move under the same lock
        self.meters = list(self.area.meters)
        n = self.carrier_count = len(self.meters)
        net = self.area.network
        self.reachable = lambda i, t: i >= n or net.reachable(i, t)
        wired = int(sc.doc.get("rig", {}).get("rs485_meters", 0))
        if wired:
            more = build_population(wired, sc.seed, DEFAULT_EPOCH, faults, first=n + 1, **pop)
            self.rs485_path = self._serve_rs485(more, _Clock(self._clock), rs485_url)
            self.meters += more
        self.freeze_reads = watch_freeze_reads(self.meters, net)

    def _serve_rs485(self, meters, clock, url):
        session = Session(MeterBus(meters), clock, self.lock)
        server = PtyServer(session).start() if url is None else SerialServer(session, url).start()
        self.servers.append(server)
        return server.path if url is None else url

    def now(self):
        """The simulated local time now: the served meters' own clock, at wall speed from the
        scenario's start."""
        return self._clock()

    def close(self):
        for server in self.servers:
            server.close()

    def archive_ports(self, port, rs485_port):
        """The concentrator's port number of each meter: ``port`` for the scenario's medium,
        ``rs485_port`` for a carrier area's extra RS-485 meters."""
        n = self.carrier_count or len(self.meters)
        return [port if i < n else rs485_port for i in range(len(self.meters))]

    def archive_units(self, ports):
        """AFN04 F10 units naming every meter: point k + 1, on the concentrator's ``ports[k]``."""
        entries = [{"index": k + 1, "point": k + 1, "port_baud": ports[k],
                    "addr": m.addr[::-1].hex(), "protocol": PROTOCOL_645_2007,
                    **{"pw%d" % j: 0 for j in range(6)}, "tariffs": 4, "digits": 9,
                    "collector": None, "user_class": 0}
                   for k, m in enumerate(self.meters)]
        return [Unit(AFN_SET, 10, 0, {"items": entries[i:i + 30]}, False)
                for i in range(0, len(entries), 30)]

    def true_freeze(self, i, t, n=1):
        """Meter ``i``'s own ``n``-th last daily freeze (forward active total) at ``t``."""
        with self.lock:
            return true_freeze(self.meters[i], t, n)

    def freeze_day(self, store, terminal, day, t, samples=None):
        """The daily-freeze KPIs of the freeze taken at midnight ``day`` (its period is the day
        before), measured at ``t``: a meter counts as read when the master holds its correct
        value. Its read time is when the meter answered the concentrator's first good freeze
        read (ground truth), counted from the concentrator's first freeze read of the day (the
        start of its freeze task); ``delivered_s`` is the same to the master's receipt."""
        with self.lock:                 # the simulation thread appends to the logs
            asked = [r[0] for log in self.freeze_reads for r in log if day <= r[0] < day + DAY]
        begin = min(asked) if asked else max(day, self.start)
        n_back = int((midnight(t) - day) // DAY) + 1
        period = day - DAY
        label = "%s-%s-%s" % (iso(period)[8:10], iso(period)[5:7], iso(period)[2:4])
        got = {r["pn"]: r for r in store.data(terminal, 0x0D, 161) if r["label"] == label}
        done, received, wrong = {}, {}, []      # meter index -> read time, master's receipt
        for i in range(len(self.meters)):
            row = got.get(i + 1)
            if row is None:
                continue
            truth = self.true_freeze(i, t, n_back)
            value = (row["value"].get("forward_active") or [None])[0]
            if truth is not None and value is not None and abs(value - truth) <= TOLERANCE_KWH:
                with self.lock:
                    answered = [r[1] for r in self.freeze_reads[i]
                                if r[2] and day <= r[0] < day + DAY]
                received[i] = row["received_at"]
                done[i] = min(answered) if answered else row["received_at"]
            else:
                wrong.append({"point": i + 1, "delivered": value, "truth": truth})
        n, n_area = len(self.meters), self.carrier_count
        wired_read = sum(1 for i in done if i >= n_area)
        out = {k: None for k in BOUND_KEYS}
        out.update(read=len(done), reachable=n, read_rate_by_depth={"0": {
            "meters": n, "read": len(done), "rate": round(len(done) / float(n), 6)}})
        if self.area is not None:
            carrier = {self.meters[i].addr: v for i, v in done.items() if i < n_area}
            with self.lock:
                r = area_report(self.area, _Done(carrier, None, FREEZE_DIS), begin, t, "rig",
                                baud=self.sc.module_baud)
            out.update({k: r[k] for k in BOUND_KEYS})
            out["reachable"] = r["reachable"] + n - n_area
            if n > n_area:
                out["read_rate_rs485"] = round(wired_read / float(n - n_area), 6)
        times = sorted(v - begin for v in done.values())
        out.update(read_rate=round(len(done) / float(n), 6),
                   reachable_read_rate=round(len(done) / float(out["reachable"]), 6)
                   if out["reachable"] else None,
                   completion_s=round(times[-1], 3) if times else None,
                   delivered_s=round(max(received.values()) - begin, 3) if received else None,
                   completion_p99_s=round(times[int(0.99 * (len(times) - 1))], 3) if times
                   else None)
        if samples is not None:
            samples["freeze_read_times_s"] = times
        out.update(period=iso(period)[:10], wrong_values=len(wrong),
                   missing=len(self.meters) - len(done) - len(wrong), wrong=wrong[:20])
        return out

    def report(self, store, terminal, samples=None, t=None):
        """The rig's report at ``t`` (default: now): report.json's keys (KPIS.md) as a
        virtual-time run has them. The freeze figures are those of the last midnight's freeze;
        ``days`` has each one the run saw (one older than 62 days is out of the meters' memory)."""
        t = self.now() if t is None else t
        sc = self.sc
        out = {"scenario": sc.name, "scenario_sha256": sc.sha256, "seed": sc.seed,
               "version": version(), "medium": sc.medium, "meters": len(self.meters),
               "start": iso(self.start)[:16], "hours": round((t - self.start) / 3600.0, 4),
               "clock": iso(t), "terminal": terminal}
        days, day = [], midnight(self.start)
        while day <= t:
            if midnight(t) - day < 62 * DAY:
                r = self.freeze_day(store, terminal, day, t,
                                    samples if day == midnight(t) else None)
                days.append(r)
            day += DAY
        if days:
            out.update(days[-1])
            out["days"] = [{k: r[k] for k in ("period", "read_rate", "reachable_read_rate",
                                              "completion_s", "delivered_s", "wrong_values")}
                           for r in days]
        else:                           # no freeze taken since the rig started
            out.update({k: None for k in BOUND_KEYS}, read_rate=None, reachable_read_rate=None,
                       completion_s=None, read_rate_by_depth={}, wrong_values=0, missing=0,
                       period=None)
        if self.area is not None:
            with self.lock:
                by_hour = sorted(self.area.network.stats.by_hour.items())
            out["channel_by_hour"] = {str(h): round(r["answered"] / r["requests"], 4)
                                      for h, r in by_hour if r["requests"]}
        if self.control is not None:
            out.update(self.control.report(t, samples))
        else:
            none = percentiles([])
            out.update(trip_latency_s=none, reconnect_latency_s=none, wrongful_ops=0,
                       missed_ops=0, prepaid=None)
        # a concentrator under test does not say what it produced: only what reached us
        out.update(readings_produced=None, readings_lost=None,
                   readings_confirmed_by_master=len(store.data(terminal)))
        out["gates"] = [g.check(out) for g in sc.gates]
        out["passed"] = all(g["passed"] for g in out["gates"])
        return out


def watch_freeze_reads(meters, network=None):
    """Per meter, (asked, answered, good) of every daily-freeze read (DI 0506xxxx): the ground
    truth of when a concentrator under test read it. Seen at the meter, so for the first
    ``network.index`` meters (a carrier area's) the request's and the reply's clean airtime over
    the meter's hops are added: when the coordinator sent it and got the answer back."""
    log = [[] for _ in meters]
    for i, m in enumerate(meters):
        handle = m.handle_frame

        def watched(frame, t, handle=handle, i=i, m=m):
            reply = handle(frame, t)
            if frame.function == K.F_READ and len(frame.data) >= 4 and \
                    frame.data[3] == 0x05 and frame.data[2] == 0x06:
                good = reply is not None and not decode_frame(reply).ctrl & K.ABNORMAL
                up = down = 0.0
                if network is not None and m.addr in network.index:
                    hops = max(1, network.depth(m.addr))
                    up = hops * network.airtime(len(frame.raw or encode_frame(frame)))
                    down = hops * network.airtime(len(reply)) if reply else 0.0
                done = t + (firmware(m).reply_delay + down if reply else 0.0)
                log[i].append((t - up, done, good))
            return reply
        m.handle_frame = watched
    return log


class _Clock:
    """The RS-485 meters of a mixed rig read the carrier area's clock."""

    def __init__(self, now):
        self.now = now


SNAPSHOT_KEYS = ("clock", "period", "read_rate", "reachable_read_rate", "completion_s",
                 "wrong_values", "readings_confirmed_by_master", "trip_latency_s",
                 "reconnect_latency_s", "wrongful_ops", "missed_ops", "passed")


def snapshot(report):
    """The real-time line of a report: its headline KPIs and the control counts."""
    out = {k: report.get(k) for k in SNAPSHOT_KEYS}
    pre = report.get("prepaid")
    if pre:
        out.update({k: pre[k] for k in ("commands", "waiting", "relay_moves")})
    return out


async def drive(rig, listen, duration, archive_port=None, db=":memory:", on_ready=None,
                login_timeout=60.0, every_s=0.0, on_snapshot=None, samples=None):
    """Serve the master on ``listen`` (host, port) for ``duration`` seconds: wait for the
    concentrator, set it up (``hil.rig_master``: archive, parameters, clock, version), pull
    every ``[rig] pull_every_s`` what it has not uploaded, let it collect (and, with ``[prepaid]``, play the master's
    cost control); every ``every_s`` seconds ``on_snapshot`` gets the KPIs so far. Returns the
    final report (gates checked; ``samples`` gets the raw series for the plots)."""
    start_wall = time.monotonic()
    server = MasterServer(db, wall=rig.now)
    where = await server.listen(*listen)
    if on_ready is not None:
        on_ready(where)
    tasks = set()
    try:
        end = time.monotonic() + login_timeout
        while not server.online() and time.monotonic() < end:
            await asyncio.sleep(0.1)
        if not server.online():
            raise TimeoutError("no concentrator logged in to %s:%d within %.0f s"
                               % (where[0], where[1], login_timeout))
        terminal = server.online()[0]
        log.info("rig: concentrator %s logged in; setting its archive", terminal,
                 extra={"event": "rig_login", "terminal": terminal})
        rig_doc = rig.sc.doc.get("rig", {})
        pw = bytes.fromhex(rig_doc.get("password", "00" * 16))
        if archive_port is None:
            archive_port = rig_doc.get("archive_port", 1)
        ports = rig.archive_ports(archive_port, rig_doc.get("rs485_archive_port", 2))
        master = RigMaster(rig, server, terminal, pw, rig_doc, where)
        await master.set_up(ports)
        pulling = None
        if rig.sc.prepaid is not None:
            rig.control = CostControl(rig, rig.sc.prepaid, rig_doc, duration)
        finish = start_wall + duration
        next_control = next_snapshot = next_pull = time.monotonic()
        while time.monotonic() < finish:
            now = time.monotonic()
            if master.pull_every_s > 0 and now >= next_pull and (pulling is None
                                                                 or pulling.done()):
                pulling = asyncio.ensure_future(master.pull())
                tasks.add(pulling)
                pulling.add_done_callback(tasks.discard)
                next_pull = now + master.pull_every_s
            if rig.control is not None and now >= next_control:
                for cmd in rig.control.due(rig.now()):
                    task = asyncio.ensure_future(
                        rig.control.send(server, terminal, pw, ports[cmd.meter], cmd))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                next_control = now + rig.control.every_s
            if every_s > 0 and on_snapshot is not None and now >= next_snapshot:
                if now > start_wall:
                    on_snapshot(snapshot(rig.report(server.store, terminal)))
                next_snapshot = now + every_s
            wake = min(finish, next_snapshot if every_s > 0 else finish,
                       next_control if rig.control is not None else finish,
                       next_pull if master.pull_every_s > 0 else finish)
            await asyncio.sleep(max(0.0, min(wake - time.monotonic(), 1.0)))
        if pulling is not None and not pulling.done():
            await asyncio.wait([pulling], timeout=REQUEST_TIMEOUT_S)
        report = rig.report(server.store, terminal, samples)
        report.update(master.report(server.store, report["period"] and freeze_label(
            parse_local(report["period"]))))
        report["archive_set"] = master.archive_set
        report["passed"] = report["passed"] and report["archive_set"]
        log.info("rig: run over, %s (read rate %s)", "passed" if report["passed"] else "FAILED",
                 report.get("read_rate"), extra={"event": "rig_end", "passed": report["passed"],
                                                 "read_rate": report.get("read_rate")})
        return report
    finally:
        for task in tasks:
            task.cancel()
        await server.close()
