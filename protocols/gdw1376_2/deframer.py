"""Streaming Q/GDW 1376.2 deframer (no FE preamble; hunting rules of ``protocols.stream``).

A structurally sound frame whose inside does not parse (e.g. an address field longer than the
frame) comes out as Garbage with the decode error as reason, so the stream never stops.
"""
from protocols.errors import DecodeError as _DecodeError
from protocols.stream import NEED_DATA, Garbage, Hunter, checksum_defect
from protocols.gdw1376_2.frame import _parse, check_frame, checksum

__all__ = ["Deframer", "Garbage", "NEED_DATA"]


class Deframer(Hunter):
    """Incremental 1376.2 frame hunter."""

    def __init__(self, gap=0.5, max_buffer=4096):
        Hunter.__init__(self, gap, max_buffer)

    def _check(self, buf, i):
        status, end = check_frame(buf, i)
        if status == "bad checksum":            # name the sums, as the 645 and 1376.1 hunters do
            end = i + (buf[i + 1] | buf[i + 2] << 8)
            return checksum_defect(checksum(buf[i + 3:end - 2]), buf[end - 2]), 0
        return status, end

    def _frame(self, raw, i):
        try:
            return _parse(raw, raw[i + 3:len(raw) - 2])
        except _DecodeError as e:
            self.frames -= 1
            self.garbage_bytes += len(raw)
            return Garbage(raw, str(e))
