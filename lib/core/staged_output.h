/*
 * staged_output.h — every output of rasterpool appears only when complete:
 * it is written under a temporary name in its destination's folder and put
 * in place by rename (after curl's lib/curl_fopen.c).
 *
 * One name scheme for every job: the destination DIR/NAME is staged in a
 * hidden folder beside it, DIR/.NAME.rp-tmp-PID-XXXXXX (PID: the staging
 * process, XXXXXX: random; NAME's dots written as '_', so that GDAL never
 * reads ".ods" or ".zip" in the folder's name as an archive), made with mkdir, which like
 * open(O_EXCL) fails on a name that exists: no two stages ever share one. The writer writes
 * DIR/.NAME.rp-tmp-PID-XXXXXX/NAME, under the output's own name, so GDAL
 * names layers and sidecars as it would for the destination; everything it
 * makes in the stage's folder is a member of the output: the file itself,
 * sidecars that append to its name (NAME.aux.xml, .msk, .ovr), sidecars that
 * replace its extension (STEM.prj, .hdr, .tfw, .wld; a Shapefile's .shx and
 * .dbf). Commit moves each member into DIR; abort removes the folder.
 *
 * Why a folder and not a temporary file beside the destination: finding the
 * members costs a listing of the stage's folder (a few names), not of DIR,
 * which for a batch holds thousands of outputs and would be listed once per
 * task; and a sidecar whose name GDAL derives from the file's (the
 * extension replaced) needs no name arithmetic to be found.
 *
 * Permissions: files are created with mode 0666 and the kernel applies the
 * umask; nothing here calls umask() (process-wide, a race in a threaded
 * library). The stage's folder is 0700 (the files keep their own modes).
 *
 * Durability: commit fsyncs every member, renames each (the output itself
 * last, so whoever sees the new file sees its sidecars), and fsyncs DIR.
 *
 * Signals: every unfinished stage is listed in stage_registry.c, so that a
 * program ending itself from a signal handler (Ctrl-C, a watchdog) removes
 * them first (rp_remove_staged_outputs, async-signal-safe); a commit's
 * renames are waited for.
 *
 * Leftovers: a process killed outright leaves its stage behind; the names
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
    /* Also create the temporary file itself (empty, with
     * open(O_CREAT|O_EXCL, 0666): mode 0666 & ~umask) for a writer that opens
     * it by path (fopen "wb"). Without it the writer creates the file: most
     * GDAL vector drivers refuse to write over an existing one. */
    RP_STAGE_CREATE = 1,
};

/* Begins staging the output final_path (a file in an existing folder):
 * makes the stage's folder, and the temporary when flags has
 * RP_STAGE_CREATE. On success *stage is a new stage the caller ends with
 * rp_stage_commit or rp_stage_abort and frees with rp_stage_free. Errors:
 * RP_WRITE (the folder cannot be written: errno's text), RP_NOMEM. */
rp_status rp_stage_open(const char *final_path, unsigned flags, rp_stage **stage, rp_error *err);

/* As rp_stage_open, with the caller's 6-character unique part instead of a
 * random one (letters, digits, '-' and '_'): a name already taken is an
 * RP_WRITE error (EEXIST), never shared. For tests and reproducible names. */
rp_status rp_stage_open_as(const char *final_path, const char *unique, unsigned flags,
                           rp_stage **stage, rp_error *err);

/* The temporary path the writer writes: DIR/.NAME.rp-tmp-PID-XXXXXX/NAME.
 * Owned by the stage. */
const char *rp_stage_path(const rp_stage *stage);

/* How many files and folders the writer has made so far (the output and its
 * sidecars). */
size_t rp_stage_count(const rp_stage *stage);

/* Puts the output in place: fsyncs every member, renames each into the
 * destination's folder (an existing file is replaced), removes old sidecars
 * of the destination that the new output does not have (NAME.aux.xml, .msk,
 * .ovr: they would describe the old file), removes the stage's folder (with
 * any stage a writer made inside it), and fsyncs the destination's folder.
 * Errors: RP_WRITE when the writer made no file NAME, or a sync or rename
 * fails; the members not yet moved are left for rp_stage_abort (and
 * rp_stage_free). */
rp_status rp_stage_commit(rp_stage *stage, rp_error *err);

/* As rp_stage_commit, for an output that replaces an old one of several
 * files (a Shapefile's .shp, .shx, .dbf, .prj): old_files[0..nold) are the
 * old output's files (paths in the destination's folder; others and NULL
 * entries are skipped). Before any new member moves in, each old file, and
 * each file a new member's name would replace, is kept in the stage's
 * folder (a hard link: the old names stay readable; moved there where the
 * file system has no hard links). If a move fails, the members moved so far
 * go back out and the old files return: the old output survives whole, not
 * a mix of old and new. On success the old files the new output has no
 * name for are removed. With nold 0 this is rp_stage_commit. */
rp_status rp_stage_commit_replacing(rp_stage *stage, const char *const *old_files, size_t nold,
                                    rp_error *err);

/* Removes the stage's folder and everything in it. Nothing after commit. */
void rp_stage_abort(rp_stage *stage);

/* Aborts the stage unless it was committed, and frees it. NULL is a no-op. */
void rp_stage_free(rp_stage *stage);

/* Removes from folder dir every stage (or leftover temporary of an older
 * scheme) whose name records a process that no longer exists: hidden names
 * holding ".rp-tmp-PID-"; a name that records several pids goes when any of
 * them is gone. Live pids, even unrelated ones, are left alone. Returns how
 * many names went. */
size_t rp_stage_sweep(const char *dir);

/* fsyncs the folder that holds path (after creating a file there that must
 * survive a power loss, such as a journal). RP_WRITE on failure. */
rp_status rp_stage_sync_folder_of(const char *path, rp_error *err);

#endif
