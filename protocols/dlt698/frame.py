"""DL/T 698.45 link frame: ``[FE..] 68 L(2) C SA(1+n) CA HCS(2) user-data FCS(2) 16``.

L (little-endian) counts every byte but the 68 and the 16; bits 0..13 are the length, bit 14 the
unit (0 = bytes; 1 = kilobytes, which no meter uses and we refuse). HCS covers L..CA and FCS covers
L..the last user-data byte, both CRC-16/X.25 low byte first (PROTOCOLS.md, verified on the
600888/dlt698 README frame). C: bit 7 DIR (1 = from the server/meter), bit 6 PRM (1 = the
initiator's frame), bit 5 segmented (分帧), bit 3 SC scrambled (user data +33H), bits 2..0 the
function (1 link management, 3 user data). SA: bits 7..6 address type, bits 5..4 logical address,
bits 3..0 address length - 1; the address bytes follow low byte first (the printed address
reversed), as in dlt698_rs ``frame.rs`` tests and the standard's appendix D.1 frame.
"""
from protocols.errors import hexstr
from protocols.dlt698._compat import const
from protocols.dlt698.crc import crc16
from protocols.dlt698.errors import DecodeError, EncodeError

DIR_SERVER = const(0x80)
PRM_INITIATOR = const(0x40)
SEGMENTED = const(0x20)
SCRAMBLED = const(0x08)
FUNCTION_MASK = const(0x07)
FN_LINK = const(1)
FN_USER_DATA = const(3)

ADDR_SINGLE = const(0)      # 单地址
ADDR_WILDCARD = const(1)    # 通配地址
ADDR_GROUP = const(2)       # 组地址
ADDR_BROADCAST = const(3)   # 广播地址
ADDR_KIND_NAMES = {0: "single", 1: "wildcard", 2: "group", 3: "broadcast"}

LENGTH_KB_UNIT = const(0x4000)
MAX_LENGTH = const(0x3FFF)
PREAMBLE = b"\xFE\xFE\xFE\xFE"
SCRAMBLE_OFFSET = const(0x33)


def address(text):
    """Printed server address (hex/BCD digits, most significant first) to wire bytes.

    An odd digit count is padded with a leading 0; ``A`` digits (wildcards) are kept as nibbles.
    """
    text = text.strip().upper()
    if len(text) % 2:
        text = "0" + text
    if not 2 <= len(text) <= 32:
        raise EncodeError("SA", "server address needs 1..16 bytes, got %r" % (text,))
    try:
        return bytes(int(text[i:i + 2], 16) for i in range(len(text) - 2, -2, -2))
    except ValueError:
        raise EncodeError("SA", "not hex digits: %r" % (text,)) from None


def address_text(addr):
    """Wire address bytes to the printed form (most significant byte first)."""
    return "".join("%02X" % b for b in reversed(addr))


def scramble(data):
    """SC = 1: each user-data byte is sent +33H."""
    return bytes([(b + SCRAMBLE_OFFSET) & 0xFF for b in data])


def unscramble(data):
    return bytes([(b - SCRAMBLE_OFFSET) & 0xFF for b in data])


class Frame:
    """One link frame. ``data`` is the user data without scrambling (an APDU, or a fragment's
    format word + bytes when ``segmented``); ``addr`` is in wire order."""

    def __init__(self, ctrl, addr, ca=0, data=b"", kind=ADDR_SINGLE, logical=0, preamble=0,
                 raw=None):
        self.ctrl = ctrl
        self.addr = bytes(addr)
        self.ca = ca
        self.data = bytes(data)
        self.kind = kind
        self.logical = logical
        self.preamble = preamble
        self.raw = raw

    @property
    def from_server(self):
        return bool(self.ctrl & DIR_SERVER)

    @property
    def prm(self):
        return bool(self.ctrl & PRM_INITIATOR)

    @property
    def segmented(self):
        return bool(self.ctrl & SEGMENTED)

    @property
    def scrambled(self):
        return bool(self.ctrl & SCRAMBLED)

    @property
    def function(self):
        return self.ctrl & FUNCTION_MASK

    @property
    def address(self):
        return address_text(self.addr)

    @property
    def sa(self):
        """The SA flag byte: type, logical address, address length."""
        return (self.kind << 6) | ((self.logical & 3) << 4) | ((len(self.addr) - 1) & 0x0F)

    def __eq__(self, other):
        return (isinstance(other, Frame) and self.ctrl == other.ctrl and self.addr == other.addr
                and self.ca == other.ca and self.data == other.data and self.kind == other.kind
                and self.logical == other.logical)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self.ctrl, self.addr, self.ca, self.data))

    def __repr__(self):
        return "Frame(ctrl=0x%02X, sa=%02X %s, ca=%02X, data=[%s])" % (
            self.ctrl, self.sa, self.address, self.ca, hexstr(self.data))


def control(from_server, prm, function=FN_USER_DATA, segmented=False, scrambled=False):
    """The C byte from its fields."""
    return ((DIR_SERVER if from_server else 0) | (PRM_INITIATOR if prm else 0)
            | (SEGMENTED if segmented else 0) | (SCRAMBLED if scrambled else 0)
            | (function & FUNCTION_MASK))


def encode_frame(frame, preamble=None):
    """Frame to wire bytes (``preamble``: FE count 0..4, default the frame's own)."""
    count = frame.preamble if preamble is None else preamble
    if not 0 <= count <= 4:
        raise EncodeError("preamble", "0..4 FE bytes allowed, got %r" % (count,))
    if not 1 <= len(frame.addr) <= 16:
        raise EncodeError("SA", "server address needs 1..16 bytes, got %d" % len(frame.addr))
    if not (0 <= frame.ctrl <= 0xFF and 0 <= frame.ca <= 0xFF and 0 <= frame.kind <= 3
            and 0 <= frame.logical <= 3):
        raise EncodeError("C/SA/CA", "field out of range in %r" % (frame,))
    length = 2 + 1 + 1 + len(frame.addr) + 1 + 2 + len(frame.data) + 2
    if length > MAX_LENGTH:
        raise EncodeError("L", "frame of %d bytes does not fit L" % length)
    head = bytearray((length & 0xFF, length >> 8, frame.ctrl, frame.sa))
    head += frame.addr
    head.append(frame.ca)
    hcs = crc16(head)
    body = bytearray(b"\x68") + head
    body.append(hcs & 0xFF)
    body.append(hcs >> 8)
    body += scramble(frame.data) if frame.scrambled else frame.data
    fcs = crc16(body[1:])
    body.append(fcs & 0xFF)
    body.append(fcs >> 8)
    body.append(0x16)
    return PREAMBLE[:count] + bytes(body)


def check(buf, i):
    """Structural check of a frame starting at ``buf[i]`` (a 68): ('ok', end), ('short', 0) or
    (reason, 0). Shared by decode_frame and the deframer."""
    n = len(buf) - i
    if n < 5:
        return "short", 0
    length = buf[i + 1] | (buf[i + 2] << 8)
    if length & 0x8000 or length & LENGTH_KB_UNIT:
        return "length unit or reserved bit set", 0
    head = 4 + (buf[i + 4] & 0x0F) + 1 + 1      # L L C SA addr CA
    if length < head + 2 + 2:
        return "L shorter than the header", 0
    if n < head + 3:
        return "short", 0
    hcs = buf[i + head + 1] | (buf[i + head + 2] << 8)
    if hcs != crc16(buf[i + 1:i + head + 1]):
        return "bad HCS", 0
    end = i + length + 2
    if len(buf) < end:
        return "short", 0
    fcs = buf[end - 3] | (buf[end - 2] << 8)
    if fcs != crc16(buf[i + 1:end - 3]):
        return "bad FCS", 0
    if buf[end - 1] != 0x16:
        return "no end 16", 0
    return "ok", end


def frame_at(raw, i):
    """Build the Frame whose (checked) bytes start at ``raw[i]``."""
    body = raw[i:]
    sa = body[4]
    n = (sa & 0x0F) + 1
    ctrl = body[3]
    data = body[5 + n + 3:len(body) - 3]
    if ctrl & SCRAMBLED:
        data = unscramble(data)
    return Frame(ctrl, body[5:5 + n], body[5 + n], data, sa >> 6, (sa >> 4) & 3, i, raw)


def decode_frame(raw):
    """Strict decode of exactly one frame (0..4 leading FE allowed); raises DecodeError."""
    raw = bytes(raw)
    pre = 0
    while pre < len(raw) and raw[pre] == 0xFE:
        pre += 1
    if pre > 4:
        raise DecodeError("preamble", "more than 4 FE wake-up bytes", raw[:pre], 0)
    if pre >= len(raw) or raw[pre] != 0x68:
        raise DecodeError("start", "expected 68", raw[pre:pre + 1], pre)
    status, end = check(raw, pre)
    if status == "short":
        raise DecodeError("L", "frame shorter than its length field or header", raw, pre + 1)
    if status != "ok":
        field = status.split()[-1] if status.startswith("bad") else "frame"
        raise DecodeError(field, status, raw, pre)
    if end != len(raw):
        raise DecodeError("L", "%d bytes after the end of the frame" % (len(raw) - end),
                          raw[end:], end)
    return frame_at(raw, pre)
