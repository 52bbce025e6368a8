"""Exit-2 helpers of the ``gridedge`` commands: unusable input ends with one line naming it, never a traceback."""
import json
import os
import re
import sqlite3
import sys
import tempfile
import time

import click

from edge.runtime.config import ConfigError, load_config
from edge.runtime.ports import open_port
from edge.store import Store


class InputError(click.ClickException):
    """Input that cannot be used: one line naming the thing, exit 2 (as click's usage errors)."""

    exit_code = 2


def open_serial(url, baud, parity="E"):
    """A serial port by device path or pyserial URL; InputError naming it when it cannot be."""
    try:
        return open_port(url, baud, parity)
    except (OSError, ValueError) as exc:        # serial.SerialException is an OSError
        raise InputError("cannot open port %s: %s" % (url, reason(exc)))


def open_store(path, **kw):
    """The agent's SQLite store; InputError naming the file when it cannot be opened."""
    try:
        return Store(path, **kw)
    except (sqlite3.Error, OSError) as exc:
        raise InputError("cannot open the store %s: %s" % (path, exc))


def writable(path, folder=False):
    """Fail now, not after the run, when the report ``path`` (a file, or a ``folder``, made
    here) cannot be written."""
    try:
        if folder:
            os.makedirs(path, exist_ok=True)
        where = path if folder else os.path.dirname(os.path.abspath(path))
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as exc:
        raise InputError("cannot write the report to %s: %s" % (path, exc.strerror or exc))


def reason(exc):
    """Why an open failed, without the repeats pyserial adds ("[Errno 2] could not open port
    X: [Errno 2] No such file or directory: 'X'" says "No such file or directory")."""
    found = re.findall(r"\[Errno \d+\] ([^:\]]+)", str(exc))
    return found[-1].strip() if found else (str(exc) or type(exc).__name__)


def serve_until(server, end):
    """Keep ``server`` running until monotonic time ``end`` (None: until Ctrl-C), then close it."""
    try:
        while end is None or time.monotonic() < end:
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def json_line(doc):
    """One JSON line on stdout, flushed (a lab's script reads them as they come)."""
    click.echo(json.dumps(doc, ensure_ascii=False))
    sys.stdout.flush()


def agent_config(path):
    """agent.toml loaded and validated; InputError listing every problem, one per line."""
    try:
        return load_config(path)
    except ConfigError as exc:
        raise InputError(str(exc))
