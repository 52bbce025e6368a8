"""RS-485 multi-drop semantics over a set of firmware meters.

Only the addressed meter answers; broadcasts reach all and get no reply; a wildcard address that
selects several meters makes them all answer at once, and the bus delivers the collision. When
the line rate is given, a meter set to another rate hears only noise and stays silent. A 645
frame reaches every meter by its address (a 698 meter stays silent to it); a 698 frame only the
698 meters.
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645.frame import decode_frame
from protocols.dlt698 import Frame as Frame698
from protocols.dlt698 import decode_frame as decode_frame_698
from protocols.dlt698.frame import ADDR_BROADCAST, ADDR_SINGLE, ADDR_WILDCARD


class MeterBus:
    """Dispatch request frames to meters by address (O(1) for exact addresses)."""

    def __init__(self, meters):
        self.meters = list(meters)
        self._by_addr = {}
        for m in self.meters:
            self._by_addr[m.addr] = m
        for m in self.meters:           # a swapped meter's successor answers at its new address
            for a in getattr(m, "aliases", ()):
                self._by_addr.setdefault(a, m)
        self.requests = 0
        self.collisions = 0

    def handle(self, request, t, baud=None):
        """(reply bytes or None, reply delay in seconds) for one request frame sent at ``baud``."""
        for decode in (decode_frame, decode_frame_698):
            try:
                frame = decode(request)
            except ProtocolDecodeError:
                continue
            return self.handle_frame(frame, t, baud)
        return None, 0.0

    def addressed(self, request):
        """The one meter ``request`` names by its exact address, or None."""
        for decode in (decode_frame, decode_frame_698):
            try:
                return self._by_addr.get(decode(request).addr)
            except ProtocolDecodeError:
                continue
        return None

    def handle_frame(self, frame, t, baud=None):
        self.requests += 1
        if isinstance(frame, Frame698):
            return self._handle_698(frame, t, baud)
        if frame.is_broadcast:
            for m in self.meters:
                if _hears(m, baud):
                    m.handle_frame(frame, t)
            return None, 0.0
        meter = self._by_addr.get(frame.addr)
        if meter is not None:
            if not _hears(meter, baud):
                return None, 0.0
            return meter.handle_frame(frame, t), meter.reply_delay
        if 0xAA not in frame.addr:
            return None, 0.0
        replies = []
        for m in self.meters:
            if not _hears(m, baud):
                continue
            r = m.handle_frame(frame, t)
            if r is not None:
                replies.append((r, m.reply_delay))
            if m.addr != frame.addr:
                self._by_addr[m.addr] = m     # keep the index true after a write-address
        return self._merge(replies)

    def _merge(self, replies):
        if not replies:
            return None, 0.0
        if len(replies) == 1:
            return replies[0]
        self.collisions += 1
        return _collide([r for r, _ in replies]), min(d for _, d in replies)

    def _handle_698(self, frame, t, baud):
        if frame.kind == ADDR_SINGLE:
            meter = self._by_addr.get(frame.addr)
            if meter is None or not _speaks_698(meter) or not _hears(meter, baud):
                return None, 0.0
            return meter.handle_frame(frame, t), meter.reply_delay
        replies = []
        for m in self.meters:
            if not _speaks_698(m) or not _hears(m, baud):
                continue
            r = m.handle_frame(frame, t)
            if r is not None and frame.kind == ADDR_WILDCARD:
                replies.append((r, m.reply_delay))
        if frame.kind == ADDR_BROADCAST:
            return None, 0.0
        return self._merge(replies)


def _speaks_698(meter):
    return getattr(meter, "front_end", None) is not None


def _hears(meter, baud):
    return baud is None or getattr(meter, "baud", baud) == baud


def _collide(replies):
    """Several drivers on one pair: the receiver sees a wired-AND of the bytes."""
    n = max(len(r) for r in replies)
    out = bytearray(b"\xFF" * n)
    for r in replies:
        for i, b in enumerate(r):
            out[i] &= b
    return bytes(out)
