"""The README is tested: every `gridedge ...` line of its shell blocks runs here (optional
`[...]` parts left out), against the meter servers it names; servers run for a second; a line
marked `# device: ...` needs hardware and is skipped with that reason."""
import json
import os
import re
import shlex
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SERVERS = (("meters", "serve"), ("sim", "module"), ("master",))
PTY_SERVE = "--pty"
TCP_README = "127.0.0.1:8645"


def readme_examples():
    """(line number, command, comment) of every gridedge line in the README's sh blocks."""
    out, in_sh = [], False
    for k, line in enumerate((ROOT / "README.md").read_text().splitlines(), 1):
        if line.startswith("```"):
            in_sh = line.strip() == "```sh" and not in_sh
            continue
        if in_sh and line.startswith("gridedge"):
            cmd, _, comment = line.partition("  #")
            out.append((k, cmd.strip(), comment.strip()))
    return out


EXAMPLES = readme_examples()


def argv(cmd, subs):
    """The command's words without its optional parts, with ``subs`` replaced, through the
    interpreter running the tests (the CLI module, or the board's entry point)."""
    text = re.sub(r"\s*\[[^\]]*\]", "", cmd)
    for old, new in subs.items():
        text = text.replace(old, new)
    words = shlex.split(text)
    module = {"gridedge": "hil.cli", "gridedge-agent": "edge.runtime.main"}[words[0]]
    return [sys.executable, "-m", module] + words[1:]


def is_server(words):
    return any(words[3:3 + len(s)] == list(s) for s in SERVERS) and "ask" not in words


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder like the checkout's root for the relative paths (hil/scenarios, edge/deploy),
    where the examples' outputs land."""
    d = tmp_path_factory.mktemp("readme")
    for name in ("hil", "edge"):
        os.symlink(ROOT / name, d / name)
    return d


@pytest.fixture(scope="module")
def servers(workdir, env):
    """The README's pty and TCP meter servers, running for the read examples; the
    substitutions that point the examples at them."""
    subs = {TCP_README: "127.0.0.1:%d" % free_port(), "0.0.0.0:9000": "127.0.0.1:%d" % free_port(),
            "127.0.0.1:9001": "127.0.0.1:%d" % free_port()}
    procs = []
    try:
        for _, cmd, _ in EXAMPLES:
            words = argv(cmd, subs)
            if words[3:5] == ["meters", "serve"] and (PTY_SERVE in words or "--tcp" in words):
                p = subprocess.Popen(words + ["--duration", "100"], stdout=subprocess.PIPE,
                                     text=True, cwd=workdir, env=env)
                procs.append(p)
                ready = json.loads(p.stdout.readline())
                if PTY_SERVE in words:
                    subs["/dev/pts/N"] = ready["serving"]
        yield subs
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


@pytest.fixture(scope="module")
def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def test_the_readme_has_its_examples():
    assert len(EXAMPLES) >= 20
    assert sum(c.startswith("device:") for _, _, c in EXAMPLES) >= 5


@pytest.mark.timeout(150)
@pytest.mark.parametrize("line,cmd,comment", EXAMPLES,
                         ids=["L%d %s" % (k, " ".join(c.split()[1:4])) for k, c, _ in EXAMPLES])
def test_readme_example_runs(line, cmd, comment, servers, workdir, env):
    if comment.startswith("device:"):
        pytest.skip("README.md:%d needs %s" % (line, comment[len("device:"):].strip()))
    words = argv(cmd, servers)
    if is_server(words):                  # its own ports: the module's servers hold theirs
        own = dict(servers, **{k: "127.0.0.1:%d" % free_port() for k in (TCP_README, "0.0.0.0:9000")})
        words = argv(cmd, own) + ["--duration", "1"]
    out = subprocess.run(words, capture_output=True, text=True, cwd=workdir, env=env, timeout=140)
    assert out.returncode == 0, "README.md:%d: %s\n%s%s" % (line, cmd, out.stdout, out.stderr)
    assert out.stdout.strip(), "README.md:%d printed nothing" % line
    assert "None" not in out.stdout and "outcome=timeout" not in out.stdout, out.stdout[-2000:]
