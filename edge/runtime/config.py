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
    [uplink]                                   # 1376.1 to the master (edge.uplink.UplinkSettings)

Relative paths are taken from the config file's folder. Problems are reported all at once.
"""
import os

from edge.archive import Archive, ArchiveError
from edge.plan import Settings

AGENT_KEYS = {"store", "max_readings", "max_store_mb", "metrics", "archive"}
ARCHIVE_KEYS = {"defaults", "port", "meter"}


class ConfigError(ValueError):
    """agent.toml is unusable; the message lists every problem."""


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
    try:
        import tomllib
    except ImportError:                     # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError("%s: %s" % (path, exc.strerror)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("%s: not TOML: %s" % (path, exc)) from None


def load_config(path):
    """Read, validate and resolve ``path``."""
    doc = _toml(path)
    here = os.path.dirname(os.path.abspath(path))
    problems = ["unknown section [%s]" % k for k in sorted(set(doc) - {"agent", "tasks", "prepaid", "uplink"} - ARCHIVE_KEYS)]
    agent = doc.get("agent", {})
    problems += ["unknown [agent] key %r" % k for k in sorted(set(agent) - AGENT_KEYS)]
    if "store" not in agent:
        problems.append("[agent] store is required (the SQLite file)")
    try:
        settings = Settings.from_dict(doc.get("tasks", {}))
    except (TypeError, ValueError) as exc:
        problems.append("[tasks]: %s" % exc)
        settings = None
    prepaid = None
    if "prepaid" in doc:
        from edge.prepaid.engine import PrepaidSettings
        from edge.prepaid.tariff import TariffError
        try:
            prepaid = PrepaidSettings.from_dict(doc["prepaid"])
        except (TypeError, ValueError, TariffError) as exc:
            problems.append("[prepaid]: %s" % exc)
    uplink = None
    if "uplink" in doc:
        from edge.uplink import UplinkSettings
        try:
            uplink = UplinkSettings.from_dict(doc["uplink"])
        except (TypeError, ValueError) as exc:
            problems.append("[uplink]: %s" % exc)
    archive = None
    try:
        if "archive" in agent:
            archive = Archive.load(os.path.join(here, agent["archive"]))
        else:
            archive = Archive.from_dict({k: v for k, v in doc.items() if k in ARCHIVE_KEYS})
    except ArchiveError as exc:
        problems.append(str(exc))
    except OSError as exc:
        problems.append("archive %s: %s" % (agent.get("archive"), exc.strerror))
    if problems:
        raise ConfigError("%s:\n  %s" % (path, "\n  ".join(problems)))
    store = agent["store"]
    if store != ":memory:":
        store = os.path.join(here, store)
    return Config(archive, settings, store, agent.get("max_readings", 1_000_000),
                  agent.get("metrics"), prepaid, uplink, agent.get("max_store_mb"))
