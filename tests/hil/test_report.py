"""report.html for people and report.json for machines: the verdict and read rates at a glance,
failing gates first, units on every figure, the unread meters from ground truth; the page
checked in a real headless browser; without matplotlib only report.json, and the exit code
still by the gates."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from hil.plots import time_unit
from hil.report import fmt, render_html, write_report
from hil.scenario import Scenario
from hil.scenario_run import run_scenario

TINY = """
[scenario]
name = "tiny"
seed = 2
start = "2026-01-06 00:00"
hours = 2
[area]
meters = 20
medium = "rs485"
[[fault]]
kind = "dead"
share = 0.1
[tasks]
curve_every_min = 0
event_every_h = 0
[uplink]
outages = [[0.5, 0.5]]
[[gate]]
metric = "read_rate"
op = ">="
value = 0.99
[[gate]]
metric = "reachable_read_rate"
op = ">="
value = 0.999
"""
NO_MATPLOTLIB = """
import sys
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "matplotlib":
            raise ModuleNotFoundError("No module named %r" % name)
sys.meta_path.insert(0, Blocked())
from hil.cli import main
main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    path = folder / "tiny.toml"
    path.write_text(TINY)
    report, samples = run_scenario(Scenario.load(path))
    return path, report, samples, folder


def test_the_unread_meters_come_from_ground_truth_with_the_agents_last_error(tiny):
    _, report, _, folder = tiny
    unread = report["unread"]
    assert [m["faults"] for m in unread] == [["dead"], ["dead"]]
    assert all(m["last_error"] == "timeout" and m["medium"] == "rs485" and not m["reachable"]
               for m in unread)
    assert report["read"] == 18 and report["reachable_read_rate"] == 1.0
    path_json, _ = write_report(report, {}, folder / "out")
    assert json.loads(open(path_json).read())["unread"] == unread


def test_the_page_leads_with_the_verdict_failing_gates_first_and_units(tiny):
    _, report, samples, _ = tiny
    page = render_html(report, samples)
    assert '<div class="headline fail"' in page and ">FAIL<" in page
    assert "90.00 %" in page and "100.00 %" in page              # read rate, reachable
    assert page.index("read_rate</td>") < page.index("reachable_read_rate</td>")   # failed first
    for m in report["unread"]:
        assert m["address"] in page
    for section in ("Uplink to the master station", "backlog peak", "dial failures",
                    "heartbeats missed", "no prepaid customers", "Wrong values"):
        assert section in page, section
    assert page.count("data:image/png;base64,") == 3         # freeze curve, depth, hours


def test_figures_carry_their_units_and_axes_their_range():
    assert fmt(0.9925, "%") == "99.25 %"
    assert fmt(738.0, "min") == "12.3 min (738 s)" and fmt(38.1, "min") == "38.1 s"
    assert fmt(12.5, "yuan") == "12.50 yuan" and fmt(None, "s") == "–"
    assert time_unit(36.0) == ("s", 1.0)           # not 0-0.6 "minutes"
    assert time_unit(3600.0) == ("min", 60.0) and time_unit(6 * 3600.0) == ("h", 3600.0)


@pytest.mark.timeout(120)
def test_the_report_renders_in_a_headless_browser(tiny):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no Chromium (apt-get install chromium; .ci/run installs it)")
    _, report, samples, folder = tiny
    page = render_html(report, samples)
    # the browser reports what it decoded: the headline's text and each image's width
    probe = page.replace("</body>", "<script>document.body.dataset.seen = JSON.stringify({"
                         "headline: document.getElementById('headline').innerText,"
                         "images: [...document.images].map(i => i.naturalWidth)});</script></body>")
    html_path = folder / "probe.html"
    html_path.write_text(probe)
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--window-size=1366,2000", "--virtual-time-budget=5000"]
    dom = subprocess.run(args + ["--dump-dom", html_path.as_uri()], capture_output=True,
                         text=True, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    seen = json.loads(dom.stdout.split('data-seen="', 1)[1].split('"', 1)[0]
                      .replace("&quot;", '"'))
    assert seen["headline"].split()[0] == "FAIL" and "90.00 %" in seen["headline"]
    assert len(seen["images"]) == 3 and all(w >= 500 for w in seen["images"])
    shot = folder / "report.png"
    out = subprocess.run(args + ["--screenshot=%s" % shot, html_path.as_uri()],
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0 and shot.stat().st_size > 20000, out.stderr[-2000:]
    print("screenshot: %s" % shot)


@pytest.mark.timeout(120)
def test_without_matplotlib_hil_run_writes_report_json_and_exits_by_the_gates(tiny, tmp_path,
                                                                            env_with_path):
    path = tiny[0]
    out = subprocess.run([sys.executable, "-c", NO_MATPLOTLIB, "hil", "run", str(path),
                          "--report", str(tmp_path / "r"), "--quiet"],
                         capture_output=True, text=True, env=env_with_path, timeout=110)
    assert "install gridedge[hil] for the HTML report" in out.stderr
    assert out.returncode == 1                     # read_rate >= 0.99 fails: 18 of 20
    assert json.loads((tmp_path / "r" / "report.json").read_text())["read"] == 18
    assert not os.path.exists(tmp_path / "r" / "report.html")
