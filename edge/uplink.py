"""The agent's side of the Q/GDW 1376.1 uplink: what the terminal session answers and uploads.

``Uplink`` is the session's handler. It uploads the backlog from the store (daily freezes as
AFN0D F161, settlement energy as F177, load curves as F101, meter and cost-control events as
AFN0E F1 records) and marks readings sent only when the master confirms them. It answers class
1/2/3 requests from the store, edits the archive (AFN04 F10, query AFN0A F10), carries controls
(AFN05 F1/F2/F25/F33, AFN10 F10) into the prepaid engine, and forwards meter reads (AFN10 F1/F9).
Requests that change something are checked first: the password field (PW) and the time label's
allowed delay; a refusal is answered with a denial (AFN00 F2) and logged, and changes nothing.

Measuring points (测量点号): a meter record's ``point``, else numbered in archive order from 1.
Ports (AFN04 F10 D4..D0): the archive's ports in order, from 1.
"""
from protocols.civil import from_civil, parse_local, to_civil
from protocols.dlt645 import apdu
from protocols.dlt645.frame import decode_frame as decode_645, encode_frame as encode_645
from protocols.errors import ProtocolError
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1 import formats as F
from protocols.gdw1376_1.formats import time_a15
from protocols.gdw1376_1.units import (AFN_CLASS1, AFN_CLASS2, AFN_CLASS3, AFN_CONFIRM,
                                       AFN_CONTROL, AFN_FORWARD, AFN_QUERY, AFN_SET, BAUD_CODES,
                                       DENSITY_MIN, POSITIVE, PROTOCOL_645_1997,
                                       PROTOCOL_645_2007, REVERSE,
                                       encode_units, parse_units)

from edge.archive import ArchiveError, vars_of
from edge.effects import Transact
from edge.scheduler import ON_DEMAND
from hostlink.session import CONFIRMED, DENIED, SessionSettings, TerminalSession

CARRIER_PORT = 31              # AFN04 F10 port number of the carrier module (载波端口)
UPLOAD_TASKS = ("daily_freeze", "settlement", "load_curve", "event", "prepaid_event")
TARIFFS = 4
# event records uploaded in AFN0E: ERC codes above the standard's range, ours (vendor-defined)
ERC_METER_POWER_DOWN = 64     # data: point (2, LE), start A.15, end A.15
ERC_COST_CONTROL = 65         # data: point (2, LE), time A.15, event code, 0
COST_EVENTS = ("balance_alarm", "relay_not_moved", "command_refused", "threshold_mismatch",
               "overdraft", "relay_open_with_credit", "relay_closed_in_overdraft")
CONTROL_ACTIONS = {1: "trip", 2: "allow_close", 25: "keep_power", 33: "keep_power_release"}
FORWARD_TIMEOUT_S = 120.0
UPLINK_KEYS = {"master", "region", "terminal", "tls", "cafile", "certfile", "keyfile",
               "password", "check_tp", "seed"}


class UplinkSettings:
    """``[uplink]`` of agent.toml: where the master is, who we are, and the session timing."""

    def __init__(self, master, region="0000", terminal=1, tls=False, cafile=None,
                 certfile=None, keyfile=None, password="00" * 16, check_tp=True, seed=0,
                 session=None):
        self.master = master
        self.region = region
        self.terminal = terminal
        self.tls = tls
        self.cafile = cafile
        self.certfile = certfile
        self.keyfile = keyfile
        self.password = bytes.fromhex(password)
        self.check_tp = check_tp
        self.seed = seed
        self.session = session or SessionSettings()
        if len(self.password) != 16:
            raise ValueError("password is 16 bytes (32 hex digits)")
        if len(region) != 4 or not region.isdigit() or not 0 <= terminal <= 0xFFFF:
            raise ValueError("region is 4 digits and terminal 0..65535")

    @classmethod
    def from_dict(cls, doc):
        doc = dict(doc)
        unknown = set(doc) - UPLINK_KEYS - set(SessionSettings.FIELDS)
        if unknown:
            raise ValueError("unknown [uplink] settings: %s" % ", ".join(sorted(unknown)))
        if "master" not in doc:
            raise ValueError("[uplink] master = \"HOST:PORT\" is required")
        timing = {k: doc.pop(k) for k in SessionSettings.FIELDS if k in doc}
        return cls(session=SessionSettings(**timing), **doc)


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


def _deny():
    return [Unit(AFN_CONFIRM, 2, 0, None, True)]


def _confirm_all():
    return [Unit(AFN_CONFIRM, 1, 0, None, True)]


def _a15(t):
    return time_a15(to_civil(t))


def _a15_text(text):
    """A.15 of a ``YYYY-MM-DD hh:mm[:ss]`` stamp (None when there is none)."""
    return None if not text else _a15(parse_local(text))


def _a15_seconds(v):
    mm, hh, dd, mo, yy = v
    return from_civil(2000 + yy, mo, dd, hh, mm)


def _energy(kwh, at):
    """An Energy layout value: reading time and total + tariffs (no data: EE)."""
    if not kwh:
        return {"time": None if at is None else _a15(at), "m": TARIFFS,
                "forward_active": [None] * (TARIFFS + 1)}
    kwh = list(kwh)[:15]
    return {"time": None if at is None else _a15(at), "m": len(kwh) - 1, "forward_active": kwh}


def _unread_groups(value, layout):
    """``value`` with every value group of ``layout`` it lacks answered as EE (no data): the
    agent reads forward active energy only, not the reactive and reverse registers."""
    n = value["m"] + 1
    for name, _ in layout.groups:
        value.setdefault(name, [None] * n)
    return value


class Uplink:
    """The agent's answers and backlog for one ``TerminalSession`` (``self.session``)."""

    def __init__(self, agent, settings, rng):
        self.agent = agent
        self.settings = settings
        self.store = agent.store
        self.store.upload_tasks = set(UPLOAD_TASKS)
        self.session = TerminalSession(settings.region, settings.terminal, self, rng,
                                       settings.session)
        self.in_flight = {}          # token -> reading ids
        self._tokens = 0
        self._points = None
        self._points_of = None
        self.denials = []            # (wall, reason) of refused requests, newest last
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
        busy = self._in_flight_ids()
        return any(i not in busy for i in self.store.unsent_ids(len(busy) + 1))

    def next_upload(self, max_bytes):
        busy = self._in_flight_ids()
        afn, units, ids, size, dropped = None, [], [], 0, []
        for rid, r in self.store.unsent(len(busy) + 64):
            if rid in busy:
                continue
            unit = self.upload_unit(r)
            if unit is None:
                dropped.append(rid)
                continue
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
            self.store.settle(ids, 2)         # the master refuses them: re-sending will not help
            self.count("denied", len(ids))

    def upload_unit(self, r):
        """The 1376.1 unit that carries reading ``r`` upstream, or None (no point for it)."""
        pn = self.point_of(r.addr)
        if pn is None:
            return None
        v = r.value if isinstance(r.value, dict) else {}
        if r.task == "daily_freeze":
            y, m, d = int(r.period[:4]), int(r.period[5:7]), int(r.period[8:10])
            return Unit(AFN_CLASS2, 161, pn, dict(_energy(v.get("kwh"), v.get("at") or r.read_at),
                                                  td=(d, m, y % 100)), True)
        if r.task == "settlement":
            y, m = int(r.period[:4]), int(r.period[5:7])
            return Unit(AFN_CLASS2, 177, pn, dict(_energy(v.get("kwh"), r.read_at),
                                                  td=(m, y % 100)), True)
        if r.task == "load_curve":
            minutes = self.agent.settings.curve_interval_min
            density = {m: code for code, m in DENSITY_MIN.items()}.get(minutes)
            values = list(v.get("values") or [])[:255]
            if density is None:
                return None
            return Unit(AFN_CLASS2, 101, pn, {"start": _a15_text(r.period), "density": density,
                                              "values": values}, True)
        if r.task == "event":
            data = (bytes([pn & 0xFF, pn >> 8]) + _a15_bytes(_a15_text(v.get("start")))
                    + _a15_bytes(_a15_text(v.get("end"))))
            return Unit(AFN_CLASS3, 1, 0, _events([(ERC_METER_POWER_DOWN, data)]), True)
        if r.task == "prepaid_event":
            name = v.get("event")
            code = COST_EVENTS.index(name) + 1 if name in COST_EVENTS else 0
            data = bytes([pn & 0xFF, pn >> 8]) + _a15_bytes(_a15(r.read_at)) + bytes([code, 0])
            return Unit(AFN_CLASS3, 1, 0, _events([(ERC_COST_CONTROL, data)]), True)
        return None

    # --- answers ------------------------------------------------------------------------------
    def answer(self, frame, now):
        wall = self.agent.wall
        try:
            units = parse_units(frame.afn, frame.data, up=False)
        except ProtocolError as exc:
            return self._refuse(frame, "malformed: %s" % exc)
        if self.settings.check_tp and frame.tp is not None and frame.tp.stale(wall):
            return self._refuse(frame, "stale time label %r" % (frame.tp,))
        if frame.has_pw and frame.pw != self.settings.password:
            return self._refuse(frame, "wrong password")
        if any(u.fn == 0 or "raw" in (u.value or {}) for u in units):
            return self._refuse(frame, "unsupported item")
        handler = {AFN_CLASS1: self._class1, AFN_CLASS2: self._class2, AFN_CLASS3: self._class3,
                   AFN_SET: self._set, AFN_QUERY: self._query, AFN_CONTROL: self._control,
                   AFN_FORWARD: self._forward}.get(frame.afn)
        if handler is None:
            return self._refuse(frame, "AFN %02X not served" % frame.afn)
        try:
            return handler(frame, units)
        except _Refused as exc:
            return self._refuse(frame, str(exc))
        except ValueError as exc:            # a date or time field naming no real instant
            return self._refuse(frame, "bad value: %s" % exc)

    def _refuse(self, frame, reason):
        """Deny (AFN00 F2) and log; nothing has been changed."""
        self.count("denied_request")
        self.denials.append((self.agent.wall, "AFN%02X: %s" % (frame.afn, reason)))
        del self.denials[:-100]
        self.agent.store.log_event("uplink_denied", "AFN%02X seq %d: %s" % (
            frame.afn, frame.seq, reason), self.agent.wall)
        return _deny()

    def _meter(self, pn):
        m = self.meter_at(pn) if isinstance(pn, int) else None
        if m is None:
            raise _Refused("no meter at point %r" % (pn,))
        return m

    def _class1(self, frame, units):
        out = []
        for u in units:
            m = self._meter(u.pn)
            if u.fn in (129, 33):
                r = self._newest(m.addr, ("prepaid", "realtime"))
                v = _energy(r.value.get("kwh") if r else None, r.read_at if r else self.agent.wall)
                if u.fn == 33:
                    v = _unread_groups(v, POSITIVE)
            elif u.fn == 34:
                v = _unread_groups({"time": _a15(self.agent.wall), "m": TARIFFS}, REVERSE)
            elif u.fn == 25:
                r = self._newest(m.addr, ("prepaid", "realtime"))
                v = {"time": _a15(r.read_at if r else self.agent.wall)}
                if r is not None:
                    v["ua"], v["ia"] = r.value.get("voltage"), r.value.get("current")
            elif u.fn == 167:
                v = {"time": _a15(self.agent.wall)}
                pre = self.agent.prepaid
                acct = pre.ledger.accounts.get(m.customer) if pre is not None else None
                if acct is not None and m.prepaid == "remote":
                    v["remaining_money"] = max(0.0, acct.balance / 1e6)
            elif u.fn == 168:
                r = self._newest(m.addr, ("settlement",))
                v = dict(_energy(r.value.get("kwh") if r else None,
                                 r.read_at if r else self.agent.wall))
                v["settled"] = v.pop("forward_active")
                v["unsettled"] = [None] * len(v["settled"])
            else:
                raise _Refused("class 1 F%d not served" % u.fn)
            out.append(Unit(AFN_CLASS1, u.fn, u.pn, v, True))
        return out

    def _newest(self, addr, tasks):
        rs = [r for r in (self.store.latest(addr, t) for t in tasks)
              if r is not None and r.quality == "ok" and isinstance(r.value, dict)]
        return max(rs, key=lambda r: r.read_at) if rs else None

    def _class2(self, frame, units):
        out = []
        for u in units:
            m = self._meter(u.pn)
            v = u.value or {}
            if u.fn in (1, 2, 161, 17, 18, 177):
                daily = u.fn in (1, 2, 161)
                td = v.get("td")
                if td is None:
                    raise _Refused("F%d needs a date" % u.fn)
                if daily:
                    period, task = "20%02d-%02d-%02d" % (td[2], td[1], td[0]), "daily_freeze"
                else:
                    period, task = "20%02d-%02d" % (td[1], td[0]), "settlement"
                r = self.store.good(m.addr, task, period)
                got = r.value if r is not None else {}
                e = _energy(got.get("kwh"), got.get("at") or (r.read_at if r else None))
                if u.fn in (2, 18):
                    e = _unread_groups({"time": e["time"], "m": TARIFFS}, REVERSE)
                elif u.fn in (1, 17):
                    e = _unread_groups(e, POSITIVE)
                out.append(Unit(AFN_CLASS2, u.fn, u.pn, dict(e, td=td), True))
            elif u.fn == 101:
                out.append(Unit(AFN_CLASS2, 101, u.pn, self._curve(m, v), True))
            else:
                raise _Refused("class 2 F%d not served" % u.fn)
        return out

    def _curve(self, m, v):
        """F101 points from the stored load-curve readings (EE where none was read)."""
        step = DENSITY_MIN.get(v.get("density"))
        if step is None or v.get("start") is None:
            raise _Refused("F101 needs a start and a known density")
        start = _a15_seconds(v["start"])
        n = v.get("points", 0)
        interval = self.agent.settings.curve_interval_min * 60
        have = {}
        for r in self.store.readings(addr=m.addr, task="load_curve"):
            if r.quality not in ("ok", "invalid") or not isinstance(r.value, dict):
                continue
            t0 = _a15_seconds(_a15_text(r.period))
            for k, x in enumerate(r.value.get("values") or []):
                have[t0 + k * interval] = x
        return {"start": v["start"], "density": v["density"],
                "values": [have.get(start + k * step * 60) for k in range(n)]}

    def _class3(self, frame, units):
        out = []
        for u in units:
            pm, pn = u.value["pm"], u.value["pn"]
            records = self._event_records() if u.fn == 1 else []
            total = len(records)
            want = (pn - pm) % 256
            chosen = [(k, rec) for k, rec in enumerate(records) if total - k <= 256
                      and (k - pm) % 256 < want]
            ev = _events([rec for _, rec in chosen])
            ev.update(ec1=total % 256, pm=pm)
            ev["pn"] = (pm + len(chosen)) % 256
            out.append(Unit(AFN_CLASS3, u.fn, u.pn, ev, True))
        return out

    def _event_records(self):
        recs = []
        for task in ("event", "prepaid_event"):
            for r in self.store.readings(task=task):
                unit = self.upload_unit(r)
                if unit is not None:
                    recs.append((r.read_at, unit.value["events"][0]))
        return [(e["erc"], e["data"]) for _, e in sorted(recs, key=lambda x: x[0])]

    # --- archive ------------------------------------------------------------------------------
    def _set(self, frame, units):
        add, remove = [], []
        for u in units:
            if u.fn != 10:
                raise _Refused("AFN04 F%d not served" % u.fn)
            for e in u.value["items"]:
                if e["point"] == 0:                       # point 0 deletes the entry
                    remove.append(e["addr"])
                    continue
                port = self._port_named(e["port_baud"] & 0x1F)
                if port is None:
                    raise _Refused("entry %d: no port %d" % (e["index"], e["port_baud"] & 0x1F))
                proto = {PROTOCOL_645_1997: "645-1997", PROTOCOL_645_2007: "645-2007"}.get(
                    e["protocol"])
                if proto is None:
                    raise _Refused("entry %d: protocol %d not served" % (e["index"], e["protocol"]))
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
                raise _Refused("point %d belongs to %s" % (rec["point"], holder))
            taken[rec["point"]] = rec["addr"]
        try:
            self.agent.change_archive(add, remove)
        except ArchiveError as exc:
            raise _Refused(str(exc).replace("\n", " ")) from None
        return _confirm_all()

    def _query(self, frame, units):
        out = []
        for u in units:
            if u.fn != 10:
                raise _Refused("AFN0A F%d not served" % u.fn)
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
                "protocol": PROTOCOL_645_1997 if m.protocol == "645-1997" else PROTOCOL_645_2007,
                "addr": m.addr, **{"pw%d" % k: 0 for k in range(6)}, "tariffs": TARIFFS,
                "digits": 0x09, "collector": None, "user_class": 0}

    # --- control ------------------------------------------------------------------------------
    def _control(self, frame, units):
        jobs = []
        for u in units:
            action = CONTROL_ACTIONS.get(u.fn)
            if action is None:
                raise _Refused("AFN05 F%d not served" % u.fn)
            jobs.append((self._meter(u.pn), action, u))
        for m, action, u in jobs:
            self._command(frame, m, action, "F%d" % u.fn)
        return _confirm_all()

    def _command(self, frame, m, action, what):
        pre = self.agent.prepaid
        if pre is None or m.prepaid != "remote":
            raise _Refused("%s: meter %s is not under remote cost control" % (what, m.addr))
        tp = frame.tp
        label = "%d-%s" % (tp.pfc, "".join("%02d" % x for x in tp.time)) if tp else "seq%d" % frame.seq
        expires = None
        if tp is not None and tp.delay_min:
            sent = tp.sent_at(self.agent.wall)
            expires = (sent or self.agent.wall) + max(tp.delay_min * 60, 600)
        try:
            pre.command(m.addr, action, "master-%s-%s-%s" % (what, m.addr, label), expires,
                        "master")
        except ValueError as exc:
            raise _Refused(str(exc)) from None

    # --- forwarding ---------------------------------------------------------------------------
    def _forward(self, frame, units):
        if len(units) != 1:
            raise _Refused("one forwarding unit per frame")
        u = units[0]
        v = u.value
        if u.fn == 10:
            m = self.agent.archive.meters.get(v["meter"])
            if m is None:
                raise _Refused("meter %s is not archived" % v["meter"])
            self._command(frame, m, "trip" if v["flag"] == 0 else "allow_close", "AFN10F10")
            return [Unit(AFN_FORWARD, 10, 0, {"port": v["port"], "meter": m.addr, "result": 1,
                                              "flag": v["flag"]}, True)]
        if u.fn == 9:
            m = self.agent.archive.meters.get(v["meter"])
            if m is None:
                raise _Refused("meter %s is not archived" % v["meter"])
            di = v["di0"] | v["di1"] << 8 | v["di2"] << 16 | v["di3"] << 24
            self._spawn_forward(frame, m, apdu.Read(di), v["port"], 9)
            return []
        if u.fn == 1:
            try:
                f645 = decode_645(v["content"])
                request = apdu.parse_request(f645)
            except ProtocolError as exc:
                raise _Refused("forwarded frame: %s" % exc) from None
            m = self.agent.archive.meters.get(f645.address)
            if m is None:
                raise _Refused("meter %s is not archived" % f645.address)
            self._spawn_forward(frame, m, request, v["port"], 1)
            return []
        raise _Refused("AFN10 F%d not served" % u.fn)

    def _spawn_forward(self, frame, m, request, port, fn):
        connection = self.session.connection
        self.agent.spawn(self._forward_job(frame, m, request, port, fn, connection), m, ON_DEMAND,
                         m.port)

    def _forward_job(self, frame, m, request, port, fn, connection):
        """Generator: one exchange with the meter, then the deferred answer upstream."""
        result = yield Transact([request], early=0.0)
        reply = result.replies[0] if result.replies else None
        if fn == 1:
            content = b"" if reply is None else encode_645(reply.to_frame(m.wire_addr))
            value = {"port": port, "content": content}
        else:
            data = b"" if reply is None else bytes(reply.payload())
            value = {"port": port, "meter": m.addr, "result": 1 if reply is not None else 0,
                     "content": data}
        self.count("forwarded_%s" % ("ok" if reply is not None else "timeout"))
        self.session.respond(frame, [Unit(AFN_FORWARD, fn, 0, value, True)], connection)


class _Refused(Exception):
    """A request the terminal answers with a denial."""


def _a15_bytes(v):
    return F.encode("A15", v)


def _events(records):
    return {"ec1": 0, "ec2": 0, "pm": 0, "events": [{"erc": e, "data": d} for e, d in records]}


def vars_of_meter(m):
    return dict(vars_of(m), **m.extra)
