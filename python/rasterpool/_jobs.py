"""_jobs.py — calc and batch: keyword arguments turned into the CLI's argv,
parsed by the library's own parser, run with the GIL released.

Both write files, so both are all-or-nothing as in the CLI: calc's output
appears only complete, a batch's outputs one by one as their tasks end.
KeyboardInterrupt (or an exception from a progress function) stops the job:
calc leaves no output; batch kills its workers and removes their temporary
files (the tasks already done are kept) before the exception is raised.
"""
import collections

from . import _lib
from ._lib import ffi, lib

CalcReport = collections.namedtuple("CalcReport", "windows pixels threads out_bands out_type")
BatchReport = collections.namedtuple(
    "BatchReport", "tasks done failed skipped not_started attempts retried workers seconds")


def _words(value):
    """A list option given as one string or as a list of them."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def calc_argv(inputs, expr, output, ot=None, of=None, co=None, nodata=None, threads=None,
              kernel=None, kernel_arg=None, bands=None, config=None):
    argv = ["calc"]
    items = inputs.items() if hasattr(inputs, "items") else inputs
    for name, path in items:
        argv += ["-i", "%s=%s" % (name, _lib.fspath(path))]
    for e in _words(expr):
        argv += ["-e", e]
    argv += ["-o", _lib.fspath(output)]
    if kernel is not None:
        argv += ["--kernel", str(kernel)]
    if kernel_arg is not None:
        argv += ["--kernel-arg", str(kernel_arg)]
    if bands is not None:
        argv += ["--bands", str(int(bands))]
    if ot is not None:
        argv += ["--ot", str(ot)]
    if of is not None:
        argv += ["--of", str(of)]
    for c in _words(co):
        argv += ["--co", c]
    if nodata is not None:
        argv += ["--nodata", nodata if isinstance(nodata, str) else repr(nodata)]
    if threads is not None:
        argv += ["-j", str(int(threads))]
    return argv + _lib.config_args(config)


def _run(new, free, set_progress, set_log, run, report_type, argv, progress, desc):
    _lib.init()
    args = _lib.Argv(argv)
    err = _lib.new_error()
    opts = new(args.argc, args.argv, ffi.NULL, err)
    if opts == ffi.NULL:
        if err.code == lib.RP_OK:
            raise _lib.UsageError("rasterpool: --help is not a job", "USAGE")
        raise _lib.error_from(err.code, err)
    job = _lib.Job(progress, desc)
    report = ffi.new(report_type)
    try:
        job.attach(set_progress, set_log, opts)
        rc = run(opts, report, err)
    finally:
        free(opts)
        job.close()
    job.reraise()
    if rc == lib.RP_INTERRUPTED:
        raise KeyboardInterrupt("rasterpool: %s interrupted" % desc)
    return rc, report, err


def calc(inputs, expr, output, ot=None, of=None, co=None, nodata=None, threads=None,
         kernel=None, kernel_arg=None, bands=None, progress=None, config=None):
    """Block-wise band math, as `rasterpool calc`: writes `output`.

    inputs: {"A": "nir.tif", "B": "red.tif"} (or (name, path) pairs).
    expr: one expression or a list (one output band each), muparser syntax
      with A, A[2], nodata, isnodata(); or kernel="lib.so:symbol".
    ot: output type ("Float32", ...); of: "GTiff" (default) or "COG";
    co: creation options ["COMPRESS=DEFLATE", ...]; nodata: output nodata.
    Returns a CalcReport(windows, pixels, threads, out_bands, out_type).
    Raises UsageError (bad expression: its position in the text), OpenError,
    WriteError, PartialError (the kernel failed; no output).
    """
    argv = calc_argv(inputs, expr, output, ot=ot, of=of, co=co, nodata=nodata, threads=threads,
                     kernel=kernel, kernel_arg=kernel_arg, bands=bands, config=config)
    rc, r, err = _run(lib.rp_calc_options_new, lib.rp_calc_options_free,
                      lib.rp_calc_options_set_progress, lib.rp_calc_options_set_log,
                      lib.rp_calc_run, "rp_calc_report *", argv, progress, "calc")
    if rc != lib.RP_OK:
        raise _lib.error_from(rc, err)
    return CalcReport(int(r.windows), int(r.pixels), r.threads, r.out_bands, r.out_type)


def batch_argv(kind, inputs=None, out_dir=None, options=None, jobs=None, resume=False,
               suffix=None, ext=None, inputs_file=None, log=None, retries=None, timeout=None,
               config=None):
    argv = ["batch", str(kind)]
    argv += [_lib.fspath(p) for p in ([inputs] if isinstance(inputs, str) else inputs or [])]
    if inputs_file is not None:
        argv += ["--inputs", _lib.fspath(inputs_file)]
    if out_dir is not None:
        argv += ["--out-dir", _lib.fspath(out_dir)]
    if suffix is not None:
        argv += ["--suffix", suffix]
    if ext is not None:
        argv += ["--ext", ext]
    if log is not None:
        argv += ["--log", _lib.fspath(log)]
    if resume:
        argv.append("--resume")
    if jobs is not None:
        argv += ["-j", str(int(jobs))]
    if retries is not None:
        argv += ["--retries", str(int(retries))]
    if timeout is not None:
        argv += ["--timeout", str(timeout)]
    argv += _lib.config_args(config)
    opts = _words(options)
    if opts:
        argv += ["--"] + opts
    return argv


def batch(kind, inputs=None, out_dir=None, options=None, jobs=None, resume=False, suffix=None,
          ext=None, inputs_file=None, log=None, retries=None, timeout=None, check=False,
          progress=None, config=None):
    """One GDAL job over many files, as `rasterpool batch`, in worker
    processes (the installed rasterpool-worker, found beside the library).

    kind: "warp", "translate" or "calc"; inputs: paths or glob patterns
    (and/or inputs_file, one path a line); options: the tool's own options
    (what follows -- on the command line), e.g. ["-t_srs", "EPSG:3857"].
    Returns a BatchReport(tasks, done, failed, skipped, not_started,
    attempts, retried, workers, seconds); failed tasks are in the journal
    (log=, default OUT_DIR/rasterpool-batch.jsonl) and logged on the
    "rasterpool" logger. check=True raises PartialError when a task failed.
    """
    argv = batch_argv(kind, inputs, out_dir, options, jobs, resume, suffix, ext, inputs_file,
                      log, retries, timeout, config)
    rc, r, err = _run(lib.rp_batch_options_new, lib.rp_batch_options_free,
                      lib.rp_batch_options_set_progress, lib.rp_batch_options_set_log,
                      lib.rp_batch_run, "rp_batch_report *", argv, progress, "batch")
    if rc not in (lib.RP_OK, lib.RP_PARTIAL) or (rc == lib.RP_PARTIAL and check):
        raise _lib.error_from(rc, err)
    return BatchReport(int(r.tasks), int(r.done), int(r.failed), int(r.skipped),
                       int(r.not_started), int(r.attempts), int(r.retried), r.workers, r.seconds)
