"""The real runtime: the agent core on asyncio, one reader thread per serial port (STYLE.md).

Each port is opened with pyserial (a device path or any URL: ``/dev/ttyS1``, ``socket://``,
``spy://``, a pty). Its thread does blocking reads and hands the bytes to the event loop with
``call_soon_threadsafe``; writes happen on the loop. The loop is the aioquic shell: after every
input, flush what the agent wants to send and sleep until its next deadline or the next bytes.
"""
import asyncio
import threading
import time

from edge.runtime.ports import open_port
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
    """Blocking reads on one port; every chunk goes to ``on_data(name, data, now)`` on the loop."""

    def __init__(self, name, port, loop, on_data):
        threading.Thread.__init__(self, name="port-%s" % name, daemon=True)
        self.port_name = name
        self.port = port
        self.loop = loop
        self.on_data = on_data
        self.running = True

    def run(self):
        while self.running:
            try:
                data = self.port.read(self.port.in_waiting or 1)
            except Exception as exc:            # a vanished device: tell the loop and stop
                self.loop.call_soon_threadsafe(self.on_data, self.port_name, None, exc)
                return
            if data:
                self.loop.call_soon_threadsafe(self.on_data, self.port_name, data,
                                               time.monotonic())


class AgentRunner:
    """Runs ``agent`` on real ports until ``stop()``; ``snapshot`` holds the latest metrics."""

    def __init__(self, agent, ports, wall):
        self.agent = agent
        self.ports = ports
        self.wall = wall
        self.client = None              # the 1376.1 uplink, when the agent has one
        self.snapshot = []
        self.errors = []
        self._wake = None
        self._stopping = False
        self._readers = []

    @classmethod
    def open(cls, agent, wall):
        ports = {name: open_port(p.url, p.baud, p.parity) for name, p in agent.archive.ports.items()}
        return cls(agent, ports, wall)

    def _flush(self):
        for name, port in self.ports.items():
            while True:
                out = self.agent.data_to_send(name, time.monotonic())
                if not out:
                    break
                baud = self.agent.line_baud(name)
                if baud and port.baudrate != baud:
                    port.baudrate = baud         # meters at several rates on one pair
                port.write(out)

    def _on_data(self, name, data, now):
        if data is None:
            self.errors.append((name, now))
            self.stop()
            return
        self.agent.receive_data(name, data, now, self.wall())
        self._flush()
        self._wake.set()

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
        return TerminalClient(uplink.session, host, int(port), ctx, before=clocks, after=self.kick)

    async def run(self, until=None):
        """Serve until ``stop()`` or the monotonic time ``until``."""
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._readers = [PortReader(n, p, loop, self._on_data) for n, p in self.ports.items()]
        for r in self._readers:
            r.start()
        self.client = self._uplink_client()
        uplink_task = None if self.client is None else asyncio.ensure_future(self.client.run())
        next_snapshot = 0.0
        try:
            while not self._stopping:
                now = time.monotonic()
                if until is not None and now >= until:
                    break
                self.agent.on_timer(now, self.wall())
                self._flush()
                if self.client is not None:
                    self.client.kick()           # new readings, deferred answers: upstream
                if now >= next_snapshot:
                    self.snapshot = self.agent.metrics()
                    next_snapshot = now + SNAPSHOT_EVERY_S
                t = self.agent.next_deadline()
                delay = min(SNAPSHOT_EVERY_S, max(0.0, t - time.monotonic()) if t is not None else 1.0)
                if until is not None:
                    delay = min(delay, max(0.0, until - time.monotonic()))
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()
        finally:
            if uplink_task is not None:
                self.client.stop()
                try:
                    await asyncio.wait_for(uplink_task, 5.0)
                except asyncio.TimeoutError:
                    uplink_task.cancel()
            for r in self._readers:
                r.running = False
            for r in self._readers:
                r.join(timeout=1.0)
            for p in self.ports.values():
                p.close()
