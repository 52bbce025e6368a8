"""DL/T 645 function 0x03 security items (安全认证) and the SERR word: byte layouts only.

The items, their data lengths and field orders are those of public smart-meter firmware
(docs/dlt645-security.md names the sources). Layouts are the data field after the 4-byte DI,
already without the +33H offset; integers (amounts in 0.01 yuan, counts) are binary, low byte
first. What the ESAM computes (ciphertext, MACs) is opaque bytes here: see ``testkey`` for the
TEST scheme the simulator pairs with. MicroPython-safe.
"""
from protocols.dlt645._compat import const
from protocols.dlt645.errors import DecodeError, EncodeError

DI_IDENTITY = const(0x070000FF)         # 身份认证: cipher 1, random 1, factor -> random 2, ESAM serial
DI_IDENTITY_VALIDITY = const(0x070001FF)   # 身份认证时效设置: minutes + MAC
DI_IDENTITY_END = const(0x070002FF)     # 身份认证失效: ends the session, answers the wallet
DI_ACCOUNT_OPEN = const(0x070101FF)     # 开户: first purchase with the customer number
DI_RECHARGE = const(0x070102FF)         # 充值: amount, purchase count, customer number, MACs
DI_KEY_PARAMETER = const(0x070201FF)    # 参数密钥更新
DI_KEY_CONTROL = const(0x070202FF)      # 控制命令密钥更新
DI_KEY_IDENTITY = const(0x070203FF)     # 远程身份认证密钥更新
DI_READBACK = const(0x078001FF)         # 数据回抄: ESAM file data + MAC
DI_STATUS = const(0x078102FF)           # 状态查询: remaining money, purchase count, customer, key info

NAMES = {
    DI_IDENTITY: "identity", DI_IDENTITY_VALIDITY: "identity_validity",
    DI_IDENTITY_END: "identity_end", DI_ACCOUNT_OPEN: "account_open", DI_RECHARGE: "recharge",
    DI_KEY_PARAMETER: "key_update_parameter", DI_KEY_CONTROL: "key_update_control",
    DI_KEY_IDENTITY: "key_update_identity", DI_READBACK: "readback", DI_STATUS: "status",
}
# request data length after the DI (operator code included), from the firmware's table
REQUEST_LEN = {
    DI_IDENTITY: 28, DI_IDENTITY_VALIDITY: 10, DI_IDENTITY_END: 4, DI_ACCOUNT_OPEN: 26,
    DI_RECHARGE: 26, DI_KEY_PARAMETER: 44, DI_KEY_CONTROL: 44, DI_KEY_IDENTITY: 44,
    DI_READBACK: 12, DI_STATUS: 4,
}
SEALED_CONTROL_LEN = const(20)          # 0x1C level 98: 16 bytes ciphertext of N1..N8 + 4 MAC

# SERR (2 bytes, low first) of an abnormal 0x03 / secured reply: bit -> name
SERR_BITS = (
    (0x0001, "other"), (0x0002, "repeat_recharge"), (0x0004, "esam_verify_failed"),
    (0x0008, "identity_authentication_failed"), (0x0010, "customer_mismatch"),
    (0x0020, "recharge_count_error"), (0x0040, "purchase_exceeds_hoarding_limit"),
    (0x0080, "address_error"), (0x0100, "meter_suspended"),
)
SERR_SESSION = const(0x0008)            # a session problem: authenticate again


def serr_names(word):
    """Names of the bits set in a SERR word (unknown bits as ``bitN``)."""
    out = [name for bit, name in SERR_BITS if word & bit]
    known = 0
    for bit, _ in SERR_BITS:
        known |= bit
    for n in range(16):
        if word & ~known & (1 << n):
            out.append("bit%d" % n)
    return out


def _u32(value, field):
    if not 0 <= value <= 0xFFFFFFFF:
        raise EncodeError(field, "needs 0..4294967295, got %r" % (value,))
    return bytes([value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF, (value >> 24) & 0xFF])


def _get_u32(data):
    return data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)


def _fixed(value, n, field):
    value = bytes(value)
    if len(value) != n:
        raise EncodeError(field, "needs %d bytes, got %d" % (n, len(value)))
    return value


def _need(data, n, field):
    if len(data) != n:
        raise DecodeError(field, "needs %d data bytes, got %d" % (n, len(data)), data)


class Layout:
    """Base: ``encode()`` the data after the DI, ``parse(data)`` back; equal when bytes are."""

    name = "layout"
    FIELDS: tuple = ()

    def __eq__(self, other):
        return type(self) is type(other) and self.encode() == other.encode()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (f, getattr(self, f)) for f in self.FIELDS))


class IdentityAuth(Layout):
    """070000FF request: operator(4) cipher 1(8) random 1(8) dispersion factor(8)."""

    name = "identity"
    FIELDS = ("operator", "cipher1", "random1", "factor")

    def __init__(self, operator, cipher1, random1, factor):
        self.operator = _fixed(operator, 4, "identity.operator")
        self.cipher1 = _fixed(cipher1, 8, "identity.cipher1")
        self.random1 = _fixed(random1, 8, "identity.random1")
        self.factor = _fixed(factor, 8, "identity.factor")

    def encode(self):
        return self.operator + self.cipher1 + self.random1 + self.factor

    @classmethod
    def parse(cls, data):
        _need(data, 28, "identity")
        return cls(data[0:4], data[4:12], data[12:20], data[20:28])


class IdentityReply(Layout):
    """070000FF answer: random 2(4) ESAM serial(8)."""

    name = "identity_reply"
    FIELDS = ("random2", "serial")

    def __init__(self, random2, serial):
        self.random2 = _fixed(random2, 4, "identity_reply.random2")
        self.serial = _fixed(serial, 8, "identity_reply.serial")

    def encode(self):
        return self.random2 + self.serial

    @classmethod
    def parse(cls, data):
        _need(data, 12, "identity_reply")
        return cls(data[0:4], data[4:12])


class IdentityValidity(Layout):
    """070001FF request: operator(4) validity minutes(2, BCD, low first) MAC(4)."""

    name = "identity_validity"
    FIELDS = ("operator", "minutes", "mac")

    def __init__(self, operator, minutes, mac):
        if not 0 < minutes <= 9999:
            raise EncodeError("identity_validity.minutes", "needs 1..9999, got %r" % (minutes,))
        self.operator = _fixed(operator, 4, "identity_validity.operator")
        self.minutes = int(minutes)
        self.mac = _fixed(mac, 4, "identity_validity.mac")

    def encode(self):
        m = self.minutes
        lo, hi = m % 100, m // 100
        return self.operator + bytes([(lo // 10) << 4 | lo % 10, (hi // 10) << 4 | hi % 10]) + self.mac

    @classmethod
    def parse(cls, data):
        _need(data, 10, "identity_validity")
        digits = []
        for b in (data[5], data[4]):
            if b >> 4 > 9 or b & 0xF > 9:
                raise DecodeError("identity_validity.minutes", "not BCD", data[4:6], 4)
            digits.append((b >> 4) * 10 + (b & 0xF))
        minutes = digits[0] * 100 + digits[1]
        if minutes == 0:
            raise DecodeError("identity_validity.minutes", "zero minutes", data[4:6], 4)
        return cls(data[0:4], minutes, data[6:10])


class Recharge(Layout):
    """070102FF (and 070101FF account opening) request: operator(4) amount(4, 0.01 yuan)
    purchase count(4) MAC 1(4) customer number(6) MAC 2(4)."""

    name = "recharge"
    FIELDS = ("operator", "amount_cents", "count", "mac1", "customer", "mac2")

    def __init__(self, operator, amount_cents, count, mac1, customer, mac2):
        self.operator = _fixed(operator, 4, "recharge.operator")
        _u32(amount_cents, "recharge.amount")
        _u32(count, "recharge.count")
        self.amount_cents = int(amount_cents)
        self.count = int(count)
        self.mac1 = _fixed(mac1, 4, "recharge.mac1")
        self.customer = _fixed(customer, 6, "recharge.customer")
        self.mac2 = _fixed(mac2, 4, "recharge.mac2")

    def encode(self):
        return (self.operator + _u32(self.amount_cents, "recharge.amount")
                + _u32(self.count, "recharge.count") + self.mac1 + self.customer + self.mac2)

    @classmethod
    def parse(cls, data):
        _need(data, 26, "recharge")
        return cls(data[0:4], _get_u32(data[4:8]), _get_u32(data[8:12]), data[12:16],
                   data[16:22], data[22:26])


class Status(Layout):
    """078102FF answer: remaining money(4, 0.01 yuan) MAC(4) purchase count(4) MAC(4)
    customer number(6) key information(4)."""

    name = "status"
    FIELDS = ("remaining_cents", "mac_remaining", "count", "mac_count", "customer", "key_info")

    def __init__(self, remaining_cents, mac_remaining, count, mac_count, customer, key_info):
        _u32(remaining_cents, "status.remaining")
        _u32(count, "status.count")
        self.remaining_cents = int(remaining_cents)
        self.mac_remaining = _fixed(mac_remaining, 4, "status.mac_remaining")
        self.count = int(count)
        self.mac_count = _fixed(mac_count, 4, "status.mac_count")
        self.customer = _fixed(customer, 6, "status.customer")
        self.key_info = _fixed(key_info, 4, "status.key_info")

    def encode(self):
        return (_u32(self.remaining_cents, "status.remaining") + self.mac_remaining
                + _u32(self.count, "status.count") + self.mac_count + self.customer + self.key_info)

    @classmethod
    def parse(cls, data):
        _need(data, 26, "status")
        return cls(_get_u32(data[0:4]), data[4:8], _get_u32(data[8:12]), data[12:16],
                   data[16:22], data[22:26])


class SealedControl(Layout):
    """0x1C at level 98: N1..N8 travel as 16 bytes of ciphertext and a 4-byte MAC."""

    name = "sealed_control"
    FIELDS = ("cipher", "mac")

    def __init__(self, cipher, mac):
        self.cipher = _fixed(cipher, 16, "sealed_control.cipher")
        self.mac = _fixed(mac, 4, "sealed_control.mac")

    def encode(self):
        return self.cipher + self.mac

    @classmethod
    def parse(cls, data):
        _need(data, SEALED_CONTROL_LEN, "sealed_control")
        return cls(data[0:16], data[16:20])


REQUESTS = {DI_IDENTITY: IdentityAuth, DI_IDENTITY_VALIDITY: IdentityValidity,
            DI_ACCOUNT_OPEN: Recharge, DI_RECHARGE: Recharge}
REPLIES = {DI_IDENTITY: IdentityReply, DI_STATUS: Status}


def parse_request(di, data):
    """The typed layout of a 0x03 request's data after ``di``; DecodeError when it is not one."""
    cls = REQUESTS.get(di)
    if cls is None:
        if di not in NAMES:
            raise DecodeError("security.DI", "not a security item", bytes(data[:0]))
        _need(data, REQUEST_LEN[di], NAMES[di])
        return bytes(data)
    return cls.parse(data)


def parse_reply(di, data):
    """The typed layout of a 0x03 answer's data after ``di`` (raw bytes for items without one)."""
    cls = REPLIES.get(di)
    return bytes(data) if cls is None else cls.parse(data)
