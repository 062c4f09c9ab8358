/* SPDX-License-Identifier: LGPL-2.1-only */
#include <time.h>

#include "util/clock.h"

long long xvf_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long xvf_now_ms(void)
{
    return xvf_now_us() / 1000;
}
