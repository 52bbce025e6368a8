"""Streaming Q/GDW 1376.1 deframer (hunting rules of ``protocols.stream``): line noise, other
protocols on the same link and truncated frames come out as Garbage, and the stream goes on."""
from protocols.errors import DecodeError as _DecodeError
from protocols.stream import NEED_DATA, Garbage, Hunter
from protocols.gdw1376_1.frame import HEADER, check_frame, parse

__all__ = ["Deframer", "Garbage", "NEED_DATA"]


class Deframer(Hunter):
    """Incremental 1376.1 frame hunter."""

    def __init__(self, gap=5.0, max_buffer=70000):
        Hunter.__init__(self, gap, max_buffer)

    def _check(self, buf, i):
        return check_frame(buf, i)

    def _frame(self, raw, i):
        try:
            return parse(raw, raw[i + HEADER:len(raw) - 2])
        except _DecodeError as e:
            self.frames -= 1
            self.garbage_bytes += len(raw)
            return Garbage(raw, str(e))
