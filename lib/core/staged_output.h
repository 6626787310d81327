/*
 * staged_output.h — every output of rasterpool appears only when complete:
 * it is written under a temporary name in its destination's folder and put
 * in place by rename (after curl's lib/curl_fopen.c).
 *
 * One name scheme for every job: the destination DIR/STEM.EXT is staged as
 * DIR/.STEM.rp-tmp-PID-XXXXXX.EXT (PID: the staging process, XXXXXX: random).
 * The stem DIR/.STEM.rp-tmp-PID-XXXXXX is first created with
 * open(O_CREAT|O_EXCL, 0666) as the stage's reservation, so no two stages
 * ever share it; everything a writer makes under it is a member of the stage:
 * the temporary itself (TEMPSTEM.EXT), sidecars that append to its name
 * (TEMPSTEM.EXT.aux.xml, .msk, .ovr), sidecars that replace its extension
 * (TEMPSTEM.prj, .hdr, .tfw, .wld; a Shapefile's .shx and .dbf), and the
 * staged temporaries of a writer that stages its own output at our temporary
 * name (.TEMPSTEM.rp-tmp-...: calc run by a batch worker). Commit moves each
 * member to the destination's stem (TEMPSTEM.prj -> DIR/STEM.prj); abort
 * removes them all. A destination without an extension is staged as
 * DIR/.STEM.rp-tmp-PID-XXXXXX, the reservation itself.
 *
 * Permissions: files are created with mode 0666 and the kernel applies the
 * umask; nothing here calls umask() (process-wide, a race in a threaded
 * library).
 *
 * Durability: commit fsyncs every member, renames each (the temporary itself
 * last, so whoever sees the new file sees its sidecars), and fsyncs the
 * folder.
 *
 * Leftovers: a process killed outright leaves its members behind; the names
 * carry its pid, and rp_stage_sweep removes those of processes that no longer
 * exist. Every job sweeps a folder before it writes there. The pid is one of
 * this machine's (pid namespace's): a folder that processes on other
 * machines or in other pid namespaces write into at the same time (NFS, a
 * cluster's shared disk) can lose their in-flight temporaries to a sweep.
 *
 * Threads: an rp_stage belongs to one thread at a time; different stages,
 * and sweeps, may run at once (they touch only names they own, or names of
 * dead processes).
 */
#ifndef RP_STAGED_OUTPUT_H
#define RP_STAGED_OUTPUT_H
#include <stddef.h>

#include "rasterpool.h"

typedef struct rp_stage rp_stage;

enum {
    /* Also create the temporary file itself (empty, mode 0666 & ~umask) for a
     * writer that opens it by path (fopen "wb"). Without it the writer creates
     * the file: most GDAL vector drivers refuse to write over an existing
     * one. */
    RP_STAGE_CREATE = 1,
};

/* Begins staging the output final_path (a file in an existing folder):
 * creates the reservation, and the temporary when flags has
 * RP_STAGE_CREATE. On success *stage is a new stage the caller ends with
 * rp_stage_commit or rp_stage_abort and frees with rp_stage_free. Errors:
 * RP_WRITE (the folder cannot be written: errno's text), RP_NOMEM. */
rp_status rp_stage_open(const char *final_path, unsigned flags, rp_stage **stage, rp_error *err);

/* As rp_stage_open, with the caller's 6-character unique part instead of a
 * random one (letters, digits, '-' and '_'): a name already taken is an
 * RP_WRITE error (EEXIST), never shared. For tests and reproducible names. */
rp_status rp_stage_open_as(const char *final_path, const char *unique, unsigned flags,
                           rp_stage **stage, rp_error *err);

/* The temporary path the writer writes: DIR/.STEM.rp-tmp-PID-XXXXXX.EXT.
 * Owned by the stage. */
const char *rp_stage_path(const rp_stage *stage);

/* How many files and folders the writer has made so far under the stage's
 * name (the temporary and its sidecars; not the reservation). */
size_t rp_stage_count(const rp_stage *stage);

/* Puts the output in place: fsyncs every member, renames each to its final
 * name (an existing file is replaced), removes old sidecars of the
 * destination that the new output does not have (DEST.aux.xml, .msk, .ovr:
 * they would describe the old file), removes the reservation, and fsyncs the
 * folder. Errors: RP_WRITE when the writer made no temporary, or a sync or
 * rename fails; the members not yet moved are left for rp_stage_abort (and
 * rp_stage_free). */
rp_status rp_stage_commit(rp_stage *stage, rp_error *err);

/* Removes every member of the stage, the reservation included (folders made
 * by a writer with everything in them). Nothing after commit. */
void rp_stage_abort(rp_stage *stage);

/* Aborts the stage unless it was committed, and frees it. NULL is a no-op. */
void rp_stage_free(rp_stage *stage);

/* Removes from folder dir every staged member whose name records a process
 * that no longer exists (hidden names holding ".rp-tmp-PID-"; a name that
 * records several pids, a stage inside a stage, goes when any of them is
 * gone). Live pids, even unrelated ones, are left alone. Returns how many
 * names went. */
size_t rp_stage_sweep(const char *dir);

/* fsyncs the folder that holds path (after creating a file there that must
 * survive a power loss, such as a journal). RP_WRITE on failure. */
rp_status rp_stage_sync_folder_of(const char *path, rp_error *err);

#endif
