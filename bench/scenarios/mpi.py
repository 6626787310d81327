"""mpi — the same jobs over MPI ranks (lib/mpi/, docs/cluster.md): a batch of
small warps and an extract of 2M points at 1, 2 and 3 ranks, one worker or
thread a rank, against the plain run with the same one worker; and the cost
of MPI itself (mpirun -n 1 against the plain run).

This machine has 2 cores: 3 ranks are oversubscribed (mpirun
--oversubscribe), so the 3-rank row shows the overhead of sharing cores, not
scaling; the scaling targets (>= 0.8x linear for batch, >= 0.7x for
extract) are checked at 2 ranks here, and need a machine with more cores to
be checked further. Outputs of every row are checked equal to the plain
run's (batch: pixels of every 10th output; extract: the whole file, byte for
byte) before any figure is printed.

The extract runs twice: points in random order and sorted by tile row.
Rank 0 reads the points and writes the output; the points' values are read
in tasks of points grouped by block, handed out to the ranks that ask (rank
0 included), so the order of the points should not matter. mpirun's own
start-up is measured alone (mpirun -n 1 /bin/true) and the overhead at 1
rank is also given without it. Every mpirun row runs with --bind-to none
(Open MPI's default binds 1 or 2 ranks to one core each: a rank's threads
then share one core, which alone cost about 15% at 1 rank here). Zonal (2,000 star polygons of
zonal_a) is a farm of the plan's blocks; each row notes the blocks decoded (-v), in all and by
rank: each block once, however the ranks share them.
"""
import os
import shutil

import numpy as np
from osgeo import gdal

import batch
import benchlib
import extract_local
import zonal
from benchlib import BenchError, Scenario, Table, measure

gdal.UseExceptions()

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
RANKS = (1, 2, 3)


def mpirun():
    path = shutil.which("mpirun")
    if not path:
        raise BenchError("mpirun not found: scripts/install-deps installs openmpi-bin")
    return path


def with_ranks(n, cmd):
    # --bind-to none: Open MPI binds each of 1 or 2 ranks to one core by
    # default, so a rank's threads (the pool, the CSV reader's pieces, the
    # writer) share that core; docs/cluster.md tells users the same
    return "%s --oversubscribe --bind-to none -n %d %s" % (mpirun(), n, cmd)


def scaling_rows(ctx, table, plain_cmd, rank_cmd, runs, check):
    """The plain row, mpirun -n 1, 2, 3 rows; check(tag) after each."""
    plain = table.add("rasterpool (no MPI)", measure(ctx, plain_cmd("plain"), runs=runs),
                      threads=1, note="the reference")
    check("plain")
    rows = {}
    for n in RANKS:
        note = "%d rank%s x 1" % (n, "s" if n > 1 else "")
        if n > ctx.threads:
            note += "; oversubscribed (%d CPUs)" % ctx.threads
        rows[n] = table.add("mpirun -n %d rasterpool" % n,
                            measure(ctx, with_ranks(n, rank_cmd("n%d" % n)), env=MPI_ENV,
                                    runs=runs), threads=n, note=note)
        check("n%d" % n)
    table.ratio_target("MPI overhead at 1 rank <= 3%", rows[1], plain, 1.03, True)
    table.notes.append("Load average (1 min) after these rows: %.1f on %d CPUs; other jobs on "
                       "the machine take cores from the ranks." % (os.getloadavg()[0],
                                                                   ctx.threads))
    return plain, rows


def batch_ranks(ctx):
    count, size = ctx.size((24, 128), (200, 256))
    lst = batch.make_set(ctx, "mpi", count, size)
    opts = " ".join(batch.WARP)
    outs = {}

    def cmd(tag):
        out = outs.setdefault(tag, ctx.out("mpi_batch_%s" % tag))
        return batch.fresh(out) + "%s batch warp --inputs %s --out-dir %s -j 1 -q -- %s" % (
            ctx.rasterpool, lst, out, opts)

    def rank_cmd(n):
        out = outs.setdefault("n%d" % n, ctx.out("mpi_batch_n%d" % n))
        return batch.fresh(out) + with_ranks(n, "%s batch warp --inputs %s --out-dir %s -j 1 -q -- %s"
                                             % (ctx.rasterpool, lst, out, opts))

    def check(tag):
        if tag != "plain":
            batch.check_same(lst, [("plain", outs["plain"]), (tag, outs[tag])],
                             max(1, count // 10))

    table = Table("batch warp over MPI ranks: %d small files" % count,
                  "%d Int16 DEFLATE GeoTIFFs of %dx%d -> gdalwarp %s; one worker process a "
                  "rank" % (count, size, size, opts))
    plain = table.add("rasterpool (no MPI)", measure(ctx, cmd("plain")), threads=1,
                      note="the reference")
    rows = {}
    for n in RANKS:
        note = "%d rank%s x 1 worker" % (n, "s" if n > 1 else "")
        if n > ctx.threads:
            note += "; oversubscribed (%d CPUs)" % ctx.threads
        rows[n] = table.add("mpirun -n %d rasterpool batch" % n,
                            measure(ctx, rank_cmd(n), env=MPI_ENV), threads=n, note=note)
        check("n%d" % n)
    table.ratio_target("MPI overhead at 1 rank <= 3%", rows[1], plain, 1.03, True)
    table.ratio_target(">= 0.8x linear at 2 ranks (1.6x faster than 1 rank)", rows[1], rows[2],
                       1.6, False)
    return [table]


def launcher_row(ctx, table):
    """mpirun starting one rank of /bin/true: the launcher's own start-up,
    which every mpirun row pays and the plain run does not."""
    return table.add("mpirun -n 1 /bin/true", measure(ctx, with_ranks(1, "/bin/true"),
                                                      env=MPI_ENV),
                     threads=1, note="the launcher alone (no rasterpool)")


def extract_ranks(ctx):
    size = ctx.size(4096, 8192)
    n = ctx.size(200000, 2000000)
    raster = extract_local.make_raster(ctx, size, "DEFLATE")
    name = "points_%d_%d_sorted.csv" % (size, n)

    def make(path):
        src = extract_local.make_points(ctx, size, n, "uniform", 21)
        a = np.loadtxt(src, delimiter=",", skiprows=1)
        row = np.floor((extract_local.Y0 - a[:, 2]) / extract_local.PIXEL) // extract_local.TILE
        a = a[np.lexsort((a[:, 1], row))]
        with open(path, "w") as f:
            f.write("id,x,y\n")
            np.savetxt(f, a, delimiter=",", fmt=["%d", "%.2f", "%.2f"])

    sorted_points = benchlib.cached(ctx, name, {"size": size, "n": n, "v": 1}, make)
    random_points = extract_local.make_points(ctx, size, n, "uniform", 21)
    tables = []
    for label, points in (("random order", random_points), ("sorted by tile row", sorted_points)):
        key = "r" if label.startswith("random") else "s"
        outs = {t: ctx.out("mpi_extract_%s_%s.csv" % (key, t))
                for t in ("plain", "n1", "n2", "n3")}

        def cmd(tag, points=points, outs=outs):
            return "%s extract %s --points %s -o %s -j 1 -q" % (ctx.rasterpool, raster, points,
                                                               outs[tag])

        def check(tag, outs=outs):
            with open(outs["plain"], "rb") as a, open(outs[tag], "rb") as b:
                if a.read() != b.read():
                    raise BenchError("extract over MPI (%s) differs from the plain run" % tag)

        table = Table("extract over MPI ranks: %s points, %s" % (format(n, ","), label),
                      "%dx%d Float32 DEFLATE, 256x256 tiles; points uniform, %s; one thread a "
                      "rank; rank 0 reads the points and writes the output, every rank (rank 0 "
                      "too) reads tasks of points grouped by block" % (size, size, label))
        plain, rows = scaling_rows(ctx, table, cmd, cmd, None, check)
        table.ratio_target(">= 0.7x linear at 2 ranks (1.4x faster than 1 rank)", rows[1],
                           rows[2], 1.4, False)
        launcher = launcher_row(ctx, table)
        table.notes.append(
            "MPI overhead at 1 rank less the launcher's own start-up (mpirun -n 1 /bin/true): "
            "%.1f%%." % (100 * (table.seconds(rows[1]) - table.seconds(launcher)) /
                         table.seconds(plain) - 100))
        tables.append(table)
    return tables


def blocks_decoded(err):
    """-v's blocks: "N blocks decoded" (a plain run), and by rank under MPI."""
    total = [x for x in err.splitlines() if "blocks read," in x]
    ranks = [x for x in err.splitlines() if "blocks decoded by rank:" in x]
    text = "%s blocks decoded" % (total[-1].split("blocks read")[0].split(",")[-1].strip()
                                  if total else "?")
    if ranks:
        text += " (by rank %s)" % ranks[-1].split("rank:")[1].strip()
    return text


def zonal_ranks(ctx):
    size = ctx.size(2048, 8192)
    n = ctx.size(200, 2000)
    raster = extract_local.make_raster(ctx, size, "DEFLATE")
    polys = zonal.make_polygons(ctx, size, n, 11)
    outs = {t: ctx.out("mpi_zonal_%s.csv" % t) for t in ("plain", "n1", "n2", "n3")}

    def cmd(tag):
        return "%s zonal %s --polygons %s -s mean -s count -o %s -j 1 -q -v" % (
            ctx.rasterpool, raster, polys, outs[tag])

    def check(tag):
        with open(outs["plain"], "rb") as a, open(outs[tag], "rb") as b:
            if a.read() != b.read():
                raise BenchError("zonal over MPI (%s) differs from the plain run" % tag)

    table = Table("zonal over MPI ranks: %s star polygons" % format(n, ","),
                  "%dx%d Float32 DEFLATE, 256x256 tiles; -s mean -s count; one thread a rank; "
                  "a farm of the plan's blocks: every rank plans, rank 0 hands out groups of "
                  "blocks (itself included) and merges the statistics sent back"
                  % (size, size))
    plain, rows = scaling_rows(ctx, table, cmd, cmd, None, check)
    plain.note += "; " + blocks_decoded(plain.result.stderr)
    for n in RANKS:
        rows[n].note += "; " + blocks_decoded(rows[n].result.stderr)
    table.ratio_target(">= 0.7x linear at 2 ranks (1.4x faster than 1 rank)", rows[1], rows[2],
                       1.4, False)
    return [table]


SCENARIOS = [
    Scenario("mpi_batch", "batch warp of 200 small files at 1, 2, 3 MPI ranks", batch_ranks),
    Scenario("mpi_extract", "extract of 2M points at 1, 2, 3 MPI ranks", extract_ranks),
    Scenario("mpi_zonal", "zonal of 2,000 polygons at 1, 2, 3 MPI ranks", zonal_ranks),
]
