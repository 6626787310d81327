/*
 * valfmt_shortest.cc — the shortest decimal text that reads back to the same
 * float or double, by Google's double-conversion library (the algorithm
 * V8 and many databases use). A thin extern "C" shim (numtext.h), because
 * double-conversion is a C++ library and printf-based searching for the
 * shortest form costs several times more.
 *
 * Threads: the converter is immutable and shared; each call builds on the
 * caller's buffer only.
 */
#include <double-conversion/double-to-string.h>

#include <cstddef>

#include "numtext.h"

namespace {
const double_conversion::DoubleToStringConverter &converter() {
    static const double_conversion::DoubleToStringConverter c(
        double_conversion::DoubleToStringConverter::EMIT_POSITIVE_EXPONENT_SIGN, "inf", "nan", 'e',
        -6, 17, 0, 0);
    return c;
}
} // namespace

/* Runs one of the converter's ToShortest* methods into buf. */
template <typename T, typename Method>
static size_t shortest(char *buf, size_t cap, T v, Method method) {
    double_conversion::StringBuilder sb(buf, static_cast<int>(cap));
    (converter().*method)(v, &sb);
    int n = sb.position();
    sb.Finalize();
    return static_cast<size_t>(n);
}

size_t rp_shortest_double(char *buf, size_t cap, double v) {
    return shortest(buf, cap, v, &double_conversion::DoubleToStringConverter::ToShortest);
}

size_t rp_shortest_float(char *buf, size_t cap, float v) {
    return shortest(buf, cap, v, &double_conversion::DoubleToStringConverter::ToShortestSingle);
}
