/* euler_sum.c - block sums and the exact value of the Basel partial sum.
 *
 * Never build this file with -ffast-math: reassociation deletes the
 * compensation terms that make the sums accurate.
 */
#include <immintrin.h>
#include <math.h>

#include "kernels/euler_sum.h"

/* Knuth's TwoSum: s + e == a + b exactly, with no precondition. */
static inline mb_dd two_sum(double a, double b)
{
    double s = a + b, bb = s - a;
    return (mb_dd){s, (a - (s - bb)) + (b - bb)};
}

/* Dekker's FastTwoSum, valid when |a| >= |b|. */
static inline mb_dd fast_two_sum(double a, double b)
{
    double s = a + b;
    return (mb_dd){s, b - (s - a)};
}

mb_dd mb_dd_add(mb_dd x, mb_dd y)
{
    mb_dd s = two_sum(x.hi, y.hi);
    return fast_two_sum(s.hi, s.lo + x.lo + y.lo);
}

static mb_dd dd_add_d(mb_dd x, double y)
{
    mb_dd s = two_sum(x.hi, y);
    return fast_two_sum(s.hi, s.lo + x.lo);
}

static mb_dd dd_mul(mb_dd x, mb_dd y)
{
    double p = x.hi * y.hi;
    double e = fma(x.hi, y.hi, -p);
    return fast_two_sum(p, e + x.hi * y.lo + x.lo * y.hi);
}

/* 1 / x for an exact double x, to double-double precision. */
static mb_dd dd_recip(double x)
{
    double q = 1.0 / x;
    double r = fma(-q, x, 1.0); /* exact remainder of the first quotient */
    return fast_two_sum(q, r / x);
}

void mb_euler_block_range(uint64_t n, uint64_t blocks, uint64_t b,
                          uint64_t *first, uint64_t *last)
{
    uint64_t base = n / blocks, rem = n % blocks;
    *first = 1 + b * base + (b < rem ? b : rem);
    *last = *first + base - (b < rem ? 0 : 1);
}

/* Reduce lane accumulators (sums and their error terms) in fixed order. */
static mb_dd reduce_lanes(const double *s, const double *c, int lanes)
{
    mb_dd acc = {0.0, 0.0};
    for (int l = 0; l < lanes; l++)
        acc = mb_dd_add(acc, fast_two_sum(s[l], c[l]));
    return acc;
}

/* The scalar tail shared by both implementations: terms from `last` down.
 * Below EXACT_BELOW the terms are large enough that rounding each to a
 * double would cost ~1e-17, so they are taken in double-double (i*i is
 * exact there). */
#define EXACT_BELOW 64
static mb_dd sum_scalar(uint64_t first, uint64_t last, mb_dd acc)
{
    for (uint64_t i = last; i >= first && i > 0; i--) {
        double x = (double)i;
        acc = i < EXACT_BELOW ? mb_dd_add(acc, dd_recip(x * x)) : dd_add_d(acc, 1.0 / (x * x));
    }
    return acc;
}

typedef double v8d __attribute__((vector_size(64)));

/* The end of the slice of the vector loop that starts at term k of nv:
 * tick() runs between slices, a few milliseconds apart, and the sums go
 * on across them unchanged (the same bits with or without a tick). */
static uint64_t slice_end(uint64_t k, uint64_t nv)
{
    return nv - k > MB_EULER_SLICE ? k + MB_EULER_SLICE : nv;
}

/* Portable path: 8 lanes of GCC vectors, true division, TwoSum per lane. */
static mb_dd sum_generic(uint64_t first, uint64_t last, void (*tick)(void))
{
    uint64_t n = last - first + 1, nv = n / 8 * 8;
    v8d s = {0}, c = {0};
    v8d x = {0, -1, -2, -3, -4, -5, -6, -7};
    x += (double)last;
    for (uint64_t k = 0; k < nv;) {
        for (uint64_t stop = slice_end(k, nv); k < stop; k += 8) {
            v8d t = 1.0 / (x * x);
            v8d sn = s + t, bb = sn - s;
            c += (s - (sn - bb)) + (t - bb);
            s = sn;
            x -= 8.0;
        }
        if (tick && k < nv)
            tick();
    }
    double sa[8], ca[8];
    for (int l = 0; l < 8; l++) {
        sa[l] = s[l];
        ca[l] = c[l];
    }
    /* The remaining (largest) terms last, as the backward order wants. */
    return sum_scalar(first, last - nv, reduce_lanes(sa, ca, 8));
}

#define UNROLL 4 /* independent accumulators hide the add latency */

__attribute__((target("avx512f")))
static inline __m512d recip_sq(__m512d x)
{
    const __m512d one = _mm512_set1_pd(1.0);
    __m512d d = _mm512_mul_pd(x, x);
    __m512d r = _mm512_rcp14_pd(d);            /* 14 good bits */
    __m512d e = _mm512_fnmadd_pd(d, r, one);   /* Newton: r += r (1 - d r) */
    r = _mm512_fmadd_pd(r, e, r);              /* 28 bits */
    e = _mm512_fnmadd_pd(d, r, one);
    /* 56 bits before rounding: within one ulp of 1/d, and measured to give
     * the same n = 1e9 total as true division, 14% faster than a 3rd step. */
    return _mm512_fmadd_pd(r, e, r);
}

__attribute__((target("avx512f")))
static mb_dd sum_avx512(uint64_t first, uint64_t last, void (*tick)(void))
{
    const uint64_t step = 8 * UNROLL;
    uint64_t n = last - first + 1, nv = n / step * step;
    __m512d s[UNROLL], c[UNROLL], x[UNROLL];
    const __m512d dec = _mm512_set1_pd((double)step);
    for (int u = 0; u < UNROLL; u++) {
        double top = (double)last - 8.0 * u;
        x[u] = _mm512_setr_pd(top, top - 1, top - 2, top - 3, top - 4, top - 5, top - 6, top - 7);
        s[u] = c[u] = _mm512_setzero_pd();
    }
    for (uint64_t k = 0; k < nv;) {
        for (uint64_t stop = slice_end(k, nv); k < stop; k += step)
            for (int u = 0; u < UNROLL; u++) {
                __m512d t = recip_sq(x[u]);
                __m512d sn = _mm512_add_pd(s[u], t), bb = _mm512_sub_pd(sn, s[u]);
                __m512d err = _mm512_add_pd(_mm512_sub_pd(s[u], _mm512_sub_pd(sn, bb)),
                                            _mm512_sub_pd(t, bb));
                c[u] = _mm512_add_pd(c[u], err);
                s[u] = sn;
                x[u] = _mm512_sub_pd(x[u], dec);
            }
        if (tick && k < nv)
            tick();
    }
    double sa[8 * UNROLL], ca[8 * UNROLL];
    for (int u = 0; u < UNROLL; u++) {
        _mm512_storeu_pd(sa + 8 * u, s[u]);
        _mm512_storeu_pd(ca + 8 * u, c[u]);
    }
    return sum_scalar(first, last - nv, reduce_lanes(sa, ca, 8 * UNROLL));
}

int mb_euler_impl_available(mb_euler_impl impl)
{
    if (impl == MB_EULER_AVX512)
        return __builtin_cpu_supports("avx512f");
    return 1;
}

mb_dd mb_euler_block_sum(uint64_t first, uint64_t last, mb_euler_impl impl, void (*tick)(void))
{
    if (first > last)
        return (mb_dd){0.0, 0.0};
    if (impl == MB_EULER_AUTO)
        impl = mb_euler_impl_available(MB_EULER_AVX512) ? MB_EULER_AVX512 : MB_EULER_GENERIC;
    /* The vector loops take i >= EXACT_BELOW; the largest terms come last. */
    uint64_t split = first < EXACT_BELOW ? EXACT_BELOW : first;
    mb_dd acc = {0.0, 0.0};
    if (last >= split)
        acc = impl == MB_EULER_AVX512 ? sum_avx512(split, last, tick)
                                       : sum_generic(split, last, tick);
    return first < split ? sum_scalar(first, last < split ? last : split - 1, acc) : acc;
}

/* psi1(x) for x >= 32 from its asymptotic series:
 * 1/x + 1/(2x^2) + 1/(6x^3) - 1/(30x^5) + 1/(42x^7) - 1/(30x^9) + ...
 * The Bernoulli tail is below 1e-21 at x >= 32, so it is evaluated in
 * double; the two leading terms need double-double. */
static mb_dd trigamma_asymptotic(double x)
{
    mb_dd y = dd_recip(x);
    mb_dd y2 = dd_mul(y, y);
    double z = y2.hi;
    double tail = 1.0 / 6 - z * (1.0 / 30 - z * (1.0 / 42 - z * (1.0 / 30 - z * (5.0 / 66
                  - z * (691.0 / 2730 - z * (7.0 / 6))))));
    mb_dd half_y2 = {y2.hi * 0.5, y2.lo * 0.5};
    mb_dd y3 = dd_mul(y2, y);
    return mb_dd_add(mb_dd_add(y, half_y2), dd_mul(y3, (mb_dd){tail, 0.0}));
}

mb_dd mb_euler_exact(uint64_t n)
{
    /* pi^2/6 split into the nearest double and the rest. */
    const mb_dd zeta2 = {1.6449340668482264, 3.040672350398476e-17};
    double x = (double)n + 1.0;
    mb_dd shift = {0.0, 0.0};
    /* psi1(x) = 1/x^2 + psi1(x + 1): move x up to where the series is exact. */
    for (; x < 32.0; x += 1.0)
        shift = mb_dd_add(shift, dd_mul(dd_recip(x), dd_recip(x)));
    mb_dd psi = mb_dd_add(shift, trigamma_asymptotic(x));
    return mb_dd_add(zeta2, (mb_dd){-psi.hi, -psi.lo});
}
