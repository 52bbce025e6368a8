"""Q/GDW 1376.1: the master station <-> concentrator protocol (bytes <-> frames <-> data units)."""
from protocols.gdw1376_1.errors import DecodeError, EncodeError
from protocols.gdw1376_1.frame import Frame, Tp, decode_frame, encode_frame
from protocols.gdw1376_1.deframer import NEED_DATA, Deframer, Garbage
from protocols.gdw1376_1.units import Unit, encode_units, parse_units

__all__ = ["DecodeError", "EncodeError", "Frame", "Tp", "decode_frame", "encode_frame",
           "NEED_DATA", "Deframer", "Garbage", "Unit", "encode_units", "parse_units"]
