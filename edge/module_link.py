"""The concentrator side of the carrier module's UART (Q/GDW 1376.2 master), sans-I/O.

Reads go out as 13F1 monitor requests, or as bounded F1F1 concurrent reads on a module that
offers them (``configure`` from its 03F10 run mode); answers are matched by sequence number.
A module that says it is busy (deny 9, 109, 111) is asked again after ``busy_retry_s``; a
confirm with a waiting time holds every new request for that long. A long meter reply (645
D5 set) is read on with 0x12 follow-up frames through the module and handed over whole, a long
698 reply (link fragments, GET-Response-Next blocks) with the confirms and GET-Request-Next
frames it needs, each one more monitor request (``edge.drivers.wire698.LongReply``). The
module's own reports are kept for the agent (``reports``) and acknowledged.
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645 import apdu, v1997
from protocols.dlt645.frame import encode_frame as encode_645
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.deframer import Deframer, Garbage
from protocols.gdw1376_2.frame import COMM_HPLC, encode_frame, signal_of

from edge.drivers.wire698 import Continue, read_on
from edge.exchange import ERROR, GARBLED, TIMEOUT
from edge.links import Result, match_replies, summary

SILENT_DENIALS = (A.DENY_METER_SILENT, A.DENY_SLAVE_SILENT, A.DENY_NOT_IN_NETWORK, A.DENY_TIMEOUT)
BUSY_DENIALS = (A.DENY_BUSY, A.DENY_OVER_CONCURRENCY, A.DENY_READING_METER)
MAX_FOLLOW_UPS = 16         # 0x12 frames asked for one long reply before it is taken as it is
UART_MARGIN_S = 5.0         # beside the module's own monitor timeout: our UART and its queue


class _Pending:
    __slots__ = ("token", "frame", "deadline", "resend_at", "addr", "requests", "started",
                 "timeout", "preamble", "protocol", "replies", "garbage", "follow", "asked",
                 "sent")

    def __init__(self, token, addr, requests, started, timeout, preamble=4, protocol=0):
        self.token = token
        self.frame = b""
        self.deadline = None
        self.resend_at = None
        self.addr = addr
        self.requests = requests        # None for a management call
        self.started = started
        self.timeout = timeout
        self.preamble = preamble
        self.protocol = protocol
        self.replies = None
        self.garbage = 0
        self.follow = None              # (request index, follow-up seq) being read on
        self.asked = requests
        self.sent = False


class ModuleLink:
    """The concentrator side of the carrier module's UART (Q/GDW 1376.2 master)."""

    line_baud = None                        # the UART to the module keeps its rate

    def __init__(self, comm=COMM_HPLC, concurrency=5, answer_timeout=100.0, call_timeout=10.0,
                 busy_retry_s=1.0):
        self.comm = comm
        self.concurrency = concurrency
        self.concurrent = comm == COMM_HPLC
        self.capacity = concurrency if self.concurrent else 1
        self.answer_timeout = answer_timeout
        self.call_timeout = call_timeout
        self.busy_retry_s = busy_retry_s
        self.deframer = Deframer()
        self.seq = 0
        self.pending = {}
        self.reports = []           # (unit, source address) the module sent on its own
        # printed meter address -> (phase, signal quality byte) of its last reply's R bytes
        self.signals = {}
        self.garbage_bytes = 0
        self.quiet_until = None     # a confirm's waiting time: nothing new goes out before
        self.clock = None           # () -> 6 BCD bytes ss mm hh DD MM YY, to answer 14F2
        self.run_mode = None
        self._queue = []            # pendings whose frame waits for the line
        self._out = bytearray()     # answers to the module's reports (never held)
        self._done = []

    def configure(self, run_mode, concurrent):
        """Take the module's word about itself (03F10, and whether it offers F1F1): reads go
        concurrent or one at a time, and wait its monitor timeout plus our margin."""
        self.run_mode = run_mode
        self.concurrent = bool(concurrent)
        self.capacity = self.concurrency if self.concurrent else 1
        if run_mode.monitor_timeout_s:
            self.answer_timeout = run_mode.monitor_timeout_s + UART_MARGIN_S

    # --- sending ------------------------------------------------------------------------------
    def _transmit(self, p, unit, dst=None):
        self.seq = seq = (self.seq + 1) & 0xFF
        while seq in self.pending:          # 256 in flight cannot happen; keep seqs unique anyway
            self.seq = seq = (seq + 1) & 0xFF
        src = b"\x00" * 6 if dst is not None else None
        p.frame = encode_frame(A.to_frame(unit, seq=seq, comm=self.comm, src=src, dst=dst))
        p.sent = False
        self.pending[seq] = p
        self._queue.append(p)

    def call(self, token, unit, now, timeout=None):
        """A management request (10F2, 11F1, 12F2 ...); completes with the answer unit or None."""
        self._transmit(_Pending(token, None, None, now, timeout or self.call_timeout), unit)

    def start(self, token, addr, requests, preamble, now, baud=None):
        if getattr(requests[0], "protocol", None) == 698:
            proto = A.PROTO_698                  # protocol type 03: DL/T 698.45
        elif isinstance(requests[0], v1997.Read97):
            proto = A.PROTO_645_1997
        else:
            proto = A.PROTO_645_2007
        p = _Pending(token, bytes(addr), list(requests), now, self.answer_timeout, preamble, proto)
        self._read(p, p.requests)

    def _read(self, p, requests):
        body = b"".join(r.encode(p.addr, p.preamble) if p.protocol == A.PROTO_698
                        else encode_645(r.to_frame(p.addr), preamble=p.preamble) for r in requests)
        unit = (A.ConcurrentRequest(p.protocol, body) if self.concurrent
                else A.MonitorRequest(p.protocol, body))
        p.asked = requests
        self._transmit(p, unit, p.addr)

    def data_to_send(self, now):
        out = bytes(self._out)
        self._out = bytearray()
        if self._queue and (self.quiet_until is None or now >= self.quiet_until):
            self.quiet_until = None
            for p in self._queue:
                p.sent = True
                p.deadline = now + p.timeout
                out += p.frame
            self._queue = []
        return out or None

    # --- receiving ----------------------------------------------------------------------------
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
                self._answer(item, unit, now)

    def _report(self, frame, unit):
        """The module's own report: 14F1 gets 'read done' (we drive reading), 14F2 our clock,
        others a confirm (10376.2-2019 A.5 c, A.6.2 d)."""
        self.reports.append((unit, frame.src))
        if isinstance(unit, A.ReportReadData) and frame.src is not None:
            self._heard(frame.src, frame)
        if isinstance(unit, A.RouterRequest):
            answer = A.RouterRequestAnswer(A.READ_DONE)
        elif isinstance(unit, A.ClockRequest):
            answer = A.ClockAnswer(self.clock()) if self.clock else A.Deny(A.DENY_UNSUPPORTED)
        elif isinstance(unit, A.DelayCorrectRequest):
            answer = A.DelayCorrectAnswer(unit.body)
        else:
            answer = A.Confirm()
        self._out += encode_frame(A.to_frame(answer, seq=frame.seq, up=False, comm=self.comm))

    def _answer(self, frame, unit, now):
        p = self.pending.get(frame.seq)
        if p is None or not p.sent:
            return                           # late answer to something we gave up on
        if isinstance(unit, A.Deny) and unit.code in BUSY_DENIALS and p.requests is not None:
            p.resend_at = now + self.busy_retry_s
            return
        del self.pending[frame.seq]
        if p.requests is not None and getattr(unit, "body", None):
            self._heard(p.addr, frame)
        if isinstance(unit, A.Confirm) and unit.wait_s:
            self.quiet_until = max(self.quiet_until or now, now + unit.wait_s)
        if p.requests is None:
            self._done.append((p.token, unit))
            return
        result = self._result(p, unit, now)
        if result is not None:
            self._done.append((p.token, result))

    def _heard(self, wire_addr, frame):
        phase, quality = signal_of(frame.info)
        self.signals[bytes(wire_addr)[::-1].hex()] = (phase, quality)

    def _result(self, p, unit, now):
        """The job's Result, or None while follow-up frames are still being read."""
        latency = now - p.started
        if isinstance(unit, A.Deny):
            kind = TIMEOUT if unit.code in SILENT_DENIALS else ERROR
            if p.follow is not None:
                p.replies[p.follow[0]] = None       # a long reply cut short is no reply
            _drop_unfinished(p)
            return Result(kind, p.replies or [None] * len(p.requests), latency, unit.code)
        body = getattr(unit, "body", None)
        if body is None:
            if p.follow is not None:
                p.replies[p.follow[0]] = None
                _drop_unfinished(p)
                return Result(GARBLED, p.replies, latency)
            return Result(GARBLED, [None] * len(p.requests), latency)
        if p.follow is not None and p.protocol == A.PROTO_698:
            k, _ = p.follow
            p.replies[k], garbage = read_on(body, p.addr, p.replies[k])
            p.garbage += garbage
            if self._follow_up(p) is not None:
                return None
            return Result(summary(p.replies, p.garbage), p.replies, latency)
        replies, garbage = match_replies(body, p.addr, p.asked)
        p.garbage += garbage
        if p.follow is None:
            p.replies = replies
        else:
            k, _ = p.follow
            p.replies[k] = _joined(p.replies[k], replies[0])
        if self._follow_up(p) is not None:
            return None
        return Result(summary(p.replies, p.garbage), p.replies, latency)

    def _follow_up(self, p):
        """Ask for the next frame of the first reply that says more follow (0x12, SEQ + 1)."""
        for k, r in enumerate(p.replies):
            if isinstance(r, Continue):
                p.follow = (k, 0)
                self._read(p, [r])
                return p
            if isinstance(r, apdu.ReadReply) and r.more:
                seq = p.follow[1] + 1 if p.follow is not None and p.follow[0] == k else 1
                if seq > MAX_FOLLOW_UPS:
                    p.replies[k] = None
                    continue
                p.follow = (k, seq)
                self._read(p, [apdu.ReadFollowUp(r.di, seq)])
                return p
        p.follow = None
        return None

    # --- time ---------------------------------------------------------------------------------
    def next_deadline(self):
        times = [p.resend_at if p.resend_at is not None else p.deadline
                 for p in self.pending.values() if p.sent]
        if self._queue and self.quiet_until is not None:
            times.append(self.quiet_until)
        return min(times) if times else None

    def on_timer(self, now):
        for seq, p in list(self.pending.items()):
            if not p.sent:
                continue
            if p.resend_at is not None and now >= p.resend_at:
                p.resend_at = None
                p.deadline = now + p.timeout
                self._out += p.frame
            elif now >= p.deadline:
                del self.pending[seq]
                if p.follow is not None:
                    p.replies[p.follow[0]] = None
                _drop_unfinished(p)
                result = None if p.requests is None else Result(
                    TIMEOUT, p.replies or [None] * len(p.requests), now - p.started)
                self._done.append((p.token, result))

    def completed(self):
        out, self._done = self._done, []
        return out


def _drop_unfinished(p):
    """A 698 long reply not read to its end is no reply."""
    if p.replies:
        p.replies = [None if isinstance(r, Continue) else r for r in p.replies]


def _joined(first, more):
    """A long reply so far plus its next follow-up frame; an error reply stands for the whole,
    a lost frame leaves no reply (the item is read again)."""
    if not isinstance(more, apdu.ReadReply):
        return more
    return apdu.ReadReply(first.di, first.data + more.data, None, more.more)
