"""Sans-I/O master exchange: one 645 transaction with reply timeout, retries and follow-up frames.

Shape (aioquic-style): ``data_to_send()`` -> bytes to put on the wire, ``receive_data(data, now)``,
``next_deadline()`` and ``on_timer(now)``; when ``done``, ``outcome`` tells what happened.
Timeouts are outcomes, not exceptions. ``now`` is monotonic seconds supplied by the driver.
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645 import apdu, const as K, v1997
from protocols.dlt645.deframer import Deframer, Garbage
from protocols.dlt645.errors import DecodeError
from protocols.dlt645.frame import Frame, address_matches, encode_frame

OK = "ok"
ERROR = "error_reply"
TIMEOUT = "timeout"
GARBLED = "garbled"


class Outcome:
    """Result of an exchange: ``kind`` in ok / error_reply / timeout / garbled."""

    def __init__(self, kind, reply=None, attempts=1, frames=(), garbage=0, latency=None):
        self.kind = kind
        self.reply = reply
        self.attempts = attempts
        self.frames = list(frames)
        self.garbage = garbage
        self.latency = latency

    @property
    def ok(self):
        return self.kind == OK

    def __repr__(self):
        return "Outcome(%s, %r, attempts=%d)" % (self.kind, self.reply, self.attempts)


class Transaction:
    """One request on a line and its reply: the timing (a reply timeout from our last byte, a
    frame still arriving within ``gap``), retries and garbage counting every protocol's
    exchange shares. A subclass gives ``DEFRAMER``, ``_attempt()`` (the bytes of a fresh
    attempt, its per-attempt state reset) and ``_on_frame(frame, now)``, which sets
    ``outcome`` or a next ``_outbox`` (a follow-up)."""

    DEFRAMER = Deframer
    PAUSE_ON_SEND = True          # a follow-up to send: leave later frames for its answer

    def __init__(self, addr, request, now, timeout=1.0, retries=2, preamble=4, gap=0.5,
                 byte_s=0.0):
        self.addr = bytes(addr)
        self.request = request
        self.timeout = timeout
        self.byte_s = byte_s            # line time per byte: the wait starts after our last byte
        self.retries = retries
        self.preamble = preamble
        self.gap = gap
        self.outcome = None
        self._frames = []
        self._garbage = 0
        self._deadline = None
        self._sent_at = None
        self._last_rx = None
        self._deframer = self.DEFRAMER(gap)
        self.attempts = 1

    def _start(self):
        self._outbox = self._attempt()

    @property
    def done(self):
        return self.outcome is not None

    def data_to_send(self, now=None):
        """Bytes to transmit now (once per attempt), or None."""
        out = self._outbox
        if out is None:
            return None
        self._outbox = None
        if now is not None:
            self._sent_at = now
            self._deadline = now + self.timeout + self.byte_s * len(out)
        if self.broadcast:
            self.outcome = Outcome(OK, None, self.attempts)
        return out

    def sent(self, now):
        """The driver reports when the last byte left (for drivers that do not pass ``now``)."""
        self._sent_at = now
        self._deadline = now + self.timeout

    def next_deadline(self):
        if self.done:
            return None
        return self._deadline

    def receive_data(self, data, now):
        if self.done:
            return
        self._last_rx = now
        self._deframer.feed(data, now)
        for item in self._deframer:
            if isinstance(item, Garbage):
                self._garbage += len(item.raw)
                continue
            self._on_frame(item, now)
            if self.done or (self.PAUSE_ON_SEND and self._outbox is not None):
                return

    def on_timer(self, now):
        if self.done or self._deadline is None or now < self._deadline:
            return
        if self._deframer.pending and self._last_rx is not None and now - self._last_rx < self.gap:
            self._deadline = self._last_rx + self.gap     # a frame is still arriving
            return
        self._deframer.flush()
        for item in self._deframer:
            if isinstance(item, Garbage):
                self._garbage += len(item.raw)
        if self.attempts <= self.retries:
            self.attempts += 1
            self._outbox = self._attempt()
            self._deadline = None
            return
        kind = GARBLED if self._garbage else TIMEOUT
        self.outcome = Outcome(kind, None, self.attempts, self._frames, self._garbage)


class Exchange(Transaction):
    """Send ``request`` (a typed 2007 APDU or a 645-1997 Read97) to ``addr`` and collect the reply
    (follow-up frames of a long 2007 read joined)."""

    def __init__(self, addr, request, now, timeout=1.0, retries=2, preamble=4, gap=0.5,
                 byte_s=0.0):
        super().__init__(addr, request, now, timeout, retries, preamble, gap, byte_s)
        self.protocol = 1997 if isinstance(request, v1997.Read97) else 2007
        self.broadcast = self.addr == K.BROADCAST_ADDR
        self._start()

    def _attempt(self):
        self._data = b""
        self._seq = 0
        return self._encode(self.request.to_frame(self.addr))

    def _encode(self, frame):
        return encode_frame(frame, preamble=self.preamble)

    def _on_frame(self, frame, now):
        if not frame.is_reply or not address_matches(self.addr, frame.addr):
            self._garbage += len(frame.raw or b"")
            return
        try:
            reply = self._parse(frame)
        except ProtocolDecodeError:
            self._garbage += len(frame.raw or b"")
            return
        self._frames.append(frame)
        latency = None if self._sent_at is None else now - self._sent_at
        if self.protocol == 2007 and isinstance(reply, apdu.ReadReply):
            self._data += reply.data
            if reply.more:
                self._seq += 1
                self._outbox = self._encode(apdu.ReadFollowUp(reply.di, self._seq).to_frame(frame.addr))
                self._deadline = None
                return
            reply = apdu.ReadReply(reply.di, self._data)
        kind = ERROR if isinstance(reply, (apdu.ErrorReply, v1997.ErrorReply97)) else OK
        self.outcome = Outcome(kind, reply, self.attempts, self._frames, self._garbage, latency)

    def _parse(self, frame):
        if self.protocol == 1997:
            return v1997.parse_reply_97(frame)
        reply = apdu.parse_reply(frame)
        expected = self.request.function
        if reply.function not in (expected, K.F_READ_FOLLOW_UP):
            raise DecodeError("control", "reply to another function", bytes([frame.ctrl]))
        return reply
