/*
 * table_csv_slices.c — pass 2 of a CSV input written as CSV: slices of rows
 * formatted in parallel by the pool's workers and written in order by
 * them, through one direct_out.c stream (O_DIRECT where it can be).
 * table_csv.c formats the rows (table_csv_rows.h) and calls this.
 *
 * Threads: the pool's workers; locking and ownership below.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "direct_out.h"
#include "error.h"
#include "fileio.h"
#include "points_map.h"
#include "pool.h"
#include "table_csv_put.h"
#include "table_csv_rows.h"
#include "table_csv_scan.h"
#include "table_rows.h"

/* ---------------------------------------------------------------------------
 * CSV input: slices formatted in parallel, written in order.
 *
 * Pass 1 noted where every slice of rows starts. One pool job runs a task a
 * slice, in slice order: the task takes its slice's bytes in place when the
 * file is mapped (points_map.c; checked unchanged before and after), else
 * reads them with pread (the file, or the spool of standard input), splits them with a memory CSV
 * reader and formats the rows into a slot of a ring of 2 x threads slots
 * (slice s in slot s % ring). Then whichever task finds no writer at work
 * becomes the writer: it writes every formatted slice that is next in
 * order (with the warnings about its long rows), then frees their slots
 * and goes back to formatting. So the one ordered stream of writes runs
 * beside the formatting instead of after it, and no thread waits for a
 * writer. A task whose slot still holds an unwritten slice (ring - 1
 * slices ahead of the writer) waits for it: memory is bounded by the ring,
 * whatever the number of points. Output bytes do not depend on the thread
 * count.
 *
 * Locking: `lock` guards next_write, the slots' ready flags, writing and
 * failed; a slot's buffers belong to its slice's task until ready, then to
 * the writer until written. At one thread the pool runs the tasks inline:
 * each slice is formatted and written at once.
 */

typedef struct slice_out {
    const char *text; /* the slice's bytes: in the mapped file, or in */
    char *in;         /* a copy of them, read with pread */
    size_t in_cap;
    rp_row_buffer out; /* its formatted rows */
    bool ready;        /* formatted, not yet written */
    size_t long_rows;  /* rows longer than the header */
    uint64_t long_line[RP_CSV_MAX_ROW_WARNINGS];
    size_t long_fields[RP_CSV_MAX_ROW_WARNINGS];
} slice_out;

typedef struct slice_job {
    const rp_table_spec *spec;
    rp_direct_out out; /* the output stream (direct_out.c), the writer's */
    const char *text;  /* the mapped file, or NULL: read fd */
    int fd;            /* read with pread only: shared by the workers */
    uint64_t text_end; /* where the last slice ends */
    bool inline_pool;  /* one thread: tasks run on the caller's thread */
    bool pool_running; /* false: the caller's thread writes (header, last bytes) */
    size_t ring;
    slice_out *outs; /* the ring of slots */
    pthread_mutex_t lock;
    pthread_cond_t written;  /* next_write moved on, or failed */
    size_t next_write;       /* the first slice not yet written */
    bool writing;            /* a task holds the writer's role */
    bool failed;             /* a task failed: the others stop */
    size_t long_rows;        /* the writer's count, in row order */
    atomic_bool interrupted; /* the caller's progress asked to stop */
} slice_job;

static rp_status read_slice(const slice_job *job, slice_out *o, uint64_t begin, size_t len,
                            rp_error *err) {
    if (job->text) {
        o->text = job->text + begin;
        return RP_OK;
    }
    if (len > o->in_cap) {
        char *grown = realloc(o->in, len);
        if (!grown)
            return rp_error_set(err, RP_NOMEM, "out of memory");
        o->in = grown;
        o->in_cap = len;
    }
    o->text = o->in;
    int got = rp_pread_full(job->fd, o->in, len, (off_t)begin);
    if (got > 0)
        return rp_table_points_changed(job->spec, err);
    if (got < 0)
        return rp_error_set(err, RP_READ, "%s: cannot read the points again: %s",
                            job->spec->points->display_name, strerror(errno));
    return RP_OK;
}

/* A row longer than the header, noted for the writer's warnings. */
static void note_long_row(slice_out *o, uint64_t line, size_t nfields) {
    if (o->long_rows < RP_CSV_MAX_ROW_WARNINGS) {
        o->long_line[o->long_rows] = line;
        o->long_fields[o->long_rows] = nfields;
    }
    o->long_rows++;
}

/* Formats the rows of slice s (its text in o->text[0..len), which holds a
 * quote: format_plain_rows takes the others) into o->out, read by the CSV
 * reader. */
static rp_status format_rows(const slice_job *job, slice_out *o, size_t s, size_t len,
                             rp_error *err) {
    const rp_table_spec *spec = job->spec;
    const rp_points *pts = spec->points;
    rp_csv_reader *reader = rp_csv_reader_new_mem(o->text, len, pts->delimiter, pts->slices[s].line,
                                                  pts->slices[s].offset);
    if (!reader)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    size_t row = pts->slices[s].first_row;
    size_t last = s + 1 < pts->nslices ? pts->slices[s + 1].first_row : pts->n;
    rp_csv_record rec;
    int got;
    while ((got = rp_csv_read(reader, &rec)) == 1 && row < last) {
        if (!rp_points_row_written(pts, row)) {
            row++;
            continue;
        }
        rp_csv_put_row(&o->out, spec, &rec, row++, pts->delimiter);
        if (rec.nfields > pts->header_fields)
            note_long_row(o, rec.line, rec.nfields);
    }
    rp_csv_reader_free(reader);
    if (got != 0 || row != last)
        return rp_table_points_changed(spec, err);
    return o->out.failed ? rp_error_set(err, RP_NOMEM, "out of memory writing the output") : RP_OK;
}

/* format_rows for a slice with no quote: the lines as rp_csv_lines_next
 * splits them (each ends at '\n', a '\r' before it is dropped, blank
 * lines are skipped), each found and its fields counted in one scan
 * (table_csv_scan.h). */
static rp_status format_plain_rows(const slice_job *job, slice_out *o, size_t s, size_t len,
                                   rp_error *err) {
    const rp_table_spec *spec = job->spec;
    const rp_points *pts = spec->points;
    const char *text = o->text;
    char d = pts->delimiter;
    uint64_t line = pts->slices[s].line;
    size_t row = pts->slices[s].first_row;
    size_t last = s + 1 < pts->nslices ? pts->slices[s + 1].first_row : pts->n;
    for (size_t pos = 0; pos < len; line++) {
        size_t ndelims, n = rp_scan_line(text + pos, len - pos, d, &ndelims);
        const char *raw = text + pos;
        size_t raw_len = n > 0 && raw[n - 1] == '\r' ? n - 1 : n;
        pos += n < len - pos ? n + 1 : n;
        if (raw_len == 0) /* blank */
            continue;
        if (row == last) /* more rows than pass 1 saw */
            return rp_table_points_changed(spec, err);
        if (rp_points_row_written(pts, row)) {
            if (spec->with_status)
                rp_csv_put_line(&o->out, spec, raw, raw_len, ndelims + 1, false, row, d);
            else
                rp_csv_put_plain_line(&o->out, spec, raw, raw_len, ndelims + 1, row, d);
            if (ndelims + 1 > pts->header_fields)
                note_long_row(o, line, ndelims + 1);
        }
        row++;
    }
    if (row != last)
        return rp_table_points_changed(spec, err);
    return o->out.failed ? rp_error_set(err, RP_NOMEM, "out of memory writing the output") : RP_OK;
}

/* Formats slice s into slot o. */
static rp_status format_slice(const slice_job *job, slice_out *o, size_t s, rp_error *err) {
    const rp_table_spec *spec = job->spec;
    const rp_points *pts = spec->points;
    size_t first_row = pts->slices[s].first_row;
    size_t end_row = s + 1 < pts->nslices ? pts->slices[s + 1].first_row : pts->n;
    o->out.len = 0;
    o->long_rows = 0;
    if (pts->write_range && (end_row <= pts->write_lo || first_row >= pts->write_hi))
        return RP_OK; /* no row of this slice is written (a part of a sharded job) */
    uint64_t begin = pts->slices[s].offset;
    uint64_t end = s + 1 < pts->nslices ? pts->slices[s + 1].offset : job->text_end;
    if (end < begin)
        return rp_table_points_changed(spec, err);
    rp_status rc = read_slice(job, o, begin, (size_t)(end - begin), err);
    size_t len = (size_t)(end - begin);
    if (rc == RP_OK) {
        /* pass 1 read most slices' lines as plain ones already (the
         * delimiter is ',', ';' or a tab, never a quote); trusted only for
         * a mapped file, whose size and time are checked around pass 2:
         * one read again with pread may have changed since (then a quote
         * found here makes the row count differ, and the change is told) */
        bool plain = (job->text && pts->slices[s].quote_free) || !memchr(o->text, '"', len);
        rc = plain ? format_plain_rows(job, o, s, len, err) : format_rows(job, o, s, len, err);
    }
    rp_points_map_release(pts, begin, end); /* its rows are copied out */
    return rc;
}

/* The writer's role: interrupted at the caller's word; on the caller's
 * thread (one thread) it asks the caller itself, as the row writer does. */
static int keep_writing_slices(void *vjob) {
    slice_job *job = vjob;
    if (job->inline_pool || !job->pool_running) /* the header, the last bytes */
        return rp_csv_keep_writing((void *)job->spec);
    return !atomic_load(&job->interrupted);
}

/* Writes one formatted slice, with its warnings. Called by the writer only. */
static rp_status write_slice(slice_job *job, slice_out *o, size_t s, rp_error *err) {
    const rp_table_spec *spec = job->spec;
    const rp_points *pts = spec->points;
    for (size_t w = 0; w < o->long_rows && w < RP_CSV_MAX_ROW_WARNINGS; w++)
        rp_csv_warn_long_row(spec, o->long_line[w], o->long_fields[w], &job->long_rows);
    if (o->long_rows > RP_CSV_MAX_ROW_WARNINGS)
        job->long_rows += o->long_rows - RP_CSV_MAX_ROW_WARNINGS;
    if (!job->inline_pool && atomic_load(&job->interrupted))
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    int put = rp_direct_out_write(&job->out, o->out.data, o->out.len);
    if (put > 0)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    if (put < 0)
        return rp_csv_write_error(
            spec, s + 1 < pts->nslices ? pts->slices[s + 1].first_row : pts->n, err);
    return RP_OK;
}

/* Called with the lock held, after slice s was formatted: unless a writer
 * is at work, write every slice that is ready and next in order. */
static rp_status write_ready(slice_job *job, rp_error *err) {
    rp_status rc = RP_OK;
    if (job->writing)
        return RP_OK; /* the writer at work will take it */
    job->writing = true;
    while (!job->failed && job->next_write < job->spec->points->nslices &&
           job->outs[job->next_write % job->ring].ready) {
        size_t s = job->next_write;
        slice_out *o = &job->outs[s % job->ring];
        pthread_mutex_unlock(&job->lock);
        rc = write_slice(job, o, s, err);
        pthread_mutex_lock(&job->lock);
        o->ready = false;
        job->next_write++;
        pthread_cond_broadcast(&job->written);
        if (rc != RP_OK) {
            job->failed = true;
            break;
        }
    }
    job->writing = false;
    return rc;
}

/* Task s: wait for its slot, format slice s into it, then write what is
 * ready in order. */
static rp_status slice_task(void *vjob, void *state, size_t s, rp_error *err) {
    (void)state;
    slice_job *job = vjob;
    slice_out *o = &job->outs[s % job->ring];
    pthread_mutex_lock(&job->lock);
    while (!job->failed && s >= job->next_write + job->ring)
        pthread_cond_wait(&job->written, &job->lock);
    bool give_up = job->failed;
    pthread_mutex_unlock(&job->lock);
    if (give_up)
        return RP_OK; /* the job's error is the failed task's */
    rp_status rc = format_slice(job, o, s, err);
    pthread_mutex_lock(&job->lock);
    if (rc == RP_OK) {
        o->ready = true;
        rc = write_ready(job, err);
    } else {
        job->failed = true;
        pthread_cond_broadcast(&job->written);
    }
    pthread_mutex_unlock(&job->lock);
    return rc;
}

/* The caller's progress, noted for the writer (which runs on a worker). */
static int slices_progress(double fraction, const char *message, void *vjob) {
    slice_job *job = vjob;
    int stop = job->spec->progress(fraction, message, job->spec->progress_user);
    if (stop)
        atomic_store(&job->interrupted, true);
    return stop;
}

rp_status rp_csv_write_slices(FILE *out, const rp_table_spec *spec, const rp_row_buffer *head,
                              int fd, uint64_t text_end, bool staged, rp_error *err) {
    const rp_points *pts = spec->points;
    rp_status rc = rp_points_check_unchanged(pts, "before writing the output", err);
    if (rc != RP_OK)
        return rc;
    rp_points_map_test_hook(pts, "pass2");
    int threads = rp_pool_threads(spec->pool);
    slice_job job = {.spec = spec,
                     .text = pts->text,
                     .fd = fd,
                     .text_end = text_end,
                     .inline_pool = threads <= 1,
                     .ring = 2 * (size_t)(threads > 0 ? threads : 1)};
    job.outs = calloc(job.ring, sizeof *job.outs);
    if (!job.outs)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    atomic_init(&job.interrupted, false);
    /* only the program's own staged file is written direct: standard output
     * is shared with whoever started us, and an output written in place
     * must end on a whole row however the job ends (rp_direct_out_end
     * drops the unwritten chunk) */
    rp_direct_out_begin(&job.out, out, staged && out != stdout, keep_writing_slices, &job);
    int put = rp_direct_out_write(&job.out, head->data, head->len);
    if (put != 0)
        rc = put > 0 ? rp_error_set(err, RP_INTERRUPTED, "interrupted")
                     : rp_csv_write_error(spec, 0, err);
    pthread_mutex_init(&job.lock, NULL);
    pthread_cond_init(&job.written, NULL);
    rp_pool_job pj = {.ntasks = pts->nslices,
                      .ctx = &job,
                      .run = slice_task,
                      .progress = spec->progress ? slices_progress : NULL,
                      .progress_user = &job,
                      .progress_message = "writing"};
    job.pool_running = true; /* set and cleared while no worker runs */
    if (rc == RP_OK)
        rc = rp_pool_run(spec->pool, &pj, err);
    job.pool_running = false;
    put = rp_direct_out_end(&job.out, rc == RP_OK);
    if (rc == RP_OK && put != 0)
        rc = put > 0 ? rp_error_set(err, RP_INTERRUPTED, "interrupted")
                     : rp_csv_write_error(spec, pts->n, err);
    if (rc == RP_OK)
        rc = rp_points_check_unchanged(pts, "after writing the output", err);
    if (rc == RP_OK && job.next_write != pts->nslices) /* cannot happen: every task ran */
        rc = rp_error_set(err, RP_INTERNAL, "%zu of %zu output slices written", job.next_write,
                          pts->nslices);
    rp_csv_total_long_rows(spec, job.long_rows);
    pthread_cond_destroy(&job.written);
    pthread_mutex_destroy(&job.lock);
    for (size_t k = 0; k < job.ring; k++) {
        free(job.outs[k].in);
        free(job.outs[k].out.data);
    }
    free(job.outs);
    return rc;
}
