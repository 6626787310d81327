"""vrtlib — VRT mosaics written by hand for rasterpool's VRT and remote tests.

The XML is written here element by element (not by gdalbuildvrt) so that
every case the planner distinguishes is present on purpose: Simple and
ComplexSources, per-source NODATA, SourceProperties given or left out,
relative and absolute SourceFilename, windows inside a file, windows larger
than the file (GDAL clips them), DstRects partly off the VRT, overlaps and
gaps. The expected answer is always GDAL's own read of the VRT.
"""
import os

import numpy as np

import rptest
from rptest import gdal


def tile(path, width, height, value_base, dtype="Int16", block=None, nodata_pixels=None,
         nodata_value=None, bands=1):
    """A tile whose pixel (r, c) is value_base + (7r + 3c) % 500 (+ 10000 per
    band after the first); every 5th pixel of every 3rd row is set to
    nodata_value when given (the value a source NODATA makes transparent).
    block: (w, h) for a tiled file, None for strips."""
    rows, cols = np.mgrid[0:height, 0:width]
    data = []
    for b in range(bands):
        a = (value_base + b * 10000 + (7 * rows + 3 * cols) % 500).astype(np.float64)
        if nodata_value is not None:
            sel = (rows % 3 == 0) & (cols % 5 == 0)
            a[sel] = nodata_value
        data.append(a)
    data = np.stack(data) if bands > 1 else data[0]
    data = data.astype(rptest.NP_REAL[dtype])
    # block None: strips of 4 rows
    return rptest.create_raster(path, data, dtype, gt=(0, 1, 0, 0, 0, 1),
                                block=block if block else 4)


def source_xml(path, dst, src=None, size=None, kind="ComplexSource", band=1, relative=False,
               props=None, nodata=None, extra=""):
    """One <SimpleSource>/<ComplexSource>. dst: (x, y); src: (x, y) (default
    0, 0); size: (w, h) of both rects, or ((sw, sh), (dw, dh)) when they
    differ; props: (width, height, dtype, bw, bh) or None."""
    src = src or (0, 0)
    (sw, sh), (dw, dh) = size if isinstance(size[0], tuple) else (size, size)
    out = ["    <%s>" % kind,
           '      <SourceFilename relativeToVRT="%d">%s</SourceFilename>' % (int(relative), path),
           "      <SourceBand>%d</SourceBand>" % band]
    if props:
        out.append('      <SourceProperties RasterXSize="%d" RasterYSize="%d" DataType="%s" '
                   'BlockXSize="%d" BlockYSize="%d" />' % props)
    out.append('      <SrcRect xOff="%d" yOff="%d" xSize="%d" ySize="%d" />' % (src[0], src[1], sw, sh))
    out.append('      <DstRect xOff="%d" yOff="%d" xSize="%d" ySize="%d" />' % (dst[0], dst[1], dw, dh))
    if nodata is not None:
        out.append("      <NODATA>%s</NODATA>" % nodata)
    if extra:
        out.append(extra)
    out.append("    </%s>" % kind)
    return "\n".join(out)


def vrt_xml(width, height, gt, bands):
    """bands: list of (dtype, nodata or None, [source xml...])."""
    out = ['<VRTDataset rasterXSize="%d" rasterYSize="%d">' % (width, height),
           "  <GeoTransform>%s</GeoTransform>" % ", ".join(repr(float(v)) for v in gt)]
    for i, (dtype, nodata, sources) in enumerate(bands, start=1):
        out.append('  <VRTRasterBand dataType="%s" band="%d">' % (dtype, i))
        if nodata is not None:
            out.append("    <NoDataValue>%s</NoDataValue>" % nodata)
        out += sources
        out.append("  </VRTRasterBand>")
    out.append("</VRTDataset>")
    return "\n".join(out) + "\n"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


VRT_W, VRT_H = 200, 120
VRT_GT = (500.0, 2.0, 0.0, 900.0, 0.0, -2.0)


def mosaic(d, vrt_nodata=-1, name="mosaic.vrt", absolute_dir=None):
    """The main test mosaic in folder d (tiles in d and d/sub). Returns the
    VRT path and the list of (name, dst rect) for reference.

    A 80x60 16x16 tiles at (0,0), SimpleSource, absolute path, props
    B 80x60 32x32 tiles at (60,20) over A, NODATA 7 (transparent pixels), relative
    C 70x50 strips at (120,60) over B, NODATA 9, relative in sub/, no props
    D 100x100 64x64, window (10,10)+50x50 at (20,50) over A
    E 40x40 16x16 with a 60x60 window at (150,0) (GDAL clips it to 40x40)
    F 40x40 at (180,100): partly off the VRT's right and bottom edges
    Gaps: e.g. x 80..150, y 0..20."""
    os.makedirs(os.path.join(d, "sub"), exist_ok=True)
    absdir = absolute_dir or d
    tile(os.path.join(absdir, "a.tif"), 80, 60, 1000, block=(16, 16))
    tile(os.path.join(d, "b.tif"), 80, 60, 2000, block=(32, 32), nodata_value=7)
    tile(os.path.join(d, "sub", "c.tif"), 70, 50, 3000, nodata_value=9)
    tile(os.path.join(d, "d.tif"), 100, 100, 4000, block=(64, 64))
    tile(os.path.join(d, "e.tif"), 40, 40, 5000, block=(16, 16))
    tile(os.path.join(d, "f.tif"), 40, 40, 6000, block=(16, 16))
    srcs = [
        source_xml(os.path.join(absdir, "a.tif"), (0, 0), size=(80, 60), kind="SimpleSource",
                   props=(80, 60, "Int16", 16, 16)),
        source_xml("b.tif", (60, 20), size=(80, 60), relative=True, nodata=7,
                   props=(80, 60, "Int16", 32, 32)),
        source_xml("sub/c.tif", (120, 60), size=(70, 50), relative=True, nodata=9),
        source_xml("d.tif", (20, 50), src=(10, 10), size=(50, 50), relative=True,
                   props=(100, 100, "Int16", 64, 64)),
        source_xml("e.tif", (150, 0), size=(60, 60), relative=True,
                   props=(40, 40, "Int16", 16, 16)),
        source_xml("f.tif", (180, 100), size=(40, 40), relative=True, kind="SimpleSource",
                   props=(40, 40, "Int16", 16, 16)),
    ]
    path = write(os.path.join(d, name),
                 vrt_xml(VRT_W, VRT_H, VRT_GT, [("Int16", vrt_nodata, srcs)]))
    return path
