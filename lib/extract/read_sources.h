/*
 * read_sources.h — reading a VRT column from its source files
 * (read_sources.c), once rp_vrt_survey_band has said it can be.
 */
#ifndef RP_READ_SOURCES_H
#define RP_READ_SOURCES_H
#include "extract_internal.h"
#include "vrt_survey.h"

struct rp_pool;

/* Reads column col of the VRT raster from its sources; sv (from
 * rp_vrt_survey_band) holds the first pass and is used for the next ones.
 * Same failure contract as the other readers (extract_internal.h). */
rp_status rp_extract_read_sources(struct rp_pool *pool, const rp_extract_raster *raster,
                                  const rp_plan *plan, rp_value_column *col, rp_vrt_survey *sv,
                                  const rp_extract_options *opts, rp_extract_read_stats *stats,
                                  rp_error *err);

#endif
