"""Collection tasks and the one job that runs them: read, validate, store, re-read (补抄).

A task names the items to read for one meter and one period (a day, a settlement month, a curve
slot ...), coalesced into one job, and turns the replies into readings. ``read_job`` runs a task
for one meter: it waits for the meter's back-off, reads, validates, stores every outcome with
its quality (a failure is stored too, so a head-end can tell "not read: timeout" from "not read
yet"), and re-reads until the task's deadline.
"""
import logging

from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.civil import DAY, iso, to_civil
from protocols.dlt645 import apdu, di as DI, v1997
from protocols.gdw1376_2 import afn as A

from edge import validate as V
from edge.drivers import dlt645 as D645, driver_for, items as I

from edge.effects import Broadcast, ModuleCall, SleepUntil, Transact
from edge.exchange import ERROR, OK
from edge.health import Health
from edge.links import Result, is_error, summary
from edge.scheduler import CURVE, EVENT, FREEZE, ON_DEMAND
from edge.store import Reading

DI_FREEZE_TIME = D645.DI_FREEZE_TIME
DI_FREEZE_ENERGY = D645.DI_FREEZE_ENERGY
DI_SETTLEMENT_ENERGY = D645.DI_SETTLEMENT_ENERGY
DI_ENERGY_NOW = D645.DI_ENERGY_NOW
DI_VOLTAGE_A = D645.DI_VOLTAGE_A
DI_CURVE_ENERGY = D645.DI_CURVE_ENERGY
ERROR_RETRIES = 2                    # an error reply is re-asked this often, then accepted
JOB_ERROR = "job_error"              # flag of a read whose job died of an exception
_kwh_list = D645.kwh_list
_value = D645.reply_value
meter_time = D645.meter_time
CLOCK_SET = "clock_set"              # the journal of targeted time sets (uploaded as ERC41)
log = logging.getLogger(__name__)


class Window:
    """One period of a task: its label, when reading may start and the deadline (wall seconds)."""

    __slots__ = ("task", "period", "start", "deadline", "boundary")

    def __init__(self, task, period, start, deadline, boundary):
        self.task = task
        self.period = period
        self.start = start
        self.deadline = deadline
        self.boundary = boundary


class Task:
    """A periodic read task: every ``every_s`` from midnight, reading from ``offset_s`` after the
    boundary until ``deadline_s`` after it. Its ``readings`` and ``after`` get the job's
    ``edge.job_context.ReadContext`` (named ``agent`` for short), not the Agent."""

    name = "task"
    lane = EVENT
    key_di = 0

    def __init__(self, every_s, offset_s, deadline_s):
        self.every_s = every_s
        self.offset_s = offset_s
        self.deadline_s = deadline_s

    def applies(self, meter, boundary):
        return True

    def period(self, boundary):
        return iso(boundary)

    items = ()                       # neutral items (edge.drivers.items) the task reads

    def requests(self, meter, window):
        """The requests of this task's items, as the meter's driver frames them."""
        return driver_for(meter).requests(meter, list(self.items))

    def values(self, meter, result):
        """One value per item from a normal result (``items.Unanswered`` when one lacks)."""
        return driver_for(meter).values(meter, list(self.items), result.requests, result.replies)

    def readings(self, agent, meter, window, result):
        """Readings for a normal result (validated)."""
        raise NotImplementedError

    def reading(self, agent, meter, window, value, flags=()):
        """This task's reading of ``value``: ok, or invalid when validation raised ``flags``."""
        return Reading(meter.addr, self.name, self.key_di, window.period, value,
                       "invalid" if flags else "ok", flags, agent.wall)

    def after(self, agent, meter, readings):
        """Generator: more exchanges once the task's items are read (none by default)."""
        return ()


class DailyFreeze(Task):
    """Last daily freeze (日冻结) after midnight: freeze time + forward energy block (2007, 698:
    one Record GET of 5004); the 1997 protocol has no day freeze, so its total register is read
    right after midnight."""

    name = "daily_freeze"
    lane = FREEZE
    key_di = DI_FREEZE_ENERGY

    items = (I.DAILY_FREEZE,)

    def period(self, boundary):
        return iso(boundary - DAY)[:10]

    def readings(self, agent, meter, window, result):
        day = window.boundary - DAY
        freeze = self.values(meter, result)[0]
        regs, stamp = freeze["kwh"], freeze["time"]
        previous = agent.previous_value(meter.addr, self.name, iso(day - DAY)[:10])
        at = stamp if stamp is not None else agent.wall
        _, flags = V.validate_daily_freeze(regs, stamp, day, at, previous, agent.limits)
        value = {"kwh": regs, "time": iso(stamp) if stamp is not None else None, "at": at}
        return [self.reading(agent, meter, window, value, flags)]


class Settlement(Task):
    """Energy at the last settlement (结算日, default the 1st at 00:00), read on that day (645
    0001FF01; 698 the last record of 5005)."""

    name = "settlement"
    lane = FREEZE
    key_di = DI_SETTLEMENT_ENERGY
    items = (I.SETTLEMENT_ENERGY,)

    def applies(self, meter, boundary):
        return meter.protocol in ("645-2007", "698.45") and to_civil(boundary)[2] == 1

    def period(self, boundary):
        return iso(boundary - DAY)[:7]

    def readings(self, agent, meter, window, result):
        regs = self.values(meter, result)[0]
        return [self.reading(agent, meter, window, {"kwh": regs}, V.tariff_flags(regs, agent.limits))]


class LoadCurve(Task):
    """Forward energy load curve (负荷曲线) of the slot that just ended, one point every
    ``interval_min`` (645 0610 0601 blocks; 698 the 5002 rows of the span)."""

    name = "load_curve"
    lane = CURVE
    key_di = DI_CURVE_ENERGY

    def __init__(self, every_s, offset_s, deadline_s, interval_min=15, minute=None):
        Task.__init__(self, every_s, offset_s, deadline_s)
        self.interval_min = interval_min
        self.minute = minute            # edge.minute.MinutePolicy: its meters keep their own

    def applies(self, meter, boundary):
        return meter.protocol != "645-1997" and not self._minute(meter)

    def _minute(self, meter):
        return self.minute is not None and self.minute.group_of(meter) is not None

    def period(self, boundary):
        return iso(boundary - self.every_s)

    def curve(self, window):
        points = max(1, int(self.every_s // (60 * self.interval_min)))
        return I.Curve(window.boundary - self.every_s, points, 60 * self.interval_min)

    def requests(self, meter, window):
        return driver_for(meter).requests(meter, [self.curve(window)])

    def readings(self, agent, meter, window, result):
        value = driver_for(meter).values(meter, [self.curve(window)], result.requests,
                                         result.replies)[0]
        points = [v for v in value.get("values", []) if v is not None]
        flags = [V.BACKWARDS] if any(b < a for a, b in zip(points, points[1:])) else []
        return [self.reading(agent, meter, window, value, flags)]


class VoltageCurve(LoadCurve):
    """Phase-A voltage curve (645-2007 0610 0101 blocks) of the slot that just ended: the
    voltage-quality samples (edge.pq) where no real-time reads run."""

    name = "voltage_curve"
    key_di = 0x06100101

    def applies(self, meter, boundary):
        return meter.protocol == "645-2007" and not self._minute(meter)

    def curve(self, window):
        c = LoadCurve.curve(self, window)
        return I.Curve(c.start, c.points, c.step_s, self.key_di)

    def readings(self, agent, meter, window, result):
        value = driver_for(meter).values(meter, [self.curve(window)], result.requests,
                                         result.replies)[0]
        return [self.reading(agent, meter, window, value)]


class PowerDownEvents(Task):
    """Power-down event count (掉电事件); new records are read when the count moved (645
    0311 00xx; 698 the 3011 records by number)."""

    name = "event_count"
    lane = EVENT
    key_di = DI.EV_POWER_DOWN
    items = (I.POWER_DOWN_COUNT,)

    def applies(self, meter, boundary):
        return meter.protocol != "645-1997"

    def readings(self, agent, meter, window, result):
        return [self.reading(agent, meter, window, int(self.values(meter, result)[0]))]

    def after(self, agent, meter, readings):
        """Read the records added since the count last stored (newest first)."""
        count = readings[0].value
        last = agent.latest(meter.addr, self.name, before=readings[0].period)
        known = last.value if last is not None and last.quality == "ok" else 0
        new = min(max(0, count - known), DI.EVENT_RECORDS)
        if new:
            drv = driver_for(meter)
            item = I.PowerDownRecords(count, new)
            requests = drv.requests(meter, [item])
            result = yield Transact(requests)
            try:
                records = drv.values(meter, [item], requests, result.replies)[0]
            except (I.Unanswered, ProtocolDecodeError, ValueError):
                records = []
            agent.store_readings(self._records(agent, meter, count, records))

    def _records(self, agent, meter, count, records):
        return [Reading(meter.addr, "event", self.key_di + (count - number + 1),
                        "power_down#%d" % number, value, "ok", (), agent.wall)
                for number, value in records if value is not None]


class ClockCheck(Task):
    """Each meter's clock against ours, after the port's broadcast time sync; a meter still off
    by more than the limit gets a targeted time set where ``clock_correct`` is on: 645-2007
    with a password in its archive record (04000101 date, then 04000102 time), 698.45 by SET
    4000 attribute 2 (ciphered for a secured meter)."""

    name = "clock"
    lane = EVENT
    key_di = DI.DI_TIME

    def period(self, boundary):
        return iso(boundary)[:10]

    items = (I.METER_CLOCK,)

    def readings(self, agent, meter, window, result):
        try:
            meter_t = self.values(meter, result)[0]
        except (ValueError, ProtocolDecodeError, IndexError, AttributeError):
            return [self.reading(agent, meter, window, None, ("clock_unreadable",))]
        deviation = round(meter_t - agent.wall, 1)
        return [self.reading(agent, meter, window, {"deviation_s": deviation},
                             V.clock_flags(meter_t, agent.wall, agent.limits))]

    def after(self, agent, meter, readings):
        r = readings[0]
        if V.CLOCK not in r.flags or not agent.clock_correct:
            return
        driver = driver_for(meter)
        if not driver.clock_settable(meter):
            agent.count("clock_correct_not_allowed")
            log.info("meter %s: clock off by %s s, no targeted set (protocol %s, password %s)",
                     meter.addr, r.value["deviation_s"], meter.protocol,
                     "set" if meter.extra.get("password") else "none in the archive")
            return
        if agent.has_good(meter.addr, CLOCK_SET, DI.DI_TIME, r.period):
            return                                      # already set today (journaled)
        answers = []
        for req in driver.clock_set(meter, agent.wall, r.value["deviation_s"]):
            result = yield Transact([req])
            reply = result.replies[0] if result.replies else None
            answers.append("ack" if driver.acked(reply) else
                           "refused" if reply is not None else result.kind)
        reqs = self.requests(meter, None)
        check = yield Transact(reqs)
        after = None
        if check.kind == OK:
            try:
                clock = driver_for(meter).values(meter, list(self.items), reqs, check.replies)[0]
                after = round(clock - agent.wall, 1)
            except (ValueError, ProtocolDecodeError, IndexError, AttributeError):
                after = None
        value = {"before_s": r.value["deviation_s"], "after_s": after, "answers": answers,
                 "at": agent.wall}
        ok = bool(answers) and all(a == "ack" for a in answers)
        agent.count("clock_correct_%s" % ("done" if ok else "failed"))
        log.info("meter %s: targeted time set, off by %s s before, %s s after (%s)", meter.addr,
                 value["before_s"], after, "/".join(answers))
        agent.store_readings([Reading(meter.addr, CLOCK_SET, DI.DI_TIME, r.period, value,
                                      "ok" if ok else "error_reply", (), agent.wall)])


class Realtime(Task):
    """Current energy block, voltage and current, every ``every_s``; a total register that
    stands still while current flows (``limits.stopped_s``) is flagged stopped."""

    name = "realtime"
    lane = EVENT
    key_di = DI_ENERGY_NOW

    items = (I.ENERGY_NOW, I.VOLTAGE_A, I.CURRENT_A)

    def _items(self, meter):
        if meter.extra.get("phases") == 3 and driver_for(meter).supports(meter, I.PHASES):
            return list(self.items) + [I.PHASES]
        return list(self.items)

    def requests(self, meter, window):
        return driver_for(meter).requests(meter, self._items(meter))

    def values(self, meter, result):
        return driver_for(meter).values(meter, self._items(meter), result.requests, result.replies)

    def readings(self, agent, meter, window, result):
        got = self.values(meter, result)
        regs, volts, amps = got[:3]
        prev = agent.latest(meter.addr, self.name, before=window.period)
        pv = prev.value if prev is not None and isinstance(prev.value, dict) else None
        previous = None
        if pv is not None and pv.get("kwh"):
            previous = (pv["kwh"][0], pv.get("current"), pv.get("still_since", prev.read_at))
        since, flags = V.stopped_flags(regs[0], amps, agent.wall, previous, agent.limits)
        value = {"kwh": regs, "voltage": volts, "current": amps, "still_since": since}
        if len(got) > 3:
            value["phases"] = got[3]
        return [self.reading(agent, meter, window, value, flags)]


class OnDemand(Task):
    """Items asked for now (by the master station or an operator)."""

    name = "on_demand"
    lane = ON_DEMAND

    def __init__(self, items, deadline_s=600.0):
        Task.__init__(self, DAY, 0.0, deadline_s)
        self.dis = list(items)          # 645 data identifiers

    def applies(self, meter, boundary):
        return meter.protocol != "698.45"

    def requests(self, meter, window):
        if meter.protocol == "645-1997":
            return [v1997.Read97(d) for d in self.dis]
        return [apdu.Read(d) for d in self.dis]

    def readings(self, agent, meter, window, result):
        return [Reading(meter.addr, self.name, req.di, window.period, _value(req, reply), "ok", (),
                        agent.wall) for req, reply in zip(result.requests, result.replies)]


class LastEvent(Task):
    """The latest record of an event family, read now (645-2007: 上1次 record DI, the 645 record
    decoded; 698.45: the event object's last record, its start and end); stored as
    ``on_demand`` readings keyed by the 645 record DI, whatever the meter speaks."""

    name = "on_demand"
    lane = ON_DEMAND

    def __init__(self, family, deadline_s=600.0):
        Task.__init__(self, DAY, 0.0, deadline_s)
        self.items = (I.LastEvent(family),)
        self.key_di = DI.event_di(family) + 1

    def applies(self, meter, boundary):
        return meter.protocol != "645-1997"

    def readings(self, agent, meter, window, result):
        return [self.reading(agent, meter, window, self.values(meter, result)[0])]


def read_job(ctx, meter, task, window):
    """Generator: read ``task`` for ``meter`` in ``window``, re-reading with back-off until the
    deadline; a re-read asks only for the items still missing. Every attempt's outcome is stored
    with its quality; a good reading ends the job. ``ctx`` is the job's ``ReadContext``."""
    if task.key_di and ctx.has_good(meter.addr, task.name, task.key_di, window.period):
        return
    requests = task.requests(meter, window)
    have = [None] * len(requests)
    last_kind = None
    errors = 0
    start = ctx.to_now(window.start)
    deadline = ctx.to_now(window.deadline)
    # a new window is a fresh chance: one attempt for every meter (an offline one just behind
    # the others); re-reads then wait for the meter's back-off, or less if the bus is idle
    not_before = start + (1.0 if ctx.health_of(meter.addr).health is Health.OFFLINE else 0.0)
    early = None
    humble = False
    while ctx.now < deadline:
        if not ctx.archived(meter):
            return                                  # removed or changed by the master station
        todo = [k for k, r in enumerate(have) if r is None or is_error(r)]
        attempt = yield Transact([requests[k] for k in todo], not_before, early, humble)
        if ctx.now >= deadline and attempt.kind != OK:
            return
        for k, reply in zip(todo, attempt.replies):
            if reply is not None:
                have[k] = reply
        # ok only when every item has a normal reply: a link's "ok" for a frame nobody answers
        # (a broadcast address, 99..99) must not reach the task as a reading
        kind = summary(have, 0)
        if kind != OK and attempt.kind != OK:
            kind = attempt.kind
        result = Result(kind, list(have), attempt.latency, attempt.deny, requests)
        readings = _readings(ctx, meter, task, window, result)
        ctx.record(meter, task, result, readings, persist=result.kind != last_kind)
        last_kind = result.kind
        if result.kind == OK:
            yield from task.after(ctx, meter, readings)
            return
        errors += result.kind == ERROR
        if errors > ERROR_RETRIES:
            return
        health = ctx.health_of(meter.addr)
        not_before = min(max(start, health.next_try), deadline - 1.0)     # last try at the deadline
        early = ctx.policy.idle_retry(health, ctx.now)
        # an offline meter's freeze (or higher) re-read still outranks curves and events, at
        # most once per idle period per meter; its curve/event re-reads wait for an idle bus
        humble = health.health is Health.OFFLINE and task.lane >= CURVE


def _readings(ctx, meter, task, window, result):
    if result.kind == OK:
        try:
            return task.readings(ctx, meter, window, result)
        except (ProtocolDecodeError, ValueError, KeyError, TypeError, IndexError) as exc:
            result.kind = "garbled"
            result.deny = str(exc)
    return [Reading(meter.addr, task.name, task.key_di, window.period, None, result.kind,
                    (), ctx.wall)]


def failed_reading(meter, task, window, wall):
    """The reading that marks ``task`` for ``meter`` failed: its job died of an exception."""
    return Reading(meter.addr, task.name, task.key_di, window.period, None, "failed",
                   (JOB_ERROR,), wall)


def time_sync_job(agent, port, task, window):
    """Broadcast our time to the meters on ``port``, once per protocol they speak (645 §7.8
    broadcast, 698 broadcast ACTION 4000 127: no reply; on a carrier port the module floods
    it, 1376.2 05F3 with that protocol type), wait until it has reached them, then check their
    clocks."""
    meters = [m for m in agent.archive.meters.values()
              if m.port == port and task.applies(m, window.boundary)]
    drivers = []
    for m in meters:
        drv = driver_for(m)
        if drv not in drivers:
            drivers.append(drv)
    for drv in drivers or [driver_for(_NO_METER)]:
        if agent.archive.ports[port].carrier:
            proto, body = drv.broadcast_body(agent.wall)
            answer = yield ModuleCall(port, A.StartBroadcast(proto, body))
            if isinstance(answer, A.Confirm):
                yield SleepUntil(agent.now + answer.wait_s)
            else:
                agent.count("time_sync_refused")
        else:
            sync = drv.time_sync(agent.wall)
            own = [m for m in meters if driver_for(m) is drv]
            for baud in sorted({m.baud for m in own}):     # a meter hears only its own rate
                yield Broadcast(port, sync, baud)
    for m in meters:
        agent.read(m, task, window)


class _NoMeter:
    protocol = "645-2007"


_NO_METER = _NoMeter()
