"""Forwarding through the terminal (Q/GDW 1376.1 AFN10): F1 a DL/T 645 frame under the
forwarding policy (``edge.uplink_guard``), F9 a meter read, F10 a trip or allow-close. A relay
control never reaches a meter as it came: it goes through the journal (``edge.prepaid.carrier``);
a sealed top-up (070102FF) goes through the top-up journal by its purchase count
(``edge.prepaid.topup_forward``). A mixin of ``edge.uplink.Uplink``: it uses the handler's
``agent``, ``session``, ``settings``, ``carrier``, ``topups``, ``count`` and ``_command``.
"""
from protocols.dlt645 import apdu
from protocols.dlt645.frame import decode_frame as decode_645, encode_frame as encode_645
from protocols.errors import ProtocolError
from protocols.gdw1376_1 import Unit
from protocols.gdw1376_1.units import AFN_FORWARD

from edge.effects import Transact
from edge.prepaid.carrier import forward_expiry
from edge.prepaid.journal import DONE
from edge.prepaid.topup import DONE as TOPUP_DONE, VERIFYING
from edge.prepaid.topup_forward import forward_topup_id, recharge_of
from edge.scheduler import ON_DEMAND
from edge.uplink_answers import Refused, confirm_units
from edge.uplink_guard import forward_kind


def _speaks_645(meter, fn):
    """F1 and F9 carry DL/T 645: refused for a 698.45 meter (it would not answer; F10 goes
    through the journal in the meter's own protocol)."""
    if meter.protocol == "698.45":
        raise Refused("AFN10 F%d carries DL/T 645; meter %s speaks DL/T 698.45" % (fn, meter.addr))


class Forwarding:
    """AFN10 F1/F9/F10 of one ``Uplink``."""

    def _forward(self, frame, units):
        if len(units) != 1:
            raise Refused("one forwarding unit per frame")
        u = units[0]
        v = u.value
        if u.fn == 10:
            m = self.agent.archive.meters.get(v["meter"])
            if m is None:
                raise Refused("meter %s is not archived" % v["meter"])
            self._command(frame, m, "trip" if v["flag"] == 0 else "allow_close", "AFN10F10")
            return [Unit(AFN_FORWARD, 10, 0, {"port": v["port"], "meter": m.addr, "result": 1,
                                              "flag": v["flag"]}, True)]
        if u.fn == 9:
            m = self.agent.archive.meters.get(v["meter"])
            if m is None:
                raise Refused("meter %s is not archived" % v["meter"])
            _speaks_645(m, 9)
            di = v["di0"] | v["di1"] << 8 | v["di2"] << 16 | v["di3"] << 24
            self._spawn_forward(frame, m, apdu.Read(di), v["port"], 9)
            return []
        if u.fn == 1:
            try:
                f645 = decode_645(v["content"])
                request = apdu.parse_request(f645)
            except ProtocolError as exc:
                raise Refused("forwarded frame: %s" % exc) from None
            m = self.agent.archive.meters.get(f645.address)
            if m is None:
                raise Refused("meter %s is not archived" % f645.address)
            _speaks_645(m, 1)
            kind = forward_kind(request)
            if kind == "control":
                return self._forward_control(frame, m, request, v)
            if kind != "read" and kind not in self.settings.forward_allow:
                raise Refused("forwarded %s (645 function %02X) refused by the forwarding"
                              " policy ([uplink] forward_allow)" % (request.name, f645.function))
            if recharge_of(request) is not None:
                return self._forward_topup(frame, m, request, v)
            self._spawn_forward(frame, m, request, v["port"], 1)
            return []
        raise Refused("AFN10 F%d not served" % u.fn)

    def _forward_control(self, frame, m, control, v):
        """A forwarded 0x1C goes through the journal (acted on once, read back); the master
        gets the meter's answer to its send. A repeat of a command already answered gets that
        answer again; of one carried out, a confirm; of one that ended otherwise, a denial."""
        content = bytes(v["content"])
        connection = self.session.connection
        at_once, sent = [], {}

        def on_answer(reply):
            if "cmd" not in sent:                # a repeat, answered before forward() returns
                at_once.append(reply)
            else:
                self.session.respond(frame, self._forward_answer(v["port"], reply), connection)
        try:
            cmd, new = self.carrier.forward(m, control, content,
                                            forward_expiry(control, self.agent.wall), on_answer)
        except ValueError as exc:
            raise Refused("forwarded control: %s" % exc) from None
        sent["cmd"] = cmd
        self.count("forwarded_control_%s" % ("new" if new else "repeat"))
        if not at_once:
            return []
        if at_once[0] is not None:
            return self._forward_answer(v["port"], at_once[0])
        if cmd.state == DONE:
            return confirm_units()
        raise Refused("forwarded control: command %s ended %s" % (cmd.id, cmd.state))

    def _forward_topup(self, frame, m, request, v):
        """A forwarded 070102FF goes through the top-up journal (one per purchase count, read
        back); the master gets the meter's answer to the send, or a confirm when the count is
        applied already."""
        connection = self.session.connection
        at_once, sent = [], {}

        def answer(reply):
            if reply is not None:
                return self._forward_answer(v["port"], reply)
            t = self.topups.get(sent["id"])
            if t is not None and t.state in (VERIFYING, TOPUP_DONE):
                return confirm_units()                  # applied already: nothing was sent
            return self._forward_answer(v["port"], b"")     # the meter did not answer

        def on_answer(reply):
            if "t" not in sent:
                at_once.append(reply)
            else:
                self.session.respond(frame, answer(reply), connection)
        try:
            sent["id"] = forward_topup_id(m.addr, recharge_of(request).count)
            t, new = self.topups.forward(m, request, bytes(v["content"]), on_answer)
        except (ValueError, ProtocolError) as exc:
            raise Refused("forwarded top-up: %s" % exc) from None
        sent["t"] = t
        self.count("forwarded_topup_%s" % ("new" if new else "repeat"))
        return answer(at_once[0]) if at_once else []

    @staticmethod
    def _forward_answer(port, reply):
        return [Unit(AFN_FORWARD, 1, 0, {"port": port, "content": reply}, True)]

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
