#!/usr/bin/python3
"""cli_vrt_many — a mosaic of 5,000 small files under `ulimit -n 256`.

5,000 8x8 GeoTIFF tiles (100 x 50) under one VRT (written here, with
SourceProperties as gdalbuildvrt writes them), 20,000 points (one at the
centre of every tile, the rest uniform). rasterpool runs with the soft
open-files limit at 256 and 4 threads: each worker's LRU of open sources
is lowered to fit, so the job completes; every value equals GDAL's read of
the VRT (numpy oracle), and --plan reports 5,000 files touched.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_vrt_many.py
"""
import os
import resource
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import gdal  # noqa: E402
from vrtlib import source_xml, vrt_xml, write  # noqa: E402

T = rptest.Tester("cli_vrt_many")
TMP = tempfile.mkdtemp(prefix="rp_cli_vrt_many_")
NX, NY, TS = 100, 50, 8
GT = (0.0, 1.0, 0.0, float(NY * TS), 0.0, -1.0)


def make_mosaic():
    drv = gdal.GetDriverByName("GTiff")
    srcs = []
    os.makedirs(os.path.join(TMP, "tiles"), exist_ok=True)
    for ty in range(NY):
        for tx in range(NX):
            name = "tiles/%03d_%03d.tif" % (tx, ty)
            ds = drv.Create(os.path.join(TMP, name), TS, TS, 1, gdal.GDT_UInt16)
            k = ty * NX + tx
            a = (k * 10 + np.arange(TS * TS).reshape(TS, TS) % 10).astype(np.uint16)
            ds.GetRasterBand(1).WriteArray(a)
            ds = None
            srcs.append(source_xml(name, (tx * TS, ty * TS), size=(TS, TS), relative=True,
                                   kind="SimpleSource", props=(TS, TS, "UInt16", TS, 1)))
    return write(os.path.join(TMP, "many.vrt"), vrt_xml(NX * TS, NY * TS, GT,
                                                         [("UInt16", None, srcs)]))


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def run_low(args):
    """rasterpool under `ulimit -n 256` (preexec in the child only)."""
    import subprocess
    cmd = [rptest.binary(), "extract"] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, preexec_fn=low_nofile, timeout=600)
    return rptest.Run(cmd, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


def case_many(case):
    vrt = make_mosaic()
    rng = np.random.default_rng(5)
    cx = (np.arange(NX * NY) % NX) * TS + TS / 2.0
    cy = (np.arange(NX * NY) // NX) * TS + TS / 2.0
    px = np.concatenate([cx, rng.uniform(0, NX * TS, 15000)])
    py = np.concatenate([cy, rng.uniform(0, NY * TS, 15000)])
    xs, ys = rptest.pixel_to_world(GT, px, py)
    pts = os.path.join(TMP, "pts.csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    plan = run_low([vrt, "--points", pts, "--plan"])
    T.check(case, plan.code == 0 and "5000 files touched" in plan.text,
            "--plan should touch 5000 files:\n%s\n%s" % (plan.text, plan.describe()))
    run = run_low([vrt, "--points", pts, "--status", "-j", "4"])
    oracle = rptest.ArrayOracle(vrt, bands=[1])
    rptest.compare_extract(T, case, run, xs, ys, oracle, [1], lines, use_gli=False)


T.run_case("many_files_low_ulimit", case_many)
T.finish()
