#!/usr/bin/python3
"""oracle_types — rasterpool extract vs GDAL for every GDAL 3.6 data type.

For each type (Byte ... Int64, Float32, Float64, CInt16 ... CFloat64) three
GeoTIFFs of 300x217 pixels, 3 bands, random full-range values plus the type's
extreme values in known pixels:
  A  tiled 64x64, DEFLATE, pixel-interleaved, nodata = an ordinary value
     that occurs in ~2% of the pixels (none for complex types);
  B  striped (10 rows), uncompressed, band-interleaved, nodata = an extreme
     (NaN for floats, INT64_MIN / UINT64_MAX for the 64-bit integers, the
     type's min or max for the others; none for complex types);
  C  tiled 32x16, DEFLATE, band-interleaved, no nodata.
Masks: per-dataset internal mask (Byte, Float32 with nodata too), external
.msk (Int16), alpha band (RGBA Byte, gray+alpha UInt16).

Every (point, band) value is compared with the numpy oracle (all points) and
with gdallocationinfo (points away from cell edges): integers exactly as
text, floats must parse back to exactly the pixel (and be shortest), NaN
prints `nan`, complex prints <re>+<im>j. Status column checked too.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 oracle_types.py
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import NP_REAL, INT_TYPES, FLOAT_TYPES, COMPLEX_TYPES  # noqa: E402

W, H, NB = 300, 217, 3
GT = (1000.0, 0.5, 0.0, 2000.0, 0.0, -0.5)


def specials(t):
    """Extreme / tricky values of a real type."""
    if t in INT_TYPES:
        lo, hi = rptest.type_range(t)
        v = [lo, hi, 0, 1, lo + 1, hi - 1, (lo + hi) // 2]
        if lo < 0:
            v += [-1]
        if t in ("UInt64", "Int64"):
            v += [2 ** 53 + 1, 2 ** 62 + 3]
            if lo < 0:
                v += [-(2 ** 53) - 1]
        return v
    f = np.finfo(NP_REAL[t])
    sub = float(np.nextafter(NP_REAL[t](0), NP_REAL[t](1)))
    v = [float(f.max), -float(f.max), float(f.tiny), -float(f.tiny), sub, -sub, -0.0, 0.0,
         float("nan"), float("inf"), float("-inf"), 0.1, -0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-30,
         123456.789, 16777217.0, 9007199254740993.0, float(f.eps), 1.5, -2.5]
    return v


def specials_complex(t):
    ct = COMPLEX_TYPES[t]
    if ct in INT_TYPES:
        lo, hi = rptest.type_range(ct)
        pairs = [(lo, hi), (hi, lo), (0, 0), (1, -1), (-1, 1), (lo, lo), (hi, hi), (12, 0)]
    else:
        f = np.finfo(NP_REAL[ct])
        sub = float(np.nextafter(NP_REAL[ct](0), NP_REAL[ct](1)))
        pairs = [(0.1, -0.2), (float(f.max), -float(f.max)), (float(f.tiny), sub), (-1.5, 2.5),
                 (1.0 / 3.0, -1.0 / 3.0), (0.0, 0.0), (1e-30, -1e30), (-7.0, -8.0)]
    return [complex(NP_REAL[ct](a), NP_REAL[ct](b)) if ct in FLOAT_TYPES else complex(a, b)
            for a, b in pairs]


def random_real(t, rng, shape):
    n = int(np.prod(shape))
    if t in INT_TYPES:
        lo, hi = rptest.type_range(t)
        return rng.integers(lo, hi, size=n, dtype=NP_REAL[t], endpoint=True).reshape(shape)
    npt = NP_REAL[t]
    bits = np.uint32 if t == "Float32" else np.uint64
    a = rng.integers(0, np.iinfo(bits).max, size=n, dtype=bits, endpoint=True).view(npt)
    # a third random bit patterns (all magnitudes, some NaN/inf), a third
    # normal values, a third short decimals (shortest-text checks)
    k = n // 3
    a[k:2 * k] = rng.normal(0, 1000, k).astype(npt)
    a[2 * k:] = (np.round(rng.uniform(-1000, 1000, n - 2 * k), 2)).astype(npt)
    rng.shuffle(a)
    return a.reshape(shape)


def random_data(t, rng):
    shape = (NB, H, W)
    if t in COMPLEX_TYPES:
        ct = COMPLEX_TYPES[t]
        re_ = random_real(ct, rng, shape)
        im_ = random_real(ct, rng, shape)
        if ct in FLOAT_TYPES:  # keep complex finite: the brief is "it works"
            re_ = np.where(np.isfinite(re_), re_, NP_REAL[ct](1.25))
            im_ = np.where(np.isfinite(im_), im_, NP_REAL[ct](-2.75))
        re_ = re_.astype(np.float64)
        im_ = im_.astype(np.float64)
        return re_ + 1j * im_
    return random_real(t, rng, shape)


def place_specials(data, vals):
    """Specials at known pixels: band 1 row 3, band 2 row 3 reversed, band 3
    on the last (partial) block row; returns the (col, row) cells used."""
    cells = []
    n = len(vals)
    for i, v in enumerate(vals):
        data[0, 3, i] = v
        data[1, 3, n - 1 - i] = v
        data[2, H - 1, W - 1 - i] = v
        cells += [(i, 3), (W - 1 - i, H - 1)]
    return cells


NODATA_A = {"Byte": 7, "UInt16": 7, "Int16": -7, "UInt32": 7, "Int32": -7, "UInt64": 7,
            "Int64": -7, "Float32": -9999.5, "Float64": -9999.25}
NODATA_B = {"Byte": 255, "UInt16": 65535, "Int16": -32768, "UInt32": 4294967295,
            "Int32": -2147483648, "UInt64": 2 ** 64 - 1, "Int64": -(2 ** 63),
            "Float32": float("nan"), "Float64": float("nan")}


def run_one(T, case, tmp, path, bands, cells, seed):
    o = rptest.ArrayOracle(path, bands=bands)
    xs, ys = rptest.random_points(GT, W, H, n_inside=1500, n_outside=150, n_edge=150,
                                  seed=seed, extra_pixels=cells)
    pts = os.path.join(tmp, "pts_%d.csv" % seed)
    lines = rptest.write_points_csv(pts, xs, ys)
    args = [path, "--points", pts, "--status"]
    for b in bands:
        args += ["-b", b]
    r = rptest.extract(args)
    rptest.compare_extract(T, case, r, xs, ys, o, bands, lines, status=True)


def type_case(case, t, config, tmp, T, seed):
    rng = np.random.default_rng(seed)
    data = random_data(t, rng)
    if t in COMPLEX_TYPES:
        cells = place_specials(data, specials_complex(t))
        nodata = None
    else:
        cells = place_specials(data, specials(t))
        nodata = {"A": NODATA_A, "B": NODATA_B, "C": {}}[config].get(t)
        if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
            # ~2% of the pixels equal nodata (only where no special sits)
            sel = rng.random((NB, H, W)) < 0.02
            sel[:, 3, :] = False
            sel[:, H - 1, :] = False
            data[sel] = nodata
            # and a few nodata pixels at known cells
            for c in range(40, 45):
                data[:, 10, c] = nodata
                cells.append((c, 10))
            # neighbours of nodata are values, not nodata (equality is exact)
            if t in FLOAT_TYPES:
                npt = NP_REAL[t]
                near = [np.nextafter(npt(nodata), npt(-np.inf)), np.nextafter(npt(nodata), npt(np.inf))]
            else:
                lo, hi = rptest.type_range(t)
                near = [v for v in (nodata - 1, nodata + 1) if lo <= v <= hi]
            for i, v in enumerate(near):
                data[:, 11, 50 + i] = v
                cells.append((50 + i, 11))
    kw = {"A": dict(block=(64, 64), compress="DEFLATE", interleave="PIXEL"),
          "B": dict(block=10, compress="NONE", interleave="BAND"),
          "C": dict(block=(32, 16), compress="DEFLATE", interleave="BAND")}[config]
    path = os.path.join(tmp, "%s_%s.tif" % (t, config))
    rptest.create_raster(path, data, t, gt=GT, nodata=nodata, **kw)
    run_one(T, case, tmp, path, [1, 2, 3], cells, seed)


def mask_case(case, kind, tmp, T, seed):
    rng = np.random.default_rng(seed)
    mask = (rng.random((H, W)) > 0.3).astype(np.uint8) * 255
    mask[3, :20] = 0  # known masked cells
    cells = [(c, 3) for c in range(25)]
    path = os.path.join(tmp, "mask_%s.tif" % kind)
    if kind == "internal_byte":
        data = random_data("Byte", rng)
        rptest.create_raster(path, data, "Byte", gt=GT, mask=mask, mask_kind="internal")
        bands = [1, 2, 3]
    elif kind == "internal_float32_nodata":
        data = random_data("Float32", rng)[:1]
        data[0, 5, :10] = -1.0
        cells += [(c, 5) for c in range(12)]
        rptest.create_raster(path, data, "Float32", gt=GT, nodata=-1.0, mask=mask,
                             mask_kind="internal", block=(64, 64), interleave="BAND")
        bands = [1]
    elif kind == "external_int16":
        data = random_data("Int16", rng)[:2]
        rptest.create_raster(path, data, "Int16", gt=GT, mask=mask, mask_kind="external",
                             block=7, compress="NONE", interleave="BAND")
        if not os.path.exists(path + ".msk"):
            raise AssertionError("test setup: no .msk side file was written")
        bands = [1, 2]
    elif kind == "alpha_rgba_byte":
        data = random_data("Byte", rng)
        alpha = rng.choice(np.array([0, 128, 255], dtype=np.uint8), size=(H, W))
        alpha[3, :20] = 0
        alpha[3, 20:25] = 1
        rptest.create_raster(path, data, "Byte", gt=GT, alpha=alpha, interleave="PIXEL")
        bands = [1, 2, 3, 4]  # band 4 is the alpha band itself: plain values
    elif kind == "alpha_gray_uint16":
        data = random_data("UInt16", rng)[:1]
        alpha = rng.choice(np.array([0, 1, 300, 65535], dtype=np.uint16), size=(H, W))
        alpha[3, :20] = 0
        rptest.create_raster(path, data, "UInt16", gt=GT, alpha=alpha, interleave="BAND",
                             block=(64, 64))
        bands = [1, 2]
    else:
        raise ValueError(kind)
    o = rptest.ArrayOracle(path, bands=bands)
    # the oracle must see the mask as intended (validates the generator)
    if kind.startswith("alpha"):
        if not o.maskflags[1] & rptest.gdal.GMF_ALPHA:
            raise AssertionError("test setup: GDAL does not see the alpha band as a mask")
    else:
        if not o.maskflags[1] & rptest.gdal.GMF_PER_DATASET:
            raise AssertionError("test setup: GDAL does not see the per-dataset mask")
    run_one(T, case, tmp, path, bands, cells, seed)


def scale_offset_case(case, tmp, T, seed):
    """DESIGN.md: scale/offset are applied only when asked (extract has no
    option for it): the raw pixel values come out."""
    rng = np.random.default_rng(seed)
    path = os.path.join(tmp, "scaled.tif")
    rptest.create_raster(path, random_data("Int16", rng)[:2], "Int16", gt=GT)
    ds = rptest.gdal.Open(path, rptest.gdal.GA_Update)
    for b in (1, 2):
        ds.GetRasterBand(b).SetScale(0.5)
        ds.GetRasterBand(b).SetOffset(-100.0)
    ds = None
    ds = rptest.gdal.Open(path)
    if ds.GetRasterBand(1).GetScale() != 0.5 or ds.GetRasterBand(2).GetOffset() != -100.0:
        raise AssertionError("test setup: scale/offset not stored")
    ds = None
    run_one(T, case, tmp, path, [1, 2], [], seed)


def main():
    T = rptest.Tester("oracle_types")
    rptest.binary()
    with tempfile.TemporaryDirectory(prefix="rp_types_") as tmp:
        seed = 100
        for t in rptest.ALL_TYPES:
            for config in ("A", "B", "C"):
                seed += 1
                T.run_case("type %s config %s" % (t, config), type_case, t, config, tmp, T, seed)
        for kind in ("internal_byte", "internal_float32_nodata", "external_int16",
                     "alpha_rgba_byte", "alpha_gray_uint16"):
            seed += 1
            T.run_case("mask %s" % kind, mask_case, kind, tmp, T, seed)
        T.run_case("scale/offset not applied", scale_offset_case, tmp, T, seed + 1)
    T.finish()


if __name__ == "__main__":
    main()
