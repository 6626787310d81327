/*
 * mpi_extract.c — an extract over MPI ranks: each rank takes one contiguous
 * part of the points (the --shard partition, rank r of N: rows
 * [floor(r*n/N), floor((r+1)*n/N)), extract_shard.c), reads the blocks its
 * points touch with its own threads and GDAL handles, and writes its part
 * (CSV, without the header after rank 0's) to a temporary file of its own;
 * rank 0 then writes its part and every other rank's, received in rank
 * order over MPI in 4 MiB chunks, into the one output (staged: it appears
 * only when complete) or standard output. The output is byte for byte the
 * single-process run's. Ranks share no file system: nothing but MPI
 * messages crosses between them.
 *
 * Not farmed (rank 0 runs the job alone, the others wait; a note says so):
 * points on standard input (mpirun gives it to rank 0 only), vector outputs,
 * --plan, and a job already split with --shard.
 *
 * The partition is static, by rows, not by blocks: points in spatial order
 * give each rank its own blocks; points in random order make every rank
 * decode most blocks (docs/cluster.md: sort them, or use one rank with more
 * threads).
 *
 * Threads: MPI on the main thread only (MPI_THREAD_FUNNELED); each rank's
 * extract runs its own pool. Ownership: each rank's part file is its own,
 * removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract_internal.h"
#include "mpi_farm.h"
#include "staged_output.h"
#include "table_write.h"

enum { CHUNK = 4 << 20, TAG_PART = 201, TAG_STATUS = 202 };

static bool farmable(const rp_extract_options *o) {
    bool from_file = o->points_path && strcmp(o->points_path, "-") != 0;
    bool text_out =
        !o->output_path || strcmp(o->output_path, "-") == 0 || rp_table_is_text(o->output_path);
    return from_file && text_out && !o->plan_only && o->shard.count == 0;
}

/* Worse of two job statuses: any failure beats RP_PARTIAL beats RP_OK. */
static rp_status worse(rp_status a, rp_status b) {
    if (a != RP_OK && a != RP_PARTIAL)
        return a;
    if (b != RP_OK && b != RP_PARTIAL)
        return b;
    return a == RP_PARTIAL ? a : b;
}

static int make_part(char *path, size_t cap) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/rasterpool-part-XXXXXX.csv", dir && *dir ? dir : "/tmp");
    return mkstemps(path, 4); /* .csv: the part is written as CSV whatever the output */
}

/* Rank r > 0: its status, then its part file in chunks, then an empty chunk. */
static void send_part(const char *part, rp_status st) {
    int code = st;
    MPI_Send(&code, 1, MPI_INT, 0, TAG_STATUS, MPI_COMM_WORLD);
    if (st != RP_OK && st != RP_PARTIAL)
        return;
    char *buf = malloc(CHUNK);
    int fd = open(part, O_RDONLY | O_CLOEXEC);
    ssize_t got = 0;
    while (buf && fd >= 0 && (got = read(fd, buf, CHUNK)) > 0)
        MPI_Send(buf, (int)got, MPI_CHAR, 0, TAG_PART, MPI_COMM_WORLD);
    /* an empty chunk ends the part; a read error ends it early, and the
     * status sent after it says so */
    MPI_Send(buf, 0, MPI_CHAR, 0, TAG_PART, MPI_COMM_WORLD);
    code = got < 0 || fd < 0 || !buf ? RP_READ : RP_OK;
    MPI_Send(&code, 1, MPI_INT, 0, TAG_STATUS, MPI_COMM_WORLD);
    if (fd >= 0)
        close(fd);
    free(buf);
}

static bool copy_file(FILE *out, const char *path) {
    FILE *in = fopen(path, "rb");
    char buf[65536];
    size_t n;
    bool ok = in != NULL;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in && ferror(in))
        ok = false;
    if (in)
        fclose(in);
    return ok;
}

/* Rank r's part into out (NULL: received and dropped). */
static rp_status receive_part(FILE *out, int r, char *buf, rp_error *err) {
    int code = RP_OK;
    MPI_Recv(&code, 1, MPI_INT, r, TAG_STATUS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (code != RP_OK && code != RP_PARTIAL)
        return rp_error_set(err, (rp_status)code, "MPI rank %d could not extract its part", r);
    int len;
    bool written = true;
    do {
        MPI_Status st;
        MPI_Recv(buf, CHUNK, MPI_CHAR, r, TAG_PART, MPI_COMM_WORLD, &st);
        MPI_Get_count(&st, MPI_CHAR, &len);
        if (out && len > 0 && fwrite(buf, 1, (size_t)len, out) != (size_t)len)
            written = false;
    } while (len > 0);
    int read_ok = RP_OK;
    MPI_Recv(&read_ok, 1, MPI_INT, r, TAG_STATUS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (read_ok != RP_OK)
        return rp_error_set(err, RP_READ, "MPI rank %d could not read back its part", r);
    if (!written)
        return rp_error_set(err, RP_WRITE, "cannot write the output: %s", strerror(errno));
    return (rp_status)code;
}

/* Rank 0: its own part, then every other rank's, into the one output. */
static rp_status gather(const rp_extract_options *o, const char *part, rp_status st,
                        rp_error *err) {
    bool to_stdout = !o->output_path || strcmp(o->output_path, "-") == 0;
    rp_stage *stage = NULL;
    FILE *out = stdout;
    rp_status dest = RP_OK;
    if (!to_stdout && (dest = rp_stage_open(o->output_path, 0, &stage, err)) == RP_OK &&
        !(out = fopen(rp_stage_path(stage), "wb")))
        dest = rp_error_set(err, RP_WRITE, "%s: %s", o->output_path, strerror(errno));
    if (dest != RP_OK)
        out = NULL;
    bool mine = st == RP_OK || st == RP_PARTIAL;
    if (out && mine && !copy_file(out, part))
        dest = rp_error_set(err, RP_WRITE, "cannot write the output: %s", strerror(errno));
    char *buf = malloc(CHUNK);
    if (!buf)
        MPI_Abort(MPI_COMM_WORLD, 3);
    for (int r = 1; r < rp_mpi_size(); r++) {
        rp_error local = {0};
        rp_status got = receive_part(mine && dest == RP_OK ? out : NULL, r, buf, &local);
        if (got == RP_PARTIAL && st == RP_OK)
            rp_error_set(err, got, "some rows or blocks failed on MPI rank %d (see its messages)",
                         r);
        else if (worse(st, got) != st && (st == RP_OK || st == RP_PARTIAL))
            rp_error_set(err, got, "%s", local.message);
        st = worse(st, got);
    }
    free(buf);
    if (out && out != stdout && fclose(out) != 0 && dest == RP_OK)
        dest = rp_error_set(err, RP_WRITE, "%s: %s", o->output_path, strerror(errno));
    if (out == stdout && fflush(stdout) != 0 && dest == RP_OK)
        dest = rp_error_set(err, RP_WRITE, "cannot write to standard output");
    st = worse(st, dest);
    if (stage && (st == RP_OK || st == RP_PARTIAL))
        st = worse(st, rp_stage_commit(stage, err));
    rp_stage_free(stage);
    return st;
}

static rp_status on_rank0_alone(const rp_extract_options *o, rp_extract_report *report,
                                rp_error *err) {
    if (rp_mpi_rank() == 0 && o->log)
        fprintf(o->log,
                "rasterpool: note: this extract runs on MPI rank 0 alone (points on standard "
                "input, a vector output, --plan or --shard); see docs/cluster.md\n");
    return rp_mpi_rank() == 0 ? rp_extract_run(o, report, err) : RP_OK;
}

RP_API rp_status rp_mpi_extract_run(const rp_extract_options *opts, rp_extract_report *report,
                                    rp_error *err) {
    if (rp_mpi_size() <= 1)
        return rp_extract_run(opts, report, err);
    rp_status st;
    if (!farmable(opts)) {
        st = on_rank0_alone(opts, report, err);
    } else {
        char part[4096];
        int fd = make_part(part, sizeof part);
        if (fd < 0) {
            st = rp_error_set(err, RP_WRITE, "cannot make a temporary file in %s: %s",
                              getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", strerror(errno));
        } else {
            close(fd);
            rp_extract_options mine = *opts;
            mine.shard = (rp_shard){rp_mpi_rank(), rp_mpi_size()};
            mine.part_without_header = rp_mpi_rank() > 0;
            mine.output_path = part;
            if (rp_mpi_rank() > 0)
                mine.progress = NULL;
            st = rp_extract_run(&mine, report, err);
        }
        if (rp_mpi_rank() == 0)
            st = gather(opts, part, st, err);
        else
            send_part(part, fd < 0 ? RP_WRITE : st);
        if (fd >= 0)
            unlink(part);
    }
    int code = st;
    MPI_Request req;
    MPI_Ibcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
    rp_mpi_wait(&req);
    if (code != (int)st)
        rp_error_set(err, (rp_status)code, "the extract ended with status %d on rank 0", code);
    return (rp_status)code;
}
