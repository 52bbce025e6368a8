"""The narrow view of the agent a read job and its task get (``ReadContext``), instead of the
whole ``Agent``: the two clocks, the limits and health policy, a meter's health, whether the
meter is still archived, the store's few questions and writes, counters, cost control."""


class ReadContext:
    """What ``edge.jobs.read_job`` and a ``Task`` may use of ``agent``; nothing else."""

    __slots__ = ("_agent",)

    def __init__(self, agent):
        self._agent = agent

    @property
    def now(self):
        return self._agent.now

    @property
    def wall(self):
        return self._agent.wall

    @property
    def limits(self):
        return self._agent.limits

    @property
    def policy(self):
        return self._agent.policy

    @property
    def clock_correct(self):
        """Whether a drifted meter's clock may be set by a targeted write (``[tasks]``)."""
        return self._agent.settings.clock_correct

    @property
    def prepaid(self):
        return self._agent.prepaid

    def to_now(self, wall):
        return self._agent.to_now(wall)

    def health_of(self, addr):
        return self._agent.health_of(addr)

    def archived(self, meter):
        """Whether ``meter`` is still the archive's record (not removed or changed)."""
        return self._agent.archive.meters.get(meter.addr) is meter

    def has_good(self, addr, task, key, period):
        return self._agent.store.has_good(addr, task, key, period)

    def latest(self, addr, task, before=None):
        return self._agent.store.latest(addr, task, before=before)

    def previous_value(self, addr, task, period):
        return self._agent.previous_value(addr, task, period)

    def record(self, meter, task, result, readings, persist=True):
        self._agent.record(meter, task, result, readings, persist)

    def store_readings(self, readings):
        self._agent.store_readings(readings)

    def readings(self, addr, task):
        """Every stored reading of ``addr``'s ``task`` (edge.phase_events: alarms raised)."""
        return self._agent.store.readings(addr=addr, task=task)

    @property
    def realtime_s(self):
        return float(self._agent.settings.realtime_s or 0)

    def count(self, name, n=1):
        self._agent.count(name, n)

    def tried(self, addr, task, period):
        """Whether any attempt of ``task`` for ``addr`` and ``period`` is stored."""
        return self._agent.store.tried(addr, task, period)
