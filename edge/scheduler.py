"""Bus scheduler: one per RS-485 port or carrier module, pure logic over a heap.

Each bus runs at most ``capacity`` exchanges at once (1 for RS-485 and narrowband, a bound for
HPLC) and leaves ``gap_s`` of silence after each one. Work waits in priority lanes (prepaid
commands > on-demand > freezes > curves > events); within a lane the job whose meter may be tried
earliest goes first, and among those the meter tried least often, so a dead meter backing off
never holds up live ones. The scheduler is work-conserving: when nothing is due and a slot is
free and nothing of its lane or a higher one is due, a job may start before its back-off ends
once its ``early`` time has come (a re-read of a flaky meter fills a gap rather than leave the
bus to lower lanes or idle); a ``humble`` job (an offline meter) only takes a bus nobody else
wants. ``ready(now)`` hands out what may start;
``wake_at(now)`` says when to ask again.
"""
import heapq
import itertools

PREPAID, ON_DEMAND, FREEZE, CURVE, EVENT = range(5)
LANES = ("prepaid", "on_demand", "freeze", "curve", "event")


class Job:
    """A unit of bus work for one meter; ``payload`` is whatever the agent needs to run it."""

    __slots__ = ("meter", "lane", "not_before", "payload", "tries", "early", "humble", "after_s")

    def __init__(self, meter, lane, not_before=0.0, payload=None, early=None, humble=False,
                 after_s=0.0):
        if lane not in range(len(LANES)):
            raise ValueError("lane must be 0..%d" % (len(LANES) - 1))
        self.meter = meter
        self.lane = lane
        self.not_before = not_before
        self.payload = payload
        self.tries = 0
        self.early = early          # may start from then if its lane has nothing due ...
        self.humble = humble        # ... or, if humble, only when no lane has anything due
        self.after_s = after_s      # silence this job needs after it, if longer than the gap

    def __repr__(self):
        return "Job(%s, %s, not_before=%s)" % (self.meter, LANES[self.lane], self.not_before)


class BusScheduler:
    """Priority lanes, single flight (or ``capacity``), inter-frame gap, fair back-off.

    Per lane, waiting entries ``(not_before, tries, order, job)`` sit in a heap by back-off;
    those with an ``early`` time also wait in a heap by it until it comes, then in a heap of
    the ones that may start early (two: plain and humble). An entry taken from one heap stays
    in the others until it reaches their top (``_live`` says which entries still wait), or
    until ``compact_after`` more submissions than twice the waiting entries rebuild the heaps."""

    compact_after = 1024

    def __init__(self, capacity=1, gap_s=0.0):
        self.capacity = capacity
        self.gap_s = gap_s
        self.running = []
        self.free_at = 0.0
        self._waiting = [[] for _ in LANES]     # heaps of (not_before, tries, order, job)
        self._pending = [[] for _ in LANES]     # heaps of (early, order, entry): not yet early
        self._eligible = [([], []) for _ in LANES]  # heaps of entries early now: (plain, humble)
        self._early_at = [[] for _ in LANES]    # heaps of (early, order) of the eligible ones
        self._live = {}                         # order -> entry, for every waiting entry
        self._held = 0                          # submissions since the heaps were compacted
        self._order = itertools.count()

    def submit(self, job):
        order = next(self._order)
        entry = (job.not_before, job.tries, order, job)
        self._live[order] = entry
        heapq.heappush(self._waiting[job.lane], entry)
        if job.early is not None:
            heapq.heappush(self._pending[job.lane], (job.early, order, entry))
        self._held += 1
        if self._held > 2 * len(self._live) + self.compact_after:
            self._compact()

    def _compact(self):
        """Drop the entries taken from one heap but still held by others (and their jobs)."""
        live = self._live
        for heaps in (self._waiting, self._pending, self._early_at):
            for k, heap in enumerate(heaps):
                pos = 1 if heaps is not self._waiting else 2
                keep = [e for e in heap if e[pos] in live]
                heapq.heapify(keep)
                heaps[k] = keep
        for k, pair in enumerate(self._eligible):
            self._eligible[k] = tuple(_alive(h, live) for h in pair)
        self._held = len(live)

    def __len__(self):
        return len(self._live) + len(self.running)

    def ready(self, now):
        """Jobs that may start now, highest lane first; they count as running until ``done``."""
        out = []
        while len(self.running) < self.capacity and now >= self.free_at:
            job = self._pop_due(now)
            if job is None:
                break
            job.tries += 1
            self.running.append(job)
            out.append(job)
        return out

    def _head(self, lane):
        heap, live = self._waiting[lane], self._live
        while heap and heap[0][2] not in live:
            heapq.heappop(heap)
        return heap[0] if heap else None

    def _pop_due(self, now):
        for lane in range(len(LANES)):
            head = self._head(lane)
            if head is not None and head[0] <= now:
                heapq.heappop(self._waiting[lane])
                del self._live[head[2]]
                return head[3]
            job = self._take_early(lane, now, False)
            if job is not None:
                return job
        for lane in range(len(LANES)):
            job = self._take_early(lane, now, True)
            if job is not None:
                return job
        return None

    def _top(self, heap):
        live = self._live
        while heap and heap[0][2] not in live:
            heapq.heappop(heap)
        return heap[0] if heap else None

    def _take_early(self, lane, now, humble):
        pending, live = self._pending[lane], self._live
        plain, humbles = self._eligible[lane]
        while pending and pending[0][0] <= now:
            early, order, entry = heapq.heappop(pending)
            if order in live:
                heapq.heappush(humbles if entry[3].humble else plain, entry)
                heapq.heappush(self._early_at[lane], (early, order))
        best, heap = self._top(plain), plain
        if humble:
            other = self._top(humbles)
            if other is not None and (best is None or other < best):
                best, heap = other, humbles
        if best is None:
            return None
        heapq.heappop(heap)
        del live[best[2]]
        return best[3]

    def drop(self, expired):
        """Take the waiting jobs for which ``expired(job)`` holds out of the queue; returns them
        (in the order they were submitted)."""
        out = []
        for order in [o for o, e in self._live.items() if expired(e[3])]:
            out.append(self._live.pop(order)[3])
        return out

    def done(self, job, now):
        """``job`` finished at ``now``; the bus stays silent for ``gap_s`` (or the job's own
        ``after_s``, a broadcast's settling time)."""
        self.running.remove(job)
        self.free_at = max(self.free_at, now + max(self.gap_s, job.after_s))

    def wake_at(self, now):
        """When ``ready`` may next return something (None: nothing waiting or no free slot)."""
        if not self._live or len(self.running) >= self.capacity:
            return None                 # nothing waiting, or a finishing job wakes us
        live = self._live
        times = []
        for lane in range(len(LANES)):
            head = self._head(lane)
            if head is not None:
                times.append(head[0])
            pending = self._pending[lane]
            while pending and pending[0][1] not in live:
                heapq.heappop(pending)
            if pending:
                times.append(pending[0][0])
            early_at = self._early_at[lane]
            while early_at and early_at[0][1] not in live:
                heapq.heappop(early_at)
            if early_at:
                times.append(early_at[0][0])
        return max(min(times), self.free_at)


def _alive(heap, live):
    keep = [e for e in heap if e[2] in live]
    heapq.heapify(keep)
    return keep
