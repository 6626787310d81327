/*
 * vrt_survey.h — whether a VRT column can be read from its source files,
 * and its first pass: the source painted on top at each point
 * (vrt_survey.c). Used by the reader (read_sources.c) and by --plan.
 */
#ifndef RP_VRT_SURVEY_H
#define RP_VRT_SURVEY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extract_internal.h"
#include "vrt_plan.h"

typedef struct rp_vrt_survey {
    rp_source_index index;
    uint32_t *top;         /* per point: the source painted on top, or RP_NO_SOURCE */
    size_t sources_top;    /* distinct sources on top of some point */
    size_t sources_any;    /* ... or under a transparent pixel of one */
    size_t files_any;      /* distinct files among sources_any */
    size_t sources_failed; /* that cannot be opened */
} rp_vrt_survey;

/* Whether column col of raster can be read from its sources; when it can,
 * fills the survey (index, top source of each point, counts), which the
 * caller frees with rp_vrt_survey_free. `why` says why not. Runs on the
 * caller's thread and opens sources whose XML lacks their sizes. */
bool rp_vrt_survey_band(const rp_extract_raster *raster, const rp_value_column *col,
                        const rp_plan *plan, rp_vrt_survey *sv, char *why, size_t wsize);
void rp_vrt_survey_free(rp_vrt_survey *sv);

/* The topmost source at VRT cell (col, row) below limit, learning sources'
 * sizes as they come up (which may clip them away). */
uint32_t rp_vrt_lookup_resolving(rp_vrt_survey *sv, rp_vrt_band *vb, int64_t col, int64_t row,
                                 uint32_t limit);

#endif
