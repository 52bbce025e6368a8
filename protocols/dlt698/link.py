"""Whole frames from APDUs and back: the glue a client, a meter front end or a decoder needs.

C's DIR says who sends (1 = the server/meter) and PRM who started the exchange (1 = the client):
a GET goes 43 and its answer C3 (600888/dlt698 guides), a server's LINK request goes 81
(wenyl/DLT698-API login frame) and so does a server's report; the client's answers to those two
carry PRM 0. LINK APDUs use link function 1, everything else user-data function 3.
"""
from protocols.dlt698 import const as K
from protocols.dlt698 import segment as S
from protocols.dlt698.frame import FN_LINK, FN_USER_DATA, SEGMENTED, Frame, control
from protocols.dlt698.errors import DecodeError

CLIENT_CA = 0x10        # the client address most public captures use (dlt698_rs, HPLC benches)
SERVER_STARTED = (K.LINK_REQUEST, K.LINK_RESPONSE, K.REPORT_NOTIFICATION, K.REPORT_RESPONSE,
                  K.RELEASE_NOTIFICATION)


def _bytes(apdu):
    return bytes(apdu) if isinstance(apdu, (bytes, bytearray)) else apdu.encode()


def _function(raw):
    return FN_LINK if raw[:1] in (b"\x01", b"\x81") else FN_USER_DATA


def request_frame(apdu, addr, ca=CLIENT_CA, logical=0, kind=0):
    """A client (master) frame carrying ``apdu`` (an Apdu or its bytes) to server ``addr``."""
    raw = _bytes(apdu)
    prm = not raw or raw[0] not in SERVER_STARTED
    return Frame(control(False, prm, _function(raw)), addr, ca, raw, kind, logical)


def reply_frame(apdu, addr, ca=CLIENT_CA, logical=0):
    """A server (meter) frame carrying ``apdu``: an answer, or a LINK request / report."""
    raw = _bytes(apdu)
    prm = not raw or raw[0] not in SERVER_STARTED
    return Frame(control(True, prm, _function(raw)), addr, ca, raw, 0, logical)


def frames_for(frame, size):
    """``frame`` as it travels: itself, or segmented frames of at most ``size`` APDU bytes."""
    if len(frame.data) <= size:
        return [frame]
    return [Frame(frame.ctrl | SEGMENTED, frame.addr, frame.ca, frag.encode(), frame.kind,
                  frame.logical) for frag in S.split(frame.data, size)]


def confirm_frame(frame, seq):
    """The confirm a receiver sends for fragment ``seq`` of ``frame``: the direction reversed,
    PRM kept (the exchange has the same initiator)."""
    return Frame((frame.ctrl ^ 0x80) | SEGMENTED, frame.addr, frame.ca,
                 S.Fragment(S.CONFIRM, seq).encode(), frame.kind, frame.logical)


def apdu_of(frame):
    """The APDU bytes of an unsegmented frame (DecodeError for a fragment)."""
    if frame.segmented:
        raise DecodeError("C", "segmented frame: reassemble its fragments first",
                          bytes((frame.ctrl,)))
    return frame.data
