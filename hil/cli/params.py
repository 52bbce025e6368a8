"""Click parameter types and ranges shared by the ``gridedge`` commands: every option typed and bounded."""
import math

import click

from protocols.civil import parse_local
from edge.archive import BAUDS


MAX_METERS = 100000                     # as hil.scenario's [area] meters


SEED = click.IntRange(min=0)


class Finite(click.FloatRange):
    """A float range that refuses NaN and the infinities."""

    def convert(self, value, param, ctx):
        rv = click.FloatRange.convert(self, value, param, ctx)
        if not math.isfinite(rv):
            self.fail("%r is not a finite number." % (value,), param, ctx)
        return rv


class HostPort(click.ParamType):
    """``HOST:PORT``; ``free`` allows port 0 (the system picks one)."""

    name = "host:port"

    def __init__(self, free=False):
        self.free = free

    def convert(self, value, param, ctx):
        host, _, port = str(value).rpartition(":")
        if not host or not port.isdigit() or not (0 if self.free else 1) <= int(port) <= 65535:
            self.fail("expected HOST:PORT with a port %d..65535, got %r."
                      % (0 if self.free else 1, value), param, ctx)
        return value


class LocalTime(click.ParamType):
    """A local time ``YYYY-MM-DD[ hh:mm[:ss]]``, as seconds."""

    name = "'yyyy-mm-dd hh:mm'"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return value
        try:
            return parse_local(value)
        except (ValueError, TypeError):
            self.fail("expected a local time 'YYYY-MM-DD hh:mm', got %r." % (value,), param, ctx)


class LineRate(click.ParamType):
    """A DL/T 645 line rate (bit/s)."""

    name = "baud"

    def convert(self, value, param, ctx):
        try:
            rate = int(value)
        except (TypeError, ValueError):
            rate = None
        if rate not in BAUDS:
            self.fail("%r is not one of %s." % (value, ", ".join(map(str, BAUDS))), param, ctx)
        return rate


class MinutesOfDay(click.IntRange):
    """Minutes 1..1440 that divide a day (a period aligned to midnight)."""

    def __init__(self):
        click.IntRange.__init__(self, 1, 1440)

    def convert(self, value, param, ctx):
        rv = click.IntRange.convert(self, value, param, ctx)
        if 1440 % rv:
            self.fail("%d minutes do not divide a day." % rv, param, ctx)
        return rv


class HexDigits(click.ParamType):
    """Text of exactly ``n`` hex digits."""

    name = "hex"

    def __init__(self, n):
        self.n = n

    def convert(self, value, param, ctx):
        text = str(value)
        try:
            bytes.fromhex(text)
        except ValueError:
            text = ""
        if len(text) != self.n:
            self.fail("expected %d hex digits, got %r." % (self.n, value), param, ctx)
        return text


SHARE = Finite(0.0, 1.0)


COUNT = click.IntRange(1, MAX_METERS)


SECONDS = Finite(min=0.0)


def hostport(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("expected HOST:PORT, got %r" % text)
    return host, int(port)


def tcp_url(text):
    return "socket://%s:%d" % hostport(text)
