/* test_error.c — the status table (its values are ABI: pinned here), and
 * the first-error-wins rule. */
#include "check.h"
#include "error.h"

int main(void) {
    /* append-only values: a change here breaks every compiled caller */
    CHECK_EQ_INT(RP_OK, 0);
    CHECK_EQ_INT(RP_PARTIAL, 1);
    CHECK_EQ_INT(RP_USAGE, 2);
    CHECK_EQ_INT(RP_OPEN, 3);
    CHECK_EQ_INT(RP_READ, 4);
    CHECK_EQ_INT(RP_WRITE, 5);
    CHECK_EQ_INT(RP_CRS, 6);
    CHECK_EQ_INT(RP_NOMEM, 7);
    CHECK_EQ_INT(RP_INTERNAL, 8);
    CHECK_EQ_INT(RP_INTERRUPTED, 9);
    CHECK_EQ_INT(RP_PROGRESS_CONTINUE, 0);
    CHECK_EQ_INT(RP_PROGRESS_DRAIN, 1);
    CHECK_EQ_INT(RP_PROGRESS_ABORT, 2);
    CHECK_EQ_STR(rp_status_name(RP_INTERRUPTED), "INTERRUPTED");
    CHECK_EQ_STR(rp_status_name((rp_status)42), "UNKNOWN");
    CHECK_EQ_INT(rp_status_exit_code(RP_WRITE), 3);
    CHECK_EQ_STR(rp_status_name(RP_OPEN), "OPEN");
    CHECK_EQ_INT(rp_status_exit_code(RP_OK), 0);
    CHECK_EQ_INT(rp_status_exit_code(RP_PARTIAL), 1);
    CHECK_EQ_INT(rp_status_exit_code(RP_USAGE), 2);
    CHECK_EQ_INT(rp_status_exit_code(RP_OPEN), 3);
    CHECK_EQ_INT(rp_status_exit_code(RP_INTERRUPTED), 130);
    CHECK_EQ_STR(rp_status_text(RP_USAGE), "usage error");
    rp_error err;
    rp_error_clear(&err);
    CHECK_EQ_INT(err.code, RP_OK);
    CHECK_EQ_INT(rp_error_set(&err, RP_OPEN, "a %d", 1), RP_OPEN);
    CHECK_EQ_INT(rp_error_set(&err, RP_READ, "b"), RP_READ);
    CHECK_EQ_INT(err.code, RP_OPEN); /* the first failure stays */
    CHECK_EQ_STR(err.message, "a 1");
    CHECK_EQ_INT(rp_error_set(NULL, RP_READ, "ignored"), RP_READ);
    CHECK_EQ_STR(rp_point_status_name(RP_POINT_OUTSIDE), "outside");
    CHECK_EQ_STR(rp_point_status_name(RP_POINT_NODATA), "nodata");
    return CHECK_DONE();
}
