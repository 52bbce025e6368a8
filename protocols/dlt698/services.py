"""The concrete DL/T 698.45 services and ``decode_apdu`` (see ``apdu`` for the layouts' sources).

PIID: bit 7 priority, bits 0..5 the service number; in responses PIID-ACD adds bit 6 (the server
has something to report). Requests built here default to PIID 0.
"""
from protocols.dlt698 import const as K
from protocols.dlt698.apdu import (Apdu, RecordResult, Result, _get_get_result, _get_list,
                                   _get_optional_data, _put_get_result, _put_list,
                                   _put_optional_data, _read_trailer)
from protocols.dlt698.axdr import OAD, OMD, DateTime, Reader, put_uint
from protocols.dlt698.connect import ASSOCIATION_SERVICES
from protocols.dlt698.data import get_data, get_rcsd, get_rsd, put_data, put_rcsd, put_rsd
from protocols.dlt698.errors import DecodeError


class LinkRequest(Apdu):
    """LINK-Request (预连接): login, heartbeat or logout from the server, with its clock."""
    tag, trailer = K.LINK_REQUEST, ""

    def __init__(self, kind, heartbeat, time, piid=0):
        self.kind, self.heartbeat, self.time, self.piid = kind, heartbeat, time, piid

    def put_body(self, out):
        put_uint(out, self.kind, 1, "LINK type")
        put_uint(out, self.heartbeat, 2, "heartbeat")
        self.time.put_full(out)

    @classmethod
    def get_body(cls, r, piid):
        return cls(r.u8("LINK type"), r.uint(2, "heartbeat"), DateTime.get_full(r), piid)


class LinkResponse(Apdu):
    """LINK-Response: result (bits 0..2) and clock-trusted flag (bit 7), and three time stamps
    (the request's, when it was received, when the answer was sent)."""
    tag, trailer = K.LINK_RESPONSE, ""

    def __init__(self, result, clock_ok, request_time, receive_time, response_time, piid=0):
        self.result, self.clock_ok = result, clock_ok
        self.request_time, self.receive_time, self.response_time = (request_time, receive_time,
                                                                    response_time)
        self.piid = piid

    def put_body(self, out):
        put_uint(out, self.result, 1, "LINK result")
        out[-1] |= 0x80 if self.clock_ok else 0
        for t in (self.request_time, self.receive_time, self.response_time):
            t.put_full(out)

    @classmethod
    def get_body(cls, r, piid):
        b = r.u8("LINK result")
        times = [DateTime.get_full(r) for _ in range(3)]
        return cls(b & 0x7F, bool(b & 0x80), times[0], times[1], times[2], piid)


class GetNormal(Apdu):
    tag, choice = K.GET_REQUEST, 1

    def __init__(self, oad, piid=0):
        self.oad, self.piid = oad, piid

    def put_body(self, out):
        self.oad.put(out)

    @classmethod
    def get_body(cls, r, piid):
        return cls(OAD.get(r), piid)


class GetList(Apdu):
    tag, choice = K.GET_REQUEST, 2

    def __init__(self, oads, piid=0):
        self.oads, self.piid = list(oads), piid

    def put_body(self, out):
        _put_list(out, self.oads, lambda o, x: x.put(o))

    @classmethod
    def get_body(cls, r, piid):
        return cls(_get_list(r, OAD.get, "OAD count"), piid)


class GetRecord(Apdu):
    """GET-Request-Record: rows of a record attribute chosen by ``rsd``, columns ``columns``."""
    tag, choice = K.GET_REQUEST, 3

    def __init__(self, oad, rsd, columns, piid=0):
        self.oad, self.rsd, self.columns, self.piid = oad, rsd, list(columns), piid

    def put_body(self, out):
        self.oad.put(out)
        put_rsd(out, self.rsd)
        put_rcsd(out, self.columns)

    @classmethod
    def get_body(cls, r, piid):
        return cls(OAD.get(r), get_rsd(r), get_rcsd(r), piid)


class GetRecordList(Apdu):
    tag, choice = K.GET_REQUEST, 4

    def __init__(self, records, piid=0):
        self.records, self.piid = list(records), piid          # [(oad, rsd, columns)]

    def put_body(self, out):
        def one(o, rec):
            rec[0].put(o)
            put_rsd(o, rec[1])
            put_rcsd(o, rec[2])
        _put_list(out, self.records, one)

    @classmethod
    def get_body(cls, r, piid):
        return cls(_get_list(r, lambda x: (OAD.get(x), get_rsd(x), get_rcsd(x)), "count"), piid)


class GetNext(Apdu):
    """GET-Request-Next: the number of the last block received (application-layer 分块)."""
    tag, choice = K.GET_REQUEST, 5

    def __init__(self, last_block, piid=0):
        self.last_block, self.piid = last_block, piid

    def put_body(self, out):
        put_uint(out, self.last_block, 2, "block number")

    @classmethod
    def get_body(cls, r, piid):
        return cls(r.uint(2, "block number"), piid)


class GetNormalReply(Apdu):
    tag, choice, trailer = K.GET_RESPONSE, 1, "server"

    def __init__(self, result, piid=0):
        self.result, self.piid = result, piid

    def put_body(self, out):
        self.result.put(out)

    @classmethod
    def get_body(cls, r, piid):
        return cls(Result.get(r), piid)


class GetListReply(Apdu):
    tag, choice, trailer = K.GET_RESPONSE, 2, "server"

    def __init__(self, results, piid=0):
        self.results, self.piid = list(results), piid

    def put_body(self, out):
        _put_list(out, self.results, lambda o, x: x.put(o))

    @classmethod
    def get_body(cls, r, piid):
        return cls(_get_list(r, Result.get, "result count"), piid)


class GetRecordReply(Apdu):
    tag, choice, trailer = K.GET_RESPONSE, 3, "server"

    def __init__(self, record, piid=0):
        self.record, self.piid = record, piid

    def put_body(self, out):
        self.record.put(out)

    @classmethod
    def get_body(cls, r, piid):
        return cls(RecordResult.get(r), piid)


class GetRecordListReply(Apdu):
    tag, choice, trailer = K.GET_RESPONSE, 4, "server"

    def __init__(self, records, piid=0):
        self.records, self.piid = list(records), piid

    def put_body(self, out):
        _put_list(out, self.records, lambda o, x: x.put(o))

    @classmethod
    def get_body(cls, r, piid):
        return cls(_get_list(r, RecordResult.get, "record count"), piid)


class GetNextReply(Apdu):
    """GET-Response-Next: last-block flag, block number and either a DAR (``dar``) or results
    (``records`` False: Result list; True: RecordResult list)."""
    tag, choice, trailer = K.GET_RESPONSE, 5, "server"

    def __init__(self, last, block, items=None, records=False, dar=None, piid=0):
        self.last, self.block, self.items, self.records, self.dar = last, block, items, records, dar
        self.piid = piid

    def put_body(self, out):
        out.append(1 if self.last else 0)
        put_uint(out, self.block, 2, "block number")
        if self.dar is not None:
            out += bytes((0, self.dar))
        else:
            out.append(2 if self.records else 1)
            _put_list(out, self.items, lambda o, x: x.put(o))

    @classmethod
    def get_body(cls, r, piid):
        last, block, choice = r.u8("last block") != 0, r.uint(2, "block number"), r.u8("choice")
        if choice == 0:
            return cls(last, block, dar=r.u8("DAR"), piid=piid)
        if choice not in (1, 2):
            raise DecodeError("GET-Response-Next", "choice %d" % choice, bytes([choice]), r.pos - 1)
        get = RecordResult.get if choice == 2 else Result.get
        return cls(last, block, _get_list(r, get, "count"), choice == 2, piid=piid)


class SetNormal(Apdu):
    tag, choice = K.SET_REQUEST, 1

    def __init__(self, oad, data, piid=0):
        self.oad, self.data, self.piid = oad, data, piid

    def put_body(self, out):
        self.oad.put(out)
        put_data(out, self.data)

    @classmethod
    def get_body(cls, r, piid):
        return cls(OAD.get(r), get_data(r), piid)


class _ItemList(Apdu):
    """A service whose body is ``SEQUENCE OF item`` (``items`` is a list of tuples); subclasses
    name the item codec in ``put_item``/``get_item``."""

    def __init__(self, items, piid=0):
        self.items, self.piid = [tuple(i) for i in items], piid

    def put_body(self, out):
        _put_list(out, self.items, self.put_item)

    @classmethod
    def get_body(cls, r, piid):
        return cls(_get_list(r, cls.get_item, "count"), piid)

    @staticmethod
    def put_item(out, item):
        raise NotImplementedError

    @staticmethod
    def get_item(r):
        raise NotImplementedError


def _put_oad_data(o, i):
    i[0].put(o)
    put_data(o, i[1])


def _put_then_get(o, i):
    i[0].put(o)
    put_data(o, i[1])
    i[2].put(o)
    put_uint(o, i[3], 1, "delay")


def _put_oad_dar(o, i):
    i[0].put(o)
    put_uint(o, i[1], 1, "DAR")


def _put_set_then_get_reply(o, i):
    _put_oad_dar(o, i)
    i[2].put(o)


def _put_action_reply(o, i):
    i[0].put(o)
    put_uint(o, i[1], 1, "DAR")
    _put_optional_data(o, i[2])


def _put_action_then_get_reply(o, i):
    _put_action_reply(o, i)
    i[3].put(o)


class _SetRequest(_ItemList):
    tag = K.SET_REQUEST


class _ActionRequest(_ItemList):
    tag = K.ACTION_REQUEST


class _SetReply(_ItemList):
    tag, trailer = K.SET_RESPONSE, "server"


class _ActionReply(_ItemList):
    tag, trailer = K.ACTION_RESPONSE, "server"


class SetList(_SetRequest):
    """SET-Request-NormalList: [(OAD, Data)]."""
    choice = 2
    put_item = staticmethod(_put_oad_data)
    get_item = staticmethod(lambda r: (OAD.get(r), get_data(r)))


class SetThenGet(_SetRequest):
    """SET-Then-GET-Request-NormalList: [(OAD, Data, read-back OAD, delay s)]."""
    choice = 3
    put_item = staticmethod(_put_then_get)
    get_item = staticmethod(lambda r: (OAD.get(r), get_data(r), OAD.get(r), r.u8("delay")))


class SetNormalReply(Apdu):
    tag, choice, trailer = K.SET_RESPONSE, 1, "server"

    def __init__(self, oad, dar, piid=0):
        self.oad, self.dar, self.piid = oad, dar, piid

    def put_body(self, out):
        _put_oad_dar(out, (self.oad, self.dar))

    @classmethod
    def get_body(cls, r, piid):
        return cls(OAD.get(r), r.u8("DAR"), piid)


class SetListReply(_SetReply):
    """SET-Response-NormalList: [(OAD, DAR)]."""
    choice = 2
    put_item = staticmethod(_put_oad_dar)
    get_item = staticmethod(lambda r: (OAD.get(r), r.u8("DAR")))


class SetThenGetReply(_SetReply):
    """SET-Then-GET-Response-NormalList: [(OAD, DAR, Result)]."""
    choice = 3
    put_item = staticmethod(_put_set_then_get_reply)
    get_item = staticmethod(lambda r: (OAD.get(r), r.u8("DAR"), Result.get(r)))


class ActionNormal(Apdu):
    tag, choice = K.ACTION_REQUEST, 1

    def __init__(self, omd, data, piid=0):
        self.omd, self.data, self.piid = omd, data, piid

    def put_body(self, out):
        self.omd.put(out)
        put_data(out, self.data)

    @classmethod
    def get_body(cls, r, piid):
        return cls(OMD.get(r), get_data(r), piid)


class ActionList(_ActionRequest):
    """ACTION-Request-List: [(OMD, Data)]."""
    choice = 2
    put_item = staticmethod(_put_oad_data)
    get_item = staticmethod(lambda r: (OMD.get(r), get_data(r)))


class ActionThenGet(_ActionRequest):
    """ACTION-Then-GET-Request-NormalList: [(OMD, Data, OAD, delay s)]."""
    choice = 3
    put_item = staticmethod(_put_then_get)
    get_item = staticmethod(lambda r: (OMD.get(r), get_data(r), OAD.get(r), r.u8("delay")))


class ActionNormalReply(Apdu):
    """ACTION-Response-Normal: OMD, DAR and the method's returned Data (None: nothing returned)."""
    tag, choice, trailer = K.ACTION_RESPONSE, 1, "server"

    def __init__(self, omd, dar, data=None, piid=0):
        self.omd, self.dar, self.data, self.piid = omd, dar, data, piid

    def put_body(self, out):
        _put_action_reply(out, (self.omd, self.dar, self.data))

    @classmethod
    def get_body(cls, r, piid):
        return cls(OMD.get(r), r.u8("DAR"), _get_optional_data(r), piid)


class ActionListReply(_ActionReply):
    """ACTION-Response-List: [(OMD, DAR, Data or None)]."""
    choice = 2
    put_item = staticmethod(_put_action_reply)
    get_item = staticmethod(lambda r: (OMD.get(r), r.u8("DAR"), _get_optional_data(r)))


class ActionThenGetReply(_ActionReply):
    """ACTION-Then-GET-Response: [(OMD, DAR, Data or None, Result)]."""
    choice = 3
    put_item = staticmethod(_put_action_then_get_reply)
    get_item = staticmethod(lambda r: (OMD.get(r), r.u8("DAR"), _get_optional_data(r), Result.get(r)))


class ReportList(Apdu):
    """REPORT-Notification-List (主动上报): results the server reports on its own."""
    tag, choice, trailer = K.REPORT_NOTIFICATION, 1, "server"

    def __init__(self, results, piid=0):
        self.results, self.piid = list(results), piid

    def put_body(self, out):
        _put_list(out, self.results, lambda o, x: x.put(o))

    @classmethod
    def get_body(cls, r, piid):
        return cls(_get_list(r, Result.get, "count"), piid)


class ReportRecordList(ReportList):
    """REPORT-Notification-RecordList: records (events, freezes) the server reports."""
    choice = 2

    @classmethod
    def get_body(cls, r, piid):
        return cls(_get_list(r, RecordResult.get, "count"), piid)


class ReportResponse(Apdu):
    """REPORT-Response: the client confirms the reported OADs (choice 1 list, 2 record list)."""
    tag = K.REPORT_RESPONSE

    def __init__(self, oads, choice=1, piid=0):
        self.oads, self.choice, self.piid = list(oads), choice, piid

    def put_body(self, out):
        _put_list(out, self.oads, lambda o, x: x.put(o))

    @classmethod
    def get_body(cls, r, piid, choice=1):
        return cls(_get_list(r, OAD.get, "count"), choice, piid)


class ErrorResponse(Apdu):
    """ERROR-Response: the server could not parse (1) or does not support (2) the APDU."""
    tag, trailer = K.ERROR_RESPONSE, "server"
    KIND_NAMES = {1: "APDU unparsable", 2: "service unsupported", 255: "other"}

    def __init__(self, kind, piid=0):
        self.kind, self.piid = kind, piid

    def put_body(self, out):
        put_uint(out, self.kind, 1, "error type")

    @classmethod
    def get_body(cls, r, piid):
        return cls(r.u8("error type"), piid)


class Unparsed(Apdu):
    """A service this codec carries but does not interpret (PROXY)."""
    trailer = ""

    def __init__(self, tag, body):
        self.tag, self.body = tag, bytes(body)

    def encode(self):
        return bytes((self.tag,)) + self.body


SERVICES = {}
for _cls in (GetNormal, GetList, GetRecord, GetRecordList, GetNext, GetNormalReply, GetListReply,
             GetRecordReply, GetRecordListReply, GetNextReply, SetNormal, SetList, SetThenGet,
             SetNormalReply, SetListReply, SetThenGetReply, ActionNormal, ActionList,
             ActionThenGet, ActionNormalReply, ActionListReply, ActionThenGetReply, ReportList,
             ReportRecordList):
    SERVICES[(_cls.tag, _cls.choice)] = _cls
UNPARSED_TAGS = (K.PROXY_REQUEST, K.PROXY_RESPONSE)


def decode_apdu(raw):
    """Bytes of one APDU to its typed object; raises DecodeError naming the field."""
    from protocols.dlt698.security import SecurityRequest, SecurityResponse
    r = Reader(raw)
    tag = r.u8("APDU tag")
    if tag in (K.SECURITY_REQUEST, K.SECURITY_RESPONSE):
        cls = SecurityRequest if tag == K.SECURITY_REQUEST else SecurityResponse
        msg = cls.get_body(r)
    elif tag in UNPARSED_TAGS:
        return Unparsed(tag, r.rest())
    elif tag in ASSOCIATION_SERVICES:
        msg = ASSOCIATION_SERVICES[tag].get_body(r, r.u8("PIID"))
    elif tag in (K.LINK_REQUEST, K.LINK_RESPONSE):
        cls = LinkRequest if tag == K.LINK_REQUEST else LinkResponse
        msg = cls.get_body(r, r.u8("PIID"))
    elif tag == K.ERROR_RESPONSE:
        msg = ErrorResponse.get_body(r, r.u8("PIID"))
    elif tag == K.REPORT_RESPONSE:
        choice = r.u8("choice")
        if choice not in (1, 2):
            raise DecodeError("REPORT-Response", "choice %d" % choice, bytes([choice]), 1)
        msg = ReportResponse.get_body(r, r.u8("PIID"), choice)
    else:
        choice = r.u8("choice") if r.left else -1
        cls = SERVICES.get((tag, choice))
        if cls is None:
            name = K.APDU_NAMES.get(tag)
            raise DecodeError("APDU", ("%s choice %d is not a known service" % (name, choice))
                              if name else "unknown APDU tag %02X" % tag, raw[:2], 0)
        msg = cls.get_body(r, r.u8("PIID"))
    _read_trailer(msg, r)
    if r.left:
        raise DecodeError("APDU", "%d bytes after the %s" % (r.left, msg.service), r.rest(),
                          r.pos)
    return msg
