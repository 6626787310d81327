/*
 * points_map.h — a CSV points file mapped into memory (mmap) for both
 * passes, instead of copied with pread, and the guard around it.
 */
#ifndef RP_POINTS_MAP_H
#define RP_POINTS_MAP_H
#include "error.h"
#include "points_internal.h"

/* Notes the identity (device, inode, size, modification time) of the
 * regular file pass 1 opened on fd, for rp_points_check_unchanged. */
void rp_points_note_identity(rp_points *pts, int fd);

/* Maps the regular file open on fd for pts (pts->text, pts->text_len) when
 * the program opted in (rp_map_points_files) and the file is regular and
 * not empty, and registers the range for rp_mapped_points_at. Keeps a
 * duplicate of fd. Leaves pts->text NULL (the pread path) when not opted
 * in or when mapping fails. */
void rp_points_map_open(rp_points *pts, int fd);

/* RP_OK while the points file is the one pass 1 opened, unchanged (same
 * device, inode, size and modification time): the mapped file through its
 * mapping's descriptor, a file read with pread by its path (pass 2 opens
 * it again); an RP_READ error naming the file when it changed. RP_OK when
 * no identity was noted (standard input, vector files). `when` says which
 * pass, for the message. */
rp_status rp_points_check_unchanged(const rp_points *pts, const char *when, rp_error *err);

/* The test hook RASTERPOOL_TEST_TRUNCATE_POINTS (README, "Reading the
 * points"): when its value equals `stage`, truncates the points file to
 * half its size, to show the guard at work. Nothing otherwise. */
void rp_points_map_test_hook(const rp_points *pts, const char *stage);

/* Done with the mapped bytes [begin, end): their whole pages leave this
 * process's resident set (MADV_DONTNEED; they stay in the page cache, and a
 * later read maps them again), so resident memory is bounded by the pieces
 * in flight, not the file size. Nothing when the file is not mapped. */
void rp_points_map_release(const rp_points *pts, uint64_t begin, uint64_t end);

/* Unregisters and unmaps; pts->text is NULL after it. */
void rp_points_map_close(rp_points *pts);

#endif
