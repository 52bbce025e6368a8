"""RS-485 multi-drop semantics over a set of firmware meters.

Only the addressed meter answers; broadcasts reach all and get no reply; a wildcard address that
selects several meters makes them all answer at once, and the bus delivers the collision.
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645.errors import DecodeError
from protocols.dlt645.frame import decode_frame


class MeterBus:
    """Dispatch request frames to meters by address (O(1) for exact addresses)."""

    def __init__(self, meters):
        self.meters = list(meters)
        self._by_addr = {}
        for m in self.meters:
            self._by_addr[m.addr] = m
        self.requests = 0
        self.collisions = 0

    def handle(self, request, t):
        """(reply bytes or None, reply delay in seconds) for one request frame."""
        try:
            frame = decode_frame(request)
        except ProtocolDecodeError:
            return None, 0.0
        return self.handle_frame(frame, t)

    def handle_frame(self, frame, t):
        self.requests += 1
        if frame.is_broadcast:
            for m in self.meters:
                m.handle_frame(frame, t)
            return None, 0.0
        meter = self._by_addr.get(frame.addr)
        if meter is not None:
            return meter.handle_frame(frame, t), meter.reply_delay
        if 0xAA not in frame.addr:
            return None, 0.0
        replies = []
        for m in self.meters:
            r = m.handle_frame(frame, t)
            if r is not None:
                replies.append((r, m.reply_delay))
            if m.addr != frame.addr:
                self._by_addr[m.addr] = m     # keep the index true after a write-address
        if not replies:
            return None, 0.0
        if len(replies) == 1:
            return replies[0]
        self.collisions += 1
        return _collide([r for r, _ in replies]), min(d for _, d in replies)


def _collide(replies):
    """Several drivers on one pair: the receiver sees a wired-AND of the bytes."""
    n = max(len(r) for r in replies)
    out = bytearray(b"\xFF" * n)
    for r in replies:
        for i, b in enumerate(r):
            out[i] &= b
    return bytes(out)
