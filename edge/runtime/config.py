"""agent.toml: the store, the metrics endpoint, task settings and the meter archive.

    [agent]
    store = "/var/lib/gridedge/agent.sqlite"   # SQLite file (WAL)
    max_readings = 1000000                     # bound; oldest confirmed readings go first
    max_store_mb = 512                         # bound on the store's live pages (optional)
    metrics = "127.0.0.1:9108"                 # Prometheus endpoint (optional)
    archive = "archive.toml"                   # or [[port]] / [[meter]] / [defaults] right here
    [tasks]                                    # edge.plan.Settings: freeze_deadline_h = 6 ...
    [tasks.health]                             # edge.health.HealthPolicy figures
    [tasks.limits]                             # edge.validate.Limits figures
    [prepaid]                                  # cost control (edge.prepaid.engine.PrepaidSettings)
    [uplink]                                   # 1376.1 to the master (edge.uplink_settings)

Every section is declared (``edge.schema``; ``gridedge schema`` prints the reference). Relative
paths are taken from the config file's folder. Problems are reported all at once, one line
each: ``FILE: section.key: what is wrong``.
"""
import os

from protocols.civil import parse_local

from edge.archive import ARCHIVE, DEFAULTS, METER, PORT, Archive, ArchiveError
from edge.plan import TASKS
from edge.prepaid.engine import PrepaidSettings
from edge.uplink_settings import UPLINK
from edge.schema import (INHERIT, OPTIONAL, REQUIRED, Bool, Field, Float, Int, List, Named,
                         Section, Table, Tables, Text, hex_digits, host_port, read_toml)

ARCHIVE_KEYS = {"defaults", "port", "meter"}
MONEY = 1e8                    # yuan: no threshold or balance beyond a hundred million


def _date(text):
    try:
        parse_local(text)
    except (ValueError, TypeError):
        return "need a date YYYY-MM-DD, got %r" % (text,)
    return None if len(text) == 10 else "need a date YYYY-MM-DD, got %r" % (text,)


def _block(value):
    """A ladder block: [upper annual kWh (or "none" for the last), price yuan/kWh]."""
    ok = (isinstance(value, list) and len(value) == 2 and all(
        not isinstance(v, bool) for v in value) and isinstance(value[1], (int, float))
        and 0 <= value[1] <= 100 and (value[0] in ("none", -1) or (
            isinstance(value[0], (int, float)) and 0 < value[0] < 1e9)))
    return None if ok else "need [upper_kwh or \"none\", price], got %r" % (value,)


def _money(name, default, doc):
    return Float(name, default, -MONEY, MONEY, "yuan", doc)


def _customer_fields(default):
    return [_money("alarm", default(20.0), "balance alarm (2A) at or below"),
            _money("trip", default(0.0), "trip (1A) at or below"),
            _money("close_allowed", default(10.0), "close again (1B/1C) at or above"),
            _money("balance", default(100.0), "opening balance of a new account"),
            Bool("direct_close", default(False), doc="close directly (1C) instead of allowing "
                 "the customer to (1B)"),
            Bool("keep_power", default(False), doc="keep-power (保电): no credit trips")]


def _unique_customers(values):
    ids = [c["id"] for c in values.get("customer", []) if "id" in c]
    return [("customer", "duplicate customer id %r" % i)
            for i in sorted({i for i in ids if ids.count(i) > 1})]


AGENT = Section("agent", "The store and the endpoints.", [
    Text("store", REQUIRED, "SQLite file (WAL, synchronous commits); relative to the config's "
         "folder"),
    Int("max_readings", 1_000_000, 1000, 10 ** 9, "readings", "store bound; confirmed readings "
        "are evicted first (at least 1000: a bound under one commit evicts what it commits)"),
    Float("max_store_mb", OPTIONAL, 1, 10 ** 6, "MiB", "bound on the store's live pages"),
    Text("metrics", OPTIONAL, "HOST:PORT of the Prometheus endpoint", check=host_port),
    Text("archive", OPTIONAL, "archive TOML file instead of [[port]] / [[meter]] here"),
])
FRIENDLY = Section("prepaid.friendly", "When credit trips wait (友好时段).", [
    List("night", Float("", lo=0, hi=24), [20, 8], 2, "h", "from, to (local hours)"),
    Bool("weekends", True, doc="Saturdays and Sundays"),
    List("holidays", Text("", check=_date), [], (0, 60), "", "YYYY-MM-DD dates (meters hold 60)"),
])
TARIFF = Section("prepaid.tariff", "A tariff by name: flat (price), tou (prices of registers "
                 "1-4) or ladder (annual blocks).", [
                     Text("kind", OPTIONAL, "flat, tou or ladder (default: the table's name)",
                          ("flat", "tou", "ladder")),
                     Float("price", OPTIONAL, 0, 100, "yuan/kWh", "flat price"),
                     List("prices", Float("", lo=0, hi=100), OPTIONAL, 4, "yuan/kWh",
                          "time-of-use prices, tariff registers 1-4 (尖峰平谷)"),
                     List("blocks", Field("", check=_block), OPTIONAL, (1, 16), "",
                          "ladder: [[upper_kwh, price], ..., [\"none\", price]]"),
                 ])
PREPAID = Section("prepaid", "Cost control (费控) of the meters archived prepaid = \"remote\" "
                  "(edge.prepaid.engine.PrepaidSettings).", [
                      Int("every_min", INHERIT, 1, 1440, "min", "read, charge and decide every",
                          divides=1440),
                      Float("expiry_h", INHERIT, None, 720, "h", "a command expires after", gt=0),
                      Float("voltage_guard", INHERIT, 0, 1, "", "no relay command below this "
                            "share of 220 V"),
                      Float("large_current_a", INHERIT, None, 1000, "A", "hold a credit trip "
                            "while the load is above ...", gt=0),
                      Float("large_current_max_min", INHERIT, 0, 1440, "min", "... for at most"),
                      Text("password", INHERIT, "meters' control password, 6 hex digits",
                           check=hex_digits(6)),
                      Int("level", INHERIT, 0, 255, "", "password level of the controls"),
                      Float("inbox_s", INHERIT, 0, 3600, "s", "look for payments this often "
                            "(0: never)"),
                      Int("audit_every_h", INHERIT, 0, 24, "h", "local-wallet audit every "
                          "(0: off)", divides=24),
                      Text("security", INHERIT, "backend for meters archived control_level = "
                           "152 (98H, ESAM): test-key (TEST ONLY, the simulator's meters), "
                           "forward (the master station seals, AFN10 F1) or hardware (a "
                           "board ESAM; no driver ships, so it refuses)",
                           ("test-key", "forward", "hardware")),
                      Float("esam_session_min", INHERIT, None, 1440, "min", "identity "
                            "authentication validity of the secured meters", gt=0),
                      Table("local", Section("prepaid.local", "Thresholds local-wallet meters "
                                             "must hold (04001001..05).", [
                                                 Float(k, OPTIONAL, 0, MONEY, "yuan", k)
                                                 for k in ("alarm_1", "alarm_2",
                                                           "overdraft_limit", "hoarding_limit",
                                                           "close_allowed")])),
                      Table("friendly", FRIENDLY),
                      Named("tariff", TARIFF),
                      Table("defaults", Section("prepaid.defaults", "Every customer's thresholds "
                                                "unless its own entry says otherwise.",
                                                _customer_fields(lambda d: d))),
                      Tables("customer", Section("prepaid.customer", "One customer.", [
                          Text("id", REQUIRED, "the customer id meters name in customer")]
                          + _customer_fields(lambda d: OPTIONAL))),
                  ], checks=[_unique_customers], target=PrepaidSettings)
FILE = Section("agent.toml", "The agent's configuration file.", [
    Table("agent", AGENT, REQUIRED), Table("tasks", TASKS), Table("prepaid", PREPAID),
    Table("uplink", UPLINK),
    Table("defaults", DEFAULTS), Tables("port", PORT), Tables("meter", METER)])


class ConfigError(ValueError):
    """agent.toml is unusable; the message lists every problem, one line each."""


class Config:
    """The parsed agent.toml."""

    def __init__(self, archive, settings, store, max_readings=1_000_000, metrics=None,
                 prepaid=None, uplink=None, max_store_mb=None):
        self.archive = archive
        self.prepaid = prepaid
        self.uplink = uplink
        self.max_store_mb = max_store_mb
        self.settings = settings
        self.store = store
        self.max_readings = max_readings
        self.metrics = metrics


def _toml(path):
    return read_toml(path, ConfigError)


def load_config(path):
    """Read, validate and resolve ``path``; ConfigError names every problem."""
    return config_from_dict(_toml(path), path)


def config_from_dict(doc, path="agent.toml"):
    """Validate and resolve a parsed agent.toml (relative paths from ``path``'s folder)."""
    here = os.path.dirname(os.path.abspath(path))
    problems = [(k, "unknown section (known: %s)" % ", ".join(sorted(FILE.fields)))
                for k in sorted(set(doc) - set(FILE.fields))]
    agent = AGENT.load(doc.get("agent", {}), problems) if "agent" in doc else {}
    if "agent" not in doc:
        problems.append(("agent", "required: [agent] with store = \"FILE\""))
    settings = _section(lambda: TASKS.build(doc.get("tasks", {})), problems)
    prepaid = None
    if "prepaid" in doc:
        before = len(problems)
        PREPAID.load(doc["prepaid"], problems)
        if len(problems) == before:
            prepaid = _section(lambda: PrepaidSettings.from_dict(doc["prepaid"]), problems,
                               "prepaid")
    uplink = None
    if "uplink" in doc:
        uplink = _section(lambda: UPLINK.build(doc["uplink"], "uplink"), problems, "uplink")
    archive = _archive(doc, agent, here, problems)
    if problems:
        raise ConfigError("\n".join("%s: %s: %s" % (path, place, msg) for place, msg in problems))
    store = agent["store"]
    if store != ":memory:":
        store = os.path.join(here, store)
    return Config(archive, settings, store, agent["max_readings"], agent.get("metrics"),
                  prepaid, uplink, agent.get("max_store_mb"))


def _section(build, problems, place=None):
    """``build()``, or None with its problems noted (a SchemaError's each, else its text)."""
    try:
        return build()
    except ValueError as exc:              # SchemaError, TariffError and the settings' own
        found = getattr(exc, "problems", None)
        problems.extend(found if found else [(place, str(exc))])
    except TypeError as exc:
        problems.append((place, str(exc)))
    return None


def _archive(doc, agent, here, problems):
    try:
        if "archive" in agent:
            if any(k in doc for k in ARCHIVE_KEYS):
                problems.append(("agent.archive", "an archive file and [[port]] / [[meter]] "
                                 "here: give one of them"))
            try:
                return Archive.load(os.path.join(here, agent["archive"]))
            except ArchiveError as exc:
                problems.extend(("%s: %s" % (agent["archive"], place), msg)
                                for place, msg in exc.problems)
                return None
        return Archive.from_dict({k: v for k, v in doc.items() if k in ARCHIVE.fields})
    except ArchiveError as exc:
        problems.extend(exc.problems)
    except OSError as exc:
        problems.append(("agent.archive", "%s: %s" % (agent["archive"], exc.strerror)))
    return None
