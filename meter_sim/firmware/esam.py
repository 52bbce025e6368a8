"""A pluggable ESAM backend with test keys (real SM1/SM4 keys live in real ESAMs only).

What it reproduces: the identity-authentication handshake (random number + ciphertext), a session
that expires, MAC pass/fail on ciphertext control and recharge, and the SERR bits a meter answers.
The byte layouts of the 0x03 commands below are ours (PROTOCOLS.md: the identity DI 070000FF is
UNVERIFIED), kept in one place so a real layout can replace them.
"""

TEST_KEY = b"gridedge-test-key"
DI_IDENTITY = 0x070000FF     # identity authentication (UNVERIFIED)
DI_RECHARGE = 0x070102FF     # recharge / purchase (UNVERIFIED)
CIPHER_LEN = 16              # 8 encrypted N1..N8 + 4 MAC + 4 reserved


def mix(key, data):
    """4-byte FNV-1a digest of key + data: a test MAC, not cryptography."""
    h = 0x811C9DC5
    for b in key + data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return bytes([h & 0xFF, (h >> 8) & 0xFF, (h >> 16) & 0xFF, (h >> 24) & 0xFF])


def _keystream(key, session, n):
    out = b""
    k = 0
    while len(out) < n:
        out += mix(key, session + bytes([k]))
        k += 1
    return out[:n]


def _xor(a, b):
    return bytes([x ^ y for x, y in zip(a, b)])


# --- master side (what a head end or the agent does with the same test key) -----------------

def auth_cipher(key, random1, factor):
    """Ciphertext 1 for identity authentication of random number 1."""
    return mix(key, b"A" + factor + random1) + mix(key, b"B" + random1 + factor)


def seal_control(key, random2, body):
    """Encrypt N1..N8 for a 0x98 control under the session of ``random2``."""
    return _xor(body, _keystream(key, random2, 8)) + mix(key, random2 + body) + b"\x00" * 4


def recharge_macs(key, random2, amount_cents, count, customer):
    a = amount_cents.to_bytes(4, "little") + count.to_bytes(4, "little")
    return mix(key, random2 + a), mix(key, random2 + bytes(customer))


# --- meter side ---------------------------------------------------------------------------------

class TestEsam:
    __test__ = False   # a test-key backend, not a pytest class
    """The meter's ESAM with a test key; ``session_s`` is the identity-authentication validity."""

    def __init__(self, key=TEST_KEY, serial=b"\x00" * 8, session_s=1800.0):
        self.key = bytes(key)
        self.serial = bytes(serial)
        self.session_s = session_s
        self._random2 = None
        self._expires = 0.0
        self._counter = 0

    def authenticate(self, cipher1, random1, factor, t):
        """Check ciphertext 1; on success open a session and return random number 2 (4 bytes)."""
        self._random2 = None
        if cipher1 != auth_cipher(self.key, random1, factor):
            return None
        self._counter += 1
        self._random2 = mix(self.key, b"R" + random1 + self._counter.to_bytes(4, "little"))
        self._expires = t + self.session_s
        return self._random2

    def session(self, t):
        """Random number 2 of a live session, else None."""
        if self._random2 is not None and t <= self._expires:
            return self._random2
        return None

    def open_control(self, cipher, t):
        """N1..N8 from a sealed control; raises ValueError('identity'|'mac')."""
        r2 = self.session(t)
        if r2 is None:
            raise ValueError("identity")
        if len(cipher) != CIPHER_LEN:
            raise ValueError("mac")
        body = _xor(cipher[:8], _keystream(self.key, r2, 8))
        if cipher[8:12] != mix(self.key, r2 + body):
            raise ValueError("mac")
        return body

    def check_recharge(self, amount_cents, count, customer, mac1, mac2, t):
        """Raises ValueError('identity'|'mac') unless both MACs verify."""
        r2 = self.session(t)
        if r2 is None:
            raise ValueError("identity")
        m1, m2 = recharge_macs(self.key, r2, amount_cents, count, customer)
        if mac1 != m1 or mac2 != m2:
            raise ValueError("mac")
