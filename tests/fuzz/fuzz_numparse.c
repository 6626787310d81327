/* fuzz_numparse.c — plain decimals to doubles (numparse.cc) on arbitrary
 * bytes: the fast path and double-conversion alone must accept the same
 * texts and give the same bits; whatever is accepted, strtod (correctly
 * rounded) reads as the same double. Bytes past 64 are ignored (the
 * parser refuses longer text). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "numtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char s[80];
    size_t n = size < 70 ? size : 70;
    memcpy(s, data, n);
    s[n] = '\0';
    double got = 0, ref = 0;
    bool ok = rp_parse_decimal(s, n, &got);
    bool ref_ok = rp_parse_decimal_reference(s, n, &ref);
    if (ok != ref_ok || (ok && memcmp(&got, &ref, sizeof got) != 0))
        abort();
    if (ok && strlen(s) == n) { /* no NUL inside: strtod sees all of it */
        char *end;
        double want = strtod(s, &end);
        if (memcmp(&got, &want, sizeof got) != 0)
            abort();
    }
    return 0;
}
