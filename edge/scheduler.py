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
    """Priority lanes, single flight (or ``capacity``), inter-frame gap, fair back-off."""

    def __init__(self, capacity=1, gap_s=0.0):
        self.capacity = capacity
        self.gap_s = gap_s
        self.running = []
        self.free_at = 0.0
        self._waiting = [[] for _ in LANES]     # heaps of (not_before, tries, order, job)
        self._order = itertools.count()

    def submit(self, job):
        heapq.heappush(self._waiting[job.lane], (job.not_before, job.tries, next(self._order), job))

    def __len__(self):
        return sum(len(h) for h in self._waiting) + len(self.running)

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

    def _pop_due(self, now):
        for heap in self._waiting:
            if heap and heap[0][0] <= now:
                return heapq.heappop(heap)[3]
            job = self._take_early(heap, now, False)
            if job is not None:
                return job
        for heap in self._waiting:
            job = self._take_early(heap, now, True)
            if job is not None:
                return job
        return None

    @staticmethod
    def _take_early(heap, now, humble):
        best = None
        for k, entry in enumerate(heap):
            job = entry[3]
            if (job.early is not None and job.early <= now and (humble or not job.humble)
                    and (best is None or entry < heap[best])):
                best = k
        if best is None:
            return None
        job = heap[best][3]
        heap[best] = heap[-1]
        heap.pop()
        heapq.heapify(heap)
        return job

    def drop(self, expired):
        """Take the waiting jobs for which ``expired(job)`` holds out of the queue; returns them."""
        out = []
        for k, heap in enumerate(self._waiting):
            keep = [e for e in heap if not expired(e[3])]
            if len(keep) < len(heap):
                out.extend(e[3] for e in heap if expired(e[3]))
                heapq.heapify(keep)
                self._waiting[k] = keep
        return out

    def done(self, job, now):
        """``job`` finished at ``now``; the bus stays silent for ``gap_s`` (or the job's own
        ``after_s``, a broadcast's settling time)."""
        self.running.remove(job)
        self.free_at = max(self.free_at, now + max(self.gap_s, job.after_s))

    def wake_at(self, now):
        """When ``ready`` may next return something (None: nothing waiting or no free slot)."""
        heads = [h[0][0] for h in self._waiting if h]
        if not heads or len(self.running) >= self.capacity:
            return None                 # nothing waiting, or a finishing job wakes us
        early = [e[3].early for h in self._waiting for e in h if e[3].early is not None]
        return max(min(heads + early), self.free_at)
