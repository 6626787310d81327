/* fuzz_batch_args.c — the batch argument parser (ours, then GDAL's gdalwarp
 * / gdal_translate parsers for the words after "--") on arbitrary argv:
 * NUL-separated words, the first picks the kind. It must accept or reject
 * without crashing or leaking; an accepted parse has an output folder and
 * an input; every rejection says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>

#include "batch_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int registered;
    if (!registered) {
        GDALAllRegister();
        registered = 1;
    }
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *argv[66];
    int argc = 0;
    argv[argc++] = "batch";
    char *p = copy;
    while (p < copy + size && argc < 64) {
        argv[argc++] = p;
        p += strlen(p) + 1;
    }
    argv[argc] = NULL;
    rp_error err;
    rp_error_clear(&err);
    rp_batch_options *o = rp_batch_options_new(argc, argv, NULL, &err);
    if (o && (!o->out_dir || (o->ninputs < 1 && !o->inputs_file) || !o->kind || !o->tool_args))
        abort();
    if (!o && err.code != RP_OK && err.message[0] == '\0')
        abort();
    rp_batch_options_free(o);
    free(copy);
    return 0;
}
