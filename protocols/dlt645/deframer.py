"""Streaming DL/T 645 deframer: feed any chunks, take whole frames out, skip noise.

A frame is 0..4 FE, 68, six address bytes, 68, C, L, L data bytes, a checksum that matches, 16;
a checksum or data byte equal to 16/68/FE is therefore harmless. The hunting rules are those of
``protocols.stream``.
"""
from protocols.stream import NEED_DATA, Garbage, Hunter, checksum_defect
from protocols.dlt645.frame import Frame, checksum, unmask

__all__ = ["Deframer", "Garbage", "NEED_DATA"]


class Deframer(Hunter):
    """Incremental DL/T 645 frame hunter."""

    PREAMBLE = 4

    def _check(self, buf, i):
        if len(buf) - i < 10:
            return "short", 0
        if buf[i + 7] != 0x68:
            return "no second 68", 0
        end = i + 12 + buf[i + 9]
        if len(buf) < end:
            return "short", end
        cs = checksum(buf[i:end - 2])
        if buf[end - 2] != cs:
            return checksum_defect(cs, buf[end - 2]), 0
        if buf[end - 1] != 0x16:
            return "no end 16", 0
        return "ok", end

    def _frame(self, raw, i):
        body = raw[i:]
        n = body[9]
        return Frame(body[1:7], body[8], unmask(body[10:10 + n]), i, raw)
