"""Bus links, sans-I/O: the byte side of one RS-485 port or of the carrier module's UART.

Both take ``start(token, addr, requests, preamble, now, baud)`` (645 requests for one meter, several
coalesced into one job) and hand back ``(token, Result)`` from ``completed()``; in between the
driver moves bytes (``data_to_send``/``receive_data``) and calls ``on_timer`` at
``next_deadline()``. The RS-485 link runs one 645 exchange at a time; the module link speaks
Q/GDW 1376.2 (13F1 monitor reads, or bounded F1F1 concurrent reads on HPLC), matches answers by
sequence number and keeps the module's own reports (06F5 events, 14F1) for the agent.
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645 import apdu, v1997
from protocols.dlt645.deframer import Deframer as Deframer645
from protocols.dlt645.frame import address_matches, encode_frame as encode_645
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.deframer import Deframer, Garbage
from protocols.gdw1376_2.frame import COMM_HPLC, encode_frame

from edge.exchange import ERROR, GARBLED, OK, TIMEOUT, Exchange

BITS_PER_BYTE = 11                  # 8E1 on the wire
SILENT_DENIALS = (A.DENY_METER_SILENT, A.DENY_SLAVE_SILENT, A.DENY_NOT_IN_NETWORK, A.DENY_TIMEOUT)


class Result:
    """What one job's exchange gave: ``replies`` aligned with the requests (None where missing).

    ``kind`` is ok when every request has a normal reply, else the worst of error_reply,
    garbled, timeout; ``deny`` keeps a module's denial code."""

    __slots__ = ("kind", "replies", "latency", "deny", "requests")

    def __init__(self, kind, replies, latency=None, deny=None, requests=None):
        self.kind = kind
        self.replies = replies
        self.latency = latency
        self.deny = deny
        self.requests = requests

    def __repr__(self):
        return "Result(%s, %r)" % (self.kind, self.replies)


def summary(replies, garbage):
    if replies and all(r is not None and not is_error(r) for r in replies):
        return OK
    if any(r is not None for r in replies):
        return ERROR
    return GARBLED if garbage else TIMEOUT


def is_error(reply):
    return isinstance(reply, (apdu.ErrorReply, v1997.ErrorReply97))


def match_replies(raw, addr, requests):
    """Parse the 645 frames in ``raw`` (answers to ``requests`` sent to ``addr``) and line them up
    with the requests: by DI where the reply has one, else in order. Returns (replies, garbage)."""
    deframer = Deframer645()
    deframer.feed(raw, 0.0)
    deframer.flush()
    replies = [None] * len(requests)
    garbage = 0
    for item in deframer:
        if isinstance(item, Garbage) or not item.is_reply or not address_matches(addr, item.addr):
            garbage += 1
            continue
        try:
            reply = (v1997.parse_reply_97(item) if isinstance(requests[0], v1997.Read97)
                     else apdu.parse_reply(item))
        except ProtocolDecodeError:
            garbage += 1
            continue
        slot = _slot(reply, requests, replies)
        if slot is not None:
            replies[slot] = reply
    return replies, garbage


def _slot(reply, requests, replies):
    di = getattr(reply, "di", None)
    for k, req in enumerate(requests):
        if replies[k] is None and (di is None or getattr(req, "di", None) == di):
            return k
    return None


class Rs485Link:
    """One RS-485 port: exchanges run one after the other (half duplex, single flight)."""

    capacity = 1

    def __init__(self, baud=2400, response_timeout=0.5, retries=0):
        self.baud = baud
        self.line_baud = baud               # the rate of the exchange on the line now
        self.response_timeout = response_timeout
        self.retries = retries
        self._job = None
        self._ex = None
        self._done = []

    def start(self, token, addr, requests, preamble, now, baud=None):
        self._job = (token, bytes(addr), list(requests), preamble, [], now)
        self.line_baud = baud or self.baud
        self._next(now)

    def _next(self, now):
        _, addr, requests, preamble, outcomes, _ = self._job
        # the reply must start within the response timeout after our last byte has gone out
        self._ex = Exchange(addr, requests[len(outcomes)], now, self.response_timeout,
                            self.retries, preamble, byte_s=BITS_PER_BYTE / float(self.line_baud))

    def data_to_send(self, now):
        if self._ex is None:
            return None
        out = self._ex.data_to_send(now)
        self._check(now)
        return out

    def receive_data(self, data, now):
        if self._ex is not None:
            self._ex.receive_data(data, now)
            self._check(now)

    def on_timer(self, now):
        if self._ex is not None:
            self._ex.on_timer(now)
            self._check(now)

    def next_deadline(self):
        return None if self._ex is None else self._ex.next_deadline()

    def _check(self, now):
        ex = self._ex
        if ex is None or not ex.done:
            return
        token, addr, requests, preamble, outcomes, started = self._job
        outcomes.append(ex.outcome)
        silent = ex.outcome.kind in (TIMEOUT, GARBLED)
        if len(outcomes) < len(requests) and not silent:
            self._next(now)
            return
        replies = [o.reply for o in outcomes] + [None] * (len(requests) - len(outcomes))
        garbage = sum(o.garbage for o in outcomes)
        kind = ex.outcome.kind if silent or ex.broadcast else summary(replies, garbage)
        self._done.append((token, Result(kind, replies, now - started)))
        self._job = self._ex = None

    def completed(self):
        out, self._done = self._done, []
        return out


class _Pending:
    __slots__ = ("token", "frame", "deadline", "resend_at", "addr", "requests", "started")

    def __init__(self, token, frame, deadline, addr, requests, started):
        self.token = token
        self.frame = frame
        self.deadline = deadline
        self.resend_at = None
        self.addr = addr
        self.requests = requests
        self.started = started


class ModuleLink:
    """The concentrator side of the carrier module's UART (Q/GDW 1376.2 master)."""

    line_baud = None                        # the UART to the module keeps its rate

    def __init__(self, comm=COMM_HPLC, concurrency=5, answer_timeout=100.0, call_timeout=10.0,
                 busy_retry_s=1.0):
        self.comm = comm
        self.concurrent = comm == COMM_HPLC
        self.capacity = concurrency if self.concurrent else 1
        self.answer_timeout = answer_timeout
        self.call_timeout = call_timeout
        self.busy_retry_s = busy_retry_s
        self.deframer = Deframer()
        self.seq = 0
        self.pending = {}
        self.reports = []           # (unit, source address) the module sent on its own
        self.garbage_bytes = 0
        self._out = bytearray()
        self._done = []

    def _send(self, token, unit, now, timeout, dst=None, requests=None):
        self.seq = seq = (self.seq + 1) & 0xFF
        while seq in self.pending:          # 256 in flight cannot happen; keep seqs unique anyway
            self.seq = seq = (seq + 1) & 0xFF
        src = b"\x00" * 6 if dst is not None else None
        frame = encode_frame(A.to_frame(unit, seq=seq, comm=self.comm, src=src, dst=dst))
        self.pending[seq] = _Pending(token, frame, now + timeout, dst, requests, now)
        self._out += frame

    def call(self, token, unit, now, timeout=None):
        """A management request (10F2, 11F1, 12F2 ...); completes with the answer unit or None."""
        self._send(token, unit, now, timeout or self.call_timeout)

    def start(self, token, addr, requests, preamble, now, baud=None):
        body = b"".join(encode_645(r.to_frame(addr), preamble=preamble) for r in requests)
        proto = A.PROTO_645_1997 if isinstance(requests[0], v1997.Read97) else A.PROTO_645_2007
        unit = (A.ConcurrentRequest(proto, body) if self.concurrent
                else A.MonitorRequest(proto, body))
        self._send(token, unit, now, self.answer_timeout, bytes(addr), list(requests))

    def data_to_send(self, now):
        if not self._out:
            return None
        out, self._out = bytes(self._out), bytearray()
        return out

    def receive_data(self, data, now):
        self.deframer.feed(data, now)
        for item in self.deframer:
            if isinstance(item, Garbage):
                self.garbage_bytes += len(item.raw)
                continue
            try:
                unit = A.unit_of(item)
            except ProtocolDecodeError:
                self.garbage_bytes += len(item.raw or b"")
                continue
            if item.down:
                continue                     # our own frame echoed: not an answer
            if item.prm:
                self._report(item, unit)
            else:
                self._answer(item.seq, unit, now)

    def _report(self, frame, unit):
        """The module's own report: 14F1 gets 'nothing to read' (we drive reading), others a confirm."""
        self.reports.append((unit, frame.src))
        answer = A.RouterRequestAnswer(A.READ_DONE) if isinstance(unit, A.RouterRequest) else A.Confirm()
        self._out += encode_frame(A.to_frame(answer, seq=frame.seq, up=False, comm=self.comm))

    def _answer(self, seq, unit, now):
        p = self.pending.get(seq)
        if p is None:
            return                           # late answer to something we gave up on
        if p.requests is None:
            del self.pending[seq]
            self._done.append((p.token, unit))
            return
        if isinstance(unit, A.Deny) and unit.code == A.DENY_BUSY:
            p.resend_at = now + self.busy_retry_s
            return
        del self.pending[seq]
        self._done.append((p.token, self._result(p, unit, now)))

    def _result(self, p, unit, now):
        latency = now - p.started
        if isinstance(unit, A.Deny):
            kind = TIMEOUT if unit.code in SILENT_DENIALS else ERROR
            return Result(kind, [None] * len(p.requests), latency, unit.code)
        body = getattr(unit, "body", None)
        if body is None:
            return Result(GARBLED, [None] * len(p.requests), latency)
        replies, garbage = match_replies(body, p.addr, p.requests)
        return Result(summary(replies, garbage), replies, latency)

    def next_deadline(self):
        times = [p.resend_at if p.resend_at is not None else p.deadline for p in self.pending.values()]
        return min(times) if times else None

    def on_timer(self, now):
        for seq, p in list(self.pending.items()):
            if p.resend_at is not None and now >= p.resend_at:
                p.resend_at = None
                p.deadline = now + self.answer_timeout
                self._out += p.frame
            elif now >= p.deadline:
                del self.pending[seq]
                result = None if p.requests is None else Result(TIMEOUT, [None] * len(p.requests),
                                                                now - p.started)
                self._done.append((p.token, result))

    def completed(self):
        out, self._done = self._done, []
        return out
