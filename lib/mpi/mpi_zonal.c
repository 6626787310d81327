/*
 * mpi_zonal.c — zonal statistics over MPI ranks: rank r of N takes the
 * r-th of N contiguous, equal runs of the polygons (the --shard partition,
 * zonal_shard.c), reads the blocks they touch with its own threads and
 * GDAL handles, and writes its rows (CSV, without the header after rank
 * 0's) to a temporary file of its own; rank 0 writes every part, in rank
 * order, into the one output (mpi_parts.c). A polygon's statistics depend
 * on that polygon alone, so the output is byte for byte the
 * single-process run's.
 *
 * Run on rank 0 alone (the others wait; a note says so): vector outputs,
 * --plan, a job already split with --shard, and frac / weighted_frac (their
 * columns are the values found in all the polygons).
 *
 * The split is static: ranks with cheap polygons wait for the others at
 * the end. (Another engineer is reworking the zonal job's internals; a
 * dynamic farm of polygon chunks belongs on top of that work.)
 *
 * Threads: MPI on the main thread only (MPI_THREAD_FUNNELED); each rank's
 * zonal job runs its own pool. Ownership: each rank's part file is its
 * own, removed at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "mpi_parts.h"
#include "table_write.h"
#include "zonal_internal.h"

static bool farmable(const rp_zonal_options *o) {
    bool text_out =
        !o->output_path || strcmp(o->output_path, "-") == 0 || rp_table_is_text(o->output_path);
    for (int i = 0; i < o->nstats; i++)
        if (o->stats[i].op == ZOP_FRAC || o->stats[i].op == ZOP_WEIGHTED_FRAC)
            return false;
    return text_out && !o->plan_only && o->shard.count == 0;
}

static rp_status on_rank0_alone(const rp_zonal_options *o, rp_zonal_report *report, rp_error *err) {
    if (rp_mpi_rank() == 0 && o->log)
        fprintf(o->log, "rasterpool: note: this zonal job runs on MPI rank 0 alone (a vector "
                        "output, --plan, --shard or frac); see docs/cluster.md\n");
    return rp_mpi_rank() == 0 ? rp_zonal_run(o, report, err) : RP_OK;
}

/* This rank's part into a temporary file, then to rank 0 (or, on rank 0,
 * every part into the output). */
static rp_status run_part(const rp_zonal_options *o, rp_zonal_report *report, rp_error *err) {
    char part[4096];
    int fd = rp_mpi_part_make(part, sizeof part);
    rp_status st;
    if (fd < 0) {
        st = rp_error_set(err, RP_WRITE, "cannot make a temporary file in %s: %s",
                          getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", strerror(errno));
    } else {
        close(fd);
        rp_zonal_options mine = *o;
        mine.shard = (rp_shard){rp_mpi_rank(), rp_mpi_size()};
        mine.part_without_header = rp_mpi_rank() > 0;
        mine.output_path = part;
        if (rp_mpi_rank() > 0)
            mine.progress = NULL;
        st = rp_zonal_run(&mine, report, err);
    }
    if (rp_mpi_rank() == 0)
        st = rp_mpi_part_gather(o->output_path, part, st, "zonal job", err);
    else
        rp_mpi_part_send(part, st);
    if (fd >= 0)
        unlink(part);
    return st;
}

RP_API rp_status rp_mpi_zonal_run(const rp_zonal_options *o, rp_zonal_report *report,
                                  rp_error *err) {
    if (rp_mpi_size() <= 1)
        return rp_zonal_run(o, report, err);
    if (report)
        memset(report, 0, sizeof *report);
    rp_status st = farmable(o) ? run_part(o, report, err) : on_rank0_alone(o, report, err);
    return rp_mpi_agree(st, "zonal job", err);
}
