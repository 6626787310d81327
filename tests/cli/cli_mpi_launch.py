#!/usr/bin/python3
"""cli_mpi_launch — rasterpool under each MPI's launcher: Open MPI and MPICH.

The launcher, its flags and its environment come from tests/oracle/mpilaunch.py
(RP_MPIEXEC, else MPIRUN, else mpirun; Open MPI or MPICH's hydra, asked of
`<launcher> --version`). RASTERPOOL must be built against that launcher's MPI.

Oracles: the shared libraries the program loads (ldd), the plain run (no
launcher) for byte identity, numpy for the pixels of batch outputs.

Cases:
  1. the build links the launcher's MPI (libmpich for hydra, libmpi for Open
     MPI), not the other one;
  2. the other MPI's launcher (when installed), -n 2: its processes come up
     as two singleton MPI jobs; rasterpool refuses (exit 3, a message naming
     the MPI it was built with, no output) instead of running the whole job
     twice; with -n 1 it is a plain run (output the plain run's);
  3. Ctrl-C (SIGINT to the launcher) during a batch under -n 3: the job ends
     (Open MPI: exit not 0; MPICH's hydra forwards SIGINT to the ranks, whose
     first Ctrl-C lets running tasks finish: each rank exits 130, read from a
     wrapper, tests/oracle/rank_exit.py, because hydra itself sometimes
     loses the statuses and exits 0), the summary says "interrupted", no temporary is left, every
     output the journal calls done is there and pixel-equal to its input, and
     a rerun with --resume completes the rest.
  4. batch workers under -n 2 hold no descriptor of the MPI library: a VRT
     pixel function lists the worker's own descriptors (/proc/self/fd):
     above stdin/stdout/stderr and its socket to the rank (3), no socket,
     pipe or event fd (MPICH's PMI and UCX sockets, Open MPI's, were
     inherited across exec).
Run: RASTERPOOL=/path/to/rasterpool RP_MPIEXEC=mpiexec.mpich /usr/bin/python3 cli_mpi_launch.py
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import numpy as np  # noqa: E402

import mpilaunch  # noqa: E402
import rptest  # noqa: E402
from rptest import gdal  # noqa: E402

LAUNCH = mpilaunch.Launcher()
# the other implementation's launcher (Debian's names), for case 2
OTHER = {"openmpi": "/usr/bin/mpiexec.mpich", "mpich": "/usr/bin/mpirun.openmpi"}[LAUNCH.kind]
T = None


def launched(launcher, n, args, **kw):
    cmd = launcher.argv(n) + [rptest.binary()] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, timeout=300, env=launcher.environ(), **kw)
    return rptest.Run(cmd, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


def loaded_libs():
    """The MPI libraries the program loads, by ldd."""
    out = subprocess.run(["ldd", rptest.binary()], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return {"mpich": any(n.startswith("libmpich.so") for n in names),
            "openmpi": any(n.startswith("libmpi.so") for n in names)}


def case_links(case, tmp):
    libs = loaded_libs()
    other = "openmpi" if LAUNCH.kind == "mpich" else "mpich"
    T.check(case, libs[LAUNCH.kind] and not libs[other],
            "launcher %s, but the program loads %s" % (LAUNCH.describe(), libs))


def small_extract(tmp):
    raster = os.path.join(tmp, "m.tif")
    rptest.create_raster(raster, np.arange(100, dtype=np.float32).reshape(10, 10), "Float32",
                         gt=(0.0, 1.0, 0.0, 10.0, 0.0, -1.0))
    pts = os.path.join(tmp, "m.csv")
    open(pts, "w").write("x,y\n" + "".join("%s,%s\n" % (i % 10 + 0.5, 9.5 - i % 9)
                                           for i in range(40)))
    return ["extract", raster, "--points", pts, "-q", "-j", "1"]


def case_other_launcher(case, tmp):
    if not shutil.which(OTHER):
        print("   skipped: %s not installed" % OTHER)
        return
    other = mpilaunch.Launcher(OTHER)
    args = small_extract(tmp)
    plain = rptest.rp(args)
    if not T.check(case, plain.code == 0 and plain.out.count(b"\n") == 41,
                   "plain: " + plain.describe()):
        return
    r = launched(other, 2, args)
    T.check(case, r.code == 3 and r.out == b"", "-n 2 under %s: exit %s, %d bytes out" % (
        other.describe(), r.code, len(r.out)))
    T.check(case, "not of the MPI this rasterpool was built with" in r.err,
            "no message naming the mismatch: %r" % r.err[:600])
    r = launched(other, 1, args)
    T.check(case, r.code == 0 and r.out == plain.out,
            "-n 1 under %s is not the plain run: %s" % (other.describe(), r.describe()))


def slow_inputs(folder, n, marker):
    """n 8x8 VRTs whose Python pixel function notes its start in `marker`,
    sleeps 0.3 s and gives the source (i everywhere)."""
    inputs = []
    for i in range(n):
        base = os.path.join(folder, "b%02d.tif" % i)
        rptest.create_raster(base, np.full((8, 8), i, np.int16), "Int16")
        code = ("import time\ndef f(in_ar, out_ar, *a, **k):\n"
                "    open(%r, 'a').write('x\\n')\n    time.sleep(0.3)\n"
                "    out_ar[:] = in_ar[0]\n" % marker)
        inputs.append(rptest.python_pixel_vrt(os.path.join(folder, "r%02d.vrt" % i),
                                              os.path.basename(base), code, 8, 8, "Int16"))
    return inputs


def check_done_outputs(case, out, n_inputs):
    """Every output the journal calls done is there and holds its input's i;
    no temporary left. Returns the done count."""
    journal = os.path.join(out, "rasterpool-batch.jsonl")
    recs = [json.loads(x) for x in open(journal)] if os.path.exists(journal) else []
    done = [r["output"] for r in recs if r["outcome"] == "done"]
    lim = rptest.Limited(T, case)
    for o in done:
        i = int(os.path.basename(o)[1:3])
        if not os.path.exists(o):
            lim.add("journal says done, but %s is missing" % o)
        elif not np.array_equal(gdal.Open(o).ReadAsArray(), np.full((8, 8), i, np.int16)):
            lim.add("%s is not its input's pixels" % o)
    left = [f for f in os.listdir(out) if ".rp-tmp" in f] if os.path.isdir(out) else []
    if left:
        lim.add("temporaries left: %s" % left)
    lim.flush()
    T.check(case, len(done) == len(set(done)) <= n_inputs, "journal: %d done records" % len(done))
    return len(set(done))


def case_interrupt(case, tmp):
    folder = os.path.join(tmp, "int")
    os.makedirs(folder)
    marker = os.path.join(tmp, "int.started")
    open(marker, "w").close()
    inputs = slow_inputs(folder, 40, marker)
    out = os.path.join(tmp, "int_out")
    py = ["--config", "GDAL_VRT_ENABLE_PYTHON", "YES"]
    # under hydra each rank's status is recorded by a wrapper (hydra may exit 0
    # after Ctrl-C whatever its ranks returned: tests/oracle/rank_exit.py)
    codes = os.path.join(tmp, "int_codes")
    os.makedirs(codes)
    wrap = [sys.executable, os.path.join(HERE, "..", "oracle", "rank_exit.py"), codes,
            LAUNCH.rank_var] if LAUNCH.kind == "mpich" else []
    cmd = LAUNCH.argv(3) + wrap + [rptest.binary(), "batch", "translate"] + inputs + [
        "--out-dir", out, "-j", "2", "-q"] + py
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=LAUNCH.environ())
    try:
        end = time.time() + 120
        while time.time() < end and open(marker).read().count("x") < 4 and p.poll() is None:
            time.sleep(0.02)
        T.check(case, p.poll() is None, "the job ended before Ctrl-C: test too fast")
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = err.decode("utf-8", "replace")
    print("   %s after Ctrl-C: exit %s" % (LAUNCH.describe(), p.returncode))
    if LAUNCH.kind == "openmpi":
        T.check(case, p.returncode != 0, "exit 0 after Ctrl-C")
    else:
        # hydra forwards SIGINT to every rank: each ends the drain with 130;
        # hydra's own status is 130 too unless it lost the ranks' statuses (0)
        ranks = {}
        for r in range(3):
            f = os.path.join(codes, "rank.%d" % r)
            ranks[r] = open(f).read().strip() if os.path.exists(f) else "none"
        print("   ranks' own exit codes: %s" % ranks)
        T.check(case, all(v == "130" for v in ranks.values()),
                "hydra: ranks exited %s, want 130 each; %r" % (ranks, err[-600:]))
        T.check(case, p.returncode in (130, 0), "hydra: exit %s, want 130 (or 0: "
                "statuses lost by hydra)" % p.returncode)
    T.check(case, "interrupted" in err, "no 'interrupted' in the summary: %r" % err[-600:])
    before = check_done_outputs(case, out, len(inputs))
    T.check(case, before < len(inputs), "every task was done before Ctrl-C: test too fast")
    r = launched(LAUNCH, 2, ["batch", "translate"] + inputs + ["--out-dir", out, "-j", "2",
                                                               "--resume", "-q"] + py)
    T.check(case, r.code == 0, "--resume at -n 2: " + r.describe())
    T.check(case, check_done_outputs(case, out, len(inputs)) == len(inputs),
            "after --resume not every input is done once")
    T.check(case, len(glob.glob(os.path.join(out, "*.tif"))) == len(inputs),
            "after --resume: %d outputs" % len(glob.glob(os.path.join(out, "*.tif"))))


def case_worker_fds(case, tmp):
    folder = os.path.join(tmp, "fds")
    os.makedirs(folder)
    listing = os.path.join(tmp, "fds.txt")
    inputs = []
    for i in range(6):
        base = os.path.join(folder, "b%d.tif" % i)
        rptest.create_raster(base, np.full((4, 4), i, np.uint8), "Byte")
        code = ("import os\ndef f(in_ar, out_ar, *a, **k):\n"
                "    fds = {}\n"
                "    for d in os.listdir('/proc/self/fd'):\n"
                "        try:\n"
                "            fds[int(d)] = os.readlink('/proc/self/fd/' + d)\n"
                "        except OSError:\n"
                "            pass\n"
                "    odd = sorted((k, v) for k, v in fds.items() if k > 3 and"
                " v.split(':')[0] in ('socket', 'pipe', 'anon_inode'))\n"
                "    open(%r, 'a').write('%%s %%r\\n' %% (fds.get(3, '').split(':')[0], odd))\n"
                "    out_ar[:] = in_ar[0]\n" % listing)
        inputs.append(rptest.python_pixel_vrt(os.path.join(folder, "r%d.vrt" % i),
                                              os.path.basename(base), code, 4, 4, "Byte"))
    r = launched(LAUNCH, 2, ["batch", "translate"] + inputs + [
        "--out-dir", os.path.join(tmp, "fds_out"), "-j", "2", "-q", "--config",
        "GDAL_VRT_ENABLE_PYTHON", "YES"])
    if not T.check(case, r.code == 0, "batch -n 2: " + r.describe()):
        return
    lines = open(listing).read().splitlines() if os.path.exists(listing) else []
    T.check(case, len(lines) >= len(inputs), "%d listings for %d tasks" % (len(lines), len(inputs)))
    bad = [x for x in lines if x != "socket []"]
    T.check(case, not bad, "workers hold more than their socket: %s" % bad[:3])


def main():
    global T
    T = rptest.Tester("cli_mpi_launch")
    print("launcher: %s" % LAUNCH.describe())
    only = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("links_launchers_mpi", case_links),
                         ("other_mpi_launcher", case_other_launcher),
                         ("interrupt_resume", case_interrupt),
                         ("worker_fds", case_worker_fds)):
            if not only or name in only:
                T.run_case(name, fn, tmp)
    T.finish()


if __name__ == "__main__":
    main()
