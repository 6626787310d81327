/*
 * gdal_errors.h — capturing GDAL's error messages on the current thread
 * (gdal_errors.c).
 */
#ifndef RP_GDAL_ERRORS_H
#define RP_GDAL_ERRORS_H
#include "error.h"

/* Captures GDAL errors raised on this thread between push and pop (GDAL's
 * handler stack is thread-local), so that a failure can be reported with
 * GDAL's own text. Nothing is printed while pushed. Not nestable with other
 * handlers of the same thread beyond GDAL's own stack rules. */
typedef struct rp_gdal_capture {
    int count;       /* CE_Failure/CE_Fatal messages seen */
    char first[512]; /* the first of them */
    char last[512];  /* the last of them */
    char http[512];  /* the last network message at any level (GDAL
                        reports 5xx answers it retries as warnings) */
    char text[1100]; /* what rp_gdal_capture_text shows */
} rp_gdal_capture;

void rp_gdal_capture_push(rp_gdal_capture *cap);
void rp_gdal_capture_pop(void);
void rp_gdal_capture_reset(rp_gdal_capture *cap);
/* The best text to show: the last failure message, else ""; when a
 * network message came before it (an HTTP status, a curl error, with the
 * URL), the failure message ends with it in brackets. When several
 * failures came, the first one leads: it is usually the informative one
 * (libtiff's "TIFFFillTile:Read error at row 0, col 0, tile 3; got 6149
 * bytes, expected 12299; TIFFReadEncodedTile() failed."). */
const char *rp_gdal_capture_text(const rp_gdal_capture *cap);

/* Why GDAL could not open path, in words: for a local file that the system
 * cannot open, the system's reason first ("No such file or directory",
 * "Too many open files", "Permission denied"), GDAL's text after it in
 * brackets; else GDAL's text; else "not a raster GDAL can read". buf holds
 * the text (n bytes). */
const char *rp_gdal_open_failure(const char *path, const rp_gdal_capture *cap, char *buf, size_t n);

#endif
