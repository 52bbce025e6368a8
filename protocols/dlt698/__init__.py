"""DL/T 698.45 codec: link frames (with 分帧 segmentation), a streaming deframer, A-XDR data,
typed APDUs, a security-backend interface and an OI/OAD registry.

Sans-I/O and MicroPython-safe: no dataclasses, no typing imports, no clock.
"""
from protocols.dlt698 import const, registry, segment
from protocols.dlt698.errors import DecodeError, EncodeError
from protocols.dlt698.crc import crc16
from protocols.dlt698.frame import (Frame, address, address_text, control, decode_frame,
                                    encode_frame)
from protocols.dlt698.deframer import Deframer, Garbage, NEED_DATA
from protocols.dlt698.axdr import OAD, OMD, ROAD, TI, TSA, DateTime, ScalerUnit
from protocols.dlt698.data import Data, MS, RSD, Region, decode_data, encode_data
from protocols.dlt698.apdu import RecordResult, Result, TimeTag, follow_report, follow_results
from protocols.dlt698.connect import (Association, ConnectRequest, ConnectResponse,
                                      FactoryVersion, ReleaseNotification, ReleaseRequest,
                                      ReleaseResponse)
from protocols.dlt698.services import (ActionList, ActionListReply, ActionNormal,
                                       ActionNormalReply, ActionThenGet, ActionThenGetReply,
                                       ErrorResponse, GetList, GetListReply, GetNext,
                                       GetNextReply, GetNormal, GetNormalReply, GetRecord,
                                       GetRecordList, GetRecordListReply, GetRecordReply,
                                       LinkRequest, LinkResponse, ReportList, ReportRecordList,
                                       ReportResponse, SetList, SetListReply, SetNormal,
                                       SetNormalReply, SetThenGet, SetThenGetReply, Unparsed,
                                       decode_apdu)
from protocols.dlt698.security import (SecurityBackend, SecurityRequest, SecurityResponse, Sid,
                                       TestKeyBackend)
from protocols.dlt698.link import apdu_of, confirm_frame, frames_for, reply_frame, request_frame

__all__ = [
    "const", "registry", "segment", "DecodeError", "EncodeError", "crc16", "Frame", "address",
    "address_text", "control", "decode_frame", "encode_frame", "Deframer", "Garbage",
    "NEED_DATA", "OAD", "OMD", "ROAD", "TI", "TSA", "DateTime", "ScalerUnit", "Data", "MS",
    "RSD", "Region", "decode_data", "encode_data", "RecordResult", "Result", "TimeTag",
    "follow_report", "follow_results", "Association", "ConnectRequest", "ConnectResponse",
    "FactoryVersion", "ReleaseNotification", "ReleaseRequest", "ReleaseResponse",
    "ActionList", "ActionListReply", "ActionNormal", "ActionNormalReply", "ActionThenGet",
    "ActionThenGetReply", "ErrorResponse", "GetList", "GetListReply", "GetNext", "GetNextReply",
    "GetNormal", "GetNormalReply", "GetRecord", "GetRecordList", "GetRecordListReply",
    "GetRecordReply", "LinkRequest", "LinkResponse", "ReportList", "ReportRecordList",
    "ReportResponse", "SetList", "SetListReply", "SetNormal", "SetNormalReply", "SetThenGet",
    "SetThenGetReply", "Unparsed", "decode_apdu", "SecurityBackend", "SecurityRequest",
    "SecurityResponse", "Sid", "TestKeyBackend", "request_frame", "reply_frame", "frames_for",
    "confirm_frame",
    "apdu_of",
]
