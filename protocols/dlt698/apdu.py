"""Typed DL/T 698.45 APDUs: LINK, GET, SET, ACTION (and their Then-Get forms), REPORT, SECURITY
and ERROR. ``decode_apdu(bytes)`` gives one of these classes, ``apdu.encode()`` the bytes back;
meter-reported failures are values (a DAR in a result), never exceptions.

Layouts: appendix D of DL/T 698.45-2017 as transcribed in 600888/dlt698 ``tests/vectors`` (GET
Normal/List/Record, SET, ACTION, LINK, ERROR), its ``website/docs`` frames (ACTION with returned
data, GET-Record ranges, SET list with per-item DAR), dlt698_rs ``apdu/protocol``. Client APDUs
end with an optional TimeTag (flag 00/01, then date_time_s + TI); server APDUs with an optional
FollowReport and an optional TimeTag; LINK and SECURITY APDUs with neither.
"""
from protocols.errors import hexstr
from protocols.dlt698 import const as K
from protocols.dlt698.axdr import OAD, OMD, TI, DateTime, Reader, put_length, put_uint
from protocols.dlt698.data import get_data, get_rcsd, get_rsd, put_data, put_rcsd, put_rsd
from protocols.dlt698.errors import DecodeError, EncodeError


class TimeTag:
    """时间标签: when the request was sent and how long it stays valid."""

    def __init__(self, sent, delay):
        self.sent = sent
        self.delay = delay

    def __eq__(self, other):
        return isinstance(other, TimeTag) and self.sent == other.sent and self.delay == other.delay

    def __repr__(self):
        return "TimeTag(%s, %r)" % (self.sent.text(), self.delay)


class Result:
    """A-ResultNormal: an OAD and either its Data or a DAR."""

    def __init__(self, oad, data=None, dar=None):
        self.oad = oad
        self.data = data
        self.dar = dar

    def put(self, out):
        self.oad.put(out)
        _put_get_result(out, self.data, self.dar)

    @classmethod
    def get(cls, r):
        oad = OAD.get(r)
        data, dar = _get_get_result(r)
        return cls(oad, data, dar)

    def __eq__(self, other):
        return (isinstance(other, Result) and self.oad == other.oad and self.data == other.data
                and self.dar == other.dar)

    def __repr__(self):
        return "Result(%s, %s)" % (self.oad.text(), "DAR %d" % self.dar if self.dar is not None
                                   else repr(self.data))


def _put_get_result(out, data, dar):
    if dar is not None:
        out += bytes((0, dar))
    else:
        out.append(1)
        put_data(out, data)


def _get_get_result(r):
    choice = r.u8("Get-Result")
    if choice == 0:
        return None, r.u8("DAR")
    if choice == 1:
        return get_data(r), None
    raise DecodeError("Get-Result", "choice %d" % choice, bytes([choice]), r.pos - 1)


class RecordResult:
    """A-ResultRecord: an OAD, its columns (RCSD) and either rows (lists of Data) or a DAR."""

    def __init__(self, oad, columns, rows=None, dar=None):
        self.oad = oad
        self.columns = list(columns)
        self.rows = rows
        self.dar = dar

    def put(self, out):
        self.oad.put(out)
        put_rcsd(out, self.columns)
        if self.dar is not None:
            out += bytes((0, self.dar))
            return
        out.append(1)
        put_length(out, len(self.rows))
        for row in self.rows:
            if len(row) != len(self.columns):
                raise EncodeError("A-RecordRow", "%d cells for %d columns" % (len(row),
                                                                             len(self.columns)))
            for cell in row:
                put_data(out, cell)

    @classmethod
    def get(cls, r):
        oad = OAD.get(r)
        columns = get_rcsd(r)
        choice = r.u8("A-ResultRecord")
        if choice == 0:
            return cls(oad, columns, None, r.u8("DAR"))
        if choice != 1:
            raise DecodeError("A-ResultRecord", "choice %d" % choice, bytes([choice]), r.pos - 1)
        rows = [[get_data(r) for _ in columns] for _ in range(r.length("A-RecordRow.count"))]
        return cls(oad, columns, rows)

    def __eq__(self, other):
        return (isinstance(other, RecordResult) and self.oad == other.oad
                and self.columns == other.columns and self.rows == other.rows
                and self.dar == other.dar)

    def __repr__(self):
        return "RecordResult(%s, %d columns, %s)" % (
            self.oad.text(), len(self.columns),
            "DAR %d" % self.dar if self.dar is not None else "%d rows" % len(self.rows))


def _put_list(out, items, put_item):
    put_length(out, len(items))
    for item in items:
        put_item(out, item)


def _get_list(r, get_item, field):
    return [get_item(r) for _ in range(r.length(field))]


def _put_optional_data(out, data):
    if data is None:
        out.append(0)
    else:
        out.append(1)
        put_data(out, data)


def _get_optional_data(r):
    return get_data(r) if r.u8("Data OPTIONAL") else None


class Apdu:
    """Base: ``tag`` and ``choice`` identify the service; ``piid`` is PIID (or PIID-ACD)."""

    tag = 0
    choice = 0
    trailer = "client"            # "client": TimeTag; "server": FollowReport + TimeTag; "": none
    name = "apdu"

    piid = 0
    time_tag = None
    follow_report = None          # raw bytes of a FollowReport (kept, not interpreted)

    def encode(self):
        out = bytearray((self.tag,))
        if self.choice:
            out.append(self.choice)
        if self.trailer or self.tag in (K.LINK_REQUEST, K.LINK_RESPONSE):
            put_uint(out, self.piid, 1, "PIID")
        self.put_body(out)
        if self.trailer == "server":
            if self.follow_report is None:
                out.append(0)
            else:
                out.append(1)
                out += self.follow_report
        if self.trailer:
            if self.time_tag is None:
                out.append(0)
            else:
                out.append(1)
                self.time_tag.sent.put_s(out)
                self.time_tag.delay.put(out)
        return bytes(out)

    def put_body(self, out):
        pass

    @property
    def service(self):
        return K.APDU_NAMES.get(self.tag, "tag %d" % self.tag)

    def __eq__(self, other):
        return type(self) is type(other) and self.encode() == other.encode()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        fields = ", ".join("%s=%r" % kv for kv in sorted(self.__dict__.items()))
        return "%s(%s)" % (type(self).__name__, fields)


def follow_report(results):
    """FollowReport bytes (跟随上报) for a server APDU's ``follow_report``: choice 1 with a list
    of ``Result`` (choice 2 when they are all ``RecordResult``)."""
    out = bytearray((2 if results and isinstance(results[0], RecordResult) else 1,))
    _put_list(out, results, lambda o, x: x.put(o))
    return bytes(out)


def follow_results(raw):
    """The Results (or RecordResults) a FollowReport carries, from the bytes kept in
    ``apdu.follow_report``; DecodeError if they do not parse."""
    r = Reader(raw)
    choice = r.u8("FollowReport")
    if choice not in (1, 2):
        raise DecodeError("FollowReport", "choice %d" % choice, bytes([choice]), 0)
    items = _get_list(r, RecordResult.get if choice == 2 else Result.get, "FollowReport.count")
    if r.left:
        raise DecodeError("FollowReport", "%d bytes after the list" % r.left, r.rest(), r.pos)
    return items


def _read_trailer(apdu, r):
    if apdu.trailer == "server" and r.left and r.u8("FollowReport OPTIONAL"):
        start = r.pos
        choice = r.u8("FollowReport")
        if choice == 1:
            _get_list(r, Result.get, "FollowReport.count")
        elif choice == 2:
            _get_list(r, RecordResult.get, "FollowReport.count")
        else:
            raise DecodeError("FollowReport", "choice %d" % choice, bytes([choice]), r.pos - 1)
        apdu.follow_report = r.buf[start:r.pos]
    if apdu.trailer and r.left and r.u8("TimeTag OPTIONAL"):
        apdu.time_tag = TimeTag(DateTime.get_s(r), TI.get(r))
