"""An attacker on the master's side of a concentrator's 1376.1 link: the unmodified agent on the
SimPy clock with firmware meters behind it (``hil.uplink_sim.UplinkArea``), and frames crafted
byte by byte - without a time label, with an edited PFC, a forwarded password change - sent
through the master's end of the link. What changed is read from the meters themselves, the
agent's journal and its store."""
from protocols.dlt645 import apdu
from protocols.dlt645 import const as K
from protocols.dlt645.frame import encode_frame as encode_645
from protocols.gdw1376_1 import Frame, Tp, Unit, encode_frame
from protocols.gdw1376_1.frame import F_USER_DATA
from protocols.gdw1376_1.units import AFN_FORWARD, encode_units
from edge.prepaid.journal import Journal
from meter_sim.faults import firmware
from hil.uplink_sim import UplinkArea

NOW = object()                         # "a fresh label at the send time"


class Attack:
    """An UplinkArea of a few RS-485 meters and the frames an attacker sends into it."""

    def __init__(self, meters=3, seed=5, uplink=None):
        self.ua = UplinkArea(meters=meters, medium="rs485", seed=seed, uplink=uplink)
        self.env = self.ua.env
        self.pw = self.ua.settings.password
        self.answers = []              # (outcome, units) per frame sent, in order
        self._pfc = 100

    def meter(self, k=0):
        """The k-th meter speaking 645-2007 (its firmware)."""
        fws = [firmware(m) for m in self.ua.area.meters if firmware(m).protocol != 1997]
        return fws[k]

    def addr(self, fw):
        return fw.addr[::-1].hex()

    def journal(self):
        return Journal(self.ua.store).all()

    def frame(self, afn, units, now, tp=NOW, pw=True, seq=3, delay_min=5, pfc=None, data=None):
        """A downlink frame to the terminal as a master would frame it at ``now``."""
        if tp is NOW:
            self._pfc += 1
            tp = Tp.at(self._pfc if pfc is None else pfc, now, delay_min)
        return Frame(afn, encode_units(units) if data is None else data, up=False, prm=True,
                     func=F_USER_DATA, region="0171", terminal=2082, msa=1, seq=seq, tp=tp,
                     pw=(self.pw if pw is True else pw) if Frame(afn).has_pw else None)

    def run(self, sends, seconds=120.0):
        """Send each ``(wait_s, make)`` - ``make(now)`` returns a Frame or its raw bytes - once
        the link is up, waiting for each answer; then let the agent work for ``seconds``."""
        env, ua = self.env, self.ua

        def attacker():
            while ua.link.master is None or not ua.link.session.online:
                yield env.timeout(1.0)
            for wait_s, make in sends:
                yield env.timeout(wait_s)
                f = make(env.now)
                r = ua.link.master.send_request(f, env.now, 60.0)
                ua.link.kick()
                while not r.done:
                    yield env.timeout(0.5)
                self.answers.append((r.outcome, r.answer))
        env.process(attacker())
        env.run(until=env.now + seconds)
        return self.answers


def control_frame(fw, code, valid_until, password=None):
    """The DL/T 645 0x1C frame a master would forward to meter ``fw``."""
    pw = fw.passwords.get(0x02, b"\x00\x00\x00") if password is None else password
    return encode_645(apdu.Control(code, valid_until, level=0x02, password=pw).to_frame(fw.addr))


def forward_unit(content, port=1):
    """AFN10 F1: forward ``content`` (a 645 frame) on ``port``."""
    return Unit(AFN_FORWARD, 1, 0, {"port": port, "control": 0x6B, "frame_timeout": 30,
                                    "byte_timeout": 1, "content": content}, False)


def denied(answer):
    outcome, units = answer
    return outcome == "denied" or (units and units[0].afn == 0 and units[0].fn == 2)


TRIP, DIRECT_CLOSE = K.CTRL_TRIP, K.CTRL_DIRECT_CLOSE
__all__ = ["Attack", "NOW", "TRIP", "DIRECT_CLOSE", "control_frame", "forward_unit", "denied",
           "encode_frame"]
