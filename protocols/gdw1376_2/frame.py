"""Q/GDW 1376.2 frame (concentrator <-> local carrier module).

    68 | L(2, LE, total frame length) | C | R(6) | [A1 6][A2 6*n, down only][A3 6] | AFN | DT1 DT2 | data | CS | 16

C: D7 DIR (0 = concentrator -> module), D6 PRM (1 = initiator), D5..D0 communication type.
R byte0: D0 routing flag, D1 attached-node flag, D2 module flag (1 = addresses present),
D3 collision detection, D7..D4 relay level n (downlink). R byte5 is the frame sequence number.
CS is the sum mod 256 from C through the data. Fn = DT2 * 8 + (bit of DT1) + 1.
"""
from protocols.errors import hexstr
from protocols.stream import whole_frame
from protocols.gdw1376_2.errors import DecodeError, EncodeError

COMM_NBPLC = 1          # centralised-routing narrowband carrier
COMM_DISTRIBUTED = 2    # distributed-routing narrowband carrier
COMM_HPLC = 3           # broadband (HPLC) carrier
COMM_WIRELESS = 10      # micro-power wireless
COMM_ETHERNET = 20
MIN_LENGTH = 15         # 68 L L C R*6 AFN DT DT CS 16
MAX_LENGTH = 2048       # well above any module's buffer (frames carry one meter frame each)


def checksum(data):
    return sum(data) & 0xFF


def encode_fn(fn):
    """DT1, DT2 of information class ``fn`` (1..248)."""
    if not 1 <= fn <= 248:
        raise EncodeError("fn", "Fn must be 1..248, got %r" % (fn,))
    return bytes([1 << ((fn - 1) % 8), (fn - 1) // 8])


def decode_fn(dt1, dt2, raw=b"", offset=-1):
    if dt1 == 0 or dt1 & (dt1 - 1) or dt2 > 30:
        raise DecodeError("DT", "need exactly one bit in DT1 and DT2 <= 30", raw, offset)
    bit = 0
    while not (dt1 >> bit) & 1:
        bit += 1
    return dt2 * 8 + bit + 1


def down_info(routing=False, relay_level=0, channel=0, fec=0, expected_bytes=0xFF, rate=0,
              seq=0, collision=False, attached=False):
    """Downlink R bytes (module flag and relay level are set by the encoder from the addresses)."""
    b0 = (0 if routing else 1) | (2 if attached else 0) | (8 if collision else 0)
    b0 |= (relay_level & 0x0F) << 4
    return bytes([b0, (channel & 0x0F) | ((fec & 0x0F) << 4), expected_bytes & 0xFF,
                  rate & 0xFF, (rate >> 8) & 0xFF, seq & 0xFF])


def up_info(channel=0, phase=0, meter_channel=0, cmd_quality=0, reply_quality=0, event=False,
            seq=0):
    """Uplink R bytes: channel, measured phase, last-hop signal qualities (0..15), event flag."""
    return bytes([0, channel & 0x0F, (phase & 0x0F) | ((meter_channel & 0x0F) << 4),
                  (cmd_quality & 0x0F) | ((reply_quality & 0x0F) << 4), 1 if event else 0,
                  seq & 0xFF])


def signal_of(info):
    """(phase D3..D0, signal quality byte: D3..D0 command, D7..D4 reply) of uplink R bytes."""
    info = bytes(info or b"")
    if len(info) < 4:
        return 0, 0
    return info[2] & 0x0F, info[3]


class Frame:
    """One 1376.2 frame; ``info`` is the 6-byte R field, addresses are 645 wire-order bytes."""

    def __init__(self, afn, fn, data=b"", down=True, prm=True, comm=COMM_HPLC, info=None,
                 src=None, relays=(), dst=None, raw=None):
        self.afn = afn
        self.fn = fn
        self.data = bytes(data)
        self.down = down
        self.prm = prm
        self.comm = comm
        self.info = bytes(info) if info is not None else (down_info() if down else up_info())
        self.src = bytes(src) if src is not None else None
        self.relays = tuple(bytes(r) for r in relays)
        self.dst = bytes(dst) if dst is not None else None
        self.raw = raw

    @property
    def seq(self):
        return self.info[5]

    @property
    def has_addresses(self):
        return self.src is not None

    @property
    def ctrl(self):
        return (0 if self.down else 0x80) | (0x40 if self.prm else 0) | (self.comm & 0x3F)

    def __eq__(self, other):
        return isinstance(other, Frame) and self.key() == other.key()

    def key(self):
        return (self.afn, self.fn, self.data, self.ctrl, self.info, self.src, self.relays, self.dst)

    def __repr__(self):
        return "Frame(AFN=%02X F%d %s seq=%d data=[%s])" % (
            self.afn, self.fn, "down" if self.down else "up", self.seq, hexstr(self.data))


def encode_frame(frame):
    """Wire bytes of ``frame``; the module flag and relay level follow from its addresses."""
    info = bytearray(frame.info)
    if len(info) != 6:
        raise EncodeError("R", "info field must be 6 bytes")
    addr = b""
    if (frame.src is None) != (frame.dst is None):
        raise EncodeError("A", "give both source and destination addresses, or neither")
    if frame.src is not None:
        parts = [frame.src] + (list(frame.relays) if frame.down else []) + [frame.dst]
        for a in parts:
            if len(a) != 6:
                raise EncodeError("A", "addresses are 6 bytes, got %d" % len(a))
        if frame.relays and not frame.down:
            raise EncodeError("A2", "relay addresses exist in downlink frames only")
        if len(frame.relays) > 15:
            raise EncodeError("A2", "at most 15 relay levels")
        addr = b"".join(parts)
        info[0] |= 0x04
    else:
        info[0] &= ~0x04 & 0xFF
    if frame.down:
        info[0] = (info[0] & 0x0F) | (len(frame.relays) << 4)
    if not 0 <= frame.afn <= 0xFF:
        raise EncodeError("AFN", "AFN is one byte")
    body = bytes([frame.ctrl]) + bytes(info) + addr + bytes([frame.afn]) + encode_fn(frame.fn) + frame.data
    total = len(body) + 5
    if total > MAX_LENGTH:
        raise EncodeError("L", "frame of %d bytes exceeds %d" % (total, MAX_LENGTH))
    return b"\x68" + bytes([total & 0xFF, total >> 8]) + body + bytes([checksum(body), 0x16])


def check_frame(buf, i=0):
    """Structural check at ``buf[i] == 68``: ('ok'|'short'|reason, end index)."""
    if len(buf) - i < 3:
        return "short", 0
    total = buf[i + 1] | (buf[i + 2] << 8)
    if total < MIN_LENGTH or total > MAX_LENGTH:
        return "bad length", 0
    end = i + total
    if len(buf) < end:
        return "short", end
    if buf[end - 1] != 0x16:
        return "no end 16", 0
    if buf[end - 2] != checksum(buf[i + 3:end - 2]):
        return "bad checksum", 0
    return "ok", end


def decode_frame(raw):
    """Strictly decode one whole frame; raises ``DecodeError`` naming the bad field."""
    raw = bytes(raw)
    end = whole_frame(raw, check_frame, DecodeError)
    return _parse(raw, raw[3:end - 2])


def _parse(raw, body):
    ctrl = body[0]
    down = not ctrl & 0x80
    info = body[1:7]
    pos = 7
    src = dst = None
    relays = ()
    if info[0] & 0x04:
        n = (info[0] >> 4) if down else 0
        need = 6 * (n + 2)
        if len(body) < pos + need + 3:
            raise DecodeError("A", "address field needs %d bytes" % need, body[pos:], pos + 3)
        src = body[pos:pos + 6]
        relays = tuple(body[pos + 6 * (k + 1):pos + 6 * (k + 2)] for k in range(n))
        dst = body[pos + 6 * (n + 1):pos + need]
        pos += need
    if len(body) < pos + 3:
        raise DecodeError("AFN", "no room for AFN and DT", body[pos:], pos + 3)
    fn = decode_fn(body[pos + 1], body[pos + 2], body[pos + 1:pos + 3], pos + 4)
    return Frame(body[pos], fn, body[pos + 3:], down, bool(ctrl & 0x40), ctrl & 0x3F, info,
                 src, relays, dst, raw)
