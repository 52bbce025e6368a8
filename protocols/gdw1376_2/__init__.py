"""Q/GDW 1376.2: the concentrator <-> local communication module interface (bytes <-> frames)."""
from protocols.gdw1376_2.errors import DecodeError, EncodeError
from protocols.gdw1376_2.frame import (COMM_HPLC, COMM_NBPLC, Frame, decode_frame, down_info,
                                       encode_frame, up_info)
from protocols.gdw1376_2.deframer import NEED_DATA, Deframer, Garbage
from protocols.gdw1376_2.afn import to_frame, unit_of

__all__ = ["DecodeError", "EncodeError", "COMM_HPLC", "COMM_NBPLC", "Frame", "decode_frame",
           "down_info", "encode_frame", "up_info", "NEED_DATA", "Deframer", "Garbage", "to_frame",
           "unit_of"]
