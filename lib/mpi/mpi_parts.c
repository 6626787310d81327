/*
 * mpi_parts.c — the parts of a statically split job (mpi_parts.h): each
 * rank's part is a CSV file in its own temporary folder (no shared file
 * system needed), sent to rank 0 over MPI in 4 MiB chunks after its
 * status; rank 0 writes its part and then each other rank's, in rank
 * order, into the one output, staged (it appears only when complete) or
 * on standard output.
 *
 * Threads: the main thread only (MPI_THREAD_FUNNELED). Ownership: the part
 * files are the callers'.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "mpi_parts.h"
#include "staged_output.h"

enum { CHUNK = 4 << 20, TAG_PART = 201, TAG_STATUS = 202 };

/* Worse of two job statuses: any failure beats RP_PARTIAL beats RP_OK. */
static rp_status worse(rp_status a, rp_status b) {
    if (a != RP_OK && a != RP_PARTIAL)
        return a;
    if (b != RP_OK && b != RP_PARTIAL)
        return b;
    return a == RP_PARTIAL ? a : b;
}

int rp_mpi_part_make(char *path, size_t cap) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/rasterpool-part-XXXXXX.csv", dir && *dir ? dir : "/tmp");
    return mkstemps(path, 4); /* .csv: the part is written as CSV */
}

void rp_mpi_part_send(const char *part, rp_status st) {
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
static rp_status receive_part(FILE *out, int r, char *buf, const char *what, rp_error *err) {
    int code = RP_OK;
    MPI_Recv(&code, 1, MPI_INT, r, TAG_STATUS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (code != RP_OK && code != RP_PARTIAL)
        return rp_error_set(err, (rp_status)code, "MPI rank %d could not run its part of the %s", r,
                            what);
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

/* The destination: a staged file, or standard output. */
static FILE *open_output(const char *path, rp_stage **stage, rp_status *dest, rp_error *err) {
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    FILE *out = NULL;
    if ((*dest = rp_stage_open(path, 0, stage, err)) == RP_OK &&
        !(out = fopen(rp_stage_path(*stage), "wb")))
        *dest = rp_error_set(err, RP_WRITE, "%s: %s", path, strerror(errno));
    return out;
}

rp_status rp_mpi_part_gather(const char *output_path, const char *part, rp_status st,
                             const char *what, rp_error *err) {
    rp_stage *stage = NULL;
    rp_status dest = RP_OK;
    FILE *out = open_output(output_path, &stage, &dest, err);
    bool mine = st == RP_OK || st == RP_PARTIAL;
    if (out && mine && !copy_file(out, part))
        dest = rp_error_set(err, RP_WRITE, "cannot write the output: %s", strerror(errno));
    char *buf = malloc(CHUNK);
    if (!buf)
        MPI_Abort(MPI_COMM_WORLD, 3);
    for (int r = 1; r < rp_mpi_size(); r++) {
        rp_error local = {0};
        rp_status got = receive_part(mine && dest == RP_OK ? out : NULL, r, buf, what, &local);
        if (got == RP_PARTIAL && st == RP_OK)
            rp_error_set(err, got, "some items failed on MPI rank %d (see its messages)", r);
        else if (worse(st, got) != st && (st == RP_OK || st == RP_PARTIAL))
            rp_error_set(err, got, "%s", local.message);
        st = worse(st, got);
    }
    free(buf);
    if (out && out != stdout && fclose(out) != 0 && dest == RP_OK)
        dest = rp_error_set(err, RP_WRITE, "%s: %s", output_path, strerror(errno));
    if (out == stdout && fflush(stdout) != 0 && dest == RP_OK)
        dest = rp_error_set(err, RP_WRITE, "cannot write to standard output");
    st = worse(st, dest);
    if (stage && (st == RP_OK || st == RP_PARTIAL))
        st = worse(st, rp_stage_commit(stage, err));
    rp_stage_free(stage);
    return st;
}

rp_status rp_mpi_agree(rp_status st, const char *what, rp_error *err) {
    int code = st;
    MPI_Request req;
    MPI_Ibcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
    rp_mpi_wait(&req);
    if (code != (int)st)
        rp_error_set(err, (rp_status)code, "the %s ended with status %d on rank 0", what, code);
    return (rp_status)code;
}
