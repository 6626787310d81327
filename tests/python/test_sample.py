"""extract_points(method=...) — interpolation through the Python package,
against the numpy oracle of GDAL's formulas (tests/oracle/samplelib.py) on
a raster with nodata cells, block edges and outer edges."""
import math

import numpy as np
import pytest
import rasterpool
import rptest
from samplelib import interp, pixel_of

GT = (1000.0, 0.5, 0.0, 2000.0, 0.0, -0.25)


@pytest.mark.parametrize("method", ["bilinear", "cubic", "cubicspline"])
def test_method_vs_oracle(tmp_path, method):
    rng = np.random.default_rng(2)
    W, H = 45, 33
    a = rng.normal(50, 20, (H, W)).astype(np.float32)
    a[rng.random((H, W)) < 0.06] = -9999.0
    path = rptest.create_raster(str(tmp_path / "r.tif"), a, "Float32", gt=GT, nodata=-9999.0,
                                block=(16, 16))
    px = np.concatenate([rng.uniform(0, W, 800), [0.0, W, 16.0, 32.0 + 1e-9, W + 0.01]])
    py = np.concatenate([rng.uniform(0, H, 800), [0.0, H, 16.0 - 1e-9, 5.5, 3.0]])
    xs, ys = GT[0] + px * GT[1], GT[3] + py * GT[5]
    values, status, names = rasterpool.extract_points(path, xs, ys, method=method,
                                                      return_status=True, return_names=True)
    assert names == ["b1"] and values.dtype == np.float64
    vals, valid = a.astype(np.float64), a != -9999.0
    exact = 0
    for i in range(len(xs)):
        st, want = interp(vals, valid, method, "gdal", *pixel_of(GT, xs[i], ys[i]))
        assert rasterpool.STATUS_NAMES[status[i, 0]] == st, i
        if st == "ok":
            assert values[i, 0] == want, (i, values[i, 0], want)
            exact += 1
        else:
            assert math.isnan(values[i, 0])
    assert exact > 400


def test_unknown_method_is_a_usage_error(tmp_path):
    path = rptest.create_raster(str(tmp_path / "m.tif"), np.zeros((4, 4)), dtype="Byte")
    with pytest.raises(rasterpool.UsageError, match="not a method"):
        rasterpool.extract_points(path, [1.0], [1.0], method="lanczos")
