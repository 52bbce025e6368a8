"""AFN03 查询数据: what the module says about itself (10376.2-2019 section 6.5.4)."""
from protocols.bcd import byte_to_int, int_to_byte
from protocols.gdw1376_2.errors import DecodeError, EncodeError
from protocols.gdw1376_2.afn.base import (Down, Fields, Unit, addr6, exact, frame_field, need,
                                          p16, p8, register, u16)
from protocols.gdw1376_2.afn.read import Forward

# AFN03 F10 communication mode (通信方式, table 30 a): not the C field's communication type
RUN_NARROWBAND = 1
RUN_BROADBAND = 2
RUN_WIRELESS = 3
# AFN03 F10 periodic reading mode (周期抄表模式, table 30 d)
READ_BY_CONCENTRATOR = 1
READ_BY_ROUTER = 2
READ_BOTH = 3


@register
class ModuleInfoQuery(Down):
    """AFN03 F1 query: vendor code and version (厂商代码和版本信息)."""
    AFN, FN = 0x03, 1


@register
class ModuleInfo(Unit):
    """AFN03 F1 reply: vendor (2 ASCII), chip (2 ASCII), version date DD MM YY (BCD), version
    (BCD, 2 bytes), table 20; the ASCII codes travel low byte first."""

    AFN, FN, UP = 0x03, 1, True

    def __init__(self, vendor="GE", chip="SM", date=(1, 1, 26), version=100):
        self.vendor = vendor
        self.chip = chip
        self.date = tuple(date)
        self.version = version

    def payload(self):
        v, c = self.vendor.encode(), self.chip.encode()
        if len(v) != 2 or len(c) != 2:
            raise EncodeError("vendor", "vendor and chip codes are 2 ASCII characters")
        d = self.date
        return (v[::-1] + c[::-1] + bytes([int_to_byte(d[0]), int_to_byte(d[1]), int_to_byte(d[2])])
                + bytes([int_to_byte(self.version % 100), int_to_byte(self.version // 100)]))

    @classmethod
    def parse(cls, data):
        exact(data, 9, "module info")
        try:
            vendor = bytes(data[0:2][::-1]).decode()
            chip = bytes(data[2:4][::-1]).decode()
        except UnicodeError:
            raise DecodeError("vendor", "vendor/chip codes must be ASCII", data[0:4], 0) from None
        date = (byte_to_int(data[4]), byte_to_int(data[5]), byte_to_int(data[6]))
        return cls(vendor, chip, date, byte_to_int(data[7]) + 100 * byte_to_int(data[8]))


@register
class NoiseQuery(Down):
    """AFN03 F2 query: noise value."""
    AFN, FN = 0x03, 2


@register
class Noise(Fields):
    """AFN03 F2 reply: noise strength 0..15 in D3..D0 (table 21)."""
    AFN, FN, UP = 0x03, 2, True
    FIELDS = (("level", 1),)


@register
class ListenQuery(Fields):
    """AFN03 F3 query: listened slave nodes from pointer ``start`` (0 = first), ``count`` <= 16."""
    AFN, FN, UP = 0x03, 3, False
    FIELDS = (("start", 1), ("count", 1))


@register
class ListenInfo(Unit):
    """AFN03 F3 reply: total heard, then (address, quality << 4 | level, times heard) per node
    (table 22)."""

    AFN, FN, UP = 0x03, 3, True

    def __init__(self, total, nodes):
        self.total = total
        self.nodes = [(bytes(a), q, lv, n) for a, q, lv, n in nodes]

    def payload(self):
        out = bytearray([self.total & 0xFF, len(self.nodes)])
        for a, q, lv, n in self.nodes:
            out += addr6(a) + bytes([((q & 0x0F) << 4) | (lv & 0x0F), n & 0x0F])
        return bytes(out)

    @classmethod
    def parse(cls, data):
        need(data, 2, "listen info")
        exact(data, 2 + 8 * data[1], "listen info")
        nodes = []
        for k in range(data[1]):
            i = 2 + 8 * k
            nodes.append((data[i:i + 6], data[i + 6] >> 4, data[i + 6] & 0x0F, data[i + 7] & 0x0F))
        return cls(data[0], nodes)


@register
class MasterAddressQuery(Down):
    """AFN03 F4 query: the master node (module) address."""
    AFN, FN = 0x03, 4


@register
class MasterAddress(Fields):
    """AFN03 F4 reply: master node address (6 bytes, low first), table 23."""
    AFN, FN, UP = 0x03, 4, True
    FIELDS = (("addr", 6),)


def _rates(data, i, n, name):
    exact(data, i + 2 * n, name)
    return [u16(data, i + 2 * k) for k in range(n)]


@register
class MasterStatusQuery(Down):
    """AFN03 F5 query: master node status word and rates."""
    AFN, FN = 0x03, 5


@register
class MasterStatus(Unit):
    """AFN03 F5 reply: status word (D3..D0 rate count n, D5..D4 channel feature, D7..D6 reading
    mode 00 both / 01 concentrator / 10 router, D11..D8 channels) + n rates, D15 = kbit/s
    (tables 24, 25)."""

    AFN, FN, UP = 0x03, 5, True

    def __init__(self, word, rates=()):
        self.word = (word & ~0x0F) | (len(rates) & 0x0F)
        self.rates = list(rates)

    def payload(self):
        return p16(self.word) + b"".join(p16(r) for r in self.rates)

    @classmethod
    def parse(cls, data):
        need(data, 2, "master status")
        return cls(u16(data, 0), _rates(data, 2, data[0] & 0x0F, "master status"))


@register
class InterferenceQuery(Fields):
    """AFN03 F6 query: master node interference over ``minutes`` (table 17)."""
    AFN, FN, UP = 0x03, 6, False
    FIELDS = (("minutes", 1),)


@register
class Interference(Fields):
    """AFN03 F6 reply: 0 no interference, 1 interference (table 26)."""
    AFN, FN, UP = 0x03, 6, True
    FIELDS = (("disturbed", 1),)


@register
class MonitorTimeoutQuery(Down):
    """AFN03 F7 query: the longest a 13F1 monitor read may take."""
    AFN, FN = 0x03, 7


@register
class MonitorTimeout(Fields):
    """AFN03 F7 reply: slave monitoring maximum timeout in seconds (table 27)."""
    AFN, FN, UP = 0x03, 7, True
    FIELDS = (("timeout_s", 1),)


@register
class WirelessQuery(Down):
    """AFN03 F8 query: wireless parameters."""
    AFN, FN = 0x03, 8


@register
class Wireless(Fields):
    """AFN03 F8 reply: channel group 0..63, transmit power 0 (highest) .. 3 (table 28)."""
    AFN, FN, UP = 0x03, 8, True
    FIELDS = (("group", 1), ("power", 1))


@register
class BroadcastDelayQuery(Forward):
    """AFN03 F9 query: how long broadcasting this frame takes now (protocol, L, frame, table 18)."""
    AFN, FN, UP = 0x03, 9, False


@register
class BroadcastDelay(Unit):
    """AFN03 F9 reply: delay in seconds, protocol, L, the frame (table 29)."""

    AFN, FN, UP = 0x03, 9, True

    def __init__(self, delay_s, protocol, body):
        self.delay_s = delay_s
        self.protocol = protocol
        self.body = bytes(body)

    def payload(self):
        return p16(self.delay_s) + bytes([self.protocol]) + p8(len(self.body), "L") + self.body

    @classmethod
    def parse(cls, data):
        need(data, 4, "broadcast delay")
        return cls(u16(data, 0), data[2], frame_field(data, 4, data[3], "broadcast frame"))


@register
class RunModeQuery(Down):
    """AFN03 F10 query: local communication module run mode (本地通信模块运行模式信息)."""
    AFN, FN = 0x03, 10


_RUN_MODE_FIXED = 39        # 6 mode bytes + 33 bytes of limits, address, counts, dates, info


@register
class RunMode(Unit):
    """AFN03 F10 reply (table 30): what a concentrator needs to choose its reading mechanism.

    Mode word: byte0 D3..D0 communication mode (1 narrowband, 2 broadband, 3 wireless), D4
    routing, D5 slave nodes must be downloaded, D7..D6 reading mode (1 concentrator, 2 router,
    3 both); byte1 D2..D0 delay parameters (broadcast, monitor, router reading), D4..D3 failed
    node switching, D5 broadcast confirmed before it runs, D7..D6 broadcast per channel; byte2
    D4..D0 channels, D7..D5 phase power-down; byte3 D3..D0 rate count n. Then monitor timeout
    (s, 1), broadcast timeout (s, 2), largest 1376.2 frame (2), largest file segment (2),
    upgrade wait (s, 1), master address (6), most slaves (2), slaves now (2), protocol release
    and filing dates (3 BCD each, kept as the wire bytes), the 03F1 vendor/version (9), n rates.
    """

    AFN, FN, UP = 0x03, 10, True

    def __init__(self, comm=RUN_BROADBAND, routing=True, slave_info=True, reading=READ_BOTH,
                 monitor_timeout_s=90, broadcast_timeout_s=120, max_frame=2048,
                 max_segment=512, upgrade_wait_s=60, addr=b"\x00" * 6, max_slaves=2040,
                 slaves=0, info=None, rates=(), protocol_date=b"\x00" * 3,
                 filing_date=b"\x00" * 3, flags1=0, channels=1, power_down=0):
        self.comm = comm
        self.routing = bool(routing)
        self.slave_info = bool(slave_info)
        self.reading = reading
        self.flags1 = flags1
        self.channels = channels
        self.power_down = power_down
        self.monitor_timeout_s = monitor_timeout_s
        self.broadcast_timeout_s = broadcast_timeout_s
        self.max_frame = max_frame
        self.max_segment = max_segment
        self.upgrade_wait_s = upgrade_wait_s
        self.addr = bytes(addr)
        self.max_slaves = max_slaves
        self.slaves = slaves
        self.protocol_date = bytes(protocol_date)
        self.filing_date = bytes(filing_date)
        self.info = info if info is not None else ModuleInfo()
        self.rates = list(rates)

    @property
    def concentrator_may_read(self):
        return bool(self.reading & READ_BY_CONCENTRATOR)

    @property
    def router_may_read(self):
        return bool(self.reading & READ_BY_ROUTER)

    def payload(self):
        b0 = ((self.comm & 0x0F) | (0x10 if self.routing else 0) | (0x20 if self.slave_info else 0)
              | ((self.reading & 3) << 6))
        b2 = (self.channels & 0x1F) | ((self.power_down & 7) << 5)
        if len(self.protocol_date) != 3 or len(self.filing_date) != 3:
            raise EncodeError("date", "protocol dates are 3 BCD bytes")
        return (bytes([b0, self.flags1 & 0xFF, b2, len(self.rates) & 0x0F, 0, 0])
                + p8(self.monitor_timeout_s, "monitor timeout") + p16(self.broadcast_timeout_s)
                + p16(self.max_frame) + p16(self.max_segment) + p8(self.upgrade_wait_s, "wait")
                + addr6(self.addr) + p16(self.max_slaves) + p16(self.slaves)
                + self.protocol_date + self.filing_date + self.info.payload()
                + b"".join(p16(r) for r in self.rates))

    @classmethod
    def parse(cls, data):
        need(data, _RUN_MODE_FIXED, "run mode")
        n = data[3] & 0x0F
        rates = _rates(data, _RUN_MODE_FIXED, n, "run mode")
        b0 = data[0]
        return cls(b0 & 0x0F, b0 & 0x10, b0 & 0x20, b0 >> 6, data[6], u16(data, 7),
                   u16(data, 9), u16(data, 11), data[13], data[14:20], u16(data, 20),
                   u16(data, 22), ModuleInfo.parse(data[30:39]), rates, data[24:27],
                   data[27:30], data[1], data[2] & 0x1F, data[2] >> 5)


@register
class AfnIndexQuery(Fields):
    """AFN03 F11 query: which Fn of AFN ``afn`` the module supports (table 19)."""
    AFN, FN, UP = 0x03, 11, False
    FIELDS = (("afn", 1),)


@register
class AfnIndex(Unit):
    """AFN03 F11 reply: the AFN and a 256-bit map, D0 = F1 .. D254 = F255, low byte first
    (table 31)."""

    AFN, FN, UP = 0x03, 11, True

    def __init__(self, afn, fns=()):
        self.afn = afn
        self.fns = sorted(set(fns))

    def supports(self, fn):
        return fn in self.fns

    def payload(self):
        bits = bytearray(32)
        for fn in self.fns:
            if not 1 <= fn <= 255:
                raise EncodeError("Fn", "Fn must be 1..255, got %r" % (fn,))
            bits[(fn - 1) // 8] |= 1 << ((fn - 1) % 8)
        return bytes([self.afn]) + bytes(bits)

    @classmethod
    def parse(cls, data):
        exact(data, 33, "AFN index")
        return cls(data[0], [k + 1 for k in range(255) if data[1 + k // 8] >> (k % 8) & 1])


ID_BCD = 1
ID_BIN = 2
ID_ASCII = 3


@register
class ModuleIdQuery(Down):
    """AFN03 F12 query: the master node module's ID (2019)."""
    AFN, FN = 0x03, 12


@register
class ModuleId(Unit):
    """AFN03 F12 reply: vendor (2 ASCII, as 03F1), ID length, ID format (0 combined, 1 BCD,
    2 BIN, 3 ASCII), the ID (at most 50 bytes), table 32."""

    AFN, FN, UP = 0x03, 12, True
    MAX_ID = 50

    def __init__(self, vendor, ident, fmt=ID_BIN):
        self.vendor = vendor
        self.ident = bytes(ident)
        self.fmt = fmt

    def payload(self):
        v = self.vendor.encode()
        if len(v) != 2 or len(self.ident) > self.MAX_ID:
            raise EncodeError("module id", "2-character vendor and at most 50 ID bytes")
        return v[::-1] + bytes([len(self.ident), self.fmt]) + self.ident

    @classmethod
    def parse(cls, data):
        need(data, 4, "module id")
        exact(data, 4 + data[2], "module id")
        try:
            vendor = bytes(data[0:2][::-1]).decode()
        except UnicodeError:
            raise DecodeError("vendor", "vendor code must be ASCII", data[0:2], 0) from None
        return cls(vendor, data[4:], data[3])
