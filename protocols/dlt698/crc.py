"""CRC-16/X.25 (the 698.45 HCS and FCS): reflected poly 0x8408, init FFFF, xorout FFFF.

Table-driven and MicroPython-safe; tests cross-check it against crcmod's predefined ``x-25``.
Appendix A of DL/T 698.45-2017 (as cited by 600888/dlt698 tests/vectors/README.md): check value
of ``123456789`` is 906E.
"""


def _table():
    out = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x8408 if c & 1 else c >> 1
        out.append(c)
    return out


_TABLE = _table()


def crc16(data):
    """CRC-16/X.25 of ``data`` as an int (sent low byte first)."""
    c = 0xFFFF
    t = _TABLE
    for b in data:
        c = (c >> 8) ^ t[(c ^ b) & 0xFF]
    return c ^ 0xFFFF
