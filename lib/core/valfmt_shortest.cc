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

/* The decimal digits of v (no leading zeros, at most 20) written so that
 * they end at end; returns where they start. U: uint32_t for a float's
 * significand (cheaper divisions), uint64_t for a double's. */
template <typename U> char *put_digits(char *end, U v) {
    char *p = end;
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
    return p;
}

/* Copies of a fixed size compile to a few moves; the buffers below leave
 * room for them past the bytes that count. */
enum { CHUNK = 24 };

/* d[0..n) x 10^(point - n) laid out as double-conversion's ToShortest
 * (decimal_in_shortest_low -6, high 17, EMIT_POSITIVE_EXPONENT_SIGN) at p,
 * which has 48 bytes of room; d has CHUNK readable bytes past d + 1 and
 * d + point. Returns the end of the text (not terminated). */
char *layout(char *p, const char *d, int n, int point) {
    int exponent = point - 1;
    if (exponent >= -6 && exponent < 17) {
        if (point <= 0) { /* 0.000ddd: at most 5 zeros */
            std::memcpy(p, "0.00000", 8);
            p += 2 - point;
            std::memcpy(p, d, CHUNK);
            return p + n;
        }
        std::memcpy(p, d, CHUNK);
        if (point >= n) { /* ddd000: at most 16 zeros */
            std::memset(p + n, '0', 16);
            return p + point;
        }
        p[point] = '.'; /* ddd.ddd */
        std::memcpy(p + point + 1, d + point, CHUNK);
        return p + n + 1;
    }
    *p++ = d[0];
    if (n > 1) {
        *p++ = '.';
        std::memcpy(p, d + 1, CHUNK);
        p += n - 1;
    }
    *p++ = 'e';
    *p++ = exponent < 0 ? '-' : '+';
    unsigned e = static_cast<unsigned>(exponent < 0 ? -exponent : exponent);
    char tmp[8]; /* at most 3 digits, ending at tmp + 4, 4 bytes copied */
    char *start = put_digits(tmp + 4, e);
    size_t len = static_cast<size_t>(tmp + 4 - start);
    std::memcpy(p, start, 4);
    return p + len;
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

/* The shortest text of v at out, which has RP_SHORTEST_ROOM (64) bytes of
 * room: the text and its NUL (a sign, 17 digits, a point and e-324 take at
 * most 25 bytes, "-0.000000" and 17 digits 27), and bytes past them that
 * the fixed-size copies of layout() may overwrite (it needs 48 at the
 * digits, out + 1 after a sign). */
template <typename T> size_t shortest_room(char *out, T v) {
    bool negative = std::signbit(v);
    if (!std::isfinite(v) || v == 0)
        return special(out, negative, std::isnan(v), v == 0);
    auto dec = fmt::detail::dragonbox::to_decimal(v);
    auto sig = dec.significand; /* uint32_t for float, uint64_t for double */
    int exponent = dec.exponent;
    while (sig % 10 == 0) { /* Dragonbox removes them already; cheap to be sure */
        sig /= 10;
        exponent++;
    }
    char digits[64]; /* the digits end at digits + 24, CHUNK readable past */
    const char *d = put_digits(digits + 24, sig);
    int n = static_cast<int>(digits + 24 - d);
    char *p = out;
    if (negative)
        *p++ = '-';
    char *end = layout(p, d, n, n + exponent);
    *end = '\0';
    return static_cast<size_t>(end - out);
}

/* The shortest text of v into buf, which holds 32 bytes. */
template <typename T> size_t shortest32(char *buf, T v) {
    char text[RP_SHORTEST_ROOM];
    size_t n = shortest_room(text, v);
    std::memcpy(buf, text, 32);
    return n;
}

/* A buffer under 32 bytes gets the text cut to fit (callers pass
 * RP_VALFMT_MAX, which is more). */
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

size_t rp_shortest_float_room(char *buf, float v) {
    return shortest_room(buf, v);
}

size_t rp_shortest_double_room(char *buf, double v) {
    return shortest_room(buf, v);
}

size_t rp_shortest_double_reference(char *buf, size_t cap, double v) {
    return reference(buf, cap, v, &double_conversion::DoubleToStringConverter::ToShortest);
}

size_t rp_shortest_float_reference(char *buf, size_t cap, float v) {
    return reference(buf, cap, v, &double_conversion::DoubleToStringConverter::ToShortestSingle);
}
