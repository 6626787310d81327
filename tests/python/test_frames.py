"""rasterpool.extract with pandas and geopandas: index, columns, dtypes and
CRS kept; value and status columns named and filled as the CLI's output of
the same points (read with Python's csv module)."""
import numpy as np
import pandas as pd
import pytest
import rasterpool
import rptest

from conftest import run_cli

gpd = pytest.importorskip("geopandas")  # python3-geopandas: scripts/install-deps


@pytest.fixture
def rasters(tmp_path):
    gt = (500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0)
    rng = np.random.default_rng(8)
    a = rng.integers(-30000, 30000, size=(2, 80, 60)).astype(np.int16)
    b = rng.normal(100, 50, size=(80, 60)).astype(np.float32)
    pa = rptest.create_raster(str(tmp_path / "dem.tif"), a, dtype="Int16", gt=gt,
                              nodata=int(a[0, 2, 2]), srs="EPSG:32631")
    pb = rptest.create_raster(str(tmp_path / "slope.tif"), b, dtype="Float32", gt=gt,
                              srs="EPSG:32631")
    xs, ys = rptest.random_points(gt, 60, 80, n_inside=400, n_outside=50, n_edge=20, seed=2,
                                  extra_pixels=[(2, 2)])
    return gt, pa, pb, xs, ys


def cli_table(cli, tmp_path, rasters, xs, ys):
    csv = str(tmp_path / "pts.csv")
    rptest.write_points_csv(csv, xs, ys)
    r = run_cli(cli, ["extract"] + rasters + ["--points", csv, "--status", "-q"])
    return rptest.parse_csv(r.stdout)


def check_against_cli(out, header, rows, value_names, types):
    for name, t in zip(value_names, types):
        c = header.index(name)
        s = header.index(name + "_status" if len(value_names) > 1 else "status")
        texts = [row[c] for row in rows]
        got = out[name]
        assert got.isna().tolist() == [t == "" for t in texts], name
        if t == "Int16":
            assert str(got.dtype) == "Int16"
            assert [int(v) for v in got.dropna()] == [int(x) for x in texts if x]
        else:
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got.dropna().to_numpy(),
                                          np.array([np.float32(x) for x in texts if x]))
        sname = name + "_status" if len(value_names) > 1 else "status"
        assert out[sname].astype(str).tolist() == [row[s] for row in rows]


def test_dataframe_keeps_index_and_dtypes(tmp_path, rasters, cli):
    gt, pa, pb, xs, ys = rasters
    n = len(xs)
    df = pd.DataFrame({"site": ["s%d" % i for i in range(n)], "Easting": xs, "NORTHING": ys,
                       "count": np.arange(n, dtype=np.int32),
                       "flag": pd.array([True, False] * (n // 2) + [True] * (n % 2))},
                      index=pd.Index(np.arange(n)[::-1] * 3 + 7, name="id"))
    out = rasterpool.extract([pa, pb], df, status=True)
    assert out.index.equals(df.index) and out.index.name == "id"
    for c in df.columns:
        assert out[c].dtype == df[c].dtype
        assert out[c].equals(df[c])
    assert list(out.columns) == list(df.columns) + [
        "dem_b1", "dem_b1_status", "dem_b2", "dem_b2_status", "slope_b1", "slope_b1_status"]
    header, rows = cli_table(cli, tmp_path, [pa, pb], xs, ys)
    check_against_cli(out, header, rows, ["dem_b1", "dem_b2", "slope_b1"],
                      ["Int16", "Int16", "Float32"])
    assert df.columns.tolist() == ["site", "Easting", "NORTHING", "count", "flag"]  # input untouched


def test_geodataframe_crs_and_geometry(tmp_path, rasters, cli):
    gt, pa, pb, xs, ys = rasters
    gdf = gpd.GeoDataFrame({"name": np.arange(len(xs))},
                           geometry=gpd.points_from_xy(xs, ys), crs="EPSG:32631",
                           index=pd.RangeIndex(100, 100 + len(xs)))
    ll = gdf.to_crs("EPSG:4326")
    out = rasterpool.extract(pa, ll, bands=[1], status=True)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs == ll.crs and out.geometry.equals(ll.geometry) and out.index.equals(ll.index)
    direct = rasterpool.extract(pa, gdf, bands=[1], status=True)  # the raster's CRS
    header, rows = cli_table(cli, tmp_path, [pa, "-b", "1"], xs, ys)
    check_against_cli(direct, header, rows, ["b1"], ["Int16"])
    # through lon/lat and back by the library: equal away from cell edges
    px = (xs - gt[0]) / gt[1]
    py = (ys - gt[3]) / gt[5]
    far = (np.abs(px - np.round(px)) > 1e-6) & (np.abs(py - np.round(py)) > 1e-6)
    assert far.sum() > 300
    assert out["b1"][far].equals(direct["b1"][far])
    assert out["status"][far].equals(direct["status"][far])


def test_bad_rows_and_geometries(tmp_path, rasters):
    gt, pa, pb, xs, ys = rasters
    df = pd.DataFrame({"x": [str(xs[0]), "abc", None], "y": [ys[0], ys[1], ys[2]]})
    with pytest.warns(RuntimeWarning, match="not numbers"):
        out = rasterpool.extract(pb, df, status=True)
    # text that is not a number: error; a missing coordinate is NaN, and a
    # NaN coordinate is outside (as in extract_points and the C library)
    assert out["status"].astype(str).tolist()[1:] == ["error", "outside"]
    assert out["b1"].isna().tolist()[1:] == [True, True]
    from shapely.geometry import LineString, Point
    gdf = gpd.GeoDataFrame({"k": [1, 2, 3]}, geometry=[Point(xs[0], ys[0]), None,
                                                        LineString([(xs[0], ys[0]), (xs[1], ys[1])])],
                           crs="EPSG:32631")
    with pytest.warns(RuntimeWarning, match="no point geometry"):
        out = rasterpool.extract(pb, gdf, status=True)
    assert out["status"].astype(str).tolist() == [
        rasterpool.STATUS_NAMES[rasterpool.extract_points(pb, xs[:1], ys[:1], return_status=True)[1][0, 0]],
        "error", "error"]


def test_names_columns_like_the_cli(tmp_path, rasters):
    gt, pa, pb, xs, ys = rasters
    df = pd.DataFrame({"lon": xs[:5], "lat": ys[:5], "b1": 1.0})
    with pytest.warns(UserWarning, match="b1_2"):
        out = rasterpool.extract(pb, df)
    assert list(out.columns) == ["lon", "lat", "b1", "b1_2"]
    with pytest.raises(rasterpool.UsageError, match="x/y"):
        rasterpool.extract(pb, pd.DataFrame({"a": [1.0], "b": [2.0]}))
    out = rasterpool.extract(pb, pd.DataFrame({"a": xs[:3], "b": ys[:3]}), x_col="a", y_col="b")
    np.testing.assert_array_equal(out["b1"].to_numpy(), rasterpool.extract_points(pb, xs[:3], ys[:3])[:, 0].astype(np.float32))


def test_paths_in(tmp_path, rasters, cli):
    gt, pa, pb, xs, ys = rasters
    csv = str(tmp_path / "semi.csv")
    rptest.write_points_csv(csv, xs, ys, delim=";", header=("id", "X", "Y"))
    out = rasterpool.extract(pb, csv, status=True)
    assert list(out.columns) == ["id", "X", "Y", "b1", "status"]
    r = run_cli(cli, ["extract", pb, "--points", csv, "--status", "-q"])
    header, rows = rptest.parse_csv(r.stdout, ";")
    check_against_cli(out, header, rows, ["b1"], ["Float32"])
    gpkg = str(tmp_path / "pts.gpkg")
    gpd.GeoDataFrame({"id": np.arange(len(xs))}, geometry=gpd.points_from_xy(xs, ys),
                     crs="EPSG:32631").to_file(gpkg, driver="GPKG")
    out2 = rasterpool.extract(pb, gpkg)
    assert isinstance(out2, gpd.GeoDataFrame) and out2.crs.to_epsg() == 32631
    np.testing.assert_array_equal(out2["b1"].to_numpy(), out["b1"].to_numpy())


def test_int64_columns_exact(tmp_path):
    big = np.array([[2**62 + 1, -(2**62) - 3]], dtype=np.int64)
    p64 = rptest.create_raster(str(tmp_path / "i64.tif"), big, dtype="Int64", nodata=-(2**62) - 3)
    df = pd.DataFrame({"x": [0.5, 1.5, 5.0], "y": [0.5, 0.5, 0.5]})
    out = rasterpool.extract(p64, df, status=True)
    assert str(out["b1"].dtype) == "Int64"
    assert out["b1"].tolist()[0] == 2**62 + 1
    assert out["b1"].isna().tolist() == [False, True, True]
    assert out["status"].astype(str).tolist() == ["ok", "nodata", "outside"]


def test_window_columns_equal_extract_points(tmp_path, rasters):
    gt, pa, pb, xs, ys = rasters
    df = pd.DataFrame({"x": xs, "y": ys}, index=np.arange(len(xs)) * 3)
    out = rasterpool.extract(pb, df, window=3, window_stats=["mean", "count"])
    v, names = rasterpool.extract_points(pb, xs, ys, window=3, window_stats=["mean", "count"],
                                         return_names=True)
    assert names == ["b1_mean", "b1_count"] and list(out.columns) == ["x", "y"] + names
    assert out.index.equals(df.index)
    for j, name in enumerate(names):
        np.testing.assert_array_equal(out[name].to_numpy(dtype=np.float64, na_value=np.nan),
                                      v[:, j], err_msg=name)
