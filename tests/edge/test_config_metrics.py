from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from edge.runtime.config import ConfigError, load_config
from edge.plan import Settings
from edge.runtime.exporter import SnapshotCollector
from hil.agent_run import run_agent

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_example_config_loads_once_its_password_is_set(tmp_path):
    shipped = (ROOT / "edge" / "deploy" / "agent.toml").read_text()
    with pytest.raises(ConfigError, match="password is still the example's placeholder"):
        load_config(ROOT / "edge" / "deploy" / "agent.toml")
    path = tmp_path / "agent.toml"
    path.write_text(shipped.replace('"CHANGE-ME: 32 hex digits"', '"%s"' % ("5a" * 16)))
    cfg = load_config(path)
    assert sorted(cfg.archive.ports) == ["plc", "rs485-1"]
    assert cfg.archive.ports["plc"].carrier and cfg.archive.ports["plc"].concurrency == 5
    assert cfg.archive.meters["000000000002"].protocol == "645-1997"
    assert cfg.settings.health.offline_after == 5 and cfg.settings.health.base_s == 5.0
    assert cfg.metrics == "127.0.0.1:9108"
    assert cfg.archive.meters["000000000101"].prepaid == "remote"
    assert cfg.prepaid.customer("C-0101")["balance"] == 120.0
    assert cfg.prepaid.friendly.active(1790812800.0)          # 2026-10-01 00:00 is a holiday
    assert (cfg.uplink.master, cfg.uplink.region, cfg.uplink.terminal) == ("10.0.0.10:9000",
                                                                           "0171", 2082)
    assert cfg.uplink.session.heartbeat_s == 60 and cfg.max_store_mb == 512


def test_a_bad_uplink_section_is_named(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nstore = "a.sqlite"\n[uplink]\nregion = "0171"\nspeed = 3\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    lines = str(err.value).splitlines()
    from edge.uplink_settings import UPLINK
    known = ", ".join(sorted(UPLINK.fields))
    assert "master" in known and "heartbeat_s" in known and "active_upload" in known
    assert any(line.endswith("uplink.speed: unknown key (known: %s)" % known)
               for line in lines), lines
    assert [line.split(": ")[1] for line in lines] == ["uplink.speed", "uplink.master",
                                                       "uplink.password"]


def test_a_bad_prepaid_section_is_named(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nstore = "a.sqlite"\n[prepaid]\nevery_min = 7\n'
                    '[prepaid.tariff.flat]\nkind = "flat"\n[[prepaid.customer]]\nid = "c"\n'
                    'colour = "red"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "prepaid.customer[0].colour: unknown key" in str(err.value)
    assert "prepaid.every_min: must divide 1440" in str(err.value)


def test_a_bad_config_names_every_problem(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nmetrics = 1\ncolour = "red"\n[tasks]\ncurve_every_min = 7\n'
                    '[[port]]\nname = "p"\nurl = "x"\nmedium = "wifi"\n'
                    '[[meter]]\naddr = "12"\nport = "q"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    for needle in ("agent.colour: unknown key", "agent.store: required",
                   "agent.metrics: need text", "tasks.curve_every_min: must divide 1440",
                   "port[0].medium", "meter[0].addr", "meter[0].port"):
        assert needle in text


def test_metrics_export_read_rate_health_and_outcomes():
    settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=None)
    _, agent = run_agent(30, "rs485", 1, 1, faults=[{"kind": "dead", "meters": [4]}],
                         settings=settings)

    class Runner:
        snapshot = agent.metrics()
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(Runner))
    text = generate_latest(registry).decode()
    assert 'gridedge_read_rate{depth="0",medium="rs485",period="2026-01-01",task="daily_freeze"}' \
        ' 0.9666' in text
    assert 'gridedge_meters{health="offline"} 1.0' in text
    assert 'gridedge_read_attempts_total{outcome="timeout",task="daily_freeze"}' in text
    assert 'gridedge_exchanges_total{outcome="ok"} 29.0' in text
