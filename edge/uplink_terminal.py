"""The uplink's terminal services (Q/GDW 1376.1): AFN04 parameter sets and AFN0A queries of F1,
F3, F33, F59, F65-F68, AFN05 F31 clock set and AFN09 F1 version. A mixin of ``edge.uplink.Uplink``
(it uses ``agent``, ``params``, ``_port_named``); state lives in ``edge.terminal_params``.
F1 retunes the running session; F59's thresholds replace ``[tasks.limits]``' audit ones; F3's
main and backup master are where the next dial goes (kept in the store, so a restart dials them
too).
"""
import logging

from protocols.civil import from_civil, iso
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.catalog import AFN_QUERY
from protocols.gdw1376_1.params import AFN_VERSION, civil_of_a1

from edge import audit
from edge.terminal_params import ParamError, SERVED, check
from edge.uplink_answers import Refused

VENDOR = "GRDE"            # AFN09 F1 vendor code (4 ASCII)
PROTOCOL_VERSION = "1376"
NO_IP = "0.0.0.0"
log = logging.getLogger(__name__)


def frame_label(frame):
    """A frame's time label as the journal names it: PFC-DDhhmmss."""
    tp = frame.tp
    return "%d-%s" % (tp.pfc, "".join("%02d" % x for x in reversed(tp.time)))


def _short_version(text, n=4):
    digits = "".join(c for c in text if c.isdigit() or c == ".")
    return (digits or "0")[:n]


class TerminalService:
    """Parameter sets and queries, clock set and version of one ``Uplink``."""

    def params_of(self, units):
        """Checked (fn, pn, value) of the parameter units of an AFN04 request (F10 aside)."""
        items, defined = [], set(self.params.defined_tasks())
        for u in units:
            try:
                check(u.fn, u.pn, u.value, self._port_named, defined)
            except ParamError as exc:
                raise Refused(str(exc)) from None
            if u.fn in (65, 66):
                defined.add((u.fn, u.pn))
            items.append((u.fn, u.pn, u.value))
        return items

    def set_params(self, frame, items):
        changed = self.params.set(items, self.agent.wall, frame_label(frame))
        self.count("param_set", len(changed))
        self.count("param_unchanged", len(items) - len(changed))
        self.apply_params(changed, frame_label(frame))
        return changed

    def apply_params(self, changed=None, label=None):
        """Act on the uplink parameters held (``changed``: only those (fn, pn) just set, then
        journaled as ``uplink_retuned``): F1's heartbeat, answer timeout and resends to the session,
        F59's meter thresholds to the audit, F3 to the next dial."""
        f1 = self.params.get(1)
        if f1 is not None and (changed is None or (1, 0) in changed):
            # D11..D0 answer timeout (0: not given, ours stays) and D13..D12 resends
            timeout = f1["timeout_s"] or None
            self.session.retune(f1["heartbeat_min"] * 60.0, self.agent.now, timeout,
                                f1["retries"] + 1)
            if changed is not None:
                self.agent.store.log_event("uplink_retuned", "heartbeat %d min, timeout %s, %d "
                                           "resends by %s" % (
                                               f1["heartbeat_min"], "%d s" % timeout if timeout
                                               else "kept", f1["retries"], label), self.agent.wall)
        f59 = self.params.get(59)
        if f59 is not None and (changed is None or (59, 0) in changed):
            self.agent.limits = audit.limits_of_f59(self.agent.settings.limits, f59)
            if changed is not None:
                self.agent.store.log_event("uplink_retuned", "meter thresholds %s by %s" % (
                    ", ".join("%s %s" % kv for kv in sorted(f59.items())), label),
                    self.agent.wall)
        if changed is not None and (3, 0) in changed:
            where = ", ".join("%s:%d" % a for a in self.master_addresses())
            log.info("uplink: the master is at %s from the next dial (AFN04 F3 by %s)", where,
                     label, extra={"event": "uplink_master_set", "master": where})
            self.agent.store.log_event("uplink_retuned", "master %s by %s" % (where, label),
                                       self.agent.wall)

    def master_addresses(self):
        """[(host, port)] to dial in turn: AFN04 F3's main and backup master once set, else
        ``[uplink] master``."""
        f3 = self.params.get(3)
        if f3 is None:
            host, _, port = self.settings.master.rpartition(":")
            return [(host, int(port))]
        out = [(f3["ip"], f3["port"])]
        if f3["backup_ip"] != NO_IP and f3["backup_port"] and \
                (f3["backup_ip"], f3["backup_port"]) not in out:
            out.append((f3["backup_ip"], f3["backup_port"]))
        return out

    def query_param(self, u):
        if u.fn not in SERVED:
            raise Refused("AFN0A F%d not served" % u.fn)
        pn = u.pn if isinstance(u.pn, int) else 0
        value = self.params.get(u.fn, pn)
        if value is None:
            raise Refused("AFN0A F%d p%d: not set" % (u.fn, pn))
        return Unit(AFN_QUERY, u.fn, pn, value, True)

    def set_clock(self, frame, u):
        """AFN05 F31: the terminal's clock to the time given (the offset kept and journaled)."""
        try:
            target = from_civil(*civil_of_a1(u.value["time"]))
        except ValueError as exc:
            raise Refused("F31: %s" % exc) from None
        # the time set is the master's clock when it sent the frame: it must agree with the
        # frame's own label, read against our clock (a clock set replayed on the same day and
        # hour of a later month passes the label check but would wind the clock back a month)
        sent = frame.tp.nearest(self.agent.wall) if frame.tp is not None else None
        allowed = self.settings.tp_skew_s + (frame.tp.delay_min * 60.0 if frame.tp else 0.0)
        if sent is None or abs(target - sent) > allowed:
            raise Refused("F31: the time set (%s) is not the frame's own time label" % (
                iso(target)[:19],))
        base = self.agent.wall - self.params.offset_s          # the runtime's own clock now
        try:
            self.params.set_clock(target - base, self.agent.wall, frame_label(frame))
        except ParamError as exc:
            raise Refused(str(exc)) from None
        self.count("clock_set")
        self.agent.set_clock(self.agent.now, target)

    def _version(self, frame, units):
        out = []
        for u in units:
            if u.fn != 1:
                raise Refused("AFN09 F%d not served" % u.fn)
            out.append(Unit(AFN_VERSION, 1, 0, self.version_info(), True))
        return out

    def version_info(self):
        """AFN09 F1 of this agent: vendor, terminal address, software version and date."""
        s = self.settings
        from edge.runtime.main import version           # the installed package's version
        soft = version()
        return {"vendor": VENDOR, "device": "%s%04d" % (s.region, s.terminal % 10000),
                "software": _short_version(soft), "software_date": None,
                "capacity": "P%04d" % len(self.points()), "protocol": PROTOCOL_VERSION,
                "hardware": "SIM1" if self.agent.archive.ports else "NONE",
                "hardware_date": None}
