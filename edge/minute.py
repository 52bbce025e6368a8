"""Minute-level collection (分钟级采集): a configured subset of meters read at 1, 5 or 15 min
from the meter's own load curve (645 0610 0601 blocks, 698 5002 minute freeze), not by polling.

Each ``[[tasks.minute.group]]`` names its meters (addresses, tariff kinds, a share drawn from the
address) and the meters' curve interval; a meter belongs to the first group naming it. Every
``every_min`` the agent reads the slot that just ended (one point per interval) and re-reads it
until ``deadline_h``; after a good read it back-fills up to ``backfill_slots`` older slots that
were tried and missed, from the meter's curve, so a busy night or a lost route leaves no hole
the meter still holds. Readings are stored per slot (``minute_curve``, period = slot start) and
go upstream as AFN0D F101 with the interval's density (254: 5 min, 255: 1 min).
"""
import logging
import zlib

from protocols.civil import iso, parse_local
from edge.drivers import driver_for, items as I
from edge.effects import Transact
from edge.exchange import OK
from edge.jobs import DI_CURVE_ENERGY, LoadCurve
from edge.schema import INHERIT, Choice, Float, Int, List, Section, Tables, Text
from edge.scheduler import CURVE
from edge.store import Reading
from edge import validate as V

TASK = "minute_curve"
INTERVALS = (1, 5, 15)                # minutes: what 1376.1 F101 densities carry (255, 254, 1)
MAX_POINTS = 30                       # points per read: a 645 reply stays within 200 bytes
log = logging.getLogger(__name__)


class MinuteGroup:
    """Meters read at ``interval_min``: those listed, those of a tariff kind, or a share."""

    def __init__(self, interval_min=1, meters=(), tariffs=(), share=0.0):
        self.interval_min = interval_min
        self.meters = frozenset(meters)
        self.tariffs = frozenset(tariffs)
        self.share = share

    def selects(self, meter):
        if meter.extra.get("role") == "area":
            return False
        return (meter.addr in self.meters or meter.tariff in self.tariffs
                or zlib.crc32(meter.addr.encode()) / 2.0 ** 32 < self.share)


class MinutePolicy:
    """The minute groups and how their slots are read (``[tasks.minute]``)."""

    def __init__(self, every_min=15, deadline_h=3.0, backfill_h=12.0, backfill_slots=4,
                 group=()):
        self.every_min = every_min
        self.deadline_h = deadline_h
        self.backfill_h = backfill_h
        self.backfill_slots = backfill_slots
        self.groups = list(group)

    def group_of(self, meter):
        """The first group selecting ``meter`` (None: read at the ordinary curve interval)."""
        for g in self.groups:
            if g.selects(meter):
                return g
        return None

    def interval_of(self, meter):
        g = self.group_of(meter)
        return None if g is None else g.interval_min


def _group_fits(values):
    return [] if values["meters"] or values["tariffs"] or values["share"] else [
        ("meters", "a group names meters, tariffs or a share")]


def _slots_fit(values):
    out = []
    for k, g in enumerate(values.get("group") or ()):
        n = values["every_min"] / g.interval_min
        if n != int(n) or n > MAX_POINTS:
            out.append(("group[%d].interval_min" % k, "every_min (%d) must be 1..%d times the "
                        "interval (%d)" % (values["every_min"], MAX_POINTS, g.interval_min)))
    return out


GROUP = Section("tasks.minute.group", "A subset of meters read at a minute interval.", [
    Choice("interval_min", INTERVALS, 1, "min", "the meters' curve interval"),
    List("meters", Text("", check=lambda a: None if len(a) == 12 and a.isdigit() else
                        "need 12 decimal digits"), [], None, "", "addresses of the group"),
    List("tariffs", Text("", choices=("flat", "tou", "ladder")), [], None, "",
         "... and every meter archived with one of these tariff kinds"),
    Float("share", 0.0, 0, 1, "", "... and this share of the others (drawn from the address)"),
], checks=[_group_fits], target=MinuteGroup)
MINUTE = Section("tasks.minute", "Minute-level collection for a subset of meters "
                 "(edge.minute).", [
    Int("every_min", INHERIT, 1, 60, "min", "read each group's last slot every (a multiple "
        "of its interval)", divides=1440),
    Float("deadline_h", INHERIT, None, 24, "h", "a slot is re-read for this long", gt=0),
    Float("backfill_h", INHERIT, 0, 96, "h", "missed slots this recent are back-filled from "
          "the meter's curve after a good read"),
    Int("backfill_slots", INHERIT, 0, 96, "slots", "... at most this many per read"),
    Tables("group", GROUP, [], "the subsets (a meter belongs to the first naming it)"),
], checks=[_slots_fit], target=MinutePolicy)


class MinuteCurve(LoadCurve):
    """The slot of ``every_min`` that just ended, at the meter's group interval; after a good
    read, slots tried and missed are back-filled from the meter's curve."""

    name = TASK
    lane = CURVE
    key_di = DI_CURVE_ENERGY

    def __init__(self, policy):
        every = policy.every_min * 60.0
        LoadCurve.__init__(self, every, 60.0, policy.deadline_h * 3600.0)
        self.policy = policy

    def applies(self, meter, boundary):
        return meter.protocol != "645-1997" and self.policy.group_of(meter) is not None

    def slot_curve(self, meter, start):
        step = 60 * self.policy.interval_of(meter)
        return I.Curve(start, max(1, int(self.every_s // step)), step)

    def requests(self, meter, window):
        return driver_for(meter).requests(meter, [self.slot_curve(meter, self._start(window))])

    def _start(self, window):
        return window.boundary - self.every_s

    def _value(self, meter, curve, requests, replies):
        value = driver_for(meter).values(meter, [curve], requests, replies)[0]
        return dict(value, step_s=curve.step_s)

    def _flags(self, value):
        points = [v for v in value.get("values", []) if v is not None]
        return [V.BACKWARDS] if any(b < a for a, b in zip(points, points[1:])) else []

    def readings(self, agent, meter, window, result):
        value = self._value(meter, self.slot_curve(meter, self._start(window)), result.requests,
                            result.replies)
        return [self.reading(agent, meter, window, value, self._flags(value))]

    def after(self, agent, meter, readings):
        """Back-fill: older slots tried and missed (newest first), one read each."""
        if not readings or readings[0].quality != "ok":
            return
        start = readings[0].period
        done = 0
        k = 1
        first = self._parse(start)
        while done < self.policy.backfill_slots and k * self.every_s <= self.policy.backfill_h * 3600:
            slot = first - k * self.every_s
            k += 1
            period = iso(slot)
            if (slot + self.every_s + self.deadline_s > agent.wall
                    or agent.has_good(meter.addr, TASK, self.key_di, period)
                    or not agent.tried(meter.addr, TASK, period)):
                continue
            done += 1
            curve = self.slot_curve(meter, slot)
            requests = driver_for(meter).requests(meter, [curve])
            result = yield Transact(requests)
            if result.kind != OK:
                return
            try:
                value = self._value(meter, curve, requests, result.replies)
            except (I.Unanswered, ValueError, KeyError, TypeError, IndexError) as exc:
                log.info("meter %s: slot %s not back-filled: %s", meter.addr, period, exc)
                continue
            agent.count("minute_backfilled")
            flags = self._flags(value)
            agent.store_readings([Reading(meter.addr, TASK, self.key_di, period,
                                          dict(value, backfilled=True),
                                          "invalid" if flags else "ok", flags, agent.wall)])

    @staticmethod
    def _parse(period):
        return parse_local(period[:16])


def points(readings, step_s=None):
    """{instant (local seconds): kWh} of the good curve readings (``load_curve`` ones at
    ``step_s``, ``minute_curve`` ones at their own step); None points are left out."""
    out = {}
    for r in readings:
        if r.quality != "ok" or not isinstance(r.value, dict):
            continue
        step = r.value.get("step_s") or step_s
        if not step:
            continue
        t0 = parse_local(r.period[:16])
        for k, x in enumerate(r.value.get("values") or ()):
            if x is not None:
                out[t0 + k * step] = x
    return out
