"""The agent.toml the rig writes for gridedge's own agent as the concentrator under test passes
the agent's schema and points at the rig's ports and master."""
import pytest

from edge.runtime.config import config_from_dict
from hil.rig_dut import agent_toml

try:
    import tomllib
except ImportError:                     # Python 3.10
    import tomli as tomllib

PASSWORD = "0123456789abcdef" * 2


@pytest.mark.parametrize("medium,wired", [("rs485", None), ("hplc", "/dev/pts/8"),
                                          ("nbplc", None)])
def test_the_agent_toml_for_a_rig_is_valid_and_points_at_it(medium, wired):
    hello = {"serving": "/dev/pts/7", "medium": medium, "serving_rs485": wired,
             "master": "127.0.0.1:40123"}
    text = agent_toml(hello, PASSWORD, terminal=9, active_upload=False, module_baud=115200)
    cfg = config_from_dict(tomllib.loads(text))
    ports = cfg.archive.ports
    assert ports["p1"].url == "/dev/pts/7" and ports["p1"].medium == medium
    assert ports["p1"].baud == (2400 if medium == "rs485" else 115200)
    assert ("p2" in ports) == (wired is not None)
    if wired:
        assert ports["p2"].url == wired and ports["p2"].medium == "rs485"
    assert cfg.uplink.master == "127.0.0.1:40123" and cfg.uplink.terminal == 9
    assert cfg.uplink.active_upload is False
    assert cfg.settings.curve_every_min == 0
