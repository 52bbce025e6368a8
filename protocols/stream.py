"""Shared streaming deframer for the 68H-delimited codecs (645, 1376.2, 1376.1).

Rules of this file:
- ``next()`` returns one item per call: a frame, a ``Garbage`` record of skipped bytes, or
  ``NEED_DATA``. Garbage is reported before the frame that follows it.
- A frame is recognised only by structure (``_check`` of the subclass), never by a lone 16H.
- A candidate that cannot be complete yet is kept, unless a complete valid frame starts later in
  the buffer (then the candidate was noise or a truncated frame), the inter-byte gap expired, or
  the buffer passed ``max_buffer``.
"""


def whole_frame(raw, check, error):
    """End of the one frame that ``raw`` must be exactly, by a codec's structural ``check``
    (as the Hunter uses it); raises the codec's ``error`` naming the bad field otherwise."""
    if not raw or raw[0] != 0x68:
        raise error("start", "frame must start with 68", raw[:1], 0)
    status, end = check(raw, 0)
    if status == "short":
        raise error("L", "frame shorter than its length field", raw, 1)
    if status != "ok":
        raise error("frame", status, raw, 0)
    if end != len(raw):
        raise error("L", "%d bytes after the end of the frame" % (len(raw) - end), raw[end:], end)
    return end


class _NeedData:
    def __repr__(self):
        return "NEED_DATA"


NEED_DATA = _NeedData()


class Garbage:
    """Bytes that were skipped while hunting for a frame, and why."""

    def __init__(self, raw, reason):
        self.raw = bytes(raw)
        self.reason = reason

    def __repr__(self):
        return "Garbage(%d bytes: %s)" % (len(self.raw), self.reason)


class Hunter:
    """Incremental 68H frame hunter; ``now`` (seconds) only drives gap-based resync.

    Subclasses give ``_check(buf, i) -> (status, end)`` (status 'ok', 'short' or a reason) and
    ``_frame(raw, start)`` building the frame from ``raw`` whose frame starts at ``start``.
    ``PREAMBLE`` is the count of FE wake-up bytes allowed before a frame.
    """

    PREAMBLE = 0

    def __init__(self, gap=0.5, max_buffer=1024):
        self.gap = gap
        self.max_buffer = max_buffer
        self._buf = bytearray()
        self._last = None
        self._stale = 0
        self.frames = 0
        self.garbage_bytes = 0

    def feed(self, data, now=None):
        """Append received bytes; a silence longer than ``gap`` makes the held bytes stale."""
        if now is not None:
            if self._last is not None and self._buf and now - self._last > self.gap:
                self._stale = len(self._buf)
            self._last = now
        self._buf += data

    def flush(self):
        """Declare everything held so far stale (end of stream, or the reply timeout passed)."""
        self._stale = len(self._buf)

    def next(self):
        """The next frame, Garbage or NEED_DATA."""
        if self._stale:
            n = self._stale
            self._stale = 0
            if not self._complete_frame_in(0, n):
                return self._garbage(n, "inter-byte gap expired")
        buf = self._buf
        skipped = 0
        reason = None
        i = 0
        while i < len(buf):
            b = buf[i]
            if b == 0xFE and i - skipped < self.PREAMBLE:
                i += 1          # wake-up preamble, kept with the frame
                continue
            if b != 0x68:
                reason = reason or ("excess preamble" if b == 0xFE and self.PREAMBLE else "noise")
                i += 1
                skipped = i
                continue
            status, end = self._check(buf, i)
            if status == "ok":
                if skipped:
                    return self._garbage(skipped, reason)
                return self._take(i, end)
            if status == "short" and len(buf) <= self.max_buffer and not self._complete_frame_in(i + 1):
                if skipped:
                    return self._garbage(skipped, reason)
                return NEED_DATA
            if status == "short":
                status = "truncated frame" if len(buf) <= self.max_buffer else "buffer cap exceeded"
            reason = reason or status
            i += 1
            skipped = i
        if skipped:
            return self._garbage(skipped, reason)
        return NEED_DATA

    def _complete_frame_in(self, start, stop=None):
        buf = self._buf
        stop = len(buf) if stop is None else stop
        j = buf.find(b"\x68", start, stop)
        while j >= 0:
            status, end = self._check(buf, j)
            if status == "ok" and end <= stop:
                return True
            j = buf.find(b"\x68", j + 1, stop)
        return False

    def _garbage(self, n, reason):
        raw = bytes(self._buf[:n])
        self._buf = self._buf[n:]
        self.garbage_bytes += n
        return Garbage(raw, reason or "noise")

    def _take(self, i, end):
        raw = bytes(self._buf[:end])
        self._buf = self._buf[end:]
        self.frames += 1
        return self._frame(raw, i)

    def __iter__(self):
        """Frames and garbage until more data is needed."""
        while True:
            item = self.next()
            if item is NEED_DATA:
                return
            yield item

    @property
    def pending(self):
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)
