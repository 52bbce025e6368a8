"""The uplink's metric samples: link up, age of the master's last confirm, session events, and the
backlog: readings still to go upstream and an estimate of the bytes they take on the wire."""
from protocols.errors import ProtocolError
from protocols.gdw1376_1.units import encode_units

from hostlink.metrics import Sample

# the session's events, exported from zero; any other the session counts is added as it comes
SESSION_EVENTS = ("connected", "dial_failed", "login_confirmed", "login_denied", "login_timeout",
                  "heartbeat_missed", "heartbeat_dead", "seq_exhausted", "logout", "lost",
                  "garbage", "upload_frames", "upload_confirmed", "upload_denied",
                  "upload_timeout", "confirm_late")


def backlog_bytes(uplink, by_task):
    """Estimated bytes of the backlog on the wire. Per task: its readings times the encoded
    size of the data unit of its oldest one, plus one frame's overhead for every frame those
    units fill at ``frame_bytes`` each. Exact for fixed-size units (freezes of one tariff
    count), an estimate for curves and events, whose units vary in length."""
    session = uplink.session
    total = 0
    for task, (n, first) in sorted(by_task.items()):
        r = uplink.store.reading(first)
        try:
            unit = None if r is None else uplink.upload_unit(r)
            size = 0 if unit is None else len(encode_units([unit]))
        except (ProtocolError, ValueError, TypeError, KeyError):
            continue                 # what cannot be encoded is dropped, not sent
        if not size:
            continue                 # no measuring point: dropped at upload
        frames = -(-n // max(1, session.settings.frame_bytes // size))
        total += n * size + frames * session.upload_overhead(unit.afn)
    return total


def uplink_samples(uplink, now):
    """Samples of ``uplink`` (``edge.uplink.Uplink``) at monotonic ``now``."""
    session = uplink.session
    since = session.last_confirm if session.last_confirm is not None else uplink.started
    by_task = uplink.store.backlog_by_task()
    out = [
        Sample("gridedge_uplink_connected", "gauge",
               "1 while the terminal is logged in to the master station, else 0.", {},
               1 if session.online else 0),
        Sample("gridedge_uplink_last_confirm_age_seconds", "gauge",
               "Seconds since the master last confirmed a frame of ours (login, heartbeat,"
               " upload); since the agent started when it never did.", {},
               max(0.0, now - since)),
        Sample("gridedge_uplink_backlog_readings", "gauge",
               "Readings still to go upstream (not yet confirmed by the master).", {},
               sum(n for n, _ in by_task.values())),
        Sample("gridedge_uplink_backlog_bytes", "gauge",
               "Estimated bytes the backlog takes on the wire (data units and frame overhead;"
               " docs/METRICS.md says how).", {}, backlog_bytes(uplink, by_task)),
    ]
    counts = dict.fromkeys(SESSION_EVENTS, 0)
    counts.update(session.counters)
    for event, n in sorted(counts.items()):
        out.append(Sample("gridedge_uplink_session_events_total", "counter",
                          "Events of the 1376.1 session (dials, logins, losses, heartbeats,"
                          " uploads).", {"event": event}, n))
    return out
