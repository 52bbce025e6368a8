import os
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load_toml(path):
    with open(path, "rb") as fh:
        return tomllib.load(fh)


@pytest.fixture
def rng():
    return random.Random(1234)


@pytest.fixture
def tmp_sqlite(tmp_path):
    return tmp_path / "store.sqlite"


@pytest.fixture
def env_with_path():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env
