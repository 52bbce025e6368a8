"""Relay and cost control (费控): remote commands, local credit levels, keep-power, guards.

Rules of this file (CHANNEL.md "real prepaid meter firmware"; PROTOCOLS.md 0x1C):
- ``closed`` is the contact (status word 3 bit4 = not closed); ``cmd_open`` is the last command
  (bit6); ``alarm`` is bit7. A stuck relay follows commands in bit6 but not in bit4, and is
  recorded as a load-switch malfunction.
- Keep-power (保电) absorbs every trip, remote or local; releasing it on a local meter that is
  overdrawn trips again by itself, a remote meter waits for the head end.
- After allow-close (1B) the contact closes only on the customer's button; direct close (1C)
  closes at once. A credit pre-trip (alarm 2 / zero) closes on the button or after
  ``pretrip_restore_s``; an overdraft trip closes only after a top-up above close-allowed.
- No contact moves while the supply is below ``voltage_guard`` x nominal; a trip waits while the
  current is above ``large_current_a``, at most ``large_current_max_s``.
"""
from protocols.dlt645 import di as DI

SCAN_STEP_S = 60.0


class Relay:
    """Relay state of one meter; ``meter`` supplies ledger, events, clock, voltage and current."""

    def __init__(self, meter, keep_power_closes=True, voltage_guard=0.70, large_current_a=30.0,
                 large_current_max_s=1440 * 60.0, pretrip_restore_s=300.0):
        self.m = meter
        self.keep_power_closes = keep_power_closes  # Q/GDW 1354 reading, UNVERIFIED
        self.voltage_guard = voltage_guard
        self.large_current_a = large_current_a
        self.large_current_max_s = large_current_max_s
        self.pretrip_restore_s = pretrip_restore_s
        self.closed = True
        self.cmd_open = False
        self.alarm = False
        self.keep_power = False
        self.button_allowed = False
        self.stuck = False
        self.credit_open = False      # opened by local credit (not by a remote command)
        self.pretrip_until = None
        self.pending = None           # [action, since, deadline, operator, scanned_upto]
        self.restore = None           # (seconds, direct) a 698 trip closes again after
        self.restore_at = None        # true time of that automatic close
        self._fault = None
        self.on_move = None           # a simulator's ground-truth hook: on_move(t, closed)

    # --- commands ------------------------------------------------------------------------------
    def trip(self, t, operator, credit=False, delay_s=0.0, restore_s=None, restore_direct=True):
        """Trip (1A) or a local credit trip; absorbed under keep-power. A 698 trip may wait
        ``delay_s`` (告警延时) and close again after ``restore_s`` (限电时间): directly, or by
        allowing the customer's button when ``restore_direct`` is false."""
        if self.keep_power:
            return False
        self.cmd_open = True
        self.button_allowed = False
        self.credit_open = credit
        at = t + delay_s
        self.pending = ["open", at, at + self.large_current_max_s, operator, at]
        self.restore = (restore_s, restore_direct) if restore_s else None
        self.restore_at = None
        self.service(t)
        return True

    def allow_close(self, t, operator):
        """Allow-close (1B): the customer closes with the button."""
        self.cmd_open = False
        self.credit_open = False
        self.pending = None
        self.restore = self.restore_at = None
        if not self.closed:
            self.button_allowed = True

    def direct_close(self, t, operator):
        """Direct close (1C, 2013 amendment)."""
        self.cmd_open = False
        self.credit_open = False
        self.button_allowed = False
        self.restore = self.restore_at = None
        self.pending = ["close", t, t, operator, t]
        self.service(t)

    def set_keep_power(self, t, on, operator):
        self.keep_power = on
        if on:
            self.pretrip_until = None
            if self.keep_power_closes and (not self.closed or self.pending):
                self.direct_close(t, operator)

    def press_button(self, t):
        """The customer's button: closes after allow-close or a pre-trip."""
        if self.button_allowed or (self.credit_open and self.pretrip_until is not None):
            self.button_allowed = False
            self.credit_open = False
            self.pretrip_until = None
            self.cmd_open = False
            self.pending = ["close", t, t, b"\x00" * 4, t]
            self.service(t)
            return True
        return False

    def pretrip(self, t):
        """Local credit pre-trip: open now, restore after ``pretrip_restore_s`` or the button."""
        if self.trip(t, b"\x00" * 4, credit=True):
            self.pretrip_until = t + self.pretrip_restore_s

    # --- time ------------------------------------------------------------------------------------
    def next_event(self):
        """The next true time at which this relay may act by itself (or None)."""
        times = []
        if self.pretrip_until is not None:
            times.append(self.pretrip_until)
        if self.pending is not None:
            times.append(self.pending[4])
        if self.restore_at is not None:
            times.append(self.restore_at)
        return min(times) if times else None

    def service(self, t):
        """Carry out due actions up to ``t`` (restore of a pre-trip, deferred moves)."""
        if self.pretrip_until is not None and self.pretrip_until <= t and self.pending is None:
            at = self.pretrip_until
            self.pretrip_until = None
            self.credit_open = False
            self.cmd_open = False
            self.pending = ["close", at, at, b"\x00" * 4, at]
        if self.restore_at is not None and self.restore_at <= t and self.pending is None:
            self._restore()
        if self.pending is None:
            return
        action, since, deadline, operator, upto = self.pending
        if not self.m.voltage_ok():
            self.pending[4] = max(t, upto)  # wait for the supply; re-checked on the next call
            return
        at = upto
        if action == "open":
            while at <= t and at < deadline and self.m.current_at(at) > self.large_current_a:
                at += SCAN_STEP_S
            if at > t:
                self.pending[4] = at
                return
        self.pending = None
        self._move(max(at, since), action == "close", operator)

    def _restore(self):
        at, direct = self.restore_at, self.restore[1]
        self.restore = self.restore_at = None
        self.cmd_open = False
        if direct:
            self.pending = ["close", at, at, b"\x00" * 4, at]
        else:
            self.button_allowed = True

    def _move(self, t, close, operator):
        if self.stuck:
            if self._fault is None:
                self._fault = self.m.events.add(DI.EV_RELAY_FAULT, [self.m.clock.read(t), None])
            return
        if self._fault is not None:
            self._fault[1] = self.m.clock.read(t)
            self._fault = None
        if close == self.closed:
            return
        if not close and self.restore is not None:
            self.restore_at = t + self.restore[0]
        self.closed = close
        if self.on_move is not None:
            self.on_move(t, close)
        self.m.supply_changed(t)
        energy = self.m.ledger.total(t)
        family = DI.EV_CLOSE if close else DI.EV_TRIP
        self.m.events.add(family, [self.m.clock.read(t), bytes(operator), energy, 0.0])

    # --- status ----------------------------------------------------------------------------------
    def status_bits(self):
        """Status word 3 bits 4, 6, 7 and 12 (keep-power, 2013 amendment, UNVERIFIED)."""
        word = 0
        if not self.closed:
            word |= 1 << 4
        if self.cmd_open:
            word |= 1 << 6
        if self.alarm or self.pretrip_until is not None or self.credit_open:
            word |= 1 << 7
        if self.keep_power:
            word |= 1 << 12
        return word
