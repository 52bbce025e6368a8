"""A mixed 645/698 area against the same area in pure 645: the figures issue 19's proof names
(read rate, completion, wrong values, wrongful/missed operations, relay moves), per protocol.

``compare_mixed(doc)`` runs the scenario document twice on one seed: as given (its
``protocol_698_share``) and with no 698 meter, and reports both. Run it with
``python -m hil.mixed hil/scenarios/mixed-698.toml``; the last line is JSON.
"""
import copy
import json
import sys

from meter_sim.faults import firmware
from hil.scenario import Scenario
from hil.scenario_run import Run

FIGURES = ("read_rate", "completion_s", "wrong_values", "wrongful_ops", "missed_ops")


def figures(doc):
    """Run scenario ``doc`` (a dict); its KPIs with relay moves and commands per protocol."""
    run = Run(Scenario.from_dict(doc)).run()
    report = run.report({})
    out = {k: report.get(k) for k in FIGURES}
    speaks = [firmware(m).protocol for m in run.area.meters]
    out["meters_698"] = speaks.count(698)
    moves = run.moves or [[] for _ in speaks]
    out["relay_moves"] = sum(len(e) for e in moves)
    out["relay_moves_698"] = sum(len(e) for e, p in zip(moves, speaks) if p == 698)
    done = {}
    by_addr = {m.addr[::-1].hex(): p for m, p in zip(run.area.meters, speaks)}
    for c in run.agent.prepaid.journal.all() if run.agent.prepaid is not None else ():
        key = "%s_%s" % ("698" if by_addr.get(c.meter) == 698 else "645", c.state)
        done[key] = done.get(key, 0) + 1
    out["commands"] = dict(sorted(done.items()))
    out["daily_freeze_ok_698"] = sum(
        1 for r in run.store.readings(task="daily_freeze")
        if r.quality == "ok" and by_addr.get(r.addr) == 698)
    return out


def compare_mixed(doc):
    """{"mixed": figures of ``doc``, "pure_645": figures of the same with no 698 meter}."""
    pure = copy.deepcopy(doc)
    pure.setdefault("population", {})["protocol_698_share"] = 0.0
    return {"mixed": figures(doc), "pure_645": figures(pure)}


def main(path):
    try:
        import tomllib
    except ImportError:                 # Python 3.10
        import tomli as tomllib
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    print(json.dumps(compare_mixed(doc), sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
