"""Scenario files (TOML): what area to simulate, for how long, with which faults, customers and
uplink outages, and the gates a run must pass. Validated as a whole: every problem is named.

    [scenario]   name, seed, start ("YYYY-MM-DD hh:mm", local), hours
    [area]       meters, medium (rs485 | nbplc | hplc)
    [channel] [topology] [noise] [rs485]   the channel model's parameters (CHANNEL.md names)
    [population] the meter mix (plc_channel/meter_sim population keywords)
    [[fault]]    kind, share, ... (meter_sim.faults)
    [tasks]      the agent's [tasks] settings (freeze_deadline_h = 6 ...)
    [prepaid]    customers: keep_power, pay, stuck, holiday, read_every_min, opening = [lo, hi]
                 (yuan), friendly (false: no friendly windows)
    [uplink]     outages = [[start_h, hours], ...], loss
    [[gate]]     metric (a report.json key, dotted for nested ones), op, value
    [rig]        password (PW for the concentrator under test, hex), archive_port; a carrier
                 area's extra RS-485 meters: rs485_meters, rs485_archive_port; the rig's
                 cost control: control_every_s, retry_s, tries, settle_s
"""
import hashlib
import operator
import os

from meter_sim.faults import KINDS
from protocols.civil import iso, parse_local

SECTIONS = {"scenario", "area", "channel", "topology", "noise", "rs485", "population", "fault",
            "tasks", "prepaid", "uplink", "gate", "rig"}
SCENARIO_KEYS = {"name", "seed", "start", "hours", "description"}
AREA_KEYS = {"meters", "medium"}
PREPAID_KEYS = {"keep_power", "pay", "stuck", "holiday", "read_every_min", "opening", "friendly"}
RIG_KEYS = {"password", "archive_port", "rs485_meters", "rs485_archive_port", "control_every_s",
            "retry_s", "tries", "settle_s"}
UPLINK_KEYS = {"outages", "loss", "max_store_mb"}
OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
       "==": operator.eq}
DEFAULT_START = "2026-01-06 00:00"          # the population epoch's next day (a Tuesday)
LIBRARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")


def library():
    """The names of the bundled scenarios (hil/scenarios/NAME.toml, shipped in the wheel)."""
    return sorted(f[:-5] for f in os.listdir(LIBRARY) if f.endswith(".toml"))


def resolve(path):
    """``path`` itself when it is a file, else the bundled scenario of that name (``smoke``)."""
    if os.path.isfile(path):
        return path
    name = os.path.basename(path)
    name = name[:-5] if name.endswith(".toml") else name
    bundled = os.path.join(LIBRARY, name + ".toml")
    if os.sep not in str(path) and os.path.isfile(bundled):
        return bundled
    raise ScenarioError("%s: no such file, nor a bundled scenario (%s)"
                        % (path, ", ".join(library())))


class ScenarioError(ValueError):
    """The scenario file is unusable; the message lists every problem."""


class Gate:
    """One pass/fail rule on a report figure."""

    def __init__(self, metric, op, value):
        self.metric = metric
        self.op = op
        self.value = value

    def check(self, report):
        """{metric, op, limit, value, passed} for ``report`` (a missing figure fails)."""
        got = report
        for part in self.metric.split("."):
            got = got.get(part) if isinstance(got, dict) else None
        passed = got is not None and OPS[self.op](got, self.value)
        return {"metric": self.metric, "op": self.op, "limit": self.value, "value": got,
                "passed": bool(passed)}


class Scenario:
    """A parsed scenario; ``sha256`` is of the file's bytes, as the report carries it."""

    def __init__(self, doc, sha256="", path=None):
        self.doc = doc
        self.sha256 = sha256
        self.path = path
        s = doc.get("scenario", {})
        self.name = s.get("name", "scenario")
        self.seed = s.get("seed", 1)
        self.start_text = s.get("start", DEFAULT_START)
        self.hours = s.get("hours", 24.0)
        a = doc.get("area", {})
        self.meters = a.get("meters", 100)
        self.medium = a.get("medium", "hplc")
        self.area_kw = {k: doc[k] for k in ("channel", "topology", "noise", "rs485",
                                           "population") if k in doc}
        self.faults = list(doc.get("fault", []))
        self.tasks = dict(doc.get("tasks", {}))
        self.prepaid = doc.get("prepaid")
        self.uplink = doc.get("uplink")
        self.gates = [Gate(g.get("metric"), g.get("op", ">="), g.get("value"))
                      for g in doc.get("gate", [])]

    @property
    def start(self):
        return parse_local(self.start_text)

    def meter_setup(self):
        """(faults, population keywords) the simulated meters are built with: a ``[prepaid]``
        area adds its stuck relays and puts every meter under remote cost control."""
        faults = list(self.faults)
        population = dict(self.area_kw.get("population", {}))
        if self.prepaid is not None:
            stuck = self.prepaid.get("stuck", 0.005)
            if stuck:
                faults.append({"kind": "relay_stuck", "share": stuck})
            population["local_share"] = 0.0
        return faults, population

    @classmethod
    def load(cls, path):
        """Load a scenario file, or a bundled one by name."""
        path = resolve(path)
        try:
            import tomllib
        except ImportError:                 # Python 3.10
            import tomli as tomllib
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError as exc:
            raise ScenarioError("%s: %s" % (path, exc.strerror)) from None
        try:
            doc = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ScenarioError("%s: not TOML: %s" % (path, exc)) from None
        return cls.from_dict(doc, hashlib.sha256(raw).hexdigest(), str(path))

    @classmethod
    def from_dict(cls, doc, sha256="", path=None):
        problems = check(doc)
        if problems:
            raise ScenarioError("%s:\n  %s" % (path or "scenario", "\n  ".join(problems)))
        return cls(doc, sha256, path)

    def describe(self):
        return "%s: %d %s meters, %s from %s, seed %d" % (
            self.name, self.meters, self.medium, _hours(self.hours), iso(self.start)[:16],
            self.seed)


def _hours(h):
    return "%g days" % (h / 24.0) if h >= 48 else "%g h" % h


def check(doc):
    """Every problem of a scenario document, as text."""
    problems = ["unknown section [%s]" % k for k in sorted(set(doc) - SECTIONS)]
    for section, keys in (("scenario", SCENARIO_KEYS), ("area", AREA_KEYS),
                          ("rig", RIG_KEYS),
                          ("prepaid", PREPAID_KEYS), ("uplink", UPLINK_KEYS)):
        problems += ["unknown [%s] key %r" % (section, k)
                     for k in sorted(set(doc.get(section, {}) or {}) - keys)]
    s = doc.get("scenario", {})
    if not isinstance(s.get("seed", 1), int):
        problems.append("[scenario] seed must be an integer")
    hours = s.get("hours", 24.0)
    if not isinstance(hours, (int, float)) or hours <= 0:
        problems.append("[scenario] hours must be a positive number")
    try:
        Scenario({"scenario": {"start": s.get("start", DEFAULT_START)}}).start
    except (ValueError, TypeError):
        problems.append("[scenario] start must be 'YYYY-MM-DD hh:mm', got %r" % (s.get("start"),))
    a = doc.get("area", {})
    if a.get("medium", "hplc") not in ("rs485", "nbplc", "hplc"):
        problems.append("[area] medium must be rs485, nbplc or hplc")
    if not isinstance(a.get("meters", 100), int) or not 1 <= a.get("meters", 100) <= 100000:
        problems.append("[area] meters must be 1..100000")
    for k, f in enumerate(doc.get("fault", [])):
        if "kind" not in f:
            problems.append("fault[%d] needs a kind" % k)
        elif f["kind"] not in KINDS:
            problems.append("fault[%d]: unknown kind %r" % (k, f["kind"]))
        else:                   # spelled out: meter_sim's defaults (p = 1: always) surprise
            problems += ["fault[%d] (%s) needs %s" % (k, f["kind"], param)
                         for param in KINDS[f["kind"]] if param not in f]
    for k, g in enumerate(doc.get("gate", [])):
        if not isinstance(g.get("metric"), str):
            problems.append("gate[%d] needs a metric (a report.json key)" % k)
        if g.get("op", ">=") not in OPS:
            problems.append("gate[%d] op must be one of %s" % (k, " ".join(OPS)))
        if not isinstance(g.get("value"), (int, float)):
            problems.append("gate[%d] value must be a number" % k)
        unknown = set(g) - {"metric", "op", "value"}
        if unknown:
            problems.append("gate[%d]: unknown keys %s" % (k, ", ".join(sorted(unknown))))
    wired = (doc.get("rig") or {}).get("rs485_meters", 0)
    if not isinstance(wired, int) or wired < 0:
        problems.append("[rig] rs485_meters must be a count")
    elif wired and a.get("medium", "hplc") == "rs485":
        problems.append("[rig] rs485_meters adds RS-485 meters to a carrier area; this area is"
                        " RS-485 already")
    opening = (doc.get("prepaid") or {}).get("opening", [0, 1])
    if not (isinstance(opening, list) and len(opening) == 2 and
            all(isinstance(x, (int, float)) for x in opening) and opening[0] <= opening[1]):
        problems.append("[prepaid] opening must be [lowest, highest] yuan")
    for k, o in enumerate((doc.get("uplink") or {}).get("outages", [])):
        if not (isinstance(o, list) and len(o) == 2 and all(isinstance(x, (int, float)) for x in o)):
            problems.append("uplink.outages[%d] must be [start_h, hours]" % k)
    return problems
