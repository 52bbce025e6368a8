"""A three-phase meter's own wiring-fault events (645-2007 families 10/13 per phase, 14, 16, 17, 1B
per phase): their counts read with the event scan, each new record's start (and end where the
family keeps one) read when a count moved, raised as the standard ERC where the real-time reads
did not see the fault (one shorter than a real-time period, or real-time reads off).

The counts are a ``phase_events`` reading ({DI text: count}); an alarm from a record is an
``audit_event`` reading keyed ``event:FAMILY:PHASE:COUNT`` (idempotent), with the record's start
as its time and no phase values (EE).
"""
import logging

from protocols.civil import iso, parse_local
from protocols.dlt645 import apdu, di as DI

from edge.drivers import dlt645 as D645, items as I
from edge.effects import Transact
from edge.jobs import Task
from edge.pq_phases import ERC_TASK, PHASES, REALTIME, alarm
from edge.scheduler import EVENT
from edge.store import Reading

TASK = "phase_events"
# family -> (ERC, kind, per phase)
FAMILIES = {0x10: (10, "loss", True), 0x13: (10, "break", True), 0x1B: (9, "reversed", True),
            0x14: (11, "reverse_sequence", False), 0x16: (17, "voltage", False),
            0x17: (17, "current", False)}
log = logging.getLogger(__name__)


def count_dis():
    """The count DIs read: per phase for 10, 13 and 1B, once for 14, 16 and 17."""
    out = []
    for fam, (_, _, per_phase) in sorted(FAMILIES.items()):
        for ph in (1, 2, 3) if per_phase else (0,):
            out.append((fam << 24) | (ph << 16) | 0x0001)
    return out


class PhaseEvents(Task):
    """The wiring-fault event counts of a three-phase 645-2007 meter, and new records' times."""

    name = TASK
    lane = EVENT
    key_di = 0x13010001

    def applies(self, meter, boundary):
        return meter.protocol == "645-2007" and meter.extra.get("phases") == 3

    def requests(self, meter, window):
        return [apdu.Read(d) for d in count_dis()]

    def readings(self, agent, meter, window, result):
        counts = {}
        for q, r in zip(result.requests, result.replies):
            try:
                counts[DI.text(q.di)] = int(D645.reply_value(q, r))
            except (I.Unanswered, ValueError, TypeError):
                continue
        return [Reading(meter.addr, self.name, self.key_di, window.period, counts, "ok", (),
                        agent.wall)]

    def after(self, agent, meter, readings):
        """Read the newest record of each family whose count moved; raise what is not raised."""
        counts = readings[0].value
        last = agent.latest(meter.addr, self.name, before=readings[0].period)
        known = last.value if last is not None and last.quality == "ok" else None
        if not isinstance(known, dict):
            return
        moved = [d for d, n in sorted(counts.items()) if n > known.get(d, n)]
        for text in moved:
            di = DI.parse(text)
            fam, ph = di >> 24, (di >> 16) & 0xFF
            end = DI.PHASE_EVENTS[fam][2]
            reqs = [apdu.Read((di & 0xFFFF0000) | 0x0101)]
            if end is not None:
                reqs.append(apdu.Read((di & 0xFFFF0000) | (end << 8) | 0x01))
            result = yield Transact(reqs)
            times = []
            for q, r in zip(reqs, result.replies):
                try:
                    times.append(parse_local(D645.reply_value(q, r)))
                except (I.Unanswered, ValueError, TypeError):
                    times.append(None)
            if times and times[0] is not None:
                agent.store_readings(raise_from_record(
                    agent, meter.addr, fam, ph, counts[text], times[0],
                    times[1] if len(times) > 1 else None))


def raise_from_record(agent, addr, fam, ph, count, start, end):
    """The ERC readings of one meter event record, unless a real-time alarm covers it."""
    erc, kind, per_phase = FAMILIES[fam]
    phase = PHASES[ph - 1] if per_phase else None
    span = agent.realtime_s
    for r in agent.readings(addr, ERC_TASK):
        if r.di == erc and r.value.get("phase") == phase and r.value.get("began") and \
                start - span <= r.value["at"] <= (end if end is not None else start) + span:
            return []                       # the real-time reads raised it already
    rec = Reading(addr, REALTIME, 0, iso(start), {"kwh": [None], "phases": {}}, "ok", (), start)
    out = []
    for began, at in ((True, start), (False, end)):
        if at is None:
            continue
        one = alarm(Reading(addr, REALTIME, 0, iso(at), rec.value, "ok", (), at),
                    (erc, phase), kind, began, {}, agent.wall)
        one.period = "event:%02X:%s:%d:%s" % (fam, phase or "-", count,
                                               "began" if began else "ended")
        one.value["source"] = "event"
        out.append(one)
    log.info("meter %s: ERC%d %s %s from its event record #%d", addr, erc, phase or "", kind,
             count)
    return out
