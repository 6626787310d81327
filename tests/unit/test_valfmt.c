/* test_valfmt.c — values print exactly: integers at their extremes, floats
 * as short text that reads back to the very same bits. */
#include <float.h>
#include <gdal.h>

#include "check.h"
#include "valfmt.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(void) {
    char buf[RP_VALFMT_MAX];
    rp_format_int64(buf, INT64_MIN);
    CHECK_EQ_STR(buf, "-9223372036854775808");
    rp_format_int64(buf, INT64_MAX);
    CHECK_EQ_STR(buf, "9223372036854775807");
    rp_format_uint64(buf, UINT64_MAX);
    CHECK_EQ_STR(buf, "18446744073709551615");
    rp_format_int64(buf, 0);
    CHECK_EQ_STR(buf, "0");
    rp_format_float(buf, 0.1f);
    CHECK_EQ_STR(buf, "0.1");
    rp_format_float(buf, 1234.5f);
    CHECK_EQ_STR(buf, "1234.5");
    rp_format_double(buf, 0.1);
    CHECK_EQ_STR(buf, "0.1");
    rp_format_double(buf, 0.1 + 0.2);
    CHECK_EQ_STR(buf, "0.30000000000000004");
    rp_format_float(buf, -0.0f);
    CHECK_EQ_STR(buf, "-0");
    rp_format_double(buf, NAN);
    CHECK_EQ_STR(buf, "nan");
    rp_format_double(buf, -INFINITY);
    CHECK_EQ_STR(buf, "-inf");
    rp_format_float(buf, FLT_MAX);
    CHECK(strtof(buf, NULL) == FLT_MAX);
    rp_format_float(buf, FLT_TRUE_MIN);
    CHECK(strtof(buf, NULL) == FLT_TRUE_MIN);
    rp_format_double(buf, DBL_TRUE_MIN);
    CHECK(strtod(buf, NULL) == DBL_TRUE_MIN);

    /* typed values through the GDAL type switch */
    int16_t i16 = -32768;
    rp_format_value(buf, GDT_Int16, &i16);
    CHECK_EQ_STR(buf, "-32768");
    uint32_t u32 = 4294967295u;
    rp_format_value(buf, GDT_UInt32, &u32);
    CHECK_EQ_STR(buf, "4294967295");
    float cf[2] = {1.5f, -2.25f};
    rp_format_value(buf, GDT_CFloat32, cf);
    CHECK_EQ_STR(buf, "1.5-2.25i");
    int16_t ci[2] = {3, 4};
    rp_format_value(buf, GDT_CInt16, ci);
    CHECK_EQ_STR(buf, "3+4i");

    /* random bit patterns round-trip exactly */
    int bad_f = 0, bad_d = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next_u64();
        float f;
        uint32_t b32 = (uint32_t)bits;
        memcpy(&f, &b32, sizeof f);
        if (isfinite(f)) {
            rp_format_float(buf, f);
            float back = strtof(buf, NULL);
            bad_f += memcmp(&back, &f, sizeof f) != 0 || strlen(buf) > 24;
        }
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isfinite(d)) {
            rp_format_double(buf, d);
            double back = strtod(buf, NULL);
            bad_d += memcmp(&back, &d, sizeof d) != 0 || strlen(buf) > 25;
        }
    }
    CHECK_EQ_INT(bad_f, 0);
    CHECK_EQ_INT(bad_d, 0);
    return CHECK_DONE();
}
