/*
 * output_guard.h — refusing an output that is one of the job's inputs
 * (output_guard.c), for every job: extract (rasters and points), calc
 * (inputs), zonal (rasters and polygons), batch (every task's output
 * against every input).
 */
#ifndef RP_OUTPUT_GUARD_H
#define RP_OUTPUT_GUARD_H
#include <stdbool.h>
#include <stddef.h>

#include "rasterpool.h"

/* True when a and b name the same existing file after resolving links
 * (same device and inode: a symbolic link, a hard link, "./x" and "x" all
 * match). A path that does not exist locally (not yet written, a remote
 * "/vsicurl/" path, a GDAL connection string) matches nothing. */
bool rp_same_file(const char *a, const char *b);

/* RP_OK unless output (NULL or "-": standard output, never an input) is
 * a regular file that is the same file as one of inputs[0..n) (NULL
 * entries skipped); then
 * RP_USAGE: "OUTPUT: is also an input (INPUT); write the output elsewhere".
 * Call it before any work: the job would overwrite what it reads. */
rp_status rp_check_output_not_input(const char *output, const char *const *inputs, size_t n,
                                    rp_error *err);

/* True when path is written directly, never staged and renamed: a path
 * under /dev/ or /proc/ (/dev/stdout, /dev/null, /dev/fd/N), a symbolic
 * link (or chain of them) into those, or an existing file that is neither
 * a regular file nor a folder (a FIFO, a device, a socket). Renaming over
 * such a path would replace the device or the link with a regular file. */
bool rp_output_is_direct(const char *path);

#endif
