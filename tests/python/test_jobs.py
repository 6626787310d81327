"""calc and batch from Python: outputs equal to the CLI's for the same
arguments (read back with GDAL), numpy as the oracle of the arithmetic,
errors as exceptions, interruptions leaving no output."""
import json
import os

import numpy as np
import pytest
import rasterpool
import rptest
from osgeo import gdal

from conftest import run_cli


def read(path):
    ds = gdal.Open(path)
    out = (ds.ReadAsArray(), ds.GetGeoTransform(), ds.GetProjection(),
           [ds.GetRasterBand(b + 1).DataType for b in range(ds.RasterCount)],
           [ds.GetRasterBand(b + 1).GetNoDataValue() for b in range(ds.RasterCount)])
    ds = None
    return out


def same_raster(a, b):
    ra, rb = read(a), read(b)
    np.testing.assert_array_equal(ra[0], rb[0])
    assert ra[1:] == rb[1:]


@pytest.fixture
def bands(tmp_path):
    rng = np.random.default_rng(12)
    gt = (300000.0, 30.0, 0.0, 5000000.0, 0.0, -30.0)
    nir = rng.integers(0, 10000, size=(300, 200)).astype(np.uint16)
    red = rng.integers(0, 10000, size=(300, 200)).astype(np.uint16)
    nir[0, 0] = 0
    red[0, 0] = 0
    pn = rptest.create_raster(str(tmp_path / "nir.tif"), nir, dtype="UInt16", gt=gt,
                              srs="EPSG:32632", nodata=0)
    pr = rptest.create_raster(str(tmp_path / "red.tif"), red, dtype="UInt16", gt=gt,
                              srs="EPSG:32632", nodata=0)
    return pn, pr, nir, red


def test_calc_equals_cli_and_numpy(tmp_path, bands, cli):
    pn, pr, nir, red = bands
    out_py = str(tmp_path / "ndvi_py.tif")
    out_cli = str(tmp_path / "ndvi_cli.tif")
    rep = rasterpool.calc({"A": pn, "B": pr}, "(A-B)/(A+B)", out_py, ot="Float32",
                          co=["COMPRESS=DEFLATE"], threads=2)
    assert isinstance(rep, rasterpool.CalcReport)
    assert rep.out_bands == 1 and rep.pixels == 300 * 200 and rep.out_type == gdal.GDT_Float32
    run_cli(cli, ["calc", "-i", "A=" + pn, "-i", "B=" + pr, "-e", "(A-B)/(A+B)", "-o", out_cli,
                  "--ot", "Float32", "--co", "COMPRESS=DEFLATE", "-j", "2", "-q"])
    same_raster(out_py, out_cli)
    got = read(out_py)[0]
    a, b = nir.astype(np.float64), red.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        want = ((a - b) / (a + b)).astype(np.float32)
    valid = (nir != 0) & (red != 0)
    np.testing.assert_array_equal(got[valid], want[valid])
    assert got[0, 0] == read(out_py)[4][0]  # nodata in, nodata out


def test_calc_several_bands_and_nodata(tmp_path, bands, cli):
    pn, pr, nir, red = bands
    out_py = str(tmp_path / "two_py.tif")
    out_cli = str(tmp_path / "two_cli.tif")
    rasterpool.calc([("A", pn)], ["A > 5000 ? A : nodata", "A*2"], out_py, nodata=-1,
                    ot="Int32")
    run_cli(cli, ["calc", "-i", "A=" + pn, "-e", "A > 5000 ? A : nodata", "-e", "A*2",
                  "--nodata", "-1", "--ot", "Int32", "-o", out_cli, "-q"])
    same_raster(out_py, out_cli)


def test_calc_errors(tmp_path, bands):
    pn, pr, nir, red = bands
    with pytest.raises(rasterpool.UsageError) as e:
        rasterpool.calc({"A": pn}, "(A-", str(tmp_path / "x.tif"))
    assert "^" in str(e.value)  # a caret under the position
    with pytest.raises(rasterpool.UsageError, match="C"):
        rasterpool.calc({"A": pn}, "A+C", str(tmp_path / "x.tif"))
    missing = str(tmp_path / "missing.tif")
    with pytest.raises(rasterpool.OpenError, match="missing.tif"):
        rasterpool.calc({"A": missing}, "A", str(tmp_path / "x.tif"))
    assert not os.path.exists(tmp_path / "x.tif")


def test_calc_interrupted_leaves_nothing(tmp_path, bands):
    pn, pr, nir, red = bands
    out = tmp_path / "out" / "i.tif"
    out.parent.mkdir()

    def progress(fraction, message):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rasterpool.calc({"A": pn}, "A*2", str(out), progress=progress)
    assert os.listdir(out.parent) == []


def test_batch_equals_cli(tmp_path, bands, cli):
    pn, pr, nir, red = bands
    d_py, d_cli = tmp_path / "py", tmp_path / "cli"
    opts = ["-t_srs", "EPSG:4326", "-r", "near"]
    rep = rasterpool.batch("warp", [pn, pr], out_dir=str(d_py), options=opts, jobs=2)
    assert isinstance(rep, rasterpool.BatchReport)
    assert (rep.tasks, rep.done, rep.failed, rep.skipped) == (2, 2, 0, 0)
    run_cli(cli, ["batch", "warp", pn, pr, "--out-dir", str(d_cli), "-j", "2", "-q", "--"] + opts)
    for name in ("nir.tif", "red.tif"):
        same_raster(str(d_py / name), str(d_cli / name))
    # the journal has one done record per input
    with open(d_py / "rasterpool-batch.jsonl") as f:
        recs = [json.loads(line) for line in f]
    assert sorted(r["outcome"] for r in recs) == ["done", "done"]
    # resume: nothing to redo
    rep = rasterpool.batch("warp", [pn, pr], out_dir=str(d_py), options=opts, resume=True)
    assert (rep.done, rep.skipped) == (0, 2)


def test_batch_failures_and_usage(tmp_path, bands):
    pn, pr, nir, red = bands
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    d = tmp_path / "o"
    rep = rasterpool.batch("translate", [pn, str(bad)], out_dir=str(d), jobs=2)
    assert (rep.tasks, rep.done, rep.failed) == (2, 1, 1)
    assert sorted(os.listdir(d)) == ["nir.tif", "rasterpool-batch.jsonl"]
    with pytest.raises(rasterpool.PartialError):
        rasterpool.batch("translate", [str(bad)], out_dir=str(d), check=True)
    with pytest.raises(rasterpool.UsageError, match="-nosuchoption"):
        rasterpool.batch("translate", [pn], out_dir=str(d), options=["-nosuchoption"])
    with pytest.raises(rasterpool.UsageError):
        rasterpool.batch("nosuchkind", [pn], out_dir=str(d))


def test_batch_interrupted_leaves_no_partial_output(tmp_path, bands):
    pn, pr, nir, red = bands
    d = tmp_path / "o"
    seen = []

    def progress(fraction, message):
        seen.append(message)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rasterpool.batch("translate", [pn, pr], out_dir=str(d), jobs=2, progress=progress)
    assert seen
    left = sorted(os.listdir(d)) if d.exists() else []
    # a task may have finished before the stop (then its output is whole);
    # nothing else: no temporary, no partial file
    for name in left:
        assert name in ("nir.tif", "red.tif", "rasterpool-batch.jsonl"), left
        if name.endswith(".tif"):
            same_raster(str(d / name), pn if name == "nir.tif" else pr)
