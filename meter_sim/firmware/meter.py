"""One virtual meter: ``handle(request_bytes, t) -> reply bytes | None``; DL/T 645-2007 (or 1997)
here, DL/T 698.45 through its front end (``slave698``) when ``protocol=698``.

Bus manners: silent for frames not addressed to it and for garbled frames, answers AA-filled
(abbreviated) addresses with its real address, acts on but never answers broadcasts. The reply
delay it asks its driver to honour is ``reply_delay`` (20..500 ms per §5.3.3).
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.bcd import byte_to_int
from protocols.civil import DAY, from_civil, midnight
from protocols.dlt645 import apdu, const as K, di as DI, values, v1997
from protocols.dlt645.errors import DecodeError
from protocols.dlt645.frame import address, address_matches, decode_frame, encode_frame
from meter_sim.firmware.clock import MeterClock
from meter_sim.firmware.events import EventLog
from meter_sim.firmware.freeze import FreezeBook, next_midnight, next_settlement
from meter_sim.firmware.load import ConstantLoad
from meter_sim.firmware.registers import EnergyLedger
from meter_sim.firmware.relay import Relay
from meter_sim.firmware.slave698 import Slave698
from protocols.dlt645 import security as S
from meter_sim.firmware import reads, wallet as W

REMOTE = 0     # remote cost control (远程费控): the balance lives at the head end
LOCAL = 1      # local cost control (本地费控): the meter keeps a wallet
MAX_CHUNK = K.MAX_READ_DATA - 5        # data per frame beside DI and SEQ
WRONG_PASSWORD_LIMIT = 3               # a common firmware rule: locked for the day after 3
BROADCAST_TIME_LIMIT_S = 300.0         # broadcast sync corrects at most 5 min, once a day
_1997_MAP = {0x9010: 0x00010000, 0x9011: 0x00010100, 0x9012: 0x00010200, 0x9013: 0x00010300,
             0x9014: 0x00010400, 0x9020: 0x00020000, 0xB611: 0x02010100, 0xB621: 0x02020100,
             0xB630: 0x02030000, 0xC010: DI.DI_DATE, 0xC011: DI.DI_TIME, 0xC032: DI.DI_ADDRESS}


class Meter:
    """A single-phase smart meter with remote or local cost control."""

    def __init__(self, addr, t0, source=None, mode=REMOTE, protocol=2007, wallet=None,
                 clock_offset=0.0, drift_ppm=0.0, passwords=None, esam=None,
                 plaintext_control=True, reply_delay=0.05, reply_preamble=4, curve_interval_min=15,
                 settlement=(1, 0), nominal_voltage=220.0, power_factor=0.95, baud=2400,
                 base_kwh=None, meter_number=None):
        self.addr = address(addr) if isinstance(addr, str) else bytes(addr)
        self.source = source if source is not None else ConstantLoad(0.5)
        self.mode = mode
        self.protocol = protocol
        self.wallet = wallet if wallet is not None else (W.Wallet() if mode == LOCAL else None)
        self.passwords = dict(passwords) if passwords else {0x02: b"\x00\x00\x00", 0x04: b"\x00\x00\x00"}
        self.esam = esam
        self.plaintext_control = plaintext_control
        self.reply_delay = reply_delay
        self.reply_preamble = reply_preamble
        self.curve_interval = int(curve_interval_min) * 60
        self.settlement = settlement
        self.nominal_voltage = nominal_voltage
        self.supply_voltage = nominal_voltage
        self.supply = None              # a voltage model (meter_sim.supply) or the fixed drop
        self.power_factor = power_factor
        self.baud = baud
        self.base_kwh = list(base_kwh) if base_kwh else [0.0] * DI.TARIFFS
        self.meter_number = meter_number or "".join("%02X" % b for b in reversed(self.addr))
        self.programming_allowed = False
        self.powered = True
        self.clock = MeterClock(t0, clock_offset, drift_ppm)
        self.ledger = EnergyLedger(self.source, t0)
        self.events = EventLog()
        self.relay = Relay(self)
        c0 = self.clock.read(t0)
        self.curve_from = c0
        self.daily = FreezeBook(DI.DAILY_FREEZES, next_midnight, c0)
        self.settlements = FreezeBook(DI.SETTLEMENTS, self._next_settlement, c0)
        self.instant = FreezeBook(DI.INSTANT_FREEZES, None, c0)
        self._t = t0
        self._follow = None            # (di, [chunks], next index) of a long reply
        self._wrong = (None, 0)        # (meter day, wrong-password count)
        self._synced_day = None
        self._cover = None
        self._magnet = None
        self._outage = None
        self._level = W.NORMAL         # credit level the relay has acted on (local control)
        self.switches = []             # (set, meter-clock switch time, true time) done
        if self.wallet is not None:
            self.wallet.attach(self.ledger.at(t0))
        self.timed_freeze = None
        self.front_end = Slave698(self) if protocol == 698 else None   # the DL/T 698.45 slave
        self.t0 = t0
        self.three_phase = None        # a three-phase meter's phases (firmware.phases.ThreePhase)
        self.reverse = None            # source of reverse active energy (a reversed phase)

    # --- physics ------------------------------------------------------------------------------
    def _next_settlement(self, c):
        return next_settlement(c, self.settlement[0], self.settlement[1])

    def supply_changed(self, t):
        """Relay or supply moved: the ledger consumes only when both allow it."""
        if self.wallet is not None:
            self.wallet.settle(self.ledger.at(t))
        self.ledger.set_consuming(t, self.powered and self.relay.closed)

    def voltage(self, t):
        if not self.powered:
            return 0.0
        if self.three_phase is not None:
            return self.three_phase.voltages(self, t)[0]
        if self.supply is not None:
            return self.supply.volts(t, self.power(t))
        return self.supply_voltage - 0.8 * self.power(t)

    def voltage_ok(self):
        return self.powered and self.supply_voltage >= self.relay.voltage_guard * self.nominal_voltage

    def power(self, t):
        """Active power in kW actually drawn (0 while the relay is open or the supply is off)."""
        if not self.ledger.consuming_at(t):
            return 0.0
        return self.source.power(t)

    def current_at(self, t):
        """Current the load would draw at ``t`` (A), whether or not the relay lets it."""
        v = self.supply_voltage if self.supply_voltage > 0 else self.nominal_voltage
        return self.source.power(t) * 1000.0 / (v * self.power_factor)

    def price(self, t):
        if self.wallet is None:
            return 0.0
        tariff = self.source.tou[int((self.clock.read(t) % DAY) // 3600)]
        return self.wallet.prices[tariff - 1]

    def balance(self, t):
        """Local wallet balance in yuan (negative when overdrawn)."""
        self.advance(t)
        return self.wallet.balance_at(self.ledger.at(t))

    def energy(self, t):
        """Forward active kWh total (ground truth for simulators)."""
        self.advance(t)
        return round(sum(self.ledger.at(t)) + sum(self.base_kwh), 2)

    # --- lazy time ------------------------------------------------------------------------------
    def advance(self, t):
        """Bring credit levels, relay timers, price switch-overs and freezes up to ``t``."""
        if self.wallet is not None:
            c = self.clock.read(t)
            for which in self.wallet.switch_due(c):
                at = self.wallet.price_switch if which == "prices" else self.wallet.ladder_switch
                ts = self.clock.true_time(at)
                ts = ts if ts > self._t else self._t
                self._advance(ts)
                self.wallet.switch(which, self.ledger.at(ts))
                self.switches.append((which, at, ts))
        self._advance(t)

    def _advance(self, t):
        if t < self._t:
            t = self._t
        while True:
            nxt = self.relay.next_event()
            crossing = self._credit_crossing(t)
            if crossing is not None and (nxt is None or crossing <= nxt):
                self._t = crossing
                self._apply_credit(crossing)
                continue
            if nxt is not None and nxt <= t:
                before = (self.relay.pending, self.relay.pretrip_until)
                self.relay.service(nxt if nxt > self._t else self._t)
                if (self.relay.pending, self.relay.pretrip_until) == before:
                    self.relay.service(t)
                    break
                self._t = max(self._t, nxt)
                continue
            break
        self.relay.service(t)
        self._t = t
        self.daily.sync(t, self.clock)
        self.settlements.sync(t, self.clock)

    def _credit_level(self, t):
        return self.wallet.level(self.wallet.balance_at(self.ledger.at(t)))

    def _credit_crossing(self, t):
        """True time of the next credit-level change in (self._t, t], or None."""
        if self.wallet is None or not self.ledger.consuming_at(self._t):
            return None
        level_now = self._credit_level(t)
        if level_now <= self._level:
            return None
        threshold = self.wallet.threshold_of(self._level + 1)
        lo, hi = self._t, t
        while hi - lo > 0.5:
            mid = (lo + hi) / 2
            if self.wallet.balance_at(self.ledger.at(mid)) <= threshold:
                hi = mid
            else:
                lo = mid
        return hi

    def _apply_credit(self, t):
        self._level += 1
        level = self._level
        if level == W.ALARM_1:
            return
        if level in (W.ALARM_2, W.OVER_ZERO):
            self.relay.pretrip(t)
        elif level == W.OVERDRAFT:
            self.relay.pretrip_until = None
            self.relay.trip(t, b"\x00" * 4, credit=True)

    def _recheck_credit(self, t):
        """After a top-up or keep-power release: settle the level again from the balance."""
        if self.wallet is None:
            return
        level = self._credit_level(t)
        if level == W.OVERDRAFT and not self.relay.keep_power:
            self.relay.trip(t, b"\x00" * 4, credit=True)
        if level < W.OVERDRAFT and self.relay.credit_open and not self.relay.closed:
            balance = self.wallet.balance_at(self.ledger.at(t))
            if balance >= self.wallet.close_allowed:
                self.relay.pretrip_until = None
                self.relay.allow_close(t, b"\x00" * 4)
        self._level = level

    # --- the customer and the grid --------------------------------------------------------------
    def press_button(self, t):
        self.advance(t)
        return self.relay.press_button(t)

    def top_up(self, amount, t):
        """A purchase by card or at the counter; False if it passes the hoarding limit."""
        self.advance(t)
        ok = self.wallet.top_up(amount, self.ledger.at(t))
        if ok:
            self._recheck_credit(t)
        return ok

    def power_down(self, t):
        self.advance(t)
        if self.powered:
            self.powered = False
            self.supply_changed(t)
            self._outage = self.events.add(DI.EV_POWER_DOWN, [self.clock.read(t), None])

    def power_up(self, t):
        self.advance(t)
        if not self.powered:
            self.powered = True
            self.supply_changed(t)
            if self._outage is not None:
                self._outage[1] = self.clock.read(t)
                self._outage = None

    def set_supply_voltage(self, t, volts):
        self.advance(t)
        self.supply_voltage = volts
        self.relay.service(t)

    def open_cover(self, t):
        self.advance(t)
        if self._cover is None:
            e = self.energy(t)
            self._cover = self.events.add(DI.EV_COVER_OPEN, [self.clock.read(t), None, e, None])

    def close_cover(self, t):
        self.advance(t)
        if self._cover is not None:
            self._cover[1] = self.clock.read(t)
            self._cover[3] = self.energy(t)
            self._cover = None

    def magnet_on(self, t):
        """A constant magnetic field at the meter from ``t`` (恒定磁场干扰): its event opens."""
        self.advance(t)
        if self._magnet is None:
            rec = [self.clock.read(t), None, self.energy(t), self.reverse_energy(t), None, None]
            self._magnet = self.events.add(DI.EV_MAGNETIC, rec)

    def magnet_off(self, t):
        self.advance(t)
        if self._magnet is not None:
            self._magnet[1] = self.clock.read(t)
            self._magnet[4] = self.energy(t)
            self._magnet[5] = self.reverse_energy(t)
            self._magnet = None

    def reverse_energy(self, t):
        """Reverse active kWh total (a reversed phase's share; zero otherwise)."""
        if self.reverse is None:
            return 0.0
        return round(sum(self.reverse.between(self.t0, t)), 2)

    def status_word_3(self):
        word = self.relay.status_bits()
        if self.programming_allowed:
            word |= 1 << 3
        if self.mode == LOCAL:
            word |= 0b10 << 8           # money-prepaid meter
        return word

    # --- the 645 slave --------------------------------------------------------------------------
    def handle(self, request, t):
        """Reply bytes to one request frame, or None (silence)."""
        if self.front_end is not None:
            return self.front_end.handle(request, t)
        try:
            frame = decode_frame(request)
        except ProtocolDecodeError:
            return None
        return self.handle_frame(frame, t)

    def handle_frame(self, frame, t):
        if self.front_end is not None:
            return self.front_end.handle_frame(frame, t)
        self.advance(t)
        if not self.powered or frame.is_reply:
            return None
        if frame.is_broadcast:
            self._broadcast(frame, t)
            return None
        if not address_matches(frame.addr, self.addr):
            return None
        if self.protocol == 1997:
            reply = self._dispatch_1997(frame, t)
        else:
            reply = self._dispatch(frame, t)
        if reply is None:
            return None
        return encode_frame(reply.to_frame(self.addr), preamble=self.reply_preamble)

    def _broadcast(self, frame, t):
        try:
            req = apdu.parse_request(frame)
        except ProtocolDecodeError:
            return
        if isinstance(req, apdu.BroadcastTime) and req.t is not None:
            self._broadcast_time(req.t, t)
        elif isinstance(req, apdu.Freeze):
            self._freeze(req, t)

    def _broadcast_time(self, new_c, t):
        c = self.clock.read(t)
        day = int(c // DAY)
        if abs(new_c - c) > BROADCAST_TIME_LIMIT_S or self._synced_day == day:
            return
        if c - midnight(c) < 300 or midnight(c) + DAY - c < 300:
            return                      # never across a freeze instant
        self._synced_day = day
        self._set_clock(t, new_c, b"\xFF\xFF\xFF\xFF")

    def _set_clock(self, t, new_c, operator):
        old = self.clock.read(t)
        self.daily.sync(t, self.clock)
        self.settlements.sync(t, self.clock)
        self.clock.set(t, new_c)
        self.events.add(DI.EV_TIME_SET, [bytes(operator), old, new_c])

    def _dispatch(self, frame, t):
        fn = frame.function
        try:
            req = apdu.parse_request(frame)
        except ProtocolDecodeError:
            return apdu.ErrorReply(fn, K.ERR_OTHER)
        handler = _HANDLERS.get(fn)
        return handler(self, req, frame, t)

    def _dispatch_1997(self, frame, t):
        try:
            req = v1997.parse_request_97(frame)
        except ProtocolDecodeError:
            return v1997.ErrorReply97(K.F97_READ, K.ERR_OTHER)
        di07 = _1997_MAP.get(req.di)
        if di07 is None:
            return v1997.ErrorReply97(K.F97_READ, K.ERR_NO_DATA)
        value = reads.value_of(self, di07, t)
        if req.di == 0xB611:
            value = int(round(value))
        data = v1997.encode_value_97(req.di, value)
        return v1997.ReadReply97(req.di, data)

    # --- handlers -------------------------------------------------------------------------------
    def _read(self, req, frame, t):
        try:
            if DI.is_curve(req.di):
                first, points = reads.curve_points(self, req.di, req.blocks, req.start, t)
                data = values.encode(DI.CURVE_TIME_FMT, first) + points
            else:
                data = reads.encode_read(self, req.di, t)
        except reads.NoData:
            return apdu.ErrorReply(K.F_READ, K.ERR_NO_DATA)
        except reads.Unauthorised:
            return apdu.ErrorReply(K.F_READ, K.ERR_PASSWORD)
        if len(data) <= K.MAX_READ_DATA - 4:
            self._follow = None
            return apdu.ReadReply(req.di, data)
        chunks = [data[i:i + MAX_CHUNK] for i in range(0, len(data), MAX_CHUNK)]
        self._follow = (req.di, chunks)
        return apdu.ReadReply(req.di, chunks[0], None, True)

    def _read_follow_up(self, req, frame, t):
        if self._follow is None or self._follow[0] != req.di:
            return apdu.ErrorReply(K.F_READ_FOLLOW_UP, K.ERR_NO_DATA)
        di, chunks = self._follow
        if not 1 <= req.seq < len(chunks):
            return apdu.ErrorReply(K.F_READ_FOLLOW_UP, K.ERR_NO_DATA)
        more = req.seq + 1 < len(chunks)
        return apdu.ReadReply(di, chunks[req.seq], req.seq, more, K.F_READ_FOLLOW_UP)

    def _read_address(self, req, frame, t):
        return apdu.Ack(K.F_READ_ADDRESS, self.addr)

    def _authorise(self, level, password, required, t):
        """None if ``level``/``password`` may do what needs ``required``, else the ERR byte."""
        day = int(self.clock.read(t) // DAY)
        wrong_day, wrong = self._wrong
        if wrong_day != day:
            wrong = 0
        if wrong >= WRONG_PASSWORD_LIMIT:
            self._wrong = (day, wrong)
            return K.ERR_PASSWORD
        if level > required or self.passwords.get(level) != bytes(password):
            self._wrong = (day, wrong + 1)
            return K.ERR_PASSWORD
        self._wrong = (day, 0)
        return None

    def _programmed(self, t, operator, di):
        dis = [DI.to_bytes(di)] + [b"\xFF\xFF\xFF\xFF"] * 9
        self.events.add(DI.EV_PROGRAMMING, [self.clock.read(t), bytes(operator)] + dis)

    def _write(self, req, frame, t):
        item = DI.lookup(req.di)
        setter = _WRITERS.get(req.di)
        if item is None or setter is None or item.writable_level is None:
            return apdu.ErrorReply(K.F_WRITE, K.ERR_OTHER)
        raw = req.value
        if req.level == K.LEVEL_CIPHER:           # data + MAC under the ESAM session
            if self.esam is None or len(raw) < 4:
                return apdu.ErrorReply(K.F_WRITE, 0, K.SERR_OTHER)
            raw, mac = raw[:-4], raw[-4:]
            try:
                self.esam.check_parameter(DI.to_bytes(req.di), raw, mac, t)
            except ValueError as exc:
                serr = K.SERR_IDENTITY if str(exc) == "identity" else K.SERR_ESAM_VERIFY
                return apdu.ErrorReply(K.F_WRITE, 0, serr)
        elif req.di in _SECURED_WRITES and self.esam is not None and not self.plaintext_control:
            return apdu.ErrorReply(K.F_WRITE, K.ERR_PASSWORD)
        else:
            err = self._authorise(req.level, req.password, item.writable_level, t)
            if err:
                return apdu.ErrorReply(K.F_WRITE, err)
        try:
            value = item.decode(raw)
        except ProtocolDecodeError:
            return apdu.ErrorReply(K.F_WRITE, K.ERR_OTHER)
        if value is None or setter(self, req, value, t) is False:
            return apdu.ErrorReply(K.F_WRITE, K.ERR_OTHER)
        if req.di not in (DI.DI_DATE, DI.DI_TIME):
            self._programmed(t, req.operator, req.di)
        return apdu.Ack(K.F_WRITE)

    def _write_address(self, req, frame, t):
        if not self.programming_allowed:
            return apdu.ErrorReply(K.F_WRITE_ADDRESS, K.ERR_PASSWORD)
        self.addr = req.new_addr
        return apdu.Ack(K.F_WRITE_ADDRESS)

    def _freeze(self, req, t):
        if req.instant:
            c = self.clock.read(t)
            self.instant.add(c, t)
        else:
            self.timed_freeze = (req.month, req.day, req.hour, req.minute)

    def _freeze_cmd(self, req, frame, t):
        self._freeze(req, t)
        return apdu.Ack(K.F_FREEZE)

    def _change_baud(self, req, frame, t):
        rate = K.baud_of_word(req.word)
        if rate is None:
            return apdu.ErrorReply(K.F_CHANGE_BAUD, K.ERR_BAUD)
        self.baud = rate
        return apdu.Ack(K.F_CHANGE_BAUD, bytes([req.word]))

    def _change_password(self, req, frame, t):
        err = self._authorise(req.old_level, req.old_password, req.new_level, t)
        if err:
            return apdu.ErrorReply(K.F_CHANGE_PASSWORD, err)
        self.passwords[req.new_level] = req.new_password
        return apdu.Ack(K.F_CHANGE_PASSWORD, bytes([req.new_level]) + req.new_password)

    def _demand_reset(self, req, frame, t):
        err = self._authorise(req.level, req.password, 0x04, t)
        return apdu.ErrorReply(K.F_DEMAND_RESET, err) if err else apdu.Ack(K.F_DEMAND_RESET)

    def _meter_clear(self, req, frame, t):
        err = self._authorise(req.level, req.password, 0x02, t)
        if err:
            return apdu.ErrorReply(K.F_METER_CLEAR, err)
        e = self.energy(t)
        self.ledger.reset(t)
        self.base_kwh = [0.0] * DI.TARIFFS
        if self.wallet is not None:
            self.wallet.attach(self.ledger.at(t))
        c = self.clock.read(t)
        for book in (self.daily, self.settlements, self.instant):
            book.clear(c)
        self.events.clear(keep=(DI.EV_METER_CLEAR,))
        self.events.add(DI.EV_METER_CLEAR, [c, bytes(req.operator), e, 0.0])
        return apdu.Ack(K.F_METER_CLEAR)

    def _event_clear(self, req, frame, t):
        err = self._authorise(req.level, req.password, 0x02, t)
        if err:
            return apdu.ErrorReply(K.F_EVENT_CLEAR, err)
        if req.di == 0xFFFFFFFF:
            self.events.clear(keep=(DI.EV_METER_CLEAR,))
        else:
            self.events.clear(req.di & 0xFFFFFF00)
        self.events.add(DI.EV_EVENT_CLEAR, [self.clock.read(t), bytes(req.operator), DI.to_bytes(req.di)])
        return apdu.Ack(K.F_EVENT_CLEAR)

    def _control(self, req, frame, t):
        if req.level == K.LEVEL_CIPHER:
            if self.esam is None:
                return apdu.ErrorReply(K.F_CONTROL, 0, K.SERR_OTHER)
            try:
                body = self.esam.open_control(req.cipher, t)
            except ValueError as exc:
                serr = K.SERR_IDENTITY if str(exc) == "identity" else K.SERR_ESAM_VERIFY
                return apdu.ErrorReply(K.F_CONTROL, 0, serr)
            try:
                req = apdu.Control.from_body(body, req.level, req.password, req.operator)
            except ProtocolDecodeError:
                return apdu.ErrorReply(K.F_CONTROL, 0, K.SERR_OTHER)
            fail = lambda: apdu.ErrorReply(K.F_CONTROL, 0, K.SERR_OTHER)
        else:
            if not self.plaintext_control:
                return apdu.ErrorReply(K.F_CONTROL, K.ERR_PASSWORD)
            err = self._authorise(req.level, req.password, 0x04, t)
            if err:
                return apdu.ErrorReply(K.F_CONTROL, err)
            fail = lambda: apdu.ErrorReply(K.F_CONTROL, K.ERR_OTHER)
        if req.valid_until is None or req.valid_until < self.clock.read(t):
            return fail()                 # expired command (JudgeContrlTime)
        self._execute(req.command, bytes(req.operator), t)
        return apdu.Ack(K.F_CONTROL)

    def _execute(self, command, operator, t):
        relay = self.relay
        if command == K.CTRL_TRIP:
            relay.trip(t, operator)
        elif command == K.CTRL_ALLOW_CLOSE:
            relay.allow_close(t, operator)
            self._recheck_credit(t)
        elif command == K.CTRL_DIRECT_CLOSE:
            relay.direct_close(t, operator)
        elif command == K.CTRL_ALARM:
            relay.alarm = True
        elif command == K.CTRL_ALARM_RELEASE:
            relay.alarm = False
        elif command == K.CTRL_KEEP_POWER:
            relay.set_keep_power(t, True, operator)
        elif command == K.CTRL_KEEP_POWER_RELEASE:
            relay.set_keep_power(t, False, operator)
            if self.mode == LOCAL:
                self._recheck_credit(t)

    def _security(self, req, frame, t):
        if self.esam is None:
            return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_OTHER)
        try:
            item = S.parse_request(req.di, req.body)
        except ProtocolDecodeError:
            return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_OTHER)
        head = DI.to_bytes(req.di)
        if req.di == S.DI_IDENTITY:
            r2 = self.esam.authenticate(item.cipher1, item.random1, item.factor, t)
            if r2 is None:
                return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_IDENTITY)
            return apdu.Ack(K.F_SECURITY, head + S.IdentityReply(r2, self.esam.serial).encode())
        if self.esam.session(t) is None:
            return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_IDENTITY)
        if req.di == S.DI_RECHARGE:
            return self._recharge(item, t)
        if req.di == S.DI_STATUS:
            return apdu.Ack(K.F_SECURITY, head + self._status(t).encode())
        if req.di == S.DI_IDENTITY_END:
            self.esam.end()
            return apdu.Ack(K.F_SECURITY, head)
        if req.di == S.DI_IDENTITY_VALIDITY:
            try:
                self.esam.set_validity(item.minutes, item.mac, t)
            except ValueError:
                return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_ESAM_VERIFY)
            return apdu.Ack(K.F_SECURITY, head)
        return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_OTHER)

    def _status(self, t):
        """078102FF: the wallet's remaining money and purchase count with the ESAM's MACs."""
        w = self.wallet
        cents = 0 if w is None else int(round(w.remaining(self.balance(t)) * 100))
        count = 0 if w is None else w.purchase_count
        customer = b"\x00" * 6 if w is None else w.customer
        m1, m2 = self.esam.status_macs(cents, count, t)
        return S.Status(cents, m1, count, m2, customer, b"\x00" * 4)

    def _recharge(self, item, t):
        """070102FF: MACs, customer, purchase count (a repeat is refused), hoarding limit."""
        try:
            self.esam.check_recharge(item.amount_cents, item.count, item.customer, item.mac1,
                                     item.mac2, t)
        except ValueError as exc:
            serr = K.SERR_IDENTITY if str(exc) == "identity" else K.SERR_ESAM_VERIFY
            return apdu.ErrorReply(K.F_SECURITY, 0, serr)
        w = self.wallet
        if w is None:
            return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_OTHER)
        if item.customer != w.customer:
            return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_CUSTOMER)
        if item.count == w.purchase_count:
            return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_REPEAT_RECHARGE)
        if item.count != w.purchase_count + 1:
            return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_RECHARGE_COUNT)
        if not self.top_up(item.amount_cents / 100.0, t):
            return apdu.ErrorReply(K.F_SECURITY, 0, K.SERR_HOARDING)
        return apdu.Ack(K.F_SECURITY, DI.to_bytes(S.DI_RECHARGE))


def _set_date(meter, req, value, t):
    c = meter.clock.read(t)
    raw = bytes(reversed(req.value))      # natural YY MM DD WW
    try:
        new = from_civil(2000 + byte_to_int(raw[0]), byte_to_int(raw[1]), byte_to_int(raw[2]))
    except ValueError:
        return False
    meter._set_clock(t, new + (c - midnight(c)), req.operator)


def _set_time(meter, req, value, t):
    c = meter.clock.read(t)
    hh, mm, ss = [int(x) for x in value.split(":")]
    meter._set_clock(t, midnight(c) + hh * 3600 + mm * 60 + ss, req.operator)


def _set_wallet(attr):
    def setter(meter, req, value, t):
        if meter.wallet is None:
            return False
        meter.advance(t)
        setattr(meter.wallet, attr, value)
        meter._recheck_credit(t)
    return setter


def _set_standby_prices(meter, req, value, t):
    if meter.wallet is None:
        return False
    prices = [value["price_%d" % k] for k in range(1, DI.TARIFFS + 1)]
    if None in prices:
        return False
    meter.wallet.standby_prices = tuple(prices)


def _set_standby_ladder(meter, req, value, t):
    if meter.wallet is None:
        return False
    uppers = [v for v in [value["value_%d" % k] for k in range(1, DI.LADDER_STEPS + 1)]
              if v is not None and v > 0]
    adders = [value["price_%d" % k] for k in range(1, len(uppers) + 2)]
    if None in adders or uppers != sorted(uppers):
        return False
    meter.wallet.standby_ladder = (uppers, adders)


def _set_switch(attr):
    def setter(meter, req, value, t):
        if meter.wallet is None:
            return False
        meter.advance(t)
        setattr(meter.wallet, attr, values.time_seconds("YYMMDDhhmm", req.value[:5]))
    return setter


def _set_settlement(meter, req, value, t):
    dd, hh = value.split(" ")
    meter.settlement = (int(dd), int(hh))


def _set_interval(meter, req, value, t):
    if value <= 0 or 60 % value and value % 60:
        return False
    meter.curve_interval = int(value) * 60


_WRITERS = {
    DI.DI_DATE: _set_date, DI.DI_TIME: _set_time, DI.DI_SETTLEMENT_DAY: _set_settlement,
    DI.DI_CURVE_INTERVAL: _set_interval,
    DI.DI_ALARM_1: _set_wallet("alarm_1"), DI.DI_ALARM_2: _set_wallet("alarm_2"),
    DI.DI_OVERDRAFT_LIMIT: _set_wallet("overdraft_limit"),
    DI.DI_HOARDING_LIMIT: _set_wallet("hoarding_limit"),
    DI.DI_CLOSE_ALLOWED: _set_wallet("close_allowed"),
    DI.DI_STANDBY_PRICES: _set_standby_prices, DI.DI_STANDBY_LADDER: _set_standby_ladder,
    DI.DI_PRICE_SWITCH_TIME: _set_switch("price_switch"),
    DI.DI_LADDER_SWITCH_TIME: _set_switch("ladder_switch"),
}

_SECURED_WRITES = (DI.DI_STANDBY_PRICES, DI.DI_STANDBY_LADDER, DI.DI_PRICE_SWITCH_TIME,
                   DI.DI_LADDER_SWITCH_TIME)     # a secured meter takes these with a MAC only

_HANDLERS = {
    K.F_READ: Meter._read, K.F_READ_FOLLOW_UP: Meter._read_follow_up,
    K.F_READ_ADDRESS: Meter._read_address, K.F_WRITE: Meter._write,
    K.F_WRITE_ADDRESS: Meter._write_address, K.F_FREEZE: Meter._freeze_cmd,
    K.F_CHANGE_BAUD: Meter._change_baud, K.F_CHANGE_PASSWORD: Meter._change_password,
    K.F_DEMAND_RESET: Meter._demand_reset, K.F_METER_CLEAR: Meter._meter_clear,
    K.F_EVENT_CLEAR: Meter._event_clear, K.F_CONTROL: Meter._control,
    K.F_SECURITY: Meter._security, K.F_BROADCAST_TIME: lambda m, r, f, t: None,
}
