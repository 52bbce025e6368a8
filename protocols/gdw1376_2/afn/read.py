"""Units that carry meter frames: AFN02 forward, AFN13 monitor, AFN14 router-driven reading,
AFN F1 concurrent reading (10376.2-2019 sections 6.5.3, 6.5.11, 6.5.12, 6.5.15)."""
from protocols.gdw1376_2.errors import EncodeError
from protocols.gdw1376_2.afn.base import (Carried, Fields, Unit, addr6, exact, frame_field,
                                          need, p16, p8, register, u16)


@register
class Forward(Carried):
    """AFN02 F1 transparent forward (down): protocol + L + frame (table 13)."""

    AFN, FN, UP = 0x02, 1, False

    def payload(self):
        return bytes([self.protocol]) + self.tail()

    @classmethod
    def parse(cls, data):
        need(data, 2, "forward")
        return cls(data[0], frame_field(data, 2, data[1], "forward frame"))


@register
class ForwardReply(Forward):
    """AFN02 F1 (up): the reply carried back (table 14)."""
    AFN, FN, UP = 0x02, 1, True


@register
class MonitorRequest(Carried):
    """AFN13 F1 监控从节点 (down): protocol, delay-related flag, attached nodes, L, frame
    (table 108)."""

    AFN, FN, UP = 0x13, 1, False

    def __init__(self, protocol, body, delay_related=0, attached=()):
        Carried.__init__(self, protocol, body)
        self.delay_related = delay_related
        self.attached = [bytes(a) for a in attached]

    def payload(self):
        return (bytes([self.protocol, self.delay_related, len(self.attached)])
                + b"".join(self.attached) + self.tail())

    @classmethod
    def parse(cls, data):
        need(data, 4, "monitor request")
        n = data[2]
        need(data, 4 + 6 * n, "monitor request")
        i = 3 + 6 * n
        attached = [data[3 + 6 * k:9 + 6 * k] for k in range(n)]
        return cls(data[0], frame_field(data, i + 1, data[i], "monitor frame"), data[1], attached)


@register
class MonitorReply(Carried):
    """AFN13 F1 (up): local uplink duration (s), protocol, L, frame (table 109)."""

    AFN, FN, UP = 0x13, 1, True

    def __init__(self, protocol, body, duration_s=0):
        Carried.__init__(self, protocol, body)
        self.duration_s = duration_s

    def payload(self):
        return p16(self.duration_s) + bytes([self.protocol]) + self.tail()

    @classmethod
    def parse(cls, data):
        need(data, 4, "monitor reply")
        return cls(data[2], frame_field(data, 4, data[3], "monitor frame"), u16(data, 0))


@register
class ConcurrentRequest(Carried):
    """AFN F1 F1 集中器主动并发抄表 (down): protocol, reserved, L(2), frame (table 122)."""

    AFN, FN, UP, LEN2 = 0xF1, 1, False, True

    def payload(self):
        return bytes([self.protocol, 0]) + self.tail()

    @classmethod
    def parse(cls, data):
        need(data, 4, "concurrent request")
        return cls(data[0], frame_field(data, 4, u16(data, 2), "concurrent frame"))


@register
class ConcurrentReply(Carried):
    """AFN F1 F1 (up): protocol, L(2), frame; L = 0 when the meter was not read, the frame's
    A1 then names it (table 123)."""

    AFN, FN, UP, LEN2 = 0xF1, 1, True, True

    def payload(self):
        return bytes([self.protocol]) + self.tail()

    @classmethod
    def parse(cls, data):
        need(data, 3, "concurrent reply")
        return cls(data[0], frame_field(data, 3, u16(data, 1), "concurrent frame"))


@register
class RouterRequest(Unit):
    """AFN14 F1 路由请求抄读内容 (up): phase (0 unknown, 1..3), slave address, slave index
    (table 111)."""

    AFN, FN, UP = 0x14, 1, True

    def __init__(self, phase, addr, index):
        self.phase = phase
        self.addr = bytes(addr)
        self.index = index

    def payload(self):
        return bytes([self.phase]) + addr6(self.addr) + p16(self.index)

    @classmethod
    def parse(cls, data):
        exact(data, 9, "router request")
        return cls(data[0], data[1:7], u16(data, 7))


READ_FAIL = 0           # 14F1 answer flag: reading failed, L = 0
READ_DONE = 1           # reading succeeded (nothing more for this node), L = 0
READ_GO = 2             # read the carried frame


@register
class RouterRequestAnswer(Unit):
    """AFN14 F1 (down): read flag, delay-related flag, L, frame, attached nodes (table 114)."""

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
        need(data, 4, "router answer")
        n = data[2]
        need(data, 4 + n, "router answer")
        m = data[3 + n]
        exact(data, 4 + n + 6 * m, "router answer")
        att = [data[4 + n + 6 * k:10 + n + 6 * k] for k in range(m)]
        return cls(data[0], data[3:3 + n], data[1], att)


@register
class ClockRequest(Unit):
    """AFN14 F2 路由请求集中器时钟 (up, no data)."""
    AFN, FN, UP = 0x14, 2, True


@register
class ClockAnswer(Fields):
    """AFN14 F2 (down): ss mm hh DD MM YY in BCD, kept as the 6 wire bytes (table 115)."""
    AFN, FN, UP = 0x14, 2, False
    FIELDS = (("time", 6),)


@register
class DelayCorrectRequest(Unit):
    """AFN14 F3 请求依通信延时修正通信数据 (up): slave address, expected delay (s), L, the frame
    the concentrator gave (table 112)."""

    AFN, FN, UP = 0x14, 3, True

    def __init__(self, addr, delay_s, body):
        self.addr = bytes(addr)
        self.delay_s = delay_s
        self.body = bytes(body)

    def payload(self):
        return addr6(self.addr) + p16(self.delay_s) + p8(len(self.body), "L") + self.body

    @classmethod
    def parse(cls, data):
        need(data, 9, "delay correction request")
        return cls(data[0:6], u16(data, 6), frame_field(data, 9, data[8], "correction frame"))


@register
class DelayCorrectAnswer(Unit):
    """AFN14 F3 (down): L + the corrected frame; L = 0 gives this exchange up (table 116)."""

    AFN, FN, UP = 0x14, 3, False

    def __init__(self, body):
        self.body = bytes(body)

    def payload(self):
        return p8(len(self.body), "L") + self.body

    @classmethod
    def parse(cls, data):
        need(data, 1, "delay correction")
        return cls(frame_field(data, 1, data[0], "corrected frame"))
