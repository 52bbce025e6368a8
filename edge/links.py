"""Bus links, sans-I/O: the byte side of one RS-485 port or of the carrier module's UART.

Both take ``start(token, addr, requests, preamble, now, baud)`` (645 or 698 requests for one meter, several
coalesced into one job) and hand back ``(token, Result)`` from ``completed()``; in between the
driver moves bytes (``data_to_send``/``receive_data``) and calls ``on_timer`` at
``next_deadline()``. The RS-485 link runs one 645 exchange at a time; the module link speaks
Q/GDW 1376.2 (13F1 monitor reads, or bounded F1F1 concurrent reads on HPLC), matches answers by
sequence number and keeps the module's own reports (06F5 events, 14F1) for the agent
(``edge.module_link``).
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645 import apdu, v1997
from protocols.dlt645.deframer import Deframer as Deframer645
from protocols.dlt645.frame import address_matches
from protocols.stream import Garbage

from edge.drivers.wire698 import Exchange698, match_replies as match_698
from edge.exchange import ERROR, GARBLED, OK, TIMEOUT, Exchange

BITS_PER_BYTE = 11                  # 8E1 on the wire


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
    return isinstance(reply, (apdu.ErrorReply, v1997.ErrorReply97)) or \
        getattr(reply, "error", False) is True


def match_replies(raw, addr, requests):
    """Parse the 645 frames in ``raw`` (answers to ``requests`` sent to ``addr``) and line them up
    with the requests: by DI where the reply has one, else in order. Returns (replies, garbage).
    698 requests have their replies matched by ``edge.drivers.wire698``."""
    if requests and getattr(requests[0], "protocol", None) == 698:
        return match_698(raw, addr, requests)
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
        request = requests[len(outcomes)]
        kind = Exchange698 if getattr(request, "protocol", None) == 698 else Exchange
        self._ex = kind(addr, request, now, self.response_timeout,
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


def __getattr__(name):
    """``ModuleLink`` is re-exported lazily: edge.module_link imports this module for ``Result``."""
    if name == "ModuleLink":
        from edge.module_link import ModuleLink
        return ModuleLink
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
