#!/usr/bin/python3
"""rank_exit — runs one MPI rank's program and records its exit status.

Usage (as the program under a launcher):
    mpiexec -n 3 python3 rank_exit.py DIR RANK_VAR program args...
Runs `program args...` as a child that inherits every descriptor (the MPI
launcher's PMI socket among them), forwards SIGINT and SIGTERM to it, and
when it ends writes its status to DIR/rank.<value of RANK_VAR>: the exit code,
or -N for a child killed by signal N. Exits with the child's code.

Why: MPICH's hydra (4.0.2) sometimes loses a proxy's exit statuses when it
is interrupted, and then exits 0 whatever the ranks returned (reproduced
with a three-line Python program that exits 130 on SIGINT: 1 run in 25
returned 0 while another mpiexec ran beside it). The test of Ctrl-C under
hydra reads each rank's own status from here instead.
"""
import os
import signal
import subprocess
import sys


def main():
    folder, rank_var, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    child = subprocess.Popen(argv, close_fds=False)

    def forward(sig, _frame):
        try:
            child.send_signal(sig)
        except OSError:
            pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    code = child.wait()
    rank = os.environ.get(rank_var, "unknown")
    tmp = os.path.join(folder, ".rank.%s.tmp" % rank)
    with open(tmp, "w") as f:
        f.write("%d\n" % code)
    os.rename(tmp, os.path.join(folder, "rank.%s" % rank))
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
