/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * lock-holder.h - another process holding a PF's engine lock, for the
 * tests of the lock's deadline (header only, like tests/lib/harness.h)
 */
#ifndef XVF_LOCK_HOLDER_H
#define XVF_LOCK_HOLDER_H

#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/journal.h"

/**
 * hold_pf_lock() - fork a child that takes the lock of @pf in @state and
 * keeps it until told to go
 * @state:   state directory
 * @pf:      PF address
 * @release: receives the descriptor to give to let_go_lock()
 *
 * Return: the child's pid once it holds the lock, or -1.
 */
static inline pid_t hold_pf_lock(const char *state, const char *pf,
                                 int *release)
{
    int ready[2], go[2], lock = -1;
    char c;
    pid_t pid;

    if (pipe(ready) || pipe(go))
        return -1;
    pid = fork();
    if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        if (xvf_lock_pf(state, pf, &lock))
            _exit(1);
        if (write(ready[1], "L", 1) != 1)
            _exit(1);
        while (read(go[0], &c, 1) < 0)
            ;
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    if (pid < 0 || read(ready[0], &c, 1) != 1) {
        close(ready[0]);
        close(go[1]);
        return -1;
    }
    close(ready[0]);
    *release = go[1];
    return pid;
}

/** let_go_lock() - tell the child of hold_pf_lock() to go, and reap it */
static inline void let_go_lock(pid_t pid, int release)
{
    int status;

    close(release);
    waitpid(pid, &status, 0);
}

/** elapsed_ms() - milliseconds of CLOCK_MONOTONIC since @t0 */
static inline long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 +
           (t.tv_nsec - t0->tv_nsec) / 1000000;
}

#endif
