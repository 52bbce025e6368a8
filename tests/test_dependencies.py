"""The board's install is minimal: pyproject's base dependencies are exactly the third-party
imports of edge, hostlink and protocols; the lab's packages are extras."""
import ast
import re
import sys
from importlib.metadata import packages_distributions

from tests.conftest import ROOT

try:
    import tomllib
except ImportError:                     # Python 3.10
    import tomli as tomllib

BOARD = ("edge", "hostlink", "protocols")
OURS = {"protocols", "meter_sim", "plc_channel", "edge", "hostlink", "hil"}
MICROPYTHON_BUILTINS = {"micropython", "uhashlib"}      # tried first or as fallbacks, never pip
BACKPORTS = {"tomli": "tomllib"}        # imported where the standard module is missing (3.10)
DIST_OF = {"serial": "pyserial"}        # when the distribution is not installed here


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _guarded(tree):
    """Import nodes inside a ``try`` that catches ImportError (optional or fallback imports)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in node.handlers):
            for part in node.body + [s for h in node.handlers for s in h.body]:
                out.update(id(n) for n in ast.walk(part))
    return out


def third_party_imports(*dirs):
    """(plain, guarded): top-level names of third-party modules the trees import."""
    plain, guarded = set(), set()
    for d in dirs:
        for path in sorted((ROOT / d).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            inside = _guarded(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in OURS or top in sys.stdlib_module_names:
                        continue
                    (guarded if id(node) in inside else plain).add(top)
    return plain, guarded


def distribution(module):
    found = packages_distributions().get(module)
    return norm(found[0] if found else DIST_OF.get(module, module))


def requirements(lines):
    """{name: marker} of requirement strings (marker '' when unconditional)."""
    out = {}
    for line in lines:
        spec, _, marker = line.partition(";")
        out[norm(re.match(r"[A-Za-z0-9._-]+", spec.strip()).group(0))] = marker.strip()
    return out


def project():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def test_base_dependencies_are_exactly_the_board_imports():
    plain, guarded = third_party_imports(*BOARD)
    assert plain, "the walk found no import at all"
    base = requirements(project()["dependencies"])
    assert {n for n, m in base.items() if not m} == {distribution(m) for m in plain}
    assert guarded - set(BACKPORTS) <= MICROPYTHON_BUILTINS, guarded
    assert {n: m for n, m in base.items() if m} == {
        norm(b): "python_version < '3.11'" for b in BACKPORTS if b in guarded}


def test_the_lab_packages_are_extras_and_hil_brings_the_lab():
    extras = project()["optional-dependencies"]
    lab = requirements(extras["lab"])
    plain, _ = third_party_imports("hil", "meter_sim", "plc_channel")
    base = set(requirements(project()["dependencies"]))
    heavy = {"matplotlib", "distributed"}       # the harness's reports and fleet runs: [hil]
    assert {distribution(m) for m in plain - heavy} - base == set(lab)
    assert "gridedge[lab]" in extras["hil"]
    assert not {"simpy", "click", "crcmod", "bitstring"} & base
