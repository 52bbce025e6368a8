"""DL/T 645 frame: ``[FE..] 68 A0..A5 68 C L DATA CS 16`` (data +33H, address low byte first)."""
from protocols.errors import hexstr
from protocols.dlt645 import const as K
from protocols.dlt645.errors import DecodeError, EncodeError

PREAMBLE = b"\xFE\xFE\xFE\xFE"


def checksum(data):
    """Sum mod 256 (CS covers the first 68H up to the byte before CS; FE excluded)."""
    return sum(data) & 0xFF


def mask(data):
    """Apply the +33H transmit offset (always ``& 0xFF``: raw bytes >= 0xCD wrap)."""
    return bytes([(b + 0x33) & 0xFF for b in data])


def unmask(data):
    """Remove the +33H offset."""
    return bytes([(b - 0x33) & 0xFF for b in data])


def address(text):
    """Printed address (12 digits, most significant first, e.g. ``"000000001234"``) to wire bytes.

    Shorter strings are zero-padded; ``A`` digits pairs (``"AA"``) are kept as wildcards.
    """
    text = text.strip().upper()
    if not text or len(text) > 12:
        raise EncodeError("address", "need 1..12 digits, got %r" % (text,))
    text = "0" * (12 - len(text)) + text
    out = bytearray()
    for i in range(10, -2, -2):
        pair = text[i:i + 2]
        if pair == "AA":
            out.append(0xAA)
        elif pair.isdigit():
            out.append(int(pair[0]) * 16 + int(pair[1]))
        else:
            raise EncodeError("address", "not BCD digits or AA: %r" % (pair,))
    return bytes(out)


def address_text(addr):
    """Wire address bytes to the printed 12-character form."""
    return "".join("%02X" % b for b in reversed(addr))


class Frame:
    """One decoded frame. ``data`` is without the +33H offset; ``addr`` is in wire order."""

    def __init__(self, addr, ctrl, data=b"", preamble=0, raw=None):
        self.addr = bytes(addr)
        self.ctrl = ctrl
        self.data = bytes(data)
        self.preamble = preamble
        self.raw = raw

    @property
    def function(self):
        return self.ctrl & K.FUNCTION_MASK

    @property
    def is_reply(self):
        return bool(self.ctrl & K.DIR_REPLY)

    @property
    def is_abnormal(self):
        return bool(self.ctrl & K.ABNORMAL)

    @property
    def has_follow_up(self):
        return bool(self.ctrl & K.FOLLOW_UP)

    @property
    def address(self):
        return address_text(self.addr)

    @property
    def is_broadcast(self):
        return self.addr == K.BROADCAST_ADDR

    def __eq__(self, other):
        return (isinstance(other, Frame) and self.addr == other.addr and self.ctrl == other.ctrl
                and self.data == other.data)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self.addr, self.ctrl, self.data))

    def __repr__(self):
        return "Frame(addr=%s, ctrl=0x%02X, data=[%s])" % (self.address, self.ctrl, hexstr(self.data))


def encode_frame(frame, preamble=None):
    """Frame to wire bytes; ``preamble`` FE count (default: the frame's own, 0..4)."""
    count = frame.preamble if preamble is None else preamble
    if not 0 <= count <= 4:
        raise EncodeError("preamble", "0..4 FE bytes allowed, got %r" % (count,))
    if len(frame.addr) != 6:
        raise EncodeError("address", "need 6 bytes, got %d" % len(frame.addr))
    if not 0 <= frame.ctrl <= 0xFF:
        raise EncodeError("control", "not a byte: %r" % (frame.ctrl,))
    if len(frame.data) > 255:
        raise EncodeError("length", "data of %d bytes does not fit L" % len(frame.data))
    body = bytearray(b"\x68")
    body += frame.addr
    body.append(0x68)
    body.append(frame.ctrl)
    body.append(len(frame.data))
    body += mask(frame.data)
    body.append(checksum(body))
    body.append(0x16)
    return PREAMBLE[:count] + bytes(body)


def decode_frame(raw):
    """Strict decode of exactly one frame (0..4 leading FE allowed); raises DecodeError."""
    raw = bytes(raw)
    pre = 0
    while pre < len(raw) and raw[pre] == 0xFE:
        pre += 1
    if pre > 4:
        raise DecodeError("preamble", "more than 4 FE wake-up bytes", raw[:pre], 0)
    body = raw[pre:]
    if len(body) < 12:
        raise DecodeError("length", "a frame has at least 12 bytes, got %d" % len(body), raw, 0)
    if body[0] != 0x68:
        raise DecodeError("start", "expected 68", body[:1], pre)
    if body[7] != 0x68:
        raise DecodeError("start2", "expected 68 after the address", body[7:8], pre + 7)
    n = body[9]
    if len(body) != 12 + n:
        raise DecodeError("length", "L=%d needs %d bytes, got %d" % (n, 12 + n, len(body)),
                          body[9:10], pre + 9)
    cs = checksum(body[:10 + n])
    if body[10 + n] != cs:
        raise DecodeError("checksum", "expected %02X" % cs, body[10 + n:11 + n], pre + 10 + n)
    if body[11 + n] != 0x16:
        raise DecodeError("end", "expected 16", body[11 + n:], pre + 11 + n)
    return Frame(body[1:7], body[8], unmask(body[10:10 + n]), pre, raw)


def address_matches(request_addr, own_addr):
    """True if a request address selects ``own_addr`` (exact, or AA-filled abbreviated)."""
    for want, have in zip(request_addr, own_addr):
        if want != K.WILDCARD and want != have:
            return False
    return True
