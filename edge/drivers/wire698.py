"""DL/T 698.45 on a bus, sans-I/O: a request as it goes out, its reply parsed and matched, and
the one-request exchange of an RS-485 port (the 698 twin of ``edge.exchange.Exchange``).

A request carries its APDU with a PIID service number of its own; a reply is matched to it by
that number (the meter echoes the PIID, DL/T 698.45 7.1.2), then by order. A reply is an error
reply when the meter refused (ERROR-Response, a DAR in a result, an ACTION's DAR other than 0).
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt698 import const as K
from protocols.dlt698 import services as V
from protocols.dlt698.deframer import Deframer, Garbage
from protocols.dlt698.frame import ADDR_BROADCAST, encode_frame
from protocols.dlt698.link import apdu_of, request_frame

from edge.exchange import ERROR, GARBLED, OK, TIMEOUT, Outcome

BROADCAST_698 = b"\xAA"          # SA type 3 (broadcast) with the one-byte address AA
PIID_MASK = 0x3F


class Request698:
    """One 698 request for a meter: ``apdu`` (its PIID set by the driver); ``broadcast`` sends
    it to every meter (no reply)."""

    protocol = 698

    def __init__(self, apdu, broadcast=False):
        self.apdu = apdu
        self.broadcast = broadcast

    def encode(self, addr, preamble):
        """Frame bytes to ``addr`` (wire order, as 645's) with ``preamble`` FE bytes."""
        if self.broadcast:
            frame = request_frame(self.apdu, BROADCAST_698, kind=ADDR_BROADCAST)
        else:
            frame = request_frame(self.apdu, addr)
        return encode_frame(frame, preamble=min(preamble, 4))

    def __repr__(self):
        return "Request698(%r)" % (self.apdu,)


class Reply698:
    """A meter's 698 answer: ``apdu`` decoded; ``error`` when the meter refused."""

    protocol = 698

    def __init__(self, apdu):
        self.apdu = apdu
        self.error = _refused(apdu)

    @property
    def piid(self):
        return self.apdu.piid & PIID_MASK

    def __repr__(self):
        return "Reply698(%r)" % (self.apdu,)


def _refused(apdu):
    if isinstance(apdu, V.ErrorResponse):
        return True
    if isinstance(apdu, V.GetNormalReply):
        return apdu.result.dar is not None
    if isinstance(apdu, V.GetListReply):
        return any(r.dar is not None for r in apdu.results)
    if isinstance(apdu, V.GetRecordReply):
        return apdu.record.dar is not None
    if isinstance(apdu, V.ActionNormalReply):
        return apdu.dar != K.DAR_SUCCESS
    if isinstance(apdu, V.SetNormalReply):
        return apdu.dar != K.DAR_SUCCESS
    return False


def parse_reply(frame, addr):
    """The Reply698 in ``frame`` when it is a meter's answer from ``addr``, else None."""
    if not frame.from_server or frame.addr != bytes(addr) or frame.segmented:
        return None
    try:
        return Reply698(V.decode_apdu(apdu_of(frame)))
    except ProtocolDecodeError:
        return None


def match_replies(raw, addr, requests):
    """698 frames in ``raw`` lined up with ``requests`` by PIID, else in order:
    (replies, garbage count)."""
    deframer = Deframer()
    deframer.feed(raw, 0.0)
    deframer.flush()
    replies = [None] * len(requests)
    garbage = 0
    for item in deframer:
        reply = None if isinstance(item, Garbage) else parse_reply(item, addr)
        if reply is None:
            garbage += 1
            continue
        slot = _slot(reply, requests, replies)
        if slot is not None:
            replies[slot] = reply
    return replies, garbage


def _slot(reply, requests, replies):
    for k, req in enumerate(requests):
        if replies[k] is None and req.apdu.piid & PIID_MASK == reply.piid:
            return k
    for k in range(len(requests)):
        if replies[k] is None:
            return k
    return None


class Exchange698:
    """Send one Request698 to ``addr`` on RS-485 and wait for its reply (the shape of
    ``edge.exchange.Exchange``: data_to_send, receive_data, on_timer, next_deadline, outcome)."""

    def __init__(self, addr, request, now, timeout=1.0, retries=2, preamble=4, gap=0.5,
                 byte_s=0.0):
        self.addr = bytes(addr)
        self.request = request
        self.timeout = timeout
        self.retries = retries
        self.gap = gap
        self.byte_s = byte_s
        self.broadcast = request.broadcast
        self.preamble = preamble
        self.outcome = None
        self.attempts = 1
        self._garbage = 0
        self._deadline = None
        self._sent_at = None
        self._last_rx = None
        self._deframer = Deframer(gap)
        self._outbox = request.encode(self.addr, preamble)

    @property
    def done(self):
        return self.outcome is not None

    def data_to_send(self, now=None):
        out, self._outbox = self._outbox, None
        if out is None:
            return None
        if now is not None:
            self._sent_at = now
            self._deadline = now + self.timeout + self.byte_s * len(out)
        if self.broadcast:
            self.outcome = Outcome(OK, None, self.attempts)
        return out

    def next_deadline(self):
        return None if self.done else self._deadline

    def receive_data(self, data, now):
        if self.done:
            return
        self._last_rx = now
        self._deframer.feed(data, now)
        for item in self._deframer:
            if isinstance(item, Garbage):
                self._garbage += len(item.raw)
                continue
            reply = parse_reply(item, self.addr)
            if reply is None:
                self._garbage += len(item.raw or b"")
                continue
            latency = None if self._sent_at is None else now - self._sent_at
            self.outcome = Outcome(ERROR if reply.error else OK, reply, self.attempts, [item],
                                   self._garbage, latency)
            return

    def on_timer(self, now):
        if self.done or self._deadline is None or now < self._deadline:
            return
        if self._deframer.pending and self._last_rx is not None and now - self._last_rx < self.gap:
            self._deadline = self._last_rx + self.gap
            return
        self._deframer.flush()
        for item in self._deframer:
            if isinstance(item, Garbage):
                self._garbage += len(item.raw)
        if self.attempts <= self.retries:
            self.attempts += 1
            self._outbox = self.request.encode(self.addr, self.preamble)
            self._deadline = None
            return
        self.outcome = Outcome(GARBLED if self._garbage else TIMEOUT, None, self.attempts, (),
                               self._garbage)
