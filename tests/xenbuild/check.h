/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * check.h - the few macros the xenbuild test programs share
 *
 * CHECK(cond, fmt, ...) counts one check; a failed one prints the
 * condition, where it is, and the formatted detail. check_done() prints
 * "N passed, N failed" and returns the exit status.
 */
#ifndef XENBUILD_CHECK_H
#define XENBUILD_CHECK_H

#include <stdio.h>
#include <string.h>

static unsigned int check_pass, check_fail;

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (cond) {                                                      \
            check_pass++;                                                \
        } else {                                                         \
            check_fail++;                                                \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
            printf(__VA_ARGS__);                                         \
            printf("\n");                                                \
        }                                                                \
    } while (0)

static inline int check_same(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static inline int check_has(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle);
}

static inline const char *check_show(const char *s)
{
    return s ? s : "(null)";
}

#define CHECK_STR(a, b, what)                                            \
    CHECK(check_same((a), (b)), "%s: got '%s', want '%s'", (what),       \
          check_show(a), check_show(b))

#define CHECK_HAS(hay, needle, what)                                     \
    CHECK(check_has((hay), (needle)), "%s: '%s' does not contain '%s'",  \
          (what), check_show(hay), (needle))

static inline int check_done(void)
{
    printf("%u passed, %u failed\n", check_pass, check_fail);
    return check_fail ? 1 : 0;
}

#endif
