"""Every module of the board's packages imports first, on its own: no import cycle that only works
when some other module happened to be imported before it."""
import subprocess
import sys

from tests.conftest import ROOT

BOARD = ("edge", "hostlink", "protocols")

PROBE = r"""
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("edge", "hostlink", "protocols")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append("%s: %s: %s" % (name, type(exc).__name__, exc))
print("\n".join(failed))
"""


def board_modules():
    out = []
    for top in BOARD:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__" or "deploy" in parts:
                continue
            out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_each_board_module_imports_first():
    names = board_modules()
    assert "edge.module_link" in names and len(names) > 50
    done = subprocess.run([sys.executable, "-c", PROBE, *names], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", done.stdout
