/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * harness.h - the one test harness of every C test (header only; one
 * test program = one .c file including it)
 *
 * A program runs named cases; each case is a void function making checks.
 * A failed check prints where and what, then the case goes on (CHECK*) or
 * returns (REQUIRE*). Output is TAP-like:
 *
 *   #   test-mock.c:120: CHECK_HEX(r, 0x4120): online before VF enable:
 *   #     got 0x0000, expected 0x4120
 *   not ok 3 - online_needs_vf
 *   ok 4 - offline_zeroes # SKIP why
 *   1..4
 *   # 1 skipped
 *   2 passed, 1 failed
 *
 * Skipped cases count neither as passed nor as failed; the summary line
 * is always the last one, and harness_done() returns 1 on any failure.
 *
 * The checks: CHECK(cond, fmt, ...), CHECK_INT(a, b, what), CHECK_HEX,
 * CHECK_STR(a, b, what) (equal strings), CHECK_HAS(hay, needle, what)
 * (substring) and FAIL(fmt, ...); REQUIRE* are the same, returning from
 * the case. Each counts one check ("# N checks" before the summary).
 *
 * Usage:
 *
 *   static void test_x(void) { CHECK_INT(f(), 0, "f"); }
 *   int main(void) { RUN(test_x); return harness_done(); }
 *
 * or table-driven, with a name filter from the command line:
 *
 *   static const struct harness_case cases[] = {
 *       { "x", test_x }, ...
 *   };
 *   int main(int argc, char **argv)
 *   { return harness_main(argc, argv, cases, HARNESS_N(cases)); }
 *
 * HARNESS_ONLY=substring in the environment runs only the matching cases;
 * HARNESS_TIMEOUT=seconds (default 120) bounds each case: a case still
 * running then is reported "not ok" and the program exits with 1.
 */
#ifndef XVF_HARNESS_H
#define XVF_HARNESS_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** struct harness_case - one named case of a table */
struct harness_case {
    const char *name;
    void (*fn)(void);
};

#define HARNESS_N(a) (sizeof(a) / sizeof((a)[0]))
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) HARNESS_N(a)
#endif

static struct {
    unsigned int run, passed, failed, skipped;
    unsigned int checks, case_failures;
    bool case_skipped;
    const char *current;
} harness_state;

static inline void harness_vmsg(const char *file, int line, const char *what,
                                const char *fmt, va_list ap)
{
    char buf[1024];
    const char *msg = buf;

    /* the macros put a space before the format, so it is never empty */
    vsnprintf(buf, sizeof(buf), fmt, ap);
    while (*msg == ' ')
        msg++;
    printf("#   %s:%d: %s%s%s\n", file, line, what, *msg ? ": " : "", msg);
}

static inline bool harness_fail(const char *file, int line, const char *what,
                                const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static inline bool harness_fail(const char *file, int line, const char *what,
                                const char *fmt, ...)
{
    va_list ap;

    harness_state.checks++;
    harness_state.case_failures++;
    va_start(ap, fmt);
    harness_vmsg(file, line, what, fmt, ap);
    va_end(ap);
    fflush(stdout);
    return false;
}

static inline bool harness_check(bool ok, const char *file, int line,
                                 const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static inline bool harness_check(bool ok, const char *file, int line,
                                 const char *expr, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    harness_state.checks++;
    if (ok)
        return true;
    harness_state.case_failures++;
    snprintf(what, sizeof(what), "CHECK(%s) failed", expr);
    va_start(ap, fmt);
    harness_vmsg(file, line, what, fmt, ap);
    va_end(ap);
    fflush(stdout);
    return false;
}

static inline bool harness_check_int(long long a, long long b, bool hex,
                                     const char *ea, const char *eb,
                                     const char *what, const char *file,
                                     int line)
{
    harness_state.checks++;
    if (a == b)
        return true;
    harness_state.case_failures++;
    if (hex)
        printf("#   %s:%d: %s: %s = 0x%llx, expected %s = 0x%llx\n", file,
               line, what ? what : "", ea, a, eb, b);
    else
        printf("#   %s:%d: %s: %s = %lld, expected %s = %lld\n", file,
               line, what ? what : "", ea, a, eb, b);
    fflush(stdout);
    return false;
}

static inline bool harness_check_str(const char *a, const char *b,
                                     const char *ea, const char *eb,
                                     const char *what, const char *file,
                                     int line)
{
    harness_state.checks++;
    if (a && b && !strcmp(a, b))
        return true;
    harness_state.case_failures++;
    printf("#   %s:%d: %s: %s = \"%s\", expected %s = \"%s\"\n", file, line,
           what ? what : "", ea, a ? a : "(null)", eb, b ? b : "(null)");
    fflush(stdout);
    return false;
}

/* the string @hay contains @needle (a NULL @hay contains nothing) */
static inline bool harness_check_has(const char *hay, const char *needle,
                                     const char *ehay, const char *what,
                                     const char *file, int line)
{
    harness_state.checks++;
    if (hay && needle && strstr(hay, needle))
        return true;
    harness_state.case_failures++;
    printf("#   %s:%d: %s: %s = \"%s\", does not contain \"%s\"\n", file,
           line, what ? what : "", ehay, hay ? hay : "(null)",
           needle ? needle : "(null)");
    fflush(stdout);
    return false;
}

/**
 * harness_case_failures() - how many checks of the running case failed
 * so far (to report once per item of a table-driven case, say)
 */
static inline unsigned int harness_case_failures(void)
{
    return harness_state.case_failures;
}

/* Checks: they return whether they passed and the case goes on. */
#define CHECK(cond, ...) \
    harness_check(!!(cond), __FILE__, __LINE__, #cond, " " __VA_ARGS__)
#define CHECK_INT(a, b, what) \
    harness_check_int((long long)(a), (long long)(b), false, #a, #b, \
                      (what), __FILE__, __LINE__)
#define CHECK_HEX(a, b, what) \
    harness_check_int((long long)(a), (long long)(b), true, #a, #b, \
                      (what), __FILE__, __LINE__)
#define CHECK_STR(a, b, what) \
    harness_check_str((a), (b), #a, #b, (what), __FILE__, __LINE__)
#define CHECK_HAS(hay, needle, what) \
    harness_check_has((hay), (needle), #hay, (what), __FILE__, __LINE__)
#define FAIL(...) \
    harness_fail(__FILE__, __LINE__, "FAIL", " " __VA_ARGS__)

/* The same, returning from the (void) case when they fail. */
#define REQUIRE(cond, ...) \
    do { if (!CHECK(cond, __VA_ARGS__)) return; } while (0)
#define REQUIRE_INT(a, b, what) \
    do { if (!CHECK_INT(a, b, what)) return; } while (0)
#define REQUIRE_HEX(a, b, what) \
    do { if (!CHECK_HEX(a, b, what)) return; } while (0)
#define REQUIRE_STR(a, b, what) \
    do { if (!CHECK_STR(a, b, what)) return; } while (0)
#define REQUIRE_HAS(hay, needle, what) \
    do { if (!CHECK_HAS(hay, needle, what)) return; } while (0)

/** SKIP() - end the case as skipped, with a reason */
#define SKIP(...) \
    do { harness_skip(" " __VA_ARGS__); return; } while (0)

static inline void harness_skip(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static inline void harness_skip(const char *fmt, ...)
{
    char buf[512];
    const char *msg = buf;
    va_list ap;

    harness_state.case_skipped = true;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    while (*msg == ' ')
        msg++;
    printf("#   skipped: %s\n", msg);
}

static inline void harness_put(const char *s)
{
    ssize_t r = write(STDOUT_FILENO, s, strlen(s));

    (void)r;
}

static inline void harness_put_uint(unsigned int v)
{
    char buf[16], *p = buf + sizeof(buf) - 1;

    *p = '\0';
    do {
        *--p = '0' + v % 10;
        v /= 10;
    } while (v);
    harness_put(p);
}

/* SIGALRM: the case is stuck; report it and the totals, then leave */
static inline void harness_alarm(int sig)
{
    (void)sig;
    harness_put("#   timed out\nnot ok ");
    harness_put_uint(harness_state.run);
    harness_put(" - ");
    harness_put(harness_state.current ? harness_state.current : "?");
    harness_put("\n");
    harness_put_uint(harness_state.passed);
    harness_put(" passed, ");
    harness_put_uint(harness_state.failed + 1);
    harness_put(" failed\n");
    _exit(1);
}

/** harness_run() - run one case; RUN(fn) names it after the function */
static inline void harness_run(const char *name, void (*fn)(void))
{
    const char *only = getenv("HARNESS_ONLY");
    const char *tmo = getenv("HARNESS_TIMEOUT");
    unsigned int timeout = tmo ? strtoul(tmo, NULL, 10) : 120;

    if (only && *only && !strstr(name, only))
        return;
    harness_state.current = name;
    harness_state.case_failures = 0;
    harness_state.case_skipped = false;
    harness_state.run++;
    printf("# %s\n", name);
    fflush(stdout);
    signal(SIGALRM, harness_alarm);
    alarm(timeout);
    fn();
    alarm(0);
    if (harness_state.case_failures) {
        harness_state.failed++;
        printf("not ok %u - %s\n", harness_state.run, name);
    } else if (harness_state.case_skipped) {
        harness_state.skipped++;
        printf("ok %u - %s # SKIP\n", harness_state.run, name);
    } else {
        harness_state.passed++;
        printf("ok %u - %s\n", harness_state.run, name);
    }
    fflush(stdout);
    harness_state.current = NULL;
}

#define RUN(fn) harness_run(#fn, fn)

/** harness_done() - print the plan and the summary; the exit status */
static inline int harness_done(void)
{
    printf("1..%u\n", harness_state.run);
    printf("# %u checks\n", harness_state.checks);
    if (harness_state.skipped)
        printf("# %u skipped\n", harness_state.skipped);
    printf("%u passed, %u failed\n", harness_state.passed,
           harness_state.failed);
    fflush(stdout);
    return harness_state.failed || !harness_state.run ? 1 : 0;
}

/**
 * harness_main() - run a table of cases; argv[1], when given, is a name
 * filter like HARNESS_ONLY
 */
static inline int harness_main(int argc, char **argv,
                               const struct harness_case *cases,
                               size_t n)
{
    size_t i;

    if (argc > 1)
        setenv("HARNESS_ONLY", argv[1], 1);
    for (i = 0; i < n; i++)
        harness_run(cases[i].name, cases[i].fn);
    return harness_done();
}

#endif
