"""Price campaigns (调价): a new rate table (flat, time-of-use, ladder) effective at an instant
for a set of meters (all, a tariff class, a list), and each meter's state in the store.

    pending --write--> written --read_back--> verified --switched--> switched
       |  (no answer)     any open state --fail--> failed (with the reason)
       +--> unreachable (still retried; a later answer moves it on)

Local-cost-control meters get the standby set written and verified (``edge.prepaid.reprice``);
remote-cost-control customers are switched in the agent's own ledger at the same instant
(``edge.prepaid.pricing``), their state ``pending`` until a charge crossed the switch.
The input file (``prices.toml``) is declared here and checked whole before anything is stored.
"""
import json

from protocols.civil import iso, parse_local

from edge.prepaid.tariff import Ladder, TariffError, tariff_from_dict
from edge.schema import REQUIRED, OPTIONAL, Field, Float, List, Section, SchemaError, Table, \
    Tables, Text, read_toml
from edge.store import transaction

PENDING, WRITTEN, VERIFIED, SWITCHED = "pending", "written", "verified", "switched"
FAILED, UNREACHABLE = "failed", "unreachable"
STATES = (PENDING, WRITTEN, VERIFIED, SWITCHED, FAILED, UNREACHABLE)
OPEN = (PENDING, WRITTEN, VERIFIED, UNREACHABLE)
TRANSITIONS = {
    (PENDING, "write"): WRITTEN, (UNREACHABLE, "write"): WRITTEN,
    (PENDING, "no_answer"): UNREACHABLE, (UNREACHABLE, "no_answer"): UNREACHABLE,
    (WRITTEN, "no_answer"): WRITTEN, (VERIFIED, "no_answer"): VERIFIED,
    (WRITTEN, "read_back"): VERIFIED, (VERIFIED, "switched"): SWITCHED,
    (PENDING, "switched"): SWITCHED,
}
for _s in OPEN:
    TRANSITIONS[(_s, "fail")] = FAILED
MAX_LADDER_BLOCKS = 7           # 6 ladder values and 7 prices (04060AFF)

SCHEMA = """
CREATE TABLE IF NOT EXISTS campaign (
    id TEXT PRIMARY KEY, effective REAL NOT NULL, tariff TEXT NOT NULL, target TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS campaign_meter (
    campaign TEXT NOT NULL, meter TEXT NOT NULL, mode TEXT NOT NULL, state TEXT NOT NULL,
    reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, history TEXT NOT NULL,
    PRIMARY KEY (campaign, meter));
"""


class CampaignError(ValueError):
    """A campaign event its state does not allow."""


def _local_time(text):
    try:
        parse_local(text)
    except (ValueError, TypeError):
        return "need a local time YYYY-MM-DD hh:mm, got %r" % (text,)
    return None


def _block(value):
    ok = (isinstance(value, list) and len(value) == 2 and all(
        not isinstance(v, bool) for v in value) and isinstance(value[1], (int, float))
        and 0 <= value[1] <= 100 and (value[0] in ("none", -1) or (
            isinstance(value[0], (int, float)) and 0 < value[0] < 1e6)))
    return None if ok else "need [upper_kwh or \"none\", price], got %r" % (value,)


def _addr(text):
    ok = isinstance(text, str) and len(text) == 12 and text.isdigit()
    return None if ok else "need a 12-digit meter address, got %r" % (text,)


def _tariff_check(values):
    doc = {k: v for k, v in values.items() if v is not None}
    try:
        tariff = tariff_from_dict(doc)
    except TariffError as exc:
        return [("kind", str(exc))]
    if isinstance(tariff, Ladder):
        prices = [p for _, p in tariff.blocks]
        if len(prices) > MAX_LADDER_BLOCKS:
            return [("blocks", "a meter holds at most %d ladder blocks" % MAX_LADDER_BLOCKS)]
        if prices != sorted(prices):
            return [("blocks", "ladder prices must not fall (a meter adds each block's "
                     "difference to the first)")]
    return []


def _target_check(values):
    if values.get("meters") is not None and values.get("tariff_class") is not None:
        return [("meters", "give meters or tariff_class, not both")]
    meters = values.get("meters")
    if isinstance(meters, list) and len(set(meters)) != len(meters):
        return [("meters", "a meter is named twice")]
    return []


def _meters(value):
    if value == "all":
        return None
    if isinstance(value, list) and value and all(_addr(v) is None for v in value):
        return None
    return "need \"all\" or a list of 12-digit meter addresses, got %r" % (value,)


TARIFF = Section("campaign.tariff", "The new rate table: flat (price), tou (prices of "
                 "registers 1-4) or ladder (annual blocks, at most 7).", [
                     Text("kind", REQUIRED, "flat, tou or ladder", ("flat", "tou", "ladder")),
                     Float("price", OPTIONAL, 0, 100, "yuan/kWh", "flat price"),
                     List("prices", Float("", lo=0, hi=100), OPTIONAL, 4, "yuan/kWh",
                          "time-of-use prices, tariff registers 1-4 (尖峰平谷)"),
                     List("blocks", Field("", check=_block), OPTIONAL, (1, MAX_LADDER_BLOCKS),
                          "", "ladder: [[upper_kwh, price], ..., [\"none\", price]]"),
                 ], checks=[_tariff_check])
CAMPAIGN = Section("campaign", "One price change.", [
    Text("id", REQUIRED, "the campaign's id (posting it again with the same content is a "
         "no-op)"),
    Text("effective", REQUIRED, "local time the new prices bill from, YYYY-MM-DD hh:mm",
         check=_local_time),
    Field("meters", OPTIONAL, doc="\"all\" (default) or a list of meter addresses",
          check=_meters),
    Text("tariff_class", OPTIONAL, "only meters archived with this tariff"),
    Table("tariff", TARIFF, REQUIRED),
], checks=[_target_check])
FILE = Section("prices.toml", "A price campaign file (`gridedge prepaid price --file`).", [
    Tables("campaign", CAMPAIGN, REQUIRED)])


class Campaign:
    """A new tariff from ``effective`` (local seconds) for ``target``: None (all meters),
    ``{"tariff_class": name}`` or ``{"meters": [addr, ...]}``."""

    __slots__ = ("id", "effective", "tariff_doc", "tariff", "target", "created")

    def __init__(self, id, effective, tariff_doc, target=None, created=0.0):
        self.id, self.effective, self.target, self.created = id, effective, target, created
        self.tariff_doc = dict(tariff_doc)
        self.tariff = tariff_from_dict(self.tariff_doc)

    def covers(self, meter):
        if self.target is None:
            return True
        if "meters" in self.target:
            return meter.addr in self.target["meters"]
        return meter.tariff == self.target["tariff_class"]

    def same(self, other):
        return (self.effective, self.tariff_doc, self.target) == (
            other.effective, other.tariff_doc, other.target)

    def plain(self):
        return {"id": self.id, "effective": iso(self.effective), "tariff": self.tariff_doc,
                "target": self.target or "all"}


def parse_file(doc, archive=None):
    """Campaigns of a prices.toml document; SchemaError lists every problem of the whole file
    (and, given the archive, every named meter it does not hold) before any is used."""
    problems = []
    values = FILE.load(doc, problems)
    out = []
    for k, c in enumerate(values.get("campaign") or []):
        if not isinstance(c, dict):
            continue
        place = "prices.toml.campaign[%d]" % k
        meters = c.get("meters")
        if isinstance(meters, list) and archive is not None:
            problems += [("%s.meters" % place, "meter %s is not in the archive" % a)
                         for a in meters if a not in archive.meters]
        if any(c.get(f) is None for f in ("id", "effective", "tariff")):
            continue
        target = ({"meters": list(meters)} if isinstance(meters, list) else
                  {"tariff_class": c["tariff_class"]} if c.get("tariff_class") else None)
        tariff = {k2: v for k2, v in c["tariff"].items() if v is not None}
        try:
            out.append(Campaign(c["id"], parse_local(c["effective"]), tariff, target))
        except (TariffError, ValueError) as exc:
            problems.append(("%s.tariff" % place, str(exc)))
    ids = [c.id for c in out]
    problems += [("prices.toml.campaign", "id %s is given twice" % i) for i in sorted(set(ids))
                 if ids.count(i) > 1]
    if problems:
        raise SchemaError(problems, "invalid price file")
    return out


class Campaigns:
    """The campaign tables of the agent's store."""

    def __init__(self, db):
        self.db = db
        self.db.executescript(SCHEMA)

    def all(self):
        return [Campaign(r[0], r[1], json.loads(r[2]), json.loads(r[3]), r[4]) for r in
                self.db.execute("SELECT id, effective, tariff, target, created FROM campaign"
                                " ORDER BY effective, id")]

    def get(self, cid):
        for c in self.all():
            if c.id == cid:
                return c
        return None

    def check(self, campaigns, at):
        """CampaignError when ``campaigns`` may not be posted at ``at``: an id stored before with
        other content, or a new one effective before ``at``."""
        known = {c.id: c for c in self.all()}
        clash = [c.id for c in campaigns if c.id in known and not known[c.id].same(c)]
        if clash:
            raise CampaignError("campaign %s was posted before with other content"
                                % ", ".join(clash))
        past = [c.id for c in campaigns if c.id not in known and c.effective <= at]
        if past:        # energy already billed after the instant cannot be split any more
            raise CampaignError("campaign %s is effective in the past" % ", ".join(past))
        return known

    def post(self, campaigns, archive, at):
        """Store ``campaigns`` (checked by ``parse_file``) with a pending row per covered meter
        with prepaid cost control, in one transaction. What ``check`` refuses is refused
        (CampaignError) and nothing is stored. Returns, per campaign, whether new."""
        known = self.check(campaigns, at)
        out = []
        with transaction(self.db):
            for c in campaigns:
                if c.id in known:
                    out.append(False)
                    continue
                self.db.execute("INSERT INTO campaign VALUES (?,?,?,?,?)", (
                    c.id, c.effective, json.dumps(c.tariff_doc, sort_keys=True),
                    json.dumps(c.target), at))
                for m in archive.meters.values():
                    if m.prepaid in ("local", "remote") and c.covers(m):
                        self.db.execute("INSERT INTO campaign_meter VALUES (?,?,?,?,?,?,?)", (
                            c.id, m.addr, m.prepaid, PENDING, None, 0,
                            json.dumps([[round(at, 3), "posted"]])))
                out.append(True)
        return out

    def rows(self, campaign=None, states=None):
        """[(campaign, meter, mode, state, reason, attempts, history)]."""
        sql, args = ("SELECT campaign, meter, mode, state, reason, attempts, history FROM "
                     "campaign_meter"), []
        where = []
        if campaign is not None:
            where.append("campaign = ?")
            args.append(campaign)
        if states is not None:
            where.append("state IN (%s)" % ",".join("?" * len(states)))
            args += list(states)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [r[:6] + (json.loads(r[6]),) for r in
                self.db.execute(sql + " ORDER BY campaign, meter", args)]

    def rows_of(self, meter):
        """The rows of ``meter``, its newest campaign (by effective instant) last."""
        return [r[:6] + (json.loads(r[6]),) for r in self.db.execute(
            "SELECT m.campaign, m.meter, m.mode, m.state, m.reason, m.attempts, m.history FROM "
            "campaign_meter m JOIN campaign c ON c.id = m.campaign WHERE m.meter = ? ORDER BY "
            "c.effective, c.id", (meter,))]

    def state(self, campaign, meter):
        row = self.db.execute("SELECT state FROM campaign_meter WHERE campaign=? AND meter=?",
                              (campaign, meter)).fetchone()
        return None if row is None else row[0]

    def move(self, campaign, meter, event, at, note=""):
        """Apply ``event`` to a meter of a campaign (journaled with ``note``); the new state."""
        row = self.db.execute("SELECT state, attempts, history FROM campaign_meter WHERE "
                              "campaign=? AND meter=?", (campaign, meter)).fetchone()
        if row is None:
            raise CampaignError("meter %s is not in campaign %s" % (meter, campaign))
        state = TRANSITIONS.get((row[0], event))
        if state is None:
            raise CampaignError("campaign %s meter %s: %r is not allowed in state %r"
                                % (campaign, meter, event, row[0]))
        history = json.loads(row[2])
        history.append([round(at, 3), event, note] if note else [round(at, 3), event])
        attempts = row[1] + (1 if event in ("write", "no_answer") else 0)
        with transaction(self.db):
            self.db.execute("UPDATE campaign_meter SET state=?, reason=?, attempts=?, history=?"
                            " WHERE campaign=? AND meter=?",
                            (state, note if state == FAILED else None, attempts,
                             json.dumps(history), campaign, meter))
        return state

    def counts(self):
        """state -> meters in it, over every campaign (the Prometheus gauge)."""
        out = dict.fromkeys(STATES, 0)
        for state, n in self.db.execute("SELECT state, COUNT(*) FROM campaign_meter GROUP BY "
                                        "state"):
            out[state] = n
        return out

    def summary(self):
        """Every campaign with its meters by state (``gridedge prepaid campaigns``)."""
        out = []
        for c in self.all():
            rows = self.rows(c.id)
            by = dict.fromkeys(STATES, 0)
            for r in rows:
                by[r[3]] += 1
            out.append(dict(c.plain(), meters=by, failed=[
                {"meter": r[1], "reason": r[4]} for r in rows if r[3] == FAILED]))
        return out


def load_file(path):
    """The TOML document of a prices file; ValueError names the file and why not."""
    return read_toml(path)


def post_file(db, path, archive, at):
    """Check ``path`` whole, then store its campaigns: [(id, new, meters covered)]."""
    campaigns = parse_file(load_file(path), archive)
    store = Campaigns(db)
    news = store.post(campaigns, archive, at)
    return [(c.id, new, len(store.rows(c.id))) for c, new in zip(campaigns, news)]


def summary(db):
    return Campaigns(db).summary()
