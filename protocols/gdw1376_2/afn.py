"""Q/GDW 1376.2 data units: typed values for the AFN/Fn pairs the module emulation serves.

Each class has ``AFN``, ``FN``, ``UP`` (True for module -> concentrator), ``payload()`` -> bytes
and ``parse(data)`` -> instance (raises DecodeError). ``unit_of(frame)`` picks the class.
Layouts follow Q/GDW 1376.2-2013 as read in public implementations (PROTOCOLS.md); the HPLC
concurrent-read unit (AFN F1) is marked UNVERIFIED there and here.
"""
from protocols.bcd import byte_to_int, int_to_byte
from protocols.gdw1376_2.errors import DecodeError, EncodeError
from protocols.gdw1376_2.frame import COMM_HPLC, Frame, down_info, up_info

# Communication protocol type of a slave node / forwarded frame (通信协议类型).
PROTO_TRANSPARENT = 0
PROTO_645_1997 = 1
PROTO_645_2007 = 2
PROTO_698 = 3

# Deny reasons (否认 AFN00 F2 错误状态字).
DENY_TIMEOUT = 0
DENY_INVALID_UNIT = 1
DENY_LENGTH = 2
DENY_CHECKSUM = 3
DENY_NO_SUCH_CLASS = 4
DENY_FORMAT = 5
DENY_DUPLICATE_METER = 6
DENY_NO_SUCH_METER = 7
DENY_METER_SILENT = 8
DENY_BUSY = 9
DENY_UNSUPPORTED = 10
DENY_SLAVE_SILENT = 11
DENY_NOT_IN_NETWORK = 12
DENY_NAMES = ("communication timeout", "invalid data unit", "length error", "checksum error",
              "no such information class", "format error", "duplicate meter", "no such meter",
              "meter application layer silent", "master node busy", "unsupported command",
              "slave node silent", "slave node not in network")

ROUTE_READ_DONE = 1     # 06F3 route task change: reading task finished
ROUTE_SEARCH_DONE = 2   # 06F3: meter search finished

_REGISTRY: dict = {}


def _register(cls):
    _REGISTRY[(cls.AFN, cls.FN, cls.UP)] = cls
    if cls.AFN == 0x00:
        _REGISTRY[(cls.AFN, cls.FN, not cls.UP)] = cls    # confirm/deny go both ways
    return cls


def _u16(data, i):
    return data[i] | (data[i + 1] << 8)


def _p16(v):
    if not 0 <= v <= 0xFFFF:
        raise EncodeError("u16", "%r does not fit two bytes" % (v,))
    return bytes([v & 0xFF, v >> 8])


def _need(data, n, name):
    if len(data) < n:
        raise DecodeError(name, "needs %d bytes, got %d" % (n, len(data)), data, 0)


def _exact(data, n, name):
    if len(data) != n:
        raise DecodeError(name, "needs exactly %d bytes, got %d" % (n, len(data)), data, 0)


def _frame_field(data, i, n, name):
    """A carried meter frame of length ``n`` at ``data[i]``; must end the unit exactly."""
    if len(data) != i + n:
        raise DecodeError(name, "frame length %d does not match the %d bytes carried"
                          % (n, len(data) - i), data, i)
    return data[i:i + n]


class Unit:
    """Base of the data units; equality by class and payload."""

    AFN = -1
    FN = -1
    UP = False

    def payload(self):
        return b""

    @classmethod
    def parse(cls, data):
        _exact(data, 0, cls.__name__)
        return cls()

    def __eq__(self, other):
        return type(self) is type(other) and self.payload() == other.payload()

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (k, v) for k, v in sorted(self.__dict__.items())))


@_register
class Confirm(Unit):
    """AFN00 F1 确认: channel status word and the seconds the sender will be busy."""

    AFN, FN, UP = 0x00, 1, True

    def __init__(self, channels=0xFFFF, wait_s=0):
        self.channels = channels
        self.wait_s = wait_s

    def payload(self):
        return _p16(self.channels) + _p16(self.wait_s)

    @classmethod
    def parse(cls, data):
        _exact(data, 4, "confirm")
        return cls(_u16(data, 0), _u16(data, 2))


@_register
class Deny(Unit):
    """AFN00 F2 否认 with its error status byte."""

    AFN, FN, UP = 0x00, 2, True

    def __init__(self, code):
        self.code = code

    @property
    def reason(self):
        return DENY_NAMES[self.code] if self.code < len(DENY_NAMES) else "code %d" % self.code

    def payload(self):
        return bytes([self.code & 0xFF])

    @classmethod
    def parse(cls, data):
        _exact(data, 1, "deny")
        return cls(data[0])


class _Down(Unit):
    UP = False


@_register
class ModuleInfoQuery(_Down):
    """AFN03 F1 query: vendor code and version (厂商代码和版本信息)."""
    AFN, FN = 0x03, 1


@_register
class ModuleInfo(Unit):
    """AFN03 F1 reply: vendor (2 ASCII), chip (2 ASCII), version date DD MM YY (BCD), version (BCD)."""

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
        _exact(data, 9, "module info")
        try:
            vendor = bytes(data[0:2][::-1]).decode()
            chip = bytes(data[2:4][::-1]).decode()
        except UnicodeError:
            raise DecodeError("vendor", "vendor/chip codes must be ASCII", data[0:4], 0) from None
        date = (byte_to_int(data[4]), byte_to_int(data[5]), byte_to_int(data[6]))
        return cls(vendor, chip, date, byte_to_int(data[7]) + 100 * byte_to_int(data[8]))


@_register
class MasterAddressQuery(_Down):
    """AFN03 F4 query: the master node (module) address."""
    AFN, FN = 0x03, 4


class _Address(Unit):
    def __init__(self, addr):
        self.addr = bytes(addr)

    def payload(self):
        if len(self.addr) != 6:
            raise EncodeError("address", "addresses are 6 bytes")
        return self.addr

    @classmethod
    def parse(cls, data):
        _exact(data, 6, "address")
        return cls(data)


@_register
class MasterAddress(_Address):
    """AFN03 F4 reply: master node address (6 bytes, low first)."""
    AFN, FN, UP = 0x03, 4, True


@_register
class SetMasterAddress(_Address):
    """AFN05 F1 set the master node address."""
    AFN, FN, UP = 0x05, 1, False


@_register
class SlaveCountQuery(_Down):
    """AFN10 F1 query: number of slave nodes."""
    AFN, FN = 0x10, 1


@_register
class SlaveCount(Unit):
    """AFN10 F1 reply: slave count and the most the router supports."""

    AFN, FN, UP = 0x10, 1, True

    def __init__(self, count, capacity):
        self.count = count
        self.capacity = capacity

    def payload(self):
        return _p16(self.count) + _p16(self.capacity)

    @classmethod
    def parse(cls, data):
        _exact(data, 4, "slave count")
        return cls(_u16(data, 0), _u16(data, 2))


@_register
class SlaveInfoQuery(Unit):
    """AFN10 F2 query: ``count`` slave nodes from index ``start`` (1-based)."""

    AFN, FN, UP = 0x10, 2, False

    def __init__(self, start, count):
        self.start = start
        self.count = count

    def payload(self):
        return _p16(self.start) + bytes([self.count & 0xFF])

    @classmethod
    def parse(cls, data):
        _exact(data, 3, "slave info query")
        return cls(_u16(data, 0), data[2])


class SlaveNode:
    """A slave node as 10F2 reports it: relay level, signal quality, phase, protocol."""

    def __init__(self, addr, level=0, quality=0, phase=0, protocol=PROTO_645_2007):
        self.addr = bytes(addr)
        self.level = level
        self.quality = quality
        self.phase = phase
        self.protocol = protocol

    def word(self):
        # D3..D0 relay level, D7..D4 signal quality, D10..D8 phase, D13..D11 protocol type
        return ((self.level & 0x0F) | ((self.quality & 0x0F) << 4) | ((self.phase & 7) << 8)
                | ((self.protocol & 7) << 11))

    def __eq__(self, other):
        return isinstance(other, SlaveNode) and (self.addr, self.word()) == (other.addr, other.word())

    def __repr__(self):
        return "SlaveNode(%s, level=%d, quality=%d, phase=%d, protocol=%d)" % (
            self.addr[::-1].hex(), self.level, self.quality, self.phase, self.protocol)


@_register
class SlaveInfo(Unit):
    """AFN10 F2 reply: total count, then the nodes of this page."""

    AFN, FN, UP = 0x10, 2, True

    def __init__(self, total, nodes):
        self.total = total
        self.nodes = list(nodes)

    def payload(self):
        out = bytearray(_p16(self.total) + bytes([len(self.nodes)]))
        for n in self.nodes:
            out += n.addr + _p16(n.word())
        return bytes(out)

    @classmethod
    def parse(cls, data):
        _need(data, 3, "slave info")
        n = data[2]
        _exact(data, 3 + 8 * n, "slave info")
        nodes = []
        for k in range(n):
            i = 3 + 8 * k
            w = _u16(data, i + 6)
            nodes.append(SlaveNode(data[i:i + 6], w & 0x0F, (w >> 4) & 0x0F, (w >> 8) & 7, (w >> 11) & 7))
        return cls(_u16(data, 0), nodes)


@_register
class RouteStatusQuery(_Down):
    """AFN10 F4 query: router run status."""
    AFN, FN = 0x10, 4


@_register
class RouteStatus(Unit):
    """AFN10 F4 reply (UNVERIFIED layout, simplified): flags (D0 done, D1 working), total nodes,
    nodes read, nodes read through relays, working switch, rate, deepest relay level."""

    AFN, FN, UP = 0x10, 4, True

    def __init__(self, done, working, total, read, relayed, rate=0, depth=0):
        self.done = bool(done)
        self.working = bool(working)
        self.total = total
        self.read = read
        self.relayed = relayed
        self.rate = rate
        self.depth = depth

    def payload(self):
        return (bytes([int(self.done) | (int(self.working) << 1)]) + _p16(self.total)
                + _p16(self.read) + _p16(self.relayed) + bytes([int(self.working)])
                + _p16(self.rate) + bytes([self.depth & 0x0F]))

    @classmethod
    def parse(cls, data):
        _exact(data, 11, "route status")
        return cls(data[0] & 1, data[0] & 2, _u16(data, 1), _u16(data, 3), _u16(data, 5),
                   _u16(data, 8), data[10])


@_register
class AddSlaves(Unit):
    """AFN11 F1 add slave nodes: (address, protocol type) pairs."""

    AFN, FN, UP = 0x11, 1, False

    def __init__(self, nodes):
        self.nodes = [(bytes(a), p) for a, p in nodes]

    def payload(self):
        out = bytearray([len(self.nodes)])
        for a, p in self.nodes:
            if len(a) != 6:
                raise EncodeError("address", "addresses are 6 bytes")
            out += a + bytes([p])
        return bytes(out)

    @classmethod
    def parse(cls, data):
        _need(data, 1, "add slaves")
        n = data[0]
        _exact(data, 1 + 7 * n, "add slaves")
        return cls([(data[1 + 7 * k:7 + 7 * k], data[7 + 7 * k]) for k in range(n)])


@_register
class DeleteSlaves(Unit):
    """AFN11 F2 delete slave nodes by address."""

    AFN, FN, UP = 0x11, 2, False

    def __init__(self, addrs):
        self.addrs = [bytes(a) for a in addrs]

    def payload(self):
        return bytes([len(self.addrs)]) + b"".join(self.addrs)

    @classmethod
    def parse(cls, data):
        _need(data, 1, "delete slaves")
        n = data[0]
        _exact(data, 1 + 6 * n, "delete slaves")
        return cls([data[1 + 6 * k:7 + 6 * k] for k in range(n)])


@_register
class RouteRestart(_Down):
    """AFN12 F1 restart the router (重启)."""
    AFN, FN = 0x12, 1


@_register
class RoutePause(_Down):
    """AFN12 F2 pause the router (暂停) so the concentrator may drive reading."""
    AFN, FN = 0x12, 2


@_register
class RouteResume(_Down):
    """AFN12 F3 resume the router (恢复)."""
    AFN, FN = 0x12, 3


class _Carried(Unit):
    """A unit that carries one meter frame: protocol(1) + L + frame."""

    LEN2 = False

    def __init__(self, protocol, body):
        self.protocol = protocol
        self.body = bytes(body)

    def _tail(self):
        n = len(self.body)
        if n > (0xFFFF if self.LEN2 else 0xFF):
            raise EncodeError("L", "carried frame of %d bytes is too long" % n)
        return (_p16(n) if self.LEN2 else bytes([n])) + self.body


@_register
class Forward(_Carried):
    """AFN02 F1 transparent forward (down): protocol + L + frame."""

    AFN, FN, UP = 0x02, 1, False

    def payload(self):
        return bytes([self.protocol]) + self._tail()

    @classmethod
    def parse(cls, data):
        _need(data, 2, "forward")
        return cls(data[0], _frame_field(data, 2, data[1], "forward frame"))


@_register
class ForwardReply(Forward):
    """AFN02 F1 (up): the reply carried back."""
    AFN, FN, UP = 0x02, 1, True


@_register
class StartBroadcast(Forward):
    """AFN05 F3 启动广播 (down): control word (protocol type) + L + the frame every node gets.
    The module confirms with the seconds the broadcast will take (00F1 wait time)."""

    AFN, FN, UP = 0x05, 3, False


@_register
class MonitorRequest(_Carried):
    """AFN13 F1 监控从节点 (down): protocol, delay-related flag, attached nodes, L, frame."""

    AFN, FN, UP = 0x13, 1, False

    def __init__(self, protocol, body, delay_related=0, attached=()):
        _Carried.__init__(self, protocol, body)
        self.delay_related = delay_related
        self.attached = [bytes(a) for a in attached]

    def payload(self):
        return (bytes([self.protocol, self.delay_related, len(self.attached)])
                + b"".join(self.attached) + self._tail())

    @classmethod
    def parse(cls, data):
        _need(data, 4, "monitor request")
        n = data[2]
        _need(data, 4 + 6 * n, "monitor request")
        i = 3 + 6 * n
        attached = [data[3 + 6 * k:9 + 6 * k] for k in range(n)]
        return cls(data[0], _frame_field(data, i + 1, data[i], "monitor frame"), data[1], attached)


@_register
class MonitorReply(_Carried):
    """AFN13 F1 (up): local uplink duration (s), protocol, L, frame."""

    AFN, FN, UP = 0x13, 1, True

    def __init__(self, protocol, body, duration_s=0):
        _Carried.__init__(self, protocol, body)
        self.duration_s = duration_s

    def payload(self):
        return _p16(self.duration_s) + bytes([self.protocol]) + self._tail()

    @classmethod
    def parse(cls, data):
        _need(data, 4, "monitor reply")
        return cls(data[2], _frame_field(data, 4, data[3], "monitor frame"), _u16(data, 0))


@_register
class ConcurrentRequest(_Carried):
    """AFN F1 F1 HPLC concurrent read (down, UNVERIFIED): protocol, reserved, L(2), frame."""

    AFN, FN, UP, LEN2 = 0xF1, 1, False, True

    def payload(self):
        return bytes([self.protocol, 0]) + self._tail()

    @classmethod
    def parse(cls, data):
        _need(data, 4, "concurrent request")
        return cls(data[0], _frame_field(data, 4, _u16(data, 2), "concurrent frame"))


@_register
class ConcurrentReply(_Carried):
    """AFN F1 F1 (up, UNVERIFIED): protocol, L(2), frame."""

    AFN, FN, UP, LEN2 = 0xF1, 1, True, True

    def payload(self):
        return bytes([self.protocol]) + self._tail()

    @classmethod
    def parse(cls, data):
        _need(data, 3, "concurrent reply")
        return cls(data[0], _frame_field(data, 3, _u16(data, 1), "concurrent frame"))


@_register
class ReportReadData(_Carried):
    """AFN06 F2 上报抄读数据: slave index, protocol, uplink duration, L, frame."""

    AFN, FN, UP = 0x06, 2, True

    def __init__(self, index, protocol, body, duration_s=0):
        _Carried.__init__(self, protocol, body)
        self.index = index
        self.duration_s = duration_s

    def payload(self):
        return _p16(self.index) + bytes([self.protocol]) + _p16(self.duration_s) + self._tail()

    @classmethod
    def parse(cls, data):
        _need(data, 6, "read data report")
        return cls(_u16(data, 0), data[2], _frame_field(data, 6, data[5], "report frame"), _u16(data, 3))


@_register
class ReportRouteChange(Unit):
    """AFN06 F3 上报路由工况变动: 1 reading task finished, 2 meter search finished."""

    AFN, FN, UP = 0x06, 3, True

    def __init__(self, kind):
        self.kind = kind

    def payload(self):
        return bytes([self.kind])

    @classmethod
    def parse(cls, data):
        _exact(data, 1, "route change")
        return cls(data[0])


@_register
class ReportEvent(_Carried):
    """AFN06 F5 上报从节点事件: device type, protocol, L, the meter's event frame."""

    AFN, FN, UP = 0x06, 5, True

    def __init__(self, protocol, body, device=1):
        _Carried.__init__(self, protocol, body)
        self.device = device

    def payload(self):
        return bytes([self.device, self.protocol]) + self._tail()

    @classmethod
    def parse(cls, data):
        _need(data, 3, "event report")
        return cls(data[1], _frame_field(data, 3, data[2], "event frame"), data[0])


@_register
class RouterRequest(Unit):
    """AFN14 F1 路由请求抄读内容 (up): phase, slave address, slave index."""

    AFN, FN, UP = 0x14, 1, True

    def __init__(self, phase, addr, index):
        self.phase = phase
        self.addr = bytes(addr)
        self.index = index

    def payload(self):
        return bytes([self.phase]) + self.addr + _p16(self.index)

    @classmethod
    def parse(cls, data):
        _exact(data, 9, "router request")
        return cls(data[0], data[1:7], _u16(data, 7))


READ_FAIL = 0           # 14F1 answer flag: give up this node
READ_DONE = 1           # success / nothing to read
READ_GO = 2             # read the carried frame


@_register
class RouterRequestAnswer(Unit):
    """AFN14 F1 (down): read flag, delay-related flag, L, frame, attached nodes."""

    AFN, FN, UP = 0x14, 1, False

    def __init__(self, flag, body=b"", delay_related=0, attached=()):
        self.flag = flag
        self.body = bytes(body)
        self.delay_related = delay_related
        self.attached = [bytes(a) for a in attached]

    def payload(self):
        if len(self.body) > 0xFF:
            raise EncodeError("L", "carried frame too long")
        return (bytes([self.flag, self.delay_related, len(self.body)]) + self.body
                + bytes([len(self.attached)]) + b"".join(self.attached))

    @classmethod
    def parse(cls, data):
        _need(data, 4, "router answer")
        n = data[2]
        _need(data, 4 + n, "router answer")
        m = data[3 + n]
        _exact(data, 4 + n + 6 * m, "router answer")
        att = [data[4 + n + 6 * k:10 + n + 6 * k] for k in range(m)]
        return cls(data[0], data[3:3 + n], data[1], att)


class Unknown(Unit):
    """An AFN/Fn this codec has no layout for; the data is kept as bytes."""

    def __init__(self, afn, fn, up, data):
        self.afn = afn
        self.fn = fn
        self.up = up
        self.data = bytes(data)

    def payload(self):
        return self.data


def unit_class(afn, fn, up):
    return _REGISTRY.get((afn, fn, up))


def unit_of(frame):
    """The typed data unit of ``frame`` (``Unknown`` when the codec has no layout)."""
    cls = _REGISTRY.get((frame.afn, frame.fn, not frame.down))
    if cls is None:
        return Unknown(frame.afn, frame.fn, not frame.down, frame.data)
    return cls.parse(frame.data)


def to_frame(unit, seq=0, up=None, src=None, dst=None, relays=(), comm=COMM_HPLC, info=None):
    """A Frame for ``unit``; ``up`` defaults to the unit's direction (confirm/deny go both ways).

    PRM is 1 for requests and for the module's own reports (AFN06, AFN14), 0 for answers.
    """
    up = unit.UP if up is None else up
    if info is None:
        info = up_info(seq=seq) if up else down_info(seq=seq)
    prm = unit.AFN in (0x06, 0x14) if up else unit.AFN not in (0x00, 0x14)
    return Frame(unit.AFN, unit.FN, unit.payload(), down=not up, prm=prm, comm=comm, info=info,
                 src=src, relays=relays, dst=dst)
