/*
 * mapped_ranges.h — the address ranges of input files a job has mapped,
 * for a SIGBUS handler to name the file (mapped_ranges.c).
 */
#ifndef RP_MAPPED_RANGES_H
#define RP_MAPPED_RANGES_H
#include <stddef.h>

/* What a mapped file is to its job. */
enum { RP_MAPPED_POINTS = 1, RP_MAPPED_RASTER = 2 };

/* A slot for [base, base + len), a file of `kind` named `name` (borrowed:
 * it must outlive the registration), or -1 when all RP_MAPPED_RANGES slots
 * are taken (the caller must then not map: a fault could not be told
 * apart). Any thread. */
int rp_mapped_ranges_add(const void *base, size_t len, const char *name, int kind);
/* Frees slot (from rp_mapped_ranges_add; -1 is a no-op). Any thread. */
void rp_mapped_ranges_remove(int slot);
/* The name of the range holding addr (and its kind in *kind), or NULL
 * (*kind 0). Async-signal-safe. */
const char *rp_mapped_ranges_at(const void *addr, int *kind);

enum { RP_MAPPED_RANGES = 64 };

#endif
