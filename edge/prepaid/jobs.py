"""Prepaid jobs: the periodic read that feeds the balance (energy, voltage, current, status word
3 in one coalesced exchange), and the command job that sends a 0x1C control and verifies it by
reading status word 3 back, re-sending on the firmware's 60/120/180 s steps before escalating."""
from protocols.dlt645 import apdu, const as K, di as DI

from edge.effects import SleepUntil, Transact
from edge.exchange import OK
from edge.jobs import Task, _value
from edge.prepaid import journal as J
from edge.prepaid.security import SecurityError
from edge.prepaid.policy import (ALARM, ALARM_RELEASE, ALLOW_CLOSE, DIRECT_CLOSE, KEEP_POWER,
                                 KEEP_POWER_RELEASE, TRIP)
from edge.scheduler import ON_DEMAND

DI_ENERGY = 0x0001FF00
DI_VOLTAGE_A = 0x02010100
DI_CURRENT_A = 0x02020100
VERIFY_AFTER_S = 5.0             # the contact moves within seconds when voltage and load allow
RETRY_STEPS_S = (60.0, 120.0, 180.0)
LOAD_WAIT_S = 300.0              # re-check a trip the meter holds for its load this often
                                 # (twice inside the margin before a friendly window)
CODES = {TRIP: K.CTRL_TRIP, ALLOW_CLOSE: K.CTRL_ALLOW_CLOSE, DIRECT_CLOSE: K.CTRL_DIRECT_CLOSE,
         ALARM: K.CTRL_ALARM, ALARM_RELEASE: K.CTRL_ALARM_RELEASE, KEEP_POWER: K.CTRL_KEEP_POWER,
         KEEP_POWER_RELEASE: K.CTRL_KEEP_POWER_RELEASE}


def verified(action, word):
    """Whether status word 3 shows ``action`` carried out (PROTOCOLS.md: bits 4, 6, 7, 12). A
    sealed control hides its action: the meter's acceptance (its ESAM opened it) is the proof,
    and the word is journaled beside it."""
    if action == J.SEALED:
        return True
    return {TRIP: bool(word & K.ST3_RELAY_OPEN), DIRECT_CLOSE: not word & K.ST3_RELAY_OPEN,
            ALLOW_CLOSE: not word & K.ST3_CMD_OPEN, ALARM: bool(word & K.ST3_ALARM),
            ALARM_RELEASE: not word & K.ST3_ALARM, KEEP_POWER: bool(word & K.ST3_KEEP_POWER),
            KEEP_POWER_RELEASE: not word & K.ST3_KEEP_POWER}[action]


class PrepaidRead(Task):
    """Energy block, voltage, current and status word 3 of a remote-prepaid meter."""

    name = "prepaid"
    lane = ON_DEMAND
    key_di = DI_ENERGY

    def applies(self, meter, boundary):
        return meter.prepaid == "remote" and meter.protocol == "645-2007"

    def requests(self, meter, window):
        return [apdu.Read(d) for d in (DI_ENERGY, DI_VOLTAGE_A, DI_CURRENT_A, DI.DI_STATUS_3)]

    def readings(self, agent, meter, window, result):
        kwh, volts, amps, word = [_value(q, r) for q, r in zip(result.requests, result.replies)]
        value = {"kwh": kwh, "voltage": volts, "current": amps, "status3": word, "at": agent.wall}
        return [self.reading(agent, meter, window, value)]

    def after(self, agent, meter, readings):
        agent.prepaid.on_reading(meter, readings[0])
        return ()


def command_job(agent, meter, cmd, engine=None):
    """Generator: carry ``cmd`` to the meter and verify it; every step is journaled first.
    ``engine`` (default: the agent's cost control) builds the request and hears the answer."""
    engine = engine or agent.prepaid
    journal = engine.journal
    not_moved = refused = 0
    while cmd.open:
        if agent.wall >= cmd.expires:
            journal.move(cmd, "expire", agent.wall)
            return
        if cmd.state in (J.QUEUED, J.RETRY):
            if not engine.still_wanted(meter, cmd):
                journal.move(cmd, "supersede", agent.wall, "no longer wanted")
                return
            session = None
            if engine.secured(meter, cmd):
                try:
                    session, why, answered = yield from engine.sessions.ensure(agent, meter,
                                                                              engine.operator)
                except SecurityError as exc:       # this backend cannot seal: say so at once
                    journal.move(cmd, "send", agent.wall, "not sent")
                    journal.move(cmd, "refused", agent.wall, str(exc))
                    journal.move(cmd, "escalate", agent.wall, "no security backend")
                    engine.escalate(meter, cmd, None, "security_unavailable")
                    return
                if session is None:
                    journal.move(cmd, "send", agent.wall, "not sent")
                    journal.move(cmd, "refused" if answered else "no_answer", agent.wall, why)
                    refused += answered
                    if refused > len(RETRY_STEPS_S):
                        journal.move(cmd, "escalate", agent.wall, "identity authentication")
                        engine.escalate(meter, cmd, None, "command_refused")
                        return
                    yield SleepUntil(agent.now + RETRY_STEPS_S[0])
                    continue
            journal.move(cmd, "send", agent.wall, "sealed" if session is not None else "")
            result = yield Transact([engine.control_request(meter, cmd, session)], agent.now)
            engine.sent(meter, cmd, result)
            if result.kind != OK:
                answered = result.replies[0] is not None
                note = result.kind
                if session is not None and answered:
                    note = engine.sessions.on_reply(meter.addr, result.replies[0]) or note
                journal.move(cmd, "refused" if answered else "no_answer", agent.wall, note)
                refused += answered
                if refused > len(RETRY_STEPS_S):      # a password or ESAM problem: say so
                    journal.move(cmd, "escalate", agent.wall, "refused by the meter")
                    engine.escalate(meter, cmd, None, "command_refused")
                    return
                yield SleepUntil(agent.now + RETRY_STEPS_S[0])
                continue
            journal.move(cmd, "ack", agent.wall)
        yield SleepUntil(agent.now + VERIFY_AFTER_S)
        status, current = apdu.Read(DI.DI_STATUS_3), apdu.Read(DI_CURRENT_A)
        result = yield Transact([status, current], agent.now)
        if not isinstance(result.replies[0], apdu.ReadReply):
            journal.move(cmd, "no_answer", agent.wall, "status read " + result.kind)
            journal.move(cmd, "verify", agent.wall)
            yield SleepUntil(agent.now + RETRY_STEPS_S[0])
            continue
        word = _value(status, result.replies[0])
        engine.observe(meter, word, agent.wall)
        if verified(cmd.action, word):
            journal.move(cmd, "verified", agent.wall, "status3 %04X" % word)
            engine.done(meter, cmd)
            return
        amps = (_value(current, result.replies[1])
                if isinstance(result.replies[1], apdu.ReadReply) else 0.0)
        if cmd.action == TRIP and word & K.ST3_CMD_OPEN and amps > engine.settings.large_current_a:
            # the meter holds the trip while the load is high (large-current deferral): wait,
            # but never let it fall into a friendly window - withdraw it before one opens
            journal.move(cmd, "not_moved", agent.wall, "deferred by the meter at %.1f A" % amps)
            if engine.friendly_soon():
                engine.withdraw(meter, cmd)
                return
            journal.move(cmd, "verify", agent.wall)
            yield SleepUntil(agent.now + LOAD_WAIT_S)
            continue
        journal.move(cmd, "not_moved", agent.wall, "status3 %04X" % word)
        if not_moved >= len(RETRY_STEPS_S):
            journal.move(cmd, "escalate", agent.wall)
            engine.escalate(meter, cmd, word)
            return
        yield SleepUntil(agent.now + RETRY_STEPS_S[not_moved])
        not_moved += 1

