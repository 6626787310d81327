"""rptest — shared helpers for rasterpool's end-to-end and oracle tests.

Run the tests with Debian's /usr/bin/python3 (it sees python3-gdal and numpy).
The program under test is the path in the environment variable RASTERPOOL.

What is here:
  - Tester: a tiny harness (named cases, failures collected, exit status);
  - rp()/extract(): run rasterpool, capture stdout/stderr/exit code;
  - create_raster(): GeoTIFF (or any GDAL driver) with a given data type, size,
    block size, compression, interleave, geotransform, nodata, mask, alpha;
  - random_points(): uniform inside + outside + exactly-on-edge points;
  - write_points_csv(), parse_csv();
  - ArrayOracle: an independent numpy oracle (whole band read with
    ReadAsArray, indexed with the DESIGN.md cell convention computed here from
    the geotransform, never by asking rasterpool);
  - gli_query(): the gdallocationinfo oracle (batch mode);
  - check_value_text() and friends: how a value printed by rasterpool must
    relate to the pixel (exact integers, round-trip floats, re+imi complex, as R and GDAL).

Facts about GDAL 3.6.2's gdallocationinfo that these helpers rely on (checked
by hand on Debian 12):
  - `gdallocationinfo -valonly -geoloc [-b N]... FILE` reads "x y" lines from
    stdin; for a point off the raster (or a NaN coordinate) it prints ONE empty
    line whatever the number of bands, otherwise one line per band;
  - values are printed with "%.15g" after a conversion to double (so 64-bit
    integers beyond 2^53 and Float64 values are not exact), complex values as
    "%.15g+%.15gi" (e.g. "1+-2i"), NaN possibly as "-nan";
  - it does not blank nodata and ignores masks;
  - it locates with the multiplied inverse geotransform and treats px == width
    (the right/bottom outer edge) as off the raster, so it is no oracle for
    points on or very near a cell edge: those are compared with the
    hand-computed convention only.
"""
import csv
import io
import math
import os
import re
import shlex
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
from osgeo import gdal, ogr, osr  # noqa: E402

gdal.UseExceptions()
ogr.UseExceptions()
osr.UseExceptions()

# --------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------


class Tester:
    """Collects failures by case name; finish() prints a summary and exits."""

    def __init__(self, name):
        self.name = name
        self.failures = []  # (case, message)
        self.cases = 0
        self.oracle_problems = []
        print("== %s (RASTERPOOL=%s)" % (name, os.environ.get("RASTERPOOL")), flush=True)

    def fail(self, case, msg):
        self.failures.append((case, msg))
        print("FAIL [%s] %s" % (case, msg), flush=True)

    def oracle_problem(self, case, msg):
        """The two oracles disagree with each other: a bug in the test."""
        self.oracle_problems.append((case, msg))
        self.fail(case, "ORACLE DISAGREEMENT (test bug, not rasterpool): " + msg)

    def check(self, case, cond, msg):
        if not cond:
            self.fail(case, msg)
        return bool(cond)

    def run_case(self, case, fn, *args, **kw):
        """Runs fn(case, ...) ; an exception is a failure of that case only."""
        self.cases += 1
        before = len(self.failures)
        print("-- %s" % case, flush=True)
        try:
            fn(case, *args, **kw)
        except Exception:  # noqa: BLE001 - report and go on with other cases
            self.fail(case, "exception in test:\n" + traceback.format_exc())
        if len(self.failures) == before:
            print("ok [%s]" % case, flush=True)

    def finish(self):
        for cmd, excerpt in SANITIZER_REPORTS:
            self.fail("sanitizer", "sanitizer report from %s:\n    %s" % (cmd, excerpt))
        bad_cases = sorted(set(c for c, _ in self.failures))
        print("== %s: %d cases, %d failed%s" % (
            self.name, self.cases, len(bad_cases),
            (": " + ", ".join(bad_cases)) if bad_cases else ""), flush=True)
        sys.exit(1 if self.failures else 0)


class Limited:
    """Collects mismatches of one case; reports the first few and the count."""

    def __init__(self, tester, case, limit=8):
        self.t, self.case, self.limit = tester, case, limit
        self.n = 0
        self.lines = []

    def add(self, msg):
        self.n += 1
        if len(self.lines) < self.limit:
            self.lines.append(msg)

    def flush(self, prefix=""):
        if self.n:
            self.t.fail(self.case, "%s%d mismatch(es); first ones:\n    %s" % (
                prefix, self.n, "\n    ".join(self.lines)))
        return self.n == 0


# --------------------------------------------------------------------------
# Running rasterpool
# --------------------------------------------------------------------------


def binary():
    path = os.environ.get("RASTERPOOL")
    if not path:
        print("rptest: set RASTERPOOL to the path of the rasterpool program", file=sys.stderr)
        sys.exit(2)
    if not os.path.exists(path):
        print("rptest: RASTERPOOL=%s does not exist" % path, file=sys.stderr)
        sys.exit(2)
    return path


class Run:
    def __init__(self, args, code, out, err):
        self.args, self.code, self.out, self.err = args, code, out, err

    @property
    def text(self):
        return self.out.decode("utf-8", "replace")

    @property
    def cmd(self):
        return shlex.join(str(a) for a in self.args)

    def describe(self, n=600):
        e = self.err if len(self.err) < n else self.err[:n] + "..."
        return "command: %s\n    exit %s; stderr: %r" % (self.cmd, self.code, e)


SANITIZER_REPORTS = []  # (command, excerpt): any run whose stderr has one fails the script
_SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer",
                    "UndefinedBehaviorSanitizer", "runtime error:")


def rp(args, stdin=None, timeout=None, cwd=None, env=None):
    """Runs rasterpool with args (a list); stdin is bytes/str or None."""
    cmd = [binary()] + [str(a) for a in args]
    if timeout is None:
        timeout = float(os.environ.get("RP_TEST_TIMEOUT", "300"))
    if isinstance(stdin, str):
        stdin = stdin.encode()
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        p = subprocess.run(cmd, input=stdin if stdin is not None else b"",
                           capture_output=True, timeout=timeout, cwd=cwd, env=e)
        run = Run(cmd, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))
        for mark in _SANITIZER_MARKS:
            k = run.err.find(mark)
            if k >= 0:
                SANITIZER_REPORTS.append((run.cmd, run.err[max(0, k - 200):k + 1500]))
                print("SANITIZER REPORT in %s" % run.cmd, flush=True)
                break
        return run
    except subprocess.TimeoutExpired as ex:
        return Run(cmd, "timeout(%ss)" % timeout, ex.stdout or b"",
                   (ex.stderr or b"").decode("utf-8", "replace"))


def extract(args, **kw):
    return rp(["extract"] + list(args), **kw)


# --------------------------------------------------------------------------
# Data types
# --------------------------------------------------------------------------

ALL_TYPES = ["Byte", "UInt16", "Int16", "UInt32", "Int32", "UInt64", "Int64",
             "Float32", "Float64", "CInt16", "CInt32", "CFloat32", "CFloat64"]
INT_TYPES = {"Byte", "UInt16", "Int16", "UInt32", "Int32", "UInt64", "Int64"}
FLOAT_TYPES = {"Float32", "Float64"}
COMPLEX_TYPES = {"CInt16": "Int16", "CInt32": "Int32", "CFloat32": "Float32",
                 "CFloat64": "Float64"}
NP_REAL = {"Byte": np.uint8, "UInt16": np.uint16, "Int16": np.int16,
           "UInt32": np.uint32, "Int32": np.int32, "UInt64": np.uint64,
           "Int64": np.int64, "Float32": np.float32, "Float64": np.float64}
NP_STORE = dict(NP_REAL, CInt16=np.complex64, CInt32=np.complex128,
                CFloat32=np.complex64, CFloat64=np.complex128)


def gdt(name):
    t = gdal.GetDataTypeByName(name)
    if t == gdal.GDT_Unknown:
        raise ValueError("unknown GDAL type " + name)
    return t


def type_range(name):
    info = np.iinfo(NP_REAL[name])
    return int(info.min), int(info.max)


# --------------------------------------------------------------------------
# Rasters
# --------------------------------------------------------------------------


def create_raster(path, data, dtype="Float32", gt=None, nodata=None, srs=None,
                  block=(64, 64), compress="DEFLATE", interleave="PIXEL",
                  mask=None, mask_kind="internal", alpha=None, metadata=None,
                  driver="GTiff", options=None):
    """Writes a raster and returns its path.

    data: (H, W) or (bands, H, W) array (values are cast to dtype).
    block: (bx, by) -> tiled; an int -> striped with that many rows per strip;
           None -> driver default.
    nodata: one value for all bands (GeoTIFF has only one), float('nan') ok,
            Python ints for 64-bit types.
    mask: (H, W) uint8 array written as a per-dataset mask, kept in the file
          (mask_kind 'internal') or in a .msk side file ('external').
    alpha: (H, W) array appended as an alpha band (ALPHA=YES); GDAL treats it
           as the mask of the other bands for 2-band and 4-band (RGBA) files.
    srs: anything osr.SetFromUserInput accepts (e.g. 'EPSG:32633').
    """
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None, :, :]
    nb, h, w = data.shape
    if gt is None:
        gt = (0.0, 1.0, 0.0, float(h), 0.0, -1.0)
    opts = list(options or [])
    if driver == "GTiff":
        if isinstance(block, tuple):
            opts += ["TILED=YES", "BLOCKXSIZE=%d" % block[0], "BLOCKYSIZE=%d" % block[1]]
        elif isinstance(block, int):
            opts += ["TILED=NO", "BLOCKYSIZE=%d" % block]
        if compress:
            opts.append("COMPRESS=%s" % compress)
        if interleave:
            opts.append("INTERLEAVE=%s" % interleave)
        if alpha is not None:
            opts.append("ALPHA=YES")
            if nb + 1 == 4 and dtype == "Byte":
                opts.append("PHOTOMETRIC=RGB")
    total = nb + (1 if alpha is not None else 0)
    drv = gdal.GetDriverByName(driver)
    ds = drv.Create(path, w, h, total, gdt(dtype), opts)
    ds.SetGeoTransform([float(v) for v in gt])
    if srs is not None:
        s = osr.SpatialReference()
        s.SetFromUserInput(srs)
        ds.SetProjection(s.ExportToWkt())
    if metadata:
        for k, v in metadata.items():
            ds.SetMetadataItem(k, v)
    npt = NP_STORE[dtype]
    for i in range(nb):
        band = ds.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(np.asarray(data[i]).astype(npt))
    if alpha is not None:
        ds.GetRasterBand(total).WriteArray(np.asarray(alpha).astype(npt))
    if mask is not None:
        key = "GDAL_TIFF_INTERNAL_MASK"
        old = gdal.GetConfigOption(key)
        gdal.SetConfigOption(key, "YES" if mask_kind == "internal" else "NO")
        try:
            ds.CreateMaskBand(gdal.GMF_PER_DATASET)
            ds.GetRasterBand(1).GetMaskBand().WriteArray(np.asarray(mask).astype(np.uint8))
        finally:
            gdal.SetConfigOption(key, old)
    ds.FlushCache()
    ds = None
    return path


def block_offsets(path, band=1):
    """{(bx, by): (offset, size)} of a GeoTIFF band's blocks (strips/tiles)."""
    ds = gdal.Open(path)
    b = ds.GetRasterBand(band)
    bx, by = b.GetBlockSize()
    nx = (ds.RasterXSize + bx - 1) // bx
    ny = (ds.RasterYSize + by - 1) // by
    out = {}
    for j in range(ny):
        for i in range(nx):
            off = b.GetMetadataItem("BLOCK_OFFSET_%d_%d" % (i, j), "TIFF")
            size = b.GetMetadataItem("BLOCK_SIZE_%d_%d" % (i, j), "TIFF")
            if off is not None:
                out[(i, j)] = (int(off), int(size))
    return out


def corrupt_blocks(path, blocks, band=1, byte=0xAB):
    """Overwrites the bytes of the given (bx, by) blocks of a compressed
    GeoTIFF with garbage (the header stays valid). Returns what was hit."""
    offs = block_offsets(path, band)
    with open(path, "r+b") as f:
        for key in blocks:
            off, size = offs[key]
            f.seek(off)
            f.write(bytes([byte]) * size)
    return [offs[k] for k in blocks]


def python_pixel_vrt(path, source, code, width, height, dtype, gt=None, srs_wkt=None,
                     relative=True):
    """Writes a VRT at path: one band of dtype (a GDAL type name) computed by
    the Python pixel function `f` defined in code, over band 1 of source
    (relative to the VRT's folder when relative). The program reading it
    needs GDAL_VRT_ENABLE_PYTHON=YES. Returns path."""
    head = ""
    if srs_wkt:
        head += "  <SRS>%s</SRS>\n" % srs_wkt.replace("&", "&amp;").replace('"', "&quot;")
    if gt:
        head += "  <GeoTransform>%s</GeoTransform>\n" % ", ".join(repr(float(v)) for v in gt)
    xml = ('<VRTDataset rasterXSize="%d" rasterYSize="%d">\n%s'
           '  <VRTRasterBand dataType="%s" band="1" subClass="VRTDerivedRasterBand">\n'
           '    <PixelFunctionType>f</PixelFunctionType>\n'
           '    <PixelFunctionLanguage>Python</PixelFunctionLanguage>\n'
           '    <PixelFunctionCode><![CDATA[\n%s\n]]></PixelFunctionCode>\n'
           '    <SimpleSource><SourceFilename relativeToVRT="%d">%s</SourceFilename>'
           '<SourceBand>1</SourceBand></SimpleSource>\n'
           '  </VRTRasterBand>\n</VRTDataset>\n') % (width, height, head, dtype, code,
                                                       1 if relative else 0, source)
    with open(path, "w") as f:
        f.write(xml)
    return path


def build_vrt(path, sources, options=None):
    vrt = gdal.BuildVRT(path, sources, options=gdal.BuildVRTOptions(**(options or {})))
    vrt.FlushCache()
    vrt = None
    return path


# --------------------------------------------------------------------------
# Points
# --------------------------------------------------------------------------


def pixel_to_world(gt, px, py):
    px = np.asarray(px, dtype=np.float64)
    py = np.asarray(py, dtype=np.float64)
    return gt[0] + px * gt[1] + py * gt[2], gt[3] + px * gt[4] + py * gt[5]


def random_points(gt, width, height, n_inside=2000, n_outside=200, n_edge=200,
                  seed=1, extra_pixels=()):
    """World coordinates (x, y) of points made in pixel space: uniform inside,
    outside (all around the raster), on cell edges (integer px or py, outer
    edges and corners included), plus centres of the cells in extra_pixels
    ((col, row) pairs). Order is shuffled."""
    rng = np.random.default_rng(seed)
    pxs, pys = [], []
    pxs.append(rng.uniform(0, width, n_inside))
    pys.append(rng.uniform(0, height, n_inside))
    # outside: left, right, above, below, diagonal
    k = max(1, n_outside // 5)
    pxs += [rng.uniform(-0.5 * width, -1e-3, k), rng.uniform(width + 1e-3, 1.5 * width, k),
            rng.uniform(0, width, k), rng.uniform(0, width, k),
            rng.uniform(-width, -0.01, k)]
    pys += [rng.uniform(0, height, k), rng.uniform(0, height, k),
            rng.uniform(-0.5 * height, -1e-3, k), rng.uniform(height + 1e-3, 1.5 * height, k),
            rng.uniform(height + 0.01, 2 * height, k)]
    # on edges: integer px with random py, integer py with random px
    k = max(1, n_edge // 2)
    pxs += [rng.integers(0, width + 1, k).astype(float), rng.uniform(0, width, k)]
    pys += [rng.uniform(0, height, k), rng.integers(0, height + 1, k).astype(float)]
    # corners of the raster and of some cells
    corners = [(0, 0), (width, 0), (0, height), (width, height)]
    corners += [(int(c), int(r)) for c, r in zip(rng.integers(0, width + 1, 20),
                                                 rng.integers(0, height + 1, 20))]
    pxs.append(np.array([c[0] for c in corners], dtype=float))
    pys.append(np.array([c[1] for c in corners], dtype=float))
    if extra_pixels:
        pxs.append(np.array([c + 0.5 for c, _ in extra_pixels]))
        pys.append(np.array([r + 0.5 for _, r in extra_pixels]))
    px = np.concatenate(pxs)
    py = np.concatenate(pys)
    order = rng.permutation(len(px))
    x, y = pixel_to_world(gt, px[order], py[order])
    return x, y


def fmt_coord(v):
    """Shortest text that parses back to the same double ('nan', 'inf' too)."""
    return repr(float(v))


def write_points_csv(path, xs, ys, delim=",", header=("id", "x", "y"), newline="\n"):
    """id,x,y rows (id = 0..n-1). Returns the list of data lines' text."""
    lines = [delim.join(header)]
    for i, (x, y) in enumerate(zip(xs, ys)):
        lines.append(delim.join([str(i), fmt_coord(x), fmt_coord(y)]))
    with open(path, "w", newline="") as f:
        f.write(newline.join(lines) + newline)
    return lines


def parse_csv(text, delim=","):
    """(header, rows) of CSV text, RFC 4180 quoting."""
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    if not rows:
        return [], []
    return rows[0], rows[1:]


def value_columns(rasters, bands, status=False):
    """The value (and status) column names the contract gives, computed here
    by hand: one raster -> b<N>; several -> <stem>_b<N>; duplicate stems ->
    <stem>_<position>_b<N>. bands: list of band numbers for every raster, or
    a list of lists (per raster)."""
    stems = [os.path.splitext(os.path.basename(r))[0] for r in rasters]
    per = bands if (bands and isinstance(bands[0], (list, tuple))) else [bands] * len(rasters)
    names = []
    for pos, (stem, bl) in enumerate(zip(stems, per), start=1):
        for b in bl:
            if len(rasters) == 1:
                names.append("b%d" % b)
            elif stems.count(stem) > 1:
                names.append("%s_%d_b%d" % (stem, pos, b))
            else:
                names.append("%s_b%d" % (stem, b))
    if not status:
        return names
    if len(names) == 1:
        return [names[0], "status"]
    out = []
    for n in names:
        out += [n, n + "_status"]
    return out


# --------------------------------------------------------------------------
# The numpy oracle
# --------------------------------------------------------------------------


class ArrayOracle:
    """Reads whole bands with GDAL and applies the DESIGN.md cell convention.

    pixel(): non-rotated -> px = (x - gt0) / gt1, py = (y - gt3) / gt5
             (division, as the contract says); rotated -> GDAL's own inverse
             geotransform (gdal.InvGeoTransform), multiplied out.
    inside iff 0 <= px <= W and 0 <= py <= H (NaN fails); col = floor(px)
    with px == W -> W - 1; same for rows.
    Status per (point, band): 'outside', 'nodata' (pixel == nodata, NaN
    nodata matching NaN pixels, or GDAL mask value 0 for a per-dataset or
    alpha mask), else 'ok'."""

    def __init__(self, path, bands=None, config=None):
        old = {}
        for k, v in (config or {}).items():
            old[k] = gdal.GetConfigOption(k)
            gdal.SetConfigOption(k, v)
        try:
            ds = gdal.Open(path)
            self.path = path
            self.gt = tuple(ds.GetGeoTransform())
            self.width, self.height = ds.RasterXSize, ds.RasterYSize
            self.bands = list(bands) if bands else list(range(1, ds.RasterCount + 1))
            self.dtype, self.data, self.nodata, self.mask, self.maskflags = {}, {}, {}, {}, {}
            self.block = {}
            for b in self.bands:
                band = ds.GetRasterBand(b)
                self.dtype[b] = gdal.GetDataTypeName(band.DataType)
                if self.dtype[b] in COMPLEX_TYPES:
                    # ReadAsArray gives complex64 for CInt32 (inexact): read as
                    # CFloat64, exact for every complex type.
                    raw = band.ReadRaster(buf_type=gdal.GDT_CFloat64)
                    self.data[b] = np.frombuffer(raw, dtype=np.complex128).reshape(
                        ds.RasterYSize, ds.RasterXSize)
                else:
                    self.data[b] = band.ReadAsArray()
                self.nodata[b] = band.GetNoDataValue()
                self.block[b] = tuple(band.GetBlockSize())
                flags = band.GetMaskFlags()
                self.maskflags[b] = flags
                if flags & (gdal.GMF_PER_DATASET | gdal.GMF_ALPHA) and not flags & gdal.GMF_NODATA:
                    self.mask[b] = band.GetMaskBand().ReadAsArray()
                else:
                    self.mask[b] = None
                if flags & gdal.GMF_NODATA:
                    # Validate our own nodata rule against GDAL's nodata mask.
                    # GDAL's float nodata mask uses ARE_REAL_EQUAL (a few ulps,
                    # and it overflows to "equal" near DBL_MAX); the contract
                    # says equal, so only those extra pixels may differ.
                    gm = band.GetMaskBand().ReadAsArray() == 0
                    mine = self._nodata_mask(b)
                    bad = mine & ~gm
                    extra = gm & ~mine
                    if extra.any() and self.dtype[b] in FLOAT_TYPES:
                        v = self.data[b][extra].astype(np.float64)
                        nd = float(self.nodata[b])
                        fmax = float(np.finfo(NP_REAL[self.dtype[b]]).max)
                        close = (np.abs(v - nd) <= 1e-6 * np.abs(nd)) | (np.abs(v) > fmax / 4)
                        if close.all():
                            extra = np.zeros_like(extra)
                    if bad.any() or extra.any():
                        raise AssertionError("oracle: nodata rule disagrees with GDAL's nodata "
                                             "mask for %s band %d" % (path, b))
            ds = None
        finally:
            for k, v in old.items():
                gdal.SetConfigOption(k, v)
        self.rotated = self.gt[2] != 0.0 or self.gt[4] != 0.0

    def _nodata_mask(self, b):
        arr, nd, t = self.data[b], self.nodata[b], self.dtype[b]
        if nd is None:
            return np.zeros(arr.shape, dtype=bool)
        if t in INT_TYPES:
            lo, hi = type_range(t)
            if isinstance(nd, float) and (math.isnan(nd) or nd != math.floor(nd)):
                return np.zeros(arr.shape, dtype=bool)
            ndi = int(nd)
            if ndi < lo or ndi > hi:
                return np.zeros(arr.shape, dtype=bool)
            return arr == NP_REAL[t](ndi)
        if t in FLOAT_TYPES:
            if math.isnan(nd):
                return np.isnan(arr)
            return arr == NP_REAL[t](nd)
        raise ValueError("test does not define nodata for complex type %s" % t)

    def pixel(self, x, y):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        gt = self.gt
        with np.errstate(invalid="ignore", over="ignore"):
            if not self.rotated:
                return (x - gt[0]) / gt[1], (y - gt[3]) / gt[5]
            inv = gdal.InvGeoTransform(gt)
            return inv[0] + x * inv[1] + y * inv[2], inv[3] + x * inv[4] + y * inv[5]

    def locate(self, x, y):
        px, py = self.pixel(x, y)
        with np.errstate(invalid="ignore"):
            inside = (px >= 0) & (px <= self.width) & (py >= 0) & (py <= self.height)
        col = np.zeros(px.shape, dtype=np.int64)
        row = np.zeros(py.shape, dtype=np.int64)
        col[inside] = np.minimum(np.floor(px[inside]).astype(np.int64), self.width - 1)
        row[inside] = np.minimum(np.floor(py[inside]).astype(np.int64), self.height - 1)
        return inside, col, row

    def near_edge(self, x, y, eps=1e-6):
        """True where px or py is within eps (relative) of an integer: there the
        exact formula matters, and only the hand-computed rule is an oracle."""
        px, py = self.pixel(x, y)
        out = np.zeros(px.shape, dtype=bool)
        for p in (px, py):
            with np.errstate(invalid="ignore"):
                d = np.abs(p - np.round(p))
                out |= d <= eps * np.maximum(1.0, np.abs(p))
        return out

    def expect(self, x, y, band):
        """(status list, pixel list, col, row) for every point."""
        inside, col, row = self.locate(x, y)
        arr = self.data[band]
        ndm = self._nodata_mask(band)
        m = self.mask[band]
        status, pix = [], []
        for i in range(len(inside)):
            if not inside[i]:
                status.append("outside")
                pix.append(None)
                continue
            r, c = row[i], col[i]
            v = arr[r, c]
            pix.append(v)
            if ndm[r, c] or (m is not None and m[r, c] == 0):
                status.append("nodata")
            else:
                status.append("ok")
        return status, pix, col, row


# --------------------------------------------------------------------------
# Value text rules
# --------------------------------------------------------------------------

_FLOAT_RE = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_NUM = r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf"
_COMPLEX_RE = re.compile(r"^(-?(?:%s))([+-])(%s)i$" % (_NUM, _NUM))


def sig_digits(text):
    """Significant digits of a decimal text (1e+02 and 100 both have 1)."""
    m = text.lstrip("-+").lower().split("e")[0].replace(".", "")
    m = m.lstrip("0").rstrip("0")
    return max(1, len(m))


def shortest_digits(t, v):
    if t == "Float32":
        s = np.format_float_scientific(np.float32(v), unique=True, trim="-")
    else:
        s = repr(float(v))
    return sig_digits(s)


def check_real_text(t, text, pixel):
    """None if text is what the contract wants for pixel of real type t."""
    if t in INT_TYPES:
        want = str(int(pixel))
        return None if text == want else "want %r" % want
    v = NP_REAL[t](pixel)
    if np.isnan(v):
        return None if text == "nan" else "want 'nan'"
    if np.isinf(v):
        want = "inf" if v > 0 else "-inf"
        return None if text == want else "want %r" % want
    if not _FLOAT_RE.match(text):
        return "not a decimal number (pixel %r)" % (v,)
    got = NP_REAL[t](text)
    if not (got == v and np.signbit(got) == np.signbit(v)):
        return "parses back to %r, pixel is %r (%s)" % (got, v, t)
    if sig_digits(text) > shortest_digits(t, v):
        return "round-trips but is not the shortest text (%d digits, shortest has %d)" % (
            sig_digits(text), shortest_digits(t, v))
    return None


def check_value_text(t, text, pixel):
    """None when text is the right rendering of pixel for GDAL type t."""
    if t in COMPLEX_TYPES:
        m = _COMPLEX_RE.match(text)
        if not m:
            return "not <re>+<im>j / <re>-<im>j (pixel %r)" % (pixel,)
        ct = COMPLEX_TYPES[t]
        re_t, sign, im_t = m.group(1), m.group(2), m.group(3)
        im_full = ("-" + im_t) if sign == "-" else im_t
        e1 = check_real_text(ct, re_t, np.real(pixel))
        e2 = check_real_text(ct, im_full, np.imag(pixel))
        if e1 or e2:
            return "complex %r vs pixel %r: re %s; im %s" % (text, pixel, e1 or "ok", e2 or "ok")
        return None
    return check_real_text(t, text, pixel)


def parse_value_text(t, text):
    """rasterpool's text back to a value of type t (for the gli comparison)."""
    if t in COMPLEX_TYPES:
        m = _COMPLEX_RE.match(text)
        ct = COMPLEX_TYPES[t]
        im_full = ("-" + m.group(3)) if m.group(2) == "-" else m.group(3)
        return (parse_value_text(ct, m.group(1)), parse_value_text(ct, im_full))
    if t in INT_TYPES:
        return int(text)
    return NP_REAL[t](text)


def fmt15(t, v):
    """What gdallocationinfo 3.6 prints for value v of type t."""
    if t in COMPLEX_TYPES:
        if isinstance(v, tuple):
            re_, im_ = v
        else:
            re_, im_ = np.real(v), np.imag(v)
        ct = COMPLEX_TYPES[t]
        return "%s+%si" % (fmt15(ct, re_), fmt15(ct, im_))
    d = float(int(v)) if t in INT_TYPES else float(v)
    if math.isnan(d):
        return "nan"
    return "%.15g" % d


def norm_gli(text):
    return text.replace("-nan", "nan")


# --------------------------------------------------------------------------
# gdallocationinfo oracle
# --------------------------------------------------------------------------


def gli_query(path, xs, ys, bands, config=None):
    """gdallocationinfo -valonly -geoloc in batch mode: a list with, per
    point, None (off the raster) or the list of printed values per band."""
    cmd = ["gdallocationinfo", "-valonly", "-geoloc"]
    for k, v in (config or {}).items():
        cmd += ["--config", k, v]
    for b in bands:
        cmd += ["-b", str(b)]
    cmd.append(path)
    inp = "".join("%s %s\n" % (fmt_coord(x), fmt_coord(y)) for x, y in zip(xs, ys))
    p = subprocess.run(cmd, input=inp.encode(), capture_output=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("gdallocationinfo failed: %s" % p.stderr.decode())
    lines = p.stdout.decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out, i = [], 0
    for _ in range(len(xs)):
        if i >= len(lines):
            raise RuntimeError("gdallocationinfo printed too few lines")
        if lines[i] == "":
            out.append(None)
            i += 1
        else:
            out.append([norm_gli(s) for s in lines[i:i + len(bands)]])
            i += len(bands)
    if i != len(lines):
        raise RuntimeError("gdallocationinfo printed %d lines, parsed %d" % (len(lines), i))
    return out


# --------------------------------------------------------------------------
# Comparing one extract run with both oracles
# --------------------------------------------------------------------------


def compare_extract(T, case, run, xs, ys, oracle, bands, input_lines, delim=",",
                    status=True, use_gli=True, gli_config=None, value_cols=None,
                    expect_code=0):
    """Checks a finished extract run over one raster against the numpy oracle
    (all points) and gdallocationinfo (points not near a cell edge).

    input_lines: the points file's lines (header first) as written.
    value_cols: the value column names per band (default b<N>).
    On a rotated/sheared grid, points within 1e-6 pixel of a cell edge are
    not compared at all (the contract leaves the exact inverse formula open).
    Returns the parsed rows (or None when the output could not be read)."""
    ok = T.check(case, run.code == expect_code,
                 "exit code %s, want %s\n    %s" % (run.code, expect_code, run.describe()))
    if value_cols is None:
        value_cols = ["b%d" % b for b in bands]
    want_header_cols = []
    if status:
        if len(value_cols) == 1:
            want_header_cols = [value_cols[0], "status"]
        else:
            for v in value_cols:
                want_header_cols += [v, v + "_status"]
    else:
        want_header_cols = list(value_cols)
    text = run.text
    out_lines = text.split("\n")
    want_header = input_lines[0] + delim + delim.join(want_header_cols)
    if not T.check(case, out_lines[0] == want_header,
                   "header %r, want %r\n    %s" % (out_lines[0], want_header, run.describe())):
        return None
    if not T.check(case, text.endswith("\n") and "\r" not in text,
                   "output must end with a newline and contain no CR"):
        ok = False
    header, rows = parse_csv(text, delim)
    n = len(xs)
    if not T.check(case, len(rows) == n, "%d data rows, want %d\n    %s" % (len(rows), n, run.describe())):
        return None
    ncol_in = len(input_lines[0].split(delim))
    idx = {name: header.index(name) for name in want_header_cols}
    lim = Limited(T, case)
    # input text carried unchanged, input order
    for i in range(n):
        line = out_lines[i + 1]
        if not line.startswith(input_lines[i + 1] + delim):
            lim.add("row %d: %r does not start with the input record %r" % (i, line, input_lines[i + 1]))
    glis = None
    near = oracle.near_edge(xs, ys)
    if use_gli:
        glis = gli_query(oracle.path, xs, ys, bands, config=gli_config)
    olim = Limited(T, case)
    compared = gli_compared = 0
    for bi, b in enumerate(bands):
        t = oracle.dtype[b]
        st, pix, col, row = oracle.expect(xs, ys, b)
        vcol = idx[value_cols[bi]]
        scol = idx[(value_cols[bi] + "_status") if len(value_cols) > 1 else "status"] if status else None
        for i in range(n):
            r = rows[i]
            if len(r) != ncol_in + len(want_header_cols):
                lim.add("row %d: %d fields, want %d: %r" % (i, len(r), ncol_in + len(want_header_cols), r))
                continue
            got = r[vcol]
            where = "point %d (x=%s y=%s -> col %s row %s) band %d" % (
                i, fmt_coord(xs[i]), fmt_coord(ys[i]),
                col[i] if st[i] != "outside" else "-", row[i] if st[i] != "outside" else "-", b)
            if oracle.rotated and near[i]:
                continue  # rotated grid, point on/near an edge: formula-dependent
            compared += 1
            if st[i] == "ok":
                err = "empty field, want a value" if got == "" else check_value_text(t, got, pix[i])
                if err:
                    lim.add("%s: got %r, oracle pixel %r (%s): %s" % (where, got, pix[i], t, err))
            else:
                if got != "":
                    lim.add("%s: got %r, want empty (%s; pixel %r)" % (where, got, st[i], pix[i]))
            if status and r[scol] != st[i]:
                lim.add("%s: status %r, want %r (value %r)" % (where, r[scol], st[i], got))
            if glis is not None and not near[i]:
                g = glis[i]
                gli_compared += 1
                if (g is None) != (st[i] == "outside"):
                    olim.add("%s: gdallocationinfo says %s, numpy oracle says %s" % (
                        where, "off" if g is None else g, st[i]))
                elif g is not None:
                    gv = g[bi]
                    if gv != fmt15(t, pix[i]):
                        olim.add("%s: gdallocationinfo %r, numpy pixel %r" % (where, gv, pix[i]))
                    elif st[i] == "ok" and got != "":
                        try:
                            mine = fmt15(t, parse_value_text(t, got))
                        except Exception:  # noqa: BLE001
                            mine = None
                        if mine != gv:
                            lim.add("%s: got %r, gdallocationinfo prints %r" % (where, got, gv))
    if olim.n:
        T.oracle_problems.append((case, olim.n))
    olim.flush("ORACLE DISAGREEMENT (numpy vs gdallocationinfo: a test bug, not rasterpool): ")
    lim.flush("%s\n    " % run.cmd)
    print("   %s: %d (point, band) values vs numpy oracle, %d vs gdallocationinfo" % (
        case, compared, gli_compared), flush=True)
    return rows
