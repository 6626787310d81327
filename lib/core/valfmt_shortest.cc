/*
 * valfmt_shortest.cc — the shortest decimal text that reads back to the same
 * float or double.
 *
 * The digits come from Dragonbox (Junekey Jeon's Schubfach-style algorithm)
 * as {fmt} ships it (Debian libfmt-dev, used header-only, so nothing extra
 * is linked): a fixed number of multiplications a value, about four times
 * faster than double-conversion's Grisu3 with its bignum fallback. The
 * layout around the digits is double-conversion's ToShortest with the
 * settings rasterpool always had (decimal notation for decimal exponents
 * -6..16, else d.ddde+XX; "-0", "nan", "inf", "-inf"), so the text is
 * byte for byte what double-conversion writes. double-conversion itself
 * stays as the reference (rp_shortest_*_reference) that the tests compare
 * with on many millions of values (tests/unit/test_numtext.c).
 *
 * Both algorithms pick, among the shortest digit strings inside the
 * rounding interval (endpoints included when the significand is even), the
 * one nearest to the value, ties to even: that is why they agree.
 *
 * Threads: pure functions on the caller's buffer; the double-conversion
 * converter is immutable and shared.
 */
#define FMT_HEADER_ONLY
#include <fmt/format.h>

#include <double-conversion/double-to-string.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "numtext.h"

namespace {

const double_conversion::DoubleToStringConverter &converter() {
    static const double_conversion::DoubleToStringConverter c(
        double_conversion::DoubleToStringConverter::EMIT_POSITIVE_EXPONENT_SIGN, "inf", "nan", 'e',
        -6, 17, 0, 0);
    return c;
}

/* Runs one of the converter's ToShortest* methods into buf. */
template <typename T, typename Method> size_t reference(char *buf, size_t cap, T v, Method method) {
    double_conversion::StringBuilder sb(buf, static_cast<int>(cap));
    (converter().*method)(v, &sb);
    int n = sb.position();
    sb.Finalize();
    return static_cast<size_t>(n);
}

const char kPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* The decimal digits of v (no leading zeros) into out[0..n); returns n. */
size_t write_digits(char *out, uint64_t v) {
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    while (v >= 100) {
        unsigned r = static_cast<unsigned>(v % 100);
        v /= 100;
        p -= 2;
        std::memcpy(p, kPairs + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        std::memcpy(p, kPairs + 2 * v, 2);
    } else {
        *--p = static_cast<char>('0' + v);
    }
    size_t n = static_cast<size_t>(end - p);
    std::memcpy(out, p, n);
    return n;
}

/* digits[0..n) x 10^(point - n) laid out as double-conversion's ToShortest
 * (decimal_in_shortest_low -6, high 17, EMIT_POSITIVE_EXPONENT_SIGN). buf
 * already holds the sign; returns the length written at buf. */
size_t layout(char *buf, const char *digits, int n, int point) {
    char *p = buf;
    int exponent = point - 1;
    if (exponent >= -6 && exponent < 17) {
        if (point <= 0) {
            *p++ = '0';
            *p++ = '.';
            std::memset(p, '0', static_cast<size_t>(-point));
            p += -point;
            std::memcpy(p, digits, static_cast<size_t>(n));
            p += n;
        } else if (point >= n) {
            std::memcpy(p, digits, static_cast<size_t>(n));
            p += n;
            std::memset(p, '0', static_cast<size_t>(point - n));
            p += point - n;
        } else {
            std::memcpy(p, digits, static_cast<size_t>(point));
            p += point;
            *p++ = '.';
            std::memcpy(p, digits + point, static_cast<size_t>(n - point));
            p += n - point;
        }
    } else {
        *p++ = digits[0];
        if (n > 1) {
            *p++ = '.';
            std::memcpy(p, digits + 1, static_cast<size_t>(n - 1));
            p += n - 1;
        }
        *p++ = 'e';
        if (exponent < 0) {
            *p++ = '-';
            exponent = -exponent;
        } else {
            *p++ = '+';
        }
        p += write_digits(p, static_cast<uint64_t>(exponent));
    }
    *p = '\0';
    return static_cast<size_t>(p - buf);
}

/* Zero, infinities and NaN, as the reference writes them. */
size_t special(char *buf, bool negative, bool is_nan, bool is_zero) {
    const char *text = is_nan     ? "nan"
                       : is_zero  ? (negative ? "-0" : "0")
                       : negative ? "-inf"
                                  : "inf";
    size_t n = std::strlen(text);
    std::memcpy(buf, text, n + 1);
    return n;
}

/* The shortest text of v into buf, which holds 32 bytes: a sign, 17 digits,
 * a point and e-324 take at most 25, "-0.000000" and 17 digits 27. */
template <typename T> size_t shortest32(char *buf, T v) {
    bool negative = std::signbit(v);
    if (!std::isfinite(v) || v == 0)
        return special(buf, negative, std::isnan(v), v == 0);
    char *p = buf;
    if (negative)
        *p++ = '-';
    auto dec = fmt::detail::dragonbox::to_decimal(v);
    uint64_t sig = dec.significand;
    int exponent = dec.exponent;
    while (sig % 10 == 0) { /* Dragonbox removes them already; cheap to be sure */
        sig /= 10;
        exponent++;
    }
    char digits[24];
    int n = static_cast<int>(write_digits(digits, sig));
    return static_cast<size_t>(p - buf) + layout(p, digits, n, n + exponent);
}

/* A buffer under 32 bytes gets the text cut to fit (callers pass
 * RP_VALFMT_MAX, which is 32). */
template <typename T> size_t shortest(char *buf, size_t cap, T v) {
    if (cap >= 32)
        return shortest32(buf, v);
    char local[32];
    size_t n = shortest32(local, v);
    if (cap == 0)
        return 0;
    if (n >= cap)
        n = cap - 1;
    std::memcpy(buf, local, n);
    buf[n] = '\0';
    return n;
}

} // namespace

size_t rp_shortest_double(char *buf, size_t cap, double v) {
    return shortest(buf, cap, v);
}

size_t rp_shortest_float(char *buf, size_t cap, float v) {
    /* the reference of a float special is the double's text: the same */
    return shortest(buf, cap, v);
}

size_t rp_shortest_double_reference(char *buf, size_t cap, double v) {
    return reference(buf, cap, v, &double_conversion::DoubleToStringConverter::ToShortest);
}

size_t rp_shortest_float_reference(char *buf, size_t cap, float v) {
    return reference(buf, cap, v, &double_conversion::DoubleToStringConverter::ToShortestSingle);
}
