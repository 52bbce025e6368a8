"""AFN10 路由查询, AFN11 路由设置, AFN12 路由控制 (10376.2-2019 sections 6.5.8-6.5.10)."""
from protocols.gdw1376_2.errors import EncodeError
from protocols.gdw1376_2.afn.base import (PROTO_645_2007, Down, Fields, PageQuery, Unit, addr6,
                                          exact, need, p16, p8, register, u16)

ROLE_STA = 1            # 10F21 node role (节点角色, table 85 c): end station
ROLE_PCO = 2            # proxy (relay)
ROLE_CCO = 4            # the coordinator (master node)


def phase_mask(phase):
    """Phase 1..3 as the bit of 10F2/10F31 (D8, D9, D10 = phase 1, 2, 3); 0 unknown -> 0."""
    return 1 << (phase - 1) if 1 <= phase <= 3 else 0


def phase_of_mask(mask):
    """The first phase in a 3-bit mask (0 when none)."""
    for p in (1, 2, 3):
        if mask >> (p - 1) & 1:
            return p
    return 0


class SlaveNode:
    """A slave node as 10F2/F3/F5/F6 report it: relay level, signal quality, the 3-bit phase
    mask (see ``phase_mask``), protocol (table 71: D3..D0 level, D7..D4 quality, D10..D8 phase,
    D13..D11 protocol)."""

    def __init__(self, addr, level=0, quality=0, phase=0, protocol=PROTO_645_2007):
        self.addr = bytes(addr)
        self.level = level
        self.quality = quality
        self.phase = phase
        self.protocol = protocol

    def word(self):
        return ((self.level & 0x0F) | ((self.quality & 0x0F) << 4) | ((self.phase & 7) << 8)
                | ((self.protocol & 7) << 11))

    @classmethod
    def from_word(cls, addr, w):
        return cls(addr, w & 0x0F, (w >> 4) & 0x0F, (w >> 8) & 7, (w >> 11) & 7)

    def __eq__(self, other):
        return isinstance(other, SlaveNode) and (self.addr, self.word()) == (other.addr, other.word())

    def __repr__(self):
        return "SlaveNode(%s, level=%d, quality=%d, phase=%d, protocol=%d)" % (
            self.addr[::-1].hex(), self.level, self.quality, self.phase, self.protocol)


@register
class SlaveCountQuery(Down):
    """AFN10 F1 query: number of slave nodes."""
    AFN, FN = 0x10, 1


@register
class SlaveCount(Fields):
    """AFN10 F1 reply: slave count and the most the router supports (table 69)."""
    AFN, FN, UP = 0x10, 1, True
    FIELDS = (("count", 2), ("capacity", 2))


@register
class SlaveInfoQuery(PageQuery):
    """AFN10 F2 query: ``count`` slave nodes from index ``start`` (1-based)."""
    AFN, FN, UP = 0x10, 2, False


@register
class SlaveInfo(Unit):
    """AFN10 F2 reply: total count, then the nodes of this page (table 70)."""

    AFN, FN, UP = 0x10, 2, True

    def __init__(self, total, nodes):
        self.total = total
        self.nodes = list(nodes)

    def payload(self):
        out = bytearray(p16(self.total) + p8(len(self.nodes), "n"))
        for n in self.nodes:
            out += addr6(n.addr) + p16(n.word())
        return bytes(out)

    @classmethod
    def parse(cls, data):
        need(data, 3, "slave info")
        exact(data, 3 + 8 * data[2], "slave info")
        return cls(u16(data, 0), [SlaveNode.from_word(data[i:i + 6], u16(data, i + 6))
                                  for i in range(3, 3 + 8 * data[2], 8)])


@register
class RelayQuery(Fields):
    """AFN10 F3 query: the nodes one level above slave ``addr`` (table 60)."""
    AFN, FN, UP = 0x10, 3, False
    FIELDS = (("addr", 6),)


@register
class RelayInfo(Unit):
    """AFN10 F3 reply: count, then (address, node word) of each node that gives it a route
    (table 72)."""

    AFN, FN, UP = 0x10, 3, True

    def __init__(self, nodes):
        self.nodes = list(nodes)

    def payload(self):
        return p8(len(self.nodes), "n") + b"".join(addr6(n.addr) + p16(n.word())
                                                   for n in self.nodes)

    @classmethod
    def parse(cls, data):
        need(data, 1, "relay info")
        exact(data, 1 + 8 * data[0], "relay info")
        return cls([SlaveNode.from_word(data[i:i + 6], u16(data, i + 6))
                    for i in range(1, 1 + 8 * data[0], 8)])


@register
class RouteStatusQuery(Down):
    """AFN10 F4 query: router run status."""
    AFN, FN = 0x10, 4


STEP_IDLE = 8           # 10F4 work step (工作步骤): 1 initial, 2 direct, 3 relay, 4 monitor,
                        # 5 broadcast, 6 broadcast read, 7 listen, 8 idle
STATE_READING = 0       # 10F4 work switch D7..D6 current state: 00 reading, 01 searching,
STATE_SEARCHING = 1     # 10 upgrading, 11 other
STATE_UPGRADING = 2


@register
class RouteStatus(Unit):
    """AFN10 F4 reply (tables 74-76): status (D0 route learned, D1 working, D2 event pending),
    total nodes, nodes read, read through relays, work switch (D1 registration allowed, D7..D6
    state), rate, relay level and work step per phase."""

    AFN, FN, UP = 0x10, 4, True

    def __init__(self, done, working, total, read, relayed, rate=0, depth=0,
                 steps=(STEP_IDLE,) * 3, state=STATE_READING, registering=False, event=False):
        self.done = bool(done)
        self.working = bool(working)
        self.total = total
        self.read = read
        self.relayed = relayed
        self.rate = rate
        self.depth = depth
        self.steps = tuple(steps)
        self.state = state
        self.registering = bool(registering)
        self.event = bool(event)

    def payload(self):
        status = int(self.done) | (int(self.working) << 1) | (int(self.event) << 2)
        switch = (int(self.registering) << 1) | (int(self.event) << 2) | ((self.state & 3) << 6)
        return (bytes([status]) + p16(self.total) + p16(self.read) + p16(self.relayed)
                + bytes([switch]) + p16(self.rate) + bytes([self.depth & 0x0F] * 3)
                + bytes(s & 0xFF for s in self.steps))

    @classmethod
    def parse(cls, data):
        exact(data, 16, "route status")
        return cls(data[0] & 1, data[0] & 2, u16(data, 1), u16(data, 3), u16(data, 5),
                   u16(data, 8), max(data[10:13]), data[13:16], data[7] >> 6, data[7] & 2,
                   data[0] & 4)


@register
class UnreadQuery(PageQuery):
    """AFN10 F5 query: slave nodes not read yet (未抄读成功的从节点信息)."""
    AFN, FN, UP = 0x10, 5, False


@register
class Unread(SlaveInfo):
    """AFN10 F5 reply: as 10F2 (table 77)."""
    AFN, FN, UP = 0x10, 5, True


@register
class RegisteredQuery(PageQuery):
    """AFN10 F6 query: slave nodes found by registration (主动注册的从节点信息)."""
    AFN, FN, UP = 0x10, 6, False


@register
class Registered(SlaveInfo):
    """AFN10 F6 reply: as 10F2 (table 79)."""
    AFN, FN, UP = 0x10, 6, True


@register
class SlaveIdQuery(PageQuery):
    """AFN10 F7 query: slave node module IDs (2019)."""
    AFN, FN, UP = 0x10, 7, False


@register
class SlaveIds(Unit):
    """AFN10 F7 reply (table 81): total, then per node address, node type (D3..D0 0 meter,
    1 collector, 15 unknown; D7 = not updated), vendor (2 ASCII kept as bytes), ID format and ID."""

    AFN, FN, UP = 0x10, 7, True

    def __init__(self, total, entries):
        self.total = total
        self.entries = [(bytes(a), t, bytes(v), f, bytes(i)) for a, t, v, f, i in entries]

    def payload(self):
        out = bytearray(p16(self.total) + p8(len(self.entries), "n"))
        for a, t, v, f, ident in self.entries:
            if len(v) != 2:
                raise EncodeError("vendor", "vendor codes are 2 bytes")
            out += addr6(a) + bytes([t]) + v + bytes([len(ident), f]) + ident
        return bytes(out)

    @classmethod
    def parse(cls, data):
        need(data, 3, "slave ids")
        entries, i = [], 3
        for _ in range(data[2]):
            need(data, i + 11, "slave ids")
            n = data[i + 9]
            need(data, i + 11 + n, "slave ids")
            entries.append((data[i:i + 6], data[i + 6], data[i + 7:i + 9], data[i + 10],
                            data[i + 11:i + 11 + n]))
            i += 11 + n
        exact(data, i, "slave ids")
        return cls(u16(data, 0), entries)


@register
class NetworkSizeQuery(Down):
    """AFN10 F9 query: HPLC network size (2019)."""
    AFN, FN = 0x10, 9


@register
class NetworkSize(Fields):
    """AFN10 F9 reply: network size (table 83)."""
    AFN, FN, UP = 0x10, 9, True
    FIELDS = (("size", 2),)


@register
class TopologyQuery(PageQuery):
    """AFN10 F21 query: network topology from node ``start`` (1 = the master node; a query
    series starts at 1), table 64 (2019)."""
    AFN, FN, UP = 0x10, 21, False


class TopologyNode:
    """One node of 10F21: address, its TEI, its proxy's TEI, level (D3..D0) and role (D7..D4,
    1 STA, 2 PCO, 4 CCO), table 85."""

    def __init__(self, addr, tei, proxy, level, role):
        self.addr = bytes(addr)
        self.tei = tei
        self.proxy = proxy
        self.level = level
        self.role = role

    def encode(self):
        return (addr6(self.addr) + p16(self.tei) + p16(self.proxy)
                + bytes([(self.level & 0x0F) | ((self.role & 0x0F) << 4)]))

    def __eq__(self, other):
        return isinstance(other, TopologyNode) and self.encode() == other.encode()

    def __repr__(self):
        return "TopologyNode(%s, tei=%d, proxy=%d, level=%d, role=%d)" % (
            self.addr[::-1].hex(), self.tei, self.proxy, self.level, self.role)


class PhaseNode:
    """One node of 10F31 (table 87): the phases it is connected to (D2..D0 mask), meter type
    (D3: 1 three-phase), line fault (D4), phase sequence (D7..D5, 0 = ABC)."""

    def __init__(self, addr, phases, three_phase=False, fault=False, sequence=0):
        self.addr = bytes(addr)
        self.phases = phases
        self.three_phase = bool(three_phase)
        self.fault = bool(fault)
        self.sequence = sequence

    def encode(self):
        word = ((self.phases & 7) | (int(self.three_phase) << 3) | (int(self.fault) << 4)
                | ((self.sequence & 7) << 5))
        return addr6(self.addr) + p16(word)

    def __eq__(self, other):
        return isinstance(other, PhaseNode) and self.encode() == other.encode()

    def __repr__(self):
        return "PhaseNode(%s, phases=%d)" % (self.addr[::-1].hex(), self.phases)


class _Paged(Unit):
    """A 2019 paged reply: total (2), start (2), count (1), then ``ITEM`` records."""

    ITEM_BYTES = 0

    def __init__(self, total, start, nodes):
        self.total = total
        self.start = start
        self.nodes = list(nodes)

    def payload(self):
        return (p16(self.total) + p16(self.start) + p8(len(self.nodes), "n")
                + b"".join(n.encode() for n in self.nodes))

    @classmethod
    def parse(cls, data):
        need(data, 5, cls.__name__)
        exact(data, 5 + cls.ITEM_BYTES * data[4], cls.__name__)
        size = cls.ITEM_BYTES
        return cls(u16(data, 0), u16(data, 2),
                   [cls.item(data[i:i + size]) for i in range(5, len(data), size)])


@register
class Topology(_Paged):
    """AFN10 F21 reply: total, start, then address + 5 bytes of topology per node (table 84)."""

    AFN, FN, UP = 0x10, 21, True
    ITEM_BYTES = 11

    @staticmethod
    def item(b):
        return TopologyNode(b[0:6], u16(b, 6), u16(b, 8), b[10] & 0x0F, b[10] >> 4)


@register
class PhaseQuery(PageQuery):
    """AFN10 F31 query: phase information from node ``start`` (1 = the master node), table 65."""
    AFN, FN, UP = 0x10, 31, False


@register
class PhaseInfo(_Paged):
    """AFN10 F31 reply: total, start, then address + 2-byte phase word per node (table 86); at
    most 64 nodes per reply."""

    AFN, FN, UP = 0x10, 31, True
    ITEM_BYTES = 8
    MAX_NODES = 64

    @staticmethod
    def item(b):
        w = u16(b, 6)
        return PhaseNode(b[0:6], w & 7, w & 8, w & 0x10, (w >> 5) & 7)


@register
class AddSlaves(Unit):
    """AFN11 F1 add slave nodes: (address, protocol type) pairs (table 98)."""

    AFN, FN, UP = 0x11, 1, False

    def __init__(self, nodes):
        self.nodes = [(bytes(a), p) for a, p in nodes]

    def payload(self):
        return p8(len(self.nodes), "n") + b"".join(addr6(a) + bytes([p]) for a, p in self.nodes)

    @classmethod
    def parse(cls, data):
        need(data, 1, "add slaves")
        exact(data, 1 + 7 * data[0], "add slaves")
        return cls([(data[1 + 7 * k:7 + 7 * k], data[7 + 7 * k]) for k in range(data[0])])


@register
class DeleteSlaves(Unit):
    """AFN11 F2 delete slave nodes by address (table 99)."""

    AFN, FN, UP = 0x11, 2, False

    def __init__(self, addrs):
        self.addrs = [bytes(a) for a in addrs]

    def payload(self):
        return p8(len(self.addrs), "n") + b"".join(addr6(a) for a in self.addrs)

    @classmethod
    def parse(cls, data):
        need(data, 1, "delete slaves")
        exact(data, 1 + 6 * data[0], "delete slaves")
        return cls([data[1 + 6 * k:7 + 6 * k] for k in range(data[0])])


@register
class SetRelayPath(Unit):
    """AFN11 F3 设置从节点固定中继路径: slave address, n, n relay addresses (table 100)."""

    AFN, FN, UP = 0x11, 3, False

    def __init__(self, addr, relays):
        self.addr = bytes(addr)
        self.relays = [bytes(a) for a in relays]

    def payload(self):
        return addr6(self.addr) + p8(len(self.relays), "n") + b"".join(addr6(a) for a in self.relays)

    @classmethod
    def parse(cls, data):
        need(data, 7, "relay path")
        exact(data, 7 + 6 * data[6], "relay path")
        return cls(data[0:6], [data[7 + 6 * k:13 + 6 * k] for k in range(data[6])])


@register
class SetWorkMode(Fields):
    """AFN11 F4 设置路由工作模式: mode (D0 1 learning / 0 reading, D1 registration allowed),
    rate (D15 kbit/s), tables 101, 102."""
    AFN, FN, UP = 0x11, 4, False
    FIELDS = (("mode", 1), ("rate", 2))


@register
class StartRegistration(Fields):
    """AFN11 F5 激活从节点主动注册 (meter search): start time ss mm hh DD MM YY (BCD, wire
    bytes), duration (min), slave retries, random wait slots of 150 ms (tables 103, 104)."""
    AFN, FN, UP = 0x11, 5, False
    FIELDS = (("start", 6), ("duration_min", 2), ("retries", 1), ("slots", 1))


@register
class StopRegistration(Down):
    """AFN11 F6 终止从节点主动注册."""
    AFN, FN = 0x11, 6


@register
class RouteRestart(Down):
    """AFN12 F1 restart the router (重启)."""
    AFN, FN = 0x12, 1


@register
class RoutePause(Down):
    """AFN12 F2 pause the router (暂停) so the concentrator may drive reading."""
    AFN, FN = 0x12, 2


@register
class RouteResume(Down):
    """AFN12 F3 resume the router (恢复)."""
    AFN, FN = 0x12, 3
