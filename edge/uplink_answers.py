"""The uplink's answers from the store (Q/GDW 1376.1 class 1, 2 and 3: AFN0C, 0D, 0E) and the
units that carry readings upstream. A mixin of ``edge.uplink.Uplink``: it uses the handler's
``agent``, ``store``, ``point_of`` and ``meter_at``. Missing data is answered with EE (None).
"""
import logging

from protocols.civil import from_civil, parse_local, to_civil
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1 import formats as F
from protocols.gdw1376_1.formats import time_a15
from protocols.gdw1376_1.dadt import ALL_POINTS
from protocols.gdw1376_1.erc import (Erc3ParameterChange, Erc13MeterFault, Erc14PowerOnOff,
                                     Erc41ClockSet)
from protocols.gdw1376_1.area_ext import LINE_LOSS_FN, MISSED_FN
from protocols.gdw1376_1.errors import EncodeError
from protocols.gdw1376_1.params import a1_of_civil
from edge import audit, pq
from edge.jobs import CLOCK_SET
from edge.minute import TASK as MINUTE_TASK
from protocols.gdw1376_1.units import (AFN_CLASS1, AFN_CLASS2, AFN_CLASS3, AFN_CONFIRM,
                                       DENSITY_MIN, POSITIVE, REVERSE)

from edge import module_facts

TARIFFS = 4
AREA_FNS = (LINE_LOSS_FN, MISSED_FN)     # AFN0D p0 items of edge.uplink_area
log = logging.getLogger(__name__)
PHASE_OF_MASK = {1: 1, 2: 2, 4: 3}    # 10F31 phase bits of a single-phase meter -> A, B, C
POWER_TASK = "terminal_power"     # edge.terminal_params: the terminal's own outage
PARAM_TASK = "terminal_param"     # edge.terminal_params: parameters the master set (ERC3)
# event records uploaded in AFN0E: ERC codes above the standard's range, ours (vendor-defined)
ERC_METER_POWER_DOWN = 64     # data: point (2, LE), start A.15, end A.15
ERC13_POWER_DOWN = 0x08       # ERC13 flags D3: the meter's power-down count changed
ERC_COST_CONTROL = 65         # data: point (2, LE), time A.15, event code, 0
COST_EVENTS = ("balance_alarm", "relay_not_moved", "command_refused", "threshold_mismatch",
               "overdraft", "relay_open_with_credit", "relay_closed_in_overdraft")


class Refused(Exception):
    """A request the terminal answers with a denial."""


def deny_units():
    """AFN00 F2: the whole request is denied."""
    return [Unit(AFN_CONFIRM, 2, 0, None, True)]


def confirm_units():
    """AFN00 F1: the whole request is confirmed."""
    return [Unit(AFN_CONFIRM, 1, 0, None, True)]


def _a15(t):
    return time_a15(to_civil(t))


def _a1(t):
    """A.1 (ss mm hh DD MM YY, the weekday bits left 0) of local seconds ``t``."""
    y, m, d, hh, mm, ss = to_civil(t)[:6]
    return (ss, mm, hh, d, m, y % 100)


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


def _a15_bytes(v):
    return F.encode("A15", v)


def _events(records):
    return {"ec1": 0, "ec2": 0, "pm": 0, "events": [{"erc": e, "data": d} for e, d in records]}


class StoreAnswers:
    """Class 1/2/3 answers and upload units of one ``Uplink``."""

    def upload_unit(self, r):
        """The 1376.1 unit that carries reading ``r`` upstream, or None (no point for it)."""
        if r.task == POWER_TASK:            # the terminal's own power off / on: ERC14
            v = r.value if isinstance(r.value, dict) else {}
            rec = Erc14PowerOnOff(off_at=_a15(v["off"]), on_at=_a15(v["on"]))
            return Unit(AFN_CLASS3, 1, 0, _events([(14, rec.encode())]), True)
        if r.task == PARAM_TASK:            # parameters the master set: ERC3
            v = r.value if isinstance(r.value, dict) else {}
            rec = Erc3ParameterChange(at=_a15(v["at"]), msa=v["msa"], units=[
                ([pn], [fn]) for pn, fn in v["items"]])
            return Unit(AFN_CLASS3, 1, 0, _events([(3, rec.encode())]), True)
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
        if r.task == MINUTE_TASK:           # a minute slot: F101 at its own density
            density = {m: code for code, m in DENSITY_MIN.items()}.get((v.get("step_s") or 0) // 60)
            if density is None:
                return None
            return Unit(AFN_CLASS2, 101, pn, {"start": _a15_text(r.period), "density": density,
                                              "values": list(v.get("values") or [])[:255]}, True)
        if r.task == "event":
            start = _a15_text(v.get("start"))
            data = (bytes([pn & 0xFF, pn >> 8]) + _a15_bytes(start)
                    + _a15_bytes(_a15_text(v.get("end"))))
            # the standard's ERC13 (meter fault, D3: power-down count changed) for any master,
            # then ours with the outage's start and end, which ERC13 has no room for
            fault = Erc13MeterFault(at=start, pn=pn, flags=ERC13_POWER_DOWN).encode() \
                if start is not None else None
            records = ([(13, fault)] if fault else []) + [(ERC_METER_POWER_DOWN, data)]
            return Unit(AFN_CLASS3, 1, 0, _events(records), True)
        if r.task == audit.TASK:
            try:
                rec = audit.record(v, pn)
                data = rec.encode()
            except (EncodeError, KeyError, TypeError, ValueError) as exc:
                log.warning("event %s of %s not uploadable: %s", r.period, r.addr, exc)
                return None
            return Unit(AFN_CLASS3, 1, 0, _events([(rec.erc, data)]), True)
        if r.task == CLOCK_SET:
            at = v.get("at") or r.read_at
            before = at + (v.get("before_s") or 0.0)
            rec = Erc41ClockSet(pn=pn, before=_a1(before), after=_a1(at))
            return Unit(AFN_CLASS3, 1, 0, _events([(41, rec.encode())]), True)
        if r.task == "prepaid_event":
            name = v.get("event")
            code = COST_EVENTS.index(name) + 1 if name in COST_EVENTS else 0
            data = bytes([pn & 0xFF, pn >> 8]) + _a15_bytes(_a15(r.read_at)) + bytes([code, 0])
            return Unit(AFN_CLASS3, 1, 0, _events([(ERC_COST_CONTROL, data)]), True)
        return None

    def _meter(self, pn):
        m = self.meter_at(pn) if isinstance(pn, int) else None
        if m is None:
            raise Refused("no meter at point %r" % (pn,))
        return m

    def _each_point(self, units):
        """``units`` with DA "all measurement points" (FF 00) expanded into one unit per point of
        the archive, in point order, as a terminal answers it."""
        out = []
        for u in units:
            if u.pn == ALL_POINTS:
                out.extend(Unit(u.afn, u.fn, pn, u.value, u.up) for pn in sorted(self.points()))
            else:
                out.append(u)
        return out

    def _class1(self, frame, units):
        out = []
        for u in self._each_point(units):
            m = self._meter(u.pn)
            if u.fn in (129, 33):
                # no real-time reading kept: the last daily freeze stands in (its own read time)
                r = self._newest(m.addr, ("prepaid", "realtime")) or self._newest(
                    m.addr, ("daily_freeze",))
                at = (r.value.get("at") or r.read_at) if r else self.agent.wall
                v = _energy(r.value.get("kwh") if r else None, at)
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
            elif u.fn == 170:
                v = self._read_info(m)
            elif u.fn == 201:                   # gridedge's extension: the campaign state
                v = self.campaign_state(m)
            else:
                raise Refused("class 1 F%d not served" % u.fn)
            out.append(Unit(AFN_CLASS1, u.fn, u.pn, v, True))
        return out

    def _read_info(self, m):
        """AFN0C F170 of meter ``m``: its port, relay level, phase and signal quality as its
        carrier module last gave them (the R bytes of its last reply, else its 10F2 entry),
        and how its last reads went. The last failure's time is not kept: EE."""
        node = module_facts.nodes(self.store, m.port).get(m.addr, {})
        bus = self.agent.buses.get(m.port)
        phase, quality = getattr(bus.link if bus else None, "signals", {}).get(m.addr,
                                                                               (0, None))
        if not phase:
            phase = PHASE_OF_MASK.get(node.get("phases"), 0)
        if quality is None:
            q = node.get("quality")
            quality = 0 if q is None else (q & 0x0F) * 0x11      # one figure: both ways
        h = self.agent.health_of(m.addr)
        level = node.get("level")
        ok_at = None if h.last_success is None else self.agent.wall - (self.agent.now
                                                                       - h.last_success)
        return {"port": self._port_number(m.port),
                "relay_level": h.depth if level is None else level, "phase": phase,
                "quality": quality, "last_ok": 0 if h.failures else 1,
                "last_ok_at": None if ok_at is None else a1_of_civil(to_civil(ok_at))[0],
                "last_fail_at": None, "failures": min(h.failures, 255)}

    def _newest(self, addr, tasks):
        rs = [r for r in (self.store.latest(addr, t) for t in tasks)
              if r is not None and r.quality == "ok" and isinstance(r.value, dict)]
        return max(rs, key=lambda r: r.read_at) if rs else None

    def _class2(self, frame, units):
        out, pulled = [], []
        for u in self._each_point(units):
            if u.fn in AREA_FNS:                # gridedge's extension: the area's day (p0)
                out.append(self.area_answer(u))
                continue
            m = self._meter(u.pn)
            v = u.value or {}
            if u.fn in (1, 2, 161, 17, 18, 177):
                daily = u.fn in (1, 2, 161)
                td = v.get("td")
                if td is None:
                    raise Refused("F%d needs a date" % u.fn)
                if daily:
                    period, task = "20%02d-%02d-%02d" % (td[2], td[1], td[0]), "daily_freeze"
                else:
                    period, task = "20%02d-%02d" % (td[1], td[0]), "settlement"
                r = self.store.good(m.addr, task, period)
                if r is not None and u.fn not in (2, 18):     # F2/F18 carry none of its values
                    pulled.append((m.addr, task, period))
                got = r.value if r is not None else {}
                e = _energy(got.get("kwh"), got.get("at") or (r.read_at if r else None))
                if u.fn in (2, 18):
                    e = _unread_groups({"time": e["time"], "m": TARIFFS}, REVERSE)
                elif u.fn in (1, 17):
                    e = _unread_groups(e, POSITIVE)
                out.append(Unit(AFN_CLASS2, u.fn, u.pn, dict(e, td=td), True))
            elif u.fn == 27:
                td = v.get("td")
                if td is None:
                    raise Refused("F27 needs a date")
                r = self.store.good(m.addr, pq.TASK, "20%02d-%02d-%02d" % (td[2], td[1], td[0]))
                out.append(Unit(AFN_CLASS2, 27, u.pn, dict(pq.f27_value(r and r.value), td=td),
                                True))
            elif u.fn == 35:
                td = v.get("td")
                if td is None:
                    raise Refused("F35 needs a month")
                s = pq.month_stats(self.store, m.addr, "20%02d-%02d" % (td[1], td[0]))
                out.append(Unit(AFN_CLASS2, 35, u.pn, dict(pq.f27_value(s), td=td), True))
            elif u.fn == 101:
                out.append(Unit(AFN_CLASS2, 101, u.pn, self._curve(m, v, pulled), True))
            else:
                raise Refused("class 2 F%d not served" % u.fn)
        if pulled:
            n = self.store.pulled(pulled)       # the answer carries them: delivered
            if n:
                self.count("pulled", n)
        return out

    def _curve(self, m, v, pulled):
        """F101 points from the stored load-curve readings (EE where none was read); a reading
        every point of which the answer carries is added to ``pulled`` (addr, task, period)."""
        step = DENSITY_MIN.get(v.get("density"))
        if step is None or v.get("start") is None:
            raise Refused("F101 needs a start and a known density")
        start = _a15_seconds(v["start"])
        n = v.get("points", 0)
        interval = self.agent.settings.curve_interval_min * 60
        have, held = {}, {}
        for task in ("load_curve", MINUTE_TASK):   # a minute meter's points at any density
            for r in self.store.readings(addr=m.addr, task=task):
                if r.quality != "ok" or not isinstance(r.value, dict):     # flagged: EE
                    continue
                every = r.value.get("step_s") or interval
                t0 = _a15_seconds(_a15_text(r.period))
                held[task, r.period] = [t0 + k * every
                                        for k in range(len(r.value.get("values") or []))]
                for k, x in enumerate(r.value.get("values") or []):
                    have[t0 + k * every] = x
        wanted = [start + k * step * 60 for k in range(n)]
        asked = set(wanted)
        pulled.extend((m.addr, task, p) for (task, p), ts in held.items()
                      if ts and all(t in asked for t in ts))
        return {"start": v["start"], "density": v["density"],
                "values": [have.get(t) for t in wanted]}

    def _class3(self, frame, units):
        out, carried = [], []
        held = self._event_records() if any(u.fn == 1 for u in units) else []
        for u in units:
            pm, pn = u.value["pm"], u.value["pn"]
            records = held if u.fn == 1 else []
            total = len(records)
            want = (pn - pm) % 256
            chosen = [(k, rec) for k, rec in enumerate(records) if total - k <= 256
                      and (k - pm) % 256 < want]
            ev = _events([rec[:2] for _, rec in chosen])
            ev.update(ec1=total % 256, pm=pm)
            ev["pn"] = (pm + len(chosen)) % 256
            out.append(Unit(AFN_CLASS3, u.fn, u.pn, ev, True))
            carried += [rec[2] for _, rec in chosen]
        if carried:
            self._pulled_events(held, carried)
        return out

    def _pulled_events(self, records, carried):
        """Readings every record of which an AFN0E answer carried: delivered, never pushed again."""
        whole = {}
        for _, _, key in records:
            whole[key] = whole.get(key, 0) + 1
        got = {}
        for key in carried:
            got[key] = got.get(key, 0) + 1
        keys = [k for k, n in got.items() if n >= whole.get(k, 0)]
        n = self.store.pulled(keys)
        if n:
            self.count("pulled", n)

    def _event_records(self):
        """[(erc, data, (addr, task, period))] of every event held, oldest first."""
        recs = []
        for task in ("event", "prepaid_event", POWER_TASK, PARAM_TASK, audit.TASK, CLOCK_SET):
            for r in self.store.readings(task=task):
                unit = self.upload_unit(r)
                if unit is not None:
                    recs.extend((r.read_at, e, (r.addr, r.task, r.period))
                                for e in unit.value["events"])
        return [(e["erc"], e["data"], key) for _, e, key in sorted(recs, key=lambda x: x[0])]
