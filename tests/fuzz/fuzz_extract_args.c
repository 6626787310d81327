/* fuzz_extract_args.c — the extract argument parser on arbitrary argv:
 * NUL-separated words. It must accept or reject without crashing or
 * leaking, and an accepted parse must have at least one raster. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extract_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *argv[66];
    int argc = 0;
    argv[argc++] = "extract";
    char *p = copy;
    while (p < copy + size && argc < 64) {
        argv[argc++] = p;
        p += strlen(p) + 1;
    }
    argv[argc] = NULL;
    rp_error err;
    rp_error_clear(&err);
    rp_extract_options *o = rp_extract_options_new(argc, argv, NULL, &err);
    if (o && o->nrasters < 1)
        abort();
    if (!o && err.code != RP_OK && err.message[0] == '\0')
        abort(); /* every rejection says why */
    rp_extract_options_free(o);
    free(copy);
    return 0;
}
