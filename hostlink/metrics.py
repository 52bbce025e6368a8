"""Metric samples, and the master station's own figures (``gridedge master --metrics``): terminals
online, logins, units received, denials sent, garbage bytes. Exposition is the runtime's job."""

SECOND_LOGINS = ("replaced", "refused")
# station counters with a family of their own; every other one is an event of the station
OWN_FAMILY = ("denied", "garbage", "garbage_bytes", "login_replaced", "login_refused")


class Sample:
    """One metric sample: ``kind`` is 'counter', 'gauge' or 'histogram' (``value`` then is
    ``(buckets, sum)``: cumulative ``[(upper_bound, count)]`` ending with +Inf)."""

    __slots__ = ("name", "kind", "help", "labels", "value")

    def __init__(self, name, kind, help_text, labels, value):
        self.name = name
        self.kind = kind
        self.help = help_text
        self.labels = labels
        self.value = value

    def __repr__(self):
        return "Sample(%s%r %r)" % (self.name, self.labels, self.value)


def master_samples(server):
    """Every sample of a ``hostlink.aio.MasterServer`` now (call it on the server's loop)."""
    stats = server.stats()
    store = server.store
    counts = store.counts()
    logins = sum(t["logins"] for t in store.terminals())
    out = [
        Sample("gridedge_master_terminals_online", "gauge",
               "Terminals logged in on an open connection.", {}, len(server.online())),
        Sample("gridedge_master_connections", "gauge",
               "Concentrator connections open (logged in or not yet).", {},
               server.open_connections),
        Sample("gridedge_master_logins_total", "counter", "Logins (AFN02 F1) accepted.", {},
               logins),
        Sample("gridedge_master_units_received_total", "counter",
               "Uploaded data units received, repeats included.", {}, counts["deliveries"]),
        Sample("gridedge_master_units_stored", "gauge",
               "Distinct data units in the station's database.", {}, counts["units"]),
        Sample("gridedge_master_denials_total", "counter",
               "Denials (AFN00 F2) sent to concentrators.", {}, stats.get("denied", 0)),
        Sample("gridedge_master_garbage_total", "counter",
               "Runs of bytes on concentrator connections that were no frame.", {},
               stats.get("garbage", 0)),
        Sample("gridedge_master_garbage_bytes_total", "counter",
               "Bytes on concentrator connections that were no frame.", {},
               stats.get("garbage_bytes", 0)),
    ]
    for outcome in SECOND_LOGINS:
        out.append(Sample("gridedge_master_second_logins_total", "counter",
                          "Logins with an address already connected, by what the login policy"
                          " did.", {"outcome": outcome}, stats.get("login_" + outcome, 0)))
    for name, n in sorted(stats.items()):
        if name not in OWN_FAMILY:
            out.append(Sample("gridedge_master_events_total", "counter",
                              "Other station events (connections cut and why, frames refused).",
                              {"event": name}, n))
    return out
