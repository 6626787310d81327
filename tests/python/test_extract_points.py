"""extract_points against GDAL's whole-band reads (rptest.ArrayOracle: the
cell convention computed here from the geotransform), the CLI's output,
rasterio's sample() and hand-computed edge cases; coordinates of every
layout; errors; two Python threads at once; Ctrl-C."""
import concurrent.futures
import os
import signal

import numpy as np
import pytest
import rasterpool
import rptest
from osgeo import osr

from conftest import run_cli

STATUS = {"ok": 0, "nodata": 1, "outside": 2, "error": 3}
REAL_TYPES = ["Byte", "UInt16", "Int16", "UInt32", "Int32", "UInt64", "Int64", "Float32", "Float64"]


def make_data(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype in rptest.INT_TYPES:
        lo, hi = rptest.type_range(dtype)
        data = rng.integers(lo, hi, size=shape, dtype=np.int64 if dtype != "UInt64" else np.uint64,
                            endpoint=True)
    else:
        data = rng.normal(0, 1e3, size=shape)
    return data.astype(rptest.NP_STORE[dtype])


def expected(oracle, xs, ys, bands):
    """(float64 values with NaN, status codes) from the numpy oracle."""
    vals = np.full((len(xs), len(bands)), np.nan)
    st = np.zeros((len(xs), len(bands)), np.uint8)
    for j, b in enumerate(bands):
        status, pix, _, _ = oracle.expect(xs, ys, b)
        for i, s in enumerate(status):
            st[i, j] = STATUS[s]
            if s == "ok":
                p = pix[i]
                vals[i, j] = float(np.real(p)) if np.iscomplexobj(p) else float(p)
    return vals, st


@pytest.mark.parametrize("dtype", REAL_TYPES + ["CInt16", "CFloat32"])
def test_every_type_vs_gdal_whole_band(tmp_path, dtype):
    data = make_data(dtype, (2, 150, 130), hash(dtype) % 1000)
    nodata = None
    if dtype not in rptest.COMPLEX_TYPES:
        nodata = int(data[0, 3, 4]) if dtype in rptest.INT_TYPES else float(data[0, 3, 4])
    gt = (1000.0, 2.5, 0.0, 5000.0, 0.0, -2.5)
    path = rptest.create_raster(str(tmp_path / "r.tif"), data, dtype=dtype, gt=gt, nodata=nodata,
                                block=(32, 16))
    xs, ys = rptest.random_points(gt, 130, 150, n_inside=3000, seed=7,
                                  extra_pixels=[(4, 3)])
    oracle = rptest.ArrayOracle(path)
    want, want_st = expected(oracle, xs, ys, [1, 2])
    got, st = rasterpool.extract_points(path, xs, ys, return_status=True, threads=3)
    assert got.shape == (len(xs), 2) and got.dtype == np.float64
    np.testing.assert_array_equal(st, want_st)
    np.testing.assert_array_equal(got, want)  # NaN where the oracle has no value
    if nodata is not None:
        assert (st == STATUS["nodata"]).any(), "the nodata pixel (4, 3) was not hit"
    if dtype in rptest.INT_TYPES or dtype in ("Float32", "Float64"):
        native = rasterpool.extract_points(path, xs, ys, dtype="native")
        assert native.dtype == np.dtype(rptest.NP_REAL[dtype])
        for j, b in enumerate([1, 2]):
            ok = st[:, j] == 0
            _, pix, _, _ = oracle.expect(xs, ys, b)
            exact = np.array([p for p, s in zip(pix, st[:, j]) if s == 0],
                             dtype=rptest.NP_REAL[dtype])
            np.testing.assert_array_equal(native[ok, j], exact)


def test_int64_beyond_2_53_exact(tmp_path):
    big = np.array([[2**62 + 1, -(2**62) - 3], [2**53 + 1, 7]], dtype=np.int64)
    path = rptest.create_raster(str(tmp_path / "i64.tif"), big, dtype="Int64")
    xs = np.array([0.5, 1.5, 0.5, 1.5])
    ys = np.array([1.5, 1.5, 0.5, 0.5])
    v = rasterpool.extract_points(path, xs, ys, dtype="native")
    assert v.dtype == np.int64
    assert v[:, 0].tolist() == [2**62 + 1, -(2**62) - 3, 2**53 + 1, 7]


def test_hand_computed_edges(tmp_path):
    # 4 x 3 raster, cell (c, r) = 10 r + c, origin (100, 30), 10 m cells, nodata 11
    data = np.array([[0, 1, 2, 3], [10, 11, 12, 13], [20, 21, 22, 23]], dtype=np.int16)
    path = rptest.create_raster(str(tmp_path / "e.tif"), data, dtype="Int16",
                                gt=(100, 10, 0, 30, 0, -10), nodata=11)
    pts = [  # x, y, value or None, status
        (100, 30, 0, "ok"),          # top-left corner
        (110, 30, 1, "ok"),          # interior vertical edge: the higher column
        (140, 0, 23, "ok"),          # bottom-right corner: inside
        (140, 15, 13, "ok"),         # right edge
        (115, 15, None, "nodata"),   # cell (1, 1) is the nodata value
        (140.0001, 15, None, "outside"),
        (99.999, 15, None, "outside"),
        (np.nan, 15, None, "outside"),
        (120, -0.01, None, "outside"),
    ]
    xs = np.array([p[0] for p in pts], float)
    ys = np.array([p[1] for p in pts], float)
    v, st = rasterpool.extract_points(path, xs, ys, return_status=True)
    for i, (x, y, want, s) in enumerate(pts):
        assert rasterpool.STATUS_NAMES[st[i, 0]] == s, (x, y)
        if want is None:
            assert np.isnan(v[i, 0]), (x, y)
        else:
            assert v[i, 0] == want, (x, y)


def test_coordinate_layouts_and_dtypes(tmp_path):
    data = np.arange(64 * 48, dtype=np.float32).reshape(48, 64)
    path = rptest.create_raster(str(tmp_path / "c.tif"), data, gt=(0, 1, 0, 48, 0, -1))
    rng = np.random.default_rng(3)
    xy = np.column_stack([rng.uniform(0, 64, 500), rng.uniform(0, 48, 500)])
    want = rasterpool.extract_points(path, xy[:, 0].copy(), xy[:, 1].copy())
    # columns of an (n, 2) array: strided, handed to C as they are
    np.testing.assert_array_equal(rasterpool.extract_points(path, xy[:, 0], xy[:, 1]), want)
    # reversed views, float32 and big-endian inputs, lists: converted once
    np.testing.assert_array_equal(
        rasterpool.extract_points(path, xy[::-1, 0], xy[::-1, 1]), want[::-1])
    np.testing.assert_array_equal(
        rasterpool.extract_points(path, xy[:, 0].astype(">f8"), xy[:, 1].astype(">f8")), want)
    ints = np.floor(xy).astype(np.int32)
    got = rasterpool.extract_points(path, ints[:, 0], ints[:, 1])
    # an integer y is the top edge of row 48 - y: the higher row
    rows = np.minimum(48 - ints[:, 1], 47)
    exp = data[rows, ints[:, 0]].astype(np.float64)
    np.testing.assert_array_equal(got[:, 0], exp)
    assert rasterpool.extract_points(path, [], []).shape == (0, 1)


def test_points_crs(tmp_path):
    data = np.arange(100 * 100, dtype=np.float32).reshape(100, 100)
    gt = (1000000.0, 100.0, 0.0, 6000000.0, 0.0, -100.0)
    path = rptest.create_raster(str(tmp_path / "m.tif"), data, gt=gt, srs="EPSG:3857")
    rng = np.random.default_rng(5)
    mx = rng.uniform(gt[0] + 1, gt[0] + 9999, 300)
    my = rng.uniform(gt[3] - 9999, gt[3] - 1, 300)
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(3857)
    dst.ImportFromEPSG(4326)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(src, dst)
    ll = np.array(tr.TransformPoints(np.column_stack([mx, my]).tolist()))
    want = rasterpool.extract_points(path, mx, my)
    got = rasterpool.extract_points(path, ll[:, 0], ll[:, 1], crs="EPSG:4326")
    # the round trip through lon/lat may move a point across a cell edge by
    # far less than a cell: compare the points that are not near one
    px = (mx - gt[0]) / gt[1]
    py = (my - gt[3]) / gt[5]
    far = (np.abs(px - np.round(px)) > 1e-6) & (np.abs(py - np.round(py)) > 1e-6)
    np.testing.assert_array_equal(got[far], want[far])
    assert far.sum() > 290
    got2 = rasterpool.extract_points(path, ll[:, 0], ll[:, 1], crs=4326)
    np.testing.assert_array_equal(got2, got)


def test_equals_cli(tmp_path, cli):
    a = make_data("Int32", (3, 90, 70), 1)
    b = make_data("Float32", (1, 90, 70), 2)
    gt = (0, 1, 0, 90, 0, -1)
    pa = rptest.create_raster(str(tmp_path / "a.tif"), a, dtype="Int32", gt=gt, nodata=int(a[0, 5, 5]))
    pb = rptest.create_raster(str(tmp_path / "b.tif"), b, dtype="Float32", gt=gt)
    xs, ys = rptest.random_points(gt, 70, 90, n_inside=1500, seed=11, extra_pixels=[(5, 5)])
    csv = str(tmp_path / "p.csv")
    rptest.write_points_csv(csv, xs, ys)
    r = run_cli(cli, ["extract", pa, pb, "-b", "1", "-b", "3", "--points", csv, "--status", "-q"],
                check=False)
    # b.tif has no band 3: the CLI and the binding both refuse the job
    assert r.returncode == 2
    with pytest.raises(rasterpool.UsageError) as e:
        rasterpool.extract_points([pa, pb], xs, ys, bands=[1, 3])
    assert "b.tif" in str(e.value) and e.value.status == "USAGE"
    r = run_cli(cli, ["extract", pa, pb, "--points", csv, "--status", "-q"])
    header, rows = rptest.parse_csv(r.stdout)
    v, st, names = rasterpool.extract_points([pa, pb], xs, ys, return_status=True,
                                             return_names=True)
    assert names == ["a_b1", "a_b2", "a_b3", "b_b1"]
    for j, name in enumerate(names):
        c = header.index(name)
        s = header.index(name + "_status")
        texts = [row[c] for row in rows]
        # the CLI prints a Float32 as the shortest text of that float32
        parse = np.float32 if name.startswith("b_") else int
        cli_vals = np.array([float(parse(t)) if t else np.nan for t in texts])
        np.testing.assert_array_equal(v[:, j], cli_vals)
        assert [rasterpool.STATUS_NAMES[k] for k in st[:, j]] == [row[s] for row in rows]


def test_rasterio_sample(tmp_path):
    rasterio = pytest.importorskip("rasterio")  # installed by scripts/install-deps
    for dtype in REAL_TYPES:
        if dtype in ("UInt64", "Int64"):
            continue  # rasterio 1.3 reads 64-bit integer bands as float64
        data = make_data(dtype, (1, 60, 50), 3)
        gt = (10, 0.5, 0, 40, 0, -0.5)
        path = rptest.create_raster(str(tmp_path / ("%s.tif" % dtype)), data, dtype=dtype, gt=gt)
        rng = np.random.default_rng(4)
        # interior points, away from cell edges (rasterio rounds differently there)
        px = rng.integers(0, 50, 400) + rng.uniform(0.05, 0.95, 400)
        py = rng.integers(0, 60, 400) + rng.uniform(0.05, 0.95, 400)
        xs, ys = gt[0] + px * gt[1], gt[3] + py * gt[5]
        with rasterio.open(path) as ds:
            want = np.array([s[0] for s in ds.sample(zip(xs, ys))]).astype(np.float64)
        got = rasterpool.extract_points(path, xs, ys)
        np.testing.assert_array_equal(got[:, 0], want, err_msg=dtype)


def test_errors_name_the_file(tmp_path):
    path = rptest.create_raster(str(tmp_path / "ok.tif"), np.zeros((4, 4)), dtype="Byte")
    missing = str(tmp_path / "missing.tif")
    with pytest.raises(rasterpool.OpenError) as e:
        rasterpool.extract_points(missing, [1.0], [1.0])
    assert missing in str(e.value) and e.value.status == "OPEN" and e.value.code == 3
    assert isinstance(e.value, rasterpool.Error) and isinstance(e.value, OSError)
    notraster = tmp_path / "text.tif"
    notraster.write_text("not a raster\n")
    with pytest.raises(rasterpool.OpenError, match="text.tif"):
        rasterpool.extract_points(str(notraster), [1.0], [1.0])
    with pytest.raises(rasterpool.UsageError, match="band"):
        rasterpool.extract_points(path, [1.0], [1.0], bands=[2])
    with pytest.raises(rasterpool.UsageError):
        rasterpool.extract_points(path, [1.0], [1.0], crs="EPSG:999999999")
    with pytest.raises(rasterpool.UsageError, match="differ in length"):
        rasterpool.extract_points(path, [1.0, 2.0], [1.0])
    with pytest.raises(rasterpool.UsageError):
        rasterpool.extract_points(path, [1.0], [1.0], threads=0 - 5)


def test_method_is_passed_as_argv(tmp_path):
    # --method goes to the library's own parser ("nearest" is accepted;
    # test_sample.py checks the interpolated values).
    path = rptest.create_raster(str(tmp_path / "m.tif"), np.zeros((4, 4)), dtype="Byte")
    try:
        rasterpool.extract_points(path, [1.0], [1.0], method="nearest")
    except rasterpool.UsageError as e:
        assert "--method" in str(e)


def test_two_python_threads(tmp_path):
    paths, oracles = [], []
    gt = (0, 1, 0, 300, 0, -1)
    for k in range(2):
        data = make_data("Float32", (1, 300, 300), 20 + k)
        paths.append(rptest.create_raster(str(tmp_path / ("t%d.tif" % k)), data, gt=gt,
                                          block=(32, 32)))
        oracles.append(rptest.ArrayOracle(paths[-1]))
    xs, ys = rptest.random_points(gt, 300, 300, n_inside=50000, seed=9)
    wants = [expected(o, xs, ys, [1])[0] for o in oracles]

    def job(k):
        return [rasterpool.extract_points(paths[k], xs, ys, threads=2) for _ in range(4)]

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        results = list(ex.map(job, [0, 1]))
    for k in range(2):
        for got in results[k]:
            np.testing.assert_array_equal(got, wants[k])


def _big_raster(tmp_path):
    data = np.random.default_rng(0).normal(size=(1024, 1024)).astype(np.float32)
    return rptest.create_raster(str(tmp_path / "big.tif"), data, gt=(0, 1, 0, 1024, 0, -1),
                                block=(16, 16))


def test_progress_exception_cancels(tmp_path):
    path = _big_raster(tmp_path)
    xs = np.random.default_rng(1).uniform(0, 1024, 200000)
    ys = np.random.default_rng(2).uniform(0, 1024, 200000)
    calls = []

    class Stop(Exception):
        pass

    def progress(fraction, message):
        calls.append(fraction)
        raise Stop()

    with pytest.raises(Stop):
        rasterpool.extract_points(path, xs, ys, progress=progress)
    assert len(calls) == 1
    # the library is fine afterwards
    assert rasterpool.extract_points(path, xs[:10], ys[:10]).shape == (10, 1)


def test_ctrl_c_cancels(tmp_path):
    path = _big_raster(tmp_path)
    xs = np.random.default_rng(1).uniform(0, 1024, 200000)
    ys = np.random.default_rng(2).uniform(0, 1024, 200000)
    sent = []

    def progress(fraction, message):
        if not sent:
            sent.append(fraction)
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does

    with pytest.raises(KeyboardInterrupt):
        rasterpool.extract_points(path, xs, ys, progress=progress)
    assert sent
    v = rasterpool.extract_points(path, xs[:100], ys[:100])
    assert not np.isnan(v).any()


def test_log_lines_reach_logging(tmp_path, caplog):
    path = rptest.create_raster(str(tmp_path / "nocrs.tif"), np.zeros((4, 4)), dtype="Byte")
    with caplog.at_level("WARNING", logger="rasterpool"):
        rasterpool.extract_points(path, [1.0], [1.0], crs="EPSG:4326")
    assert any("nocrs.tif" in r.getMessage() for r in caplog.records), caplog.text


MEMORY_SCRIPT = r"""
import resource, sys
import numpy as np
sys.path[:0] = sys.argv[3:]
import rasterpool
path, n = sys.argv[1], int(sys.argv[2])
rasterpool.extract_points(path, [1.0], [1.0])          # GDAL and the library loaded
rng = np.random.default_rng(0)
xs = rng.uniform(0, 1024, n)
ys = rng.uniform(0, 1024, n)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
v = rasterpool.extract_points(path, xs, ys, threads=2)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
assert v.shape == (n, 1) and not np.isnan(v).any()
print(before, after)
"""


def test_memory_10m_points(tmp_path):
    """10M points, one Float32 band: the peak grows by no more than the C
    library's bound (README "Bounds": 34 bytes a point, plus up to 17 of
    coordinate slack) plus the returned float64 array (8) and 32 MiB of
    block buffers and GDAL state; nothing of the binding's own per point."""
    import subprocess
    import sys
    path = _big_raster(tmp_path)
    n = 10_000_000
    r = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, path, str(n)] + sys.path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    before, after = map(int, r.stdout.split())
    growth = after - before
    bound = n * (34 + 17 + 8) + (32 << 20)
    print("10M points: peak grew by %.1f bytes a point (bound %.1f)" % (growth / n, bound / n))
    assert growth <= bound, "peak grew by %.1f bytes a point, bound %.1f" % (growth / n, bound / n)


def test_progress_true_draws_a_bar(tmp_path, capsys):
    path = _big_raster(tmp_path)
    xs = np.random.default_rng(1).uniform(0, 1024, 1000)
    v = rasterpool.extract_points(path, xs, xs, progress=True)
    assert v.shape == (1000, 1)
    err = capsys.readouterr().err
    assert "extract" in err  # tqdm's bar or the simple one, on stderr


def test_window_stats_equal_numpy_slices(tmp_path):
    """window=N, window_stats=[...]: each point's N x N cells (centred on
    its cell, clipped at the raster's edge, nodata left out) computed with
    numpy slices."""
    gt = (300.0, 5.0, 0.0, 900.0, 0.0, -5.0)
    h, w, nodata = 20, 25, -1.0
    rng = np.random.default_rng(21)
    a = rng.normal(10, 3, size=(h, w)).round(2)
    a[5:8, 5:8] = nodata  # a nodata patch: windows around it lose cells
    a[12:17, 12:17] = nodata  # a 5x5 patch: the 3x3 window at its centre has no cell
    path = rptest.create_raster(str(tmp_path / "w.tif"), a, dtype="Float64", gt=gt, nodata=nodata,
                                block=(16, 16))
    cells = [(10, 3), (0, 0), (24, 19), (6, 6), (14, 14), (1, 18), (12, 0)]  # (col, row)
    xs = np.array([gt[0] + gt[1] * (c + 0.5) for c, r in cells])
    ys = np.array([gt[3] + gt[5] * (r + 0.5) for c, r in cells])
    stats = ["mean", "min", "max", "sum", "count", "median"]
    for n in (1, 3, 5):
        v, names = rasterpool.extract_points(path, xs, ys, window=n, window_stats=stats,
                                             return_names=True)
        assert names == ["b1_" + s for s in stats], names
        k = n // 2
        for i, (c, r) in enumerate(cells):
            win = a[max(r - k, 0):r + k + 1, max(c - k, 0):c + k + 1].ravel()
            win = win[win != nodata]
            if win.size == 0:
                want = [np.nan, np.nan, np.nan, np.nan, 0.0, np.nan]
                got = v[i].copy()
                assert got[4] == 0 or np.isnan(got[4]), (n, cells[i], got)
                got[4] = 0.0
                np.testing.assert_array_equal(got[[0, 1, 2, 5]], np.array(want)[[0, 1, 2, 5]])
                continue
            want = [win.mean(), win.min(), win.max(), win.sum(), win.size, np.median(win)]
            np.testing.assert_allclose(v[i], want, rtol=1e-12, err_msg="N=%d %s" % (n, cells[i]))
    # values: the N*N cells row-major, NaN off the raster or nodata
    v, names = rasterpool.extract_points(path, xs, ys, window=3, window_stats="values",
                                         return_names=True)
    assert names == ["b1_w3_%d" % j for j in range(1, 10)]
    padded = np.full((h + 2, w + 2), np.nan)
    padded[1:-1, 1:-1] = np.where(a == nodata, np.nan, a)
    for i, (c, r) in enumerate(cells):
        np.testing.assert_array_equal(v[i], padded[r:r + 3, c:c + 3].ravel(), err_msg=str(cells[i]))
    with pytest.raises(rasterpool.UsageError, match="window"):
        rasterpool.extract_points(path, xs, ys, window=4)
    with pytest.raises(rasterpool.UsageError, match="window-stat"):
        rasterpool.extract_points(path, xs, ys, window_stats=["mean"])
