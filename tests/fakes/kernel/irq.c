/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The PFs' admin queue interrupts, as /proc/interrupts shows them: one
 * MSI-X line per NVMe PF named "<name>q0", whose count goes up for every
 * admin command the controller completes. The count lives in the file
 * only (outside the snapshot's sys/ and dev/), so a prepare and release
 * still leave the snapshot as it was.
 *
 * Lost interrupts (irq_lost=1, or irq_lost_vfs=1 while VFs are enabled,
 * the R-Car S4's known issue) are what Linux's nvme driver makes of them:
 * the command completes when its timeout handler polls the queue
 * ("completion polled"), so it succeeds after its timeout and the count
 * stays. A command without a timeout of its own would wait
 * admin_timeout (60 s); here it completes at once, so rollbacks stay fast.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define IRQ_FILE "proc/interrupts"
#define IRQ_BASE 24
/* more than long enough for XM_MAX_PF lines */
#define IRQ_BUF 4096

static int irq_path(struct xm_ctx *c, char *path)
{
    return xm_pathf(c, path, XM_PATH, "%s", IRQ_FILE);
}

int xm_irq_build(struct xm_ctx *c)
{
    char path[XM_PATH], buf[IRQ_BUF];
    const struct xm_pf *pf;
    unsigned int i;
    size_t n;
    int r;

    n = snprintf(buf, sizeof(buf), "%12s%11s\n%4s: %10u %10u   IO-APIC    "
                 "2-edge      timer\n", "CPU0", "CPU1", "0", 42u, 0u);
    for (i = 0; i < c->m->npf && n < sizeof(buf); i++) {
        pf = &c->m->pf[i];
        if (pf->nic || !pf->irq)
            continue;
        n += snprintf(buf + n, sizeof(buf) - n, "%4u: %10u %10u  "
                      "PCI-MSIX-%s   0-edge      %sq0\n", IRQ_BASE + i, 0u,
                      0u, pf->bdf, pf->name);
    }
    if (n >= sizeof(buf))
        return -E2BIG;
    r = irq_path(c, path);
    if (!r)
        r = xm_write_file(path, buf, 0444);
    return r;
}

bool xm_irq_lost(struct xm_ctx *c, const struct xm_pf *pf)
{
    return pf->irq_lost || (pf->irq_lost_vfs && xm_numvfs(c, pf) > 0);
}

/* Count one interrupt on the line of @pf, spreading them over both CPUs. */
static int irq_fire(struct xm_ctx *c, const struct xm_pf *pf)
{
    char path[XM_PATH], buf[IRQ_BUF], out[IRQ_BUF], name[48], *line, *nl;
    unsigned long long c0, c1;
    unsigned int irq;
    size_t n = 0, len;
    int r;

    snprintf(name, sizeof(name), " %sq0", pf->name);
    r = irq_path(c, path);
    if (!r)
        r = xm_read_file(path, buf, sizeof(buf));
    if (r)
        return r;
    for (line = buf; *line && n < sizeof(out); line = nl) {
        nl = strchr(line, '\n');
        nl = nl ? nl + 1 : line + strlen(line);
        len = nl - line;
        if (len > strlen(name) + 1 &&
            !strncmp(nl - 1 - strlen(name), name, strlen(name)) &&
            sscanf(line, "%u: %llu %llu", &irq, &c0, &c1) == 3) {
            if (c0 <= c1)
                c0++;
            else
                c1++;
            n += snprintf(out + n, sizeof(out) - n, "%4u: %10llu %10llu  "
                          "PCI-MSIX-%s   0-edge      %sq0\n", irq, c0, c1,
                          pf->bdf, pf->name);
            continue;
        }
        n += snprintf(out + n, sizeof(out) - n, "%.*s", (int)len, line);
    }
    if (n >= sizeof(out))
        return -E2BIG;
    return xm_write_file(path, out, 0444);
}

int xm_irq_complete(struct xm_ctx *c, const struct xm_pf *pf,
                    unsigned int timeout_ms, bool *polled)
{
    struct timespec ts = {
        .tv_sec = timeout_ms / 1000,
        .tv_nsec = (long)(timeout_ms % 1000) * 1000000,
    };

    *polled = xm_irq_lost(c, pf);
    if (!*polled)
        return irq_fire(c, pf);
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
    return 0;
}
