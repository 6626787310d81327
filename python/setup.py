"""setup.py — the package's metadata and the cffi extension rasterpool._native
(compiled against rasterpool.h, linked to librasterpool with an RPATH to
the library's folder). The version is the C library's, read from
rasterpool_version.h. pyproject.toml says how to install."""
import os
import re
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "rasterpool"))
import _build  # noqa: E402


def library_version():
    incs, _ = _build.locate()
    for d in incs:
        p = os.path.join(d, "rasterpool_version.h")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                m = re.search(r'#define\s+RP_VERSION_STRING\s+"([^"]+)"', f.read())
            if m:
                return m.group(1)
    return "0.0.0"


try:
    version = library_version()
except _build.NotFound as e:
    raise SystemExit(str(e)) from None

class AlwaysBuildExt(build_ext):
    """Compiles the extension at every install: pip builds a local folder in
    place, and setuptools would otherwise keep an extension linked to the
    library an earlier install found (its C text is the same wherever the
    library is)."""

    def finalize_options(self):
        super().finalize_options()
        self.force = True


setup(
    name="rasterpool",
    cmdclass={"build_ext": AlwaysBuildExt},
    version=version,
    description="Raster values at points, block-wise raster math and batches of GDAL jobs, "
                "in parallel (Python binding of librasterpool)",
    license="MIT",
    packages=["rasterpool"],
    package_data={"rasterpool": ["_rasterpool.cdef"]},
    python_requires=">=3.9",
    install_requires=["numpy", "cffi>=1.15"],
    extras_require={"frames": ["pandas", "geopandas"], "progress": ["tqdm"]},
    cffi_modules=["rasterpool/_build.py:ffibuilder"],
    zip_safe=False,
)
