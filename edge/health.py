"""Per-meter health (online / suspect / offline) and the back-off of re-reads (补抄).

A success makes a meter online; failures make it suspect, then offline once it has failed
``offline_after`` times over at least ``offline_after_s`` - unless it answered within the last
``recent_s``: a meter that answers now and then is flaky, not gone, and keeps being re-read like
a suspect one. (Idle-bus re-reads pile failures up in seconds; a count alone would give up on a
meter that merely missed a few frames.) Retries of a failing
meter back off exponentially up to a cap, spread by a per-meter offset taken from its address
so that many failing meters do not retry in step. Offline meters are re-probed on a schedule.
Pure logic: times are arguments.
"""
import enum
import zlib


class Health(enum.Enum):
    ONLINE = "online"
    SUSPECT = "suspect"
    OFFLINE = "offline"


class MeterHealth:
    """Health and back-off state of one meter."""

    __slots__ = ("addr", "health", "failures", "last_success", "next_try", "depth", "next_idle",
                 "failing_since")

    def __init__(self, addr, health=Health.ONLINE, failures=0, last_success=None, next_try=0.0,
                 depth=0):
        self.addr = addr
        self.health = health
        self.failures = failures
        self.last_success = last_success
        self.next_try = next_try
        self.depth = depth
        self.next_idle = 0.0
        self.failing_since = None


class HealthPolicy:
    """Thresholds and back-off figures (seconds)."""

    def __init__(self, suspect_after=2, offline_after=5, base_s=60.0, cap_s=1800.0,
                 probe_s=3600.0, spread=0.25, idle_offline_s=30.0, recent_s=3600.0,
                 offline_after_s=600.0):
        self.suspect_after = suspect_after
        self.offline_after = offline_after
        self.base_s = base_s
        self.cap_s = cap_s
        self.probe_s = probe_s
        self.spread = spread
        self.idle_offline_s = idle_offline_s
        self.recent_s = recent_s
        self.offline_after_s = offline_after_s

    def idle_retry(self, state, now):
        """From when a re-read may use an otherwise idle bus: at once for an online meter; for
        a suspect one after a gap growing by 0.5 s per failure, up to ``idle_offline_s``;
        for an offline one ``idle_offline_s`` after its last such try (whichever of its jobs it
        was): a meter lost in the evening noise is not hammered for hours."""
        if state.health is Health.ONLINE:
            return now
        gap = self.idle_offline_s
        if state.health is Health.SUSPECT:
            gap = min(gap, 0.5 * max(state.failures - self.suspect_after + 1, 1))
        state.next_idle = max(now, state.next_idle) + gap
        return state.next_idle

    def _offset(self, addr):
        """A fixed fraction in [0, spread) of the delay, different per meter."""
        return (zlib.crc32(addr.encode()) % 1000) / 1000.0 * self.spread

    def backoff(self, addr, failures):
        delay = min(self.cap_s, self.base_s * 2.0 ** min(max(0, failures - 1), 40))
        return delay * (1.0 + self._offset(addr))

    def success(self, state, now):
        state.health = Health.ONLINE
        state.failures = 0
        state.last_success = now
        state.next_try = now
        state.failing_since = None

    def failure(self, state, now):
        state.failures += 1
        if state.failing_since is None:
            state.failing_since = now
        recent = state.last_success is not None and now - state.last_success < self.recent_s
        lasting = now - state.failing_since >= self.offline_after_s
        if state.failures >= self.offline_after and lasting and not recent:
            state.health = Health.OFFLINE
            state.next_try = now + self.probe_s * (1.0 + self._offset(state.addr))
        else:
            if state.failures >= self.suspect_after:
                state.health = Health.SUSPECT
            state.next_try = now + self.backoff(state.addr, state.failures)
