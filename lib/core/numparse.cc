/*
 * numparse.cc — decimal text to double by Google's double-conversion (the
 * library rasterpool already uses to print values). Correctly rounded like
 * strtod, several times faster on the short decimals of coordinate columns,
 * and independent of the C locale (strtod reads "1.5" as 1 under a locale
 * with a decimal comma). Only plain decimals are accepted here: signs,
 * digits, one point, an exponent, surrounding spaces. Anything else (nan,
 * inf, hex, junk, overflow) returns false and the caller falls back to its
 * strtod path, which keeps the full grammar and the precise error message.
 *
 * Before double-conversion, the exact fast path of Clinger (1990), as
 * fast_float and every fast strtod take it: a plain decimal of at most 19
 * digits whose digits make an integer m <= 2^53 and whose decimal exponent
 * e is within [-22, 22] is m * 10^e or m / 10^-e, one correctly rounded
 * IEEE operation on two exact doubles: the correctly rounded result, so
 * bit for bit what double-conversion gives. Coordinates (512345.125,
 * -33.8688197) nearly always take it, for a fraction of the cost.
 *
 * Text Clinger's path leaves (more than 19 digits, m > 2^53, large
 * exponents) goes to fast_float next (Lemire's Eisel-Lemire parser, Debian
 * libfast-float-dev, header-only; correctly rounded for every decimal),
 * several times faster there than double-conversion. On short coordinates
 * it is no faster than Clinger's loop (12-13 ns a text either way, the
 * division dominates) and takes more instructions, hence the order. It
 * takes only what double-conversion takes the same: a text it reads to the
 * end, that starts with a digit, '-' or '.', and is finite; anything else
 * (a '+', spaces, overflow, nan, inf) goes on to double-conversion.
 * tests/fuzz/fuzz_numparse.c and tests/unit/test_numtext.c compare the
 * whole of rp_parse_decimal with double-conversion alone, bit for bit.
 *
 * Threads: the converter is immutable and shared.
 */
#include <double-conversion/string-to-double.h>
#include <fast_float/fast_float.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "numtext.h"

namespace {
const double_conversion::StringToDoubleConverter &converter() {
    static const double_conversion::StringToDoubleConverter c(
        double_conversion::StringToDoubleConverter::ALLOW_LEADING_SPACES |
            double_conversion::StringToDoubleConverter::ALLOW_TRAILING_SPACES,
        /* empty_string_value */ NAN, /* junk_string_value */ NAN,
        /* infinity_symbol */ nullptr, /* nan_symbol */ nullptr);
    return c;
}

const double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                         1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* [+-]digits[.digits][(e|E)[+-]digits] with at least one digit, at most 19
 * digits in all, m <= 2^53, |e| <= 22: *out and true; else false (the
 * caller goes on to double-conversion, which takes every such text too). */
bool clinger(const char *s, size_t len, double *out) {
    size_t i = 0;
    bool negative = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        negative = s[i++] == '-';
    uint64_t m = 0;
    int digits = 0, scale = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
        m = m * 10 + static_cast<uint64_t>(s[i] - '0');
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++, scale--)
            m = m * 10 + static_cast<uint64_t>(s[i] - '0');
    if (digits == 0 || digits > 19)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        int e = 0, edigits = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9' && edigits < 4; i++, edigits++)
            e = e * 10 + (s[i] - '0');
        if (edigits == 0)
            return false;
        scale += eneg ? -e : e;
    }
    if (i != len || m > (uint64_t{1} << 53) || scale < -22 || scale > 22)
        return false;
    double v = static_cast<double>(m);
    v = scale < 0 ? v / kPow10[-scale] : v * kPow10[scale];
    *out = negative ? -v : v;
    return true;
}
} // namespace

bool rp_parse_decimal(const char *s, size_t len, double *out) {
    if (len == 0 || len > 64)
        return false;
    if (clinger(s, len, out))
        return true;
    char c = s[0];
    if ((c >= '0' && c <= '9') || c == '-' || c == '.') {
        double v;
        auto r = fast_float::from_chars(s, s + len, v);
        if (r.ec == std::errc() && r.ptr == s + len && std::isfinite(v)) {
            *out = v;
            return true;
        }
    }
    return rp_parse_decimal_reference(s, len, out);
}

bool rp_parse_decimal_reference(const char *s, size_t len, double *out) {
    if (len == 0 || len > 64)
        return false;
    int used = 0;
    double v = converter().StringToDouble(s, static_cast<int>(len), &used);
    if (used != static_cast<int>(len) || !std::isfinite(v))
        return false;
    *out = v;
    return true;
}
