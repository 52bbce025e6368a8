"""One logging set-up for ``gridedge`` and ``gridedge-agent``: human text on a terminal, JSON
lines otherwise (journald, a collector), the level and format from options or the environment.

A JSON line carries ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``, every ``extra=``
field of the call, and ``exc`` (the traceback text) when there is one.
"""
import datetime
import json
import logging
import os
import sys

FORMATS = ("auto", "json", "text")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ENV_FORMAT, ENV_LEVEL = "GRIDEDGE_LOG_FORMAT", "GRIDEDGE_LOG_LEVEL"
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
BOARD_LOGGERS = ("edge", "hostlink", "gridedge")      # held at WARNING in virtual-time runs
OURS = BOARD_LOGGERS + ("protocols", "hil", "meter_sim", "plc_channel")
THIRD_PARTY_LEVEL = logging.WARNING                   # matplotlib's INFO chatter and the like
_RECORD_KEYS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

_state = {"handler": None, "explicit_level": False}


class _Stderr(logging.StreamHandler):
    """A handler on whatever ``sys.stderr`` is when a record comes (a test's capture, a
    redirected stream), never on a stream closed since."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record):
        doc = {"ts": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
               .isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _RECORD_KEYS and key not in doc:
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def resolve(fmt=None, level=None, stream=None, environ=None):
    """(format, level): the options, else GRIDEDGE_LOG_FORMAT / GRIDEDGE_LOG_LEVEL, else auto
    and INFO; ``auto`` is text when ``stream`` is a terminal, JSON otherwise."""
    environ = os.environ if environ is None else environ
    fmt = (fmt or environ.get(ENV_FORMAT) or "auto").lower()
    level = (level or environ.get(ENV_LEVEL) or "INFO").upper()
    if fmt not in FORMATS:
        raise ValueError("log format %r: expected one of %s" % (fmt, ", ".join(FORMATS)))
    if level not in LEVELS:
        raise ValueError("log level %r: expected one of %s" % (level, ", ".join(LEVELS)))
    if fmt == "auto":
        stream = stream or sys.stderr
        isatty = getattr(stream, "isatty", None)
        fmt = "text" if isatty is not None and isatty() else "json"
    return fmt, level


def setup(fmt=None, level=None, stream=None, force=False):
    """Send the process's logs to ``stream`` (stderr) in the resolved format and level,
    replacing a handler set up here before; a program that set up logging itself (a handler on
    the root logger) keeps its own unless ``force``. Returns (format, level)."""
    fmt, lvl = resolve(fmt, level, stream or sys.stderr)
    _state["explicit_level"] = bool(level or os.environ.get(ENV_LEVEL))
    root = logging.getLogger()
    if not force and any(h is not _state["handler"] for h in root.handlers):
        return fmt, lvl
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT))
    if _state["handler"] is not None:
        root.removeHandler(_state["handler"])
    root.addHandler(handler)
    root.setLevel(max(getattr(logging, lvl), THIRD_PARTY_LEVEL))
    _state["handler"] = handler
    for name in OURS:
        logging.getLogger(name).setLevel(lvl)
    return fmt, lvl


def hold_for_virtual_time():
    """A simulated day runs in seconds: keep the board's loggers at WARNING (no per-event flood)
    unless a level was asked for."""
    if not _state["explicit_level"]:
        for name in BOARD_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
