"""AFN06 主动上报: what the module reports on its own (10376.2-2019 section 6.5.7)."""
from protocols.gdw1376_2.afn.base import (Carried, Unit, addr6, exact, frame_field, need, p16,
                                          register, u16)

ROUTE_READ_DONE = 1     # 06F3 route task change: reading task finished
ROUTE_SEARCH_DONE = 2   # 06F3: meter search (registration) finished
ROUTE_AREA_DONE = 3     # 06F3: area detection finished (2019)

DEVICE_COLLECTOR = 0    # 06F4 device type: collector (采集器)
DEVICE_METER = 1        # 06F4 device type: meter

POWER_OFF = 1           # 06F5 protocol 04 content: communication unit event type (2019)
POWER_ON = 2


@register
class ReportSlaves(Unit):
    """AFN06 F1 上报从节点信息: (address, protocol, index) per node (table 50)."""

    AFN, FN, UP = 0x06, 1, True

    def __init__(self, nodes):
        self.nodes = [(bytes(a), p, i) for a, p, i in nodes]

    def payload(self):
        return bytes([len(self.nodes)]) + b"".join(addr6(a) + bytes([p]) + p16(i)
                                                   for a, p, i in self.nodes)

    @classmethod
    def parse(cls, data):
        need(data, 1, "slave report")
        exact(data, 1 + 9 * data[0], "slave report")
        return cls([(data[1 + 9 * k:7 + 9 * k], data[7 + 9 * k], u16(data, 8 + 9 * k))
                    for k in range(data[0])])


@register
class ReportReadData(Carried):
    """AFN06 F2 上报抄读数据: slave index, protocol, uplink duration, L, frame (table 51)."""

    AFN, FN, UP = 0x06, 2, True

    def __init__(self, index, protocol, body, duration_s=0):
        Carried.__init__(self, protocol, body)
        self.index = index
        self.duration_s = duration_s

    def payload(self):
        return p16(self.index) + bytes([self.protocol]) + p16(self.duration_s) + self.tail()

    @classmethod
    def parse(cls, data):
        need(data, 6, "read data report")
        return cls(u16(data, 0), data[2], frame_field(data, 6, data[5], "report frame"),
                   u16(data, 3))


@register
class ReportRouteChange(Unit):
    """AFN06 F3 上报路由工况变动: 1 reading finished, 2 search finished, 3 area detection
    finished (table 52)."""

    AFN, FN, UP = 0x06, 3, True

    def __init__(self, kind):
        self.kind = kind

    def payload(self):
        return bytes([self.kind])

    @classmethod
    def parse(cls, data):
        exact(data, 1, "route change")
        return cls(data[0])


class Device:
    """One node of a 06F4 report: the node, its type and the RS-485 meters behind a collector."""

    def __init__(self, addr, protocol, index, kind=DEVICE_METER, total=0, subs=()):
        self.addr = bytes(addr)
        self.protocol = protocol
        self.index = index
        self.kind = kind
        self.total = total                  # meters behind the collector (M, all frames)
        self.subs = [(bytes(a), p) for a, p in subs]    # those carried in this frame (m)

    def encode(self):
        return (addr6(self.addr) + bytes([self.protocol]) + p16(self.index)
                + bytes([self.kind, self.total, len(self.subs)])
                + b"".join(addr6(a) + bytes([p]) for a, p in self.subs))

    def __eq__(self, other):
        return isinstance(other, Device) and self.encode() == other.encode()

    def __repr__(self):
        return "Device(%s, proto=%d, index=%d, kind=%d, subs=%d)" % (
            self.addr[::-1].hex(), self.protocol, self.index, self.kind, len(self.subs))


@register
class ReportDevices(Unit):
    """AFN06 F4 上报从节点信息及设备类型 (registration results, table 53): per node address,
    protocol, index, device type (0 collector, 1 meter), M meters behind it, m carried here,
    then m (address, protocol)."""

    AFN, FN, UP = 0x06, 4, True

    def __init__(self, devices):
        self.devices = list(devices)

    def payload(self):
        return bytes([len(self.devices)]) + b"".join(d.encode() for d in self.devices)

    @classmethod
    def parse(cls, data):
        need(data, 1, "device report")
        devices, i = [], 1
        for _ in range(data[0]):
            need(data, i + 12, "device report")
            m = data[i + 11]
            need(data, i + 12 + 7 * m, "device report")
            subs = [(data[i + 12 + 7 * k:i + 18 + 7 * k], data[i + 18 + 7 * k]) for k in range(m)]
            devices.append(Device(data[i:i + 6], data[i + 6], u16(data, i + 7), data[i + 9],
                                  data[i + 10], subs))
            i += 12 + 7 * m
        exact(data, i, "device report")
        return cls(devices)


@register
class ReportEvent(Carried):
    """AFN06 F5 上报从节点事件: device type, protocol, L, the meter's event frame (table 54).
    With protocol 04 (2019) the content is one event type byte (1 off, 2 on) and the 6-byte
    addresses of the units it happened to."""

    AFN, FN, UP = 0x06, 5, True

    def __init__(self, protocol, body, device=1):
        Carried.__init__(self, protocol, body)
        self.device = device

    def payload(self):
        return bytes([self.device, self.protocol]) + self.tail()

    @classmethod
    def parse(cls, data):
        need(data, 3, "event report")
        return cls(data[1], frame_field(data, 3, data[2], "event frame"), data[0])

    def power_event(self):
        """(event type, [addresses]) of a protocol 04 report of meters (device type not 00)."""
        body = self.body
        return body[0] if body else 0, [body[i:i + 6] for i in range(1, len(body) - 5, 6)]
