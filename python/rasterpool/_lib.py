"""_lib.py — the glue every call shares: the compiled cffi module, errors as
exceptions, argv building, and the job's callbacks (progress, log).

Threads: a job runs its C call with the GIL released (cffi releases it for
every call into the library), so several Python threads can run jobs at
once. The progress callback runs on the thread that started the job; the log
callback may run on the library's worker threads (cffi takes the GIL for it).
Each job owns one _Job object, reached from C through a cffi handle that the
job keeps alive until its C call returns.

Ctrl-C: Python's SIGINT handler only sets a flag while the C call runs; the
next progress callback on the job's thread runs Python code, where the
KeyboardInterrupt is raised. The callback catches it (or any exception the
user's progress function raises), records it and asks the job to stop
(RP_PROGRESS_ABORT); the C job then cleans up (no partial output) and
returns RP_INTERRUPTED, and the recorded exception is raised again.
"""
import logging
import os
import sys

from ._native import ffi, lib

LOG = logging.getLogger("rasterpool")

_init_done = False


def init():
    global _init_done
    if not _init_done:
        lib.rp_init()  # idempotent and thread-safe in C
        _init_done = True


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class Error(Exception):
    """A rasterpool job failed. `status` is the library's status name
    ("OPEN", "USAGE", ...), `code` its number, `message` the library's
    text (it names the file, line, band or block)."""

    def __init__(self, message, status="INTERNAL", code=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class UsageError(Error, ValueError):
    """Bad arguments: an unknown option, a missing band, an unknown CRS, a
    bad expression (status USAGE)."""


class OpenError(Error, OSError):
    """An input cannot be opened (status OPEN)."""


class ReadError(Error, OSError):
    """An input cannot be read (status READ)."""


class WriteError(Error, OSError):
    """An output cannot be written (status WRITE)."""


class CRSError(Error):
    """A coordinate reference system cannot be used (status CRS)."""


class PartialError(Error):
    """The job ran but some items failed (status PARTIAL), where the call
    has no partial result to return (calc with a failing kernel, a batch
    with failed tasks when check=True)."""


_BY_STATUS = {
    "USAGE": UsageError,
    "OPEN": OpenError,
    "READ": ReadError,
    "WRITE": WriteError,
    "CRS": CRSError,
    "PARTIAL": PartialError,
}


def status_name(code):
    return ffi.string(lib.rp_status_name(code)).decode()


def error_from(code, err):
    """The exception for a failed call: err is the rp_error* it filled."""
    name = status_name(code)
    message = ffi.string(err.message).decode("utf-8", "replace") if err != ffi.NULL else ""
    if not message:
        message = ffi.string(lib.rp_status_text(code)).decode()
    if name == "NOMEM":
        return MemoryError(message)
    cls = _BY_STATUS.get(name, Error)
    return cls(message, name, int(code))


def new_error():
    return ffi.new("rp_error *")


# ---------------------------------------------------------------------------
# argv
# ---------------------------------------------------------------------------


def fspath(p):
    """A path argument as text (str, bytes or os.PathLike)."""
    p = os.fspath(p)
    return p.decode() if isinstance(p, bytes) else p


def config_args(config):
    """--config KEY VALUE for each item of a dict (or pairs)."""
    out = []
    if config:
        items = config.items() if hasattr(config, "items") else config
        for k, v in items:
            out += ["--config", str(k), str(v)]
    return out


class Argv:
    """A C argv (char *const *) that keeps its strings alive."""

    def __init__(self, words):
        self.words = [str(w) for w in words]
        self._keep = [ffi.new("char[]", w.encode()) for w in self.words]
        self.argv = ffi.new("char *[]", self._keep + [ffi.NULL])
        self.argc = len(self._keep)


# ---------------------------------------------------------------------------
# Progress and log callbacks
# ---------------------------------------------------------------------------


class _SimpleBar:
    """A one-line bar on stderr, for progress=True without tqdm."""

    def __init__(self, desc):
        self.desc = desc
        self.last = -1

    def update(self, fraction, message):
        pct = int(fraction * 100)
        if pct != self.last:
            self.last = pct
            filled = pct // 4
            sys.stderr.write("\r%s [%s%s] %3d%% %s" % (self.desc, "#" * filled, "." * (25 - filled),
                                                        pct, message or ""))
            sys.stderr.flush()

    def close(self):
        if self.last >= 0:
            sys.stderr.write("\n")
            sys.stderr.flush()


class _TqdmBar:
    def __init__(self, tqdm, desc):
        self.bar = tqdm(total=1000, desc=desc, unit="‰", leave=False)
        self.done = 0

    def update(self, fraction, message):
        n = int(fraction * 1000)
        if n > self.done:
            self.bar.update(n - self.done)
            self.done = n
        if message:
            self.bar.set_postfix_str(message, refresh=False)

    def close(self):
        self.bar.close()


def make_bar(progress, desc):
    """progress=True: a tqdm bar when tqdm is installed, else a simple one;
    a callable: called as progress(fraction, message); None/False: none."""
    if progress is True:
        try:
            from tqdm.auto import tqdm
            return _TqdmBar(tqdm, desc)
        except ImportError:
            return _SimpleBar(desc)
    if callable(progress):
        class _Call:
            update = staticmethod(progress)

            def close(self):
                pass
        return _Call()
    return None


class Job:
    """One C job's Python side: the progress bar, the exception raised in a
    callback (re-raised after the call), the log lines."""

    def __init__(self, progress=None, desc="rasterpool"):
        self.bar = make_bar(progress, desc)
        self.exc = None
        self.handle = ffi.new_handle(self)

    def attach(self, set_progress, set_log, opts):
        # The progress callback is always set: it is where Ctrl-C is seen.
        set_progress(opts, lib.rp_py_progress, self.handle)
        rc = set_log(opts, lib.rp_py_log, self.handle)
        if rc != lib.RP_OK:
            raise MemoryError("rasterpool: cannot set the log callback")

    def close(self):
        if self.bar is not None:
            self.bar.close()

    def reraise(self):
        """Raises the exception a callback caught, if any."""
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc


def _progress_onerror(exc_type, exc_value, tb):
    # An exception raised before the try below (a signal delivered at the
    # callback's first instruction): find the job from the frame.
    while tb is not None:
        user = tb.tb_frame.f_locals.get("user")
        if user is not None:
            try:
                ffi.from_handle(user).exc = exc_value
            except Exception:  # noqa: BLE001 - nothing better to do here
                pass
            break
        tb = tb.tb_next
    return lib.RP_PROGRESS_ABORT


@ffi.def_extern(onerror=_progress_onerror)
def rp_py_progress(fraction, message, user):
    job = ffi.from_handle(user)
    try:
        if job.exc is not None:
            return lib.RP_PROGRESS_ABORT
        if job.bar is not None:
            text = ffi.string(message).decode("utf-8", "replace") if message != ffi.NULL else ""
            job.bar.update(fraction, text)
        return lib.RP_PROGRESS_CONTINUE
    except BaseException as e:  # KeyboardInterrupt included: stop the job
        job.exc = e
        return lib.RP_PROGRESS_ABORT


@ffi.def_extern()
def rp_py_log(user, level, line):
    text = ffi.string(line).decode("utf-8", "replace")
    LOG.log(logging.WARNING if level == lib.RP_LOG_WARNING else logging.INFO, "%s", text)
