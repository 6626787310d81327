/*
 * main.c — the rasterpool program: a git-style command table over the
 * library. Each subcommand lives in cmd_<name>.c and reaches the library
 * only through rasterpool.h; what they share is in cli_common.c. The library
 * is initialised here, once (rp_init).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

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
            rp_init();
            return commands[i].run(argc - 1, (const char *const *)argv + 1);
        }
    }
    fprintf(stderr, "rasterpool: unknown command '%s'\n\n", name);
    usage(stderr);
    return 2;
}
