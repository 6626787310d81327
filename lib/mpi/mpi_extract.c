/*
 * mpi_extract.c — an extract over MPI ranks (docs/cluster.md): rank 0 runs
 * the job as a single run does (reads the points, checks the rasters,
 * writes the one output in input order), except that its execute stage is
 * the farm of mpi_extract_farm.c: the points go out in tasks grouped by
 * block, to the ranks that have room for one, and their values come back.
 * Every other rank opens the job's rasters and columns while rank 0 reads
 * the points, then reads the tasks it is given with its own threads and
 * GDAL handles (a part of the job, extract_part.h) and sends back each
 * task's values and statuses. The output is byte for byte the
 * single-process run's: the same code writes it from the same values.
 *
 * Messages (mpi_extract.h): a start broadcast (the points' CRS, or none: the
 * job ended before its pixels, or --plan), tasks and results, a stop per
 * rank, and the job's status broadcast at the end.
 *
 * Threads: MPI on the main thread only (MPI_THREAD_FUNNELED); each rank's
 * pool reads its tasks. Ownership: each rank's buffers are its own.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "mpi_extract.h"
#include "mpi_parts.h"

void rp_mpi_probe(int source, int tag, MPI_Status *st) {
    struct timespec nap = {0, 1000 * 1000}; /* 1 ms */
    int flag = 0;
    while (MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, st) == MPI_SUCCESS && !flag)
        nanosleep(&nap, NULL);
}

char *rp_mpi_extract_start(const char *wkt) {
    int len = wkt ? (int)strlen(wkt) + 1 : 0;
    MPI_Request req;
    MPI_Ibcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
    rp_mpi_wait(&req);
    if (len == 0)
        return NULL;
    char *buf = rp_mpi_rank() == 0 ? NULL : malloc((size_t)len);
    if (rp_mpi_rank() != 0 && !buf)
        MPI_Abort(MPI_COMM_WORLD, 3);
    MPI_Ibcast(rp_mpi_rank() == 0 ? (void *)wkt : buf, len, MPI_CHAR, 0, MPI_COMM_WORLD, &req);
    rp_mpi_wait(&req);
    return buf;
}

/* A rank's results in flight: two, so it reads its next task while one is
 * sent. */
typedef struct outbox {
    MPI_Request req[2];
    unsigned char *buf[2];
    size_t cap[2];
    int turn;
} outbox;

static unsigned char *outbox_take(outbox *o, size_t bytes) {
    int k = o->turn;
    o->turn ^= 1;
    MPI_Wait(&o->req[k], MPI_STATUS_IGNORE);
    if (bytes > o->cap[k]) {
        free(o->buf[k]);
        o->buf[k] = malloc(bytes);
        o->cap[k] = o->buf[k] ? bytes : 0;
        if (!o->buf[k])
            MPI_Abort(MPI_COMM_WORLD, 3); /* no room even for the answer */
    }
    return o->buf[k];
}

static void outbox_send(outbox *o, size_t bytes) {
    int k = o->turn ^ 1;
    MPI_Isend(o->buf[k], (int)bytes, MPI_BYTE, 0, RP_TAG_XRESULT, MPI_COMM_WORLD, &o->req[k]);
}

/* Task `id`'s values, or its error, to rank 0; the part's counts restart. */
static void answer(outbox *o, rp_extract_part *p, int64_t id, size_t k, rp_status rc,
                   const char *why) {
    int nr = rc == RP_OK ? p->view.nrasters : 0;
    size_t head = (size_t)(RP_XRESULT_INSIDE + nr) * sizeof(int64_t);
    size_t bytes = head + (rc == RP_OK ? k * rp_extract_part_point_bytes(p) : strlen(why) + 1);
    unsigned char *buf = outbox_take(o, bytes);
    int64_t h[RP_XRESULT_INSIDE] = {id, rc, 0, 0};
    if (rc == RP_OK) {
        h[RP_XRESULT_READ] = (int64_t)p->stats.blocks_read;
        h[RP_XRESULT_FAILED] = (int64_t)p->stats.blocks_failed;
        p->stats.blocks_read = p->stats.blocks_failed = 0;
    }
    memcpy(buf, h, sizeof h);
    unsigned char *q = buf + sizeof h;
    for (int r = 0; r < nr; r++, q += sizeof(int64_t)) {
        int64_t v = (int64_t)p->inside[r];
        memcpy(q, &v, sizeof v);
        p->inside[r] = 0;
    }
    if (rc != RP_OK)
        memcpy(q, why, strlen(why) + 1);
    for (int c = 0; rc == RP_OK && c < p->view.ncolumns; c++) {
        size_t len = k * (size_t)p->view.columns[c].band.type_size;
        memcpy(q, p->view.columns[c].values, len);
        q += len;
    }
    for (int c = 0; rc == RP_OK && c < p->view.ncolumns; c++, q += k)
        memcpy(q, p->view.columns[c].status, k);
    outbox_send(o, bytes);
}

/* Tasks until the stop: each read and answered. */
static void serve_tasks(rp_extract_part *p, rp_status open_rc, const rp_error *open_err) {
    outbox o = {{MPI_REQUEST_NULL, MPI_REQUEST_NULL}, {NULL, NULL}, {0, 0}, 0};
    double *task = NULL;
    size_t cap = 0;
    for (;;) {
        MPI_Status st;
        rp_mpi_probe(0, MPI_ANY_TAG, &st);
        int bytes = 0;
        MPI_Get_count(&st, MPI_BYTE, &bytes);
        if ((size_t)bytes > cap) {
            free(task);
            task = malloc((size_t)bytes);
            cap = task ? (size_t)bytes : 0;
            if (!task)
                MPI_Abort(MPI_COMM_WORLD, 3);
        }
        MPI_Recv(task, bytes, MPI_BYTE, 0, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (st.MPI_TAG == RP_TAG_XSTOP)
            break;
        int64_t id;
        memcpy(&id, task, sizeof id);
        size_t k = ((size_t)bytes / sizeof(double) - 1) / 2;
        rp_error err;
        rp_error_clear(&err);
        rp_status rc =
            open_rc == RP_OK ? rp_extract_part_run(p, task + 1, task + 1 + k, k, &err) : open_rc;
        answer(&o, p, id, k, rc, open_rc == RP_OK ? err.message : open_err->message);
    }
    /* a real status array, not MPI_STATUSES_IGNORE: MPICH defines that as
     * (MPI_Status *)1, which GCC 12 reports as an overflow (-Werror) */
    MPI_Status done[2];
    MPI_Waitall(2, o.req, done);
    free(o.buf[0]);
    free(o.buf[1]);
    free(task);
}

/* A rank other than 0: its part of the job. */
static void serve(const rp_extract_options *opts) {
    rp_extract_options mine = *opts;
    mine.progress = NULL; /* rank 0's bar is the job's */
    mine.info = NULL;
    rp_extract_part part;
    rp_error err;
    rp_error_clear(&err);
    rp_status rc = rp_extract_part_open(&part, &mine, &err); /* while rank 0 reads the points */
    char *wkt = rp_mpi_extract_start(NULL);
    if (wkt) {
        if (rc == RP_OK)
            rc = rp_extract_part_points_crs(&part, wkt, &err);
        free(wkt);
        serve_tasks(&part, rc, &err);
    }
    rp_extract_part_free(&part);
}

RP_API rp_status rp_mpi_extract_run(const rp_extract_options *opts, rp_extract_report *report,
                                    rp_error *err) {
    if (rp_mpi_size() <= 1)
        return rp_extract_run(opts, report, err);
    rp_status st = RP_OK;
    if (rp_mpi_rank() == 0) {
        rp_extract_options mine = *opts;
        rp_xfarm_start start = {false};
        mine.execute = rp_mpi_extract_farm;
        mine.execute_user = &start;
        st = rp_extract_run(&mine, report, err);
        if (!start.started && !opts->plan_only)
            rp_mpi_extract_start(NULL); /* no farm: the others stop waiting */
    } else if (!opts->plan_only) {
        if (report)
            memset(report, 0, sizeof *report);
        serve(opts);
    }
    return rp_mpi_agree(st, "extract", err);
}
