"""The real runtime: the agent core on asyncio, one reader thread per serial port (STYLE.md).

Each port is opened with pyserial (a device path or any URL: ``/dev/ttyS1``, ``socket://``,
``spy://``, a pty). Its thread does blocking reads and hands the bytes to the event loop with
``call_soon_threadsafe``; writes happen on the loop. The loop is the aioquic shell: after every
input, flush what the agent wants to send and sleep until its next deadline or the next bytes.
A port that fails is closed and reopened with back-off (``edge.runtime.lines``) while the other
buses read on; the agent's jobs on it wait.
"""
import asyncio
import termios
import threading
import time

from edge.runtime.lines import OPEN, Line, line_samples
from edge.runtime.store_files import store_file_samples
from hostlink.aio import TerminalClient, client_context, local_wall

SNAPSHOT_EVERY_S = 5.0


def local_clock(epoch=None):
    """``wall()`` in local civil seconds: the system clock, or counting from ``epoch`` (a rig
    that plays a simulated calendar)."""
    if epoch is None:
        return local_wall
    start = time.monotonic()
    return lambda: epoch + (time.monotonic() - start)


class PortReader(threading.Thread):
    """Blocking reads on one open port; every chunk goes to ``on_data(name, data, now)`` on the
    loop, a failure to ``on_lost(name, port, exc)`` (and the thread ends)."""

    def __init__(self, name, port, loop, on_data, on_lost):
        threading.Thread.__init__(self, name="port-%s" % name, daemon=True)
        self.port_name = name
        self.port = port
        self.loop = loop
        self.on_data = on_data
        self.on_lost = on_lost
        self.running = True

    def run(self):
        while self.running:
            try:
                data = self.port.read(self.port.in_waiting or 1)
            except Exception as exc:            # a vanished device, EIO, a closed port
                if self.running:
                    self.loop.call_soon_threadsafe(self.on_lost, self.port_name, self.port, exc)
                return
            if data:
                self.loop.call_soon_threadsafe(self.on_data, self.port_name, data,
                                               time.monotonic())


class AgentRunner:
    """Runs ``agent`` on real ports until ``stop()``; ``snapshot`` holds the latest metrics."""

    def __init__(self, agent, lines, wall):
        self.agent = agent
        self.lines = lines
        self.wall = wall
        self.client = None              # the 1376.1 uplink, when the agent has one
        self.snapshot = []
        self._wake = None
        self._loop = None
        self._stopping = False
        self._readers = {}
        self._next_snapshot = 0.0

    @classmethod
    def open(cls, agent, wall):
        """A runner over the archive's ports; each is opened now, or marked lost and retried."""
        now = time.monotonic()
        lines = {name: Line(name, spec) for name, spec in agent.archive.ports.items()}
        for name, line in lines.items():
            if not line.try_open(now):
                agent.port_lost(name)
        return cls(agent, lines, wall)

    @property
    def ports(self):
        """The open pyserial ports by name."""
        return {n: line.port for n, line in self.lines.items() if line.state == OPEN}

    def _flush(self):
        self.agent.store.flush()            # the step's readings are durable before bytes go out
        now = time.monotonic()
        for name, line in self.lines.items():
            while True:
                out = self.agent.data_to_send(name, now)
                if not out:
                    break
                if line.state != OPEN:
                    continue                     # lost on the wire: the exchange times out
                try:
                    baud = self.agent.line_baud(name)
                    if baud and line.port.baudrate != baud:
                        line.port.baudrate = baud     # meters at several rates on one pair
                    line.port.write(out)
                except (OSError, termios.error) as exc:
                    self._lose(name, exc)
                    continue
                line.bytes_out += len(out)

    def _on_data(self, name, data, now):
        line = self.lines[name]
        if line.state != OPEN:
            return                              # bytes read just before the port was closed
        line.bytes_in += len(data)
        self.agent.receive_data(name, data, now, self.wall())
        self._flush()
        self._wake.set()

    def _on_lost(self, name, port, exc):
        if self.lines[name].port is port:        # not a report from a port closed already
            self._lose(name, exc)
            self._wake.set()

    def _lose(self, name, exc):
        reader = self._readers.pop(name, None)
        if reader is not None:
            reader.running = False
        self.lines[name].lose(time.monotonic(), exc)
        self.agent.port_lost(name)
        self._next_snapshot = 0.0

    def _reopen_due(self, now):
        """Try the lost ports whose back-off is over; returns the next retry time or None."""
        retry = []
        for name, line in self.lines.items():
            if line.state == OPEN:
                continue
            if line.retry_at <= now and line.try_open(now):
                self._start_reader(name)
                self.agent.port_back(name)
                self._next_snapshot = 0.0
            else:
                retry.append(line.retry_at)
        return min(retry) if retry else None

    def _start_reader(self, name):
        reader = PortReader(name, self.lines[name].port, self._loop, self._on_data, self._on_lost)
        self._readers[name] = reader
        reader.start()

    def kick(self):
        """Let the loop run now (after changing the agent from outside the loop's callbacks)."""
        if self._wake is not None:
            self._wake.set()

    def stop(self):
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    def _uplink_client(self):
        uplink = getattr(self.agent, "uplink", None)
        if uplink is None:
            return None
        s = uplink.settings
        host, _, port = s.master.rpartition(":")
        ctx = client_context(s.cafile, s.certfile, s.keyfile) if s.tls else None

        def clocks():
            self.agent.set_clock(time.monotonic(), self.wall())
        return TerminalClient(uplink.session, host, int(port), ctx, before=clocks, after=self.kick,
                              addresses=uplink.master_addresses)

    def metrics(self):
        """The agent's samples, the ports' own and the store's files."""
        return (self.agent.metrics() + line_samples(self.lines)
                + store_file_samples(self.agent.store.path))

    async def run(self, until=None):
        """Serve until ``stop()`` or the monotonic time ``until``."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        for name, line in self.lines.items():
            if line.state == OPEN:
                self._start_reader(name)
        self.client = self._uplink_client()
        uplink_task = None if self.client is None else asyncio.ensure_future(self.client.run())
        try:
            while not self._stopping:
                now = time.monotonic()
                if until is not None and now >= until:
                    break
                retry = self._reopen_due(now)
                self.agent.on_timer(now, self.wall())
                params = getattr(self.agent, "terminal_params", None)
                if params is not None:
                    params.alive(self.agent.wall)      # an outage is told by the gap (ERC14)
                self._flush()
                if self.client is not None:
                    self.client.kick()           # new readings, deferred answers: upstream
                if now >= self._next_snapshot:
                    self.snapshot = self.metrics()
                    self._next_snapshot = now + SNAPSHOT_EVERY_S
                await self._sleep(retry, until)
        finally:
            if uplink_task is not None:
                self.client.stop()
                try:
                    await asyncio.wait_for(uplink_task, 5.0)
                except asyncio.TimeoutError:
                    uplink_task.cancel()
            self._close()

    async def _sleep(self, retry, until):
        """Until the agent's next deadline, a port's retry, new bytes or ``kick()``."""
        now = time.monotonic()
        times = [now + SNAPSHOT_EVERY_S, self.agent.next_deadline(), retry, until]
        delay = max(0.0, min(t for t in times if t is not None) - now)
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=delay)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()

    def _close(self):
        readers = list(self._readers.values())
        for r in readers:
            r.running = False
        for r in readers:
            r.join(timeout=1.0)
        self._readers = {}
        for line in self.lines.values():
            line.close()
