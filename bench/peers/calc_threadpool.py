#!/usr/bin/python3
"""calc_threadpool — the rasterio concurrency guide's pattern, as a user
writes it for block-wise processing: a ThreadPoolExecutor computes windows
(each task opens its own dataset and reads its window; numpy ufuncs release
the GIL), the main thread writes each result as it completes. Output:
tiled, DEFLATE, the same creation options as rasterpool's run.

  calc_threadpool.py a2p1    OUT THREADS A.tif            A*2+1 (Float32)
  calc_threadpool.py ndvi    OUT THREADS A.tif B.tif      (A-B)/(A+B) (Float32)
  calc_threadpool.py reverse OUT THREADS RGB.tif ITER     bands reversed after
                                                          ITER additions a value
Prints api_seconds=X (the executor part) on stderr.
"""
import concurrent.futures
import sys
import time

import numpy as np
import rasterio


def compute(mode, paths, window, iterations):
    srcs = [rasterio.open(p) for p in paths]
    try:
        if mode == "a2p1":
            return window, (srcs[0].read(1, window=window) * 2 + 1).astype(np.float32)[None]
        if mode == "ndvi":
            a = srcs[0].read(1, window=window)
            b = srcs[1].read(1, window=window)
            with np.errstate(divide="ignore", invalid="ignore"):
                return window, ((a - b) / (a + b)).astype(np.float32)[None]
        data = srcs[0].read(window=window)
        work = data.astype(np.float64)
        for _ in range(iterations):
            work += 1.0
        work -= iterations
        return window, work.astype(data.dtype)[::-1]
    finally:
        for s in srcs:
            s.close()


def main():
    mode, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    paths = sys.argv[4:6] if mode == "ndvi" else sys.argv[4:5]
    iterations = int(sys.argv[5]) if mode == "reverse" else 0
    with rasterio.open(paths[0]) as src:
        profile = src.profile
    profile.update(driver="GTiff", tiled=True, blockxsize=256, blockysize=256,
                   compress="deflate", num_threads=str(threads), BIGTIFF="IF_SAFER")
    if mode != "reverse":
        profile.update(dtype="float32", count=1, nodata=None)
    t0 = time.perf_counter()
    with rasterio.open(out, "w", **profile) as dst:
        windows = [w for _, w in dst.block_windows()]
        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as ex:
            futures = {ex.submit(compute, mode, paths, w, iterations) for w in windows}
            for fut in concurrent.futures.as_completed(futures):
                window, data = fut.result()
                dst.write(data, window=window)
    print("api_seconds=%.6f" % (time.perf_counter() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
