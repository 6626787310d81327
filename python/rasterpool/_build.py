"""_build.py — cffi's builder for rasterpool._native (API, out-of-line mode).

The extension is compiled against include/rasterpool.h and linked to
librasterpool.so, with an RPATH to the library's folder so that the
installed package finds the library it was built with. Where they are:

  RASTERPOOL_BUILD_DIR=DIR   a CMake build tree of rasterpool (DIR/librasterpool.so,
                             DIR/include/rasterpool_version.h, the sources'
                             include/ beside this package's python/ folder)
  RASTERPOOL_PREFIX=DIR      an installed prefix (DIR/include, DIR/lib or
                             DIR/lib/<multiarch>)
  otherwise                  ../build beside this package's folder (a source
                             checkout built with cmake -B build), else
                             pkg-config rasterpool (an installed library)

setup.py uses `ffibuilder` (cffi_modules); tests/python/build_ext.py calls
build() to compile into a build tree without pip.
"""
import glob
import os
import shutil
import subprocess

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
SOURCE_ROOT = os.path.dirname(PYTHON_DIR)


class NotFound(Exception):
    pass


def _from_build_dir(build_dir):
    build_dir = os.path.abspath(build_dir)
    if not glob.glob(os.path.join(build_dir, "librasterpool.so*")):
        raise NotFound("no librasterpool.so in %s (build it: cmake -S . -B build && "
                       "cmake --build build)" % build_dir)
    include = os.path.join(SOURCE_ROOT, "include")
    if not os.path.exists(os.path.join(include, "rasterpool.h")):
        raise NotFound("no include/rasterpool.h in %s (the build tree needs its sources)"
                       % SOURCE_ROOT)
    return [include, os.path.join(build_dir, "include")], [build_dir]


def _from_prefix(prefix):
    prefix = os.path.abspath(prefix)
    include = os.path.join(prefix, "include")
    libdirs = [d for d in [os.path.join(prefix, "lib")] + glob.glob(os.path.join(prefix, "lib", "*-linux-gnu*"))
               + [os.path.join(prefix, "lib64")] if glob.glob(os.path.join(d, "librasterpool.so*"))]
    if not os.path.exists(os.path.join(include, "rasterpool.h")) or not libdirs:
        raise NotFound("no include/rasterpool.h and lib/librasterpool.so under %s" % prefix)
    return [include], libdirs[:1]


def _from_pkg_config():
    if not shutil.which("pkg-config"):
        raise NotFound("no pkg-config")
    r = subprocess.run(["pkg-config", "--cflags-only-I", "--libs-only-L", "rasterpool"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise NotFound("pkg-config does not know rasterpool")
    incs = [w[2:] for w in r.stdout.split() if w.startswith("-I")]
    libs = [w[2:] for w in r.stdout.split() if w.startswith("-L")]
    if not libs:
        r = subprocess.run(["pkg-config", "--variable=libdir", "rasterpool"],
                           capture_output=True, text=True)
        libs = [r.stdout.strip()] if r.stdout.strip() else []
    return incs, libs


def locate():
    """(include_dirs, library_dirs) of rasterpool, or raises NotFound with
    every place that was tried."""
    if os.environ.get("RASTERPOOL_BUILD_DIR"):
        return _from_build_dir(os.environ["RASTERPOOL_BUILD_DIR"])
    if os.environ.get("RASTERPOOL_PREFIX"):
        return _from_prefix(os.environ["RASTERPOOL_PREFIX"])
    tried = []
    for how in (lambda: _from_build_dir(os.path.join(SOURCE_ROOT, "build")), _from_pkg_config):
        try:
            return how()
        except NotFound as e:
            tried.append(str(e))
    raise NotFound("rasterpool: cannot find librasterpool and rasterpool.h (%s). Set "
                   "RASTERPOOL_BUILD_DIR to a CMake build tree or RASTERPOOL_PREFIX to an "
                   "installed prefix." % "; ".join(tried))


def make_ffibuilder(include_dirs, library_dirs):
    ffi = FFI()
    with open(os.path.join(HERE, "_rasterpool.cdef"), encoding="utf-8") as f:
        ffi.cdef(f.read())
    ffi.set_source(
        "rasterpool._native",
        '#include "rasterpool.h"\n',
        include_dirs=include_dirs,
        library_dirs=library_dirs,
        runtime_library_dirs=library_dirs,
        libraries=["rasterpool"],
        extra_compile_args=["-Werror=incompatible-pointer-types", "-Werror=int-conversion",
                            "-Werror=implicit-function-declaration"],
    )
    return ffi


def build(out_dir, include_dirs=None, library_dirs=None):
    """Compiles rasterpool._native into out_dir (which holds the package
    folder rasterpool/); returns the extension's path."""
    if include_dirs is None:
        include_dirs, library_dirs = locate()
    ffi = make_ffibuilder(include_dirs, library_dirs)
    tmp = os.path.join(out_dir, "_cffi_tmp")
    built = ffi.compile(tmpdir=tmp, verbose=False)
    dest = os.path.join(out_dir, "rasterpool", os.path.basename(built))
    shutil.copyfile(built, dest)
    return dest


def ffibuilder():
    """cffi_modules' entry (setup.py): the builder for the rasterpool found
    by locate(); a clear message when there is none."""
    try:
        return make_ffibuilder(*locate())
    except NotFound as e:
        raise SystemExit(str(e)) from None


if __name__ == "__main__":
    ffibuilder().compile(verbose=True)
