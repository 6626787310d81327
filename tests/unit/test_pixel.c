/*
 * test_pixel.c — gdal/pixel.c against hand-computed values: every
 * GDALDataType's value as a double and exactly as an int64 (Int8 only
 * with GDAL >= 3.7), the band nodata test (NaN, Float32 rounding, 64-bit
 * integers beyond 2^53), GDAL's VRT source NODATA test, and valfmt.c's
 * text of every type (which reads pixels with pixel.c). Pixels are read
 * from unaligned bytes.
 */
#include <gdal.h>

#include "check.h"
#include "pixel.h"
#include "valfmt.h"

/* Copies v into an odd address of buf and returns it. */
#define AT_ODD(buf, v) (memcpy((buf) + 1, &(v), sizeof(v)), (const void *)((buf) + 1))

static rp_band_info band_of(GDALDataType type, bool has_nodata, double nodata) {
    rp_band_info b;
    memset(&b, 0, sizeof b);
    b.type = type;
    b.has_nodata = has_nodata;
    b.nodata = nodata;
    return b;
}

static void test_integers(void) {
    unsigned char buf[32];
    int64_t i = 0;
    uint8_t u8 = 250;
    CHECK(rp_pixel_as_double(GDT_Byte, AT_ODD(buf, u8)) == 250.0);
    CHECK(rp_pixel_as_int64(GDT_Byte, AT_ODD(buf, u8), &i) && i == 250);
    uint16_t u16 = 65535;
    CHECK(rp_pixel_as_double(GDT_UInt16, AT_ODD(buf, u16)) == 65535.0);
    int16_t s16 = -32768;
    CHECK(rp_pixel_as_double(GDT_Int16, AT_ODD(buf, s16)) == -32768.0);
    CHECK(rp_pixel_as_int64(GDT_Int16, AT_ODD(buf, s16), &i) && i == -32768);
    uint32_t u32 = 4294967295u;
    CHECK(rp_pixel_as_double(GDT_UInt32, AT_ODD(buf, u32)) == 4294967295.0);
    CHECK(rp_pixel_as_int64(GDT_UInt32, AT_ODD(buf, u32), &i) && i == 4294967295LL);
    int32_t s32 = -2147483647 - 1;
    CHECK(rp_pixel_as_double(GDT_Int32, AT_ODD(buf, s32)) == -2147483648.0);
    /* 2^53 + 1 is not a double: as_double rounds, as_int64 is exact */
    int64_t s64 = 9007199254740993LL;
    CHECK(rp_pixel_as_double(GDT_Int64, AT_ODD(buf, s64)) == 9007199254740992.0);
    CHECK(rp_pixel_as_int64(GDT_Int64, AT_ODD(buf, s64), &i) && i == 9007199254740993LL);
    int64_t s64min = INT64_MIN;
    CHECK(rp_pixel_as_int64(GDT_Int64, AT_ODD(buf, s64min), &i) && i == INT64_MIN);
    uint64_t u64 = 9223372036854775807ULL; /* INT64_MAX fits */
    CHECK(rp_pixel_as_int64(GDT_UInt64, AT_ODD(buf, u64), &i) && i == INT64_MAX);
    uint64_t u64big = 18446744073709551615ULL; /* does not */
    CHECK(!rp_pixel_as_int64(GDT_UInt64, AT_ODD(buf, u64big), &i));
    CHECK(rp_pixel_as_double(GDT_UInt64, AT_ODD(buf, u64big)) == 18446744073709551616.0);
#if GDAL_VERSION_NUM >= 3070000
    int8_t s8 = -128;
    CHECK(rp_pixel_as_double(GDT_Int8, AT_ODD(buf, s8)) == -128.0);
    CHECK(rp_pixel_as_int64(GDT_Int8, AT_ODD(buf, s8), &i) && i == -128);
#endif
}

static void test_floats_and_complex(void) {
    unsigned char buf[32];
    int64_t i = 0;
    float f = 0.1f;
    CHECK(rp_pixel_as_double(GDT_Float32, AT_ODD(buf, f)) == (double)0.1f);
    CHECK(!rp_pixel_as_int64(GDT_Float32, AT_ODD(buf, f), &i));
    double d = -1.5e300;
    CHECK(rp_pixel_as_double(GDT_Float64, AT_ODD(buf, d)) == -1.5e300);
    CHECK(!rp_pixel_as_int64(GDT_Float64, AT_ODD(buf, d), &i));
    /* complex: the real part, stored first */
    int16_t ci16[2] = {-7, 9};
    CHECK(rp_pixel_as_double(GDT_CInt16, AT_ODD(buf, ci16)) == -7.0);
    CHECK(rp_pixel_as_int64(GDT_CInt16, AT_ODD(buf, ci16), &i) && i == -7);
    int32_t ci32[2] = {123456789, -1};
    CHECK(rp_pixel_as_double(GDT_CInt32, AT_ODD(buf, ci32)) == 123456789.0);
    float cf32[2] = {2.5f, 3.0f};
    CHECK(rp_pixel_as_double(GDT_CFloat32, AT_ODD(buf, cf32)) == 2.5);
    double cf64[2] = {-0.25, 8.0};
    CHECK(rp_pixel_as_double(GDT_CFloat64, AT_ODD(buf, cf64)) == -0.25);
    CHECK(rp_pixel_as_double(GDT_Unknown, buf) == 0.0);
    CHECK(!rp_pixel_as_int64(GDT_Unknown, buf, &i));
}

static void test_nodata(void) {
    unsigned char buf[32];
    rp_band_info none = band_of(GDT_Int16, false, 0);
    int16_t zero = 0;
    CHECK(!rp_pixel_is_nodata(&none, AT_ODD(buf, zero)));
    rp_band_info i16 = band_of(GDT_Int16, true, -9999);
    int16_t v = -9999, w = -9998;
    CHECK(rp_pixel_is_nodata(&i16, AT_ODD(buf, v)));
    CHECK(!rp_pixel_is_nodata(&i16, AT_ODD(buf, w)));
    /* Float32 compares in float: nodata 0.1 (a double) matches 0.1f */
    rp_band_info f32 = band_of(GDT_Float32, true, 0.1);
    float f = 0.1f;
    CHECK(rp_pixel_is_nodata(&f32, AT_ODD(buf, f)));
    rp_band_info f64 = band_of(GDT_Float64, true, 0.1);
    double d = (double)0.1f;
    CHECK(!rp_pixel_is_nodata(&f64, AT_ODD(buf, d)));
    rp_band_info fnan = band_of(GDT_Float64, true, NAN);
    double dn = NAN;
    CHECK(rp_pixel_is_nodata(&fnan, AT_ODD(buf, dn)));
    CHECK(!rp_pixel_is_nodata(&fnan, AT_ODD(buf, d)));
    /* 64-bit integers compare exactly: 2^53 + 1 is not 2^53 */
    rp_band_info i64 = band_of(GDT_Int64, true, 0);
    i64.nodata_i64 = 9007199254740993LL;
    int64_t a = 9007199254740993LL, b = 9007199254740992LL;
    CHECK(rp_pixel_is_nodata(&i64, AT_ODD(buf, a)));
    CHECK(!rp_pixel_is_nodata(&i64, AT_ODD(buf, b)));
    rp_band_info u64 = band_of(GDT_UInt64, true, 0);
    u64.nodata_u64 = 18446744073709551615ULL;
    uint64_t m = 18446744073709551615ULL, m1 = 18446744073709551614ULL;
    CHECK(rp_pixel_is_nodata(&u64, AT_ODD(buf, m)));
    CHECK(!rp_pixel_is_nodata(&u64, AT_ODD(buf, m1)));
    /* complex: the real part */
    rp_band_info c16 = band_of(GDT_CInt16, true, 5);
    int16_t c[2] = {5, 1};
    CHECK(rp_pixel_is_nodata(&c16, AT_ODD(buf, c)));
    /* signed bytes (GDAL 3.6: Byte + PIXELTYPE=SIGNEDBYTE): -128 is 0x80 */
    rp_band_info s8 = band_of(GDT_Byte, true, -128);
    s8.value_type = RP_GDT_INT8;
    uint8_t raw80 = 0x80, rawec = 0xEC;
    CHECK(rp_pixel_is_nodata(&s8, AT_ODD(buf, raw80)));
    CHECK(rp_pixel_as_double(RP_GDT_INT8, AT_ODD(buf, rawec)) == -20.0);
    rp_band_info u8 = band_of(GDT_Byte, true, -128); /* unsigned: never -128 */
    CHECK(!rp_pixel_is_nodata(&u8, AT_ODD(buf, raw80)));
}

static void test_source_nodata(void) {
    unsigned char buf[32];
    /* Float64 within GDAL's 1e-10, absolute or relative */
    double near = 1000.0 + 1e-8, far = 1000.0 + 1e-6;
    CHECK(rp_pixel_is_source_nodata(GDT_Float64, AT_ODD(buf, near), 1000.0));
    CHECK(!rp_pixel_is_source_nodata(GDT_Float64, AT_ODD(buf, far), 1000.0));
    double tiny = 5e-11;
    CHECK(rp_pixel_is_source_nodata(GDT_Float64, AT_ODD(buf, tiny), 0.0));
    uint8_t z = 0;
    CHECK(rp_pixel_is_source_nodata(GDT_Byte, AT_ODD(buf, z), 0.0));
    CHECK(!rp_pixel_is_source_nodata(GDT_Byte, AT_ODD(buf, z), NAN));
    float fn = NAN;
    CHECK(rp_pixel_is_source_nodata(GDT_Float32, AT_ODD(buf, fn), NAN));
    int32_t k = -1;
    CHECK(rp_pixel_is_source_nodata(GDT_Int32, AT_ODD(buf, k), -1.0));
    CHECK(!rp_pixel_is_source_nodata(GDT_Int32, AT_ODD(buf, k), -1.5));
}

static void test_format_every_type(void) {
    unsigned char buf[32];
    char text[RP_VALFMT_MAX];
    uint8_t u8 = 255;
    rp_format_value(text, GDT_Byte, AT_ODD(buf, u8));
    CHECK_EQ_STR(text, "255");
    uint16_t u16 = 65535;
    rp_format_value(text, GDT_UInt16, AT_ODD(buf, u16));
    CHECK_EQ_STR(text, "65535");
    int32_t s32 = -2147483647 - 1;
    rp_format_value(text, GDT_Int32, AT_ODD(buf, s32));
    CHECK_EQ_STR(text, "-2147483648");
    int64_t s64 = INT64_MIN;
    rp_format_value(text, GDT_Int64, AT_ODD(buf, s64));
    CHECK_EQ_STR(text, "-9223372036854775808");
    uint64_t u64 = UINT64_MAX;
    rp_format_value(text, GDT_UInt64, AT_ODD(buf, u64));
    CHECK_EQ_STR(text, "18446744073709551615");
    float f = 0.1f;
    rp_format_value(text, GDT_Float32, AT_ODD(buf, f));
    CHECK_EQ_STR(text, "0.1");
    double d = 0.1;
    rp_format_value(text, GDT_Float64, AT_ODD(buf, d));
    CHECK_EQ_STR(text, "0.1");
    int32_t ci[2] = {-3, -4};
    rp_format_value(text, GDT_CInt32, AT_ODD(buf, ci));
    CHECK_EQ_STR(text, "-3-4i");
    double cd[2] = {1.5, 2};
    rp_format_value(text, GDT_CFloat64, AT_ODD(buf, cd));
    CHECK_EQ_STR(text, "1.5+2i");
#if GDAL_VERSION_NUM >= 3070000
    int8_t s8 = -128;
    rp_format_value(text, GDT_Int8, AT_ODD(buf, s8));
    CHECK_EQ_STR(text, "-128");
#endif
    CHECK_EQ_INT(rp_format_value(text, GDT_Unknown, buf), 0);
}

int main(void) {
    test_integers();
    test_floats_and_complex();
    test_nodata();
    test_source_nodata();
    test_format_every_type();
    return CHECK_DONE();
}
