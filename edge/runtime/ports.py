"""Blocking driver: runs an Exchange on a pyserial port (a device path or any pyserial URL).

``socket://host:port`` reaches a TCP meter server, ``/dev/pts/N`` a pty, ``spy://`` logs the wire.
"""
import termios
import time

import serial

from edge.exchange import Exchange


def open_port(url, baud=2400, parity="E", timeout=0.02):
    """Open ``url`` (path or pyserial URL) as 8-data-bit, 1-stop-bit with the given parity (8E1)."""
    parity = {"E": serial.PARITY_EVEN, "N": serial.PARITY_NONE, "O": serial.PARITY_ODD}[parity]
    port = serial.serial_for_url(url, do_not_open=True)
    port.baudrate = baud
    port.bytesize = serial.EIGHTBITS
    port.parity = parity
    port.stopbits = serial.STOPBITS_ONE
    port.timeout = timeout
    try:
        port.open()
    except termios.error:
        # Linux ptys refuse to re-enable PARENB after a close until opened once without it;
        # a pty carries no parity bit anyway, so fall back and re-apply where the device takes it.
        port.parity = serial.PARITY_NONE
        port.open()
        try:
            port.parity = parity
        except termios.error:
            pass
    return port


def run_exchange(port, exchange):
    """Drive ``exchange`` to its outcome on ``port`` (opened with a short read timeout)."""
    while not exchange.done:
        out = exchange.data_to_send(time.monotonic())
        if out is not None:
            port.reset_input_buffer()
            port.write(out)
            port.flush()
            if exchange.done:
                break
        data = port.read(port.in_waiting or 1)      # returns after at most the port's timeout
        now = time.monotonic()
        if data:
            exchange.receive_data(data, now)
        exchange.on_timer(now)
    return exchange.outcome


def transact(port, addr, request, timeout=1.0, retries=2, preamble=4):
    """One request/reply on an open port."""
    return run_exchange(port, Exchange(addr, request, time.monotonic(), timeout, retries, preamble))
