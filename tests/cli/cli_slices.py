#!/usr/bin/python3
"""cli_slices — large CSV inputs, which rasterpool reads and writes in
slices of 65,536 rows formatted in parallel, must come out exactly as a
row-by-row reading would give them.

The input (about 200,000 rows: four slices, the last one partial) mixes
everything that can go wrong at a slice boundary: a byte order mark,
quoted fields with delimiters and line ends inside, doubled quotes, CRLF
rows, blank lines, rows shorter and longer than the header, and rows whose
coordinates are not numbers. The expected output is built here from the
rows as written and the raster's values (value = 1000 * row + col, so each
value says where it was read): each output record is the input record's
fields (short rows padded) followed by the value; bad rows have an empty
value and a warning naming their physical line. Checked for a file at
-j 1, 2 and 3 (mapped, as the program reads files) and at -j 1 and 2 read
with pread (RASTERPOOL_MAP_POINTS=0, as library callers read them), and
for standard input, and written to an output file at -j 1, 2 and 7 (with
O_DIRECT, the program's default for a staged CSV output) and at -j 2
buffered (RASTERPOOL_DIRECT_WRITE=0), which must all be byte-identical.
The same kinds of rows without any quote (a quote-free slice is split by
the writer's own line scan, table_csv_scan.h) are checked at -j 1, 2, 3,
read with pread, and to an output file. A quote-free file changed in
place between the passes (two rows made one quoted record) is an error,
mapped or read with pread, never an output split at the quoted line end.

Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_slices.py
"""
import csv
import io
import os
import random
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
import rptest  # noqa: E402

N_ROWS = 200_003
W, H = 300, 200


def make_input(path, rng, multiline=0.02, quotes=True):
    """Writes the points file; returns (records, lines, kinds): each record's
    fields as the file holds them, the physical line where it starts, and
    what kind of row it is. multiline: the share of rows with a quoted field
    holding line ends (a reader that splits the file at line ends without
    knowing the quotes goes wrong there). quotes=False: no quote anywhere
    (the writer's own line scan of quote-free slices takes every row)."""
    out = io.StringIO()
    out.write("\ufeffid,x,y,name\n")
    line = 2
    records, lines, kinds = [], [], []
    for i in range(N_ROWS):
        if rng.random() < 0.01:
            out.write("\r\n" if rng.random() < 0.5 else "\n")  # a blank line
            line += 1
        col, row = rng.randrange(W), rng.randrange(H)
        x, y = "%.3f" % (col + rng.random() * 0.99), "%.3f" % -(row + rng.random() * 0.99)
        kind = "ok"
        r = rng.random()
        if not quotes and r < 0.02 + multiline:
            r = 1.0  # a plain row instead of a quoted one
        if r < 0.02:
            name = 'say ""hi"", world'
            text = '%d,%s,%s,"%s"' % (i, x, y, name)
            fields = [str(i), x, y, name.replace('""', '"')]
        elif r < 0.02 + multiline:
            name = "two\nlines, here\n\n,x"
            text = '%d,%s,%s,"%s"' % (i, x, y, name)
            fields = [str(i), x, y, name]
        elif r < 0.025 + multiline:
            text = "%d,%s,%s" % (i, x, y)  # short: padded in the output
            fields = [str(i), x, y]
        elif r < 0.03 + multiline:
            text = "%d,%s,%s,name,extra" % (i, x, y)  # long: values follow it
            fields = [str(i), x, y, "name", "extra"]
            kind = "long"
        elif r < 0.035 + multiline:
            text = "%d,not-a-number,%s,bad" % (i, y)
            fields = [str(i), "not-a-number", y, "bad"]
            kind = "bad"
        else:
            text = "%d,%s,%s,n%d" % (i, x, y, i)
            fields = [str(i), x, y, "n%d" % i]
        end = "\r\n" if rng.random() < 0.1 else "\n"
        out.write(text + end)
        records.append((fields, col, row))
        lines.append(line)
        kinds.append(kind)
        line += 1 + text.count("\n")
    with open(path, "w", newline="") as f:
        f.write(out.getvalue())
    return records, lines, kinds


def make_raster(path):
    data = (np.arange(H)[:, None] * 1000 + np.arange(W)[None, :]).astype(np.int32)
    rptest.create_raster(path, data, dtype="Int32", gt=(0, 1, 0, 0, 0, -1),
                         options=["TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64"])


def expected_output(records, kinds):
    rows = [["id", "x", "y", "name", "b1"]]
    for (fields, col, row), kind in zip(records, kinds):
        padded = fields + [""] * (4 - len(fields))
        value = "" if kind == "bad" else str(row * 1000 + col)
        rows.append(padded + [value])
    return rows


def check_output(t, case, run, want):
    if not t.check(case, run.code == 1, "exit %s, want 1 (bad rows)\n    %s" % (
            run.code, run.describe())):
        return
    got = list(csv.reader(io.StringIO(run.out.decode("utf-8"), newline="")))
    if not t.check(case, len(got) == len(want), "%d output records, want %d" % (
            len(got), len(want))):
        return
    bad = rptest.Limited(t, case)
    for k, (g, w) in enumerate(zip(got, want)):
        if g != w:
            bad.add("record %d: got %r, want %r" % (k, g, w))
    bad.flush()


def check_warnings(t, case, err, lines, kinds):
    bad_lines = [lines[i] for i, k in enumerate(kinds) if k == "bad"]
    long_lines = [lines[i] for i, k in enumerate(kinds) if k == "long"]
    for ln in bad_lines[:20]:
        t.check(case, ":%d: x coordinate 'not-a-number' is not a number" % ln in err,
                "no warning for the bad row on line %d" % ln)
    for ln in long_lines[:10]:
        t.check(case, ":%d: the row has 5 fields, the header 4" % ln in err,
                "no warning for the long row on line %d" % ln)
    t.check(case, "%d rows are longer than the header in all" % len(long_lines) in err,
            "no total of %d long rows in:\n%s" % (len(long_lines), err[-2000:]))


def main():
    t = rptest.Tester("cli_slices")
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        pts = os.path.join(tmp, "pts.csv")
        raster = os.path.join(tmp, "r.tif")
        records, lines, kinds = make_input(pts, rng)
        make_raster(raster)
        want = expected_output(records, kinds)
        outputs = {}

        def case_file(case, threads, env=None):
            run = rptest.extract([raster, "--points", pts, "-j", threads, "-q"], env=env)
            check_output(t, case, run, want)
            check_warnings(t, case, run.err, lines, kinds)
            outputs[case] = run.out

        for threads in (1, 2, 3):
            t.run_case("file -j %d" % threads, case_file, threads)
        # the file copied with pread (as library callers get it), not mapped
        for threads in (1, 2):
            t.run_case("file read, not mapped -j %d" % threads, case_file, threads,
                       {"RASTERPOOL_MAP_POINTS": "0"})

        def case_stdin(case):
            with open(pts, "rb") as f:
                run = rptest.extract([raster, "-j", 2, "-q"], stdin=f.read())
            check_output(t, case, run, want)
            outputs[case] = run.out

        t.run_case("stdin -j 2", case_stdin)

        # An output file: staged, and written with O_DIRECT in 4 MiB chunks
        # (the output, 7.4 MB, is a chunk and a partial one) where the file
        # system takes it; and the same written into the page cache.
        out_file = os.path.join(tmp, "out.csv")

        def case_output_file(case, threads, env=None):
            run = rptest.extract([raster, "--points", pts, "-o", out_file, "-j", threads, "-q"],
                                 env=env)
            with open(out_file, "rb") as f:
                run.out = f.read()
            t.check(case, len(run.out) > 4 << 20, "the output is %d bytes: want over 4 MiB "
                    "(a whole direct chunk and a tail)" % len(run.out))
            check_output(t, case, run, want)
            outputs[case] = run.out

        # =1: direct on any file system that takes O_DIRECT (by default only
        # local disks' are, and /tmp may be a tmpfs)
        for threads in (1, 2, 7):
            t.run_case("-o file -j %d" % threads, case_output_file, threads,
                       {"RASTERPOOL_DIRECT_WRITE": "1"})
        t.run_case("-o file, buffered -j 2", case_output_file, 2,
                   {"RASTERPOOL_DIRECT_WRITE": "0"})

        def case_identical(case):
            first = next(iter(outputs.values()))
            for name, out in outputs.items():
                t.check(case, out == first, "%s differs from the first run's bytes" % name)

        t.run_case("identical bytes", case_identical)

        # Half the rows hold quoted line ends: most guesses of where a piece
        # of the file starts fall inside a quoted field and must be undone.
        quoted = os.path.join(tmp, "quoted.csv")
        q_records, q_lines, q_kinds = make_input(quoted, random.Random(8), multiline=0.5)
        q_want = expected_output(q_records, q_kinds)

        def case_quoted(case, threads, env=None):
            run = rptest.extract([raster, "--points", quoted, "-j", threads, "-q"], env=env)
            check_output(t, case, run, q_want)
            check_warnings(t, case, run.err, q_lines, q_kinds)

        for threads in (1, 2, 3):
            t.run_case("quoted line ends -j %d" % threads, case_quoted, threads)
        t.run_case("quoted line ends, not mapped -j 2", case_quoted, 2,
                   {"RASTERPOOL_MAP_POINTS": "0"})

        # No quote at all: pass 2 splits every slice with its own line scan
        # (short rows padded, long rows warned, CRLF, blank lines, bad rows,
        # the byte order mark before the header), to a file and to stdout.
        plain = os.path.join(tmp, "plain.csv")
        p_records, p_lines, p_kinds = make_input(plain, random.Random(9), multiline=0,
                                                 quotes=False)
        p_want = expected_output(p_records, p_kinds)
        plain_out = os.path.join(tmp, "plain_out.csv")

        def case_plain(case, threads, env=None, to_file=False):
            args = [raster, "--points", plain, "-j", threads, "-q"]
            run = rptest.extract(args + (["-o", plain_out] if to_file else []), env=env)
            if to_file and os.path.exists(plain_out):
                with open(plain_out, "rb") as f:
                    run.out = f.read()
            check_output(t, case, run, p_want)
            check_warnings(t, case, run.err, p_lines, p_kinds)

        for threads in (1, 2, 3):
            t.run_case("no quotes -j %d" % threads, case_plain, threads)
        t.run_case("no quotes, not mapped -j 2", case_plain, 2, {"RASTERPOOL_MAP_POINTS": "0"})
        t.run_case("no quotes, -o file -j 2", case_plain, 2, {"RASTERPOOL_DIRECT_WRITE": "1"},
                   True)

        for mapped in ("1", "0"):
            t.run_case("quote written between the passes, mapped=%s" % mapped,
                       lambda case, m: case_changed_between_passes(t, case, tmp, m), mapped)
            t.run_case("coordinate changed between the passes, mapped=%s" % mapped,
                       lambda case, m: case_changed_between_passes(t, case, tmp, m, "digit"),
                       mapped)
        # the row-by-row writers (a GeoPackage output) check the file too
        t.run_case("coordinate changed between the passes, pread, -o .gpkg",
                   lambda case: case_changed_between_passes(t, case, tmp, "0", "digit",
                                                            "changed.gpkg"))
        t.run_case("a closing quote at a line start, no quote for 66 MiB after, -j 2",
                   lambda case: case_runaway_guess(t, case, tmp, raster))
    t.finish()


def case_runaway_guess(t, case, tmp, raster):
    """A valid file with one quoted field of 3 MB of line ends whose closing
    quote begins a line, and 68 MiB of rows without a quote after it. A
    piece guessed to start inside that field reads the closing quote as an
    opening one and runs on through the rest of the file, past the 64 MiB
    record limit: that piece must be thrown away and the wave redone from
    the true record start, not the file refused as holding an unclosed
    quote (as it was at -j 2 and more; -j 1 read it). The output is checked
    record by record against the rows as written and the raster's values."""
    pts = os.path.join(tmp, "runaway.csv")
    rows = []
    with open(pts, "w", newline="") as f:
        f.write("id,x,y,name\n")
        written, i = 0, 0
        def plain_rows(limit):
            nonlocal written, i
            chunk = []
            while written < limit:
                col, row = i % W, i % H
                line = "%d,%d.5,-%d.5,n\n" % (i, col, row)
                chunk.append(line)
                rows.append(([str(i), "%d.5" % col, "-%d.5" % row, "n"], row * 1000 + col))
                written += len(line)
                i += 1
                if len(chunk) == 65536:
                    f.write("".join(chunk))
                    chunk = []
            f.write("".join(chunk))
        plain_rows(1 << 20)
        name = "a\n" * (3 << 19)  # the closing quote is the first byte of its line
        f.write('%d,1.5,-1.5,"%s"\n' % (i, name))
        rows.append(([str(i), "1.5", "-1.5", name], 1 * 1000 + 1))
        i += 1
        written = 0
        plain_rows(68 << 20)
    out = os.path.join(tmp, "runaway_out.csv")
    run = rptest.extract([raster, "--points", pts, "-j", 2, "-q", "-o", out])
    os.remove(pts)
    if not t.check(case, run.code == 0, "exit %s, want 0\n    %s" % (run.code, run.describe())):
        return
    bad = rptest.Limited(t, case)
    n = 0
    csv.field_size_limit(max(csv.field_size_limit(), 4 << 20))  # the 3 MB field
    with open(out, newline="") as f:
        reader = csv.reader(f)
        t.check(case, next(reader) == ["id", "x", "y", "name", "b1"], "header")
        for got, (fields, value) in zip(reader, rows):
            n += 1
            if got != fields + [str(value)]:
                bad.add("record %d: got %r, want %r" % (n, got[:3] + [got[3][:20]],
                                                         fields[:3] + [fields[3][:20]]))
    bad.flush()
    t.check(case, n == len(rows), "%d records, want %d" % (n, len(rows)))
    os.remove(out)


def case_changed_between_passes(t, case, tmp, mapped, edit="quote", output=None):
    """A quote-free file changed in place between pass 1 and pass 2 (by the
    raster's Python pixel function, which runs after pass 1), same size:
    edit "quote": two rows become one record, a quoted field over their
    line end; edit "digit": one row's x coordinate gets another digit (the
    same rows, a point elsewhere). The output must not be written from
    pass 1's view of the file (rows split at the quoted line end, or a
    row's new coordinates beside the value read at its old ones, silently:
    exit 0): the change is an error, mapped or read with pread (library
    callers' default), as the file's size, time and inode are checked
    around pass 2 either way."""
    src = os.path.join(tmp, "changed_src.tif")
    make_raster(src)
    pts = os.path.join(tmp, "changed_%s_%s.csv" % (edit, mapped))
    lines = ["id,x,y,name\n"] + ["%d,%d.500,-%d.500,n%d\n" % (i, i % W, i % H, i)
                                 for i in range(60000)]  # 1.8 MB: read in pieces at -j 2
    k = 30000
    at = len("".join(lines[:k + 1]))
    a, b = lines[k + 1], lines[k + 2]
    if edit == "quote":
        a2 = a[:a.rindex(",") + 1] + '"' + a[a.rindex(",") + 2:]  # its name opens a quote
        b2 = b[:-2] + '"\n'                                         # the next row's closes it
    else:  # x's first digit: 1 <-> 2, the same number of bytes
        at_x = a.index(",") + 1
        a2 = a[:at_x] + ("2" if a[at_x] == "1" else "1") + a[at_x + 1:]
        b2 = b
    with open(pts, "w") as f:
        f.write("".join(lines))
    code = "\n".join([
        "def f(in_ar, out_ar, xoff, yoff, xsize, ysize, raster_xsize, raster_ysize,"
        " buf_radius, gt, **kwargs):",
        "    with open(%r, 'r+b') as g:" % pts,
        "        g.seek(%d)" % at,
        "        g.write(%r)" % (a2 + b2).encode(),
        "    out_ar[:] = in_ar[0]",
    ])
    vrt = rptest.python_pixel_vrt(os.path.join(tmp, "changed.vrt"), src, code, W, H, "Int32",
                                  gt=(0, 1, 0, 0, 0, -1), relative=False)
    out = ["-o", os.path.join(tmp, output)] if output else []
    run = rptest.extract([vrt, "--points", pts, "-j", 2, "-q"] + out,
                         env={"GDAL_VRT_ENABLE_PYTHON": "YES", "RASTERPOOL_MAP_POINTS": mapped})
    with open(pts) as f:
        t.check(case, f.read() != "".join(lines), "the pixel function did not change the file "
                "(the test's premise)")
    t.check(case, run.code == 3 and "changed while being read" in run.err,
            "exit %s, want 3 (the points changed)\n    %s" % (run.code, run.describe()))


main()
