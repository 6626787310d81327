"""pointsio — the points and values files of the Python peers, read and
written the way a numpy user would: np.loadtxt in, np.savetxt out. Points
files are CSV with a header and columns id,x,y; values files are CSV id,value
with an empty value where there is none (outside, nodata)."""
import sys
import time

import numpy as np


def read_points(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    return data[:, 0].astype(np.int64), data[:, 1], data[:, 2]


def write_values(path, ids, values):
    with open(path, "w") as f:
        f.write("id,value\n")
        np.savetxt(f, np.column_stack([ids, values]), delimiter=",", fmt=["%d", "%.9g"])


def finish(out, ids, values, nodata, started):
    """Blanks nodata values, reports the API time since `started` on stderr
    (api_seconds=X) and writes the values file."""
    if nodata is not None:
        values[values == nodata] = np.nan
    print("api_seconds=%.6f" % (time.perf_counter() - started), file=sys.stderr)
    write_values(out, ids, values)
