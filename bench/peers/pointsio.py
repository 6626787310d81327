"""pointsio — the points and values files of the Python peers, read and
written the way a numpy user would: np.loadtxt in, np.savetxt out. Points
files are CSV with a header and columns id,x,y; values files are CSV id,value
with an empty value where there is none (outside, nodata)."""
import numpy as np


def read_points(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    return data[:, 0].astype(np.int64), data[:, 1], data[:, 2]


def write_values(path, ids, values):
    with open(path, "w") as f:
        f.write("id,value\n")
        np.savetxt(f, np.column_stack([ids, values]), delimiter=",", fmt=["%d", "%.9g"])
