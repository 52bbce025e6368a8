"""``[uplink]`` of agent.toml, declared: where the master is, who we are, what protects the
terminal (PW, time labels, replay window, forwarding policy, denials before a reading is
rejected) and the session timing (``hostlink.session.SessionSettings``). Every key has a type,
range and unit, so ``reconnect_min_s = -5`` or ``heartbeat_s = 0`` is refused at load with its
place, like every other section (``gridedge schema`` prints the reference)."""
import inspect

from edge.schema import (INHERIT, OPTIONAL, REQUIRED, Bool, Float, Int, List, Section, Text,
                         host_port)
from edge.uplink_guard import FORWARD_ALLOW
from hostlink.session import MAX_WINDOW, SessionSettings

PASSWORD_PLACEHOLDER = "CHANGE-ME"           # what edge/deploy/agent.toml ships with
PASSWORD_HOWTO = ("set [uplink] password to the 32 hex digits the master station uses for this"
                  " terminal (a new one: python3 -c 'import secrets;"
                  " print(secrets.token_hex(16))')")


def _password(text):
    """The 16-byte PW from its hex text; the shipped placeholder and all-zero are refused."""
    if not isinstance(text, str) or text.startswith(PASSWORD_PLACEHOLDER):
        raise ValueError("password is still the example's placeholder: " + PASSWORD_HOWTO)
    try:
        pw = bytes.fromhex(text)
    except ValueError:
        raise ValueError("password is 32 hex digits, got %r" % text) from None
    if len(pw) != 16:
        raise ValueError("password is 16 bytes (32 hex digits), got %d" % len(pw))
    if pw == bytes(16):
        raise ValueError("an all-zero password is every terminal's default: " + PASSWORD_HOWTO)
    return pw


def _password_problem(text):
    try:
        _password(text)
    except ValueError as exc:
        return str(exc)
    return None


def _region(text):
    return None if len(text) == 4 and text.isdigit() else "need 4 digits, got %r" % (text,)


def _reconnect_order(values):
    lo = values.get("reconnect_min_s", SESSION_DEFAULTS["reconnect_min_s"])
    hi = values.get("reconnect_max_s", SESSION_DEFAULTS["reconnect_max_s"])
    return [] if lo <= hi else [("reconnect_min_s", "must not exceed reconnect_max_s (%g)" % hi)]


SESSION_DEFAULTS = {k: p.default for k, p in
                    inspect.signature(SessionSettings).parameters.items()}
SESSION_FIELDS = [
    Float("heartbeat_s", INHERIT, None, 86400, "s", "AFN02 F3 heartbeat period", gt=0),
    Float("confirm_timeout_s", INHERIT, None, 3600, "s", "wait this long for a confirm", gt=0),
    Int("login_tries", INHERIT, 1, 100, "", "logins sent before the connection is dropped"),
    Int("max_missed", INHERIT, 1, 100, "", "unconfirmed heartbeats before the link is down"),
    Float("reconnect_min_s", INHERIT, None, 86400, "s", "first back-off after a failed dial "
          "(doubles per failure)", gt=0),
    Float("reconnect_max_s", INHERIT, None, 86400, "s", "longest back-off", gt=0),
    Float("jitter", INHERIT, 0, 0.95, "", "each wait is (1 - jitter .. 1) x the back-off"),
    Int("window", INHERIT, 1, MAX_WINDOW, "frames", "upload frames awaiting a confirm at once"),
    Float("upload_per_s", INHERIT, None, 1000, "frames/s", "upload rate after a reconnect "
          "(token bucket, no burst)", gt=0),
    Int("frame_bytes", INHERIT, 64, 16000, "bytes", "data-unit bytes per upload frame"),
    Float("late_confirm_s", OPTIONAL, 0, 86400, "s", "a SEQ whose confirm timed out stays out "
          "of use this long (default: 4 x confirm_timeout_s)"),
]
for _f in SESSION_FIELDS:
    if _f.default is INHERIT:
        _f.default = SESSION_DEFAULTS[_f.name]


class UplinkSettings:
    """The terminal's uplink settings; ``password`` None (simulations) refuses every frame
    that needs it. Session timing comes as ``session`` or as its keys (``heartbeat_s=`` ...)."""

    def __init__(self, master, region="0000", terminal=1, tls=False, cafile=None,
                 certfile=None, keyfile=None, password=None, check_tp="require", seed=0,
                 tp_skew_s=300.0, replay_window=1024, forward_allow=(), max_denies=3,
                 active_upload=True, session=None, **timing):
        given = {k: v for k, v in (("region", region), ("terminal", terminal),
                                   ("check_tp", check_tp), ("tp_skew_s", tp_skew_s),
                                   ("replay_window", replay_window),
                                   ("forward_allow", list(forward_allow)),
                                   ("max_denies", max_denies),
                                   ("active_upload", active_upload))}
        UPLINK.check_values(given)
        self.master = master
        self.region = region
        self.terminal = terminal
        self.tls = tls
        self.cafile = cafile
        self.certfile = certfile
        self.keyfile = keyfile
        self.password = None if password is None else _password(password)
        self.check_tp = check_tp
        self.seed = seed
        self.session = session or SessionSettings(**timing)
        self.tp_skew_s = tp_skew_s              # a label may be this far ahead of our clock
        self.replay_window = replay_window      # labels kept at most (two keys per frame)
        self.forward_allow = tuple(forward_allow)
        self.max_denies = max_denies            # denials before a reading is rejected
        self.active_upload = active_upload      # False: a pull-only terminal (answers only)

    @classmethod
    def from_dict(cls, doc):
        """From the ``[uplink]`` table; SchemaError names every bad key with its place."""
        return UPLINK.build(doc, "uplink")


UPLINK = Section("uplink", "The 1376.1 uplink to the master station (edge.uplink).", [
    Text("master", REQUIRED, "HOST:PORT of the master station", check=host_port),
    Text("region", INHERIT, "A1 region code (行政区划码), 4 digits as printed", check=_region),
    Int("terminal", INHERIT, 0, 0xFFFF, "", "A2 terminal address"),
    Text("password", REQUIRED, "PW of control/set/forward frames: 32 hex digits (not the "
         "example's placeholder, not all zeros)", check=_password_problem),
    Text("check_tp", INHERIT, "state-changing frames need a fresh time label (the only value)",
         ("require",)),
    Float("tp_skew_s", INHERIT, 0, 3600, "s", "a time label may be this far ahead of our clock"),
    Int("replay_window", INHERIT, 16, 1_000_000, "labels", "labels of acted-on frames kept "
        "until they expire"),
    List("forward_allow", Text("", choices=FORWARD_ALLOW), INHERIT, (0, len(FORWARD_ALLOW)), "",
         "AFN10 F1 kinds allowed beyond reads and journaled relay controls"),
    Int("max_denies", INHERIT, 1, 100, "", "an upload denied this often is rejected (kept, "
        "counted)"),
    Bool("active_upload", INHERIT, doc="upload freezes, curves and events on our own (false: "
         "a pull-only terminal the master asks)"),
    Bool("tls", INHERIT, doc="TLS to the master"),
    Text("cafile", OPTIONAL, "CA bundle for TLS"),
    Text("certfile", OPTIONAL, "client certificate for TLS"),
    Text("keyfile", OPTIONAL, "client key for TLS"),
    Int("seed", INHERIT, 0, 2 ** 32 - 1, "", "seed of the dial jitter"),
] + SESSION_FIELDS, checks=[_reconnect_order], target=UplinkSettings)
