"""The meter archive (档案): which meters the concentrator reads, on which port, how.

Loaded from TOML (or a dict the master station sends later) and validated as a whole against
the declared ``[defaults]``, ``[[port]]`` and ``[[meter]]`` sections (``edge.schema``): every
problem is reported with its place (``meter[3].addr: ...``) in one ``ArchiveError``, and nothing
is half-applied. Addresses are the printed 12 BCD digits of one meter: the broadcast address
(99..99) and wildcards (AA) name no meter and are refused wherever an entry comes from.
"""
from dataclasses import dataclass, field
from functools import cached_property

from edge.schema import (OPTIONAL, REQUIRED, Bool, Choice, Int, SchemaError, Section, Table, Tables,
                         Text, hex_digits)

PROTOCOLS = ("645-2007", "645-1997", "698.45")   # DL/T 645 editions, DL/T 698.45
MEDIA = ("rs485", "nbplc", "hplc")           # a port: RS-485, or a carrier module (窄带/宽带)
BAUDS = (600, 1200, 2400, 4800, 9600, 19200)
PORT_BAUDS = BAUDS + (38400, 57600, 115200)     # a carrier module's UART also runs at these
PARITIES = ("N", "E", "O")
TARIFFS = ("flat", "tou", "ladder")
PREPAID = ("none", "remote", "local")        # 费控: none, remote (远程), local (本地)
ROLES = ("customer", "area")                 # a customer's meter or the area meter (台区总表)
METER_DEFAULTS = {"protocol": "645-2007", "baud": 2400, "preamble": 4, "tariff": "tou",
                  "prepaid": "none", "customer": ""}
BROADCAST = "999999999999"                   # DL/T 645 broadcast address (广播地址)
MAX_POINT = 2040                             # Q/GDW 1376.1 DA: points 1..2040


class ArchiveError(SchemaError):
    """The archive is invalid; ``problems`` lists every (place, message)."""

    def __init__(self, problems):
        SchemaError.__init__(self, problems, "invalid archive")


def check_addr(text):
    """Why ``text`` is not the address of one meter (None when it is)."""
    if text == BROADCAST:
        return "%s is the broadcast address, not a meter" % text
    if "A" in text.upper():
        return "%r holds a wildcard (AA), not one meter's address" % (text,)
    if len(text) != 12 or not text.isdigit():
        return "need 12 decimal digits, got %r" % (text,)
    return None


def _meter_fields(given):
    """The fields a meter takes from [defaults] or its own entry; ``given`` False: every one
    optional (what [defaults] leaves out, the meter's entry or the field's default gives)."""
    def default(value):
        return value if given else OPTIONAL
    return [
        Text("port", default(REQUIRED), "the [[port]] the meter is on"),
        Text("protocol", default(METER_DEFAULTS["protocol"]), "DL/T 645 edition or DL/T 698.45", PROTOCOLS),
        Choice("baud", BAUDS, default(METER_DEFAULTS["baud"]), "bit/s",
               "the meter's line rate (RS-485)"),
        Int("preamble", default(METER_DEFAULTS["preamble"]), 0, 4, "bytes",
            "FE wake-up bytes before a frame"),
        Text("tariff", default(METER_DEFAULTS["tariff"]), "tariff kind (prepaid)", TARIFFS),
        Text("prepaid", default(METER_DEFAULTS["prepaid"]),
             "cost control: none, remote (远程), local (本地)", PREPAID),
        Text("customer", default(METER_DEFAULTS["customer"]), "customer id (prepaid)",
             empty=True),
        Text("password", OPTIONAL, "the meter's control password, 6 hex digits as printed "
             "(default: [prepaid] password)", check=hex_digits(6)),
        Int("control_level", OPTIONAL, 0, 255, "", "password level of its controls"),
    ]


DEFAULTS = Section("defaults", "Values every [[meter]] takes unless it gives its own.",
                   _meter_fields(False))
METER = Section("meter", "One archived meter.", [
    Text("addr", REQUIRED, "12 decimal digits as printed on the meter; not 99..99 (broadcast) "
         "or AA (wildcard)", check=check_addr),
    Int("point", OPTIONAL, 1, MAX_POINT, "", "measuring point (测量点号) at the master station; "
        "default: numbered in archive order"),
    Text("role", OPTIONAL, "customer (default) or area: the area meter (台区总表) the line loss "
         "is measured against", ROLES),
    Int("ct_ratio", OPTIONAL, 1, 100000, "", "current-transformer ratio (CT 倍率): primary kWh "
        "= register x ratio (default 1)"),
    Choice("phases", (1, 3), OPTIONAL, "", "3: a three-phase meter (per-phase voltage, current, "
           "power and factor read in real time, PQ alarms ERC9/10/11/17); default 1"),
    Bool("secured", OPTIONAL, "", "a DL/T 698.45 meter in security mode (安全模式): its controls go "
         "in SECURITY-Request (ciphered + MAC), its reads with an RN; TEST keys only (no ESAM)"),
] + _meter_fields(True))
PORT = Section("port", "A bus the concentrator owns: an RS-485 port or the carrier module's UART.",
               [Text("name", REQUIRED, "the port's name, used by [[meter]] port"),
                Text("url", REQUIRED, "device path or pyserial URL (socket://, rfc2217://, spy://)"),
                Text("medium", "rs485", "rs485, or the carrier module's nbplc / hplc", MEDIA),
                Choice("baud", PORT_BAUDS, OPTIONAL, "bit/s", "line rate; default 2400 (rs485), "
                       "9600 (the module's UART; HPLC modules also run 115200)"),
                Text("parity", "E", "N, E or O", PARITIES),
                Int("concurrency", 5, 1, 32, "reads", "HPLC reads the module may run at once "
                    "(F1F1)")])
ARCHIVE = Section("archive", "The meter archive: right in agent.toml or in its own file.",
                  [Table("defaults", DEFAULTS), Tables("port", PORT), Tables("meter", METER)])
EXTRA = ("point", "password", "control_level", "role", "ct_ratio",
         "secured",
         "phases")                                  # kept in MeterRecord.extra


@dataclass(frozen=True)
class Port:
    """A bus the concentrator owns: an RS-485 port or the carrier module's UART."""

    name: str
    url: str
    medium: str = "rs485"
    baud: int = 2400
    parity: str = "E"
    concurrency: int = 5          # HPLC reads the module may run at once (F1F1)

    @property
    def carrier(self):
        return self.medium != "rs485"


@dataclass(frozen=True)
class MeterRecord:
    """One archived meter."""

    addr: str
    port: str
    protocol: str = "645-2007"
    baud: int = 2400
    preamble: int = 4
    tariff: str = "tou"
    prepaid: str = "none"
    customer: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @cached_property
    def wire_addr(self):
        """Address in 645 wire order (low byte first); worked out once per record."""
        return bytes(int(self.addr[i:i + 2], 16) for i in range(10, -2, -2))


class Archive:
    """Ports and meters, indexed by name and address."""

    def __init__(self, ports=(), meters=()):
        self.ports = {p.name: p for p in ports}
        self.meters = {m.addr: m for m in meters}

    def __len__(self):
        return len(self.meters)

    def on_port(self, name):
        return [m for m in self.meters.values() if m.port == name]

    @classmethod
    def from_dict(cls, doc):
        """Build and validate from a TOML-shaped dict (``[defaults]``, ``[[port]]``, ``[[meter]]``)."""
        problems = []
        if not isinstance(doc, dict):
            raise ArchiveError([("archive", "need a table")])
        for key in sorted(set(doc) - set(ARCHIVE.fields)):
            problems.append((key, "unknown section"))
        defaults = DEFAULTS.load(doc.get("defaults", {}), problems, "defaults")
        given = [PORT.load(raw, problems, "port[%d]" % i)
                 for i, raw in enumerate(_tables(doc, "port", problems))]
        names = [p["name"] for p in given if "name" in p]
        ports = [cls._port(p) for p in given if "name" in p and "url" in p]
        for dup in _duplicates(names):
            problems.append(("port", "duplicate port name %r" % dup))
        names = set(names)
        meters = []
        for i, raw in enumerate(_tables(doc, "meter", problems)):
            before = len(problems)
            values = METER.load({**defaults, **raw} if isinstance(raw, dict) else raw,
                                problems, "meter[%d]" % i)
            if "port" in values and values["port"] not in names:
                problems.append(("meter[%d].port" % i, "no port named %r" % values["port"]))
            if len(problems) == before:
                meters.append(cls._meter(values))
            elif "addr" in values:                       # still counted for duplicates
                meters.append(MeterRecord(values["addr"], "", extra={}))
        _unique(problems, "meter", "address", [m.addr for m in meters])
        _unique(problems, "meter", "point", [m.extra["point"] for m in meters if "point" in m.extra])
        if problems:
            raise ArchiveError(problems)
        return cls(ports, meters)

    @staticmethod
    def _port(values):
        medium = values.get("medium", "rs485")
        baud = values.get("baud", 2400 if medium == "rs485" else 9600)
        return Port(values["name"], values["url"], medium, baud, values.get("parity", "E"),
                    values.get("concurrency", 5))

    @staticmethod
    def _meter(values):
        fields = set(MeterRecord.__dataclass_fields__) - {"extra"}
        return MeterRecord(**{k: values[k] for k in fields},
                           extra={k: values[k] for k in EXTRA if k in values})

    @classmethod
    def load(cls, path):
        """Read and validate a TOML archive file."""
        try:
            import tomllib
        except ImportError:                 # Python 3.10
            import tomli as tomllib
        with open(path, "rb") as f:
            try:
                doc = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                raise ArchiveError([(str(path), "not TOML: %s" % exc)]) from None
        return cls.from_dict(doc)

    def to_dict(self):
        return {"port": [vars_of(p) for p in self.ports.values()],
                "meter": [dict(vars_of(m), **m.extra) for m in self.meters.values()]}

    def with_changes(self, add=(), remove=()):
        """A new validated archive with meters added/replaced and removed (master-station edits)."""
        problems = [("add[%d]" % k, "need a meter table with an addr") for k, m in enumerate(add)
                    if not isinstance(m, dict) or not isinstance(m.get("addr"), str)]
        problems += [("remove[%d]" % k, "need an address, got %r" % (a,))
                     for k, a in enumerate(remove) if not isinstance(a, str)]
        if problems:
            raise ArchiveError(problems)
        doc = self.to_dict()
        gone = set(remove)
        incoming = {m["addr"]: m for m in add}
        doc["meter"] = [m for m in doc["meter"] if m["addr"] not in gone and m["addr"] not in incoming]
        doc["meter"] += list(incoming.values())
        return Archive.from_dict(doc)


def vars_of(record):
    """Plain fields of a Port or MeterRecord (for TOML/JSON)."""
    return {k: getattr(record, k) for k in record.__dataclass_fields__ if k != "extra"}


def _tables(doc, key, problems):
    """The array of tables ``doc[key]`` (a problem when it is something else)."""
    items = doc.get(key, [])
    if not isinstance(items, list):
        problems.append((key, "need [[%s]] tables" % key))
        return []
    return items


def _duplicates(values):
    """The values that occur more than once, sorted (one pass)."""
    seen, dups = set(), set()
    for v in values:
        (dups if v in seen else seen).add(v)
    return sorted(dups)


def _unique(problems, place, what, values):
    for dup in _duplicates(values):
        problems.append((place, "duplicate %s %s" % (what, dup)))
