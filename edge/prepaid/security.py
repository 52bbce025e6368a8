"""Security backends for ESAM-secured meters (DL/T 645 level 98 controls, 0x03 top-ups).

The agent asks a ``SecurityBackend`` for what only a security module can make: cipher 1 for
identity authentication, a sealed control, top-up MACs, and the check of the meter's MACs on
its status answer. Three kinds:
- ``TestKeyBackend``: the TEST key scheme (protocols.dlt645.testkey) the simulator's meters
  pair with, so the secured path runs end to end in CI. A real meter refuses it.
- ``ForwardingBackend``: the master station's encryption machine makes the ciphertext and
  forwards ready frames (1376.1 AFN10 F1); the agent only sequences, journals and verifies, and
  refuses to make ciphertext itself.
- ``HardwareEsamBackend``: the seam for a terminal ESAM or an encryption machine on the board;
  no driver ships, so it refuses with a clear error rather than fake anything.
"""
import hashlib

from protocols.dlt645 import security as S, testkey as TK

KINDS = ("test-key", "forward", "hardware")


class SecurityError(Exception):
    """The backend cannot do what was asked (and says why)."""


class Session:
    """One identity authentication with one meter: random 2, the ESAM serial, and when the
    agent stops trusting it (``expires``, wall clock)."""

    __slots__ = ("addr", "random1", "random2", "serial", "opened", "expires", "uses", "queued",
                 "generation")

    def __init__(self, addr, random1, random2, serial, opened, expires):
        self.addr = addr
        self.random1 = random1
        self.random2 = random2
        self.serial = serial
        self.opened = opened
        self.expires = expires
        self.uses = 0
        self.queued = 0.0           # when its authentication was queued (agent time): its steps go first
        self.generation = 0         # which authentication with the meter this is (1, 2, ...)

    def valid(self, wall):
        return wall < self.expires


class SecurityBackend:
    """What a security module does for the agent; every method may raise SecurityError."""

    kind = "none"
    makes_ciphertext = True

    def factor(self, addr):
        """The dispersion factor of a meter (00 00 + its address, wire order)."""
        return b"\x00\x00" + bytes.fromhex(addr)[::-1]

    def random1(self, addr):
        raise SecurityError("%s backend: no random number source" % self.kind)

    def identity(self, addr, random1, operator):
        """The 070000FF request (IdentityAuth) for ``random1``."""
        raise SecurityError("%s backend cannot authenticate" % self.kind)

    def seal_control(self, session, body):
        """20 bytes: the level-98 N1..N8 of ``body`` for ``session``."""
        raise SecurityError("%s backend cannot seal a control" % self.kind)

    def recharge_macs(self, session, amount_cents, count, customer):
        raise SecurityError("%s backend cannot make top-up MACs" % self.kind)

    def verify_status(self, session, status):
        """Whether the meter's MACs on a 078102FF answer are its ESAM's."""
        raise SecurityError("%s backend cannot verify a meter's MAC" % self.kind)

    def parameter_mac(self, session, di_wire, data):
        """4 bytes: the MAC of a level-98 parameter write (price tables, switch times)."""
        raise SecurityError("%s backend cannot make a parameter MAC" % self.kind)


class TestKeyBackend(SecurityBackend):
    """TEST ONLY: pairs with meter_sim's TestEsam; deterministic random numbers from ``seed``."""

    __test__ = False
    kind = "test-key"

    def __init__(self, key=TK.TEST_KEY, seed="gridedge"):
        self.key = bytes(key)
        self.seed = str(seed)
        self._n = 0

    def random1(self, addr):
        self._n += 1
        return hashlib.sha256(("%s/%s/%d" % (self.seed, addr, self._n)).encode()).digest()[:8]

    def identity(self, addr, random1, operator):
        factor = self.factor(addr)
        return S.IdentityAuth(operator, TK.auth_cipher(self.key, random1, factor), random1, factor)

    def seal_control(self, session, body):
        return TK.seal_control(self.key, session.random2, session.serial, body)

    def recharge_macs(self, session, amount_cents, count, customer):
        return TK.recharge_macs(self.key, session.random2, session.serial, amount_cents, count,
                                customer)

    def parameter_mac(self, session, di_wire, data):
        return TK.parameter_mac(self.key, session.random2, session.serial, di_wire, data)

    def verify_status(self, session, status):
        macs = TK.status_macs(self.key, session.random2, session.serial, status.remaining_cents,
                              status.count)
        return macs == (status.mac_remaining, status.mac_count)


class ForwardingBackend(SecurityBackend):
    """The master station's encryption machine seals; the agent carries its frames (AFN10 F1)
    through the journal and reads the result back. Anything the agent would have to seal
    itself (its own policy trips, top-ups) is refused: the master must send it."""

    kind = "forward"
    makes_ciphertext = False

    def _refuse(self, what):
        raise SecurityError("forward backend: %s comes sealed from the master station "
                            "(AFN10 F1), the agent makes no ciphertext" % what)

    def random1(self, addr):
        self._refuse("identity authentication")

    def identity(self, addr, random1, operator):
        self._refuse("identity authentication")

    def seal_control(self, session, body):
        self._refuse("a secured control")

    def recharge_macs(self, session, amount_cents, count, customer):
        self._refuse("a top-up")

    def parameter_mac(self, session, di_wire, data):
        self._refuse("a parameter write")


class HardwareEsamBackend(SecurityBackend):
    """The seam for a terminal ESAM or encryption machine: implement ``random1``, ``identity``,
    ``seal_control``, ``recharge_macs`` and ``verify_status`` over its driver. None ships."""

    kind = "hardware"

    def __init__(self, device=None):
        self.device = device

    def _refuse(self):
        raise SecurityError("no hardware ESAM driver is installed%s: secured meters cannot be "
                            "controlled (set [prepaid] security = \"forward\" to carry the master "
                            "station's ciphertext)" % (" for %s" % self.device if self.device
                                                       else ""))

    def random1(self, addr):
        self._refuse()

    identity = seal_control = recharge_macs = verify_status = parameter_mac = \
        lambda self, *args: HardwareEsamBackend._refuse(self)


def backend_for(kind, seed="gridedge"):
    """The backend a ``[prepaid] security`` setting names."""
    if kind == "test-key":
        return TestKeyBackend(seed=seed)
    if kind == "forward":
        return ForwardingBackend()
    if kind == "hardware":
        return HardwareEsamBackend()
    raise ValueError("security must be one of %s, got %r" % (", ".join(KINDS), kind))
