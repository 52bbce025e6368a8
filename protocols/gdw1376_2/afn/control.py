"""AFN00 confirm/deny, AFN01 initialisation, AFN04 link tests, AFN05 control commands."""
from protocols.gdw1376_2.errors import DecodeError, EncodeError
from protocols.gdw1376_2.afn.base import (DENY_NAMES, Down, Fields, Unit, addr6, exact, need,
                                          p16, p32, register, u16, u32)
from protocols.gdw1376_2.afn.read import Forward

CONFIRM_BYTES = 6           # 2013 and 2019 editions: BS32 status + wait (10376.2-2019 table 9)
CONFIRM_LEGACY_BYTES = 4    # 2009-era modules: BS16 channel status + wait (UNVERIFIED, see docs)
ALL_IDLE_DONE = 0xFFFFFFFF  # D0 = 1 command processed, D1..D31 = 1 every channel idle


@register
class Confirm(Unit):
    """AFN00 F1 确认: status word (D0 command processed, D1.. channel idle) and the seconds the
    concentrator should wait before it asks again (等待时间). ``legacy``: the 4-byte form."""

    AFN, FN, UP = 0x00, 1, True

    def __init__(self, channels=ALL_IDLE_DONE, wait_s=0, legacy=False):
        self.channels = channels
        self.wait_s = wait_s
        self.legacy = bool(legacy)

    @property
    def done(self):
        """Command status: processed (the 6-byte form's D0; always true in the 4-byte form)."""
        return self.legacy or bool(self.channels & 1)

    def payload(self):
        if self.legacy:
            return p16(self.channels & 0xFFFF) + p16(self.wait_s)
        return p32(self.channels) + p16(self.wait_s)

    @classmethod
    def parse(cls, data):
        if len(data) == CONFIRM_LEGACY_BYTES:
            return cls(u16(data, 0), u16(data, 2), legacy=True)
        if len(data) != CONFIRM_BYTES:
            raise DecodeError("confirm", "needs %d (or %d) bytes, got %d" % (
                CONFIRM_BYTES, CONFIRM_LEGACY_BYTES, len(data)), data, 0)
        return cls(u32(data, 0), u16(data, 4))


@register
class Deny(Unit):
    """AFN00 F2 否认 with its error status byte (table 10)."""

    AFN, FN, UP = 0x00, 2, True

    def __init__(self, code):
        self.code = code

    @property
    def reason(self):
        return DENY_NAMES.get(self.code, "code %d" % self.code)

    def payload(self):
        return bytes([self.code & 0xFF])

    @classmethod
    def parse(cls, data):
        exact(data, 1, "deny")
        return cls(data[0])


@register
class HardwareInit(Down):
    """AFN01 F1 硬件初始化 (reset)."""
    AFN, FN = 0x01, 1


@register
class ParameterInit(Down):
    """AFN01 F2 参数区初始化: clear every slave node record."""
    AFN, FN = 0x01, 2


@register
class DataInit(Down):
    """AFN01 F3 数据区初始化: clear every slave node's communication data (routes)."""
    AFN, FN = 0x01, 3


@register
class SendTest(Fields):
    """AFN04 F1 发送测试: send alternating 0/1 for ``duration_s`` (0 stops), table 36."""
    AFN, FN, UP = 0x04, 1, False
    FIELDS = (("duration_s", 1),)


@register
class RollCall(Down):
    """AFN04 F2 从节点点名."""
    AFN, FN = 0x04, 2


@register
class CommTest(Unit):
    """AFN04 F3 本地通信模块报文通信测试: rate, target address, protocol, L, frame (table 37)."""

    AFN, FN, UP = 0x04, 3, False

    def __init__(self, rate, addr, protocol, body):
        self.rate = rate
        self.addr = bytes(addr)
        self.protocol = protocol
        self.body = bytes(body)

    def payload(self):
        if len(self.body) > 0xFF:
            raise EncodeError("L", "test frame too long")
        return (bytes([self.rate]) + addr6(self.addr) + bytes([self.protocol, len(self.body)])
                + self.body)

    @classmethod
    def parse(cls, data):
        need(data, 9, "comm test")
        exact(data, 9 + data[8], "comm test")
        return cls(data[0], data[1:7], data[7], data[9:])


@register
class SetMasterAddress(Fields):
    """AFN05 F1 设置主节点地址 (table 39)."""
    AFN, FN, UP = 0x05, 1, False
    FIELDS = (("addr", 6),)


@register
class EventReporting(Fields):
    """AFN05 F2 允许/禁止从节点上报: 0 forbid, 1 allow (table 40)."""
    AFN, FN, UP = 0x05, 2, False
    FIELDS = (("allow", 1),)


@register
class StartBroadcast(Forward):
    """AFN05 F3 启动广播 (down): control word (protocol type; 3 = phase detection) + L + the
    frame every node gets (table 41). The module confirms with the seconds it will take."""

    AFN, FN, UP = 0x05, 3, False


@register
class SetMonitorTimeout(Fields):
    """AFN05 F4 设置从节点监控最大超时时间 in seconds (table 42)."""
    AFN, FN, UP = 0x05, 4, False
    FIELDS = (("timeout_s", 1),)


@register
class SetWireless(Fields):
    """AFN05 F5 设置无线通信参数: channel group (254 auto, 255 keep), power 0..3 (table 43)."""
    AFN, FN, UP = 0x05, 5, False
    FIELDS = (("group", 1), ("power", 1))


@register
class AreaDetection(Fields):
    """AFN05 F6 允许/禁止台区识别: 0 forbid, 1 allow (2019, table 44)."""
    AFN, FN, UP = 0x05, 6, False
    FIELDS = (("allow", 1),)


@register
class SetNodeTime(Fields):
    """AFN05 F101 设置中心节点时间: ss mm hh DD MM YY in BCD, kept as the 6 wire bytes (table 47)."""
    AFN, FN, UP = 0x05, 101, False
    FIELDS = (("time", 6),)
