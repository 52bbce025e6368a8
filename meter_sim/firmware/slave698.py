"""The DL/T 698.45 slave front end of the meter firmware: ``Slave698(meter).handle(bytes, t)``.

The meter (``Meter(..., protocol=698)``) keeps one state; this front end only speaks 698 about
it, through the object table (objects698), the record attributes (records698) and the security
modes (security698). Bus manners as the 645 slave: silent to garbled frames, to frames for others
and to client LINK frames; acts on but never answers a broadcast; answers a wildcard address
with its own. Rules of this file:
- An RS-485 meter has a pre-established association (DL/T 698.45 6.1.1.2, as 600888/dlt698's
  docs read it): GET works before any CONNECT. CONNECT negotiates frame and APDU sizes and a
  timeout counted from the CONNECT (as Wasion's firmware counts it); RELEASE or the timeout ends it.
- A GET answer longer than the APDU size goes in GET-Response-Next blocks (blocks698); an APDU
  longer than the frame size in link fragments (分帧), the client's confirm of each fragment
  releasing the next. Fragmented requests are reassembled and confirmed.
- ACTIONs on 8000/8001 need a TimeTag and every TimeTag must still be valid (CHINT Comm_698.c:
  DAR 32 otherwise). A meter configured for security (``plaintext_control=False``, the same
  switch as its 645 slave) applies security698's table; SECURITY-wrapped requests are opened and
  answered through a test-key backend (TestKeyBackend: not the ESAM's SM4).
- New events are reported as public firmware does (CHINT ``Inf_GetReportData``): with 4300
  attribute 7 set, every answer carries a FollowReport naming the first new event (33200201);
  with attribute 8 set, ``report(t)`` gives a REPORT-Notification of the new-event list 3320 for
  a driver that lets the meter speak first (carrier); REPORT-Response or ACTION 2015 127 confirm.
"""
from protocols.errors import DecodeError
from protocols.dlt698 import const as K
from protocols.dlt698 import data as D
from protocols.dlt698 import security as S
from protocols.dlt698 import segment as G
from protocols.dlt698 import services as V
from protocols.dlt698.apdu import RecordResult, Result, follow_report
from protocols.dlt698.axdr import OAD
from protocols.dlt698.connect import (MECHANISM_NULL, MECHANISM_PASSWORD, MECHANISM_SYMMETRY,
                                      Association, ConnectRequest, ConnectResponse,
                                      FactoryVersion, ReleaseRequest, ReleaseResponse)
from protocols.dlt698.data import Data
from protocols.dlt698.frame import (ADDR_BROADCAST, ADDR_SINGLE, ADDR_WILDCARD, FN_USER_DATA,
                                    SEGMENTED, Frame, decode_frame, encode_frame)
from protocols.dlt698.link import frames_for, reply_frame
from meter_sim.firmware import blocks698 as B
from meter_sim.firmware import objects698 as O
from meter_sim.firmware import records698 as R
from meter_sim.firmware import security698 as P
from meter_sim.firmware.esam import TEST_KEY

PROTOCOL_VERSION = 0x0010          # appendix D.2's version
DEFAULT_FRAME_MAX = 512            # L limit before any CONNECT (ours)
SMALLEST = 100                     # a client's size below this gets the default (Wasion's rule)
DEFAULT_APDU_MAX = 1024            # APDU size before any CONNECT (appendix D.2's value)
FRAME_LIMIT = 1024                 # the most this meter sends or takes in one frame (ours)
APDU_LIMIT = 2048                  # the longest APDU it handles (ours)
HEADER = 15                        # L(2) C SA addr(6) CA HCS(2) FCS(2)
PASSWORD = "00000000"              # TEST 698 password (PasswordSecurity, 8 characters as Wasion)
FACTORY = FactoryVersion("GEDG", "0100", "260101", "0100", "260101", "\x00" * 8)
TIME_TAGGED = (0x8000, 0x8001)     # methods that need a TimeTag (CHINT: control objects)
TI_SECONDS = {0: 1, 1: 60, 2: 3600, 3: 86400, 4: 30 * 86400, 5: 365 * 86400}
NEW_EVENT = OAD(0x3320, 2, 1)      # 新增事件列表, first element
NEW_EVENTS = OAD(0x3320, 2, 0)
CLIENT_REQUESTS = (K.CONNECT_REQUEST, K.RELEASE_REQUEST, K.REPORT_RESPONSE, K.SECURITY_REQUEST)
DAR_INVALID_BLOCK = 14             # 数据块序号无效
FIRST_BLOCK = 1                    # CHINT numbers GET blocks from 1; the dlt698 package from 0
GETS = (V.GetNormal, V.GetList, V.GetRecord, V.GetRecordList)


class Slave698:
    """The 698 face of one meter; ``follow_report``/``active_report`` are 4300 attributes 7/8."""

    def __init__(self, meter, key=TEST_KEY):
        self.m = meter
        self.backend = S.TestKeyBackend(key)
        self.follow_report = False
        self.active_report = False
        self.require_time_tag = True
        self.first_block = FIRST_BLOCK
        self.monthly = R.monthly_book(meter)
        self.association = None            # (expires at meter seconds, Association)
        self._acked = {}                   # event family -> count confirmed by the client
        self._notified = {}
        self._out = None                   # [frames, index of the next] of a fragmented reply
        self._blocks = None                # [blocks, records?, index sent last] of a GET in blocks
        self._in = G.Reassembler(APDU_LIMIT)

    # --- link ---------------------------------------------------------------------------------
    def handle(self, request, t):
        """Reply bytes to one request frame, or None (silence)."""
        try:
            frame = decode_frame(request)
        except DecodeError:
            return None
        return self.handle_frame(frame, t)

    def handle_frame(self, frame, t):
        m = self.m
        m.advance(t)
        if not isinstance(frame, Frame) or not m.powered or frame.from_server:
            return None
        broadcast = frame.kind == ADDR_BROADCAST
        if frame.logical or not (broadcast or self._addressed(frame)):
            return None
        if frame.function != FN_USER_DATA:
            return None
        if self.association is not None and m.clock.read(t) >= self.association[0]:
            self.association = None
        apdu = frame.data
        if frame.segmented:
            done, out = self._fragment(frame)
            if not done:
                return out
            apdu = out
        else:
            self._out = None
        reply = self._answer(apdu, frame.ca, t)
        if broadcast or reply is None:
            return None
        return self._send(reply_frame(reply, m.addr, frame.ca))

    def _addressed(self, frame):
        own = self.m.addr
        if frame.kind == ADDR_SINGLE:
            return frame.addr == own
        if frame.kind != ADDR_WILDCARD or len(frame.addr) != len(own):
            return False
        for want, have in zip(frame.addr, own):
            for shift in (0, 4):
                w = (want >> shift) & 0xF
                if w != 0xA and w != (have >> shift) & 0xF:
                    return False
        return True

    def _frame_max(self):
        return self.association[1].send_max if self.association else DEFAULT_FRAME_MAX

    def _apdu_max(self):
        return self.association[1].apdu_max if self.association else DEFAULT_APDU_MAX

    def _send(self, frame):
        size = self._frame_max() - HEADER
        if len(frame.data) > size:
            self._out = [frames_for(frame, size - 2), 1]
            frame = self._out[0][0]
        return encode_frame(frame, preamble=self.m.reply_preamble)

    def _fragment(self, frame):
        """A received fragment: (True, the reassembled APDU) or (False, bytes to send now: the
        next reply fragment or a confirm, or None)."""
        try:
            frag = G.Fragment.decode(frame.data)
        except DecodeError:
            return False, None
        if frag.kind == G.CONFIRM:
            out = self._out
            if out is None or G.Fragment.decode(out[0][out[1] - 1].data).seq != frag.seq:
                return False, None
            nxt = out[0][out[1]]
            out[1] += 1
            if out[1] == len(out[0]):
                self._out = None
            return False, encode_frame(nxt, preamble=self.m.reply_preamble)
        self._out = None
        try:
            confirm, whole = self._in.accept(frag)
        except DecodeError:
            self._in.reset()
            return False, None
        if confirm is not None:
            ctrl = (frame.ctrl | 0x80 | SEGMENTED)
            return False, encode_frame(Frame(ctrl, self.m.addr, frame.ca, confirm.encode()),
                                       preamble=self.m.reply_preamble)
        return True, whole

    # --- application ----------------------------------------------------------------------------
    def _answer(self, raw, ca, t):
        try:
            msg = V.decode_apdu(raw)
        except DecodeError:
            return _error(raw)
        if isinstance(msg, S.SecurityRequest):
            return self._secure(msg, ca, t)
        reply = self._serve(msg, ca, t, P.PLAIN)
        return reply.encode() if reply is not None else None

    def _secure(self, req, ca, t):
        inner, dar = self.backend.open_request(req)
        if dar is not None:
            return S.SecurityResponse(dar=dar).encode()
        try:
            msg = V.decode_apdu(inner)
        except DecodeError:
            return self.backend.protect_response(_error(inner), req).encode()
        if isinstance(msg, S.SecurityRequest):
            return S.SecurityResponse(dar=K.DAR_SECURITY_FAILED).encode()
        reply = self._serve(msg, ca, t, P.level_of(req))
        return self.backend.protect_response(reply.encode(), req).encode() if reply else None

    def _serve(self, msg, ca, t, level):
        handler = _SERVICES.get(type(msg))
        if handler is None:
            return None if msg.tag >= 0x80 or msg.tag == K.LINK_REQUEST else \
                V.ErrorResponse(2, msg.piid)
        ctx = _Context(self, msg, ca, t, level)
        if not isinstance(msg, V.GetNext):
            self._blocks = None
        reply = handler(self, msg, ctx)
        if isinstance(msg, GETS):
            reply = self._blockwise(reply)
        if reply is not None and reply.trailer == "server":
            pending = self.new_events()
            reply.piid = (msg.piid & 0xBF) | (0x40 if pending else 0)
            reply.time_tag = msg.time_tag
            if self.follow_report and pending:
                reply.follow_report = follow_report([Result(NEW_EVENT, Data(D.T_OAD, pending[0]))])
        return reply

    def _blockwise(self, reply):
        """The answer, or its first block when it is longer than the client's APDU size."""
        size = self._apdu_max()
        if len(reply.encode()) <= size:
            return reply
        items, records = B.items_of(reply)
        blocks = B.split(items, size)
        self._blocks = [blocks, records, 0] if len(blocks) > 1 else None
        return V.GetNextReply(len(blocks) == 1, self.first_block, blocks[0], records)

    def _next(self, msg):
        """GET-Request-Next naming the last block received: the block after it."""
        b = self._blocks
        if b is None:
            return V.GetNextReply(True, msg.last_block, dar=K.DAR_NO_LONG_GET)
        blocks, records, sent = b                   # sent: index of the last block sent
        if msg.last_block != self.first_block + sent:
            return V.GetNextReply(True, msg.last_block, dar=DAR_INVALID_BLOCK)
        b[2] = sent + 1
        last = b[2] == len(blocks) - 1
        if last:
            self._blocks = None
        return V.GetNextReply(last, self.first_block + b[2], blocks[b[2]], records)

    def _get(self, oad, ctx):
        dar = ctx.refusal(oad.oi, P.READ)
        if dar is None:
            try:
                if oad.oi in R.SOURCES:
                    return Result(oad, R.attribute(self.m, oad, ctx.t))
                return Result(oad, O.get(self.m, oad, ctx.t))
            except O.Refused as exc:
                dar = exc.dar
        return Result(oad, dar=dar)

    def _record(self, oad, rsd, columns, ctx):
        dar = ctx.refusal(oad.oi, P.READ)
        if dar is None:
            try:
                cols, rows = R.read(self.m, oad, rsd, columns, ctx.t)
                return RecordResult(oad, cols, rows)
            except O.Refused as exc:
                dar = exc.dar
        return RecordResult(oad, columns, dar=dar)

    def _set(self, oad, d, ctx):
        return self._carry_out(ctx.refusal(oad.oi, P.WRITE), O.set_attribute, oad, d, ctx)

    def _act(self, omd, d, ctx):
        dar = ctx.refusal(omd.oi, P.OPERATE, omd.method)
        if dar is None and omd.oi in TIME_TAGGED and ctx.msg.time_tag is None \
                and self.require_time_tag:
            dar = K.DAR_TIME_TAG_INVALID
        return self._carry_out(dar, O.action, omd, d, ctx)

    def _carry_out(self, dar, fn, target, d, ctx):
        """The DAR of a SET or ACTION: the refusal found so far, or what doing it gives."""
        if dar is not None:
            return dar
        try:
            fn(self.m, target, d, ctx.t, ctx.operator)
        except O.Refused as exc:
            return exc.dar
        return K.DAR_SUCCESS

    def _connect(self, msg, ctx):
        result = K.CONNECT_OTHER
        security = None
        if msg.mechanism == MECHANISM_NULL:
            result = K.CONNECT_ALLOWED
        elif msg.mechanism == MECHANISM_PASSWORD:
            result = K.CONNECT_ALLOWED if msg.password == PASSWORD else K.CONNECT_PASSWORD_ERROR
        elif msg.mechanism == MECHANISM_SYMMETRY:
            result = K.CONNECT_SYMMETRIC_ERROR
            if msg.signature == self.backend.mac(b"connect", msg.cipher):
                rn = self.backend.mac(b"rn", msg.cipher) * 4
                result, security = K.CONNECT_ALLOWED, (rn, self.backend.mac(rn, msg.cipher))
        want = msg.association
        frame = min(want.receive_max, FRAME_LIMIT) if want.receive_max >= SMALLEST \
            else DEFAULT_FRAME_MAX
        apdu = min(want.apdu_max, APDU_LIMIT) if want.apdu_max >= SMALLEST else DEFAULT_APDU_MAX
        agreed = Association(PROTOCOL_VERSION, want.protocol, want.function, frame, FRAME_LIMIT,
                             1, apdu, want.timeout)
        if result == K.CONNECT_ALLOWED:
            self.association = (self.m.clock.read(ctx.t) + want.timeout, agreed)
        return ConnectResponse(FACTORY, agreed, result, security)

    def _release(self, msg):
        self.association = None
        return ReleaseResponse(0)

    def _confirmed(self, msg):
        if NEW_EVENTS in msg.oads or NEW_EVENT in msg.oads:
            self.acknowledge()
        return None

    # --- events -----------------------------------------------------------------------------
    def new_events(self):
        """OADs (attribute 2) of the event objects with records the client has not confirmed,
        the one with the oldest such record first (3320 lists events as they occur)."""
        events = self.m.events
        out = []
        for family, oi in R.FAMILY_OI.items():
            new = events.count(family) - self._acked.get(family, 0)
            recs = events.records.get(family, [])
            if new > 0 and recs:
                oldest = recs[min(new, len(recs)) - 1][R.SOURCES[oi].start]
                out.append((oldest, oi))
        return [OAD(oi, 2) for _, oi in sorted(out)]

    def acknowledge(self):
        """The client confirmed the new-event list (REPORT-Response or ACTION 2015 127)."""
        self._acked = dict((f, self.m.events.count(f)) for f in R.FAMILY_OI)

    def report(self, t):
        """REPORT-Notification frame bytes of new events not yet notified (4300 attribute 8),
        for a driver that lets the meter speak first; None when there is nothing to report."""
        self.m.advance(t)
        counts = dict((f, self.m.events.count(f)) for f in R.FAMILY_OI)
        pending = self.new_events()
        if not self.active_report or not pending or counts == self._notified:
            return None
        self._notified = counts
        note = V.ReportList([Result(NEW_EVENTS, Data(D.ARRAY, [Data(D.T_OAD, o) for o in pending]))])
        return encode_frame(reply_frame(note, self.m.addr), preamble=self.m.reply_preamble)


class _Context:
    """One request's time, protection, operator and whether its TimeTag still holds."""

    def __init__(self, slave, msg, ca, t, level):
        self.slave, self.msg, self.t, self.level = slave, msg, t, level
        self.operator = bytes((0, 0, 0, ca))
        self.expired = msg.time_tag is not None and _expired(msg.time_tag, slave.m.clock.read(t))

    def refusal(self, oi, service, method=None):
        if self.expired:
            return K.DAR_TIME_TAG_INVALID
        if self.slave.m.plaintext_control:
            return None
        return P.allowed(oi, service, self.level, method)


def _expired(tag, c):
    try:
        sent = O.seconds_of(tag.sent)
    except O.Refused:
        return True
    return c - sent > tag.delay.value * TI_SECONDS.get(tag.delay.unit, 1)


def _error(raw):
    """ERROR-Response: 1 for a request this meter knows but cannot parse, else 2."""
    tag = raw[0] if raw else 0
    known = tag in CLIENT_REQUESTS or (len(raw) > 1 and (tag, raw[1]) in V.SERVICES and tag < 0x80)
    piid = raw[2] if tag in (K.GET_REQUEST, K.SET_REQUEST, K.ACTION_REQUEST) and len(raw) > 2 \
        else raw[1] if len(raw) > 1 else 0
    return V.ErrorResponse(1 if known else 2, piid).encode()


_SERVICES = {
    ConnectRequest: lambda s, m, c: s._connect(m, c),
    ReleaseRequest: lambda s, m, c: s._release(m),
    V.GetNormal: lambda s, m, c: V.GetNormalReply(s._get(m.oad, c)),
    V.GetList: lambda s, m, c: V.GetListReply([s._get(o, c) for o in m.oads]),
    V.GetRecord: lambda s, m, c: V.GetRecordReply(s._record(m.oad, m.rsd, m.columns, c)),
    V.GetRecordList: lambda s, m, c: V.GetRecordListReply(
        [s._record(o, r, cols, c) for o, r, cols in m.records]),
    V.GetNext: lambda s, m, c: s._next(m),
    V.SetNormal: lambda s, m, c: V.SetNormalReply(m.oad, s._set(m.oad, m.data, c)),
    V.SetList: lambda s, m, c: V.SetListReply([(o, s._set(o, d, c)) for o, d in m.items]),
    V.SetThenGet: lambda s, m, c: V.SetThenGetReply(
        [(o, s._set(o, d, c), s._get(back, c)) for o, d, back, _ in m.items]),
    V.ActionNormal: lambda s, m, c: V.ActionNormalReply(m.omd, s._act(m.omd, m.data, c)),
    V.ActionList: lambda s, m, c: V.ActionListReply(
        [(o, s._act(o, d, c), None) for o, d in m.items]),
    V.ActionThenGet: lambda s, m, c: V.ActionThenGetReply(
        [(o, s._act(o, d, c), None, s._get(back, c)) for o, d, back, _ in m.items]),
    V.ReportResponse: lambda s, m, c: s._confirmed(m),
}

