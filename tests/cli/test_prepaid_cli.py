"""``gridedge prepaid`` without a running agent: payments wait in the inbox, once per id, and a
bad invocation says what is wrong; ``gridedge sim prepaid`` prints its report and exits 0."""
import json

from tests.cli.test_serving import cli

CONFIG = """[agent]
store = "agent.sqlite"
[prepaid]
[[prepaid.customer]]
id = "C1"
[[port]]
name = "p"
url = "loop://"
"""


def test_payments_wait_in_the_inbox_once_per_id(tmp_path, env_with_path):
    cfg = tmp_path / "agent.toml"
    cfg.write_text(CONFIG)
    for _ in range(2):
        out = cli("prepaid", "pay", "--config", str(cfg), "--customer", "C1", "--amount", "12.5",
                  "--id", "r-1", env=env_with_path)
        assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["posted"] is False                 # the second time: no
    status = json.loads(cli("prepaid", "status", "--config", str(cfg), env=env_with_path).stdout)
    assert status["inbox"] == [{"id": "r-1", "customer": "C1", "amount": 12.5}]
    out = cli("prepaid", "pay", "--config", str(cfg), "--customer", "C1", env=env_with_path)
    assert out.returncode != 0 and "--amount" in out.stderr


def test_sim_prepaid_reports_and_passes(tmp_path, env_with_path):
    path = tmp_path / "report.json"
    out = cli("sim", "prepaid", "--meters", "30", "--days", "1", "--report", str(path),
              env=env_with_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(path.read_text())
    assert report["meters"] == 30 and report["wrongful_ops"] == 0 and report["missed_ops"] == 0
    assert json.loads(out.stdout) == report
