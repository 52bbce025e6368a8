"""Serve a MeterBus on byte streams: a pty, a serial device (pyserial URL/path) or TCP.

The meters' time is ``epoch + (monotonic - start) * speed``; with ``timing`` the reply waits the
meter's reply delay (20..500 ms, §5.3.3) and leaves at the line rate (11 bits a byte, 8E1).
"""
import os
import socket
import socketserver
import threading
import time
import tty

import serial

from meter_sim.serve.line import Garbage, LineDeframer

BITS_PER_BYTE = 11


class BusClock:
    """Maps wall time to the meters' local time."""

    def __init__(self, epoch, speed=1.0):
        self.epoch = epoch
        self.speed = speed
        self._start = time.monotonic()

    def now(self):
        return self.epoch + (time.monotonic() - self._start) * self.speed


class Session:
    """One byte stream: deframes requests and returns reply bytes for the bus."""

    def __init__(self, bus, clock, lock, timing=False, baud=2400, log=None):
        self.bus = bus
        self.clock = clock
        self.lock = lock
        self.timing = timing
        self.baud = baud
        self.log = log
        self.deframer = LineDeframer()          # 645 and 698 frames on one line
        self.stats = {"frames": 0, "replies": 0, "garbage_bytes": 0}

    def on_bytes(self, data, write):
        """Feed received bytes; ``write(bytes)`` sends each reply."""
        self.deframer.feed(data, time.monotonic())
        for item in self.deframer:
            if isinstance(item, Garbage):
                self.stats["garbage_bytes"] += len(item.raw)
                continue
            self.stats["frames"] += 1
            with self.lock:
                reply, delay = self.bus.handle_frame(item, self.clock.now())
            if self.log:
                self.log(item, reply)
            if reply is None:
                continue
            self.stats["replies"] += 1
            if self.timing:
                time.sleep(delay)
                write_paced(write, reply, self.baud)
            else:
                write(reply)


def write_paced(write, data, baud):
    """Write at the line rate of ``baud`` with 11-bit characters."""
    per_byte = BITS_PER_BYTE / float(baud)
    for i in range(0, len(data), 8):
        chunk = data[i:i + 8]
        write(chunk)
        time.sleep(per_byte * len(chunk))


class _PortThread:
    """A reader thread that feeds one Session until closed."""

    def __init__(self, session, name):
        self.session = session
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def close(self):
        self._stop.set()
        self.thread.join(1.0)
        self._release()


class PtyServer(_PortThread):
    """Meters behind a new pseudo-terminal; clients open ``path`` with pyserial."""

    def __init__(self, session):
        _PortThread.__init__(self, session, "pty-meters")
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def _run(self):
        import select
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.session.on_bytes(data, lambda b: os.write(self.master, b))

    def _release(self):
        os.close(self.master)
        os.close(self.slave)


class SerialServer(_PortThread):
    """Meters behind an existing serial device or pyserial URL (e.g. one end of a pty pair)."""

    def __init__(self, session, url, baud=2400, parity="E"):
        from edge.runtime.ports import open_port
        _PortThread.__init__(self, session, "serial-meters")
        self.port = open_port(url, baud, parity, timeout=0.05)

    def _run(self):
        while not self._stop.is_set():
            data = self.port.read(self.port.in_waiting or 1)
            if data:
                self.session.on_bytes(data, self.port.write)

    def _release(self):
        self.port.close()


class TcpServer(socketserver.ThreadingTCPServer):
    """Meters behind TCP: every connection is its own RS-485 line onto the same meters."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, make_session):
        self.make_session = make_session
        socketserver.ThreadingTCPServer.__init__(self, address, _TcpHandler)

    @property
    def port(self):
        return self.server_address[1]

    def start(self):
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                         name="tcp-meters", daemon=True).start()
        return self

    def close(self):
        self.shutdown()
        self.server_close()


class _TcpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        session = self.server.make_session()
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                data = sock.recv(4096)
            except OSError:
                return
            if not data:
                return
            session.on_bytes(data, sock.sendall)
