#!/usr/bin/env bash
# test.sh — the whole test suite, as CI runs it (.ci/run execs this).
#
#   f) format: `git ls-files '*.c' '*.h' '*.cc' | xargs clang-format
#      --dry-run -Werror` (the tree's .clang-format); one pass or one failure
#   a) build/       RelWithDebInfo, -Werror; the whole suite, which includes
#      the install checks: install.export_check (exports = RP_API
#      declarations), install.client_build_tree, and install.postinstall
#      (`cmake --install` into a temporary prefix, then
#      tests/postinstall/run.sh PREFIX)
#   b) build-asan/  Debug, ASan+UBSan (leaks checked); the whole suite
#   c) build-tsan/  TSan; the pool tests (ctest -L pool) and the extract CLI test
#   d) bench/run --quick: the bench's smoke test (small sizes; every peer's
#      values checked against rasterpool's)
#   m) build-mpich/ against MPICH (mpicc.mpich; the CLI and worker only): the
#      MPI suites under hydra (ctest -L mpi with mpiexec.mpich), about 3 min;
#      skipped, and said so, where MPICH is not installed
#
# Every stage runs even when an earlier one failed, so one run shows all
# failures. The last line is "N passed, N failed", summed over the stages from
# ctest's "X% tests passed, N tests failed out of M" lines; a stage that fails
# to configure or build, or whose ctest runs no test, counts as one failure.
# Exits 0 only when every stage passed.
#
# Usage: scripts/test.sh [--quick] [--no-install]
#   --quick       stages f and a only
#   --no-install  do not run scripts/install-deps
# Environment: RP_TSAN_CC picks the TSan stage's compiler (default: cc, i.e.
# gcc; clang also works). ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS and
# TSAN_OPTIONS given by the caller are appended to (and so override) ours.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD

quick=0
install=1
for arg in "$@"; do
    case "$arg" in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown option '$arg'" >&2; exit 2 ;;
    esac
done

JOBS=$(nproc)
total_passed=0
total_failed=0
failed_stages=()

banner() {
    printf '\n========================================================================\n'
    printf '== %s\n' "$*"
    printf '========================================================================\n'
}

# stage_failed NAME WHY: a stage-level failure (configure, build, no tests).
stage_failed() {
    echo "test.sh: stage $1: $2" >&2
    total_failed=$((total_failed + 1))
    failed_stages+=("$1")
}

# configure_and_build NAME DIR [cmake args...]
configure_and_build() {
    local name=$1 dir=$2
    shift 2
    if ! cmake -S "$ROOT" -B "$dir" "$@"; then
        stage_failed "$name" "cmake configure failed"
        return 1
    fi
    if ! cmake --build "$dir" -j"$JOBS"; then
        stage_failed "$name" "build failed"
        return 1
    fi
}

# run_ctest NAME DIR LOG [ctest args...]: runs ctest, shows its output, adds
# its counts to the totals. ctest_wrap, when set, is a command prefix.
ctest_wrap=()
run_ctest() {
    local name=$1 dir=$2 log=$3
    shift 3
    local rc summary failed total
    (cd "$dir" && ${ctest_wrap[@]+"${ctest_wrap[@]}"} ctest --output-on-failure --no-tests=error \
        -j2 "$@") 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    if [ -z "$summary" ]; then
        stage_failed "$name" "ctest ran no test or printed no summary (exit $rc)"
        return 1
    fi
    failed=$(sed -E 's/^.* ([0-9]+) tests? failed out of ([0-9]+).*$/\1/' <<<"$summary")
    total=$(sed -E 's/^.* ([0-9]+) tests? failed out of ([0-9]+).*$/\2/' <<<"$summary")
    total_passed=$((total_passed + total - failed))
    total_failed=$((total_failed + failed))
    if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
        if [ "$failed" -eq 0 ]; then
            # ctest failed without a failed test (e.g. a test errored out of
            # ctest itself): still a failure.
            total_failed=$((total_failed + 1))
        fi
        failed_stages+=("$name")
        return 1
    fi
}

if [ "$install" = 1 ]; then
    banner "install-deps"
    # --bench: stage d runs the bench's smoke test, which needs the peers.
    if ! bash "$ROOT/scripts/install-deps" --bench; then
        echo "test.sh: install-deps failed" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

# ---------------------------------------------------------------------------
banner "stage f: format (clang-format --dry-run -Werror over the tracked C/C++ files)"
# Tracked files only (git ls-files), so build trees and scratch files do not
# count. A missing clang-format is a failure, not a skip.
if ! command -v clang-format >/dev/null; then
    stage_failed f "clang-format not found (scripts/install-deps installs it)"
elif git -C "$ROOT" ls-files -z '*.c' '*.h' '*.cc' | xargs -0 clang-format --dry-run -Werror; then
    total_passed=$((total_passed + 1))
else
    stage_failed f "files not formatted (clang-format -i FILE fixes one)"
fi

# ---------------------------------------------------------------------------
banner "stage a: build/ (RelWithDebInfo, -Werror): whole suite"
SECONDS=0
if configure_and_build a build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRP_WERROR=ON -DRP_SANITIZE=; then
    run_ctest a build build/ctest-a.log
fi
echo "stage a: ${SECONDS}s"

if [ "$quick" = 0 ]; then
    # -----------------------------------------------------------------------
    banner "stage b: build-asan/ (Debug, ASan+UBSan): whole suite"
    SECONDS=0
    # The Python tests run the sanitized rasterpool as a subprocess; these
    # variables reach it through ctest and python's environment.
    asan="detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1"
    asan+=":check_initialization_order=1:strict_init_order=1:allocator_may_return_null=1"
    ubsan="print_stacktrace=1:halt_on_error=1:report_error_type=1"
    lsan="print_suppressions=0"
    # GDAL, PROJ and libcurl do not leak at exit in what we have seen; if they
    # ever do, tests/lsan.supp names their internal frames (never rasterpool's).
    if [ -f "$ROOT/tests/lsan.supp" ]; then
        lsan+=":suppressions=$ROOT/tests/lsan.supp"
    fi
    if configure_and_build b build-asan -DCMAKE_BUILD_TYPE=Debug -DRP_WERROR=OFF \
        -DRP_SANITIZE=address,undefined; then
        ASAN_OPTIONS="$asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
            UBSAN_OPTIONS="$ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
            LSAN_OPTIONS="$lsan${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
            run_ctest b build-asan build-asan/ctest-b.log
    fi
    echo "stage b: ${SECONDS}s"

    # -----------------------------------------------------------------------
    tsan_cc=${RP_TSAN_CC:-cc}
    banner "stage c: build-tsan/ (TSan, $tsan_cc): the pool, then extract end to end"
    SECONDS=0
    # GDAL, PROJ and SQLite are not instrumented, and TSan reports their
    # internal locking as races; tests/tsan.supp silences those frames only.
    tsan="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/tsan.supp"
    tsan="$tsan${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
    # Some kernels randomise mmap with more bits than older TSan runtimes
    # accept ("FATAL: ThreadSanitizer: unexpected memory mapping"). A probe
    # tells; then the tests run with address randomisation off.
    probe_dir=$(mktemp -d)
    printf 'int main(void) { return 0; }\n' >"$probe_dir/p.c"
    if "$tsan_cc" -fsanitize=thread "$probe_dir/p.c" -o "$probe_dir/p" 2>/dev/null &&
        ! "$probe_dir/p" 2>"$probe_dir/err" &&
        grep -q 'unexpected memory mapping' "$probe_dir/err" && command -v setarch >/dev/null; then
        echo "test.sh: TSan cannot map memory with ASLR on here; tests run under setarch -R"
        ctest_wrap=(setarch "$(uname -m)" -R)
    fi
    rm -rf "$probe_dir"
    if CC="$tsan_cc" configure_and_build c build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DRP_WERROR=OFF -DRP_SANITIZE=thread; then
        TSAN_OPTIONS="$tsan" run_ctest c build-tsan build-tsan/ctest-c-pool.log -L pool
        TSAN_OPTIONS="$tsan" run_ctest c build-tsan build-tsan/ctest-c-cli.log \
            -R '^(cli\.cli_extract|cli\.cli_robustness|cli\.cli_slices|cli\.cli_points_map|cli\.cli_calc|cli\.cli_vrt|cli\.cli_remote|cli\.cli_output_faults|oracle\..*)$'
    fi
    echo "stage c: ${SECONDS}s"

    # -----------------------------------------------------------------------
    banner "stage d: bench/run --quick (small sizes: the bench must not rot)"
    SECONDS=0
    # It builds its own Release tree (build-bench/), runs every scenario with
    # rasterpool, the floor and the peers, and checks that every peer gave
    # rasterpool's values. Targets are reported, not enforced: times on a
    # shared machine are noise. One pass or one failure.
    if "$ROOT/bench/run" --quick 2>&1 | tee "$ROOT/build/bench-quick.log"; then
        total_passed=$((total_passed + 1))
    else
        stage_failed d "bench/run --quick failed (see build/bench-quick.log)"
    fi
    echo "stage d: ${SECONDS}s"

    # -----------------------------------------------------------------------
    banner "stage m: build-mpich/ (MPICH, hydra): the MPI suites (ctest -L mpi)"
    SECONDS=0
    # Open MPI stays the default mpicc/mpirun (stages a-c use it); this build
    # names MPICH's compiler wrapper and launcher. Only the programs the MPI
    # suites run are built.
    if [ ! -x /usr/bin/mpicc.mpich ] || [ ! -x /usr/bin/mpiexec.mpich ]; then
        echo "test.sh: stage m skipped: MPICH not installed (scripts/install-deps installs it)"
    elif cmake -S "$ROOT" -B build-mpich -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRP_WERROR=ON \
        -DRP_SANITIZE= -DMPI_C_COMPILER=/usr/bin/mpicc.mpich \
        -DMPIEXEC_EXECUTABLE=/usr/bin/mpiexec.mpich &&
        cmake --build build-mpich -j"$JOBS" --target rasterpool_cli rasterpool_worker; then
        run_ctest m build-mpich build-mpich/ctest-m.log -L mpi
    else
        stage_failed m "build-mpich: configure or build failed"
    fi
    echo "stage m: ${SECONDS}s"
fi

banner "summary"
if [ "${#failed_stages[@]}" -ne 0 ]; then
    echo "failed stages: $(printf '%s\n' "${failed_stages[@]}" | sort -u | tr '\n' ' ')"
fi
echo "$total_passed passed, $total_failed failed"
[ "${#failed_stages[@]}" -eq 0 ] && [ "$total_failed" -eq 0 ]
