"""SimPy in wall time that also wakes on port bytes, and the carrier module served on a pty.

``simpy.rt.RealtimeEnvironment`` only sleeps between events. ``SelectRealtimeEnvironment``
waits with ``select`` on registered file descriptors instead: bytes that arrive are handed to
their callback at the simulation time matching their arrival, from the simulation's own thread,
so SimPy's scheduler is never touched from another thread (STYLE.md, the seam).
"""
import os
import select
import threading
import time
import tty

import simpy
import simpy.rt

from plc_channel.module_1376_2 import CarrierModule


class SelectRealtimeEnvironment(simpy.rt.RealtimeEnvironment):
    """A real-time environment whose idle waits are ``select`` calls over readers."""

    def __init__(self, initial_time=0.0, factor=1.0, strict=False, max_wait=0.05):
        simpy.rt.RealtimeEnvironment.__init__(self, initial_time, factor, strict)
        self.readers = {}
        self.max_wait = max_wait
        self.stop = threading.Event()
        # held while the simulation moves: another thread (a rig's ground-truth checks) takes
        # it to look at the simulated meters between two steps
        self.lock = threading.RLock()

    def add_reader(self, fd, callback, read=None):
        """``callback(bytes)`` runs (in the simulation thread) when ``fd`` has data;
        ``read()`` fetches them (default ``os.read(fd, 4096)``)."""
        self.readers[fd] = (callback, read or (lambda: os.read(fd, 4096)))

    def sim_time(self):
        """Simulation time of this wall instant (inverse of rt.py's own mapping)."""
        return self.env_start + (time.monotonic() - self.real_start) / self.factor

    def poll(self, timeout):
        """Wait up to ``timeout`` s for bytes; deliver them at their arrival time."""
        if not self.readers:
            time.sleep(max(0.0, timeout))
            return
        ready, _, _ = select.select(list(self.readers), [], [], max(0.0, timeout))
        for fd in ready:
            callback, read = self.readers[fd]
            try:
                data = read()
            except OSError:
                data = b""
            if data:
                with self.lock:
                    self._now = max(self.now, self.sim_time())
                    callback(data)

    def _real_time_of_next(self):
        evt_time = self.peek()
        if evt_time == simpy.core.Infinity:
            return float("inf")
        return self.real_start + (evt_time - self.env_start) * self.factor

    def step(self):
        """Wait (serving readers) until the next event is due, then process it."""
        while not self.stop.is_set():
            delta = self._real_time_of_next() - time.monotonic()
            if delta <= 0:
                with self.lock:
                    simpy.core.Environment.step(self)
                return
            self.poll(min(delta, self.max_wait))

    def run_until_stopped(self):
        """Run until ``stop`` (a ``threading.Event``) is set from any thread."""
        while not self.stop.is_set():
            self.step()


class ModulePortServer:
    """An emulated 1376.2 module on a new pty (``url`` None) or on a serial device/URL whose
    port has a file descriptor; the area's clock runs at wall speed times ``1 / factor``;
    ``module`` holds CarrierModule options (edition, boot_report ...)."""

    def __init__(self, make_area, comm, factor=1.0, url=None, baud=9600, module=None):
        self.port = None
        if url is None:
            self.master, self.slave = os.openpty()
            tty.setraw(self.slave)
            tty.setraw(self.master)
            self.path = os.ttyname(self.slave)
        else:
            from edge.runtime.ports import open_port
            self.port = open_port(url, baud, "E", timeout=0)
            self.master = self.slave = None
            self.path = url
        self._make_area = make_area
        self._comm = comm
        self._factor = factor
        self._options = dict(module or {})
        self._ready = threading.Event()
        self.module = None
        self.area = None
        self.thread = threading.Thread(target=self._run, name="module-pty", daemon=True)

    def _run(self):
        self.area = self._make_area(lambda t0: SelectRealtimeEnvironment(t0, self._factor))
        env = self.area.env
        env.real_start = time.monotonic()
        self.module = CarrierModule(env, self.area.network, self._write, comm=self._comm,
                                    **self._options)
        if self.port is None:
            env.add_reader(self.master, self.module.on_bytes)
        else:
            port = self.port
            env.add_reader(port.fileno(), self.module.on_bytes,
                           lambda: port.read(port.in_waiting or 1))
        self._env = env
        self._ready.set()
        env.run_until_stopped()

    def _write(self, data):
        if self.port is None:
            os.write(self.master, data)
        else:
            self.port.write(data)

    def start(self):
        self.thread.start()
        self._ready.wait(30.0)
        return self

    def sim_time(self):
        """The area's simulation time of this wall instant."""
        return self._env.sim_time()

    @property
    def lock(self):
        """Held while the area's simulation moves (see SelectRealtimeEnvironment.lock)."""
        return self._env.lock

    def close(self):
        if self._ready.is_set():
            self._env.stop.set()
        self.thread.join(5.0)
        if self.port is None:
            os.close(self.master)
            os.close(self.slave)
        else:
            self.port.close()
