"""The prepaid proof in virtual time: a seeded area of remote-prepaid meters read and controlled
by the unmodified agent for days, with payments, keep-power customers, weekends and a holiday,
the evening noise peak of the channel model, and relays that fail to move.

The report is computed from the agent's journal and from the simulated meters themselves (every
relay move is recorded at its true time; a balance at any instant is recomputed from the meter's
own energy ledger, the opening balance and the payments made by then), never from the agent's
belief. KPIS.md: trip and reconnect latency (p50/p95/max), wrongful and missed operations.
"""
import random

import simpy

from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.prepaid.engine import PrepaidSettings
from edge.prepaid.policy import CLOSES, TRIP, FriendlyWindows
from edge.store import SIM_BATCH, Store
from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY, iso
from hil.agent_run import PORT, area_archive
from hil.simruntime import SimRuntime

PRICE = 0.56                    # yuan/kWh, flat
ALARM, TRIP_AT, CLOSE_ALLOWED = 10.0, 0.0, 5.0
TOLERANCE = 0.01                # yuan: register resolution x price, rounded up


def percentiles(values):
    if not values:
        return {"p50": None, "p95": None, "max": None, "n": 0}
    v = sorted(values)
    pick = lambda q: round(v[min(len(v) - 1, int(q * len(v)))], 1)
    return {"p50": pick(0.5), "p95": pick(0.95), "max": round(v[-1], 1), "n": len(v)}


class Plan:
    """Customers, payments and windows drawn from the seed: opening balances in ``opening``
    (yuan), payments between ``pay_between`` seconds after the start (default: from the first
    hour to four hours before the end), friendly windows unless ``friendly`` is false."""

    def __init__(self, count, days, seed, start, keep_share, pay_share, holiday,
                 opening=(2.0, 40.0), pay_between=None, friendly=True):
        rng = random.Random("%s/prepaid" % seed)
        lo, hi = pay_between or (3600.0, days * DAY - 4 * 3600.0)
        if hi <= lo:                    # a run of a few hours: payments anywhere in it
            lo, hi = 0.0, days * DAY
        self.opening = [round(rng.uniform(*opening), 2) for _ in range(count)]
        self.keep = [rng.random() < keep_share for _ in range(count)]
        self.direct = [rng.random() < 0.5 for _ in range(count)]
        self.payments = []              # (time, meter index, yuan, id)
        for i in range(count):
            if rng.random() < pay_share:
                t = start + rng.uniform(lo, hi)
                self.payments.append((t, i, float(rng.choice((20, 50, 100))), "pay-%d" % i))
        self.payments.sort()
        self.holidays = [iso(start + 4 * DAY)[:10]] if holiday else []
        self.friendly = (FriendlyWindows(20, 8, weekends=True, holidays=self.holidays) if friendly
                         else FriendlyWindows(0, 0, weekends=False))

    def settings(self, every_min):
        customers = [{"id": "C%d" % i, "balance": b, "keep_power": k, "direct_close": d}
                     for i, (b, k, d) in enumerate(zip(self.opening, self.keep, self.direct))]
        s = PrepaidSettings.from_dict({
            "every_min": every_min, "inbox_s": 0, "audit_every_h": 0,
            "tariff": {"flat": {"price": PRICE}}, "security": "test-key",
            "defaults": {"alarm": ALARM, "trip": TRIP_AT, "close_allowed": CLOSE_ALLOWED},
            "customer": customers})
        s.friendly = self.friendly
        return s


def run_prepaid(count=200, days=2.0, seed=1, medium="hplc", every_min=60, stuck_share=0.005,
                keep_share=0.02, pay_share=0.6, holiday=True, secured_share=0.0, progress=None):
    """Run the scenario; returns (report, agent, area)."""
    start = DEFAULT_EPOCH + DAY + 16 * 3600.0           # a Friday 16:00
    end = start + days * DAY
    plan = Plan(count, days, seed, start, keep_share, pay_share, holiday)
    env = simpy.Environment(initial_time=start)
    faults = [{"kind": "relay_stuck", "share": stuck_share}] if stuck_share else []
    area = build_area(env, count, medium, seed, DEFAULT_EPOCH, faults,
                      population={"local_share": 0.0, "secured_share": secured_share})
    moves = watch_relays(area.meters)
    store = Store(":memory:", durable=False, batch=SIM_BATCH)
    agent = Agent(prepaid_archive(area), store, Settings(curve_every_min=0, event_every_h=0,
                                                          clock_check_h=None),
                  now=start, wall=start, prepaid=plan.settings(every_min))
    runtime = SimRuntime(env, agent, {PORT[medium]: area.network})
    paid_at = {}
    env.process(payments(env, runtime, plan, paid_at))
    hour = start
    while hour < end:
        hour = min(end, hour + 3600.0)
        env.run(until=hour)
        if progress is not None:
            progress(hour - start, end - start)
    truth = truth_of(store, area, plan, paid_at, start)
    return report(agent, area, plan, truth, moves, start, end, every_min, seed, medium), agent, area


def payments(env, runtime, plan, paid_at):
    """SimPy process: each planned payment reaches the agent at its time (``paid_at`` notes it)."""
    for t, i, amount, pid in plan.payments:
        yield env.timeout(max(0.0, t - env.now))
        runtime.call(runtime.agent.prepaid.pay, pid, "C%d" % i, amount)
        paid_at[pid] = env.now


def prepaid_archive(area):
    """The area's archive with every meter under remote cost control, customer C<i>; a meter
    under ESAM security is archived with control level 98H (sealed controls)."""
    doc = area_archive(area).to_dict()
    for i, row in enumerate(doc["meter"]):
        row.update(prepaid="remote", tariff="flat", customer="C%d" % i)
        if firmware(area.meters[i]).esam is not None:
            row["control_level"] = 0x98
    return Archive.from_dict(doc)


def watch_relays(meters):
    """Per meter, every (time, closed) relay move of the simulated meters (ground truth)."""
    moves = [[] for _ in meters]
    for i, m in enumerate(meters):
        firmware(m).relay.on_move = lambda t, closed, i=i: moves[i].append((t, closed))
    return moves


def truth_of(store, area, plan, paid_at, start):
    """The ground truth of balances; each account starts at its meter's first prepaid read."""
    first = {}
    for r in store.readings(task="prepaid"):
        if r.quality == "ok":
            first[r.addr] = min(first.get(r.addr, r.value["at"]), r.value["at"])
    opened = [first.get(m.addr[::-1].hex(), start) for m in area.meters]
    return Truth(area.meters, plan, opened, paid_at)


class Truth:
    """Balances recomputed from the simulated meters' own energy ledgers."""

    def __init__(self, meters, plan, opened, paid_at):
        self.meters = [firmware(m) for m in meters]
        self.plan = plan
        self.opened = opened            # when each account took its first register reading
        self.e0 = [sum(m.ledger.at(t)) for m, t in zip(self.meters, opened)]
        self.paid = {}
        for t, i, amount, pid in plan.payments:
            if pid in paid_at:
                self.pay(i, paid_at[pid], amount)

    def pay(self, i, at, amount):
        """A payment for meter ``i``'s customer made at ``at``."""
        self.paid.setdefault(i, []).append((at, amount))

    def balance(self, i, t):
        used = sum(self.meters[i].ledger.at(t)) - self.e0[i]
        paid = sum(a for at, a in self.paid.get(i, ()) if at <= t)
        return self.plan.opening[i] + paid - PRICE * used

    def crossing(self, i, t):
        """The last time at or before ``t`` the balance fell to the trip threshold."""
        edges = [self.opened[i]] + [at for at, _ in self.paid.get(i, ()) if at <= t]
        for lo in reversed(edges):
            if self.balance(i, lo) > TRIP_AT:
                hi = t
                for _ in range(40):
                    mid = (lo + hi) / 2.0
                    if self.balance(i, mid) > TRIP_AT:
                        lo = mid
                    else:
                        hi = mid
                return hi
        return self.opened[i]


def security_figures(agent, truth, journal):
    """Secured meters, ESAM sessions (the agent's and the meters' own count), refusals."""
    refused = [e for c in journal for e in c.history if e[1] == "refused"]
    secured = [m for m in truth.meters if m.esam is not None]
    return {"secured_meters": len(secured),
            "sessions": dict(agent.prepaid.sessions.stats),
            "meter_authentications": sum(m.esam.authentications for m in secured),
            "sealed_sends": sum(1 for c in journal for e in c.history if e[1:] == ["send", "sealed"]),
            "refusals": len(refused),
            "serr_refusals": sum(1 for e in refused if "SERR" in " ".join(map(str, e[2:])))}


def wrongful_moves(moves, truth, plan):
    """The true relay moves the balance did not allow: an opening for a keep-power customer, in
    a friendly window or in credit; a closing below the close-allowed amount."""
    wrongful = []
    for i, events in enumerate(moves):
        for t, closed in events:
            b = truth.balance(i, t)
            if not closed and (plan.keep[i] or plan.friendly.active(t) or b > TRIP_AT + TOLERANCE):
                wrongful.append({"meter": i, "at": iso(t), "op": "trip", "balance": round(b, 2)})
            if closed and b < CLOSE_ALLOWED - TOLERANCE:
                wrongful.append({"meter": i, "at": iso(t), "op": "close", "balance": round(b, 2)})
    return wrongful


def allowed_time(windows, start, end):
    """Seconds of [start, end) outside friendly windows (minute steps): the time a credit trip
    was allowed and not yet done. Time inside a window is deferral by rule, not latency."""
    if end <= start:
        return 0.0
    total, t = 0.0, start
    while t < end:
        step = min(60.0 - t % 60.0, end - t)
        if not windows.active(t):
            total += step
        t += step
    return total


def _verified_at(cmd):
    for entry in cmd.history:
        if entry[1] == "verified":
            return entry[0]
    return None


def report(agent, area, plan, truth, moves, start, end, every_min, seed, medium, samples=None):
    """The prepaid KPIs; ``samples`` (a dict), when given, gets the raw latency lists."""
    addr_index = {m.addr[::-1].hex(): i for i, m in enumerate(area.meters)}
    stuck = {i for i, m in enumerate(truth.meters) if m.relay.stuck}
    wrongful = wrongful_moves(moves, truth, plan)
    journal = agent.prepaid.journal.all()
    held_at = {}                # meter -> creation times of trips the meter held for its load
    for c in journal:
        if c.action == TRIP and any("deferred by the meter" in str(e[2:]) for e in c.history):
            held_at.setdefault(c.meter, []).append(c.created)
    trip_lat, unloaded, close_lat, states = [], [], [], {}
    for c in journal:
        states[c.state] = states.get(c.state, 0) + 1
        i, v = addr_index[c.meter], _verified_at(c)
        if v is None or c.source != "policy":
            continue
        if c.action == TRIP:
            crossed = truth.crossing(i, v)
            trip_lat.append(allowed_time(plan.friendly, crossed, v))
            if not any(crossed <= t <= v for t in held_at.get(c.meter, ())):
                unloaded.append(trip_lat[-1])
        elif c.action in CLOSES:
            pays = [at for at, _ in truth.paid.get(i, ()) if at <= c.created]
            if pays:
                close_lat.append(v - pays[-1])
    if samples is not None:
        samples.update(trip_latency_s=trip_lat, reconnect_latency_s=close_lat)
    settle = every_min * 60.0 + 1800.0          # one read interval and the command's own time
    quiet = not any(plan.friendly.active(t) for t in range(int(end - settle), int(end) + 1, 60))
    hold = agent.prepaid.settings.large_current_max_s
    missed, unreachable, held = [], 0, 0
    for i, m in enumerate(truth.meters):
        if plan.keep[i] or i in stuck or not quiet or not m.relay.closed or end - settle <= start:
            continue
        # due since end - settle and still due at the end (a payment in between lifts it)
        if max(truth.balance(i, end - settle), truth.balance(i, end)) <= TRIP_AT - TOLERANCE:
            # a hold may still run if the true load was large at any time the agent's last
            # read could have seen (the load at ``end`` alone misses a hold begun before)
            loaded = max(m.current_at(t) for t in range(int(end - settle), int(end) + 1, 60)) > \
                agent.prepaid.settings.large_current_a
            if m.relay.cmd_open and m.relay.pending and m.relay.pending[0] == "open":
                held += 1               # commanded; the meter holds it while the load is high
            elif loaded and end - truth.crossing(i, end) < settle + hold:
                held += 1               # our own large-current deferral, within its maximum
            elif not area.network.reachable(i, end):
                unreachable += 1
            else:
                missed.append({"meter": i, "balance": round(truth.balance(i, end), 2)})
    return {
        "scenario": "prepaid", "medium": medium, "meters": len(area.meters), "seed": seed,
        "days": round((end - start) / DAY, 2), "read_every_min": every_min,
        "trip_latency_s": percentiles(trip_lat), "reconnect_latency_s": percentiles(close_lat),
        # the same without the trips a meter held back for its load (firmware: up to 1 440 min)
        "trip_latency_not_load_deferred_s": percentiles(unloaded),
        "wrongful_ops": len(wrongful), "missed_ops": len(missed),
        "missed_unreachable": unreachable, "held_for_load": held,
        "end_check_quiet": quiet,
        "relay_moves": sum(len(e) for e in moves), "payments": len(truth.paid),
        "keep_power_customers": sum(plan.keep), "stuck_relays": len(stuck),
        "commands": len(journal), "commands_by_state": dict(sorted(states.items())),
        "commands_retried": sum(1 for c in journal if c.attempts > 1),
        "escalated": states.get("escalated", 0), "holidays": plan.holidays,
        "security": security_figures(agent, truth, journal),
        "wrongful": wrongful[:20], "missed": missed[:20],
    }
