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
 * Threads: the converter is immutable and shared.
 */
#include <double-conversion/string-to-double.h>

#include <cmath>
#include <cstddef>

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
} // namespace

bool rp_parse_decimal(const char *s, size_t len, double *out) {
    if (len == 0 || len > 64)
        return false;
    int used = 0;
    double v = converter().StringToDouble(s, static_cast<int>(len), &used);
    if (used != static_cast<int>(len) || !std::isfinite(v))
        return false;
    *out = v;
    return true;
}
