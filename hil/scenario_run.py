"""Run a scenario: the unmodified agent against the simulated area in virtual time, with the
scenario's faults, prepaid customers and uplink outages, and every KPIS.md figure computed
from the simulator's ground truth (the meters' own freezes, relays and ledgers, the master's
database), never from the agent's belief.
"""
import platform
import random

import simpy

from edge.agent import Agent
from edge.plan import Settings
from edge.store import SIM_BATCH, Store
from edge.uplink import Uplink, UplinkSettings
from hostlink.store import MasterStore
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from plc_channel.baseline import report as area_report
from protocols.civil import DAY, iso, midnight
from hil.agent_run import (FREEZE_DIS, PORT, TOLERANCE_KWH, _Done, area_archive, freeze_done,
                           true_freeze)
from hil.prepaid_run import (Plan, payments, percentiles, prepaid_archive, report as prepaid_report,
                             truth_of, watch_relays)
from hil import (areaid_run, audit_run, field_run, lineloss_run, minute_run, outages_run,
                 pq_phases_run, pq_run, swaps_run)
from hil.price_run import PriceRun
from hil.simruntime import SimRuntime
from hil.unread import unread_meters
from hil.uplink_sim import SimLink, uplink_counts, uploadable

BACKLOG_WATCH_S = 60.0          # the backlog's peak is sampled this often (virtual seconds)


def version():
    try:
        from importlib.metadata import version as v
        return {"gridedge": v("gridedge"), "simpy": v("simpy"), "python": platform.python_version()}
    except Exception:                   # not installed as a package (a bare checkout)
        return {"gridedge": "unknown", "python": platform.python_version()}


class Run:
    """Everything one scenario run builds, kept for the report and its plots."""

    def __init__(self, sc):
        self.sc = sc
        self.start = sc.start
        self.end = sc.start + 3600.0 * sc.hours
        self.env = env = simpy.Environment(initial_time=self.start)
        pre = sc.prepaid
        faults, population = sc.meter_setup()
        kw = dict(sc.area_kw, population=population)
        carrier_faults, wired_faults = field_run.split_faults(faults, sc.meters)
        self.area = build_area(env, sc.meters, sc.medium, sc.seed, DEFAULT_EPOCH, carrier_faults,
                               **kw)
        self.settings = Settings.from_dict(sc.tasks)
        self.plan = self.moves = None
        archive, pre_settings = area_archive(self.area), None
        if pre is not None:
            self.every_min = pre.get("read_every_min", 60)
            self.plan = Plan(sc.meters, sc.hours / 24.0, sc.seed, self.start,
                             pre.get("keep_power", 0.02), pre.get("pay", 0.6),
                             pre.get("holiday", True),
                             opening=tuple(pre.get("opening", (2.0, 40.0))),
                             friendly=pre.get("friendly", True))
            archive, pre_settings = prepaid_archive(self.area), self.plan.settings(self.every_min)
            self.moves = watch_relays(self.area.meters)
        up = sc.uplink
        bound = None if up is None or "max_store_mb" not in up else int(up["max_store_mb"] * 2 ** 20)
        # in memory: a simulation has no power to lose, and a week of prepaid commits on a
        # file with WAL checkpoints spent half its time in system calls; the byte bound
        # counts the same pages either way
        self.store = Store(":memory:", durable=False, max_bytes=bound, batch=SIM_BATCH)
        networks = {PORT[sc.medium]: self.area.network}
        self.wired = []
        if sc.rs485_meters:
            self.wired, bus, archive = field_run.add_rs485_meters(
                env, archive, sc.rs485_meters, sc.meters, wired_faults, sc.seed, population)
            networks[field_run.PORT] = bus
        self.all_meters = field_run.Meters(self.area.meters + self.wired)
        if sc.password:
            archive = field_run.with_password(archive, sc.password)
        self.area_meter = None
        if sc.area_meter is not None:
            self.area_meter, bus, archive = lineloss_run.add_area_meter(
                env, self.area, archive, sc.area_meter, sc.seed)
            networks[lineloss_run.PORT] = bus
        minute_run.configure(self.area, archive, self.settings.minute)
        self.agent = Agent(archive, self.store, self.settings, now=self.start, wall=self.start,
                           prepaid=pre_settings)
        self.runtime = SimRuntime(env, self.agent, networks, sc.module_baud)
        self.resets = []
        if sc.medium != "rs485":
            self.resets = field_run.schedule(env, self.runtime.ports[PORT[sc.medium]].module,
                                             faults)
        self.paid_at = {}
        if self.plan is not None:
            env.process(payments(env, self.runtime, self.plan, self.paid_at))
        self.master = self.link = None
        if up is not None:
            self.uplink = Uplink(self.agent, UplinkSettings("sim:0", "0171", 1, seed=sc.seed),
                                 random.Random(sc.seed))
            self.master = MasterStore(":memory:")
            outages = [(self.start + 3600.0 * a, self.start + 3600.0 * (a + b))
                       for a, b in up.get("outages", [])]
            self.link = SimLink(env, self.runtime, self.uplink, self.master, outages=outages,
                                loss=up.get("loss", 0.0), rng=random.Random(sc.seed + 1))
            self.backlog_peak = 0
            env.process(self._watch_backlog())

    def _watch_backlog(self):
        while True:
            self.backlog_peak = max(self.backlog_peak, self.store.unsent_count())
            yield self.env.timeout(BACKLOG_WATCH_S)

    def run(self, progress=None):
        t = self.start
        while t < self.end:
            t = min(self.end, t + 3600.0)
            self.env.run(until=t)
            if progress is not None:
                progress(t - self.start, self.end - self.start)
        return self

    # --- figures ------------------------------------------------------------------------------
    def freeze_days(self):
        """Per daily-freeze window that opened in the run: its KPIs, and the read times."""
        s = self.settings
        exchanges = sum(v for k, v in self.agent.counters.items() if k.startswith("exchange_"))
        days, b = [], midnight(self.start)
        ours = {m.addr for m in self.area.meters}       # the area meter is not one of them
        while b + s.freeze_offset_s < self.end:
            if b + s.freeze_offset_s >= self.start:
                begin = b + s.freeze_offset_s
                deadline = min(self.end, b + 3600.0 * s.freeze_deadline_h)
                period = iso(b - DAY)[:10]
                done = {a: t for a, t in freeze_done(self.store, period).items()
                        if t <= deadline and a in ours}
                r = area_report(self.area, _Done(done, exchanges, FREEZE_DIS), begin, deadline,
                                "agent", baud=self.sc.module_baud)
                r.update(period=period, deadline=iso(deadline)[:16],
                         wrong_values=self.wrong_values(period, b),
                         unread=unread_meters(self.area, done, self.store, period, self.env.now))
                days.append((r, sorted(t - begin for t in done.values())))
            b += DAY
        return days

    def wrong_values(self, period, day):
        """Good daily freezes of ``period`` (taken at midnight ``day``) whose total differs
        from the meter's own freeze: data the agent validated and should not have."""
        n_back = int((midnight(self.env.now) - day) // DAY) + 1
        by_addr = {m.addr[::-1].hex(): m for m in self.all_meters.meters}
        wrong = 0
        for r in self.store.readings(task="daily_freeze", period=period):
            if r.quality == "ok" and r.addr in by_addr:
                truth = true_freeze(by_addr[r.addr], self.env.now, n_back)
                if truth is None or abs(r.value["kwh"][0] - truth) > TOLERANCE_KWH:
                    wrong += 1
        return wrong

    def report(self, samples):
        """report.json's content (KPIS.md); ``samples`` gets the raw series for the plots."""
        sc = self.sc
        out = {"scenario": sc.name, "scenario_sha256": sc.sha256, "seed": sc.seed,
               "version": version(), "medium": sc.medium, "meters": sc.meters,
               "start": iso(self.start)[:16], "hours": sc.hours}
        days = self.freeze_days()
        out.update(audit_run.report(self.store, self.all_meters, self.agent.archive,
                                    self.settings, [r["period"] for r, _ in days], self.end))
        out.update(pq_run.report(self.store, self.all_meters, self.settings, self.end))
        out.update(pq_phases_run.report(self.store, self.all_meters, self.settings, self.end))
        out.update(swaps_run.report(self.store, self.all_meters, self.end))
        out.update(self._field([r["period"] for r, _ in days]))
        out.update(areaid_run.report(self.store, self.area, self.agent))
        out.update(minute_run.report(self.store, self.agent.archive, self.settings.minute,
                                     self.start, self.end, [r["period"] for r, _ in days],
                                     self.all_meters.meters))
        out.update(outages_run.report(self.store, self.area, self.start, self.end))
        if days:
            first, times = days[0]
            # completion_p99_s: when 99 % of the meters read were read; a few meters that join
            # the network late set completion_s (area-10000: 1 124 s against 7 735 s)
            for key in ("read_rate", "reachable_read_rate", "completion_s", "completion_p99_s",
                        "t90_s", "t99_s", "t999_s", "lower_bound_s", "channel_airtime_bound_s",
                        "uart_bound_s", "reachable_from_s", "module_baud", "efficiency",
                        "efficiency_t99", "read_rate_by_depth", "period",
                        "deadline", "read", "reachable", "wrong_values", "unread"):
                out[key] = first[key]
            samples["freeze_read_times_s"] = times
            out["days"] = [{k: r[k] for k in ("period", "read_rate", "reachable_read_rate",
                                              "completion_s", "efficiency", "wrong_values")}
                           for r, _ in days]
        else:
            out.update(read_rate=None, reachable_read_rate=None, completion_s=None,
                       lower_bound_s=None, efficiency=None, read_rate_by_depth={},
                       wrong_values=None, unread=[])
        net = self.area.network
        out["channel_by_hour"] = {str(h): round(r["answered"] / r["requests"], 4)
                                  for h, r in sorted(net.stats.by_hour.items()) if r["requests"]}
        out.update(self._prepaid(samples))
        out.update(self._uplink())
        out.update(lineloss_run.empty() if self.area_meter is None else
                   lineloss_run.report(self.store, self.area, self.area_meter))
        out["counters"] = dict(sorted(self.agent.counters.items()))
        out["gates"] = [g.check(out) for g in sc.gates]
        out["passed"] = all(g["passed"] for g in out["gates"])
        return out

    def _field(self, days):
        if not self.wired and not self.resets and not any(
                f.get("kind") in ("ab_swapped", "clock_battery") for f in self.sc.faults):
            return field_run.empty()
        carrier = {m.addr[::-1].hex() for m in self.area.meters}
        return field_run.report(self.store, self.agent.archive, self.all_meters.meters, carrier,
                                self.resets, self.settings, days, self.end,
                                self.settings.limits.clock_s)

    def _prepaid(self, samples):
        if self.plan is None:
            none = percentiles([])
            return {"trip_latency_s": none, "reconnect_latency_s": none, "wrongful_ops": 0,
                    "missed_ops": 0, "prepaid": None}
        truth = truth_of(self.store, self.area, self.plan, self.paid_at, self.start)
        r = prepaid_report(self.agent, self.area, self.plan, truth, self.moves, self.start,
                           self.end, self.every_min, self.sc.seed, self.sc.medium, samples)
        keep = ("trip_latency_s", "reconnect_latency_s", "wrongful_ops", "missed_ops")
        out = {k: r[k] for k in keep}
        out["prepaid"] = {k: v for k, v in r.items() if k not in keep}
        return out

    def _uplink(self):
        if self.master is None:
            return {"readings_produced": len(uploadable(self.store)),
                    "readings_confirmed_by_master": None, "readings_lost": None}
        out = uplink_counts(self.store, self.master)
        out["uplink"] = {"backlog_left": out.pop("backlog_left"), "backlog_peak": self.backlog_peak,
                         "repeated_deliveries_absorbed": out.pop("repeated_deliveries_absorbed"),
                         "session": dict(sorted(self.uplink.session.counters.items()))}
        return out


def price_report(sc, progress=None):
    """Run a ``[price]`` scenario (``hil.price_run``); the report: the run's identity, the
    campaign's ground-truth KPIs under ``price``, and the gates."""
    run = PriceRun.from_scenario(sc)
    kpi = run.run_scenario(sc.start + 3600.0 * sc.hours, progress)
    kpi["old_price_kwh_total"] = round(sum(kpi["old_price_kwh_after_switch"].values()), 2)
    out = {"scenario": sc.name, "scenario_sha256": sc.sha256, "seed": sc.seed,
           "version": version(), "medium": sc.medium, "meters": sc.meters,
           "start": iso(sc.start)[:16], "hours": sc.hours, "read_rate": None,
           "reachable_read_rate": None, "wrongful_ops": kpi["wrongful_relay_ops"],
           "missed_ops": kpi["missed_relay_ops"], "readings_lost": None, "price": kpi,
           "counters": dict(sorted(run.agent.counters.items()))}
    out["gates"] = [g.check(out) for g in sc.gates]
    out["passed"] = all(g["passed"] for g in out["gates"])
    return out


def run_scenario(sc, progress=None):
    """Run ``sc`` (a hil.scenario.Scenario); returns (report, samples)."""
    if sc.price is not None:
        return price_report(sc, progress), {}
    run = Run(sc).run(progress)
    samples = {}
    return run.report(samples), samples
