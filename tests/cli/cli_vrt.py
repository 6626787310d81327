#!/usr/bin/python3
"""cli_vrt — extract over VRT mosaics: sources read directly, and fallbacks.

Every value is checked against GDAL's own answer through the VRT (the numpy
oracle reads the VRT with python3-gdal; gdallocationinfo reads it too), at
1 and several threads (byte-identical output). Cases: a mosaic of tiles
with different block sizes (16, 32, 64, strips), overlaps (later sources on
top), gaps, per-source NODATA (transparent: the source below shows, or the
VRT nodata), windows inside a file, windows larger than their file (GDAL
clips), a DstRect partly off the VRT, relative (also in a subfolder) and
absolute source paths, sources whose XML lacks SourceProperties; no VRT
nodata (gaps are 0); Float32 with NaN source NODATA; fallbacks with --plan
saying why: a source of another data type (told by the XML, or found when
opened), a resampled source, a scaled source, a band mixing both ways; a
missing source file fails only its own points.
gdallocationinfo is a second oracle only for VRTs without per-source NODATA:
GDAL 3.6's gdallocationinfo reads through a CFloat64 buffer, and on that path
GDAL's VRT reader does not apply a ComplexSource NODATA (a 1x1 ReadRaster
with buf_type=GDT_CFloat64 shows the raw pixel, while a read in the band's
own type shows the source below); the band-type read is GDAL's answer.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_vrt.py
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import rptest  # noqa: E402
import vrtlib  # noqa: E402
from vrtlib import VRT_GT, VRT_H, VRT_W, source_xml, tile, vrt_xml, write  # noqa: E402

T = rptest.Tester("cli_vrt")
TMP = tempfile.mkdtemp(prefix="rp_cli_vrt_")


def points(seed, n=3000):
    return rptest.random_points(VRT_GT, VRT_W, VRT_H, n_inside=n, n_outside=100, n_edge=200,
                                seed=seed)


def run_and_compare(case, vrt, bands=(1,), seed=1, expect_code=0, threads=(1, 3), gli=True):
    xs, ys = points(seed)
    pts = os.path.join(TMP, "%s.csv" % case)
    lines = rptest.write_points_csv(pts, xs, ys)
    oracle = rptest.ArrayOracle(vrt, bands=list(bands))
    outs = []
    for th in threads:
        args = [vrt, "--points", pts, "--status", "-j", str(th)]
        for b in bands:
            args += ["-b", str(b)]
        run = rptest.extract(args)
        rptest.compare_extract(T, case, run, xs, ys, oracle, list(bands), lines,
                               expect_code=expect_code, use_gli=gli)
        outs.append(run.out)
    T.check(case, all(o == outs[0] for o in outs),
            "output differs between --threads %s" % (threads,))
    return oracle


def plan_text(vrt, seed=1):
    xs, ys = points(seed)
    pts = os.path.join(TMP, "plan.csv")
    rptest.write_points_csv(pts, xs, ys)
    run = rptest.extract([vrt, "--points", pts, "--plan"])
    return run


def case_mosaic(case):
    d = os.path.join(TMP, "m1")
    absdir = os.path.join(TMP, "abs")
    os.makedirs(absdir, exist_ok=True)
    vrt = vrtlib.mosaic(d, absolute_dir=absdir)
    plan = plan_text(vrt)
    T.check(case, plan.code == 0 and "band 1: read from its sources directly" in plan.text,
            "--plan should read band 1 from the sources:\n%s\n%s" % (plan.text, plan.describe()))
    T.check(case, "files touched" in plan.text and "source blocks to read" in plan.text,
            "--plan should count files and source blocks:\n%s" % plan.text)
    oracle = run_and_compare(case, vrt, gli=False)
    # the mosaic's features are really exercised: transparent pixels, gaps, overlaps
    st, pix, col, row = oracle.expect(*points(1), 1)
    vals = [int(p) for s, p in zip(st, pix) if s == "ok"]
    T.check(case, any(1000 <= v < 2000 for v in vals) and any(2000 <= v < 3000 for v in vals)
            and any(3000 <= v < 4000 for v in vals) and any(4000 <= v < 5000 for v in vals)
            and any(5000 <= v < 6000 for v in vals) and any(6000 <= v < 7000 for v in vals),
            "every tile should answer some point")
    T.check(case, st.count("nodata") > 20, "gaps and transparent pixels should give nodata")
    # a point where B is transparent (NODATA 7) over A shows A's pixel
    # B's (r, c) = (0, 0) is transparent: VRT cell (60, 20) is A's (20, 60)
    x, y = rptest.pixel_to_world(VRT_GT, 60.5, 20.5)
    pts = os.path.join(TMP, "one.csv")
    rptest.write_points_csv(pts, [x], [y])
    run = rptest.extract([vrt, "--points", pts])
    want = 1000 + (7 * 20 + 3 * 60) % 500
    T.check(case, run.text.strip().endswith(",%d" % want),
            "a transparent pixel of b.tif should show a.tif's %d: %s" % (want, run.describe()))


def case_no_vrt_nodata(case):
    d = os.path.join(TMP, "m2")
    vrt = vrtlib.mosaic(d, vrt_nodata=None)
    oracle = run_and_compare(case, vrt, seed=2, gli=False)
    st, pix, _, _ = oracle.expect(*points(2), 1)
    T.check(case, sum(1 for s, p in zip(st, pix) if s == "ok" and p == 0) > 10,
            "gaps without a VRT nodata should read 0 (as GDAL fills)")


def case_float_nan(case):
    d = os.path.join(TMP, "m3")
    os.makedirs(d, exist_ok=True)
    tile(os.path.join(d, "low.tif"), 120, 80, 100, dtype="Float32", block=(32, 32))
    tile(os.path.join(d, "top.tif"), 120, 80, 500, dtype="Float32", block=(16, 16),
         nodata_value=float("nan"))
    srcs = [source_xml("low.tif", (0, 0), size=(120, 80), relative=True,
                       props=(120, 80, "Float32", 32, 32)),
            source_xml("top.tif", (50, 30), size=(120, 80), relative=True, nodata="nan",
                       props=(120, 80, "Float32", 16, 16))]
    vrt = write(os.path.join(d, "f.vrt"), vrt_xml(VRT_W, VRT_H, VRT_GT,
                                                   [("Float32", "nan", srcs)]))
    plan = plan_text(vrt)
    T.check(case, "read from its sources directly" in plan.text, plan.text)
    run_and_compare(case, vrt, seed=3, gli=False)


def fallback_case(case, d, srcs, why, band_type="Int16", seed=4):
    vrt = write(os.path.join(d, case + ".vrt"),
                vrt_xml(VRT_W, VRT_H, VRT_GT, [(band_type, -1, srcs)]))
    plan = plan_text(vrt)
    T.check(case, plan.code == 0 and "band 1: read through GDAL's VRT reader" in plan.text
            and why in plan.text,
            "--plan should say the band falls back because %r:\n%s" % (why, plan.text))
    run_and_compare(case, vrt, seed=seed)


def case_fallbacks(case):
    d = os.path.join(TMP, "m4")
    os.makedirs(d, exist_ok=True)
    tile(os.path.join(d, "i16.tif"), 100, 80, 1000, block=(32, 32))
    tile(os.path.join(d, "i16b.tif"), 100, 80, 2000, block=(16, 16))
    base = source_xml("i16b.tif", (0, 0), size=(100, 80), relative=True,
                      props=(100, 80, "Int16", 16, 16))
    # another data type, told by SourceProperties
    fallback_case(case + "_dtype", d, [
        source_xml("i16.tif", (0, 0), size=(100, 80), relative=True,
                   props=(100, 80, "Int16", 32, 32)),
        source_xml("i16b.tif", (90, 30), size=(100, 80), relative=True,
                   props=(100, 80, "Int16", 16, 16))],
        "is Int16, the band Float32", band_type="Float32")
    # another data type, found when the source is opened (no SourceProperties)
    fallback_case(case + "_dtype_opened", d, [
        source_xml("i16.tif", (10, 10), size=(100, 80), relative=True)],
        "is Int16, the band Float32", band_type="Float32")
    # a resampled source
    fallback_case(case + "_resampled", d, [
        base, source_xml("i16.tif", (60, 20), size=((50, 40), (100, 80)), relative=True,
                         props=(100, 80, "Int16", 32, 32))],
        "resampled (SrcRect 50x40 to DstRect 100x80)")
    # a scaled source
    fallback_case(case + "_scaled", d, [
        base, source_xml("i16.tif", (60, 20), size=(100, 80), relative=True,
                         props=(100, 80, "Int16", 32, 32),
                         extra="      <ScaleOffset>0</ScaleOffset><ScaleRatio>2</ScaleRatio>")],
        "changes values (ScaleRatio)")


def case_mixed_bands(case):
    """Band 1 direct, band 2 scaled (through GDAL): one run, both right."""
    d = os.path.join(TMP, "m5")
    os.makedirs(d, exist_ok=True)
    tile(os.path.join(d, "two.tif"), 120, 90, 1000, block=(32, 32), bands=2, nodata_value=7)
    s1 = [source_xml("two.tif", (30, 10), size=(120, 90), relative=True, band=1, nodata=7,
                     props=(120, 90, "Int16", 32, 32))]
    s2 = [source_xml("two.tif", (30, 10), size=(120, 90), relative=True, band=2,
                     props=(120, 90, "Int16", 32, 32),
                     extra="      <ScaleOffset>3</ScaleOffset><ScaleRatio>1</ScaleRatio>")]
    vrt = write(os.path.join(d, "two.vrt"), vrt_xml(VRT_W, VRT_H, VRT_GT,
                                                     [("Int16", -1, s1), ("Int16", -1, s2)]))
    plan = plan_text(vrt)
    T.check(case, "band 1: read from its sources directly" in plan.text and
            "band 2: read through GDAL's VRT reader" in plan.text, plan.text)
    run_and_compare(case, vrt, bands=(1, 2), seed=5, gli=False)


def case_missing_source(case):
    """A missing tile fails only the points it would paint (status error,
    named on stderr, exit 1); every other point has GDAL's answer."""
    d = os.path.join(TMP, "m6")
    vrt = vrtlib.mosaic(d, name="whole.vrt")
    text = open(vrt).read()
    # a missing file on top of the gap at x 80..150, y 0..20
    missing = source_xml("gone.tif", (90, 0), size=(40, 15), relative=True,
                         props=(40, 15, "Int16", 16, 16))
    broken = write(os.path.join(d, "broken.vrt"),
                   text.replace("  </VRTRasterBand>", missing + "\n  </VRTRasterBand>"))
    xs, ys = points(6)
    pts = os.path.join(TMP, "missing.csv")
    rptest.write_points_csv(pts, xs, ys)
    run = rptest.extract([broken, "--points", pts, "--status"])
    T.check(case, run.code == 1, "exit %s, want 1: %s" % (run.code, run.describe()))
    T.check(case, "gone.tif" in run.err, "stderr should name gone.tif: %s" % run.describe())
    oracle = rptest.ArrayOracle(vrt, bands=[1])  # GDAL's answer without the missing tile
    st, pix, col, row = oracle.expect(xs, ys, 1)
    header, rows = rptest.parse_csv(run.text)
    lim = rptest.Limited(T, case)
    nerr = 0
    for i, r in enumerate(rows):
        on_missing = st[i] != "outside" and 90 <= col[i] < 130 and 0 <= row[i] < 15
        if on_missing:
            nerr += 1
            if r[-1] != "error" or r[-2] != "":
                lim.add("point %d on the missing tile: %r, want ('', 'error')" % (i, r[-2:]))
            continue
        want = str(int(pix[i])) if st[i] == "ok" else ""
        if r[-1] != st[i] or r[-2] != want:
            lim.add("point %d (col %s row %s): %r, want (%r, %r)" % (i, col[i], row[i], r[-2:],
                                                                    want, st[i]))
    lim.flush()
    T.check(case, nerr > 5, "some points should fall on the missing tile (%d)" % nerr)


T.run_case("mosaic", case_mosaic)
T.run_case("no_vrt_nodata", case_no_vrt_nodata)
T.run_case("float_nan_nodata", case_float_nan)
T.run_case("fallback", case_fallbacks)
T.run_case("mixed_bands", case_mixed_bands)
T.run_case("missing_source", case_missing_source)
T.finish()
