/* euler_plain.c - the baseline: a plain forward loop over 1/i^2, as one
 * would write it.  Built at -O2 without -ffast-math, like the kernel. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000000ULL;
    double s = 0;
    for (unsigned long long i = 1; i <= n; i++)
        s += 1.0 / ((double)i * (double)i);
    printf("%.17g\n", s);
    return 0;
}
