/*
 * stage_registry.h — the stage folders of this process that are not yet
 * finished (stage_registry.c), so that a program's signal handler can
 * remove them before it ends the process at once (rp_remove_staged_outputs
 * in rasterpool.h): a job that cannot stop within its grace (a write
 * blocked on a FIFO, a kernel that never returns, a close that waits on a
 * slow disk) still leaves no temporaries, and the old output stays.
 *
 * staged_output.c is the only user: rp_stage_open adds the stage's folder,
 * rp_stage_free removes it, and a commit brackets its renames with
 * begin_move/end_move so that a cleanup never removes a stage while its
 * members are moving into place (for a multi-file output the old files are
 * kept in the stage's folder meanwhile).
 */
#ifndef RP_STAGE_REGISTRY_H
#define RP_STAGE_REGISTRY_H
#include <stdbool.h>

/* Records the stage folder stage_dir (copied). Returns its slot (>= 0), or
 * -1 when out of memory or when all slots are taken (RP_STAGE_SLOTS: the
 * stage is then not removed by a signal-time cleanup; the next job writing
 * to that folder sweeps it). */
int rp_stage_registry_add(const char *stage_dir);

/* Forgets slot (-1: nothing). Call it once the stage is committed or its
 * folder removed. */
void rp_stage_registry_remove(int slot);

/* Before a commit moves members into place: false when a signal-time
 * cleanup has begun (then do not move anything: abort the stage). */
bool rp_stage_registry_begin_move(int slot);

/* After the moves (done or put back). */
void rp_stage_registry_end_move(int slot);

#endif
