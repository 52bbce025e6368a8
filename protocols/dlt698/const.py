"""DL/T 698.45 application-layer numbers: APDU tags, choices, DAR codes, unit codes.

APDU tags: 600888/dlt698 appendix-D vectors (05/85 GET, 06/86 SET, 07/87 ACTION, 01/81 LINK,
EE ERROR) and wenyl/DLT698-API; DAR names: wenyl/DLT698-API ``DARType.java`` and several public
firmware enums (same 0..35, 255 list); unit codes: the ``dlt698`` 1.0.1 package's
``standard.unit_symbol`` and a public firmware ``Physical_Units`` enum.
"""
from protocols.dlt698._compat import const

LINK_REQUEST = const(1)
CONNECT_REQUEST = const(2)
RELEASE_REQUEST = const(3)
GET_REQUEST = const(5)
SET_REQUEST = const(6)
ACTION_REQUEST = const(7)
REPORT_RESPONSE = const(8)
PROXY_REQUEST = const(9)
SECURITY_REQUEST = const(16)
LINK_RESPONSE = const(129)
CONNECT_RESPONSE = const(130)
RELEASE_RESPONSE = const(131)
RELEASE_NOTIFICATION = const(132)
GET_RESPONSE = const(133)
SET_RESPONSE = const(134)
ACTION_RESPONSE = const(135)
REPORT_NOTIFICATION = const(136)
PROXY_RESPONSE = const(137)
SECURITY_RESPONSE = const(144)
ERROR_RESPONSE = const(238)

APDU_NAMES = {
    1: "LINK-Request", 2: "CONNECT-Request", 3: "RELEASE-Request", 5: "GET-Request",
    6: "SET-Request", 7: "ACTION-Request", 8: "REPORT-Response", 9: "PROXY-Request",
    16: "SECURITY-Request", 129: "LINK-Response", 130: "CONNECT-Response",
    131: "RELEASE-Response", 132: "RELEASE-Notification", 133: "GET-Response",
    134: "SET-Response", 135: "ACTION-Response", 136: "REPORT-Notification",
    137: "PROXY-Response", 144: "SECURITY-Response", 238: "ERROR-Response",
}

LINK_LOGIN = const(0)
LINK_HEARTBEAT = const(1)
LINK_LOGOUT = const(2)
LINK_TYPE_NAMES = {0: "login", 1: "heartbeat", 2: "logout"}
# ConnectResult (认证结果): the same list in several public firmware tables (a C
# ServerConnectInfo_TypeDef, a C++ eConnectResult, a Java parser) and 600888/dlt698's docs
CONNECT_ALLOWED = const(0)
CONNECT_PASSWORD_ERROR = const(1)
CONNECT_SYMMETRIC_ERROR = const(2)
CONNECT_ASYMMETRIC_ERROR = const(3)
CONNECT_SIGNATURE_ERROR = const(4)
CONNECT_VERSION_MISMATCH = const(5)
CONNECT_OTHER = const(255)
CONNECT_RESULT_NAMES = {0: "association allowed", 1: "password error",
                        2: "symmetric decryption error", 3: "asymmetric decryption error",
                        4: "signature error", 5: "protocol version mismatch", 255: "other error"}
LINK_RESULT_NAMES = {0: "success", 1: "address repeated", 2: "illegal device",
                     3: "capacity insufficient"}

DAR_SUCCESS = const(0)
DAR_READ_WRITE_DENIED = const(3)
DAR_OBJECT_UNDEFINED = const(4)
DAR_OBJECT_CLASS_INCONSISTENT = const(5)
DAR_OBJECT_UNAVAILABLE = const(6)
DAR_TYPE_UNMATCHED = const(7)
DAR_SCOPE_VIOLATED = const(8)
DAR_NO_LONG_GET = const(11)
DAR_PASSWORD_FAILURE = const(15)
DAR_SECURITY_MISMATCH = const(20)
DAR_ESAM_VERIFY_FAILED = const(22)
DAR_SECURITY_FAILED = const(23)
DAR_TIME_TAG_INVALID = const(32)
DAR_OTHER = const(255)
DAR_NAMES = {
    0: "success", 1: "hardware fault", 2: "temporary failure", 3: "read/write denied",
    4: "object undefined", 5: "object class inconsistent", 6: "object unavailable",
    7: "type unmatched", 8: "scope of access violated", 9: "data block unavailable",
    10: "long get aborted", 11: "no long get in progress", 12: "long set aborted",
    13: "no long set in progress", 14: "invalid block number", 15: "password failure / unauthorised",
    16: "baud rate cannot change", 17: "year time zones exceeded", 18: "day periods exceeded",
    19: "tariffs exceeded", 20: "security authentication mismatch", 21: "repeated recharge",
    22: "ESAM verification failed", 23: "security authentication failed",
    24: "customer number mismatch", 25: "recharge count error", 26: "purchase over hoarding limit",
    27: "address abnormal", 28: "symmetric decryption error", 29: "asymmetric decryption error",
    30: "signature error", 31: "meter suspended", 32: "time tag invalid", 33: "request timed out",
    34: "ESAM P1P2 incorrect", 35: "ESAM LC error", 255: "other",
}

UNIT_NAMES = {
    1: "a", 2: "mo", 3: "wk", 4: "d", 5: "h", 6: "min", 7: "s", 8: "deg", 9: "degC",
    10: "yuan", 27: "W", 28: "kW", 29: "VA", 30: "kVA", 31: "var", 32: "kvar", 33: "kWh",
    34: "kVAh", 35: "kvarh", 36: "A", 38: "V", 47: "Hz", 51: "%", 54: "yuan/kWh", 255: "",
}
