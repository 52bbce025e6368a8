"""Streaming DL/T 698.45 deframer: feed any chunks, take whole frames out, skip noise.

A frame is recognised by structure only: 0..4 FE, 68, a length, a header whose HCS matches, and
an FCS and 16 at the end the length names; a 16 or 68 inside is therefore harmless, and 645 or
1376.x frames on the same line fail the HCS and are skipped as garbage. The hunting rules are
those of ``protocols.stream``.
"""
from protocols.stream import NEED_DATA, Garbage, Hunter
from protocols.dlt698.frame import check, frame_at

__all__ = ["Deframer", "Garbage", "NEED_DATA"]


class Deframer(Hunter):
    """Incremental DL/T 698.45 frame hunter."""

    PREAMBLE = 4

    def __init__(self, gap=0.5, max_buffer=4096):
        super().__init__(gap, max_buffer)

    def _check(self, buf, i):
        return check(buf, i)

    def _frame(self, raw, i):
        return frame_at(raw, i)
