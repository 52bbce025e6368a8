"""Prepaid jobs: the periodic read that feeds the balance (energy, voltage, current, relay
status in one coalesced exchange), and the command job that sends a relay command (645 0x1C
control, 698 ACTION 8000/8001) and verifies it by reading the relay status back (645 status
word 3; 698 8000/8001 attributes given as that word), re-sending on the firmware's 60/120/180 s
steps before escalating. Both protocols go through ``edge.drivers``: no branch here."""
from protocols.civil import iso
from protocols.dlt645 import const as K
from protocols.errors import DecodeError as ProtocolDecodeError

from edge.drivers import driver_for, items as I
from edge.drivers.dlt645 import CODES as CODES_645
from edge.effects import SleepUntil, Transact
from edge.exchange import OK
from edge.jobs import Task
from edge.prepaid import journal as J
from edge.prepaid.security import SecurityError
from edge.prepaid.policy import (ALARM, ALARM_RELEASE, ALLOW_CLOSE, DIRECT_CLOSE, KEEP_POWER,
                                 KEEP_POWER_RELEASE, TRIP)
from edge.scheduler import ON_DEMAND

DI_ENERGY = 0x0001FF00
CHECK = (I.RELAY_STATUS, I.CURRENT_A)     # the read-back after a command
PREPAID_PROTOCOLS = ("645-2007", "698.45")
READ_BACK_ERRORS = (ValueError, TypeError, KeyError, IndexError, ProtocolDecodeError)
VERIFY_AFTER_S = 5.0             # the contact moves within seconds when voltage and load allow
RETRY_STEPS_S = (60.0, 120.0, 180.0)
RENEWALS = 1            # fresh ESAM sessions for a control refused for its session, per attempt
LOAD_WAIT_S = 300.0              # re-check a trip the meter holds for its load this often
                                 # (twice inside the margin before a friendly window)
CODES = CODES_645                # action -> 645 control code (1A, 1B, 1C, 2A, 2B, 3A, 3B)


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
    """Energy block, voltage, current and relay status of a remote-prepaid meter."""

    name = "prepaid"
    lane = ON_DEMAND
    key_di = DI_ENERGY
    items = (I.ENERGY_NOW, I.VOLTAGE_A, I.CURRENT_A, I.RELAY_STATUS)

    def applies(self, meter, boundary):
        return meter.prepaid == "remote" and meter.protocol in PREPAID_PROTOCOLS

    def readings(self, agent, meter, window, result):
        kwh, volts, amps, word = self.values(meter, result)
        value = {"kwh": kwh, "voltage": volts, "current": amps, "status3": word, "at": agent.wall}
        return [self.reading(agent, meter, window, value)]

    def after(self, agent, meter, readings):
        agent.prepaid.on_reading(meter, readings[0])
        return ()


class SwitchFreeze(Task):
    """A remote-prepaid meter's last rate-price switch-over freeze (两套费率电价切换冻结, 645-2007
    0505 0001 / 0505 0101), read when a reading spans a price switch; period: the switch."""

    name = "switch_freeze"
    lane = ON_DEMAND
    key_di = 0x05050101
    items = (I.SWITCH_FREEZE,)

    def applies(self, meter, boundary):
        return meter.prepaid == "remote" and meter.protocol == "645-2007"

    def readings(self, agent, meter, window, result):
        freeze = self.values(meter, result)[0]
        stamp = freeze["time"]
        value = {"kwh": freeze["kwh"], "time": iso(stamp) if stamp is not None else None}
        return [self.reading(agent, meter, window, value)]

    def after(self, agent, meter, readings):
        agent.prepaid.read_now(meter, "switch freeze")
        return ()


def command_job(agent, meter, cmd, engine=None):
    """Generator: carry ``cmd`` to the meter and verify it; every step is journaled first.
    ``engine`` (default: the agent's cost control) builds the request and hears the answer."""
    engine = engine or agent.prepaid
    journal = engine.journal
    not_moved = refused = renewals = 0
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
            at = agent.now if session is None else engine.sessions.not_before(session, agent.now)
            result = yield Transact([engine.control_request(meter, cmd, session)], at)
            engine.sent(meter, cmd, result)
            if result.kind != OK:
                answered = result.replies[0] is not None
                note, renew = result.kind, False
                if session is not None and answered:
                    renew = engine.sessions.renewable(session, result.replies[0])
                    note = engine.sessions.on_reply(meter.addr, result.replies[0]) or note
                journal.move(cmd, "refused" if answered else "no_answer", agent.wall, note)
                if renew and renewals < RENEWALS:      # the session's end, not the command's
                    renewals += 1
                    engine.sessions.renew_next(meter.addr, session)
                    continue
                renewals = 0
                refused += answered
                if refused > len(RETRY_STEPS_S):      # a password or ESAM problem: say so
                    journal.move(cmd, "escalate", agent.wall, "refused by the meter")
                    engine.escalate(meter, cmd, None, "command_refused")
                    return
                yield SleepUntil(agent.now + RETRY_STEPS_S[0])
                continue
            journal.move(cmd, "ack", agent.wall)
        yield SleepUntil(agent.now + VERIFY_AFTER_S)
        drv = driver_for(meter)
        requests = drv.requests(meter, list(CHECK))
        result = yield Transact(requests, agent.now)
        word, amps = _check_values(drv, meter, requests, result.replies)
        if word is None:
            journal.move(cmd, "no_answer", agent.wall, "status read " + result.kind)
            journal.move(cmd, "verify", agent.wall)
            yield SleepUntil(agent.now + RETRY_STEPS_S[0])
            continue
        engine.observe(meter, word, agent.wall)
        if verified(cmd.action, word):
            journal.move(cmd, "verified", agent.wall, "status3 %04X" % word)
            engine.done(meter, cmd)
            return
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



def _check_values(drv, meter, requests, replies):
    """(relay status word, amperes) of the read-back; None for the word when it is missing,
    0.0 A when only the current is."""
    try:
        return tuple(drv.values(meter, list(CHECK), requests, replies))
    except READ_BACK_ERRORS:
        pass
    try:
        return drv.values(meter, list(CHECK[:1]), requests, replies)[0], 0.0
    except READ_BACK_ERRORS:
        return None, 0.0
