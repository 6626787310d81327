"""benchlib — what every bench/ scenario shares: the context (paths, sizes,
repetitions), timing of whole processes (median of N after a warm-up, peak
RSS from the kernel's rusage), cached reproducible data, and result tables
with ratios and targets that render to Markdown.

A scenario module in bench/scenarios/ defines

    SCENARIOS = [Scenario("name", "one-line title", run_function), ...]

where run_function(ctx) returns a list of Table. bench/run discovers the
modules, runs the scenarios asked for, prints each table as it completes and
writes them all to RESULTS.md. See bench/README.md.
"""
import dataclasses
import hashlib
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
PYTHON = "/usr/bin/python3"  # Debian's, which sees python3-gdal, numpy, rasterio


@dataclasses.dataclass
class Scenario:
    name: str
    title: str
    run: object  # function(ctx) -> list[Table]


class Context:
    """Paths and sizes for one bench run. quick: small sizes, fewer runs."""

    def __init__(self, quick, build_dir, data_dir, out_dir, threads):
        self.quick = quick
        self.build_dir = build_dir
        self.data_dir = data_dir
        self.out_dir = out_dir
        self.threads = threads  # the CPUs this process may use
        self.runs = 3 if quick else 5  # timed runs, after one warm-up
        self.warmup = 1
        self.rasterpool = os.path.join(build_dir, "rasterpool")
        self.floor = os.path.join(build_dir, "bench", "floor_read")
        self.peers = os.path.join(BENCH_DIR, "peers")
        os.makedirs(data_dir, exist_ok=True)
        os.makedirs(out_dir, exist_ok=True)

    def size(self, quick, full):
        return quick if self.quick else full

    def data(self, name):
        return os.path.join(self.data_dir, name)

    def out(self, name):
        return os.path.join(self.out_dir, name)


# --------------------------------------------------------------------------
# Timing


@dataclasses.dataclass
class Result:
    seconds: list  # one per timed run
    max_rss: int  # bytes, the largest peak RSS of any timed run
    stdout: str  # of the last run, when captured
    stderr: str
    stderrs: list = None  # every timed run's stderr, in order

    @property
    def median(self):
        return statistics.median(self.seconds)


class BenchError(Exception):
    pass


def _timed(cmd, env, stdin, stdout, cwd):
    """One run: (seconds, peak RSS bytes, stderr text). The command runs
    under GNU time, which reports its child's peak RSS: the bench's own
    Python process would otherwise count (a child's ru_maxrss starts from
    the memory of the process that forked it). For a pipeline (str cmd) the
    figure is that of bash and its largest stage. Raises BenchError with the
    command's stderr when it fails."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    if isinstance(cmd, str):
        cmd = ["bash", "-c", "set -o pipefail; " + cmd]
    fin = open(stdin, "rb") if stdin else open(os.devnull, "rb")
    fout = open(stdout, "wb") if stdout else open(os.devnull, "wb")
    ferr = tempfile.TemporaryFile()
    with tempfile.NamedTemporaryFile("r") as rss_file:
        try:
            t0 = time.perf_counter()
            proc = subprocess.run(["/usr/bin/time", "-q", "-f", "%M", "-o", rss_file.name] + cmd,
                                  stdin=fin, stdout=fout, stderr=ferr, env=full_env, cwd=cwd)
            seconds = time.perf_counter() - t0
            ferr.seek(0)
            err = ferr.read().decode(errors="replace")
        finally:
            fin.close()
            fout.close()
            ferr.close()
        rss_text = rss_file.read().split()
    if proc.returncode != 0:
        raise BenchError("command failed (exit %d): %s\n%s" % (
            proc.returncode, " ".join(shlex.quote(c) for c in cmd), err[-2000:]))
    return seconds, int(rss_text[-1]) * 1024 if rss_text else 0, err


def measure(ctx, cmd, env=None, stdin=None, stdout=None, cwd=None, runs=None, fresh=None):
    """Time cmd as a user experiences it: the whole process, start to exit.
    One warm-up run (page cache, lazy loading), then ctx.runs timed runs.
    fresh: a file the command writes, removed before each run (untimed), so
    that every run writes a new file: replacing an existing one adds the
    file system's cost of freeing the old one's blocks (on an ext4 mounted
    with discard, 0.13 s for 384 MB), which belongs to the file system.
    Returns a Result (median seconds, peak RSS, stderr of the last run)."""
    runs = runs or ctx.runs

    def clear():
        if fresh and os.path.exists(fresh):
            os.remove(fresh)

    for _ in range(ctx.warmup):
        clear()
        _timed(cmd, env, stdin, stdout, cwd)
    seconds, rss, err, errs = [], 0, "", []
    for _ in range(runs):
        clear()
        s, r, err = _timed(cmd, env, stdin, stdout, cwd)
        seconds.append(s)
        errs.append(err)
        rss = max(rss, r)
    return Result(seconds, rss, "", err, errs)


def api_seconds(result):
    """A peer script that times its own API call prints 'api_seconds=X' on
    stderr; this returns X from the last run, or None."""
    for line in result.stderr.splitlines():
        if line.startswith("api_seconds="):
            return float(line.split("=", 1)[1])
    return None


# --------------------------------------------------------------------------
# Data


def cached(ctx, name, params, make):
    """Return ctx.data(name), making it with make(path) unless a file of that
    name was made before with the same params (a stamp file beside it holds
    a hash of them). make must write path atomically enough: it writes to
    path + '.tmp' and this function renames it."""
    path = ctx.data(name)
    stamp = path + ".params"
    key = hashlib.sha256(repr(sorted(params.items())).encode()).hexdigest()
    if os.path.exists(path) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == key:
                return path
    tmp = path + ".tmp"
    t0 = time.time()
    print("  making %s ..." % name, end="", flush=True, file=sys.stderr)
    make(tmp)
    os.replace(tmp, path)
    with open(stamp, "w") as f:
        f.write(key + "\n")
    print(" %.1f s" % (time.time() - t0), file=sys.stderr)
    return path


# --------------------------------------------------------------------------
# Tables


@dataclasses.dataclass
class Row:
    tool: str
    result: Result
    threads: object = ""
    note: str = ""
    scale: float = 1.0  # time multiplier: a peer run on a subset, scaled up
    api: object = None  # seconds of the peer's own API call, when it times it


@dataclasses.dataclass
class Target:
    text: str
    met: bool
    detail: str


class Table:
    """Rows of one scenario, ratios against a reference row (rasterpool)."""

    def __init__(self, title, setup):
        self.title = title
        self.setup = setup  # one line: data and sizes
        self.rows = []
        self.targets = []
        self.notes = []

    def add(self, tool, result, **kw):
        row = Row(tool, result, **kw)
        self.rows.append(row)
        return row

    def seconds(self, row):
        return row.result.median * row.scale

    def target(self, text, met, detail):
        self.targets.append(Target(text, met, detail))

    def ratio_target(self, text, numerator, denominator, limit, at_most):
        """A target on the ratio of two rows' times: met when
        time(numerator)/time(denominator) <= limit (at_most) or >= limit."""
        r = self.seconds(numerator) / self.seconds(denominator)
        met = r <= limit if at_most else r >= limit
        self.target(text, met, "%.2fx" % r)
        return r

    def markdown(self, reference):
        ref = self.seconds(reference)
        lines = ["### %s" % self.title, "", self.setup, "",
                 "| tool | threads | median s | runs (s) | vs rasterpool | peak RSS MB | note |",
                 "|---|---:|---:|---|---:|---:|---|"]
        for row in self.rows:
            s = self.seconds(row)
            if row is reference:
                vs = "1.00x"
            elif s >= ref:
                vs = "%.2fx slower" % (s / ref)
            else:
                vs = "%.2fx faster" % (ref / s)
            runs = " ".join("%.3f" % t for t in row.result.seconds)
            note = row.note
            if row.api is not None:
                note = (note + "; " if note else "") + "its own API call: %.3f s" % row.api
            if row.scale != 1.0:
                note = (note + "; " if note else "") + "time x%.1f (run on a subset)" % row.scale
            lines.append("| %s | %s | %.3f | %s | %s | %.0f | %s |" % (
                row.tool, row.threads, s, runs, vs, row.result.max_rss / 1e6, note))
        if self.targets:
            lines += ["", "| target | result | met |", "|---|---:|---|"]
            for t in self.targets:
                lines.append("| %s | %s | %s |" % (t.text, t.detail, "met" if t.met else "**not met**"))
        for n in self.notes:
            lines += ["", n]
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Machine


def machine_lines(ctx):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        gdal_version = subprocess.run(["gdalinfo", "--version"], capture_output=True,
                                      text=True).stdout.strip()
    except OSError:
        gdal_version = "gdalinfo not found"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return [
        "- date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "- machine: %s, %d CPUs usable by this process (%d online), %.0f GiB RAM, %s" % (
            cpu, ctx.threads, os.cpu_count(), mem, platform.platform()),
        "- %s; rasterpool commit %s (Release build)" % (gdal_version, commit),
        "- load average when the run started: %s (1, 5, 15 min; the machine is shared)" % (
            " ".join(open("/proc/loadavg").read().split()[:3])),
        "- each time is the median of the timed runs listed in its row (%d unless a scenario "
        "says fewer) after %d warm-up run, of the whole process (start to exit); peak RSS is "
        "the largest of the timed runs" % (ctx.runs, ctx.warmup),
    ]
