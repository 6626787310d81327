/*
 * worker_path.h — which program rp_batch_run starts as its workers when the
 * caller set none: the installed rasterpool-worker beside this library (so
 * any host process can run a batch: the rasterpool program, Python, an MPI
 * rank), the build tree's worker for uninstalled use, or RASTERPOOL_WORKER.
 */
#ifndef RP_WORKER_PATH_H
#define RP_WORKER_PATH_H
#include <stddef.h>

/* The worker program for the library (or program) file object_path:
 *  - dirname(object_path)/relative when that is an executable file (the
 *    installed layout: lib/librasterpool.so.0 and, relative to lib/,
 *    ../libexec/rasterpool/rasterpool-worker);
 *  - else build_worker when object_path lies under build_dir (the library
 *    or a test program used from the build tree, never an installed copy);
 *  - else the installed path anyway, so that the spawn error names the file
 *    that is missing.
 * Writes the path into buf (size bytes). Returns 0, or -1 when it does not
 * fit. Pure apart from access(2) and realpath(3); any thread. */
int rp_batch_worker_for(const char *object_path, const char *relative, const char *build_dir,
                        const char *build_worker, char *buf, size_t size);

/* The default worker program: $RASTERPOOL_WORKER when set and not empty,
 * else rp_batch_worker_for(the file holding this code, found with dladdr,
 * ...) computed once. The string is the environment's or static: valid for
 * the process's life (until the caller changes RASTERPOOL_WORKER). Any
 * thread. */
const char *rp_batch_default_worker(void);

#endif
