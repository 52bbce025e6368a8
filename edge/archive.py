"""The meter archive (档案): which meters the concentrator reads, on which port, how.

Loaded from TOML (or a dict the master station sends later) and validated as a whole: every
problem is reported with its place (``meter[3].addr: ...``) in one ``ArchiveError``, and nothing
is half-applied. Addresses are the printed 12 BCD digits.
"""
from dataclasses import dataclass, field

PROTOCOLS = ("645-2007", "645-1997")
MEDIA = ("rs485", "nbplc", "hplc")           # a port: RS-485, or a carrier module (窄带/宽带)
BAUDS = (600, 1200, 2400, 4800, 9600, 19200)
PARITIES = ("N", "E", "O")
TARIFFS = ("flat", "tou", "ladder")
PREPAID = ("none", "remote", "local")        # 费控: none, remote (远程), local (本地)
METER_DEFAULTS = {"protocol": "645-2007", "baud": 2400, "preamble": 4, "tariff": "tou",
                  "prepaid": "none", "customer": ""}


class ArchiveError(ValueError):
    """The archive is invalid; ``problems`` lists every (place, message)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("invalid archive:\n" + "\n".join("  %s: %s" % p for p in self.problems))


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

    @property
    def wire_addr(self):
        """Address in 645 wire order (low byte first)."""
        return bytes(int(self.addr[i:i + 2], 16) for i in range(10, -2, -2))


def _check_addr(text):
    if not isinstance(text, str) or len(text) != 12 or not text.isdigit():
        return "need 12 decimal digits, got %r" % (text,)
    return None


def _choice(value, allowed):
    return None if value in allowed else "%r is not one of %s" % (value, ", ".join(map(str, allowed)))


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
        defaults = dict(METER_DEFAULTS)
        unknown = set(doc) - {"defaults", "port", "meter"}
        for key in sorted(unknown):
            problems.append((key, "unknown section"))
        defaults.update(doc.get("defaults", {}))
        ports = [cls._port(i, p, problems) for i, p in enumerate(doc.get("port", []))]
        names = [p.name for p in ports if p is not None]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            problems.append(("port", "duplicate port name %r" % dup))
        meters = [cls._meter(i, m, defaults, set(names), problems)
                  for i, m in enumerate(doc.get("meter", []))]
        addrs = [m.addr for m in meters if m is not None]
        for dup in sorted({a for a in addrs if addrs.count(a) > 1}):
            problems.append(("meter", "duplicate address %s" % dup))
        if problems:
            raise ArchiveError(problems)
        return cls(ports, meters)

    @staticmethod
    def _port(i, raw, problems):
        place = "port[%d]" % i
        known = {"name", "url", "medium", "baud", "parity", "concurrency"}
        for key in sorted(set(raw) - known):
            problems.append(("%s.%s" % (place, key), "unknown field"))
        for key in ("name", "url"):
            if not isinstance(raw.get(key), str) or not raw.get(key):
                problems.append(("%s.%s" % (place, key), "required text"))
        medium = raw.get("medium", "rs485")
        port = Port(str(raw.get("name", "")), str(raw.get("url", "")), medium,
                    raw.get("baud", 2400 if medium == "rs485" else 9600), raw.get("parity", "E"),
                    raw.get("concurrency", 5))
        for key, allowed in (("medium", MEDIA), ("baud", BAUDS), ("parity", PARITIES)):
            err = _choice(getattr(port, key), allowed)
            if err:
                problems.append(("%s.%s" % (place, key), err))
        if not isinstance(port.concurrency, int) or not 1 <= port.concurrency <= 32:
            problems.append(("%s.concurrency" % place, "need 1..32, got %r" % (port.concurrency,)))
        return port

    @staticmethod
    def _meter(i, raw, defaults, ports, problems):
        place = "meter[%d]" % i
        values = dict(defaults)
        values.update(raw)
        fields = set(MeterRecord.__dataclass_fields__) - {"extra"}
        extra = {k: v for k, v in values.items() if k not in fields}
        err = _check_addr(values.get("addr"))
        if err:
            problems.append(("%s.addr" % place, err))
        if values.get("port") not in ports:
            problems.append(("%s.port" % place, "no port named %r" % (values.get("port"),)))
        for key, allowed in (("protocol", PROTOCOLS), ("baud", BAUDS), ("tariff", TARIFFS),
                             ("prepaid", PREPAID), ("preamble", (0, 1, 2, 3, 4))):
            err = _choice(values.get(key), allowed)
            if err:
                problems.append(("%s.%s" % (place, key), err))
        values["addr"] = str(values.get("addr", ""))
        values["port"] = str(values.get("port", ""))
        return MeterRecord(**{k: values[k] for k in fields}, extra=extra)

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
        doc = self.to_dict()
        gone = set(remove)
        incoming = {m["addr"]: m for m in add}
        doc["meter"] = [m for m in doc["meter"] if m["addr"] not in gone and m["addr"] not in incoming]
        doc["meter"] += list(incoming.values())
        return Archive.from_dict(doc)


def vars_of(record):
    """Plain fields of a Port or MeterRecord (for TOML/JSON)."""
    return {k: getattr(record, k) for k in record.__dataclass_fields__ if k != "extra"}
