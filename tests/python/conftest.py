"""conftest.py — the Python suite's setup: the package under test and the
helpers the tests share.

Run with Debian's python3 (it sees python3-gdal, numpy, pandas, cffi):
    RASTERPOOL_BUILD_DIR=build /usr/bin/python3 -m pytest tests/python
The package is compiled from python/ against that build tree into a
temporary folder for the session (no pip, nothing written to the source
tree). RP_PYTEST_INSTALLED=1 tests the rasterpool that python imports as
it is (an installed one). RASTERPOOL is the CLI the results are compared
with (default: BUILD_DIR/rasterpool).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "oracle"))
BUILD_DIR = os.path.abspath(os.environ.get("RASTERPOOL_BUILD_DIR", os.path.join(ROOT, "build")))
_PKG_DIR = None


def _build_package():
    """Copies python/rasterpool into a temporary folder and compiles its
    cffi extension there against BUILD_DIR."""
    global _PKG_DIR
    _PKG_DIR = tempfile.mkdtemp(prefix="rp-pytest-pkg-")
    src = os.path.join(ROOT, "python", "rasterpool")
    dst = os.path.join(_PKG_DIR, "rasterpool")
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    sys.path.insert(0, os.path.join(src))
    import _build  # noqa: E402  (python/rasterpool/_build.py)
    sys.path.pop(0)
    os.environ["RASTERPOOL_BUILD_DIR"] = BUILD_DIR
    _build.build(_PKG_DIR, *_build.locate())
    sys.path.insert(0, _PKG_DIR)


def pytest_configure(config):
    if os.environ.get("RP_PYTEST_INSTALLED") != "1":
        _build_package()


def pytest_unconfigure(config):
    if _PKG_DIR:
        shutil.rmtree(_PKG_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("RASTERPOOL", os.path.join(BUILD_DIR, "rasterpool"))
    assert os.access(path, os.X_OK), "no rasterpool program at %s (set RASTERPOOL)" % path
    return path


def run_cli(cli, args, check=True, **kw):
    r = subprocess.run([cli] + [str(a) for a in args], capture_output=True, text=True, **kw)
    if check and r.returncode not in (0, 1):
        raise AssertionError("%s failed (%d): %s" % (args, r.returncode, r.stderr))
    return r
