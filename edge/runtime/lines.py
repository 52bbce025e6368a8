"""The runtime's view of each archived port: open, or lost and due to be reopened with back-off.

An unplugged USB adapter, a carrier module's reset or an EIO on a pty is routine on a board:
the port is closed, marked lost, and tried again (0.5 s, doubling to 10 s) while the other
buses read on. A port missing at start is simply lost from the start.
"""
import logging
import termios

from edge.metrics import Sample
from edge.runtime.ports import open_port

OPEN = "open"
LOST = "lost"
STATES = (OPEN, LOST)
REOPEN_FIRST_S = 0.5
REOPEN_MAX_S = 10.0            # an unplugged adapter costs one failed open() every 10 s

log = logging.getLogger(__name__)


class Line:
    """One archived port (its ``spec``: url, baud, parity) and the pyserial object when open."""

    def __init__(self, name, spec, opener=open_port):
        self.name = name
        self.spec = spec
        self.opener = opener
        self.port = None
        self.state = LOST
        self.retry_at = 0.0
        self.wait_s = REOPEN_FIRST_S
        self.lost_at = None
        self.last_error = None
        self.opens = 0
        self.losses = 0
        self.bytes_in = 0
        self.bytes_out = 0

    def try_open(self, now):
        """Open the port; True when it is open. A failure arms the next try (doubling back-off)."""
        try:
            self.port = self.opener(self.spec.url, self.spec.baud, self.spec.parity)
        except (OSError, termios.error) as exc:          # SerialException is an OSError
            self._failed(now, exc)
            return False
        self.state = OPEN
        self.wait_s = REOPEN_FIRST_S
        self.opens += 1
        if self.opens == 1 and self.lost_at is None:
            log.info("port %s opened: %s at %d baud", self.name, self.spec.url, self.spec.baud,
                     extra=self._extra("port_opened", baud=self.spec.baud))
        else:
            log.info("port %s reopened after %.1f s: %s", self.name, now - self.lost_at,
                     self.spec.url, extra=self._extra("port_reopened",
                                                      lost_s=round(now - self.lost_at, 3)))
        self.lost_at = None
        return True

    def _extra(self, event, **fields):
        return dict(event=event, port=self.name, url=self.spec.url, **fields)

    def _failed(self, now, exc):
        if self.lost_at is None:                          # missing at start
            self.lost_at = now
            log.warning("port %s cannot be opened (%s): %s; retrying", self.name,
                        self.spec.url, exc, extra=self._extra("port_missing", reason=str(exc)))
        elif str(exc) != self.last_error:
            log.info("port %s still lost: %s", self.name, exc,
                     extra=self._extra("port_still_lost", reason=str(exc)))
        self.last_error = str(exc)
        self.retry_at = now + self.wait_s
        self.wait_s = min(self.wait_s * 2.0, REOPEN_MAX_S)

    def lose(self, now, exc):
        """The port failed (read or write): close it and try again after the back-off."""
        port, self.port = self.port, None
        self.state = LOST
        self.losses += 1
        self.lost_at = now
        self.last_error = str(exc)
        self.retry_at = now + self.wait_s
        log.warning("port %s lost: %s; reopening", self.name, exc,
                    extra=self._extra("port_lost", reason=str(exc)))
        if port is not None:
            try:
                port.close()
            except (OSError, termios.error):
                pass                                      # the device is gone already

    def close(self):
        self.state = LOST
        if self.port is not None:
            try:
                self.port.close()
            except (OSError, termios.error):
                pass
            self.port = None


def line_samples(lines):
    """Per-port metric samples: state (one gauge per state, 1 for the current one), bytes in
    and out, losses."""
    out = []
    for name, line in sorted(lines.items()):
        for state in STATES:
            out.append(Sample("gridedge_port_state", "gauge",
                              "Port state: 1 for the state the port is in (open or lost).",
                              {"port": name, "state": state}, 1 if line.state == state else 0))
        for direction, n in (("in", line.bytes_in), ("out", line.bytes_out)):
            out.append(Sample("gridedge_port_bytes_total", "counter", "Bytes through the port.",
                              {"port": name, "direction": direction}, n))
        out.append(Sample("gridedge_port_losses_total", "counter",
                          "Times the port failed and was closed.", {"port": name}, line.losses))
    return out
