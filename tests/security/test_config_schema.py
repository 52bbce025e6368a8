"""agent.toml against its declared schema: values that hung the agent, emptied its store or
were silently accepted are refused at load with their place, all problems at once, unknown keys
named in every section; loading any document ends in a Config or a ConfigError, never in
another exception; docs/CONFIG.md is what the declarations say."""
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from edge.plan import Settings
from edge.runtime.config import FILE, ConfigError, config_from_dict, load_config
from edge.schema import (Float, Int, Invalid, List, SchemaError, Text)
from hil.cli import reference
from tests.conftest import ROOT, tomllib
from tests.security.helpers import SHIPPED_CONFIG, VALUES, mutated

PORT = {"name": "p1", "url": "loop://"}
METER = {"addr": "000000000001", "port": "p1"}
UPLINK = {"master": "10.0.0.10:9000", "password": "5a" * 16}


def doc(**sections):
    out = {"agent": {"store": "agent.sqlite"}, "port": [PORT], "meter": [dict(METER)]}
    for name, value in sections.items():
        if isinstance(out.get(name), dict):
            out[name] = dict(out[name], **value)
        else:
            out[name] = value
    return out


def problems(d):
    with pytest.raises(ConfigError) as err:
        config_from_dict(d, "/etc/gridedge/agent.toml")
    return str(err.value).splitlines()


@pytest.mark.parametrize("sections, place", [
    ({"tasks": {"curve_every_min": -1}}, "tasks.curve_every_min"),
    ({"tasks": {"realtime_s": -60}}, "tasks.realtime_s"),
    ({"tasks": {"event_every_h": -4}}, "tasks.event_every_h"),
    ({"tasks": {"freeze_deadline_h": 0}}, "tasks.freeze_deadline_h"),
    ({"tasks": {"curve_every_min": "60"}}, "tasks.curve_every_min"),
    ({"tasks": {"response_timeout_s": math.nan}}, "tasks.response_timeout_s"),
    ({"tasks": {"health": {"base_s": -5}}}, "tasks.health.base_s"),
    ({"tasks": {"limits": {"max_kw": math.inf}}}, "tasks.limits.max_kw"),
    ({"agent": {"max_readings": 0}}, "agent.max_readings"),
    ({"agent": {"max_store_mb": -1}}, "agent.max_store_mb"),
    ({"agent": {"metrics": "9108"}}, "agent.metrics"),
    ({"meter": [dict(METER, point=-1)]}, "meter[0].point"),
    ({"meter": [dict(METER, point=0)]}, "meter[0].point"),
    ({"meter": [dict(METER, point=1), dict(METER, addr="000000000002", point=1)]}, "meter"),
    ({"meter": [dict(METER, addr="999999999999")]}, "meter[0].addr"),
    ({"meter": [dict(METER, preamble=True)]}, "meter[0].preamble"),
    ({"port": [dict(PORT, concurrency=0)]}, "port[0].concurrency"),
    ({"prepaid": {"every_min": 0}}, "prepaid.every_min"),
    ({"prepaid": {"expiry_h": -1}}, "prepaid.expiry_h"),
    ({"prepaid": {"friendly": {"night": [20]}}}, "prepaid.friendly.night"),
    ({"prepaid": {"customer": [{"id": "c", "balance": math.inf}]}}, "prepaid.customer[0].balance"),
    ({"prepaid": {"tariff": {"flat": {"price": -1}}}}, "prepaid.tariff.flat.price"),
    ({"uplink": dict(UPLINK, reconnect_min_s=-5)}, "uplink.reconnect_min_s"),
    ({"uplink": dict(UPLINK, heartbeat_s=0)}, "uplink.heartbeat_s"),
    ({"uplink": dict(UPLINK, reconnect_min_s=600)}, "uplink.reconnect_min_s"),
    ({"uplink": dict(UPLINK, window=0)}, "uplink.window"),
    ({"uplink": dict(UPLINK, jitter=1.0)}, "uplink.jitter"),
    ({"uplink": dict(UPLINK, terminal=70000)}, "uplink.terminal"),
    ({"uplink": dict(UPLINK, region="17")}, "uplink.region"),
    ({"uplink": dict(UPLINK, master="9000")}, "uplink.master"),
    ({"uplink": dict(UPLINK, password="00" * 16)}, "uplink.password"),
    ({"uplink": dict(UPLINK, password="CHANGE-ME: 32 hex digits")}, "uplink.password"),
    ({"uplink": dict(UPLINK, forward_allow=["everything"])}, "uplink.forward_allow"),
    ({"uplink": dict(UPLINK, check_tp="off")}, "uplink.check_tp"),
    ({"uplink": dict(UPLINK, upload_per_s=math.nan)}, "uplink.upload_per_s"),
    ({"uplink": {"master": "10.0.0.10:9000"}}, "uplink.password"),
])
def test_a_bad_value_is_refused_with_its_place(sections, place):
    lines = problems(doc(**sections))
    assert any(line.startswith("/etc/gridedge/agent.toml: %s: " % place) for line in lines), lines


def test_a_negative_curve_period_no_longer_hangs_the_agent(tmp_path, env_with_path):
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nstore = "a.sqlite"\n[tasks]\ncurve_every_min = -1\n'
                    '[[port]]\nname = "p1"\nurl = "loop://"\n')
    out = subprocess.run([sys.executable, "-m", "hil.cli", "agent", "--config", str(path),
                          "--duration", "1"], capture_output=True, text=True, env=env_with_path,
                         timeout=30)
    assert out.returncode == 2 and "tasks.curve_every_min" in out.stderr
    assert not (tmp_path / "a.sqlite").exists()
    with pytest.raises(SchemaError):
        Settings(curve_every_min=-1)                # and so no task with a negative period
    assert all(t.every_s > 0 for t in Settings(curve_every_min=0, realtime_s=0).tasks())


def test_every_problem_of_a_file_is_reported_at_once():
    bad = doc(agent={"max_readings": 0, "colour": 1}, tasks={"curve_every_min": 7, "x": 1,
                                                           "health": {"y": 1}, "limits": {"z": 1}},
              defaults={"w": 1}, port=[dict(PORT, v=1)], meter=[dict(METER, u=1)],
              prepaid={"t": 1, "friendly": {"s": 1}, "local": {"r": 1}, "defaults": {"q": 1},
                       "customer": [{"id": "c", "o": 1}], "tariff": {"flat": {"n": 1}}},
              uplink=dict(UPLINK, heartbeat_s=0, p=1), weather={})
    places = [line.split(": ")[1] for line in problems(bad)]
    assert places == [
        "weather", "agent.colour", "agent.max_readings", "tasks.x", "tasks.curve_every_min",
        "tasks.health.y", "tasks.limits.z", "prepaid.t", "prepaid.local.r", "prepaid.friendly.s",
        "prepaid.tariff.flat.n", "prepaid.defaults.q", "prepaid.customer[0].o", "uplink.p",
        "uplink.heartbeat_s", "defaults.w", "port[0].v", "meter[0].u"]


def test_the_shipped_example_still_loads_and_fills_the_declared_defaults(tmp_path):
    path = tmp_path / "agent.toml"               # its password set: the placeholder is refused
    path.write_text(SHIPPED_CONFIG.read_text().replace('"CHANGE-ME: 32 hex digits"',
                                                        '"%s"' % ("5a" * 16)))
    cfg = load_config(path)
    assert cfg.max_readings == 2000000 and cfg.settings.curve_interval_min == 15
    assert cfg.settings.health.base_s == 5.0 and cfg.settings.health.cap_s == 1800.0
    assert cfg.archive.ports["plc"].baud == 9600 and cfg.archive.ports["rs485-1"].parity == "E"


def test_the_fields_take_exactly_their_type():
    assert Int("n", 0, 0, 10).parse(3) == 3
    for bad in (True, 3.0, "3", None, [3], 11, -1):
        with pytest.raises(Invalid):
            Int("n", 0, 0, 10).parse(bad)
    assert Float("x", 0, 0, 1).parse(1) == 1.0
    for bad in (math.nan, math.inf, -math.inf, False, "0.5", 1.5):
        with pytest.raises(Invalid):
            Float("x", 0, 0, 1).parse(bad)
    with pytest.raises(Invalid, match="item 1"):
        List("l", Float("", lo=0), size=2).parse([1, -1])
    with pytest.raises(Invalid):
        Text("t", "", choices=("a",)).parse("b")


def test_docs_config_md_is_what_the_declarations_say():
    text = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    for what in ("agent", "scenario", "prices"):
        assert "\n".join(reference(what)) in text, "run `gridedge schema %s`" % what
    assert set(FILE.fields) == {"agent", "tasks", "prepaid", "uplink", "defaults", "port",
                                "meter"}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(FILE.fields) + ["x"]), VALUES, max_size=6))
def test_any_document_is_a_config_or_a_config_error(d):
    try:
        config_from_dict(d)
    except ConfigError:
        pass


SHIPPED = tomllib.loads(SHIPPED_CONFIG.read_text())
SHIPPED["uplink"]["password"] = "5a" * 16     # the placeholder is refused (tested above)


@settings(max_examples=300, deadline=None)
@given(mutated(SHIPPED))
def test_any_change_to_the_shipped_config_is_a_config_or_a_config_error(d):
    try:
        config_from_dict(d)
    except ConfigError:
        pass


def test_python_callers_of_the_uplink_settings_are_checked_by_the_same_declaration():
    from edge.uplink import UplinkSettings
    with pytest.raises(SchemaError, match="uplink.max_denies"):
        UplinkSettings("127.0.0.1:9000", max_denies=0)
    with pytest.raises(SchemaError, match="uplink.forward_allow"):
        UplinkSettings("127.0.0.1:9000", forward_allow=("all",))
    s = UplinkSettings("127.0.0.1:9000", heartbeat_s=20)
    assert s.session.heartbeat_s == 20 and s.session.reconnect_min_s == 5
