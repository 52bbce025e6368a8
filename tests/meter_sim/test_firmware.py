import pytest

from protocols.civil import from_civil, to_civil
from protocols.dlt645 import (Ack, BroadcastTime, ChangeBaud, ChangePassword, Control, ErrorReply,
                              EventClear, Freeze, MeterClear, Read, ReadAddress, Security, Write,
                              WriteAddress, address, encode_frame)
from protocols.dlt645 import const as K, di as DI, values, v1997
from protocols.dlt645.frame import decode_frame
from meter_sim.firmware import ConstantLoad, HourlyProfile, LOCAL, Meter, TestEsam
from meter_sim.firmware import esam as E
from protocols.dlt645 import security as S, testkey as TK
from meter_sim.firmware.wallet import Wallet
from tests.helpers import ask, value

T0 = from_civil(2026, 3, 1)
DAY = 86400
PW = b"\x00\x00\x00"


def meter(**kw):
    kw.setdefault("source", ConstantLoad(1.0))
    return Meter("000000000042", T0, **kw)


def status3(m, t):
    return value(m, Read(DI.DI_STATUS_3), t)


def test_silent_for_others_answers_abbreviated_never_broadcast():
    m = meter()
    assert ask(m, Read(0x00010000), T0 + 10, addr=address("000000000043")) is None
    raw = encode_frame(Read(0x00010000).to_frame(address("AAAAAAAAAA42")))
    reply = decode_frame(m.handle(raw, T0 + 10))
    assert reply.addr == address("000000000042")
    assert m.handle(encode_frame(Read(0x00010000).to_frame(K.BROADCAST_ADDR)), T0 + 10) is None
    assert m.handle(b"\x68\x00garbage", T0 + 10) is None
    assert K.REPLY_DELAY_MIN <= m.reply_delay <= K.REPLY_DELAY_MAX


def test_read_address_point_to_point():
    m = meter()
    reply = ask(m, ReadAddress(), T0, addr=K.ALL_AA)
    assert isinstance(reply, Ack) and reply.data == m.addr


def test_energy_per_tariff_and_daily_freeze_at_midnight():
    m = meter(source=HourlyProfile([1.0] * 12 + [2.0] * 12))
    t = T0 + 2 * DAY + 6 * 3600
    assert value(m, Read(0x00010000), t) == pytest.approx(2 * 36 + 6, abs=0.01)
    block = value(m, Read(DI.parse("0001FF00")), t)
    assert block[0] == pytest.approx(sum(block[1:]), abs=0.02)
    assert value(m, Read(DI.parse("05060001")), t) == "2026-03-03 00:00"
    assert value(m, Read(DI.parse("05060101")), t)["total"] == pytest.approx(72.0)
    assert value(m, Read(DI.parse("05060102")), t)["total"] == pytest.approx(36.0)
    assert isinstance(ask(m, Read(DI.parse("05060103")), t), ErrorReply)   # no such day yet


def test_freezes_keep_62_days_and_settlement_freezes():
    m = meter()
    t = T0 + 80 * DAY + 100
    assert value(m, Read(DI.parse("0506003E")), t) == "2026-03-20 00:00"
    assert isinstance(ask(m, Read(DI.parse("0506003F")), t), ErrorReply)
    assert value(m, Read(DI.parse("00010001")), t) == pytest.approx(24 * (31 + 30), abs=0.1)  # 1 May 00:00
    assert value(m, Read(DI.parse("00010002")), t) == pytest.approx(24 * 31, abs=0.1)


def test_forward_clock_jump_makes_up_skipped_freezes():
    m = meter()
    t = T0 + 10 * 3600
    m.clock.jump(t, 2 * DAY)
    assert value(m, Read(DI.parse("05060001")), t + 60) == "2026-03-03 00:00"
    assert value(m, Read(DI.parse("05060002")), t + 60) == "2026-03-02 00:00"
    assert value(m, Read(DI.parse("05060101")), t + 60)["total"] == pytest.approx(10.0, abs=0.05)


def test_relay_open_stops_energy_and_records_trip():
    m = meter()
    t = T0 + 3600
    assert isinstance(ask(m, Control(K.CTRL_TRIP, t + 600), t), Ack)
    assert status3(m, t + 1) & 0x50 == 0x50
    e = value(m, Read(0x00010000), t + 10)
    assert value(m, Read(0x00010000), t + 7200) == e
    assert value(m, Read(DI.parse("1D000000")), t + 10) == 1
    rec = value(m, Read(DI.parse("1D000001")), t + 10)
    assert rec["time"] == "2026-03-01 01:00:00" and rec["forward_kwh"] == pytest.approx(1.0)


def test_keep_power_absorbs_trip_and_release_does_not_trip_remote_meter():
    m = meter()
    t = T0 + 3600
    ask(m, Control(K.CTRL_KEEP_POWER, t + 600), t)
    assert isinstance(ask(m, Control(K.CTRL_TRIP, t + 600), t + 1), Ack)
    assert m.relay.closed and status3(m, t + 2) & (1 << 12)
    ask(m, Control(K.CTRL_KEEP_POWER_RELEASE, t + 600), t + 3)
    assert m.relay.closed


def test_allow_close_needs_the_button_direct_close_does_not():
    m = meter()
    t = T0 + 3600
    ask(m, Control(K.CTRL_TRIP, t + 600), t)
    ask(m, Control(K.CTRL_ALLOW_CLOSE, t + 600), t + 10)
    assert not m.relay.closed and status3(m, t + 11) & 0x50 == 0x10
    assert m.press_button(t + 20) and m.relay.closed
    ask(m, Control(K.CTRL_TRIP, t + 600), t + 30)
    ask(m, Control(K.CTRL_DIRECT_CLOSE, t + 600), t + 40)
    assert m.relay.closed and value(m, Read(DI.parse("1E000000")), t + 41) == 2


def test_alarm_sets_bit7_and_expired_or_unauthorised_commands_are_refused():
    m = meter()
    t = T0 + 3600
    ask(m, Control(K.CTRL_ALARM, t + 60), t)
    assert status3(m, t + 1) & 0x80
    expired = ask(m, Control(K.CTRL_TRIP, t - 60), t + 2)
    assert isinstance(expired, ErrorReply) and m.relay.closed
    wrong = ask(m, Control(K.CTRL_TRIP, t + 600, password=b"\x12\x34\x56"), t + 3)
    assert wrong.reasons == ["password_or_unauthorised"] and m.relay.closed


def test_three_wrong_passwords_lock_the_meter_for_the_day():
    m = meter()
    t = T0 + 3600
    for _ in range(3):
        ask(m, Write(DI.DI_TIME, b"\x00\x00\x12", 0x04, b"\x99\x99\x99"), t)
    locked = ask(m, Write(DI.DI_TIME, b"\x00\x00\x12", 0x04, PW), t + 1)
    assert locked.reasons == ["password_or_unauthorised"]
    assert isinstance(ask(m, Write(DI.DI_TIME, b"\x00\x00\x12", 0x04, PW), t + DAY), Ack)


def test_level_04_cannot_write_a_level_02_parameter():
    m = meter(mode=LOCAL)
    raw = values.encode("XXXXXX.XX", 15.0)
    assert ask(m, Write(DI.DI_ALARM_1, raw, 0x04, PW), T0 + 1).reasons == ["password_or_unauthorised"]
    assert isinstance(ask(m, Write(DI.DI_ALARM_1, raw, 0x02, PW), T0 + 2), Ack)
    assert value(m, Read(DI.DI_ALARM_1), T0 + 3) == 15.0
    assert value(m, Read(DI.parse("03300000")), T0 + 3) == 1


def test_time_write_and_broadcast_sync_rules():
    m = meter(drift_ppm=100.0)
    t = T0 + 10 * 3600
    ask(m, Write(DI.DI_TIME, b"\x00\x30\x10", 0x04, PW), t)
    assert value(m, Read(DI.DI_TIME), t) == "10:30:00"
    assert value(m, Read(DI.parse("03300401")), t)["after"] == "2026-03-01 10:30:00"
    bc = lambda c: encode_frame(BroadcastTime(c).to_frame(K.BROADCAST_ADDR))
    assert m.handle(bc(m.clock.read(t + 60) + 3600), t + 60) is None
    assert value(m, Read(DI.DI_TIME), t + 60) == "10:31:00"          # > 5 min: ignored
    m.handle(bc(m.clock.read(t + 120) + 120), t + 120)
    assert value(m, Read(DI.DI_TIME), t + 120) == "10:34:00"          # accepted once a day
    m.handle(bc(m.clock.read(t + 180) + 120), t + 180)
    assert value(m, Read(DI.DI_TIME), t + 180) == "10:35:00"


def test_stuck_relay_reports_command_but_not_contact():
    m = meter()
    m.relay.stuck = True
    t = T0 + 3600
    ask(m, Control(K.CTRL_TRIP, t + 600), t)
    assert status3(m, t + 1) & 0x50 == 0x40
    assert value(m, Read(DI.parse("03360000")), t + 1) == 1


def test_large_current_defers_trip_and_low_voltage_blocks_it():
    m = meter(source=HourlyProfile([9.0] * 2 + [0.5] * 22))   # ~43 A until 02:00
    ask(m, Control(K.CTRL_TRIP, T0 + DAY), T0 + 600)
    assert m.relay.closed
    assert status3(m, T0 + 2 * 3600 + 120) & 0x10
    m2 = meter()
    m2.set_supply_voltage(T0, 120.0)
    ask(m2, Control(K.CTRL_TRIP, T0 + DAY), T0 + 600)
    assert m2.relay.closed
    m2.set_supply_voltage(T0 + 900, 220.0)
    assert not m2.relay.closed


def local_meter(balance=25.0, kw=1.0):
    w = Wallet(balance=balance, prices=(1.0, 1.0, 1.0, 1.0), alarm_1=20.0, alarm_2=10.0,
               overdraft_limit=5.0, close_allowed=10.0, customer=b"\x01\x02\x03\x04\x05\x06")
    return Meter("000000000042", T0, ConstantLoad(kw), mode=LOCAL, wallet=w, esam=TestEsam())


def test_local_wallet_alarm_pretrip_restore_and_overdraft_trip():
    m = local_meter()
    assert value(m, Read(DI.DI_REMAINING_MONEY), T0 + 3 * 3600) == pytest.approx(22.0)
    t_pre = T0 + 15 * 3600 + 60
    assert not m.relay.closed and m.relay.pretrip_until is not None and m.relay.closed is False \
        if m.advance(t_pre) is None else True
    assert status3(m, t_pre) & 0x90 == 0x90 and status3(m, t_pre) >> 8 & 3 == 0b10
    m.advance(T0 + 15 * 3600 + 400)
    assert m.relay.closed                                  # pre-trip restored after 300 s
    m.advance(T0 + 40 * 3600)
    assert not m.relay.closed
    assert value(m, Read(DI.DI_OVERDRAFT_MONEY), T0 + 41 * 3600) == pytest.approx(5.0, abs=0.02)
    assert not m.press_button(T0 + 41 * 3600)              # no customer reclose at overdraft


def test_top_up_above_close_allowed_allows_close():
    m = local_meter()
    m.advance(T0 + 40 * 3600)
    assert not m.relay.closed
    m.top_up(10.0, T0 + 41 * 3600)                          # balance 5 < close-allowed 10
    assert not m.relay.closed and not m.press_button(T0 + 41 * 3600 + 1)
    m.top_up(20.0, T0 + 42 * 3600)
    assert m.press_button(T0 + 42 * 3600 + 5) and m.relay.closed


def test_keep_power_absorbs_local_trip_and_release_trips_again():
    m = local_meter()
    ask(m, Control(K.CTRL_KEEP_POWER, T0 + 50 * 3600), T0 + 3600)
    m.advance(T0 + 40 * 3600)
    assert m.relay.closed and m.balance(T0 + 40 * 3600) < -5.0
    ask(m, Control(K.CTRL_KEEP_POWER_RELEASE, T0 + 50 * 3600), T0 + 40 * 3600)
    assert not m.relay.closed


def _authenticate(m, t, key=E.TEST_KEY):
    r1, factor = b"\x11" * 8, b"\x00\x00" + m.addr
    item = S.IdentityAuth(b"\x00" * 4, TK.auth_cipher(key, r1, factor), r1, factor)
    reply = ask(m, Security(S.DI_IDENTITY, item.encode()), t)
    return S.IdentityReply.parse(reply.data[4:]).random2 if isinstance(reply, Ack) else reply


def _sealed(m, cmd, until, r2, key=E.TEST_KEY):
    plain = Control(cmd, until)
    return Control(None, None, K.LEVEL_CIPHER, PW, b"\x00" * 4,
                   cipher=TK.seal_control(key, r2, m.esam.serial, plain.body()))


def test_esam_identity_and_sealed_control():
    m = local_meter()
    t = T0 + 3600
    assert ask(m, _sealed(m, K.CTRL_TRIP, t + 600, b"\x00" * 4), t).reasons == ["identity_authentication_failed"]
    bad = _authenticate(m, t, key=b"wrong")
    assert bad.reasons == ["identity_authentication_failed"]
    r2 = _authenticate(m, t)
    tampered = _sealed(m, K.CTRL_TRIP, t + 600, r2)
    tampered.cipher = bytes([tampered.cipher[0] ^ 1]) + tampered.cipher[1:]
    assert ask(m, tampered, t + 1).reasons == ["esam_verify_failed"]
    assert isinstance(ask(m, _sealed(m, K.CTRL_TRIP, t + 600, r2), t + 2), Ack)
    assert not m.relay.closed
    assert ask(m, _sealed(m, K.CTRL_DIRECT_CLOSE, t - 10, r2), t + 3).serr == K.SERR_OTHER
    late = t + E.SESSION_S + 1                          # the 5-minute session is over
    assert ask(m, _sealed(m, K.CTRL_DIRECT_CLOSE, late + 600, r2), late).reasons == \
        ["identity_authentication_failed"]


def _recharge(m, t, r2, cents, count, customer=b"\x01\x02\x03\x04\x05\x06"):
    mac1, mac2 = TK.recharge_macs(E.TEST_KEY, r2, m.esam.serial, cents, count, customer)
    item = S.Recharge(b"\x00" * 4, cents, count, mac1, customer, mac2)
    return ask(m, Security(S.DI_RECHARGE, item.encode()), t)


def test_esam_recharge_refusals_and_status():
    m = local_meter()
    t = T0 + 3600
    assert _recharge(m, t, b"\x00" * 4, 5000, 2).reasons == ["identity_authentication_failed"]
    r2 = _authenticate(m, t)
    assert isinstance(_recharge(m, t, r2, 5000, 2), Ack)
    assert value(m, Read(DI.DI_REMAINING_MONEY), t + 1) == pytest.approx(74.0, abs=0.01)
    assert _recharge(m, t + 2, r2, 5000, 2).reasons == ["repeat_recharge"]
    assert _recharge(m, t + 3, r2, 5000, 5).reasons == ["recharge_count_error"]
    assert _recharge(m, t + 4, r2, 5000, 3, b"\x09" * 6).reasons == ["customer_mismatch"]
    assert _recharge(m, t + 4, b"\x00" * 4, 5000, 3).reasons == ["esam_verify_failed"]
    assert _recharge(m, t + 5, r2, 99999900, 3).reasons == ["purchase_exceeds_hoarding_limit"]
    status = ask(m, Security(S.DI_STATUS, b"\x00" * 4), t + 6)
    st = S.Status.parse(status.data[4:])
    assert (st.count, st.customer) == (2, b"\x01\x02\x03\x04\x05\x06")
    assert (st.mac_remaining, st.mac_count) == TK.status_macs(E.TEST_KEY, r2, m.esam.serial,
                                                              st.remaining_cents, 2)
    assert _recharge(m, t + 4000, r2, 100, 3).reasons == ["identity_authentication_failed"]


def test_secured_meter_refuses_plaintext_control():
    m = Meter("000000000042", T0, ConstantLoad(1.0), esam=TestEsam(), plaintext_control=False)
    assert ask(m, Control(K.CTRL_TRIP, T0 + DAY), T0 + 60).reasons == ["password_or_unauthorised"]
    assert m.relay.closed


def test_power_down_event_and_silence():
    m = meter()
    m.power_down(T0 + 3600)
    assert ask(m, Read(0x00010000), T0 + 3700) is None
    m.power_up(T0 + 7200)
    rec = value(m, Read(DI.parse("03110001")), T0 + 7201)
    assert (rec["start"], rec["end"]) == ("2026-03-01 01:00:00", "2026-03-01 02:00:00")
    assert value(m, Read(0x00010000), T0 + 7201) == pytest.approx(1.0, abs=0.01)


def test_cover_open_meter_clear_event_clear():
    m = meter()
    m.open_cover(T0 + 60)
    m.close_cover(T0 + 120)
    assert value(m, Read(DI.parse("03300D00")), T0 + 130) == 1
    assert isinstance(ask(m, MeterClear(0x02, PW), T0 + 3600), Ack)
    assert value(m, Read(0x00010000), T0 + 3600) == 0.0
    assert value(m, Read(DI.parse("03300D00")), T0 + 3601) == 0
    assert value(m, Read(DI.parse("03300100")), T0 + 3601) == 1
    assert isinstance(ask(m, EventClear(0xFFFFFFFF, 0x02, PW), T0 + 3700), Ack)
    assert value(m, Read(DI.parse("03300300")), T0 + 3701) == 1


def test_change_password_baud_write_address_and_instant_freeze():
    m = meter()
    assert isinstance(ask(m, ChangePassword(0x02, PW, 0x04, b"\x12\x34\x56"), T0), Ack)
    assert isinstance(ask(m, Write(DI.DI_TIME, b"\x00\x00\x12", 0x04, b"\x12\x34\x56"), T0 + 1), Ack)
    assert ask(m, ChangeBaud(0x20), T0 + 2).data == b"\x20" and m.baud == 9600
    assert ask(m, ChangeBaud(0x16), T0 + 3).reasons == ["baud_not_changeable"]
    assert ask(m, WriteAddress(address("000000000077")), T0 + 4).reasons == ["password_or_unauthorised"]
    m.programming_allowed = True
    assert isinstance(ask(m, WriteAddress(address("000000000077")), T0 + 5), Ack)
    assert m.addr == address("000000000077")
    assert isinstance(ask(m, Freeze(), T0 + 3600), Ack)
    assert value(m, Read(DI.parse("05010101")), T0 + 3601)["total"] > 0


def test_unknown_item_no_data_and_passwords_unreadable():
    m = meter()
    assert ask(m, Read(0x12345678), T0).reasons == ["no_requested_data"]
    assert ask(m, Read(DI.DI_PASSWORD_0 + 2), T0).reasons == ["password_or_unauthorised"]


def test_meter_speaking_645_1997():
    m = meter(protocol=1997)
    raw = encode_frame(v1997.Read97(0x9010).to_frame(m.addr))
    reply = v1997.parse_reply_97(decode_frame(m.handle(raw, T0 + 3600)))
    assert reply.value() == ("forward_active_total", 1.0, "kWh")
    raw = encode_frame(v1997.Read97(0xB611).to_frame(m.addr))
    assert v1997.parse_reply_97(decode_frame(m.handle(raw, T0 + 3600))).value()[1] == 219
    raw = encode_frame(v1997.Read97(0x1234).to_frame(m.addr))
    assert v1997.parse_reply_97(decode_frame(m.handle(raw, T0))).reasons == ["no_requested_data"]


def test_esam_validity_setting_and_session_end():
    m = local_meter()
    t = T0 + 3600
    r2 = _authenticate(m, t)
    bad = S.IdentityValidity(b"\x00" * 4, 1, b"\x00" * 4)
    assert ask(m, Security(S.DI_IDENTITY_VALIDITY, bad.encode()), t + 1).reasons == ["esam_verify_failed"]
    good = S.IdentityValidity(b"\x00" * 4, 1, TK.validity_mac(E.TEST_KEY, r2, m.esam.serial, 1))
    assert isinstance(ask(m, Security(S.DI_IDENTITY_VALIDITY, good.encode()), t + 2), Ack)
    assert m.esam.session(t + 61) is not None and m.esam.session(t + 63) is None   # 1 minute now
    r2 = _authenticate(m, t + 100)
    assert isinstance(ask(m, Security(S.DI_IDENTITY_END, b"\x00" * 4), t + 101), Ack)
    assert ask(m, Security(S.DI_STATUS, b"\x00" * 4), t + 102).reasons == \
        ["identity_authentication_failed"]
