"""CONNECT/RELEASE of DL/T 698.45: the appendix-D.2 vectors read field by field, typed refusals
of bad bytes, and the FollowReport helpers."""
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from protocols.bcd import hex_to_bytes
from protocols.dlt698 import (OAD, Association, ConnectRequest, ConnectResponse, Data, DateTime,
                              DecodeError, EncodeError, FactoryVersion, GetNormalReply,
                              ReleaseNotification, Result, decode_apdu, follow_report,
                              follow_results)
from protocols.dlt698 import connect as C
from protocols.dlt698 import data as D
from protocols.dlt698.describe import apdu as describe_apdu

VECTORS = {v["name"]: hex_to_bytes(v["hex"]) for v in tomllib.loads(
    (Path(__file__).parent / "vectors" / "dlt698" / "apdus.toml").read_text())["apdu"]}


def test_appendix_d2_connect_request_fields():
    msg = decode_apdu(VECTORS["connect_request"])
    a = msg.association
    assert (a.version, a.send_max, a.receive_max, a.window, a.apdu_max, a.timeout) == (
        0x0010, 1024, 1024, 1, 1024, 100)
    assert a.protocol == b"\xFF" * 8 and a.function == b"\xFF" * 16
    assert msg.mechanism == C.MECHANISM_NULL and msg.piid == 0 and msg.time_tag is None
    assert ConnectRequest(Association(), piid=0).encode() == VECTORS["connect_request"]


def test_appendix_d2_connect_response_fields():
    msg = decode_apdu(VECTORS["connect_response"])
    assert msg.factory == FactoryVersion("TOPS", "0102", "160731", "0102", "160731", "\x00" * 8)
    assert msg.result == 0 and msg.security is None and msg.association == Association()
    assert describe_apdu(msg)["result"] == "0 association allowed"
    assert describe_apdu(msg)["factory"]["vendor"] == "TOPS"


def test_release_notification_times():
    msg = decode_apdu(VECTORS["release_notification"])
    assert isinstance(msg, ReleaseNotification) and msg.piid == 2
    assert (msg.established.text(), msg.now.text()) == ("2016-05-19 08:05:00",
                                                        "2016-05-19 08:06:00")


@pytest.mark.parametrize("msg", [
    ConnectRequest(Association(timeout=600), C.MECHANISM_PASSWORD, password="00000000", piid=3),
    ConnectRequest(Association(), C.MECHANISM_SYMMETRY, cipher=b"\x01" * 32, signature=b"\x02" * 4),
    ConnectResponse(FactoryVersion(), Association(send_max=512), 2, (b"\x05" * 16, b"\x06" * 4)),
], ids=["password", "symmetry", "response-with-security"])
def test_mechanisms_round_trip(msg):
    assert decode_apdu(msg.encode()) == msg


@pytest.mark.parametrize("raw", [
    "02 00 00 10",                                            # association cut short
    "02 00 00 10" + " FF" * 24 + " 04 00 04 00 01 04 00 00 00 00 64 07 00",   # mechanism 7
    "02 00 00 10" + " FF" * 24 + " 04 00 04 00 01 04 00 00 00 00 64 01 02 FF FE 00",  # not text
    "82 00 54 4F 50",                                         # factory version cut short
    "03 01 00 00",                                            # trailing byte after RELEASE
])
def test_bad_association_apdus_are_typed_errors(raw):
    with pytest.raises(DecodeError):
        decode_apdu(hex_to_bytes(raw))


def test_encode_refuses_wrong_sizes():
    with pytest.raises(EncodeError):
        ConnectResponse(FactoryVersion(vendor="TOO LONG"), Association()).encode()
    with pytest.raises(EncodeError):
        ConnectRequest(Association(protocol=b"\xFF")).encode()


def test_follow_report_round_trips_through_a_response():
    new_event = Result(OAD(0x3320, 2, 1), Data(D.T_OAD, OAD(0x301F, 2, 0)))
    reply = GetNormalReply(Result(OAD(0x4000, 2, 0), Data(D.DATE_TIME_S, DateTime(2026, 3, 1))))
    reply.follow_report = follow_report([new_event])
    back = decode_apdu(reply.encode())
    assert follow_results(back.follow_report) == [new_event]
    with pytest.raises(DecodeError):
        follow_results(b"\x03\x00")
