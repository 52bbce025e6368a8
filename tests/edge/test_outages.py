"""Outage events on a real SQLite store: meters' outages grouped into area, branch (with the
relay they share) and single-meter outages; ERC13 of a power-down goes up as an AFN0E record
the codec decodes back; the topology kept per day shows what moved."""
import json

from hypothesis import given, settings, strategies as st

from edge import outages, topology_days
from edge.store import Store, transaction
from protocols.civil import from_civil, to_civil
from protocols.gdw1376_1 import erc as E
from protocols.gdw1376_1.formats import time_a15
from tests.edge.test_audit import A, B, Answers, uploaded_records

T = from_civil(2026, 1, 6, 10, 0)
RELAY, LEAF1, LEAF2, LONE = "000000000011", "000000000012", "000000000013", "000000000014"


def store_with_tree(tmp_path):
    """Ten meters on port p: RELAY at level 1 carries LEAF1 and LEAF2; the rest direct."""
    store = Store(tmp_path / "agent.sqlite")
    db = outages.module_facts._db(store)
    rows = [(RELAY, None, 1), (LEAF1, RELAY, 2), (LEAF2, RELAY, 2)] + [
        ("%012d" % (21 + k), None, 1) for k in range(7)]
    with transaction(db):
        for addr, proxy, level in rows:
            db.execute("INSERT INTO module_node (port, addr, proxy, level, role, at) VALUES"
                       " ('p',?,?,?,2,?)", (addr, proxy, level, T))
    return store, [r[0] for r in rows]


def put(store, rows):
    db = outages._db(store)
    with transaction(db):
        for addr, start, end in rows:
            db.execute("INSERT INTO outage_meter VALUES ('p',?,?,?,'module','module',?)",
                       (addr, start, end, start))


def test_meters_dropping_together_are_one_branch_outage_with_their_relay(tmp_path):
    store, _ = store_with_tree(tmp_path)
    put(store, [(RELAY, T, T + 1800), (LEAF1, T + 3, T + 1801), (LEAF2, T + 9, T + 1790),
                (LONE, T + 7200, None)])
    outages.regroup(store, "p", 10)
    (branch, lone) = outages.groups(store)
    assert (branch["kind"], branch["meters"], branch["end"]) == (
        "branch", [RELAY, LEAF1, LEAF2], T + 1801)
    assert branch["parent"] is None                 # RELAY itself went dark: the CCO's branch
    assert (lone["kind"], lone["meters"], lone["end"]) == ("meter", [LONE], None)
    put(store, [(LEAF1, T + 9000, T + 9100), (LEAF2, T + 9005, T + 9100)])
    outages.regroup(store, "p", 10, since=T + 9000)          # only from the change on
    partial = outages.groups(store)
    outages.regroup(store, "p", 10)
    assert partial == outages.groups(store) and len(partial) == 3
    assert partial[-1]["parent"] == RELAY and partial[1]["meters"] == [LONE]
    assert outages.common_parent(outages.module_facts.nodes(store, "p"), [LEAF1, LONE]) is None


def test_nine_of_ten_meters_are_an_area_outage_and_a_later_start_is_another(tmp_path):
    store, addrs = store_with_tree(tmp_path)
    put(store, [(a, T + k, T + 600) for k, a in enumerate(addrs[:9])])
    put(store, [(addrs[9], T + outages.WINDOW_S + 60, T + 700)])
    outages.regroup(store, "p", 10)
    kinds = [(g["kind"], len(g["meters"])) for g in outages.groups(store)]
    assert kinds == [("area", 9), ("meter", 1)]
    got = outages.summary(store, day="2026-01-06")
    assert got["outages"][0]["minutes"] == 10.0 and got["outages"][0]["start"] == \
        "2026-01-06 10:00:00"
    assert outages.summary(store, day="2026-01-07") == {"outages": [], "meters": []}
    json.dumps(got)


def test_a_power_down_goes_up_as_erc13_with_its_time(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    store.upload_tasks = {outages.TASK}
    store.commit(outages.erc13_readings([A, B, "000000000099"], T + 7))
    recs = uploaded_records(store)
    assert [(r.erc, r.pn, r.flags) for r in recs] == [(13, 1, 0x08), (13, 2, 0x08)]
    assert recs[0].at == time_a15(to_civil(T + 7))
    assert Answers(store).point_of("000000000099") is None      # no point: never uploaded


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10 ** 9), st.integers(1, 2040))
def test_erc13_of_an_outage_round_trips(offset, pn):
    at = from_civil(2020, 1, 1) + offset // 60 * 60
    value = outages.erc13_readings([A], at)[0].value
    rec = outages.record(value, pn)
    back = E.decode_event(13, rec.encode())
    assert (back.pn, back.flags, back.at) == (pn, 0x08, time_a15(to_civil(at)))


def test_the_topology_of_each_day_is_kept_and_its_changes_listed(tmp_path):
    store, _ = store_with_tree(tmp_path)
    topology_days.save_day(store, "p", T)
    db = outages.module_facts._db(store)
    with transaction(db):
        db.execute("UPDATE module_node SET proxy = NULL, level = 1 WHERE addr = ?", (LEAF2,))
        db.execute("DELETE FROM module_node WHERE addr = ?", ("000000000027",))
    topology_days.save_day(store, "p", T + 86400)
    topology_days.save_day(store, "p", T + 86400 + 60)          # the same day again: replaced
    assert topology_days.days(store) == ["2026-01-06", "2026-01-07"]
    assert len(topology_days.of_day(store, "2026-01-06")) == 10
    got = topology_days.summary(store, "2026-01-07")
    assert len(got["nodes"]) == 9 and got["changes"]["since"] == "2026-01-06"
    assert got["changes"]["moved"] == [{"port": "p", "addr": LEAF2, "proxy": [RELAY, None],
                                        "level": [2, 1]}]
    assert got["changes"]["gone"] == ["000000000027"] and got["changes"]["joined"] == []
    assert topology_days.changes(store, "2026-01-06") is None
    assert got["nodes"][0]["at"] == "2026-01-07 10:01:00"
