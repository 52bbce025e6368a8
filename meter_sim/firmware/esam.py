"""The meter's ESAM with TEST keys (real SM1/SM4 keys live in real ESAMs only).

What it reproduces: identity authentication (070000FF: cipher 1 checked, random 2 and the ESAM
serial answered), a session that expires (default 5 minutes, the public firmware's default when
its validity file says 0), 070001FF validity and 070002FF end, MAC pass/fail on sealed controls,
top-ups and level-98 parameter writes, and MACs on the status answer. Layouts: protocols.dlt645.security; the TEST scheme:
protocols.dlt645.testkey.
"""
from protocols.dlt645 import testkey as TK
from protocols.dlt645.security import (DI_IDENTITY, DI_RECHARGE, DI_STATUS, DI_IDENTITY_END,
                                       DI_IDENTITY_VALIDITY)

TEST_KEY = TK.TEST_KEY
SESSION_S = 300.0
__all__ = ["TestEsam", "TEST_KEY", "SESSION_S", "DI_IDENTITY", "DI_RECHARGE", "DI_STATUS",
           "DI_IDENTITY_END", "DI_IDENTITY_VALIDITY"]


class TestEsam:
    """The meter's ESAM with a test key; ``session_s`` is the identity-authentication validity."""

    __test__ = False   # a test-key backend, not a pytest class

    def __init__(self, key=TEST_KEY, serial=b"\x00" * 8, session_s=SESSION_S, factor=None):
        self.key = bytes(key)
        self.serial = bytes(serial)
        self.session_s = session_s
        self.factor = factor            # the meter's dispersion factor (00 00 + address)
        self._r2 = None
        self._expires = 0.0
        self._counter = 0
        self.authentications = 0

    def authenticate(self, cipher1, random1, factor, t):
        """Check cipher 1; on success open a session and return random number 2 (4 bytes)."""
        self._r2 = None
        if self.factor is not None and bytes(factor) != self.factor:
            return None
        if bytes(cipher1) != TK.auth_cipher(self.key, random1, factor):
            return None
        self._counter += 1
        self.authentications += 1
        self._r2 = TK.random2(self.key, random1, factor, self._counter)
        self._expires = t + self.session_s
        return self._r2

    def end(self):
        self._r2 = None

    def set_validity(self, minutes, mac, t):
        """070001FF: a new session length; raises ValueError('identity'|'mac')."""
        r2 = self._live(t)
        if mac != TK.validity_mac(self.key, r2, self.serial, minutes):
            raise ValueError("mac")
        self.session_s = minutes * 60.0
        self._expires = t + self.session_s

    def session(self, t):
        """Random number 2 of a live session, else None."""
        if self._r2 is not None and t <= self._expires:
            return self._r2
        return None

    def _live(self, t):
        r2 = self.session(t)
        if r2 is None:
            raise ValueError("identity")
        return r2

    def open_control(self, cipher, t):
        """N1..N8 from a sealed control; raises ValueError('identity'|'mac')."""
        return TK.open_control(self.key, self._live(t), self.serial, cipher)

    def check_recharge(self, amount_cents, count, customer, mac1, mac2, t):
        """Raises ValueError('identity'|'mac') unless both MACs verify."""
        m1, m2 = TK.recharge_macs(self.key, self._live(t), self.serial, amount_cents, count,
                                  customer)
        if mac1 != m1 or mac2 != m2:
            raise ValueError("mac")

    def check_parameter(self, di_wire, data, mac, t):
        """Raises ValueError('identity'|'mac') unless a level-98 write's MAC verifies."""
        if bytes(mac) != TK.parameter_mac(self.key, self._live(t), self.serial, di_wire, data):
            raise ValueError("mac")

    def status_macs(self, remaining_cents, count, t):
        return TK.status_macs(self.key, self._live(t), self.serial, remaining_cents, count)
