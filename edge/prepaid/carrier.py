"""Carrying relay commands (DL/T 645 0x1C, DL/T 698.45 ACTION 8000/8001) to meters: the journal, the command jobs, what the
meter said. ``Prepaid`` (cost control) builds on it; on its own it carries the controls a master
forwards (AFN10 F1) to meters the agent does not cost-control - journaled, acted on once, sent
as the master framed them, read back - so that no relay moves outside the journal.
"""
import hashlib

from protocols.dlt645 import apdu, const as K
from protocols.dlt645.frame import decode_frame, encode_frame
from protocols.dlt645.security import SEALED_CONTROL_LEN
from protocols.dlt698.frame import encode_frame as encode_698
from protocols.dlt698.link import reply_frame

from edge.drivers import driver_for
from edge.prepaid.jobs import CODES, command_job
from edge.prepaid.journal import SEALED, Command, Journal
from edge.prepaid.security import backend_for
from edge.prepaid.sessions import Sessions
from edge.scheduler import PREPAID
from edge.store import Reading

ACTIONS_BY_CODE = {code: action for action, code in CODES.items()}
FORWARD_SOURCE = "master-forward"
FORWARD_EXPIRY_S = 24 * 3600.0     # at most, for a forwarded control whose valid-until is sealed
REPLIES_KEPT = 256                 # meter answers remembered for repeated forwards


class Belief:
    """What the last status word 3 said of one meter's relay (and who opened it)."""

    __slots__ = ("open", "cmd_open", "alarm", "keep", "for_credit", "voltage_low", "high_since",
                 "seen")

    def __init__(self):
        self.open = self.cmd_open = self.alarm = self.keep = False
        self.for_credit = self.voltage_low = False
        self.high_since = None
        self.seen = False


class CarrierSettings:
    """What the command job needs when there is no ``[prepaid]``: the large-current limit
    above which a meter may hold a trip (A), and the security backend of secured meters."""

    large_current_a = 30.0
    security = "hardware"
    esam_session_min = 5.0


class Carrier:
    """Relay commands for ``agent``'s meters through one journal in its store."""

    operator = b"\x01\x00\x00\x00"

    def __init__(self, agent, settings=None):
        self.agent = agent
        self.settings = settings or CarrierSettings()
        self.journal = Journal(agent.store)
        self.beliefs = {}
        self.replies = {}               # command id -> the meter's answer to its last send
        self.security = backend_for(self.settings.security)
        self.sessions = Sessions(self.security, self.settings.esam_session_min * 60.0,
                                 agent.count)
        self._waiting = {}              # command id -> callbacks for the next answer

    def resume_commands(self):
        """Carry on with the commands a restart interrupted (their state is in the journal)."""
        for c in self.journal.open_commands():
            m = self.agent.archive.meters.get(c.meter)
            if m is not None:
                self.spawn(m, c)

    def spawn(self, meter, cmd):
        self.agent.spawn(command_job(self.agent, meter, cmd, self), meter, PREPAID, meter.port)

    def belief(self, addr):
        b = self.beliefs.get(addr)
        if b is None:
            b = self.beliefs[addr] = Belief()
        return b

    def level(self, meter):
        return int(meter.extra.get("control_level", 2))

    def password(self, meter):
        return bytes.fromhex(str(meter.extra.get("password", "000000")))[::-1]

    def secured(self, meter, cmd=None):
        """Whether ``meter`` takes only sealed controls (archived control_level 98) and ``cmd``
        is one the agent seals itself (a master's forwarded frame goes as it came)."""
        return (self.level(meter) == K.LEVEL_CIPHER and meter.protocol == "645-2007"
                and (cmd is None or cmd.frame is None))

    # --- the command job's calls --------------------------------------------------------------
    def control_request(self, meter, cmd, session=None):
        """The 0x1C request ``cmd`` goes out as: the master's own frame when it forwarded one,
        else ours with the meter's password and the command's expiry (sealed under ``session``
        for a secured meter)."""
        if cmd.frame is not None:
            return apdu.parse_request(decode_frame(bytes.fromhex(cmd.frame)))
        plain = driver_for(meter).command(meter, cmd.action, cmd.expires, self.agent.wall,
                                          level=self.level(meter), password=self.password(meter),
                                          operator=self.operator)
        if session is None:
            return plain
        return apdu.Control(None, None, K.LEVEL_CIPHER, plain.password, self.operator,
                            cipher=self.security.seal_control(session, plain.body()))

    def sent(self, meter, cmd, result):
        """The meter answered a send of ``cmd`` (or did not): tell whoever forwarded it."""
        reply = result.replies[0] if result.replies else None
        if reply is None:
            content = b""
        elif getattr(reply, "protocol", None) == 698:
            content = encode_698(reply_frame(reply.apdu, meter.wire_addr))
        else:
            content = encode_frame(reply.to_frame(meter.wire_addr))
        self.replies[cmd.id] = content
        while len(self.replies) > REPLIES_KEPT:
            del self.replies[next(iter(self.replies))]
        for callback in self._waiting.pop(cmd.id, ()):
            callback(content)

    def observe(self, meter, word, at):
        b = self.belief(meter.addr)
        b.open, b.cmd_open = bool(word & K.ST3_RELAY_OPEN), bool(word & K.ST3_CMD_OPEN)
        b.alarm, b.keep, b.seen = bool(word & K.ST3_ALARM), bool(word & K.ST3_KEEP_POWER), True

    def still_wanted(self, meter, cmd):
        return True

    def friendly_soon(self):
        return False

    def withdraw(self, meter, cmd):
        """Only cost control withdraws a held trip before a friendly window."""

    def done(self, meter, cmd):
        self.agent.count("prepaid_%s_done" % cmd.action)

    def escalate(self, meter, cmd, word, event="relay_not_moved"):
        """The relay still did not move (or the meter refuses the command): an event reading a
        head-end can alarm on."""
        self.agent.count("prepaid_escalated")
        self._event(meter, event, cmd.id, {"action": cmd.action, "status3": word})

    def _event(self, meter, event, period, detail):
        """A ``prepaid_event`` reading: what a head-end alarms on."""
        self.agent.store_readings([Reading(meter.addr, "prepaid_event", 0, period,
                                           dict(detail, event=event), "ok", (), self.agent.wall)])

    # --- commands -----------------------------------------------------------------------------
    def submit(self, meter, action, reason, source, command_id, expires, frame=None):
        """Journal a command and start its job when it is new and open: (Command, new)."""
        cmd = Command(command_id, meter.addr, action, reason, source, self.agent.wall, expires,
                      frame=frame)
        cmd, new = self.journal.submit(cmd, self.agent.wall)
        if new and cmd.open:
            self.spawn(meter, cmd)
        return cmd, new

    def forward(self, meter, control, content, expires, on_answer):
        """A 0x1C ``control`` (its 645 frame ``content``) a master forwarded for ``meter``: into
        the journal under an id of the frame itself, so the same frame acts once. ``on_answer``
        gets the meter's answer bytes (now for a repeat already answered, else after the next
        send); returns (Command, new)."""
        action = forwarded_action(control, not self.security.makes_ciphertext)
        cmd, new = self.submit(meter, action, "forwarded by the master", FORWARD_SOURCE,
                               forward_id(meter.addr, content), expires, content.hex())
        self.answer_when_sent(cmd, new, on_answer)
        return cmd, new

    def answer_when_sent(self, cmd, new, on_answer):
        if not new and cmd.id in self.replies:
            on_answer(self.replies[cmd.id])
        elif cmd.open:
            self._waiting.setdefault(cmd.id, []).append(on_answer)
            while len(self._waiting) > REPLIES_KEPT:
                del self._waiting[next(iter(self._waiting))]
        else:
            on_answer(None)             # ended without an answer to give (expired, superseded)


def forwarded_action(control, sealed_ok=False):
    """The journal action of a forwarded 0x1C. A sealed one (ESAM, level 0x98) hides its N1:
    it is carried as ``sealed`` when the master station does the sealing (the forward
    backend), else refused, as an unknown N1 is."""
    if control.command is None and sealed_ok:
        if control.cipher is None or len(control.cipher) != SEALED_CONTROL_LEN:
            raise ValueError("a sealed control needs %d bytes of ciphertext and MAC"
                             % SEALED_CONTROL_LEN)
        return SEALED
    action = ACTIONS_BY_CODE.get(control.command)
    if action is None:
        raise ValueError("control N1 %s is not carried" % (
            "sealed under ESAM" if control.command is None else "%02X" % control.command))
    return action


def forward_id(addr, content):
    """The journal id of a forwarded control frame: the meter and a digest of the frame."""
    return "fwd-%s-%s" % (addr, hashlib.sha256(bytes(content)).hexdigest()[:20])


def forward_expiry(control, wall):
    """When a forwarded control stops being sent: its own valid-until (sealed under ESAM: a
    day at most)."""
    limit = wall + FORWARD_EXPIRY_S
    if control.valid_until is None:
        return limit
    return min(control.valid_until, limit)


__all__ = ["Belief", "Carrier", "CarrierSettings", "FORWARD_SOURCE", "forward_expiry",
           "forward_id", "forwarded_action"]
