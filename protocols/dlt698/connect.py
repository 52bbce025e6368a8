"""Application association (应用连接): CONNECT-Request/Response and RELEASE-Request/Response/
Notification.

Layouts: DL/T 698.45-2017 appendix D.2 as transcribed in 600888/dlt698
``tests/vectors/connect-request.hex`` / ``connect-response.hex`` (hand-checked there against the
standard's pages), its RELEASE vectors (built from clauses 6.3.7.1..3), and the field lists of
public meter firmware (a Wasion ``Dlt698_45.c`` in float12/WorkProjectsSVN, a C# and a C
``ServerConnectInfo`` table found by the code search):

    CONNECT-Request  02 PIID version(2) protocol-conformance(8) function-conformance(16)
                     send-max(2) receive-max(2) window(1) apdu-max(2) timeout(4 s)
                     ConnectMechanismInfo TimeTag-OPTIONAL
    CONNECT-Response 82 PIID-ACD FactoryVersion(4+4+6+4+6+8, fixed visible strings) version(2)
                     conformance(8+16) send-max recv-max window apdu-max timeout(4)
                     ConnectResult SecurityData-OPTIONAL FollowReport-OPTIONAL TimeTag-OPTIONAL

ConnectMechanismInfo: 0 NullSecurity (公共连接), 1 PasswordSecurity visible-string (一般密码),
2 SymmetrySecurity (对称加密: ciphertext, client signature octet-strings), 3 SignatureSecurity
(数字签名: the same two octet-strings). SecurityData: server RN, server signature.
"""
from protocols.errors import hexstr
from protocols.dlt698 import const as K
from protocols.dlt698.apdu import Apdu
from protocols.dlt698.axdr import DateTime, put_length, put_uint
from protocols.dlt698.errors import DecodeError, EncodeError

MECHANISM_NULL = 0
MECHANISM_PASSWORD = 1
MECHANISM_SYMMETRY = 2
MECHANISM_SIGNATURE = 3
MECHANISM_NAMES = {0: "public (NullSecurity)", 1: "password", 2: "symmetric encryption",
                   3: "digital signature"}
FACTORY_FIELDS = (("vendor", 4), ("software_version", 4), ("software_date", 6),
                  ("hardware_version", 4), ("hardware_date", 6), ("extension", 8))
ALL_CONFORMANCE = (b"\xFF" * 8, b"\xFF" * 16)   # every bit set, as appendix D.2 asks


def _octets(r, field):
    return r.take(r.length(field), field)


def _put_octets(out, raw):
    put_length(out, len(raw))
    out += raw


class Association:
    """协商参数: protocol version, conformance bit maps (bit 0 = MSB of the first byte), frame
    and APDU sizes in bytes, receive window, and the association's idle timeout in seconds."""

    def __init__(self, version=0x0010, protocol=ALL_CONFORMANCE[0],
                 function=ALL_CONFORMANCE[1], send_max=1024, receive_max=1024, window=1,
                 apdu_max=1024, timeout=100):
        self.version = version
        self.protocol = bytes(protocol)
        self.function = bytes(function)
        self.send_max = send_max
        self.receive_max = receive_max
        self.window = window
        self.apdu_max = apdu_max
        self.timeout = timeout

    def put(self, out):
        if len(self.protocol) != 8 or len(self.function) != 16:
            raise EncodeError("conformance", "8 protocol and 16 function conformance bytes")
        put_uint(out, self.version, 2, "protocol version")
        out += self.protocol
        out += self.function
        put_uint(out, self.send_max, 2, "send max size")
        put_uint(out, self.receive_max, 2, "receive max size")
        put_uint(out, self.window, 1, "receive window")
        put_uint(out, self.apdu_max, 2, "max APDU size")
        put_uint(out, self.timeout, 4, "association timeout")

    @classmethod
    def get(cls, r):
        return cls(r.uint(2, "protocol version"), r.take(8, "protocol conformance"),
                   r.take(16, "function conformance"), r.uint(2, "send max size"),
                   r.uint(2, "receive max size"), r.u8("receive window"),
                   r.uint(2, "max APDU size"), r.uint(4, "association timeout"))

    def as_dict(self):
        return {"version": "%04X" % self.version, "protocol_conformance": hexstr(self.protocol),
                "function_conformance": hexstr(self.function), "send_max": self.send_max,
                "receive_max": self.receive_max, "window": self.window,
                "apdu_max": self.apdu_max, "timeout_s": self.timeout}

    def __eq__(self, other):
        return isinstance(other, Association) and self.as_dict() == other.as_dict()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "Association(v%04X, %d/%d bytes, APDU %d, %d s)" % (
            self.version, self.send_max, self.receive_max, self.apdu_max, self.timeout)


class FactoryVersion:
    """服务器厂商版本信息: six fixed-size visible strings (no length, no tag)."""

    def __init__(self, vendor="GEDG", software_version="0100", software_date="260101",
                 hardware_version="0100", hardware_date="260101", extension="\x00" * 8):
        self.vendor = vendor
        self.software_version = software_version
        self.software_date = software_date
        self.hardware_version = hardware_version
        self.hardware_date = hardware_date
        self.extension = extension

    def put(self, out):
        for name, size in FACTORY_FIELDS:
            raw = getattr(self, name).encode()
            if len(raw) != size:
                raise EncodeError("FactoryVersion", "%s needs %d characters" % (name, size))
            out += raw

    @classmethod
    def get(cls, r):
        values = []
        for name, size in FACTORY_FIELDS:
            raw = r.take(size, "FactoryVersion." + name)
            try:
                values.append(raw.decode())
            except UnicodeError:
                raise DecodeError("FactoryVersion." + name, "not text", raw, r.pos - size) from None
        return cls(*values)

    def as_dict(self):
        return dict((name, getattr(self, name)) for name, _ in FACTORY_FIELDS)

    def __eq__(self, other):
        return isinstance(other, FactoryVersion) and self.as_dict() == other.as_dict()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "FactoryVersion(%s %s %s)" % (self.vendor, self.software_version,
                                             self.software_date)


class ConnectRequest(Apdu):
    """CONNECT-Request (建立应用连接请求): the client's wished ``association`` and its
    authentication ``mechanism`` (MECHANISM_*) with ``password`` or (``cipher``, ``signature``)."""
    tag = K.CONNECT_REQUEST

    def __init__(self, association=None, mechanism=MECHANISM_NULL, password="", cipher=b"",
                 signature=b"", piid=0):
        self.association = association if association is not None else Association()
        self.mechanism, self.password = mechanism, password
        self.cipher, self.signature, self.piid = bytes(cipher), bytes(signature), piid

    def put_body(self, out):
        self.association.put(out)
        put_uint(out, self.mechanism, 1, "ConnectMechanismInfo")
        if self.mechanism == MECHANISM_PASSWORD:
            _put_octets(out, self.password.encode())
        elif self.mechanism in (MECHANISM_SYMMETRY, MECHANISM_SIGNATURE):
            _put_octets(out, self.cipher)
            _put_octets(out, self.signature)
        elif self.mechanism != MECHANISM_NULL:
            raise EncodeError("ConnectMechanismInfo", "choice %r" % (self.mechanism,))

    @classmethod
    def get_body(cls, r, piid):
        association = Association.get(r)
        mechanism = r.u8("ConnectMechanismInfo")
        if mechanism == MECHANISM_NULL:
            return cls(association, mechanism, piid=piid)
        if mechanism == MECHANISM_PASSWORD:
            raw = _octets(r, "PasswordSecurity")
            try:
                return cls(association, mechanism, raw.decode(), piid=piid)
            except UnicodeError:
                raise DecodeError("PasswordSecurity", "not text", raw, r.pos - len(raw)) from None
        if mechanism in (MECHANISM_SYMMETRY, MECHANISM_SIGNATURE):
            cipher = _octets(r, "ciphertext")
            return cls(association, mechanism, cipher=cipher,
                       signature=_octets(r, "client signature"), piid=piid)
        raise DecodeError("ConnectMechanismInfo", "choice %d" % mechanism, bytes([mechanism]),
                          r.pos - 1)


class ConnectResponse(Apdu):
    """CONNECT-Response: the server's ``factory`` version, the agreed ``association``, the
    ``result`` (K.CONNECT_RESULT_NAMES) and, for an encrypted association, ``security`` =
    (server RN, server signature)."""
    tag, trailer = K.CONNECT_RESPONSE, "server"

    def __init__(self, factory, association, result=0, security=None, piid=0):
        self.factory, self.association, self.result = factory, association, result
        self.security = None if security is None else (bytes(security[0]), bytes(security[1]))
        self.piid = piid

    def put_body(self, out):
        self.factory.put(out)
        self.association.put(out)
        put_uint(out, self.result, 1, "ConnectResult")
        if self.security is None:
            out.append(0)
        else:
            out.append(1)
            _put_octets(out, self.security[0])
            _put_octets(out, self.security[1])

    @classmethod
    def get_body(cls, r, piid):
        factory = FactoryVersion.get(r)
        association = Association.get(r)
        result = r.u8("ConnectResult")
        security = None
        if r.u8("SecurityData OPTIONAL"):
            rn = _octets(r, "server RN")
            security = (rn, _octets(r, "server signature"))
        return cls(factory, association, result, security, piid)


class ReleaseRequest(Apdu):
    """RELEASE-Request (断开应用连接请求): PIID and the optional TimeTag only."""
    tag = K.RELEASE_REQUEST

    def __init__(self, piid=0):
        self.piid = piid

    @classmethod
    def get_body(cls, r, piid):
        return cls(piid)


class ReleaseResponse(Apdu):
    """RELEASE-Response: ``result`` 0 (success is the only value the standard defines)."""
    tag, trailer = K.RELEASE_RESPONSE, "server"

    def __init__(self, result=0, piid=0):
        self.result, self.piid = result, piid

    def put_body(self, out):
        put_uint(out, self.result, 1, "RELEASE result")

    @classmethod
    def get_body(cls, r, piid):
        return cls(r.u8("RELEASE result"), piid)


class ReleaseNotification(Apdu):
    """RELEASE-Notification (断开应用连接通知): the server ended an association that timed out;
    when it was established and the server's clock now (date_time_s)."""
    tag, trailer = K.RELEASE_NOTIFICATION, "server"

    def __init__(self, established, now, piid=0):
        self.established, self.now, self.piid = established, now, piid

    def put_body(self, out):
        self.established.put_s(out)
        self.now.put_s(out)

    @classmethod
    def get_body(cls, r, piid):
        return cls(DateTime.get_s(r), DateTime.get_s(r), piid)


ASSOCIATION_SERVICES = {}
for _cls in (ConnectRequest, ConnectResponse, ReleaseRequest, ReleaseResponse,
             ReleaseNotification):
    ASSOCIATION_SERVICES[_cls.tag] = _cls
