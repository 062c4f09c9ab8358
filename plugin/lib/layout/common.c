/* SPDX-License-Identifier: LGPL-2.1-only */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "layout/internal.h"

void xvf_layout_append(char *buf, size_t len, const char *sep, const char *s)
{
    size_t n = strlen(buf);

    if (n && n + strlen(sep) < len) {
        strcpy(buf + n, sep);
        n += strlen(sep);
    }
    snprintf(buf + n, len - n, "%s", s);
}

void xvf_layout_size_str(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
                                         "PiB" };
    unsigned int u = 0;
    uint64_t div = 1;

    while (u + 1 < sizeof(units) / sizeof(units[0]) &&
           bytes >= div * 1024)
        div *= 1024, u++;
    if (bytes % div == 0)
        snprintf(buf, len, "%" PRIu64 " %s", bytes / div, units[u]);
    else
        snprintf(buf, len, "%.2f %s", (double)bytes / (double)div,
                 units[u]);
}

void xvf_layout_pct_str(uint64_t hundredths, char *buf, size_t len)
{
    if (hundredths % 100)
        snprintf(buf, len, "%" PRIu64 ".%02u%%", hundredths / 100,
                 (unsigned int)(hundredths % 100));
    else
        snprintf(buf, len, "%" PRIu64 "%%", hundredths / 100);
}

void xvf_layout_size_exact(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = { "", "KiB", "MiB", "GiB", "TiB" };
    unsigned int u = 0;

    while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes &&
           bytes % 1024 == 0)
        bytes /= 1024, u++;
    snprintf(buf, len, "%" PRIu64 "%s", bytes, units[u]);
}

uint64_t xvf_layout_ns_bytes(const struct xvf_layout_ns *ns)
{
    return ns->nsze << ns->lbads;
}

const char *xvf_layout_data_str(enum xvf_data data)
{
    switch (data) {
    case XVF_DATA_NONE:
        return "none (NUSE 0: no block written)";
    case XVF_DATA_ZEROS:
        return "unknown (the first MiB reads as zeros)";
    case XVF_DATA_PRESENT:
        return "present (non-zero bytes in the first MiB)";
    case XVF_DATA_UNKNOWN:
        break;
    }
    return "unknown (blocks in use, not readable in this domain)";
}

const char *xvf_layout_nsmgmt_str(const struct xvf_layout_state *st)
{
    switch (st->nsmgmt) {
    case XVF_NSMGMT_NO:
        return "not supported (OACS bit 3 clear): namespaces can be "
               "neither created, deleted, attached nor detached";
    case XVF_NSMGMT_YES:
        return "supported (OACS bit 3; the Commands Supported and Effects "
               "log lists opcode 0Dh)";
    case XVF_NSMGMT_UNVERIFIED:
        return "advertised (OACS bit 3); no Commands Supported and Effects "
               "log to confirm it";
    case XVF_NSMGMT_FAKE:
        break;
    }
    return "advertised in OACS but not implemented (the Commands Supported "
           "and Effects log lacks opcode 0Dh, or the controller answered "
           "Invalid Command Opcode 0x4001, as QEMU does): namespaces can "
           "only be attached and detached";
}

bool xvf_layout_has_id(const uint16_t *ids, unsigned int n, uint16_t id)
{
    unsigned int i;

    for (i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}
