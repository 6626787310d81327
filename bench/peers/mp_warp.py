#!/usr/bin/python3
"""mp_warp — the Python multiprocessing batch, in the style of the GDAL
batch-processing guides: a Pool of N processes started with "spawn" (never
fork after GDAL has run), a per-worker initializer that sets GDAL up once
(exceptions on, one GDAL thread per worker, no directory listing on open),
and gdal.Warp per file, imap_unordered with chunksize 1.

Usage: mp_warp.py N LIST.txt OUT_DIR [gdalwarp options...]
Writes OUT_DIR/<name of input> for each input of LIST (one path a line)."""
import multiprocessing as mp
import os
import sys

from osgeo import gdal

OPTIONS = None
OUT_DIR = None


def init(options, out_dir):
    global OPTIONS, OUT_DIR
    gdal.UseExceptions()
    gdal.SetConfigOption("GDAL_NUM_THREADS", "1")
    gdal.SetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
    OPTIONS = gdal.WarpOptions(options=options)
    OUT_DIR = out_dir


def warp_one(path):
    out = os.path.join(OUT_DIR, os.path.basename(path))
    ds = gdal.Warp(out, path, options=OPTIONS)
    ds = None  # close: flush and write
    return out


def main():
    n, list_path, out_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    options = sys.argv[4:]
    with open(list_path) as f:
        inputs = [line.strip() for line in f if line.strip()]
    ctx = mp.get_context("spawn")
    with ctx.Pool(n, initializer=init, initargs=(options, out_dir)) as pool:
        for _ in pool.imap_unordered(warp_one, inputs, chunksize=1):
            pass


if __name__ == "__main__":
    main()
