"""Shared streaming deframer for the 68H-delimited codecs (645, 1376.2, 1376.1).

Rules of this file:
- ``next()`` returns one item per call: a frame, a ``Garbage`` record of skipped bytes, or
  ``NEED_DATA``. Garbage is reported before the frame that follows it.
- A frame is recognised only by structure (``_check`` of the subclass), never by a lone 16H.
- A candidate that cannot be complete yet is kept, unless a complete valid frame starts later in
  the buffer (then the candidate was noise or a truncated frame), the inter-byte gap expired, or
  the buffer passed ``max_buffer``.
- The hunt is linear: while a candidate is kept, the positions after it are looked at once and
  the ones still short are re-checked only when enough bytes for them have arrived (a heap of
  their needed lengths), so a peer dripping a frame byte by byte costs each byte once, not the
  whole buffer per byte.
- Garbage says what was wrong with the bytes: the defect of the first candidate (e.g. ``checksum:
  expected 0xNN, got 0xMM``), ``noise``, or ``inter-byte gap expired`` for a frame cut short.
"""
# MicroPython 1.27 has heapq built in; micropython-stdlib-stubs lists no module for it
import heapq  # type: ignore[import-not-found, unused-ignore]


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


def checksum_defect(expected, got):
    """The reason a candidate with a wrong sum is not a frame (the same words for every codec)."""
    return "checksum: expected 0x%02X, got 0x%02X" % (expected, got)


class _NeedData:
    def __repr__(self):
        return "NEED_DATA"


NEED_DATA = _NeedData()
GAP_EXPIRED = "inter-byte gap expired"


class Garbage:
    """Bytes that were skipped while hunting for a frame, and why."""

    def __init__(self, raw, reason):
        self.raw = bytes(raw)
        self.reason = reason

    def __repr__(self):
        return "Garbage(%d bytes: %s)" % (len(self.raw), self.reason)


class Hunter:
    """Incremental 68H frame hunter; ``now`` (seconds) only drives gap-based resync.

    Subclasses give ``_check(buf, i) -> (status, end)`` (status 'ok', 'short' or a reason; with
    'short', ``end`` is the length the frame needs when known, else 0) and ``_frame(raw, start)``
    building the frame from ``raw`` whose frame starts at ``start``. ``PREAMBLE`` is the count
    of FE wake-up bytes allowed before a frame.
    """

    PREAMBLE = 0

    def __init__(self, gap=0.5, max_buffer=1024):
        self.gap = gap
        self.max_buffer = max_buffer
        self._buf = bytearray()
        self._last = None
        self._stale = 0
        self._base = 0              # bytes consumed so far: positions below are absolute
        self._cand = None           # absolute position of the kept (incomplete) candidate
        self._scan = 0              # absolute position up to which later 68s were looked at
        self._waiting = []          # heap of (absolute length needed, absolute position)
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
                return self._garbage(n, self._stale_reason(n))
        return self._walk()

    def _walk(self):
        buf = self._buf
        n = len(buf)
        skipped = 0
        reason = None
        i = 0
        while i < n:
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
            if status == "short" and n <= self.max_buffer:
                later = self._later_frame(i)
                if later is None:
                    if skipped:
                        return self._garbage(skipped, reason)
                    return NEED_DATA
                # a complete frame starts at ``later``: everything before it is garbage
                reason = reason or "truncated frame"
                i, skipped = self._skip_to(later, i + 1)
                continue
            if status == "short":
                status = "truncated frame" if n <= self.max_buffer else "buffer cap exceeded"
            reason = reason or status
            i += 1
            skipped = i
        if skipped:
            return self._garbage(skipped, reason)
        return NEED_DATA

    def _skip_to(self, later, i):
        """(position, skipped) after skipping to ``later``, keeping FE right before it as its
        preamble (as the walk would)."""
        buf = self._buf
        skipped = i
        while i < later:
            if buf[i] == 0xFE and i - skipped < self.PREAMBLE:
                i += 1
                continue
            i += 1
            skipped = i
        return i, skipped

    def _later_frame(self, c):
        """Position of the earliest complete frame after the candidate at ``c``, or None. Kept
        across calls for the same candidate: only new positions, and short ones whose needed
        bytes have arrived, are checked."""
        buf, base = self._buf, self._base
        n = len(buf)
        cand = base + c
        if self._cand is None or not self._cand <= cand < self._scan:
            self._scan = cand + 1
            self._waiting = []
        # a candidate further on inside the looked-at part keeps what is known after it
        self._cand = cand
        found = None
        waiting = self._waiting
        again = []
        while waiting and waiting[0][0] <= base + n:
            _, j = heapq.heappop(waiting)
            if j <= cand:
                continue
            status, end = self._check(buf, j - base)
            if status == "ok":
                found = j if found is None or j < found else found
            elif status == "short":
                again.append((base + end if end else base + n + 1, j))
        for entry in again:
            heapq.heappush(waiting, entry)
        j = buf.find(b"\x68", self._scan - base)
        while j >= 0 and found is None:
            status, end = self._check(buf, j)
            if status == "ok":
                found = base + j
            elif status == "short":
                heapq.heappush(waiting, (base + end if end else base + n + 1, base + j))
            j = buf.find(b"\x68", j + 1)
        self._scan = base + n
        return None if found is None else found - base

    def _complete_frame_in(self, start, stop):
        buf = self._buf
        j = buf.find(b"\x68", start, stop)
        while j >= 0:
            status, end = self._check(buf, j)
            if status == "ok" and end <= stop:
                return True
            j = buf.find(b"\x68", j + 1, stop)
        return False

    def _stale_reason(self, n):
        """Why the ``n`` stale bytes are no frame: the defect of their first candidate (a
        frame cut short by the silence: the gap), or noise before it."""
        held = bytes(self._buf[:n])
        i = 0
        while i < n:
            b = held[i]
            if b == 0xFE and i < self.PREAMBLE:
                i += 1
                continue
            if b != 0x68:
                break
            status, _ = self._check(held, i)
            return GAP_EXPIRED if status in ("short", "ok") else status
        return GAP_EXPIRED if i == n else "noise"

    def _consume(self, n):
        self._buf = self._buf[n:]
        self._base += n
        if self._cand is not None and self._cand < self._base:
            self._cand = None
            self._waiting = []

    def _garbage(self, n, reason):
        raw = bytes(self._buf[:n])
        self._consume(n)
        self.garbage_bytes += n
        return Garbage(raw, reason or "noise")

    def _take(self, i, end):
        raw = bytes(self._buf[:end])
        self._consume(end)
        self._cand = None
        self._waiting = []
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
