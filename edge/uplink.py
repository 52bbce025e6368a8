"""The agent's side of the Q/GDW 1376.1 uplink: what the terminal session answers and uploads.

``Uplink`` is the session's handler. It uploads the backlog from the store (daily freezes as
AFN0D F161, settlement energy as F177, load curves as F101, meter and cost-control events, the
audit's ERC12/27/28/29/30 and targeted clock sets (ERC41) as AFN0E F1 records; a flagged value is
held back, its ERC stands for it) and marks readings sent only when the master confirms them. It answers class
1/2/3 requests from the store, edits the archive (AFN04 F10, query AFN0A F10), carries controls
(AFN05 F1/F2/F25/F33, AFN10 F10) into the prepaid engine, forwards meter reads (AFN10 F1/F9),
and keeps the terminal's parameters, clock and version (``edge.uplink_terminal``); the area's
day of line loss and missed list (AFN0D F221/F222, gridedge's extension) in ``edge.uplink_area``. With
``active_upload = false`` nothing is uploaded: a pull-only terminal the master asks.
Requests that change something are checked first (``edge.uplink_guard``): the password field
(PW), a time label that must be there and fresh, a replay window of the labels acted on, and
the forwarding policy; a refusal is answered with a denial (AFN00 F2) and logged, and changes
nothing. An upload the master denies goes back to the backlog; after ``max_denies`` denials it
is rejected (kept, counted, ``Store.rejected``), never silently dropped.

Measuring points (测量点号): a meter record's ``point``, else numbered in archive order from 1.
Ports (AFN04 F10 D4..D0): the archive's ports in order, from 1.
"""
import logging

from protocols.errors import ProtocolError
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.units import (AFN_CLASS1, AFN_CLASS2, AFN_CLASS3, AFN_CONTROL,
                                       AFN_FORWARD, AFN_QUERY, AFN_SET, BAUD_CODES, DENSITY_MIN,
                                       PROTOCOL_645_1997, PROTOCOL_645_2007, encode_units,
                                       parse_units)
from protocols.gdw1376_1.catalog import PROTOCOL_698_45

from edge.archive import ArchiveError, vars_of
from edge.backlog import BacklogWatch
from edge.prepaid.carrier import Carrier
from edge.prepaid.topup_forward import ForwardedTopUps
from edge.uplink_answers import TARIFFS, Refused, StoreAnswers, confirm_units, deny_units
from edge.uplink_area import AreaAnswers
from edge.uplink_campaigns import CAMPAIGN_FN, CampaignService
from edge.uplink_forward import Forwarding
from edge.uplink_guard import TP_REQUIRED_AFNS, ReplayWindow, label_problem
from edge.uplink_settings import UplinkSettings  # noqa: F401  (its home; callers import it here)
from edge.uplink_terminal import TerminalService, frame_label
from edge.store import Reading
from edge.terminal_params import PARAM_TASK, TerminalParams
from edge.report_tasks import GOVERNED, due, due_clauses, started
from protocols.gdw1376_1.params import AFN_VERSION
from hostlink.session import CONFIRMED, DENIED, TerminalSession

CARRIER_PORT = 31              # AFN04 F10 port number of the carrier module (载波端口)
UPLOAD_TASKS = ("daily_freeze", "settlement", "load_curve", "event", "prepaid_event",
                "terminal_power", "audit_event", "clock_set", PARAM_TASK,
                "minute_curve")
POINT_TASKS = tuple(t for t in UPLOAD_TASKS if t not in ("terminal_power", PARAM_TASK))
CONTROL_ACTIONS = {1: "trip", 2: "allow_close", 25: "keep_power", 33: "keep_power_release"}
FORWARD_TIMEOUT_S = 120.0
AFN04_PROTOCOL = {"645-1997": PROTOCOL_645_1997, "645-2007": PROTOCOL_645_2007,
                  "698.45": PROTOCOL_698_45}     # archive protocol -> AFN04 F10 protocol code
COMMAND_MIN_S = 600.0          # a master's control stays sendable at least this long
DENIALS_KEPT = 10_000          # journaled denials kept (a stranger can cause them without PW)
log = logging.getLogger(__name__)


def points_of(archive):
    """{point: addr} of ``archive`` (a record's ``point``, else numbered in archive order)."""
    by_point = {}
    for m in archive.meters.values():
        p = m.extra.get("point")
        if p:
            by_point[p] = m.addr
    nxt = 1
    for m in archive.meters.values():
        if not m.extra.get("point"):
            while nxt in by_point:
                nxt += 1
            by_point[nxt] = m.addr
    return by_point


class Uplink(StoreAnswers, Forwarding, TerminalService, CampaignService, AreaAnswers):
    """The agent's answers and backlog for one ``TerminalSession`` (``self.session``)."""

    def __init__(self, agent, settings, rng):
        self.agent = agent
        self.settings = settings
        self.store = agent.store
        self.store.upload_tasks = set(UPLOAD_TASKS)
        self.session = TerminalSession(settings.region, settings.terminal, self, rng,
                                       settings.session)
        self.in_flight = {}          # token -> reading ids
        self.started = agent.now     # the age of the last confirm counts from here until one
        self.backlog = BacklogWatch(self.store.unsent_count)
        self._tokens = 0
        self._points = None
        self._points_of = None
        self.denials = []            # (wall, reason) of refused requests, newest last
        self.replays = ReplayWindow(agent.store.db, settings.replay_window, settings.tp_skew_s)
        self.params = getattr(agent, "terminal_params", None) or TerminalParams(agent.store.db)
        self._tasks_of, self._tasks = None, []
        # (points, store commits, highest id) the backlog was last swept of unmapped meters at
        self._swept = (None, None, 0)
        self.apply_params()          # the heartbeat and master the master set before a restart
        # forwarded relay controls go through a journal: the cost control's, or one of our own
        self.carrier = agent.prepaid
        if self.carrier is None:
            self.carrier = Carrier(agent)
            self.carrier.resume_commands()
        self.topups = ForwardedTopUps(agent)      # the master's sealed top-ups (AFN10 F1)
        self.topups.resume()
        agent.uplink = self

    def count(self, name, n=1):
        self.agent.count("uplink_%s" % name, n)

    # --- measuring points ---------------------------------------------------------------------
    def points(self):
        if self._points_of is not self.agent.archive:
            self._points_of = self.agent.archive
            self._points = points_of(self.agent.archive)
            self._addr_point = {a: p for p, a in self._points.items()}
        return self._points

    def point_of(self, addr):
        self.points()
        return self._addr_point.get(addr)

    def meter_at(self, pn):
        addr = self.points().get(pn)
        return None if addr is None else self.agent.archive.meters[addr]

    # --- uploads ------------------------------------------------------------------------------
    def _in_flight_ids(self):
        return {i for ids in self.in_flight.values() for i in ids}

    def has_upload(self):
        if not self.settings.active_upload:
            return False
        busy = self._in_flight_ids()
        return any(i not in busy for i in self.store.unsent_ids(len(busy) + 1,
                                                                self._due_clauses()))

    def _due_clauses(self):
        """The store's clauses for readings the started report tasks let go now (None: no
        task, every reading goes). Readings of meters with no point are dropped first."""
        tasks = self.report_tasks()
        if not tasks:
            return None
        points = self.points()
        if self._swept[0] is not points or self._swept[1] != self.store.commits:
            after = self._swept[2] if self._swept[0] is points else 0     # new rows only
            n, top = self.store.drop_unmapped(POINT_TASKS, points.values(), after)
            self._swept = (points, self.store.commits, top)
            if n:
                self.count("unmapped", n)
        curves = {m: c for c, m in DENSITY_MIN.items()}.get(
            self.agent.settings.curve_interval_min) is not None
        ungoverned = [t for t in UPLOAD_TASKS if t not in GOVERNED.values()
                      or (t == "load_curve" and not curves)]
        return due_clauses(tasks, self.agent.wall, points, ungoverned)

    def report_tasks(self):
        """The class 2 report tasks started (``edge.report_tasks``), cached per change."""
        if self._tasks_of != self.params.generation:
            self._tasks_of = self.params.generation
            self._tasks = started(self.params)
        return self._tasks

    def next_upload(self, max_bytes):
        if not self.settings.active_upload:
            return None
        busy = self._in_flight_ids()
        afn, units, ids, size, dropped = None, [], [], 0, []
        tasks = self.report_tasks()
        for rid, r in self.store.unsent(len(busy) + 64, self._due_clauses()):
            if rid in busy:
                continue
            unit = self.upload_unit(r)
            if unit is None:
                dropped.append(rid)
                continue
            if not due(tasks, unit, self.agent.wall):
                continue                      # waits for its task's next report instant
            n = len(encode_units([unit]))
            if units and (unit.afn != afn or size + n > max_bytes):
                break
            afn = unit.afn
            units.append(unit)
            ids.append(rid)
            size += n
        if dropped:
            self.store.settle(dropped, 2)
            self.count("unmapped", len(dropped))
        if not units:
            return None
        self._tokens += 1
        self.in_flight[self._tokens] = ids
        return self._tokens, afn, units

    def upload_done(self, token, outcome):
        ids = self.in_flight.pop(token, [])
        if outcome == CONFIRMED:
            self.store.settle(ids, 1)
            self.count("confirmed", len(ids))
        elif outcome == DENIED:
            # back to the backlog; rejected (kept, counted) once denied max_denies times
            rejected = self.store.deny(ids, self.settings.max_denies)
            self.count("denied", len(ids))
            if rejected:
                self.count("rejected", len(rejected))
                self.agent.store.log_event("uplink_rejected", "%d readings denied %d times by the"
                                           " master: %s" % (len(rejected),
                                                            self.settings.max_denies,
                                                            rejected[:20]), self.agent.wall)

    # --- answers ------------------------------------------------------------------------------
    def answer(self, frame, now):
        wall = self.agent.wall
        try:
            units = parse_units(frame.afn, frame.data, up=False)
        except ProtocolError as exc:
            return self._refuse(frame, "malformed: %s" % exc)
        problem = label_problem(frame, wall, self.settings.tp_skew_s)
        if problem is not None:
            return self._refuse(frame, problem)
        if frame.has_pw and self.settings.password is None:
            return self._refuse(frame, "no [uplink] password is set: nothing that needs one acts")
        if frame.has_pw and frame.pw != self.settings.password:
            return self._refuse(frame, "wrong password")
        if any(u.fn == 0 or "raw" in (u.value or {}) for u in units):
            return self._refuse(frame, "unsupported item")
        if frame.afn in TP_REQUIRED_AFNS:
            problem = self.replays.admit(frame, wall)
            if problem is not None:
                return self._refuse(frame, problem)
        handler = {AFN_CLASS1: self._class1, AFN_CLASS2: self._class2, AFN_CLASS3: self._class3,
                   AFN_SET: self._set, AFN_QUERY: self._query, AFN_CONTROL: self._control,
                   AFN_FORWARD: self._forward, AFN_VERSION: self._version}.get(frame.afn)
        if handler is None:
            return self._refuse(frame, "AFN %02X not served" % frame.afn)
        try:
            return handler(frame, units)
        except Refused as exc:
            return self._refuse(frame, str(exc))
        except ValueError as exc:            # a date or time field naming no real instant
            return self._refuse(frame, "bad value: %s" % exc)
        except Exception as exc:             # our bug or the store's error: deny, keep serving
            log.exception("uplink: AFN%02X failed; denied", frame.afn,
                          extra={"event": "uplink_answer_error", "afn": frame.afn})
            return self._refuse(frame, "internal error: %s" % type(exc).__name__)

    def _refuse(self, frame, reason):
        """Deny (AFN00 F2) and log; nothing has been changed."""
        self.count("denied_request")
        self.denials.append((self.agent.wall, "AFN%02X: %s" % (frame.afn, reason)))
        del self.denials[:-100]
        self.agent.store.log_event("uplink_denied", "AFN%02X seq %d: %s" % (
            frame.afn, frame.seq, reason), self.agent.wall, keep=DENIALS_KEPT)
        return deny_units()

    # --- archive ------------------------------------------------------------------------------
    def _set(self, frame, units):
        params = self.params_of([u for u in units if u.fn not in (10, CAMPAIGN_FN)])
        campaigns = self.campaigns_of(units)
        add, remove = [], []
        for u in units:
            if u.fn != 10:
                continue
            for e in u.value["items"]:
                if e["point"] == 0:                       # point 0 deletes the entry
                    remove.append(e["addr"])
                    continue
                port = self._port_named(e["port_baud"] & 0x1F)
                if port is None:
                    raise Refused("entry %d: no port %d" % (e["index"], e["port_baud"] & 0x1F))
                proto = {PROTOCOL_645_1997: "645-1997", PROTOCOL_645_2007: "645-2007",
                         PROTOCOL_698_45: "698.45"}.get(e["protocol"])
                if proto is None:
                    raise Refused("entry %d: protocol %d not served" % (e["index"], e["protocol"]))
                rec = {"addr": e["addr"], "port": port, "protocol": proto,
                       "point": e["point"]}
                old = self.agent.archive.meters.get(e["addr"])
                if old is not None:
                    rec = dict(vars_of_meter(old), **rec)
                if e["port_baud"] >> 5:
                    rec["baud"] = BAUD_CODES[e["port_baud"] >> 5]
                add.append(rec)
        taken = {p: a for p, a in self.points().items() if a not in remove}
        for rec in add:
            holder = taken.get(rec["point"])
            if holder is not None and holder != rec["addr"]:
                raise Refused("point %d belongs to %s" % (rec["point"], holder))
            taken[rec["point"]] = rec["addr"]
        if add or remove:
            try:
                self.agent.change_archive(add, remove)
            except ArchiveError as exc:
                raise Refused(str(exc).replace("\n", " ")) from None
        changed = self.set_params(frame, params) if params else []
        if campaigns:
            self.post_campaigns(frame, campaigns)
        if add or remove or changed or campaigns:
            self._parameter_change(frame, units)
        return confirm_units()

    def _parameter_change(self, frame, units):
        """ERC3 (parameter change) for the master: when, which master, every DA/DT it set."""
        wall = self.agent.wall
        self.store.put_readings([Reading("terminal", PARAM_TASK, 0, frame_label(frame), {
            "at": wall, "msa": frame.msa, "items": sorted({(u.pn, u.fn) for u in units})},
            read_at=wall)])

    def _query(self, frame, units):
        out = []
        for u in units:
            if u.fn != 10:
                out.append(self.query_param(u))
                continue
            wanted = [i["index"] for i in u.value["items"]]
            entries = []
            for pn in wanted:
                m = self.meter_at(pn)
                if m is not None:
                    entries.append(self._entry(pn, m))
            out.append(Unit(AFN_QUERY, 10, u.pn, {"items": entries}, True))
        return out

    def _port_named(self, number):
        """The archive port a 1376.1 port number names: 1..n in configuration order, and 31
        the first carrier port (the number concentrators give their carrier module)."""
        ports = list(self.agent.archive.ports.values())
        if number == CARRIER_PORT:
            carrier = [p.name for p in ports if p.carrier]
            return carrier[0] if carrier else None
        return ports[number - 1].name if 1 <= number <= len(ports) else None

    def _port_number(self, name):
        ports = list(self.agent.archive.ports.values())
        carrier = [p.name for p in ports if p.carrier]
        return CARRIER_PORT if carrier and carrier[0] == name else \
            [p.name for p in ports].index(name) + 1

    def _entry(self, pn, m):
        code = BAUD_CODES.index(m.baud) if m.baud in BAUD_CODES else 0
        return {"index": pn, "point": pn, "port_baud": (code << 5) | self._port_number(m.port),
                "protocol": AFN04_PROTOCOL.get(m.protocol, PROTOCOL_645_2007),
                "addr": m.addr, **{"pw%d" % k: 0 for k in range(6)}, "tariffs": TARIFFS,
                "digits": 0x09, "collector": None, "user_class": 0}

    # --- control ------------------------------------------------------------------------------
    def _control(self, frame, units):
        jobs = []
        clock = [u for u in units if u.fn == 31]
        if clock and len(units) > 1:
            raise Refused("AFN05 F31 (clock set) comes alone")
        if clock:
            self.set_clock(frame, clock[0])
            return confirm_units()
        for u in units:
            action = CONTROL_ACTIONS.get(u.fn)
            if action is None:
                raise Refused("AFN05 F%d not served" % u.fn)
            jobs.append((self._meter(u.pn), action, u))
        for m, action, u in jobs:
            self._command(frame, m, action, "F%d" % u.fn)
        return confirm_units()

    def _command(self, frame, m, action, what):
        pre = self.agent.prepaid
        if pre is None or m.prepaid != "remote":
            raise Refused("%s: meter %s is not under remote cost control" % (what, m.addr))
        tp = frame.tp                     # never None here: a control without one is refused
        label = "%d-%s" % (tp.pfc, "".join("%02d" % x for x in tp.time))
        sent = tp.nearest(self.agent.wall)
        expires = (sent or self.agent.wall) + max(tp.delay_min * 60, COMMAND_MIN_S)
        try:
            pre.command(m.addr, action, "master-%s-%s-%s" % (what, m.addr, label), expires,
                        "master")
        except ValueError as exc:
            raise Refused(str(exc)) from None

def vars_of_meter(m):
    return dict(vars_of(m), **m.extra)
