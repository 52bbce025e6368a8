"""TEST ONLY: a keyed stand-in for the ESAM's SM1/SM4 computations, HMAC-SHA256 based.

It exists so that sessions, sealed controls, top-up MACs and every refusal can run end to end
between the simulator's meters and the agent. It is not the standard's algorithm, a real meter
refuses all of it, and it is not cryptography anyone should rely on: the key is public. Layouts
are in ``security``. MicroPython-safe (hashlib.sha256 only).
"""
try:
    import hashlib  # type: ignore[import-not-found]
except ImportError:     # pragma: no cover - MicroPython ports that name it uhashlib
    import uhashlib as hashlib  # type: ignore[import-not-found,no-redef]

TEST_KEY = b"gridedge-TEST-key-not-an-esam"
_BLOCK = 64


def hmac_sha256(key, data):
    """RFC 2104 HMAC with SHA-256 (MicroPython has no ``hmac`` module)."""
    key = bytes(key)
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key + b"\x00" * (_BLOCK - len(key))
    inner = hashlib.sha256(bytes([b ^ 0x36 for b in key]))
    inner.update(bytes(data))
    outer = hashlib.sha256(bytes([b ^ 0x5C for b in key]))
    outer.update(inner.digest())
    return outer.digest()


def _tag(key, label, *parts):
    msg = bytes(label)
    for p in parts:
        msg += bytes([len(p) & 0xFF]) + bytes(p)
    return hmac_sha256(key, msg)


def auth_cipher(key, random1, factor):
    """Cipher 1 (8 bytes) the master sends with random 1 for identity authentication."""
    return _tag(key, b"auth", random1, factor)[:8]


def random2(key, random1, factor, counter):
    """Random 2 (4 bytes) the meter's ESAM answers; a new one per authentication."""
    return _tag(key, b"r2", random1, factor, bytes([counter & 0xFF, (counter >> 8) & 0xFF]))[:4]


def _session(key, r2, serial):
    return _tag(key, b"session", r2, serial)


def _xor(data, pad):
    return bytes([a ^ b for a, b in zip(data, pad)])


def seal_control(key, r2, serial, body):
    """20 bytes for a level-98 0x1C: 8 bytes N1..N8 padded to 16, masked, and a 4-byte MAC."""
    s = _session(key, r2, serial)
    plain = bytes(body) + b"\x80" + b"\x00" * 7
    cipher = _xor(plain, _tag(s, b"pad")[:16])
    return cipher + _tag(s, b"mac", cipher)[:4]


def open_control(key, r2, serial, sealed):
    """N1..N8 of a sealed control; ValueError('mac') when it does not verify."""
    s = _session(key, r2, serial)
    sealed = bytes(sealed)
    if len(sealed) != 20 or _tag(s, b"mac", sealed[:16])[:4] != sealed[16:]:
        raise ValueError("mac")
    plain = _xor(sealed[:16], _tag(s, b"pad")[:16])
    if plain[8:] != b"\x80" + b"\x00" * 7:
        raise ValueError("mac")
    return plain[:8]


def recharge_macs(key, r2, serial, amount_cents, count, customer):
    """(MAC 1 over amount and count, MAC 2 over the customer number) of a top-up."""
    s = _session(key, r2, serial)
    a = amount_cents.to_bytes(4, "little") + count.to_bytes(4, "little")
    return _tag(s, b"mac1", a)[:4], _tag(s, b"mac2", bytes(customer))[:4]


def status_macs(key, r2, serial, remaining_cents, count):
    """The meter's MACs over remaining money and purchase count in a status answer."""
    s = _session(key, r2, serial)
    return (_tag(s, b"remaining", remaining_cents.to_bytes(4, "little"))[:4],
            _tag(s, b"count", count.to_bytes(4, "little"))[:4])


def validity_mac(key, r2, serial, minutes):
    return _tag(_session(key, r2, serial), b"validity", bytes([minutes & 0xFF, minutes >> 8]))[:4]


def parameter_mac(key, r2, serial, di_wire, data):
    """The MAC (4 bytes) of a level-98 parameter write: over the DI (wire order) and the data."""
    return _tag(_session(key, r2, serial), b"parameter", di_wire, data)[:4]
