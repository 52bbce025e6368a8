"""DL/T 645-2007 (and 645-1997) codec: frames, a streaming deframer, data identifiers, typed APDUs.

Sans-I/O and MicroPython-safe: no dataclasses, no typing imports, no clock.
"""
from protocols.dlt645 import const, di, values, v1997
from protocols.dlt645.errors import DecodeError, EncodeError
from protocols.dlt645.frame import (Frame, encode_frame, decode_frame, address, address_text,
                                    address_matches, checksum, mask, unmask)
from protocols.dlt645.deframer import Deframer, Garbage, NEED_DATA
from protocols.dlt645.apdu import (Read, ReadFollowUp, ReadAddress, Write, WriteAddress,
                                   BroadcastTime, Freeze, ChangeBaud, ChangePassword, DemandReset,
                                   MeterClear, EventClear, Control, Security, ReadReply, Ack,
                                   ErrorReply, parse_request, parse_reply)

__all__ = [
    "const", "di", "values", "v1997", "DecodeError", "EncodeError", "Frame", "encode_frame",
    "decode_frame", "address", "address_text", "address_matches", "checksum", "mask", "unmask",
    "Deframer", "Garbage", "NEED_DATA", "Read", "ReadFollowUp", "ReadAddress", "Write",
    "WriteAddress", "BroadcastTime", "Freeze", "ChangeBaud", "ChangePassword", "DemandReset",
    "MeterClear", "EventClear", "Control", "Security", "ReadReply", "Ack", "ErrorReply",
    "parse_request", "parse_reply",
]
