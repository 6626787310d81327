/* fuzz_zonal_stat.c — the zonal operation parser (-s "name=op(k=v,...)")
 * on arbitrary text. It must accept or reject without crashing or leaking;
 * every rejection says why; an accepted parse has a known operation, a
 * column name, and arguments in range (q in [0, 1] exactly for quantile,
 * min_coverage_frac in [0, 1], a finite default_value). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zonal_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    rp_error err;
    rp_error_clear(&err);
    zonal_stat s;
    rp_status rc = zonal_stat_parse(text, &s, &err);
    if (rc == RP_OK) {
        if ((int)s.op < 0 || s.op >= ZOP_N_OPS || !s.name || !s.name[0])
            abort();
        if ((s.op == ZOP_QUANTILE) != (s.q >= 0 && s.q <= 1))
            abort();
        if (!(s.min_cov >= 0 && s.min_cov <= 1) || (s.has_default && !isfinite(s.default_val)))
            abort();
        if (strcmp(zonal_op_name(s.op), "") == 0)
            abort();
        free(s.name);
    } else if (err.message[0] == '\0') {
        abort();
    }
    free(text);
    return 0;
}
