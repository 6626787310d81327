"""rasterpool.zonal_stats: values equal to numpy over the cells of
axis-aligned squares that cover whole cells (coverage fractions all 1) and
to the CLI's `rasterpool zonal` table; a GeoDataFrame round trip keeps its
index, columns and CRS; bad inputs raise the right rasterpool.Error
subclass naming the file; no temporary file is left behind."""
import glob
import os
import tempfile

import numpy as np
import pandas as pd
import pytest
import rasterpool
import rptest
from rptest import ogr, osr

from conftest import run_cli

gpd = pytest.importorskip("geopandas")  # python3-geopandas: scripts/install-deps
shapely_geometry = pytest.importorskip("shapely.geometry")

W, H = 40, 30
GT = (1000.0, 2.0, 0.0, 5000.0, 0.0, -2.0)  # cell (c, r): x 1000+2c..+2, y 5000-2r-2..5000-2r
NODATA = -9999.0

# (pid, col0, row0, col1, row1): the square covering cells [col0, col1) x [row0, row1)
SQUARES = [(7, 2, 3, 6, 8), (3, 10, 0, 11, 1), (9, 20, 10, 35, 29), (4, 0, 25, 5, 30),
           (5, 30, 0, 40, 5)]


def cell_box(c0, r0, c1, r1):
    return (GT[0] + GT[1] * c0, GT[3] + GT[5] * r1, GT[0] + GT[1] * c1, GT[3] + GT[5] * r0)


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(14)
    a = rng.normal(50, 20, size=(2, H, W)).round(3)
    a[0, 25:30, 0:5] = NODATA  # polygon 4: nodata only in band 1
    a[0, 0:2, 30:33] = NODATA  # polygon 5: a few nodata cells
    raster = rptest.create_raster(str(tmp_path / "dem.tif"), a, dtype="Float64", gt=GT,
                                  nodata=NODATA, srs="EPSG:32631", block=(16, 16))
    path = str(tmp_path / "zones.gpkg")
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32631)
    lyr = ds.CreateLayer("zones", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("pid", ogr.OFTInteger))
    lyr.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    for pid, c0, r0, c1, r1 in SQUARES:
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("pid", pid)
        f.SetField("name", "z%02d" % pid)
        x0, y0, x1, y1 = cell_box(c0, r0, c1, r1)
        f.SetGeometry(ogr.CreateGeometryFromWkt(
            "POLYGON((%r %r,%r %r,%r %r,%r %r,%r %r))" % (x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)))
        lyr.CreateFeature(f)
    ds = None
    return a, raster, path


def numpy_stats(a, band):
    """Per square: the valid cells' mean, min, max, sum, count; a square with
    no valid cell has every value empty (NaN), count and sum included, as
    `rasterpool zonal --help` documents."""
    out = []
    for _pid, c0, r0, c1, r1 in SQUARES:
        v = a[band - 1, r0:r1, c0:c1].ravel()
        v = v[v != NODATA]
        out.append((v.mean(), v.min(), v.max(), v.sum(), v.size) if v.size else
                   (np.nan,) * 5)
    return np.array(out)


STATS = ["mean", "min", "max", "sum", "count"]


def test_path_values_equal_numpy_and_cli(data, cli, tmp_path):
    a, raster, path = data
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "rasterpool-zonal-*")))
    df = rasterpool.zonal_stats(raster, path, stats=STATS, threads=2)
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "rasterpool-zonal-*"))) == before
    assert isinstance(df, pd.DataFrame)
    names = ["b%d_%s" % (b, s) for b in (1, 2) for s in STATS]
    assert list(df.columns) == ["pid", "name"] + names
    assert df["pid"].tolist() == [s[0] for s in SQUARES]
    assert df["name"].tolist() == ["z%02d" % s[0] for s in SQUARES]
    assert df["pid"].dtype == np.int64 and df["name"].dtype == object
    assert all(df[n].dtype == np.float64 for n in names)
    for band in (1, 2):
        want = numpy_stats(a, band)
        got = df[["b%d_%s" % (band, s) for s in STATS]].to_numpy(dtype=np.float64)
        for k, stat in enumerate(STATS):
            if stat in ("mean", "sum"):
                np.testing.assert_allclose(got[:, k], want[:, k], rtol=1e-12, equal_nan=True,
                                           err_msg="b%d_%s" % (band, stat))
            else:
                np.testing.assert_array_equal(got[:, k], want[:, k],
                                              err_msg="b%d_%s" % (band, stat))
    assert np.isnan(df.loc[3, "b1_mean"]) and not np.isnan(df.loc[3, "b2_mean"])

    # The CLI's own table, text compared value for value.
    r = run_cli(cli, ["zonal", raster, "--polygons", path, "-q"] +
                [w for s in STATS for w in ("-s", s)])
    header, rows = rptest.parse_csv(r.stdout)
    assert header == list(df.columns)
    for i, row in enumerate(rows):
        for name, text in zip(header[2:], row[2:]):
            got = df.loc[i, name]
            assert (np.isnan(got) if text == "" else float(text) == got), (i, name, text, got)


def test_bands_include_cols_quantile_and_status(data):
    a, raster, path = data
    df = rasterpool.zonal_stats(raster, path, stats=["p50=quantile(q=0.5)", "max"], bands=[2],
                                include_cols=["pid"], status=True)
    assert list(df.columns)[:1] == ["pid"]
    assert "p50" in df.columns and "max" in df.columns and "status" in df.columns
    want = numpy_stats(a, 2)
    np.testing.assert_array_equal(df["max"].to_numpy(), want[:, 2])
    assert set(df["status"]) == {"ok"}
    # exactextract's quantile over full cells: between min and max, the median for odd counts
    v = a[1, 3:8, 2:6].ravel()
    assert df.loc[0, "p50"] == pytest.approx(np.quantile(v, 0.5), rel=1e-12)


def test_geodataframe_round_trip(data):
    a, raster, path = data
    rows = []
    for pid, c0, r0, c1, r1 in SQUARES:
        rows.append({"pid": pid, "kind": "k%d" % (pid % 2), "mean": -1.0,
                     "geometry": shapely_geometry.box(*cell_box(c0, r0, c1, r1))})
    gdf = gpd.GeoDataFrame(rows, crs="EPSG:32631",
                           index=pd.Index(["e", "a", "d", "b", "c"], name="zone"))
    with pytest.warns(UserWarning, match="column 'mean' already"):
        out = rasterpool.zonal_stats(raster, gdf, stats=["mean", "count"], bands=1)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.index.equals(gdf.index) and out.index.name == "zone"
    assert out.crs == gdf.crs
    assert list(out.columns) == ["pid", "kind", "mean", "geometry", "mean_2", "count"]
    pd.testing.assert_frame_equal(out[list(gdf.columns)], gdf)
    want = numpy_stats(a, 1)
    np.testing.assert_allclose(out["mean_2"].to_numpy(), want[:, 0], rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(out["count"].to_numpy(), want[:, 4])
    # The same polygons reprojected: transformed back to the raster's CRS by the job.
    out4326 = rasterpool.zonal_stats(raster, gdf.drop(columns="mean").to_crs("EPSG:4326"),
                                     stats=["count"], bands=1)
    assert out4326.crs.to_epsg() == 4326
    # (a reprojected edge may touch a sliver of a neighbouring cell: count ~1e-10, not empty)
    np.testing.assert_allclose(np.nan_to_num(out4326["count"].to_numpy()),
                               np.nan_to_num(want[:, 4]), rtol=1e-6, atol=1e-6)
    # crs= gives a CRS to a frame without one, and is refused for a frame with one
    bare = gpd.GeoDataFrame(gdf.drop(columns="mean").to_wkt(), index=gdf.index)
    bare = bare.set_geometry(gpd.GeoSeries.from_wkt(bare.pop("geometry")).to_numpy())
    assert bare.crs is None
    out_bare = rasterpool.zonal_stats(raster, bare, stats=["count"], bands=1, crs="EPSG:32631")
    np.testing.assert_array_equal(out_bare["count"].to_numpy(), want[:, 4])
    with pytest.raises(rasterpool.UsageError, match="has one"):
        rasterpool.zonal_stats(raster, gdf, stats=["count"], crs="EPSG:32631")


def test_weights(data, tmp_path):
    a, raster, path = data
    w = np.arange(W * H, dtype=np.float64).reshape(1, H, W) % 7
    wpath = rptest.create_raster(str(tmp_path / "w.tif"), w, dtype="Float64", gt=GT,
                                 srs="EPSG:32631")
    df = rasterpool.zonal_stats(raster, path, stats=["weighted_sum"], bands=2, weights=wpath)
    for i, (_pid, c0, r0, c1, r1) in enumerate(SQUARES):
        want = (a[1, r0:r1, c0:c1] * w[0, r0:r1, c0:c1]).sum()
        assert df.loc[i, "weighted_sum"] == pytest.approx(want, rel=1e-12)


def temp_dirs():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "rasterpool-zonal-*")))


def test_bad_inputs_name_the_file(data, tmp_path):
    a, raster, path = data
    before = temp_dirs()
    missing = str(tmp_path / "nope.tif")
    with pytest.raises(rasterpool.OpenError, match="nope.tif"):
        rasterpool.zonal_stats(missing, path, stats=["mean"])
    with pytest.raises(rasterpool.OpenError, match="nothere.gpkg"):
        rasterpool.zonal_stats(raster, str(tmp_path / "nothere.gpkg"), stats=["mean"])
    with pytest.raises(rasterpool.UsageError, match="bogus"):
        rasterpool.zonal_stats(raster, path, stats=["bogus"])
    with pytest.raises(rasterpool.UsageError, match="weights"):
        rasterpool.zonal_stats(raster, path, stats=["weighted_sum"])
    with pytest.raises(rasterpool.UsageError, match="GeoDataFrame"):
        rasterpool.zonal_stats(raster, pd.DataFrame({"x": [1]}), stats=["mean"])
    with pytest.raises(rasterpool.Error) as e:
        rasterpool.zonal_stats(raster, path, stats=["mean"], bands=[5])
    assert "5" in str(e.value)
    gdf = gpd.read_file(path)
    with pytest.raises(rasterpool.OpenError, match="nope.tif"):
        rasterpool.zonal_stats(missing, gdf, stats=["mean"])
    assert temp_dirs() == before  # the temporary GeoPackage and CSV are gone


def test_progress_exception_stops_the_job(data):
    """An exception raised by the progress function (as KeyboardInterrupt
    would be) stops the job, is raised by the call, and leaves no temporary
    file."""
    a, raster, path = data
    before = temp_dirs()
    seen = []

    def stop(fraction, message):
        seen.append(fraction)
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        rasterpool.zonal_stats(raster, path, stats=["mean"], progress=stop)
    assert seen
    assert temp_dirs() == before


def test_several_rasters_and_odd_frames(data, cli, tmp_path):
    """Two rasters on one grid: columns <stem>_b<N>_<name>, as the CLI names them; a
    GeoDataFrame with a repeated index, a missing geometry and a polygon off
    the raster keeps its rows; an empty one gives an empty frame."""
    a, raster, path = data
    other = rptest.create_raster(str(tmp_path / "slope.tif"), a[1] * 3, dtype="Float64", gt=GT,
                                 srs="EPSG:32631")
    df = rasterpool.zonal_stats([raster, other], path, stats=["max"], include_cols=["pid"])
    r = run_cli(cli, ["zonal", raster, other, "--polygons", path, "-s", "max",
                      "--include-col", "pid", "-q"])
    header, rows = rptest.parse_csv(r.stdout)
    assert list(df.columns) == header == ["pid", "dem_b1_max", "dem_b2_max", "slope_b1_max"]
    np.testing.assert_array_equal(df["slope_b1_max"].to_numpy(), numpy_stats(a, 2)[:, 2] * 3)
    box = shapely_geometry.box
    gdf = gpd.GeoDataFrame({"k": [1, 2, 3]},
                           geometry=[box(*cell_box(2, 3, 6, 8)), None, box(0, 0, 10, 10)],
                           crs="EPSG:32631", index=[5, 5, 6])
    out = rasterpool.zonal_stats(raster, gdf, stats=["count"], bands=[2], status=True)
    assert out.index.tolist() == [5, 5, 6]
    assert out["count"].tolist()[0] == 20 and np.isnan(out["count"].tolist()[1:]).all()
    assert out["status"].tolist() == ["ok", "no_geometry", "outside"]
    empty = rasterpool.zonal_stats(raster, gdf.iloc[:0], stats=["count"], bands=[2])
    assert len(empty) == 0 and "count" in empty.columns and empty.crs == gdf.crs


def test_max_memory(data):
    """--max-memory through max_memory=: a generous cap gives the same table
    as none; a tiny one raises UsageError before any pixel, naming it."""
    a, raster, path = data
    ref = rasterpool.zonal_stats(raster, path, stats=["mean", "median"], bands=1)
    got = rasterpool.zonal_stats(raster, path, stats=["mean", "median"], bands=1,
                                 max_memory="1G")
    pd.testing.assert_frame_equal(ref, got)
    with pytest.raises(rasterpool.UsageError, match="max-memory"):
        rasterpool.zonal_stats(raster, path, stats=["median"], bands=1, max_memory=1024)
