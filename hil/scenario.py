"""Scenario files (TOML): what area to simulate, for how long, with which faults, customers and
uplink outages, and the gates a run must pass. Every section is declared below (``FILE``;
``gridedge schema scenario`` prints the reference) and a file is validated as a whole at load:
every problem is named with its place, a gate's metric is checked against the figures a report
carries (``hil.figures``), and the sections given get their declared defaults.

    [scenario]   name, seed, start ("YYYY-MM-DD hh:mm", local), hours
    [area]       meters, medium (rs485 | nbplc | hplc), module_baud (carrier module UART),
                 rs485_meters (a second, RS-485 port of a carrier area), password (archived)
    [channel] [topology] [noise] [rs485]   the channel model's parameters (CHANNEL.md names)
    [population] the meter mix (plc_channel/meter_sim population keywords)
    [[fault]]    kind, share, ... (meter_sim.faults)
    [tasks]      the agent's [tasks] settings (freeze_deadline_h = 6 ...)
    [prepaid]    customers: keep_power, pay, stuck, holiday, read_every_min, opening = [lo, hi], secured
                 (yuan), friendly (false: no friendly windows)
    [uplink]     outages = [[start_h, hours], ...], loss
    [area_meter] the area meter (台区总表) on its own RS-485 port: addr, ct_ratio, and the
                 technical-loss model fixed_kw + k_per_kw * load**2 (docs/lineloss.md)
    [price]      a price campaign (调价, hil.price_run): id, effective, old_price, tariff, meters
                 (indices; default all), local_share, secured, unreachable (share) for
                 unreachable_h from the start, pay, faulty; its own area (no [prepaid],
                 [uplink], [area_meter], [[fault]])
    [[gate]]     metric (a report.json key, dotted for nested ones), op, value
    [[outages]]  an outage of a branch (feeder, lateral) or of the area (area = true) from
                 start_h to end_h (plc_channel.outages; the HPLC module reports it, 06F5)
    [rig]        password (PW for the concentrator under test, hex), archive_port; a carrier
                 area's extra RS-485 meters: rs485_meters, rs485_archive_port; the rig's
                 cost control: control_every_s, retry_s, tries, settle_s
    [area_ident] the carrier module's area/phase identification (plc_channel.area_ident):
                 ident_h, error, phase_error, neighbour_db, neighbour_cco
"""
import hashlib
import operator
import os

from edge.archive import BAUDS, check_addr
from edge.plan import TASKS
from edge.prepaid.campaign import TARIFF
from edge.schema import (OPTIONAL, REQUIRED, Bool, Choice, Float, Int, List, Section, Table,
                         Tables, Text, hex_digits)
from meter_sim.area_meter import DEFAULTS as AREA_METER_DEFAULTS
from meter_sim.faults import AREA_KINDS, KINDS, OPTIONAL_PARAMS
from plc_channel.phy import BER_TABLES
from plc_channel.uart import DEFAULT_BAUD, MODULE_BAUDS
from protocols.civil import DAY, iso, midnight, parse_local
from hil.figures import known_figure

OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
       "==": operator.eq}
DEFAULT_START = "2026-01-06 00:00"          # the population epoch's next day (a Tuesday)
MAX_METERS = 100000
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
        self.module_baud = a.get("module_baud", DEFAULT_BAUD)
        self.rs485_meters = a.get("rs485_meters", 0)
        self.password = a.get("password")
        self.area_kw = {k: doc[k] for k in ("channel", "topology", "noise", "rs485",
                                           "population", "area_ident") if k in doc}
        self.faults = list(doc.get("fault", []))
        self.tasks = dict(doc.get("tasks", {}))
        self.prepaid = doc.get("prepaid")
        self.uplink = doc.get("uplink")
        self.area_meter = doc.get("area_meter")
        self.price = doc.get("price")
        self.outages = list(doc.get("outages", []))
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
            population["secured_share"] = self.prepaid.get("secured", 0.0)
        if self.outages:
            from plc_channel.outages import expand
            faults += expand(self.outages, self.meters, self.seed,
                             self.area_kw.get("topology"))[0]
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
        problems, filled = check(doc)
        if problems:
            raise ScenarioError("\n".join("%s: %s" % (path or "scenario", p) for p in problems))
        return cls(filled, sha256, path)

    def describe(self):
        return "%s: %d %s meters, %s from %s, seed %d" % (
            self.name, self.meters, self.medium, _hours(self.hours), iso(self.start)[:16],
            self.seed)


def _hours(h):
    return "%g days" % (h / 24.0) if h >= 48 else "%g h" % h


def _start(text):
    try:
        parse_local(text)
    except (ValueError, TypeError):
        return "need 'YYYY-MM-DD hh:mm' (local), got %r" % (text,)
    return None


def _ascending(pair):
    return None if pair[0] <= pair[1] else "need [lowest, highest], got %r" % (pair,)


def _span(name, lo, hi, unit, doc, item=Float):
    return List(name, item("", lo=lo, hi=hi), OPTIONAL, 2, unit, doc, check=_ascending)


def _outage(pair):
    return None if pair[1] > 0 else "an outage of %r h: need hours > 0" % (pair[1],)


def _metric(name):
    return None if known_figure(name) else "%r is no figure of a report (see hil/figures.py)" % name


def _fault_params(values):
    kind = values["kind"]
    out = [(p, "needed by %s" % kind) for p in KINDS[kind]
           if p not in values and p not in OPTIONAL_PARAMS.get(kind, ())]
    out += [(p, "not a parameter of %s (it takes %s)" % (kind, ", ".join(KINDS[kind]) or
                                                          "none"))
            for p in ("p", "delay_s", "seconds", "fraction", "kwh", "volts", "phase", "factor")
            if p in values and p not in KINDS[kind]]
    if "share" in values and "meters" in values:
        out.append(("meters", "give share or meters, not both"))
    if kind in AREA_KINDS:
        out += [(k, "%s is the area's, not a meter's: no %s" % (kind, k))
                for k in ("share", "meters") if k in values]
    if values.get("end_h", float("inf")) < values.get("start_h", 0.0):
        out.append(("end_h", "ends before it starts"))
    return out


SCENARIO = Section("scenario", "What the run is.", [
    Text("name", "scenario", "the report's name"),
    Text("description", OPTIONAL, "one line for people", empty=True),
    Int("seed", 1, 0, 2 ** 63 - 1, "", "every random stream derives from it"),
    Text("start", DEFAULT_START, "local start 'YYYY-MM-DD hh:mm'", check=_start),
    Float("hours", 24.0, None, 24 * 366, "h", "simulated duration", gt=0),
])
AREA = Section("area", "The transformer area.", [
    Int("meters", 100, 1, MAX_METERS, "meters", "meters in the area"),
    Text("medium", "hplc", "rs485, nbplc or hplc", ("rs485", "nbplc", "hplc")),
    Choice("module_baud", MODULE_BAUDS, DEFAULT_BAUD, "bit/s",
           "concentrator-module UART rate (carrier areas)"),
    Int("rs485_meters", 0, 0, 1000, "meters", "RS-485 meters of a carrier area on a second port"
        " (fault indices from `meters` on; hil/field_run.py)"),
    Text("password", OPTIONAL, "the meters' level-4 password in the archive, 6 hex digits (lets"
         " the agent set a clock, [tasks] clock_correct)", check=hex_digits(6)),
])
CHANNEL = Section("channel", "Carrier channel (plc_channel.phy.Phy); default: the medium's.", [
    Text("table", OPTIONAL, "BER curve", tuple(BER_TABLES)),
    Float("bit_rate", OPTIONAL, None, 1e9, "bit/s", "carrier bit rate", gt=0),
    Int("mac_overhead_bytes", OPTIONAL, 0, 1024, "bytes", "MAC/network headers per frame"),
    Float("access_s", OPTIONAL, 0, 60, "s", "channel access + acknowledgement per hop"),
    Int("hop_retries", OPTIONAL, 1, 32, "", "MAC transmissions per hop"),
    Int("concurrency", OPTIONAL, 1, 64, "reads", "reads the coordinator keeps in flight"),
    Float("budget_db", OPTIONAL, 0, 200, "dB", "transmit level over quiet noise"),
    Float("alpha_db_per_m", OPTIONAL, 0, 10, "dB/m", "line attenuation"),
    Float("tap_db", OPTIONAL, 0, 60, "dB", "loss per branch junction"),
    Float("cross_phase_db", OPTIONAL, 0, 60, "dB", "loss across phases"),
    Int("max_depth", OPTIONAL, 1, 15, "hops", "relay levels"),
    Float("discovery_s", OPTIONAL, 0, 3600, "s", "route discovery per level"),
])
TOPOLOGY = Section("topology", "Feeders and meter boxes (plc_channel.topology).", [
    Int("feeders", OPTIONAL, 0, 8, "", "LV feeders (0: one per 250 meters)"),
    _span("trunk_m", 1, 5000, "m", "trunk length range"),
    _span("lateral_every_m", 1, 5000, "m", "spacing of laterals"),
    _span("lateral_m", 1, 5000, "m", "lateral length range"),
    _span("box_meters", 1, 100, "meters", "meters per box", Int),
    Float("shadow_db", OPTIONAL, 0, 30, "dB", "sigma of per-meter coupling spread"),
])
NOISE = Section("noise", "Noise (plc_channel.noise).", [
    List("hourly_db", Float("", lo=0, hi=60), OPTIONAL, 24, "dB", "rise by hour of day"),
    Float("sources_per_100_boxes", OPTIONAL, 0, 100, "", "noisy loads"),
    _span("source_db", 0, 60, "dB", "rise at a source"),
    Float("source_decay_db_per_m", OPTIONAL, 0, 10, "dB/m", "decay away from a source"),
    _span("source_hours", 0, 24, "h", "hours a source is on each day"),
    _span("burst_rate_per_h", 0, 1e5, "1/h", "impulsive bursts: quiet hours, evening peak"),
    Float("burst_s", OPTIONAL, 0, 10, "s", "mean burst length"),
])
RS485 = Section("rs485", "The RS-485 bus (plc_channel.rs485).", [
    Choice("baud", BAUDS, OPTIONAL, "bit/s", "line rate"),
    Float("byte_error", OPTIONAL, 0, 1, "", "share of bytes corrupted"),
    Float("response_timeout", OPTIONAL, None, 60, "s", "the bus's reply window", gt=0),
])
POPULATION = Section("population", "The meter mix (meter_sim.population).", [
    Float("commercial_share", OPTIONAL, 0, 1, "", "commercial load profiles"),
    Float("local_share", OPTIONAL, 0, 1, "", "meters with their own wallet (本地费控)"),
    Float("flat_tariff_share", OPTIONAL, 0, 1, "", "meters on one rate"),
    Float("protocol_1997_share", OPTIONAL, 0, 1, "", "DL/T 645-1997 meters"),
    Float("protocol_698_share", OPTIONAL, 0, 1, "", "DL/T 698.45 meters (archived as 698.45)"),
    Float("drift_ppm", OPTIONAL, 0, 1000, "ppm", "clock drift bound"),
    Float("clock_offset_s", OPTIONAL, 0, 86400, "s", "clock offset bound"),
    _span("reply_delay_s", 0, 10, "s", "reply delay range"),
    Float("supply_source_v", OPTIONAL, 100, 300, "V", "supply model (meter_sim.supply): the "
          "transformer's LV bus"),
    Float("supply_feeder_drop_v", OPTIONAL, 0, 100, "V", "feeder drop at the far end at the "
          "area's peak load"),
    Float("supply_service_v_per_kw", OPTIONAL, 0, 20, "V/kW", "drop per kW of the meter's own "
          "load"),
    Float("supply_noise_v", OPTIONAL, 0, 20, "V", "per-minute voltage noise (sigma)"),
    Float("three_phase_share", OPTIONAL, 0, 1, "", "three-phase meters (meter_sim.firmware.phases; "
          "archived with phases = 3)"),
])
FAULT = Section("fault", "A fault (meter_sim.faults) on a share of the meters or on some.", [
    Text("kind", REQUIRED, "what goes wrong", tuple(KINDS)),
    Float("share", OPTIONAL, 0, 1, "", "share of the meters, drawn from the seed"),
    List("meters", Int("", lo=0, hi=MAX_METERS - 1), OPTIONAL, None, "", "meter indices"),
    Float("start_h", OPTIONAL, 0, 24 * 366, "h", "from (after the population epoch)"),
    Float("end_h", OPTIONAL, 0, 24 * 366, "h", "until (default: the end)"),
    Float("p", OPTIONAL, 0, 1, "", "probability (intermittent: silent; garbled, wrong)"),
    Float("delay_s", OPTIONAL, 0, 3600, "s", "extra reply delay (slow)"),
    Float("seconds", OPTIONAL, -1e9, 1e9, "s", "clock jump (clock_jump)"),
    Float("fraction", OPTIONAL, 0, 1, "", "share of the load past the register (bypass); the "
          "load moved from phase C to A (imbalance)"),
    Float("kwh", OPTIONAL, 0, 1e6, "kWh", "register step (register_backwards, register_jump)"),
    Float("volts", OPTIONAL, 0, 500, "V", "supply held at (undervoltage, overvoltage)"),
    Int("phase", OPTIONAL, 0, 2, "", "phase 0..2 = A..C (phase_loss, reverse_polarity)"),
    Float("factor", OPTIONAL, 0, 1, "", "share of the true energy the register still counts "
          "(slowed; magnetic while the field lasts, default 1: the event only)"),
], checks=[_fault_params])
PREPAID = Section("prepaid", "Prepaid customers of the area.", [
    Float("keep_power", 0.02, 0, 1, "", "share of keep-power customers"),
    Float("pay", 0.6, 0, 1, "", "share of customers paying during the run"),
    Float("stuck", 0.005, 0, 1, "", "share of relays that do not move"),
    Bool("holiday", True, doc="a holiday on the fifth day"),
    Int("read_every_min", 60, 1, 1440, "min", "the agent's prepaid reads", divides=1440),
    List("opening", Float("", lo=-1e6, hi=1e6), [2.0, 40.0], 2, "yuan", "opening balances "
         "[lowest, highest]", check=_ascending),
    Bool("friendly", True, doc="false: no friendly windows (trips at any hour)"),
    Float("secured", 0.0, 0, 1, "", "share of meters under ESAM security (TEST key): the agent "
          "seals their controls"),
])
UPLINK = Section("uplink", "The uplink to a simulated master station.", [
    List("outages", List("", Float("", lo=0, hi=24 * 366), size=2, check=_outage), [], None, "h",
         "[[start_h, hours], ...] the master is unreachable"),
    Float("loss", 0.0, 0, 1, "", "share of byte chunks lost on the link"),
    Float("max_store_mb", OPTIONAL, None, 1e6, "MiB", "the agent's store bound", gt=0),
])
AREA_METER = Section("area_meter", "The area meter (台区总表, meter_sim.area_meter): three-phase, "
                     "CT-connected, at the transformer, on its own RS-485 port.", [
    Text("addr", AREA_METER_DEFAULTS["addr"], "its 12-digit address", check=check_addr),
    Int("ct_ratio", AREA_METER_DEFAULTS["ct_ratio"], 1, 100000, "", "CT ratio (register x ratio "
        "= primary kWh)"),
    Float("fixed_kw", AREA_METER_DEFAULTS["fixed_kw"], 0, 1e4, "kW", "technical loss that does "
          "not depend on the load"),
    Float("k_per_kw", AREA_METER_DEFAULTS["k_per_kw"], 0, 1, "1/kW", "load-squared loss: "
          "k_per_kw x load**2 kW"),
])
PRICE = Section("price", "A price campaign (调价) over the area (hil.price_run): the meters "
                "half local, half remote cost control by default, some unreachable from the "
                "start, payments sent twice across the switch.", [
    Text("id", "price", "the campaign's id"),
    Text("effective", OPTIONAL, "local time the new prices bill from 'YYYY-MM-DD hh:mm' "
         "(default: the first midnight after the start)", check=_start),
    Float("old_price", 0.5, 0, 100, "yuan/kWh", "the flat price billed before"),
    Table("tariff", TARIFF, REQUIRED, "the new rate table (as in prices.toml)"),
    List("meters", Int("", lo=0, hi=MAX_METERS - 1), OPTIONAL, None, "", "the campaign's "
         "target: meter indices (default: all)"),
    Float("local_share", 0.5, 0, 1, "", "meters with their own wallet (本地费控)"),
    Float("secured", 1.0, 0, 1, "", "share under ESAM security (TEST key); only these local "
          "meters take top-ups (a top-up is always sealed)"),
    Float("unreachable", 0.05, 0, 1, "", "share of meters powered down from the start"),
    Float("unreachable_h", 24.0, 0, 24 * 366, "h", "for how long"),
    Float("pay", 0.1, 0, 1, "", "share of customers paying before and after the switch"),
    Int("faulty", 0, 0, MAX_METERS, "meters", "local meters whose firmware loses the standby "
        "set half an hour before the switch"),
])
def _outage_place(values):
    out = [] if values.get("area") or values.get("feeder") is not None else [
        ("area", "give area = true or a feeder (and a lateral of it)")]
    if values["end_h"] <= values["start_h"]:
        out.append(("end_h", "ends before it starts"))
    return out


OUTAGES = Section("outages", "An outage of a branch or of the whole area (plc_channel.outages).", [
    Bool("area", False, "", "the whole area (every meter)"),
    Int("feeder", OPTIONAL, 0, 7, "", "a feeder of the topology (its meters)"),
    Int("lateral", OPTIONAL, 0, 1000, "", "only this lateral of the feeder (0: its trunk)"),
    Float("start_h", REQUIRED, 0, 24 * 366, "h", "from (after the population epoch)"),
    Float("end_h", REQUIRED, 0, 24 * 366, "h", "until"),
], checks=[_outage_place])
GATE = Section("gate", "A pass/fail rule on a report figure.", [
    Text("metric", REQUIRED, "a report.json figure, dotted for nested ones", check=_metric),
    Text("op", ">=", "comparison", tuple(OPS)),
    Float("value", REQUIRED, None, None, "", "the limit"),
])
RIG = Section("rig", "`gridedge hil rig`: the concentrator under test.", [
    Text("password", OPTIONAL, "PW of its control frames, 32 hex digits", check=hex_digits(32)),
    Int("archive_port", OPTIONAL, 1, 31, "", "its port number for the area (default 1)"),
    Int("rs485_meters", 0, 0, 1000, "meters", "extra RS-485 meters of a carrier area"),
    Int("rs485_archive_port", OPTIONAL, 1, 31, "", "their port number (default 2)"),
    Float("control_every_s", OPTIONAL, None, 3600, "s", "cost-control decisions every "
          "(default 5)", gt=0),
    Float("retry_s", OPTIONAL, None, 86400, "s", "a command is repeated after (default 120)",
          gt=0),
    Int("tries", OPTIONAL, 1, 100, "", "sends of a command (default 3)"),
    Float("settle_s", OPTIONAL, 0, 86400, "s", "a due operation is missed after (default 300)"),
    Float("pull_every_s", OPTIONAL, 0, 86400, "s", "the master asks each point's last daily "
          "freeze (AFN0D F161) and real-time energy (AFN0C F129) every (default: never)"),
])


def _rig_medium(values):
    wired = values.get("rig", {}).get("rs485_meters", 0)
    if wired and values["area"]["medium"] == "rs485":
        return [("rig.rs485_meters", "adds RS-485 meters to a carrier area; this area is "
                 "RS-485 already")]
    return []


def _fault_meters(values):
    n = values["area"]["meters"] + values["area"].get("rs485_meters", 0)
    return [("fault[%d].meters" % k, "meter index %d outside 0..%d" % (i, n - 1))
            for k, f in enumerate(values.get("fault", [])) for i in f.get("meters", ()) if i >= n]


def _field_medium(values):
    if values["area"]["medium"] != "rs485":
        return []
    out = [("fault[%d].kind" % k, "%s needs a carrier module: this area is RS-485" % f["kind"])
           for k, f in enumerate(values.get("fault", [])) if f.get("kind") in AREA_KINDS]
    if values["area"].get("rs485_meters"):
        out.append(("area.rs485_meters", "adds RS-485 meters to a carrier area; this area is "
                    "RS-485 already"))
    return out


def _price_area(values):
    price = values.get("price")
    if not price:
        return []
    out = [("price", "a price run builds its own area: drop [%s]" % k)
           for k in ("prepaid", "uplink", "area_meter", "fault") if values.get(k)]
    n = values["area"]["meters"]
    out += [("price.meters", "meter index %d outside 0..%d" % (i, n - 1))
            for i in price.get("meters") or () if i >= n]
    sc = values["scenario"]
    try:
        start = parse_local(sc["start"])
        due = price_effective(start, price.get("effective"))
        inside = start < due < start + 3600.0 * sc["hours"]
    except (ValueError, TypeError, KeyError):
        return out
    if not inside:
        out.append(("price.effective", "must fall inside the run (%s for %s)"
                    % (sc["start"], _hours(sc["hours"]))))
    return out


def price_effective(start, text):
    """The campaign's instant: ``text`` (local), else the first midnight after ``start``."""
    return parse_local(text) if text else midnight(start) + DAY


def _address12(text):
    if len(text) != 12 or not text.isdigit():
        return "need 12 decimal digits, got %r" % (text,)
    return None


AREA_IDENT = Section("area_ident", "The carrier module's area and phase identification "
                     "(plc_channel.area_ident).", [
    Float("ident_h", OPTIONAL, 0, 24 * 30, "h", "identification period before the verdicts"),
    Float("error", OPTIONAL, 0, 1, "", "share of nodes whose area verdict is wrong"),
    Float("phase_error", OPTIONAL, 0, 1, "", "share of nodes whose phase is reported wrong"),
    Float("neighbour_db", OPTIONAL, 0, 60, "dB", "extra attenuation of a neighbouring area's "
          "meter (neighbour, cross_area faults)"),
    Text("neighbour_cco", OPTIONAL, "the neighbouring CCO's address, 12 digits",
         check=_address12),
])


FILE = Section("scenario file", "A scenario (hil/scenarios/*.toml).", [
    Table("scenario", SCENARIO, {}), Table("area", AREA, {}), Table("channel", CHANNEL),
    Table("topology", TOPOLOGY), Table("noise", NOISE), Table("rs485", RS485),
    Table("population", POPULATION), Tables("fault", FAULT), Table("tasks", TASKS),
    Table("prepaid", PREPAID), Table("uplink", UPLINK), Table("area_meter", AREA_METER),
    Table("price", PRICE), Tables("gate", GATE), Table("rig", RIG),
    Table("area_ident", AREA_IDENT),
    Tables("outages", OUTAGES),
], checks=[_rig_medium, _fault_meters, _price_area, _field_medium])


def check(doc):
    """(every problem of a scenario document as text, the document with defaults filled)."""
    problems = []
    filled = FILE.load(doc, problems, "")
    filled.pop("tasks", None)
    if "tasks" in doc:                  # kept as written: edge.plan.Settings reads it
        filled["tasks"] = doc["tasks"]
    return ["%s: %s" % p for p in problems], filled
