/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xvf-bench-time - run a command, say how long it took and what it cost
 *
 *   xvf-bench-time [-o FILE] [-n] -- COMMAND [ARG...]
 *
 * Runs COMMAND (stdin, stdout and stderr inherited), waits for it and
 * writes one line to FILE (default stderr):
 *
 *   wall_us,user_us,sys_us,maxrss_kib,status
 *
 * wall from just before fork() to the return of wait4(); user and sys
 * time and the peak resident set (ru_maxrss) of COMMAND and of the
 * descendants it waited for; status is its exit status, 128+N when
 * killed by signal N. Exits with COMMAND's status, or 127 when it could
 * not be run. -n appends to FILE instead of truncating it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static long long tv_us(const struct timeval *tv)
{
    return tv->tv_sec * 1000000LL + tv->tv_usec;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *mode = "w";
    struct rusage ru;
    long long t0, t1;
    int c, status, rc;
    FILE *f = stderr;
    pid_t pid;

    while ((c = getopt(argc, argv, "+o:n")) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'n':
            mode = "a";
            break;
        default:
            fprintf(stderr, "usage: xvf-bench-time [-o FILE] [-n] -- "
                    "COMMAND [ARG...]\n");
            return 127;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "xvf-bench-time: no command\n");
        return 127;
    }
    t0 = now_us();
    pid = fork();
    if (pid < 0) {
        perror("xvf-bench-time: fork");
        return 127;
    }
    if (!pid) {
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "xvf-bench-time: %s: %s\n", argv[optind],
                strerror(errno));
        _exit(127);
    }
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("xvf-bench-time: wait4");
            return 127;
        }
    }
    t1 = now_us();
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (out) {
        f = fopen(out, mode);
        if (!f) {
            perror(out);
            return 127;
        }
    }
    fprintf(f, "%lld,%lld,%lld,%ld,%d\n", t1 - t0, tv_us(&ru.ru_utime),
            tv_us(&ru.ru_stime), ru.ru_maxrss, rc);
    if (f != stderr)
        fclose(f);
    return rc;
}
