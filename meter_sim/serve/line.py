"""One deframer for a line that carries DL/T 645 and DL/T 698.45 frames at once (a mixed RS-485
bus, or a served TCP line): at each 68 the bytes are tried as a 698 frame (HCS and FCS), then as
a 645 frame (checksum); whichever structure holds is the frame, garbage resyncs as in
``protocols.stream``."""
from protocols.stream import Garbage, Hunter, NEED_DATA
from protocols.dlt645.deframer import Deframer as Deframer645
from protocols.dlt698 import frame as F698

__all__ = ["LineDeframer", "Garbage", "NEED_DATA"]


class LineDeframer(Hunter):
    """Frames of both codecs (``protocols.dlt645.frame.Frame`` or ``protocols.dlt698.Frame``)."""

    PREAMBLE = 4

    def __init__(self, gap=0.5, max_buffer=4096):
        Hunter.__init__(self, gap, max_buffer)
        self._645 = Deframer645()

    def _check(self, buf, i):
        status, end = F698.check(buf, i)
        if status == "ok":
            return status, end
        status645, end645 = self._645._check(buf, i)
        if status645 == "ok" or status645 == "short":
            return status645, end645
        return ("short", 0) if status == "short" else (status645, 0)

    def _frame(self, raw, i):
        if F698.check(raw, i)[0] == "ok":
            return F698.frame_at(raw, i)
        return self._645._frame(raw, i)
