/*
 * main.c — the rasterpool program: a git-style command table over the
 * library. Each subcommand lives in cmd_<name>.c and reaches the library
 * only through rasterpool.h; what they share is in cli_common.c. The library
 * is initialised here, once (rp_init).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#ifdef RP_HAVE_MPI
#include "rasterpool_mpi.h"
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, const char *const *argv);
    const char *summary;
} command;

static const command commands[] = {
    {"extract", cmd_extract, "values of rasters at points (CSV or any OGR vector)"},
    {"zonal", cmd_zonal, "statistics of a raster over polygons (exact coverage)"},
    {"calc", cmd_calc, "block-wise raster math (expressions or a C kernel) to GeoTIFF/COG"},
    {"batch", cmd_batch, "one job (warp, translate or calc) over many files, crash-isolated"},
};

#ifdef RP_HAVE_MPI
/* Under an MPI launcher (rasterpool_mpi.h): MPI starts before any thread,
 * batch, extract and zonal spread their work over the ranks (cmd_batch.c,
 * cmd_extract.c, cmd_zonal.c), and the other commands run on rank 0 alone
 * while the others wait; every rank exits with rank 0's status. Without a
 * launcher, or with one rank, this is a plain run. */
static int cli_run_mpi(int (*run)(int, const char *const *), const char *name, int argc,
                       char **argv) {
    int ranks = rp_mpi_start(&argc, &argv);
    if (ranks == 0) {
        fprintf(stderr, "rasterpool: %s\n", rp_mpi_start_error());
        return 3;
    }
    rp_init();
    int rc = 0;
    bool farmed =
        strcmp(name, "batch") == 0 || strcmp(name, "extract") == 0 || strcmp(name, "zonal") == 0;
    if (ranks > 1 && !farmed && rp_mpi_rank() == 0)
        fprintf(stderr,
                "rasterpool: note: %s runs on MPI rank 0 alone (%d ranks); "
                "split it with --shard I/N instead (docs/cluster.md)\n",
                name, ranks);
    if (ranks == 1 || farmed || rp_mpi_rank() == 0)
        rc = run(argc - 1, (const char *const *)argv + 1);
    rc = rp_mpi_finish(rc);
    rp_shutdown();
    return rc;
}
#endif

#ifndef RP_HAVE_MPI
/* A build without MPI started by mpirun/srun as several ranks: each rank
 * would run the whole job on its own, into the same outputs. Said once a
 * rank, on stderr; the job still runs as asked. */
static void warn_launcher_without_mpi(void) {
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    if (!size)
        size = getenv("PMI_SIZE");
    if (size && atoi(size) > 1)
        fprintf(stderr,
                "rasterpool: warning: started as one of %s MPI ranks, but this rasterpool was "
                "built without MPI: every rank runs the whole job (see docs/cluster.md)\n",
                size);
}
#endif

static void usage(FILE *out) {
    fprintf(out, "usage: rasterpool <command> [options]\n\n"
                 "rasterpool runs heavy GDAL raster workloads in parallel.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nrasterpool <command> --help shows a command's options.\n"
                 "rasterpool --version shows the versions of rasterpool and GDAL.\n");
}

int main(int argc, char **argv) {
    cli_catch_interrupts(2); /* first, so that no early Ctrl-C is lost */
    cli_map_points();        /* points files mapped; SIGBUS guarded */
    /* a write past ulimit -f fails with EFBIG, named and cleaned up like
     * any failed write, instead of SIGXFSZ killing the process with its
     * staged output left behind (whichever thread made the write) */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        printf("rasterpool %s (GDAL %s)\n", RP_VERSION_STRING, rp_gdal_version());
        return 0;
    }
    if (strcmp(name, "__batch-worker") == 0) /* sets up GDAL itself */
        return cmd_batch_worker(argc - 1, (const char *const *)argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(name, commands[i].name) == 0) {
#ifdef RP_HAVE_MPI
            return cli_run_mpi(commands[i].run, name, argc, argv);
#else
            warn_launcher_without_mpi();
            rp_init();
            int rc = commands[i].run(argc - 1, (const char *const *)argv + 1);
            rp_shutdown(); /* leak checkers then see only real leaks */
            return rc;
#endif
        }
    }
    fprintf(stderr, "rasterpool: unknown command '%s'\n\n", name);
    usage(stderr);
    return 2;
}
