"""Price campaigns over the uplink (gridedge's 1376.1 extension, ``protocols.gdw1376_1
.campaign_ext``): an AFN04 F201 from the master posts a campaign exactly as `gridedge prepaid
price` does (checked whole, idempotent by id, journaled), and AFN0C F201 answers one point's
state in the newest campaign covering it. A mixin of ``edge.uplink.Uplink``."""
import logging

from protocols.civil import iso, to_civil
from protocols.gdw1376_1.campaign_ext import FN as CAMPAIGN_FN
from protocols.gdw1376_1.formats import time_a15

from edge.prepaid.campaign import CampaignError, parse_file
from edge.schema import SchemaError
from edge.uplink_answers import Refused

log = logging.getLogger(__name__)


def _tariff_doc(v):
    prices = list(v["prices"])
    if v["tariff"] == "flat":
        return {"kind": "flat", "price": prices[0]}
    if v["tariff"] == "tou":
        return {"kind": "tou", "prices": prices}
    tops = list(v.get("tops") or [])
    return {"kind": "ladder", "blocks": [[t, p] for t, p in zip(tops, prices)]
            + [["none", prices[-1]]]}


def reason_code(reason):
    """The F201 reason of a failed row's text (``edge.prepaid.reprice``'s wording)."""
    if not reason:
        return None
    text = reason.lower()
    if text.startswith("read back"):
        return "read_back"
    if text.startswith("billing at the wrong price"):
        return "wrong_price"
    if "to verify" in text:
        return "unverified"
    if "refused" in text or "serr" in text or "security" in text:
        return "refused"
    return "other"


class CampaignService:
    """AFN04 F201 posts, AFN0C F201 states."""

    def campaigns_of(self, units):
        """The campaigns of a set request's F201 units, checked whole (Refused: nothing posted)."""
        todo = [u for u in units if u.fn == CAMPAIGN_FN]
        if not todo:
            return []
        pre = self.agent.prepaid
        if pre is None:
            raise Refused("F%d: this terminal runs no prepaid cost control" % CAMPAIGN_FN)
        docs = []
        for u in todo:
            v = u.value
            if u.pn != 0:
                raise Refused("F%d is a terminal item (p0), not p%s" % (CAMPAIGN_FN, u.pn))
            mm, hh, dd, mo, yy = v["effective"] or (None,) * 5
            if mm is None:
                raise Refused("F%d: no effective instant" % CAMPAIGN_FN)
            doc = {"id": v["id"], "effective": "20%02d-%02d-%02d %02d:%02d" % (yy, mo, dd, hh, mm),
                   "tariff": _tariff_doc(v)}
            if v["target"] == "tariff_class":
                doc["tariff_class"] = v["tariff_class"]
            elif v["target"] == "points":
                meters = [self.meter_at(p) for p in v["points"]]
                if any(m is None for m in meters):
                    raise Refused("F%d: no meter at point %s" % (CAMPAIGN_FN, [
                        p for p, m in zip(v["points"], meters) if m is None]))
                doc["meters"] = [m.addr for m in meters]
            docs.append(doc)
        try:
            campaigns = parse_file({"campaign": docs}, self.agent.archive)
            pre.campaigns.check(campaigns, self.agent.wall)
        except (SchemaError, CampaignError) as exc:
            raise Refused(str(exc).replace("\n", "; ")) from None
        return campaigns

    def post_campaigns(self, frame, campaigns):
        """Store checked ``campaigns`` (a repeat of one posted before changes nothing)."""
        pre = self.agent.prepaid
        news = pre.campaigns.post(campaigns, self.agent.archive, self.agent.wall)
        for c, new in zip(campaigns, news):
            if not new:
                continue
            meters = len(pre.campaigns.rows(c.id))
            self.count("campaign_posted")
            log.info("uplink: price campaign %s from %s for %d meters by the master (MSA %d)",
                     c.id, iso(c.effective), meters, frame.msa,
                     extra={"event": "campaign_posted", "campaign": c.id, "meters": meters})
            self.store.log_event("campaign_posted", "%s effective %s, %d meters, by MSA %d" % (
                c.id, iso(c.effective), meters, frame.msa), self.agent.wall)
        pre.repricer.start()

    def campaign_state(self, meter):
        """AFN0C F201 of ``meter``: its row in the newest campaign covering it, or none."""
        pre = self.agent.prepaid
        rows = pre.campaigns.rows_of(meter.addr) if pre is not None else []
        if not rows:
            return {"id": None, "state": None, "attempts": 0, "changed": None, "reason": None}
        cid, _, _, state, reason, attempts, history = rows[-1]
        return {"id": cid, "state": state, "attempts": min(attempts, 255),
                "changed": time_a15(to_civil(history[-1][0])), "reason": reason_code(reason)}
