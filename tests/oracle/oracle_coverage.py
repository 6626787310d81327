#!/usr/bin/env python3
"""oracle_coverage — exact coverage fractions (lib/zonal/coverage.c, through
the cov_dump helper named by $RP_COV_DUMP) against shapely's exact
cell ∩ polygon areas: aligned squares, triangles, thin slivers, holes in
either orientation, multipolygons, polygons running off the window, one-cell
and sub-cell polygons, random stars, and a polygon with 10^5 vertices.
Every fraction must agree within 1e-9 absolute.
"""
import math
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rptest import Tester, Limited  # noqa: E402

from shapely.geometry import Polygon, MultiPolygon, box  # noqa: E402
from shapely.prepared import prep  # noqa: E402

TOL = 1e-9
COUNTS = {"cells": 0, "polygons": 0}


def run_dump(parts, window):
    """parts: list of (shell, [holes]); window: (c0, r0, nc, nr)."""
    lines = ["window %d %d %d %d" % window]
    for shell, holes in parts:
        for hole, ring in [(0, shell)] + [(1, h) for h in holes]:
            lines.append("ring %d %d" % (hole, len(ring)))
            lines.extend("%.17g %.17g" % (x, y) for x, y in ring)
    out = subprocess.run([os.environ["RP_COV_DUMP"]], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout
    return [float(v) for v in out.split()]


def shapely_geom(parts):
    polys = [Polygon(shell, holes) for shell, holes in parts]
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def compare(T, case, parts, window):
    g = shapely_geom(parts)
    if not T.check(case, g.is_valid, "test polygon is not valid (test bug)"):
        return
    got = run_dump(parts, window)
    c0, r0, nc, nr = window
    lim = Limited(T, case)
    pg = prep(g)
    for r in range(nr):
        for c in range(nc):
            cell = box(c0 + c, r0 + r, c0 + c + 1, r0 + r + 1)
            want = g.intersection(cell).area if pg.intersects(cell) else 0.0
            v = got[r * nc + c]
            COUNTS["cells"] += 1
            if not abs(v - want) <= TOL:
                lim.add("cell col %d row %d: got %.17g, shapely %.17g" % (c0 + c, r0 + r, v, want))
    COUNTS["polygons"] += 1
    lim.flush()


def star(cx, cy, r_in, r_out, n, rot=0.0, ccw=True):
    pts = []
    for i in range(n):
        t = rot + 2 * math.pi * i / n
        rad = r_out if i % 2 == 0 else r_in
        pts.append((cx + rad * math.cos(t), cy + rad * math.sin(t)))
    return pts if ccw else pts[::-1]


def cases(T):
    T.run_case("aligned squares", lambda c: [
        compare(T, c, [([(1, 1), (4, 1), (4, 3), (1, 3)], [])], (0, 0, 6, 5)),
        compare(T, c, [([(1, 1), (1, 3), (4, 3), (4, 1)], [])], (0, 0, 6, 5))])
    T.run_case("triangles", lambda c: [
        compare(T, c, [([(0.3, 0.2), (7.9, 1.1), (3.3, 6.7)], [])], (0, 0, 9, 8)),
        compare(T, c, [([(3.3, 6.7), (7.9, 1.1), (0.3, 0.2)], [])], (-1, -1, 10, 9)),
        compare(T, c, [([(0, 0), (5, 5), (0, 5)], [])], (0, 0, 6, 6))])
    T.run_case("thin slivers", lambda c: [
        compare(T, c, [([(0.1, 0.1), (9.9, 0.1000001), (9.9, 0.1000002)], [])], (0, 0, 11, 2)),
        compare(T, c, [([(2.5, 0.0), (2.5000003, 0.0), (2.7, 9.5)], [])], (0, 0, 4, 10)),
        compare(T, c, [([(0.2, 3.0), (8.8, 3.0), (8.8, 3.0 + 1e-7), (0.2, 3.0 + 1e-7)], [])],
                (0, 0, 10, 5))])
    T.run_case("holes both orientations", lambda c: [
        compare(T, c, [([(0.5, 0.5), (8.5, 0.7), (8.2, 7.9), (0.4, 8.1)],
                        [[(2.2, 2.3), (3.7, 2.1), (3.1, 5.6)],
                         [(6.9, 6.9), (5.1, 6.2), (6.3, 4.4)][::-1]])], (0, 0, 10, 10)),
        compare(T, c, [([(0.5, 0.5), (0.4, 8.1), (8.2, 7.9), (8.5, 0.7)],
                        [[(2.25, 2.25), (2.75, 2.25), (2.75, 2.75), (2.25, 2.75)]])],
                (0, 0, 10, 10))])
    T.run_case("multipolygon", lambda c: compare(T, c, [
        ([(0.5, 0.5), (2.5, 0.5), (2.5, 2.5)], []),
        ([(4.1, 4.1), (6.6, 4.3), (5.2, 7.7)], [[(5.0, 5.0), (5.5, 5.0), (5.2, 5.6)]])],
        (0, 0, 8, 8)))
    T.run_case("off the window", lambda c: [
        compare(T, c, [([(-3.3, -2.1), (4.4, 1.7), (2.2, 9.6)], [])], (0, 0, 6, 6)),
        compare(T, c, [([(3.5, 3.5), (12.25, 3.1), (11.7, 14.2), (2.9, 9.9)], [])], (0, 0, 6, 6)),
        compare(T, c, [([(-5, -5), (50, -5), (50, 50), (-5, 50)], [])], (2, 3, 4, 4)),
        compare(T, c, [([(20, 20), (21, 20), (21, 21)], [])], (0, 0, 4, 4)),
        compare(T, c, [([(0, 0), (6, 0), (6, 6), (0, 6)], [])], (0, 0, 6, 6))])
    T.run_case("one cell and sub-cell", lambda c: [
        compare(T, c, [([(2, 2), (3, 2), (3, 3), (2, 3)], [])], (0, 0, 5, 5)),
        compare(T, c, [([(2.1, 2.2), (2.3, 2.25), (2.2, 2.9)], [])], (0, 0, 5, 5)),
        compare(T, c, [([(2.9, 2.9), (3.1, 2.9), (3.1, 3.1), (2.9, 3.1)], [])], (0, 0, 5, 5)),
        compare(T, c, [([(1.0001, 1.0001), (1.0002, 1.0001), (1.0002, 1.0002)], [])],
                (0, 0, 3, 3))])

    def random_stars(case):
        rnd = random.Random(11)
        for i in range(40):
            n = rnd.randrange(4, 201) * 2
            cx, cy = rnd.uniform(-3, 23), rnd.uniform(-3, 23)
            ro = rnd.uniform(0.3, 12)
            pts = star(cx, cy, ro * rnd.uniform(0.3, 0.9), ro, n, rnd.uniform(0, 6),
                       ccw=rnd.random() < 0.5)
            holes = []
            if i % 3 == 0:
                holes = [star(cx, cy, ro * 0.1, ro * 0.2, 12, ccw=rnd.random() < 0.5)]
            compare(T, case, [(pts, holes)], (0, 0, 20, 20))
        # far from the origin, as on a large raster
        pts = star(8100.3, 8100.7, 3.1, 7.7, 60, 0.3)
        compare(T, case, [(pts, [])], (8090, 8090, 20, 20))
    T.run_case("random stars", random_stars)

    def big(case):
        n = 100000
        rnd = random.Random(5)
        pts = []
        for i in range(n):
            t = 2 * math.pi * i / n
            rad = 14 + 2.5 * math.sin(7 * t) + rnd.uniform(-0.05, 0.05)
            pts.append((15.5 + rad * math.cos(t), 15.5 + rad * math.sin(t)))
        compare(T, case, [(pts, [])], (0, 0, 31, 31))
    T.run_case("10^5 vertices", big)


def main():
    T = Tester("oracle_coverage")
    cases(T)
    print("compared %d cells of %d polygons with shapely (tolerance %g)" % (
        COUNTS["cells"], COUNTS["polygons"], TOL))
    T.finish()


if __name__ == "__main__":
    main()
