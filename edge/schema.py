"""Declared settings: every section of agent.toml (and of a scenario file) is declared once, as
fields with a type, range, unit, default and doc. Loading, the error messages with their place
and the reference tables (``gridedge schema``) are derived from the declaration, so every
problem of a file is reported at load, all at once, before anything runs.

    TASKS = Section("tasks", "When tasks run.", [
        Int("curve_every_min", INHERIT, 0, 1440, "min", "load-curve period (0: off)",
            divides=1440),
        Table("health", HEALTH)], target=Settings)
    settings = TASKS.build(doc.get("tasks", {}))   # Settings(**values), or SchemaError
    values = TASKS.load(raw, problems, "tasks")     # or just the values, problems appended

A section with a ``target`` (a settings class, or any callable taking the keys as keyword
arguments) builds it, and its INHERIT fields take their defaults from the target's signature,
so a default lives in one place. ``check_values`` validates what Python callers pass.

A place is the dotted path of a key (``tasks.curve_every_min``, ``meter[3].addr``); a problem
is ``(place, message)``. Light and stdlib only: it ships on the board. One module (a little
over 400 lines): the field types, the section that loads them and its reference rendering are
one mechanism, read together.
"""
import inspect
import math


class _Marker:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


REQUIRED = _Marker("REQUIRED")      # the key must be given
OPTIONAL = _Marker("OPTIONAL")      # absent stays absent (the consumer has its own default)
INHERIT = _Marker("INHERIT")        # the default of the section target's keyword argument


class SchemaError(ValueError):
    """Values that do not fit their declaration; ``problems`` lists every (place, message)."""

    def __init__(self, problems, title="invalid settings"):
        self.problems = list(problems)
        super().__init__(title + ":\n" + "\n".join("  %s: %s" % p for p in self.problems))


class Invalid(Exception):
    """Raised by a field's ``parse``: the message says what was wanted and what came."""


def _got(value):
    """``got <kind> <value>`` for a message about a value of the wrong type."""
    if isinstance(value, dict):
        return "got a table"
    return "got %s %r" % (_kind(value), value)


def _kind(value):
    return {bool: "boolean", int: "integer", float: "number", str: "text", list: "list"}.get(
        type(value), type(value).__name__)


def _a(text):
    return ("an " if text[:1] in "aeiou" else "a ") + text if text[:4] not in ("one ", "list") \
        else text


def place_of(prefix, key):
    return "%s.%s" % (prefix, key) if prefix else str(key)


class Field:
    """One key: ``name``, ``default`` (a value, REQUIRED, OPTIONAL or INHERIT), ``unit``,
    ``doc``; ``check(value) -> message or None`` adds a rule; ``nullable`` lets Python callers
    pass None (TOML has no null)."""

    kind = "value"

    def __init__(self, name, default=INHERIT, unit="", doc="", check=None, nullable=False):
        self.name = name
        self.default = default
        self.unit = unit
        self.doc = doc
        self.rule = check
        self.nullable = nullable

    def parse(self, value):
        """The value to keep; raises Invalid."""
        if value is None and self.nullable:
            return None
        value = self.convert(value)
        if self.rule is not None:
            err = self.rule(value)
            if err:
                raise Invalid(err)
        return value

    def convert(self, value):
        return value

    def describe(self, unit=False):
        return self.kind


def _num(x):
    return "%d" % x if float(x).is_integer() and abs(x) < 1e15 else "%g" % x


def _bounds(lo, hi, gt):
    if gt is not None and hi is not None:
        return "> %s and <= %s" % (_num(gt), _num(hi))
    if gt is not None:
        return "> %s" % _num(gt)
    if lo is not None and hi is not None:
        return "%s..%s" % (_num(lo), _num(hi))
    if lo is not None:
        return ">= %s" % _num(lo)
    if hi is not None:
        return "<= %s" % _num(hi)
    return ""


class _Number(Field):
    def __init__(self, name, default=INHERIT, lo=None, hi=None, unit="", doc="", gt=None,
                 divides=None, **kw):
        Field.__init__(self, name, default, unit, doc, **kw)
        self.lo, self.hi, self.gt, self.divides = lo, hi, gt, divides

    def _range(self, value):
        if ((self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi)
                or (self.gt is not None and value <= self.gt)):
            raise Invalid("need %s; got %r" % (_a(self.describe(True)), value))
        if self.divides and value and self.divides % value:
            raise Invalid("must divide %s (0: off), got %r" % (_num(self.divides), value))
        return value

    def describe(self, unit=False):
        text = " ".join(t for t in (self.kind, _bounds(self.lo, self.hi, self.gt),
                                    self.unit if unit else "") if t)
        return text + (", dividing %s" % _num(self.divides) if self.divides else "")


class Int(_Number):
    kind = "integer"

    def convert(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("need an integer, %s" % _got(value))
        return self._range(value)


class Float(_Number):
    """A finite number (an integer is taken as one); NaN and infinities are refused."""

    kind = "number"

    def convert(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid("need a number, %s" % _got(value))
        if not math.isfinite(value):
            raise Invalid("need a finite number, got %r" % (value,))
        return float(self._range(value))


class Bool(Field):
    kind = "boolean"

    def convert(self, value):
        if not isinstance(value, bool):
            raise Invalid("need true or false, %s" % _got(value))
        return value


class Text(Field):
    """Text; ``choices`` limits it to those, ``empty`` allows ''."""

    kind = "text"

    def __init__(self, name, default=INHERIT, doc="", choices=None, empty=False, **kw):
        Field.__init__(self, name, default, doc=doc, **kw)
        self.choices = tuple(choices) if choices else None
        self.empty = empty

    def convert(self, value):
        if not isinstance(value, str):
            raise Invalid("need text, %s" % _got(value))
        if self.choices and value not in self.choices:
            raise Invalid("%r is not one of %s" % (value, ", ".join(self.choices)))
        if not value and not self.empty:
            raise Invalid("must not be empty")
        return value

    def describe(self, unit=False):
        return "one of " + ", ".join(self.choices) if self.choices else "text"


class Choice(Field):
    """One of ``choices`` (any TOML values, e.g. line rates)."""

    kind = "choice"

    def __init__(self, name, choices, default=INHERIT, unit="", doc="", **kw):
        Field.__init__(self, name, default, unit, doc, **kw)
        self.choices = tuple(choices)

    def convert(self, value):
        if isinstance(value, bool) or value not in self.choices:
            raise Invalid("%r is not one of %s" % (value, ", ".join(map(str, self.choices))))
        return value

    def describe(self, unit=False):
        return "one of " + ", ".join(map(str, self.choices))


class List(Field):
    """A list of ``item`` values (a Field whose name is not used), ``size`` long or within
    ``(least, most)``."""

    kind = "list"

    def __init__(self, name, item, default=INHERIT, size=None, unit="", doc="", **kw):
        Field.__init__(self, name, default, unit, doc, **kw)
        self.item = item
        self.size = (size, size) if isinstance(size, int) else size

    def convert(self, value):
        if not isinstance(value, (list, tuple)):
            raise Invalid("need a list of %s, %s" % (self.item.describe(), _got(value)))
        if self.size and not self.size[0] <= len(value) <= self.size[1]:
            raise Invalid("need %s values, got %d" % (self._count(), len(value)))
        out = []
        for k, v in enumerate(value):
            try:
                out.append(self.item.parse(v))
            except Invalid as exc:
                raise Invalid("item %d: %s" % (k, exc)) from None
        return out

    def _count(self):
        least, most = self.size
        return "%d" % least if least == most else "%d..%d" % (least, most)

    def describe(self, unit=False):
        return "list of %s%s" % ("%s " % self._count() if self.size else "", self.item.describe())


class Table(Field):
    """A nested table (``[tasks.health]``) declared by ``section``; its values are a dict,
    or ``section.target(**values)`` when the section has a target."""

    kind = "table"

    def __init__(self, name, section, default=OPTIONAL, doc=""):
        Field.__init__(self, name, default, doc=doc or section.doc)
        self.section = section

    def describe(self, unit=False):
        return "table [%s]" % self.section.name


class Tables(Table):
    """An array of tables (``[[meter]]``), each declared by ``section``."""

    kind = "tables"

    def describe(self, unit=False):
        return "tables [[%s]]" % self.section.name


class Named(Table):
    """A table of tables keyed by a name of the user's (``[prepaid.tariff.ladder]``)."""

    kind = "named tables"

    def describe(self, unit=False):
        return "tables [%s.NAME]" % self.section.name


class Section:
    """A table's declared keys. ``checks`` are functions ``values -> [(key, message)]`` run
    when every field parsed (rules across fields); ``target`` is the settings class that
    ``build`` makes, whose keyword defaults fill the INHERIT fields."""

    def __init__(self, name, doc, fields, checks=(), target=None):
        self.name = name
        self.doc = doc
        self.fields = {f.name: f for f in fields}
        self.checks = list(checks)
        self.target = target
        if target is not None:
            params = inspect.signature(target).parameters
            for f in fields:
                if f.default is INHERIT and f.name in params:
                    f.default = params[f.name].default
        for f in fields:
            if f.default is INHERIT:
                f.default = OPTIONAL

    def load(self, raw, problems, prefix=None):
        """The section's values from ``raw`` (a dict) with defaults filled in; every problem
        is appended to ``problems`` as (place, message)."""
        prefix = self.name if prefix is None else prefix
        if not isinstance(raw, dict):
            problems.append((prefix or self.name, "need a table, %s" % _got(raw)))
            return {}
        for key in sorted(set(raw) - set(self.fields), key=str):
            problems.append((place_of(prefix, key), "unknown key (known: %s)"
                             % ", ".join(sorted(self.fields))))
        values = {}
        failed = False
        for name, f in self.fields.items():
            place = place_of(prefix, name)
            if name not in raw:
                if f.default is REQUIRED:
                    problems.append((place, "required (%s)" % f.describe()))
                elif type(f) is Table and f.default == {}:      # a table of defaults
                    values[name] = _nested(f, {}, place, problems)
                elif f.default is not OPTIONAL:
                    values[name] = f.default
                continue
            value = self._one(f, raw[name], place, problems)
            if value is _BAD:
                failed = True
            else:
                values[name] = value
        if not failed:                  # rules across fields see every value they may need
            problems.extend((place_of(prefix, k), m) for k, m in self._cross(values))
        return values

    def _cross(self, values):
        """The problems ``checks`` find; a check needing a value that failed is skipped."""
        out = []
        for check in self.checks:
            try:
                out.extend(check(values))
            except KeyError:
                pass
        return out

    def _one(self, f, value, place, problems):
        if isinstance(f, Table):
            return _nested(f, value, place, problems)
        try:
            return f.parse(value)
        except Invalid as exc:
            problems.append((place, str(exc)))
            return _BAD

    def build(self, raw, prefix=None, title=None):
        """``target(**values)`` (or the values) from ``raw``; SchemaError lists every problem."""
        problems = []
        values = self.load(raw, problems, prefix)
        if problems:
            raise SchemaError(problems, title or "invalid [%s]" % self.name)
        return self.make(values)

    def make(self, values):
        return self.target(**values) if self.target is not None else values

    def check_values(self, values, prefix=None):
        """Validate keyword values a Python caller passes (nothing filled, nothing unknown):
        raises SchemaError naming each bad one."""
        problems = []
        for name, value in values.items():
            f = self.fields[name]
            if not isinstance(f, Table):
                self._one(f, value, place_of(self.name if prefix is None else prefix, name),
                          problems)
        problems.extend((place_of(self.name, k), m) for k, m in self._cross(values))
        if problems:
            raise SchemaError(problems, "invalid [%s]" % self.name)

    def document(self, level=3, header=None):
        """Markdown: the section's doc and a table of its keys, then its nested sections."""
        lines = ["%s `%s`" % ("#" * level, header or "[%s]" % self.name), "", self.doc, "",
                 "| key | type | unit | default | meaning |", "|---|---|---|---|---|"]
        nested = []
        for f in self.fields.values():
            default = ("required" if f.default is REQUIRED else "" if f.default is OPTIONAL
                       else "`%s`" % _toml(f.default))
            lines.append("| `%s` | %s | %s | %s | %s |" % (f.name, f.describe(), f.unit, default,
                                                           f.doc))
            if isinstance(f, Table):
                nested.append(f)
        for f in nested:
            lines += [""] + f.section.document(level + 1, f.describe().split(" ")[-1])
        return lines


_BAD = _Marker("BAD")


def _nested(f, value, place, problems):
    s = f.section
    if isinstance(f, Tables):
        if not isinstance(value, list):
            problems.append((place, "need [[%s]] tables, %s" % (f.name, _got(value))))
            return _BAD
        return [s.make(s.load(item, problems, "%s[%d]" % (place, k)))
                for k, item in enumerate(value)]
    if isinstance(f, Named):
        if not isinstance(value, dict):
            problems.append((place, "need tables, %s" % _got(value)))
            return _BAD
        return {k: s.make(s.load(v, problems, place_of(place, k))) for k, v in value.items()}
    return s.make(s.load(value, problems, place))


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"%s"' % value
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(_toml(v) for v in value)
    if value is None:
        return "none"
    return "%g" % value if isinstance(value, float) else str(value)


def read_toml(path, error=ValueError):
    """The TOML document at ``path``; ``error`` (a ValueError class) names the file and why
    not (it cannot be read, it is not TOML)."""
    try:
        import tomllib
    except ImportError:                     # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise error("%s: %s" % (path, exc.strerror)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error("%s: not TOML: %s" % (path, exc)) from None


def host_port(text):
    """A check for ``HOST:PORT`` with a port 1..65535."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        return "need HOST:PORT with a port 1..65535, got %r" % (text,)
    return None


def hex_digits(n):
    """A check for text of exactly ``n`` hex digits."""
    def check(text):
        try:
            bytes.fromhex(text)
        except ValueError:
            return "need %d hex digits, got %r" % (n, text)
        return None if len(text) == n else "need %d hex digits, got %r" % (n, text)
    return check
