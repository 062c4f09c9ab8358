/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * clock.h - the one clock bounded waits are measured with
 */
#ifndef XVF_UTIL_CLOCK_H
#define XVF_UTIL_CLOCK_H

/**
 * xvf_now_ms() - milliseconds on CLOCK_MONOTONIC
 *
 * For deadlines only: the origin is arbitrary, and the clock does not
 * jump when the wall clock is set.
 *
 * Return: the current time in milliseconds.
 */
long long xvf_now_ms(void);

/**
 * xvf_now_us() - microseconds on CLOCK_MONOTONIC
 *
 * The same clock as xvf_now_ms(), for timing steps.
 *
 * Return: the current time in microseconds.
 */
long long xvf_now_us(void);

#endif
