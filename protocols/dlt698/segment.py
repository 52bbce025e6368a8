"""Link-layer segmentation (分帧): an APDU too long for one frame travels in fragments.

A segmented frame (C bit 5) carries a 2-byte little-endian format word before its bytes: bits
0..11 the fragment sequence number, bits 14..15 the type (0 first, 1 last, 2 confirm, 3 middle).
The receiver confirms every fragment but the last with a confirm (type 2, same sequence, no
bytes); the last one delivers the APDU. Layout verified on the dlt698_rs ``frame.rs`` segmented
test frames (sequences 261..263 and their confirm 05 81) and 600888/dlt698 ``protocol/fragment.md``.
"""
from protocols.dlt698._compat import const
from protocols.dlt698.errors import DecodeError, EncodeError

FIRST = const(0)
LAST = const(1)
CONFIRM = const(2)
MIDDLE = const(3)
KIND_NAMES = {0: "first", 1: "last", 2: "confirm", 3: "middle"}
SEQ_MASK = const(0x0FFF)


class Fragment:
    """One fragment: ``kind`` (FIRST/MIDDLE/LAST/CONFIRM), ``seq`` 0..4095 and its bytes."""

    def __init__(self, kind, seq, data=b""):
        self.kind = kind
        self.seq = seq
        self.data = bytes(data)

    def encode(self):
        if not 0 <= self.seq <= SEQ_MASK or self.kind not in KIND_NAMES:
            raise EncodeError("fragment", "sequence 0..4095 and a known type needed")
        if (self.kind == CONFIRM) != (not self.data):
            raise EncodeError("fragment", "a confirm carries no bytes, a data fragment some")
        word = self.seq | (self.kind << 14)
        return bytes((word & 0xFF, word >> 8)) + self.data

    @classmethod
    def decode(cls, data):
        if len(data) < 2:
            raise DecodeError("fragment", "format word needs 2 bytes", data, 0)
        word = data[0] | (data[1] << 8)
        # bits 12..13 are reserved; dlt698_rs sets them in its middle fragment (F1 06), so a
        # receiver ignores them rather than drop the transfer
        kind = word >> 14
        if (kind == CONFIRM) != (len(data) == 2):
            raise DecodeError("fragment", "a confirm carries no bytes, a data fragment some",
                              data, 2)
        return cls(kind, word & SEQ_MASK, data[2:])

    def __eq__(self, other):
        return (isinstance(other, Fragment) and self.kind == other.kind
                and self.seq == other.seq and self.data == other.data)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "Fragment(%s, seq=%d, %d bytes)" % (KIND_NAMES.get(self.kind), self.seq,
                                                  len(self.data))


def split(apdu, size, first_seq=0):
    """The fragments of ``apdu`` with at most ``size`` bytes each (one frame needs no split)."""
    if size < 1:
        raise EncodeError("fragment", "fragment size must be positive")
    parts = [apdu[i:i + size] for i in range(0, len(apdu), size)]
    if len(parts) < 2:
        raise EncodeError("fragment", "an APDU of %d bytes fits one frame" % len(apdu))
    out = []
    for n, part in enumerate(parts):
        kind = FIRST if n == 0 else LAST if n == len(parts) - 1 else MIDDLE
        out.append(Fragment(kind, (first_seq + n) & SEQ_MASK, part))
    return out


class Reassembler:
    """Receiver side: ``accept(fragment)`` -> (confirm Fragment or None, whole APDU or None).

    Fragments must come in order; a repeat of the last one is confirmed again (its confirm was
    lost) without adding its bytes twice; anything else out of order raises DecodeError and leaves
    the buffer as it was. ``limit`` caps the reassembled size.
    """

    def __init__(self, limit=65536):
        self.limit = limit
        self.reset()

    def reset(self):
        self._parts = []
        self._size = 0
        self._last_seq = None

    @property
    def active(self):
        return self._last_seq is not None

    def accept(self, fragment):
        if fragment.kind == CONFIRM:
            raise DecodeError("fragment", "a confirm is not a data fragment")
        if fragment.kind == FIRST:
            self.reset()
        elif self._last_seq is None:
            raise DecodeError("fragment", "%s fragment without a first one"
                              % KIND_NAMES[fragment.kind])
        elif fragment.seq == self._last_seq:
            return Fragment(CONFIRM, fragment.seq), None
        elif fragment.seq != (self._last_seq + 1) & SEQ_MASK:
            raise DecodeError("fragment", "sequence %d after %d" % (fragment.seq, self._last_seq))
        if self._size + len(fragment.data) > self.limit:
            self.reset()
            raise DecodeError("fragment", "reassembled APDU over %d bytes" % self.limit)
        self._parts.append(fragment.data)
        self._size += len(fragment.data)
        self._last_seq = fragment.seq
        if fragment.kind == LAST:
            apdu = b"".join(self._parts)
            self.reset()
            return None, apdu
        return Fragment(CONFIRM, fragment.seq), None
