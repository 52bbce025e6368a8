"""DL/T 645-2007 control codes, error bits and remote-control commands."""
from protocols.dlt645._compat import const

# Control code C: D7 direction (1 = slave reply), D6 abnormal reply, D5 follow-up frame, D4..D0 function.
DIR_REPLY = const(0x80)
ABNORMAL = const(0x40)
FOLLOW_UP = const(0x20)
FUNCTION_MASK = const(0x1F)

# 2007 function codes (libdlt645.h / liming dlt645_api_07.c).
F_SECURITY = const(0x03)        # 安全认证 (ESAM)
F_BROADCAST_TIME = const(0x08)  # 广播校时
F_READ = const(0x11)
F_READ_FOLLOW_UP = const(0x12)
F_READ_ADDRESS = const(0x13)
F_WRITE = const(0x14)
F_WRITE_ADDRESS = const(0x15)
F_FREEZE = const(0x16)
F_CHANGE_BAUD = const(0x17)
F_CHANGE_PASSWORD = const(0x18)
F_DEMAND_RESET = const(0x19)
F_METER_CLEAR = const(0x1A)
F_EVENT_CLEAR = const(0x1B)
F_CONTROL = const(0x1C)         # 跳闸、报警、保电

FUNCTION_NAMES = {
    0x03: "security", 0x08: "broadcast_time", 0x11: "read", 0x12: "read_follow_up",
    0x13: "read_address", 0x14: "write", 0x15: "write_address", 0x16: "freeze",
    0x17: "change_baud", 0x18: "change_password", 0x19: "demand_reset", 0x1A: "meter_clear",
    0x1B: "event_clear", 0x1C: "control", 0x1D: "multi_function_output", 0x1E: "vendor_file",
}

# 645-1997 function codes (gams constants.py).
F97_READ = const(0x01)
F97_READ_FOLLOW_UP = const(0x02)
F97_REREAD = const(0x03)
F97_WRITE = const(0x04)
F97_BROADCAST_TIME = const(0x08)
F97_WRITE_ADDRESS = const(0x0A)
F97_CHANGE_BAUD = const(0x0C)
F97_CHANGE_PASSWORD = const(0x0F)
F97_DEMAND_RESET = const(0x10)

FUNCTION_NAMES_1997 = {
    0x01: "read", 0x02: "read_follow_up", 0x03: "reread", 0x04: "write", 0x08: "broadcast_time",
    0x0A: "write_address", 0x0C: "change_baud", 0x0F: "change_password", 0x10: "demand_reset",
}

# ERR byte of an abnormal reply (libdlt645.h errCode_s).
ERR_OTHER = const(0x01)
ERR_NO_DATA = const(0x02)
ERR_PASSWORD = const(0x04)          # password wrong / not authorised
ERR_BAUD = const(0x08)
ERR_YEAR_ZONES = const(0x10)
ERR_DAY_SLOTS = const(0x20)
ERR_TARIFFS = const(0x40)
ERR_BITS = (
    (0x01, "other"), (0x02, "no_requested_data"), (0x04, "password_or_unauthorised"),
    (0x08, "baud_not_changeable"), (0x10, "year_zones_exceeded"), (0x20, "day_slots_exceeded"),
    (0x40, "tariffs_exceeded"),
)

# SERR word (2 bytes, low first) for security and cost-control commands (secureCode_s).
SERR_OTHER = const(0x0001)
SERR_REPEAT_RECHARGE = const(0x0002)
SERR_ESAM_VERIFY = const(0x0004)
SERR_IDENTITY = const(0x0008)
SERR_CUSTOMER = const(0x0010)
SERR_RECHARGE_COUNT = const(0x0020)
SERR_HOARDING = const(0x0040)
SERR_BITS = (
    (0x0001, "other"), (0x0002, "repeat_recharge"), (0x0004, "esam_verify_failed"),
    (0x0008, "identity_authentication_failed"), (0x0010, "customer_mismatch"),
    (0x0020, "recharge_count_error"), (0x0040, "purchase_exceeds_hoarding_limit"),
)

# Remote control N1 (0x1C).
CTRL_TRIP = const(0x1A)             # 跳闸
CTRL_ALLOW_CLOSE = const(0x1B)      # 合闸允许 (customer closes with the button)
CTRL_DIRECT_CLOSE = const(0x1C)     # 直接合闸 (2013 amendment)
CTRL_ALARM = const(0x2A)            # 报警
CTRL_ALARM_RELEASE = const(0x2B)    # 报警解除
CTRL_KEEP_POWER = const(0x3A)       # 保电
CTRL_KEEP_POWER_RELEASE = const(0x3B)  # 保电解除

# Status word 3 (DI 04000503) bits the relay shows (PROTOCOLS.md; bit 12 from the 2013 amendment)
ST3_RELAY_OPEN = const(1 << 4)      # the contact is open
ST3_CMD_OPEN = const(1 << 6)        # the last relay command was a trip
ST3_ALARM = const(1 << 7)
ST3_KEEP_POWER = const(1 << 12)     # UNVERIFIED position
CONTROL_NAMES = {
    0x1A: "trip", 0x1B: "allow_close", 0x1C: "direct_close", 0x2A: "alarm",
    0x2B: "alarm_release", 0x3A: "keep_power", 0x3B: "keep_power_release",
}

# Password levels: 0x02/0x04 plaintext, 0x98 ESAM ciphertext (mandatory on cost-control meters).
LEVEL_CIPHER = const(0x98)

BROADCAST_ADDR = b"\x99\x99\x99\x99\x99\x99"
WILDCARD = const(0xAA)
ALL_AA = b"\xAA\xAA\xAA\xAA\xAA\xAA"

# Baud-rate feature word Z (bit field): bit1 600 .. bit6 19200.
BAUD_BITS = ((0x02, 600), (0x04, 1200), (0x08, 2400), (0x10, 4800), (0x20, 9600), (0x40, 19200))

MAX_READ_DATA = const(200)    # L limit for reads
MAX_WRITE_DATA = const(50)    # L limit for writes
# Timing (§5.3.3): reply delay 20 ms <= Td <= 500 ms, inter-byte gap Tb <= 500 ms.
REPLY_DELAY_MIN = 0.020
REPLY_DELAY_MAX = 0.500
INTER_BYTE_MAX = 0.500


def error_names(err):
    """Names of the bits set in an ERR byte."""
    return [name for bit, name in ERR_BITS if err & bit]


def serr_names(serr):
    """Names of the bits set in a SERR word."""
    return [name for bit, name in SERR_BITS if serr & bit]


def baud_word(baud):
    """Feature word for a baud rate; ValueError for non-standard rates."""
    for bit, rate in BAUD_BITS:
        if rate == baud:
            return bit
    raise ValueError("no standard feature word for %r bps" % (baud,))


def baud_of_word(word):
    """Baud rate of a feature word with exactly one rate bit set, else None."""
    for bit, rate in BAUD_BITS:
        if word == bit:
            return rate
    return None
