"""The heap-indexed scheduler hands out jobs exactly as the plain model of its rules does."""

from hypothesis import given, settings, strategies as st

from edge.scheduler import LANES, BusScheduler, Job


class Model:
    """The rules written plainly: scan every waiting job each time."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.running = []
        self.free_at = 0.0
        self.waiting = []
        self.order = 0

    def submit(self, job):
        self.waiting.append((job.not_before, job.tries, self.order, job))
        self.order += 1

    def ready(self, now):
        out = []
        while len(self.running) < self.capacity and now >= self.free_at:
            job = self._pop(now)
            if job is None:
                break
            job.tries += 1
            self.running.append(job)
            out.append(job)
        return out

    def _pop(self, now):
        def take(ok):
            best = min((e for e in self.waiting if ok(e)), default=None)
            if best is not None:
                self.waiting.remove(best)
            return best and best[3]
        for lane in range(len(LANES)):
            due = take(lambda e: e[3].lane == lane and e[0] <= now)
            due = due or take(lambda e: e[3].lane == lane and e[3].early is not None
                              and e[3].early <= now and not e[3].humble)
            if due:
                return due
        for lane in range(len(LANES)):
            job = take(lambda e: e[3].lane == lane and e[3].early is not None
                       and e[3].early <= now)
            if job:
                return job
        return None

    def done(self, job, now):
        self.running.remove(job)
        self.free_at = max(self.free_at, now + max(0.0, job.after_s))

    def wake_at(self, now):
        if not self.waiting or len(self.running) >= self.capacity:
            return None
        times = [e[0] for e in self.waiting] + [e[3].early for e in self.waiting
                                                   if e[3].early is not None]
        return max(min(times), self.free_at)


JOB = st.tuples(st.integers(0, 4), st.integers(0, 20), st.one_of(st.none(), st.integers(0, 20)),
                st.booleans())
STEP = st.one_of(st.tuples(st.just("submit"), JOB), st.tuples(st.just("tick"), st.integers(0, 3)),
                 st.tuples(st.just("done"), st.integers(0, 5)),
                 st.tuples(st.just("drop"), st.integers(0, 20)))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3), st.lists(STEP, max_size=60), st.sampled_from([0, 3, 1024]))
def test_scheduler_matches_the_plain_model(capacity, steps, compact_after):
    real, model = BusScheduler(capacity), Model(capacity)
    real.compact_after = compact_after           # 0: the heaps are rebuilt on most submissions
    now, n = 0.0, 0
    for kind, arg in steps:
        if kind == "submit":
            lane, nb, early, humble = arg
            pair = [Job("m%d" % n, lane, float(nb), early=None if early is None else float(early),
                        humble=humble) for _ in range(2)]
            n += 1
            real.submit(pair[0])
            model.submit(pair[1])
        elif kind == "tick":
            now += arg
            assert real.wake_at(now) == model.wake_at(now)
            got, want = real.ready(now), model.ready(now)
            assert [j.meter for j in got] == [j.meter for j in want]
        elif kind == "done" and real.running:
            k = arg % len(real.running)
            real.done(real.running[k], now)
            model.done(model.running[k], now)
        elif kind == "drop":
            gone = sorted(j.meter for j in real.drop(lambda j: j.not_before == arg))
            want = sorted(e[3].meter for e in model.waiting if e[3].not_before == arg)
            model.waiting = [e for e in model.waiting if e[3].not_before != arg]
            assert gone == want
        assert len(real) == len(model.waiting) + len(model.running)
