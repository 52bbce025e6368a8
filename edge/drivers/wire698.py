"""DL/T 698.45 on a bus, sans-I/O: a request as it goes out, its reply parsed and matched, and
the one-request exchange of an RS-485 port (the 698 twin of ``edge.exchange.Exchange``).

A request carries its APDU with a PIID service number of its own; a reply is matched to it by
that number (the meter echoes the PIID, DL/T 698.45 7.1.2), then by order. A reply is an error
reply when the meter refused (ERROR-Response, a DAR in a result, an ACTION's DAR other than 0).
A long reply is read on (``LongReply``): link fragments (分帧) are confirmed one by one and
joined, GET-Response-Next blocks (分块) asked with GET-Request-Next naming the last block, and
the whole given as the reply the request would have had in one frame.
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt698 import const as K
from protocols.dlt698 import services as V
from protocols.dlt698.deframer import Deframer, Garbage
from protocols.dlt698.frame import ADDR_BROADCAST, encode_frame
from protocols.dlt698 import security as S
from protocols.dlt645.testkey import TEST_KEY  # TEST ONLY: the simulated meters' key
from protocols.dlt698.apdu import RecordResult
from protocols.dlt698.link import apdu_of, confirm_frame, request_frame
from protocols.dlt698.segment import Fragment, Reassembler

from edge.exchange import ERROR, OK, Outcome, Transaction

BROADCAST_698 = b"\xAA"          # SA type 3 (broadcast) with the one-byte address AA
PIID_MASK = 0x3F
LONG_LIMIT = 65536               # the longest reassembled APDU we take
MAX_STEPS = 256                  # fragments + blocks of one reply before it is given up


class Secured:
    """How a secured meter's requests travel: SECURITY-Request through ``backend`` (the test-key
    stand-in for an ESAM), ciphered with SID_MAC or in plaintext with an RN."""

    def __init__(self, ciphered, backend=None):
        self.ciphered = ciphered
        self.backend = backend or S.TestKeyBackend(TEST_KEY)


class Request698:
    """One 698 request for a meter: ``apdu`` (its PIID set by the driver); ``broadcast`` sends
    it to every meter (no reply); ``secured`` (a ``Secured``) wraps it in SECURITY-Request."""

    protocol = 698

    def __init__(self, apdu, broadcast=False, secured=None):
        self.apdu = apdu
        self.broadcast = broadcast
        self.secured = secured
        self._wrapped = None

    def wire_apdu(self):
        """The APDU as sent: itself, or its SECURITY-Request (one RN per request, derived from
        the APDU's bytes so that a simulation replays; a real ESAM draws it)."""
        if self.secured is None:
            return self.apdu
        if self._wrapped is None:
            raw = self.apdu.encode()
            rn = self.secured.backend._digest(b"rn", raw)[:16]
            self._wrapped = self.secured.backend.protect(raw, self.secured.ciphered, rn)
        return self._wrapped

    def open(self, apdu):
        """The inner reply of a SECURITY-Response to this request (DecodeError when its MAC
        fails or is missing, or when a secured request gets a plain reply); for a plain
        request the APDU as it is."""
        if self.secured is None:
            return apdu
        if not isinstance(apdu, S.SecurityResponse):
            raise ProtocolDecodeError("security", "a plain reply to a secured request", b"")
        if apdu.dar is not None:
            return V.ErrorResponse(255, self.apdu.piid)        # refused: DAR in place of data
        return V.decode_apdu(self.secured.backend.open_response(apdu, self.wire_apdu()))

    def encode(self, addr, preamble):
        """Frame bytes to ``addr`` (wire order, as 645's) with ``preamble`` FE bytes."""
        if self.broadcast:
            frame = request_frame(self.wire_apdu(), BROADCAST_698, kind=ADDR_BROADCAST)
        else:
            frame = request_frame(self.wire_apdu(), addr)
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
    if isinstance(apdu, V.GetNextReply):
        return apdu.dar is not None or not apdu.last
    return False


def parse_reply(frame, addr):
    """The Reply698 in ``frame`` when it is a meter's answer from ``addr``, else None."""
    if not frame.from_server or frame.addr != bytes(addr) or frame.segmented:
        return None
    try:
        return Reply698(V.decode_apdu(apdu_of(frame)))
    except ProtocolDecodeError:
        return None


class Continue:
    """The next frame a long reply needs from us (a fragment's confirm, a GET-Request-Next),
    sent as a request of its own (``encode`` as ``Request698``)."""

    protocol = 698
    broadcast = False

    def __init__(self, long_reply, frame):
        self.long = long_reply
        self.frame = frame
        self.apdu = long_reply.request.apdu

    def encode(self, addr, preamble):
        return encode_frame(self.frame, preamble=min(preamble, 4))

    def __repr__(self):
        return "Continue(%r)" % (self.frame,)


class LongReply:
    """Reads on the reply to ``request`` from ``addr``: ``feed(frame)`` gives the whole Reply698,
    a ``Continue`` to send, or None for a frame that is not part of it."""

    def __init__(self, request, addr):
        self.request = request
        self.addr = bytes(addr)
        self.steps = 0
        self._in = Reassembler(LONG_LIMIT)
        self._items = []
        self._verified = False      # a block of this reply has passed the request's security

    def feed(self, frame):
        if not frame.from_server or frame.addr != self.addr:
            return None
        raw = frame.data
        if frame.segmented:
            try:
                frag = Fragment.decode(frame.data)
                confirm, raw = self._in.accept(frag)
            except ProtocolDecodeError:
                return None
            if raw is None:
                return self._step(confirm_frame(frame, frag.seq))
        try:
            msg = V.decode_apdu(raw)
            # the blocks after a verified first one come plain (our GET-Next asks are plain)
            plain_next = self._verified and isinstance(msg, V.GetNextReply)
            apdu = msg if plain_next else self.request.open(msg)
        except ProtocolDecodeError:
            return None
        if isinstance(apdu, V.GetNextReply) and apdu.dar is None:
            self._verified = True
            self._items += apdu.items or []
            if not apdu.last:
                ask = V.GetNext(apdu.block, piid=self.request.apdu.piid)
                return self._step(request_frame(ask, self.addr))
            apdu = _whole(self.request.apdu, self._items, apdu.piid)
        return Reply698(apdu)

    def _step(self, frame):
        self.steps += 1
        return Continue(self, frame) if self.steps <= MAX_STEPS else None


def _whole(request, items, piid):
    """The one-frame reply to ``request`` from the results of all its blocks (a record's rows
    split across blocks joined again)."""
    records = []
    for item in items:
        if isinstance(item, RecordResult) and records and records[-1].oad == item.oad \
                and records[-1].dar is None and item.dar is None:
            records[-1] = RecordResult(item.oad, item.columns, records[-1].rows + item.rows)
        else:
            records.append(item)
    if isinstance(request, V.GetRecord) and len(records) == 1:
        return V.GetRecordReply(records[0], piid)
    if isinstance(request, V.GetRecordList):
        return V.GetRecordListReply(records, piid)
    if isinstance(request, V.GetNormal) and len(records) == 1:
        return V.GetNormalReply(records[0], piid)
    return V.GetListReply(records, piid)


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
        if reply is None and not isinstance(item, Garbage):
            k, step = _long_start(item, addr, requests, replies)
            if step is not None:
                replies[k] = step
                continue
        if reply is None:
            garbage += 1
            continue
        if isinstance(reply.apdu, S.SecurityResponse):
            k = next((j for j, r in enumerate(replies) if r is None and requests[j].secured), None)
            try:
                reply = None if k is None else Reply698(requests[k].open(reply.apdu))
            except ProtocolDecodeError:
                reply = None
            if reply is None:
                garbage += 1
            else:
                replies[k] = reply
            continue
        slot = _slot(reply, requests, replies)
        if slot is not None and requests[slot].secured is not None:
            garbage += 1                      # a plain reply to a secured request: not trusted
            continue
        if slot is not None:
            replies[slot] = reply
    return replies, garbage


def _long_start(frame, addr, requests, replies):
    """(slot, ``Continue``) when ``frame`` opens a long reply to one of ``requests`` (a first
    fragment, a GET-Response-Next that is not the last block), else (None, None)."""
    if not frame.from_server or frame.addr != bytes(addr):
        return None, None
    if not frame.segmented:
        try:
            apdu = V.decode_apdu(frame.data)
        except ProtocolDecodeError:
            return None, None
        if not isinstance(apdu, V.GetNextReply) or apdu.last or apdu.dar is not None:
            return None, None
        for k, req in enumerate(requests):
            if replies[k] is None and req.apdu.piid & PIID_MASK == apdu.piid & PIID_MASK:
                break
        else:
            k = _slot(Reply698(apdu), requests, replies)
    else:
        k = next((j for j, r in enumerate(replies) if r is None), None)
    if k is None:
        return None, None
    step = LongReply(requests[k], addr).feed(frame)
    return (k, step) if isinstance(step, Continue) else (None, None)


def read_on(raw, addr, step):
    """The answer to a ``Continue``: (the whole Reply698 or the next Continue or None, garbage)."""
    deframer = Deframer()
    deframer.feed(raw, 0.0)
    deframer.flush()
    garbage = 0
    for item in deframer:
        out = None if isinstance(item, Garbage) else step.long.feed(item)
        if out is None:
            garbage += 1
            continue
        return out, garbage
    return None, garbage


def _slot(reply, requests, replies):
    for k, req in enumerate(requests):
        if replies[k] is None and req.apdu.piid & PIID_MASK == reply.piid:
            return k
    for k in range(len(requests)):
        if replies[k] is None:
            return k
    return None


class Exchange698(Transaction):
    """Send one Request698 to ``addr`` on RS-485 and wait for its reply (the shared timing and
    retries of ``edge.exchange.Transaction``); a long reply's confirms and GET-Next asks go
    out as its follow-ups."""

    DEFRAMER = Deframer
    PAUSE_ON_SEND = False

    def __init__(self, addr, request, now, timeout=1.0, retries=2, preamble=4, gap=0.5,
                 byte_s=0.0):
        super().__init__(addr, request, now, timeout, retries, preamble, gap, byte_s)
        self.broadcast = request.broadcast
        self._start()

    def _attempt(self):
        self._long = LongReply(self.request, self.addr)
        return self.request.encode(self.addr, self.preamble)

    def _on_frame(self, item, now):
        reply = self._long.feed(item)
        if isinstance(reply, Continue):
            self._outbox = reply.encode(self.addr, self.preamble)
            self._deadline = None
            return
        if reply is None:
            self._garbage += len(item.raw or b"")
            return
        latency = None if self._sent_at is None else now - self._sent_at
        self.outcome = Outcome(ERROR if reply.error else OK, reply, self.attempts, [item],
                               self._garbage, latency)
