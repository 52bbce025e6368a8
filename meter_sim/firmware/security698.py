"""Security modes of the 698 meter (安全模式参数): which protection each object's reads, writes and
methods need, and the protection a request came with.

The table is CHINT's single-phase meter firmware (Charity-Vance/Leetcode ``Comm_698.h``
``GV_SafeModeParameters1/2``): one nibble per service, bit 8 plaintext, 4 plaintext+MAC,
2 ciphertext, 1 ciphertext+MAC; the strongest-but-one rule of its ``Comm_698.c`` (allowing one
level allows every stronger level, except for 4000's methods, taken as written). A request with
too little protection gets DAR 20 (安全认证不匹配); a service the table forbids (nibble 0) DAR 3.
Plaintext+RN and plaintext+SID_MAC count as plaintext+MAC (its ``RNSICBit`` 04).
"""
from protocols.dlt698 import security as S

PLAIN = 8
PLAIN_MAC = 4
CIPHER = 2
CIPHER_MAC = 1
READ, WRITE, OPERATE = 0, 1, 2
ALL = 0xF

# (read, write, operate) nibbles; exact OIs first, then by the OI's leading digits
BY_OI = {
    0x202C: (ALL, 0, 0),                            # wallet
    0x4000: (ALL, CIPHER_MAC, PLAIN | CIPHER_MAC),  # date-time: broadcast time in plaintext
    0x4001: (ALL, CIPHER_MAC, 0),
    0x4002: (ALL, PLAIN_MAC, 0),
    0x4003: (PLAIN_MAC, PLAIN_MAC, 0),
    0x5000: (PLAIN_MAC, CIPHER_MAC, PLAIN_MAC),
}
BY_CLASS = [                      # (mask, value, modes)
    (0xF000, 0x0000, (ALL, 0, 0)),                                  # energy
    (0xF000, 0x1000, (PLAIN_MAC, 0, 0)),                            # demand
    (0xF000, 0x2000, (PLAIN_MAC, CIPHER_MAC, PLAIN_MAC | CIPHER | CIPHER_MAC)),   # variables
    (0xF000, 0x3000, (PLAIN_MAC, CIPHER_MAC, CIPHER_MAC)),          # events
    (0xF000, 0x4000, (PLAIN_MAC, CIPHER_MAC, CIPHER_MAC)),          # parameters
    (0xFF00, 0x5000, (PLAIN_MAC, CIPHER_MAC, CIPHER_MAC)),          # freezes
    (0xFF00, 0x6000, (ALL, ALL, ALL)),                              # collection
    (0xFF00, 0x7000, (ALL, 0, ALL)),                                # sets
    (0xFF00, 0x8000, (PLAIN_MAC, CIPHER_MAC, CIPHER_MAC)),          # control
    (0xFF00, 0xF200, (ALL, ALL, ALL)),                              # I/O devices
]
DEFAULT = (PLAIN_MAC, CIPHER_MAC, CIPHER_MAC)       # CHINT's fallback mode word 0x4110
ALWAYS_PLAIN = ((0x2015, 127),)     # confirming the follow-report status word (CHINT 20157F00)


def _expand(nibble):
    for k, level in enumerate((PLAIN, PLAIN_MAC, CIPHER)):
        if nibble & level:
            return nibble | (0xF >> k)
    return nibble


def modes(oi):
    if oi in BY_OI:
        return BY_OI[oi]
    for mask, value, m in BY_CLASS:
        if oi & mask == value:
            return m
    return DEFAULT


def allowed(oi, service, level, method=None):
    """None when ``level`` may do ``service`` on ``oi``, else the DAR to answer."""
    if service == OPERATE and (oi, method) in ALWAYS_PLAIN:
        return None
    nibble = modes(oi)[service]
    if nibble == 0:
        return 3                                # DAR 3 read/write denied
    if not (oi == 0x4000 and service == OPERATE):
        nibble = _expand(nibble)
    return None if nibble & level else 20       # DAR 20 security authentication mismatch


def level_of(request):
    """The protection of a SECURITY-Request (None: a bare APDU, plaintext)."""
    if request is None:
        return PLAIN
    if not request.ciphered:
        return PLAIN_MAC
    return CIPHER_MAC if request.verify in (S.V_SID_MAC, S.V_RN_MAC) else CIPHER
