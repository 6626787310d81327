"""mpilaunch — the MPI launcher the test suites run rasterpool under.

Which launcher: $RP_MPIEXEC, else $MPIRUN (what CMake's FindMPI found:
MPIEXEC_EXECUTABLE), else `mpirun` on PATH. Which implementation: asked of the
launcher itself (`<launcher> --version`): "Open MPI"/"OpenRTE" is Open MPI,
"HYDRA" is MPICH's hydra (mpiexec.mpich). Anything else is an error, not a
guess: its flags and environment are unknown.

What differs between them, and only here:
  - flags: Open MPI refuses more ranks than cores without --oversubscribe;
    hydra starts any count on the local host as it is;
  - environment: Open MPI refuses to run as root unless told
    (OMPI_ALLOW_RUN_AS_ROOT, _CONFIRM); hydra has no such rule;
  - the rank's variable that a child process of a rank inherits:
    OMPI_COMM_WORLD_RANK (Open MPI), PMI_RANK (hydra; Slurm's PMI too).
The MPMD form `A : -n 1 B` is the same in both.

Both: leak checking is off for the ranks under ASan (the MPI libraries'
allocations outlive MPI_Finalize); memory errors still abort.
"""
import os
import shutil
import subprocess


class Launcher:
    def __init__(self, path=None):
        self.path = path or os.environ.get("RP_MPIEXEC") or os.environ.get("MPIRUN") or "mpirun"
        self.kind = detect(self.path)
        self.rank_var = {"openmpi": "OMPI_COMM_WORLD_RANK", "mpich": "PMI_RANK"}[self.kind]
        self.env = {}
        if self.kind == "openmpi":
            self.env = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                        "OMPI_MCA_rmaps_base_oversubscribe": "1"}
        self.env["ASAN_OPTIONS"] = ":".join(x for x in (os.environ.get("ASAN_OPTIONS", ""),
                                                        "detect_leaks=0") if x)

    def argv(self, n):
        """The launcher's command line up to the program: n ranks here."""
        flags = ["--oversubscribe"] if self.kind == "openmpi" else []
        return [self.path] + flags + ["-n", str(n)]

    def environ(self):
        """os.environ plus what the launcher needs (for subprocess env=)."""
        return dict(os.environ, **self.env)

    def describe(self):
        return "%s (%s)" % (self.path, self.kind)


def detect(path):
    """'openmpi' or 'mpich' from `path --version`; raises RuntimeError."""
    exe = shutil.which(path)
    if not exe:
        raise RuntimeError("MPI launcher %r not found (set RP_MPIEXEC)" % path)
    try:
        p = subprocess.run([exe, "--version"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RuntimeError("%s --version: %s" % (exe, e))
    text = (p.stdout + p.stderr).decode("utf-8", "replace")
    if "Open MPI" in text or "OpenRTE" in text:
        return "openmpi"
    if "HYDRA" in text:
        return "mpich"
    raise RuntimeError("%s --version: neither Open MPI nor MPICH's hydra: %r" % (exe, text[:300]))
