/* SPDX-License-Identifier: LGPL-2.1-only */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/journal.h"
#include "layout/layout.h"
#include "util/str.h"
#include "util/sysfs.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define DATA_PROBE_BYTES (1024 * 1024)

/* ---- small helpers ---------------------------------------------------- */

static void append(char *buf, size_t len, const char *sep, const char *s)
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

/* The largest binary unit that divides @bytes exactly, for the layout. */
static void size_exact(uint64_t bytes, char *buf, size_t len)
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

/* ---- parsing a layout ------------------------------------------------- */

struct unit {
    const char *name;
    uint64_t mult;
};

static const struct unit units[] = {
    { "", 1 }, { "b", 1 },
    { "k", KiB }, { "kib", KiB }, { "m", MiB }, { "mib", MiB },
    { "g", 1024 * MiB }, { "gib", 1024 * MiB },
    { "t", 1024 * 1024 * MiB }, { "tib", 1024 * 1024 * MiB },
    { "kb", 1000ULL }, { "mb", 1000000ULL }, { "gb", 1000000000ULL },
    { "tb", 1000000000000ULL },
};

static int parse_size(const char *s, struct xvf_layout_entry *e)
{
    char unit[16], *end;
    unsigned long long v, frac = 0;
    unsigned int i, digits = 0;

    if (!strcasecmp(s, "any")) {
        e->size = XVF_LSIZE_ANY;
        return 0;
    }
    if (!strcasecmp(s, "rest")) {
        e->size = XVF_LSIZE_REST;
        return 0;
    }
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    if (*end == '.') {
        /* only for percentages: two decimals */
        for (end++; isdigit((unsigned char)*end); end++) {
            if (++digits > 2)
                return -EINVAL;
            frac = frac * 10 + (*end - '0');
        }
        if (!digits || *xvf_trim(end) != '%')
            return -EINVAL;
        if (digits == 1)
            frac *= 10;
    }
    end = xvf_trim(end);
    if (*end == '%') {
        if (*xvf_trim(end + 1) || v > 100 || (v == 100 && frac))
            return -EINVAL;
        e->size = XVF_LSIZE_PERCENT;
        e->amount = v * 100 + frac;
        return e->amount ? 0 : -EINVAL;
    }
    if (strlen(end) >= sizeof(unit))
        return -EINVAL;
    for (i = 0; end[i]; i++)
        unit[i] = tolower((unsigned char)end[i]);
    unit[i] = '\0';
    if (!strcmp(unit, "blocks") || !strcmp(unit, "block") ||
        !strcmp(unit, "lba") || !strcmp(unit, "lbas")) {
        e->size = XVF_LSIZE_BLOCKS;
        e->amount = v;
        return v ? 0 : -EINVAL;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(unit, units[i].name))
            continue;
        if (!v || v > UINT64_MAX / units[i].mult)
            return -EINVAL;
        e->size = XVF_LSIZE_BYTES;
        e->amount = v * units[i].mult;
        return 0;
    }
    return -EINVAL;
}

static int parse_attach(const char *v, struct xvf_layout_entry *e)
{
    unsigned long id;
    char *end;

    if (!strcasecmp(v, "primary")) {
        e->attach = XVF_LATT_PRIMARY;
        return 0;
    }
    if (!strcasecmp(v, "none")) {
        e->attach = XVF_LATT_NONE;
        return 0;
    }
    if (!strcasecmp(v, "keep")) {
        e->attach = XVF_LATT_KEEP;
        return 0;
    }
    if (!strncasecmp(v, "secondary:", 10))
        v += 10;
    else if (strcasecmp(v, "auto"))
        return -EINVAL;
    if (!strcasecmp(v, "auto")) {
        e->attach = XVF_LATT_AUTO;
        return 0;
    }
    if (!isdigit((unsigned char)*v))
        return -EINVAL;
    errno = 0;
    id = strtoul(v, &end, 0);
    if (errno || *end || id > 0xfffe)
        return -EINVAL;
    e->attach = XVF_LATT_SECONDARY;
    e->scid = id;
    return 0;
}

static int parse_item(char *item, bool first, struct xvf_layout_entry *e,
                      bool *have_size, struct xvf_err *err)
{
    char *eq = strchr(item, '='), *k, *v, *end;
    unsigned long x;

    if (!strcasecmp(item, "keep")) {
        e->keep = true;
        return 0;
    }
    if (!eq) {
        if (!first || parse_size(item, e))
            return xvf_err_set(err, -EINVAL, "ns%u: '%s' is not a size "
                               "(512MiB, 2G, 1048576blocks, 50%%, rest, "
                               "any) nor an option (attach=, lba=, lbaf=, "
                               "keep)", e->nsid, item);
        *have_size = true;
        return 0;
    }
    *eq = '\0';
    k = xvf_trim(item);
    v = xvf_trim(eq + 1);
    if (!strcasecmp(k, "size")) {
        if (*have_size || parse_size(v, e))
            return xvf_err_set(err, -EINVAL, "ns%u: bad size '%s'",
                               e->nsid, v);
        *have_size = true;
        return 0;
    }
    if (!strcasecmp(k, "attach")) {
        if (parse_attach(v, e))
            return xvf_err_set(err, -EINVAL, "ns%u: attach=%s: want "
                               "primary, secondary:N, secondary:auto, "
                               "none or keep", e->nsid, v);
        return 0;
    }
    if (!strcasecmp(k, "lba")) {
        errno = 0;
        x = strtoul(v, &end, 10);
        if (errno || *end || x < 512 || x > 65536 || (x & (x - 1)))
            return xvf_err_set(err, -EINVAL, "ns%u: lba=%s: want a "
                               "logical block size in bytes, a power of "
                               "two from 512", e->nsid, v);
        e->lbads = __builtin_ctzl(x);
        return 0;
    }
    if (!strcasecmp(k, "lbaf")) {
        errno = 0;
        x = strtoul(v, &end, 10);
        if (errno || *end || !*v || x >= XVF_LAYOUT_MAX_LBAF)
            return xvf_err_set(err, -EINVAL, "ns%u: lbaf=%s: want an LBA "
                               "format index 0-%u", e->nsid, v,
                               XVF_LAYOUT_MAX_LBAF - 1);
        e->lbaf = x;
        return 0;
    }
    return xvf_err_set(err, -EINVAL, "ns%u: unknown option '%s' (size=, "
                       "attach=, lba=, lbaf=, keep)", e->nsid, k);
}

static int parse_entry(char *s, struct xvf_layout *l, struct xvf_err *err)
{
    struct xvf_layout_entry *e;
    char *colon, *item, *save = NULL, *end;
    bool have_size = false, first = true;
    unsigned long nsid;
    unsigned int i;
    int r;

    colon = strchr(s, ':');
    if (strncasecmp(s, "ns", 2) || !colon)
        return xvf_err_set(err, -EINVAL, "'%s': an entry is 'nsN: SIZE, "
                           "attach=WHERE'", s);
    *colon = '\0';
    errno = 0;
    nsid = strtoul(xvf_trim(s + 2), &end, 10);
    if (errno || *end || !nsid || nsid >= NVME_NSID_ALL - 1 ||
        !isdigit((unsigned char)*xvf_trim(s + 2)))
        return xvf_err_set(err, -EINVAL, "'%s': not a namespace id", s);
    for (i = 0; i < l->n; i++)
        if (l->e[i].nsid == nsid)
            return xvf_err_set(err, -EINVAL, "ns%lu named twice", nsid);
    if (l->n >= XVF_LAYOUT_MAX_NS)
        return xvf_err_set(err, -EINVAL, "more than %u namespaces",
                           XVF_LAYOUT_MAX_NS);
    e = &l->e[l->n];
    memset(e, 0, sizeof(*e));
    e->nsid = nsid;
    e->lbaf = -1;
    e->size = XVF_LSIZE_ANY;
    e->attach = XVF_LATT_KEEP;
    for (item = strtok_r(colon + 1, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        item = xvf_trim(item);
        if (!*item)
            return xvf_err_set(err, -EINVAL, "ns%lu: empty item", nsid);
        r = parse_item(item, first, e, &have_size, err);
        if (r)
            return r;
        first = false;
    }
    if (e->keep && (have_size || e->attach != XVF_LATT_KEEP || e->lbads ||
                    e->lbaf >= 0))
        return xvf_err_set(err, -EINVAL, "ns%lu: 'keep' leaves the "
                           "namespace as it is and takes no other option",
                           nsid);
    if (!e->keep && !have_size)
        return xvf_err_set(err, -EINVAL, "ns%lu: no size (say 'any' to "
                           "take an existing namespace whatever its size, "
                           "or 'keep')", nsid);
    if (e->lbads && e->lbaf >= 0)
        return xvf_err_set(err, -EINVAL, "ns%lu: lba= and lbaf= both "
                           "choose the format; give one", nsid);
    l->n++;
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct xvf_layout_entry *x = a, *y = b;

    return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

int xvf_layout_parse(const char *text, struct xvf_layout *l,
                     struct xvf_err *err)
{
    struct xvf_layout tmp;
    char *buf, *p, *q, *entry, *save = NULL;
    unsigned int i, rest = 0;
    int r = 0;

    if (strlen(text) > XVF_LAYOUT_TEXT_MAX)
        return xvf_err_set(err, -EINVAL, "layout longer than %u bytes",
                           XVF_LAYOUT_TEXT_MAX);
    buf = strdup(text);
    if (!buf)
        return xvf_err_set(err, -ENOMEM, "out of memory");
    /* comments run to the end of their line */
    for (p = buf; (p = strchr(p, '#')); ) {
        q = strchr(p, '\n');
        if (!q) {
            *p = '\0';
            break;
        }
        memset(p, ' ', q - p);
        p = q;
    }
    memset(&tmp, 0, sizeof(tmp));
    for (entry = strtok_r(buf, ";\n", &save); entry && !r;
         entry = strtok_r(NULL, ";\n", &save)) {
        entry = xvf_trim(entry);
        if (*entry)
            r = parse_entry(entry, &tmp, err);
    }
    free(buf);
    if (r)
        return r;
    if (!tmp.n)
        return xvf_err_set(err, -EINVAL, "empty layout: name at least one "
                           "namespace");
    for (i = 0; i < tmp.n; i++)
        rest += tmp.e[i].size == XVF_LSIZE_REST && !tmp.e[i].keep;
    if (rest > 1)
        return xvf_err_set(err, -EINVAL, "only one namespace can take "
                           "'rest'");
    qsort(tmp.e, tmp.n, sizeof(tmp.e[0]), cmp_entry);
    *l = tmp;
    return 0;
}

void xvf_layout_format(const struct xvf_layout *l, char *buf, size_t len)
{
    char item[160], size[48];
    unsigned int i;

    if (!len)
        return;
    buf[0] = '\0';
    for (i = 0; i < l->n; i++) {
        const struct xvf_layout_entry *e = &l->e[i];
        int n;

        if (e->keep) {
            snprintf(item, sizeof(item), "ns%u: keep", e->nsid);
            append(buf, len, "; ", item);
            continue;
        }
        switch (e->size) {
        case XVF_LSIZE_ANY:
            strcpy(size, "any");
            break;
        case XVF_LSIZE_REST:
            strcpy(size, "rest");
            break;
        case XVF_LSIZE_BLOCKS:
            snprintf(size, sizeof(size), "%" PRIu64 "blocks", e->amount);
            break;
        case XVF_LSIZE_PERCENT:
            if (e->amount % 100)
                snprintf(size, sizeof(size), "%" PRIu64 ".%02u%%",
                         e->amount / 100, (unsigned int)(e->amount % 100));
            else
                snprintf(size, sizeof(size), "%" PRIu64 "%%",
                         e->amount / 100);
            break;
        case XVF_LSIZE_BYTES:
            size_exact(e->amount, size, sizeof(size));
            break;
        }
        n = snprintf(item, sizeof(item), "ns%u: %s", e->nsid, size);
        switch (e->attach) {
        case XVF_LATT_KEEP:
            break;
        case XVF_LATT_NONE:
            n += snprintf(item + n, sizeof(item) - n, ", attach=none");
            break;
        case XVF_LATT_PRIMARY:
            n += snprintf(item + n, sizeof(item) - n, ", attach=primary");
            break;
        case XVF_LATT_AUTO:
            n += snprintf(item + n, sizeof(item) - n,
                          ", attach=secondary:auto");
            break;
        case XVF_LATT_SECONDARY:
            n += snprintf(item + n, sizeof(item) - n,
                          ", attach=secondary:0x%x", e->scid);
            break;
        }
        if (e->lbads)
            n += snprintf(item + n, sizeof(item) - n, ", lba=%u",
                          1u << e->lbads);
        if (e->lbaf >= 0)
            snprintf(item + n, sizeof(item) - n, ", lbaf=%d", e->lbaf);
        append(buf, len, "; ", item);
    }
}

/* ---- reading the state ------------------------------------------------ */

static uint64_t le128_to_u64(const uint8_t b[16])
{
    uint64_t v = 0;
    int i;

    for (i = 15; i >= 8; i--)
        if (b[i])
            return UINT64_MAX;
    for (i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static unsigned int flbas_index(uint8_t flbas)
{
    return (flbas & 0xf) | ((flbas >> 1) & 0x30);
}

static void lbafs_from_id(struct xvf_layout_state *st,
                          const struct nvme_id_ns *id, const char *from)
{
    unsigned int i, n = id->nlbaf + 1u;

    if (n > XVF_LAYOUT_MAX_LBAF)
        n = XVF_LAYOUT_MAX_LBAF;
    for (i = 0; i < n; i++) {
        st->lbaf[i].ms = le16toh(id->lbaf[i].ms);
        st->lbaf[i].lbads = id->lbaf[i].ds;
        st->lbaf[i].rp = id->lbaf[i].rp & 3;
    }
    st->nlbaf = n;
    snprintf(st->lbaf_from, sizeof(st->lbaf_from), "%s", from);
}

static int read_namespaces(int fd, struct xvf_layout_state *st,
                           struct xvf_err *err)
{
    uint32_t ids[XVF_LAYOUT_MAX_NS];
    uint16_t ctrls[NVME_ID_CTRL_LIST_MAX];
    bool mgmt = st->oacs & NVME_CTRL_OACS_NS_MGMT;
    struct nvme_id_ns id;
    unsigned int i, j, n, nc;
    int r;

    r = xvf_nvme_ns_list(fd, mgmt, ids, XVF_LAYOUT_MAX_NS, &n, err);
    if (r)
        return r;
    for (i = 0; i < n; i++) {
        struct xvf_layout_ns *ns = &st->ns[st->nns];

        r = xvf_nvme_identify_ns(fd, ids[i], mgmt, &id, err);
        if (r)
            return r;
        if (!le64toh(id.nsze))
            continue;
        memset(ns, 0, sizeof(*ns));
        ns->nsid = ids[i];
        ns->nsze = le64toh(id.nsze);
        ns->ncap = le64toh(id.ncap);
        ns->nuse = le64toh(id.nuse);
        ns->flbas = flbas_index(id.flbas);
        if (ns->flbas > id.nlbaf || ns->flbas >= 64)
            return xvf_err_set(err, -EIO, "namespace %u: LBA format %u "
                               "in use but only %u reported", ns->nsid,
                               ns->flbas, id.nlbaf + 1u);
        ns->lbads = id.lbaf[ns->flbas].ds;
        ns->ms = le16toh(id.lbaf[ns->flbas].ms);
        ns->nmic = id.nmic;
        if (ns->lbads < 9 || ns->lbads > 16)
            return xvf_err_set(err, -EIO, "namespace %u: LBA data size "
                               "2^%u bytes", ns->nsid, ns->lbads);
        if (!st->nlbaf) {
            char from[8];

            snprintf(from, sizeof(from), "ns%u", ns->nsid);
            lbafs_from_id(st, &id, from);
        }
        if (mgmt) {
            r = xvf_nvme_ns_ctrls(fd, ns->nsid, ctrls, &nc, err);
            if (r)
                return r;
            for (j = 0; j < nc && j < XVF_LAYOUT_MAX_ATT; j++)
                ns->att[j] = ctrls[j];
            ns->natt = j;
        } else {
            ns->att[0] = st->cntlid;
            ns->natt = 1;
        }
        st->nns++;
    }
    return 0;
}

static void read_effects(int fd, struct xvf_layout_state *st)
{
    struct nvme_cmd_effects_log *log;
    struct xvf_err ignored = { 0 };

    if (!(st->oacs & NVME_CTRL_OACS_NS_MGMT)) {
        st->nsmgmt = XVF_NSMGMT_NO;
        return;
    }
    st->nsmgmt = XVF_NSMGMT_UNVERIFIED;
    if (!(st->lpa & NVME_CTRL_LPA_CMD_EFFECTS))
        return;
    log = malloc(sizeof(*log));
    if (!log)
        return;
    if (!xvf_nvme_cmd_effects(fd, log, &ignored))
        st->nsmgmt = le32toh(log->acs[nvme_admin_ns_mgmt]) &
                     NVME_CMD_EFFECTS_CSUPP ? XVF_NSMGMT_YES :
                     XVF_NSMGMT_FAKE;
    free(log);
}

static void read_granularity(int fd, struct xvf_layout_state *st)
{
    struct nvme_id_ns_granularity_list *g;
    struct xvf_err ignored = { 0 };
    unsigned int i, n;
    uint64_t v;

    if (!(st->ctratt & NVME_CTRL_CTRATT_NAMESPACE_GRANULARITY))
        return;
    g = malloc(sizeof(*g));
    if (!g)
        return;
    if (!xvf_nvme_ns_granularity(fd, g, &ignored)) {
        /* one descriptor per LBA format when bit 0 is set: the coarsest
           applies to every format, which is always safe */
        n = g->num_descriptors + 1u;
        if (n > NVME_ID_ND_DESCRIPTOR_MAX)
            n = NVME_ID_ND_DESCRIPTOR_MAX;
        for (i = 0; i < n; i++) {
            v = le64toh(g->entry[i].nszegran);
            if (v > st->nszeg)
                st->nszeg = v;
            v = le64toh(g->entry[i].ncapgran);
            if (v > st->ncapg)
                st->ncapg = v;
        }
    }
    free(g);
}

static int read_secondaries(int fd, const struct xvf_nvme_pf *pf,
                            struct xvf_layout_state *st, struct xvf_err *err)
{
    struct xvf_nvme_secondary *sec;
    unsigned int i, n = 0;
    int r;

    if (!(st->oacs & NVME_CTRL_OACS_VIRT_MGMT))
        return 0;
    sec = calloc(XVF_NVME_MAX_SECONDARIES, sizeof(*sec));
    if (!sec)
        return xvf_err_set(err, -ENOMEM, "out of memory");
    r = xvf_nvme_secondaries(fd, st->cntlid, sec, &n, err);
    if (!r) {
        for (i = 0; i < n; i++) {
            struct xvf_layout_sec *s = &st->sec[i];

            memset(s, 0, sizeof(*s));
            s->scid = sec[i].scid;
            s->vfn = sec[i].vfn;
            s->online = sec[i].online;
            if (xvf_sriov_virtfn(pf->bdf, s->vfn, s->vf))
                s->vf[0] = '\0';
            if (!s->vf[0] ||
                xvf_pci_driver(s->vf, s->driver, sizeof(s->driver)))
                s->driver[0] = '\0';
        }
        st->nsec = n;
    }
    free(sec);
    return r;
}

static struct xvf_layout_ns *state_ns(struct xvf_layout_state *st,
                                      uint32_t nsid)
{
    unsigned int i;

    for (i = 0; i < st->nns; i++)
        if (st->ns[i].nsid == nsid)
            return &st->ns[i];
    return NULL;
}

static const struct xvf_layout_sec *state_sec(
    const struct xvf_layout_state *st, uint16_t scid)
{
    unsigned int i;

    for (i = 0; i < st->nsec; i++)
        if (st->sec[i].scid == scid)
            return &st->sec[i];
    return NULL;
}

static void read_journal(const char *dir, const char *bdf,
                         struct xvf_layout_state *st)
{
    struct xvf_entry *list = NULL;
    struct xvf_layout_ns *ns;
    unsigned int i, j, n;
    char who[64];

    if (!dir || xvf_journal_list(dir, bdf, &list, &n))
        return;
    for (i = 0; i < n; i++) {
        if (list[i].cls != XVF_CLASS_NVME)
            continue;
        snprintf(who, sizeof(who), "%.30s: VF %.16s", list[i].owner,
                 list[i].vf[0] ? list[i].vf : "-");
        ns = state_ns(st, list[i].nsid);
        if (ns)
            snprintf(ns->held, sizeof(ns->held), "%s", who);
        for (j = 0; j < st->nsec; j++)
            if (st->sec[j].scid == list[i].scid)
                snprintf(st->sec[j].held, sizeof(st->sec[j].held), "%s",
                         who);
    }
    free(list);
}

/* ---- what the driver domain does with a namespace --------------------- */

/*
 * The kernel's nodes of a namespace live under the controllers that see
 * it: /sys/class/nvme/nvmeC/nvmeCnN, or with native multipath the path
 * node nvmeSc<C>nN there and the disk nvmeSnN (nvme_mpath_set_disk_name).
 * Each has an "nsid" attribute.
 */
static bool ns_node_name(const char *name, char *disk, size_t len)
{
    unsigned int s, c, n;
    int end = 0;

    if (sscanf(name, "nvme%uc%un%u%n", &s, &c, &n, &end) == 3 &&
        !name[end]) {
        snprintf(disk, len, "nvme%un%u", s, n);
        return true;
    }
    end = 0;
    if (sscanf(name, "nvme%un%u%n", &s, &n, &end) == 2 && !name[end]) {
        snprintf(disk, len, "%.31s", name);
        return true;
    }
    return false;
}

/**
 * ctrl_ns_nodes() - call @fn for every namespace node of controller @ctrl
 */
static void ctrl_ns_nodes(const char *ctrl,
                          void (*fn)(void *, uint32_t, const char *),
                          void *opaque)
{
    char path[PATH_MAX], disk[64];
    unsigned long nsid;
    struct dirent *de;
    DIR *d;

    if (xvf_path(path, sizeof(path), "/sys/class/nvme/%s", ctrl))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d))) {
        if (!ns_node_name(de->d_name, disk, sizeof(disk)) ||
            xvf_path(path, sizeof(path), "/sys/class/nvme/%s/%s/nsid", ctrl,
                     de->d_name) ||
            xvf_sysfs_read_ulong(path, &nsid))
            continue;
        fn(opaque, nsid, disk);
    }
    closedir(d);
}

static void note_blockdev(void *opaque, uint32_t nsid, const char *disk)
{
    struct xvf_layout_state *st = opaque;
    struct xvf_layout_ns *ns = state_ns(st, nsid);

    if (ns && !ns->use.blockdev[0])
        snprintf(ns->use.blockdev, sizeof(ns->use.blockdev), "%.31s",
                 disk);
}

/* Controllers of the PF's subsystem: its own, and VFs bound in DomD. */
static void find_blockdevs(const struct xvf_nvme_pf *pf,
                           struct xvf_layout_state *st)
{
    char path[PATH_MAX], nqn[256], other[256];
    struct dirent *de;
    DIR *d;

    ctrl_ns_nodes(pf->ctrl, note_blockdev, st);
    if (xvf_path(path, sizeof(path), "/sys/class/nvme/%s/subsysnqn",
                 pf->ctrl) ||
        xvf_sysfs_read(path, nqn, sizeof(nqn)) ||
        xvf_path(path, sizeof(path), "/sys/class/nvme"))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, pf->ctrl) ||
            xvf_path(path, sizeof(path), "/sys/class/nvme/%s/subsysnqn",
                     de->d_name) ||
            xvf_sysfs_read(path, other, sizeof(other)) ||
            strcmp(nqn, other))
            continue;
        ctrl_ns_nodes(de->d_name, note_blockdev, st);
    }
    closedir(d);
}

#define MAX_PARTS 64

/* The disk and its partitions: names and "maj:min". */
struct disk_parts {
    unsigned int n;
    char name[MAX_PARTS][40];
    char dev[MAX_PARTS][24];
};

static void disk_parts(const char *disk, struct disk_parts *p)
{
    char path[PATH_MAX];
    struct dirent *de;
    size_t len = strlen(disk);
    DIR *d;

    p->n = 0;
    if (!xvf_path(path, sizeof(path), "/sys/class/block/%s/dev", disk) &&
        !xvf_sysfs_read(path, p->dev[0], sizeof(p->dev[0]))) {
        snprintf(p->name[0], sizeof(p->name[0]), "%s", disk);
        p->n = 1;
    }
    if (xvf_path(path, sizeof(path), "/sys/class/block/%s", disk))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d)) && p->n < MAX_PARTS) {
        if (strncmp(de->d_name, disk, len) || !de->d_name[len] ||
            strlen(de->d_name) >= sizeof(p->name[0]) ||
            xvf_path(path, sizeof(path), "/sys/class/block/%s/%s/dev", disk,
                     de->d_name) ||
            xvf_sysfs_read(path, p->dev[p->n], sizeof(p->dev[0])))
            continue;
        memcpy(p->name[p->n], de->d_name, strlen(de->d_name) + 1);
        p->n++;
    }
    closedir(d);
}

static bool in_parts(const struct disk_parts *p, const char *dev,
                     bool by_name)
{
    unsigned int i;

    for (i = 0; i < p->n; i++)
        if (!strcmp(by_name ? p->name[i] : p->dev[i], dev))
            return true;
    return false;
}

static void find_mounts(const struct disk_parts *p, struct xvf_layout_use *u)
{
    char path[PATH_MAX], line[4096], majmin[32], mnt[PATH_MAX];
    FILE *f;

    if (xvf_path(path, sizeof(path), "/proc/self/mountinfo"))
        return;
    f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%*s %*s %31s %*s %4095s", majmin, mnt) != 2 ||
            !in_parts(p, majmin, false))
            continue;
        append(u->mounts, sizeof(u->mounts), ", ", mnt);
    }
    fclose(f);
}

static void find_swap(const struct disk_parts *p, struct xvf_layout_use *u)
{
    char path[PATH_MAX], line[1024], dev[PATH_MAX];
    const char *base;
    FILE *f;

    if (xvf_path(path, sizeof(path), "/proc/swaps"))
        return;
    f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%4095s", dev) != 1 || strncmp(dev, "/dev/", 5))
            continue;
        base = strrchr(dev, '/') + 1;
        if (in_parts(p, base, true))
            u->swap = true;
    }
    fclose(f);
}

static void find_holders(const struct disk_parts *p,
                         struct xvf_layout_use *u)
{
    char path[PATH_MAX];
    struct dirent *de;
    unsigned int i;
    DIR *d;

    for (i = 0; i < p->n; i++) {
        if (i ? xvf_path(path, sizeof(path), "/sys/class/block/%s/%s/"
                         "holders", p->name[0], p->name[i]) :
                xvf_path(path, sizeof(path), "/sys/class/block/%s/holders",
                         p->name[0]))
            continue;
        d = opendir(path);
        if (!d)
            continue;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.')
                append(u->holders, sizeof(u->holders), ", ", de->d_name);
        closedir(d);
    }
}

static void find_openers(const struct disk_parts *p,
                         struct xvf_layout_use *u)
{
    char path[PATH_MAX], link[PATH_MAX], comm[64], who[96];
    struct dirent *de, *fe;
    DIR *d, *fd;
    ssize_t n;

    if (xvf_path(path, sizeof(path), "/proc"))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d))) {
        bool found = false;

        if (!isdigit((unsigned char)de->d_name[0]) ||
            (pid_t)strtol(de->d_name, NULL, 10) == getpid() ||
            xvf_path(path, sizeof(path), "/proc/%s/fd", de->d_name))
            continue;
        fd = opendir(path);
        if (!fd)
            continue;
        while (!found && (fe = readdir(fd))) {
            if (fe->d_name[0] == '.' ||
                xvf_path(path, sizeof(path), "/proc/%s/fd/%s", de->d_name,
                         fe->d_name))
                continue;
            n = readlink(path, link, sizeof(link) - 1);
            if (n <= 5)
                continue;
            link[n] = '\0';
            found = !strncmp(link, "/dev/", 5) &&
                    in_parts(p, link + 5, true);
        }
        closedir(fd);
        if (!found)
            continue;
        if (xvf_path(path, sizeof(path), "/proc/%s/comm", de->d_name) ||
            xvf_sysfs_read(path, comm, sizeof(comm)))
            strcpy(comm, "?");
        snprintf(who, sizeof(who), "%.16s (%.60s)", de->d_name, comm);
        append(u->openers, sizeof(u->openers), ", ", who);
    }
    closedir(d);
}

/*
 * O_EXCL on a block device fails with EBUSY while anyone claims it:
 * a mounted file system, swap, device mapper, md, another O_EXCL opener.
 */
static void probe_device(const char *disk, const struct xvf_layout_ns *ns,
                         struct xvf_layout_use *u)
{
    char path[PATH_MAX];
    unsigned char *buf;
    struct stat st;
    ssize_t n, got = 0;
    int fd;

    if (xvf_path(path, sizeof(path), "/dev/%s", disk) || stat(path, &st))
        return;
    if (S_ISBLK(st.st_mode)) {
        fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 && errno == EBUSY)
            u->claimed = true;
        if (fd >= 0)
            close(fd);
    }
    if (!ns->nuse)
        return;
    buf = malloc(DATA_PROBE_BYTES);
    fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    while (fd >= 0 && got < DATA_PROBE_BYTES) {
        n = read(fd, buf + got, DATA_PROBE_BYTES - got);
        if (n <= 0)
            break;
        got += n;
    }
    if (fd >= 0)
        close(fd);
    if (got > 0) {
        u->data = XVF_DATA_ZEROS;
        for (n = 0; n < got; n++)
            if (buf[n]) {
                u->data = XVF_DATA_PRESENT;
                break;
            }
    }
    free(buf);
}

static void read_use(const struct xvf_nvme_pf *pf,
                     struct xvf_layout_state *st)
{
    struct disk_parts *p = malloc(sizeof(*p));
    unsigned int i;

    find_blockdevs(pf, st);
    for (i = 0; i < st->nns; i++) {
        struct xvf_layout_ns *ns = &st->ns[i];
        struct xvf_layout_use *u = &ns->use;

        u->data = ns->nuse ? XVF_DATA_UNKNOWN : XVF_DATA_NONE;
        if (!u->blockdev[0] || !p)
            continue;
        disk_parts(u->blockdev, p);
        find_mounts(p, u);
        find_swap(p, u);
        find_holders(p, u);
        find_openers(p, u);
        probe_device(u->blockdev, ns, u);
    }
    free(p);
}

int xvf_layout_read(const struct xvf_nvme_pf *pf, const char *state_dir,
                    struct xvf_layout_state *st, struct xvf_err *err)
{
    struct nvme_id_ctrl *id;
    struct nvme_id_ns *ns;
    int fd = -1, r;

    memset(st, 0, sizeof(*st));
    id = malloc(sizeof(*id));
    ns = malloc(sizeof(*ns));
    if (!id || !ns) {
        r = xvf_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    snprintf(st->ctrl, sizeof(st->ctrl), "%s", pf->ctrl);
    snprintf(st->bdf, sizeof(st->bdf), "%s", pf->bdf);
    r = xvf_nvme_open(pf, &fd, err);
    if (r)
        goto out;
    r = xvf_nvme_identify_ctrl(fd, id, err);
    if (r)
        goto out;
    xvf_trim_copy(st->serial, sizeof(st->serial), id->sn, sizeof(id->sn));
    xvf_trim_copy(st->model, sizeof(st->model), id->mn, sizeof(id->mn));
    st->cntlid = le16toh(id->cntlid);
    st->oacs = le16toh(id->oacs);
    st->ctratt = le32toh(id->ctratt);
    st->lpa = id->lpa;
    st->nn = le32toh(id->nn);
    st->tnvmcap = le128_to_u64(id->tnvmcap);
    st->unvmcap = le128_to_u64(id->unvmcap);
    read_effects(fd, st);
    read_granularity(fd, st);
    if (st->nsmgmt == XVF_NSMGMT_YES || st->nsmgmt == XVF_NSMGMT_UNVERIFIED) {
        struct xvf_err ignored = { 0 };

        if (!xvf_nvme_identify_ns(fd, NVME_NSID_ALL, false, ns, &ignored))
            lbafs_from_id(st, ns, "common");
    }
    r = read_namespaces(fd, st, err);
    if (r)
        goto out;
    r = read_secondaries(fd, pf, st, err);
    if (r)
        goto out;
    read_journal(state_dir, pf->bdf, st);
    read_use(pf, st);
out:
    if (fd >= 0)
        close(fd);
    free(id);
    free(ns);
    return r;
}

/* ---- dump ------------------------------------------------------------- */

#define DUMP_MAGIC "# xen-vfctl nvme-layout dump 1"

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    char *np;
    int n;

    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0,
                  fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (b->p && b->len + n < b->cap) {
        b->len += n;
        return;
    }
    np = realloc(b->p, b->cap + n + 4096);
    if (!np) {
        b->oom = true;
        return;
    }
    b->p = np;
    b->cap += n + 4096;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += n;
}

/* A value: "-" for empty, double quotes around anything with blanks. */
static void sb_val(struct sbuf *b, const char *key, const char *v)
{
    const char *s;
    bool quote = false;

    if (!*v) {
        sb_printf(b, " %s=-", key);
        return;
    }
    for (s = v; *s; s++)
        if (isspace((unsigned char)*s) || *s == '"' || *s == '=')
            quote = true;
    if (!quote) {
        sb_printf(b, " %s=%s", key, v);
        return;
    }
    sb_printf(b, " %s=\"", key);
    for (s = v; *s; s++)
        sb_printf(b, "%c", *s == '"' ? '\'' : *s == '\n' ? ' ' : *s);
    sb_printf(b, "\"");
}

static const char *const nsmgmt_names[] = {
    [XVF_NSMGMT_NO] = "no",
    [XVF_NSMGMT_YES] = "yes",
    [XVF_NSMGMT_UNVERIFIED] = "unverified",
    [XVF_NSMGMT_FAKE] = "fake",
};

static const char *const data_names[] = {
    [XVF_DATA_UNKNOWN] = "unknown",
    [XVF_DATA_NONE] = "none",
    [XVF_DATA_ZEROS] = "zeros",
    [XVF_DATA_PRESENT] = "present",
};

char *xvf_layout_dump(const struct xvf_layout_state *st)
{
    struct sbuf b = { 0 };
    unsigned int i, j;
    char att[XVF_LAYOUT_MAX_ATT * 8];

    sb_printf(&b, "%s\n", DUMP_MAGIC);
    sb_printf(&b, "# what xen-vfctl nvme-layout read from the controller "
              "and the driver domain;\n# check a layout against it with "
              "xen-vfctl nvme-layout --from-dump FILE LAYOUT\n");
    sb_printf(&b, "ctrl");
    sb_val(&b, "name", st->ctrl);
    sb_val(&b, "bdf", st->bdf);
    sb_val(&b, "serial", st->serial);
    sb_val(&b, "model", st->model);
    sb_printf(&b, " cntlid=0x%x oacs=0x%x ctratt=0x%x lpa=0x%x nn=%u "
              "tnvmcap=%" PRIu64 " unvmcap=%" PRIu64 " nsmgmt=%s "
              "nszeg=%" PRIu64 " ncapg=%" PRIu64, st->cntlid, st->oacs,
              st->ctratt, st->lpa, st->nn, st->tnvmcap, st->unvmcap,
              nsmgmt_names[st->nsmgmt], st->nszeg, st->ncapg);
    sb_val(&b, "lbaf_from", st->lbaf_from);
    sb_printf(&b, "\n");
    for (i = 0; i < st->nlbaf; i++)
        sb_printf(&b, "lbaf index=%u lbads=%u ms=%u rp=%u\n", i,
                  st->lbaf[i].lbads, st->lbaf[i].ms, st->lbaf[i].rp);
    for (i = 0; i < st->nsec; i++) {
        const struct xvf_layout_sec *s = &st->sec[i];

        sb_printf(&b, "sec scid=0x%x vfn=%u online=%u", s->scid, s->vfn,
                  s->online);
        sb_val(&b, "vf", s->vf);
        sb_val(&b, "driver", s->driver);
        sb_val(&b, "held", s->held);
        sb_printf(&b, "\n");
    }
    for (i = 0; i < st->nns; i++) {
        const struct xvf_layout_ns *ns = &st->ns[i];
        const struct xvf_layout_use *u = &ns->use;

        att[0] = '\0';
        for (j = 0; j < ns->natt; j++)
            snprintf(att + strlen(att), sizeof(att) - strlen(att),
                     "%s0x%x", j ? "," : "", ns->att[j]);
        sb_printf(&b, "ns nsid=%u nsze=%" PRIu64 " ncap=%" PRIu64
                  " nuse=%" PRIu64 " flbas=%u lbads=%u ms=%u nmic=%u",
                  ns->nsid, ns->nsze, ns->ncap, ns->nuse, ns->flbas,
                  ns->lbads, ns->ms, ns->nmic);
        sb_val(&b, "att", att);
        sb_val(&b, "held", ns->held);
        sb_val(&b, "blockdev", u->blockdev);
        sb_val(&b, "mounts", u->mounts);
        sb_val(&b, "holders", u->holders);
        sb_printf(&b, " swap=%u claimed=%u", u->swap, u->claimed);
        sb_val(&b, "openers", u->openers);
        sb_printf(&b, " data=%s\n", data_names[u->data]);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Splits "key=value" tokens; a value may be "double quoted". */
static char *next_token(char **p, char **key, char **val)
{
    char *s = *p, *start, *out;

    while (*s && isspace((unsigned char)*s))
        s++;
    if (!*s)
        return NULL;
    start = out = s;
    *val = NULL;
    while (*s && !isspace((unsigned char)*s)) {
        if (*s == '=' && !*val) {
            *out++ = '\0';
            *val = out;
            s++;
            if (*s == '"') {
                for (s++; *s && *s != '"'; )
                    *out++ = *s++;
                if (*s == '"')
                    s++;
            }
            continue;
        }
        *out++ = *s++;
    }
    if (*s)
        s++;
    *out = '\0';
    *p = s;
    *key = start;
    return start;
}

struct field {
    const char *name;
    char type;              /* 's' string, 'u' uint64, 'e' enum */
    size_t size;            /* string size, or integer size */
    void *p;
    const char *const *names;
    unsigned int nnames;
};

static int set_field(const struct field *f, const char *v)
{
    unsigned long long x;
    unsigned int i;
    char *end;

    switch (f->type) {
    case 's':
        if (!strcmp(v, "-"))
            v = "";
        if (strlen(v) >= f->size)
            return -EINVAL;
        strcpy(f->p, v);
        return 0;
    case 'e':
        for (i = 0; i < f->nnames; i++)
            if (!strcmp(v, f->names[i])) {
                *(unsigned int *)f->p = i;
                return 0;
            }
        return -EINVAL;
    }
    errno = 0;
    x = strtoull(v, &end, 0);
    if (errno || end == v || *end)
        return -EINVAL;
    switch (f->size) {
    case 1:
        if (x > UINT8_MAX)
            return -EINVAL;
        *(uint8_t *)f->p = x;
        return 0;
    case 2:
        if (x > UINT16_MAX)
            return -EINVAL;
        *(uint16_t *)f->p = x;
        return 0;
    case 4:
        if (x > UINT32_MAX)
            return -EINVAL;
        *(uint32_t *)f->p = x;
        return 0;
    }
    *(uint64_t *)f->p = x;
    return 0;
}

#define FS(n, v) { n, 's', sizeof(v), (v), NULL, 0 }
#define FU(n, v) { n, 'u', sizeof(v), &(v), NULL, 0 }
#define FB(n, v) { n, 'b', 0, &(v), NULL, 0 }
#define FE(n, v, t) { n, 'e', 0, &(v), t, sizeof(t) / sizeof(t[0]) }

static int set_fields(const struct field *f, unsigned int n, char *rest,
                      const char **bad)
{
    char *k, *v;
    unsigned int i, b;

    while (next_token(&rest, &k, &v)) {
        *bad = k;
        if (!v)
            return -EINVAL;
        for (i = 0; i < n && strcmp(f[i].name, k); i++)
            ;
        if (i == n)
            return -EINVAL;
        if (f[i].type == 'b') {
            if (strcmp(v, "0") && strcmp(v, "1"))
                return -EINVAL;
            b = *v == '1';
            *(bool *)f[i].p = b;
            continue;
        }
        if (set_field(&f[i], v))
            return -EINVAL;
    }
    return 0;
}

static int parse_att_list(char *v, struct xvf_layout_ns *ns)
{
    char *tok, *save = NULL, *end;
    unsigned long id;

    ns->natt = 0;
    if (!strcmp(v, "-") || !*v)
        return 0;
    for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",",
                                                            &save)) {
        errno = 0;
        id = strtoul(tok, &end, 0);
        if (errno || *end || id > 0xffff || ns->natt >= XVF_LAYOUT_MAX_ATT)
            return -EINVAL;
        ns->att[ns->natt++] = id;
    }
    return 0;
}

static int undump_line(char *line, struct xvf_layout_state *st,
                       const char **bad)
{
    char *rest = line, *word, *v, att[XVF_LAYOUT_MAX_ATT * 8] = "";
    unsigned int idx = 0;

    if (!next_token(&rest, &word, &v) || v)
        return -EINVAL;
    *bad = word;
    if (!strcmp(word, "ctrl")) {
        struct field f[] = {
            FS("name", st->ctrl), FS("bdf", st->bdf),
            FS("serial", st->serial), FS("model", st->model),
            FU("cntlid", st->cntlid), FU("oacs", st->oacs),
            FU("ctratt", st->ctratt), FU("lpa", st->lpa), FU("nn", st->nn),
            FU("tnvmcap", st->tnvmcap), FU("unvmcap", st->unvmcap),
            FE("nsmgmt", st->nsmgmt, nsmgmt_names),
            FU("nszeg", st->nszeg), FU("ncapg", st->ncapg),
            FS("lbaf_from", st->lbaf_from),
        };

        return set_fields(f, sizeof(f) / sizeof(f[0]), rest, bad);
    }
    if (!strcmp(word, "lbaf")) {
        struct xvf_layout_lbaf x = { 0 };
        struct field f[] = {
            FU("index", idx), FU("lbads", x.lbads), FU("ms", x.ms),
            FU("rp", x.rp),
        };

        if (set_fields(f, sizeof(f) / sizeof(f[0]), rest, bad))
            return -EINVAL;
        if (idx != st->nlbaf || idx >= XVF_LAYOUT_MAX_LBAF || x.lbads < 9 ||
            x.lbads > 16)
            return -EINVAL;
        st->lbaf[st->nlbaf++] = x;
        return 0;
    }
    if (!strcmp(word, "sec")) {
        struct xvf_layout_sec s = { 0 };
        struct field f[] = {
            FU("scid", s.scid), FU("vfn", s.vfn), FB("online", s.online),
            FS("vf", s.vf), FS("driver", s.driver), FS("held", s.held),
        };

        if (st->nsec >= XVF_NVME_MAX_SECONDARIES ||
            set_fields(f, sizeof(f) / sizeof(f[0]), rest, bad))
            return -EINVAL;
        st->sec[st->nsec++] = s;
        return 0;
    }
    if (!strcmp(word, "ns")) {
        struct xvf_layout_ns ns = { 0 };
        unsigned int i;
        struct field f[] = {
            FU("nsid", ns.nsid), FU("nsze", ns.nsze), FU("ncap", ns.ncap),
            FU("nuse", ns.nuse), FU("flbas", ns.flbas),
            FU("lbads", ns.lbads), FU("ms", ns.ms), FU("nmic", ns.nmic),
            FS("att", att), FS("held", ns.held),
            FS("blockdev", ns.use.blockdev), FS("mounts", ns.use.mounts),
            FS("holders", ns.use.holders), FB("swap", ns.use.swap),
            FB("claimed", ns.use.claimed), FS("openers", ns.use.openers),
            FE("data", ns.use.data, data_names),
        };

        if (st->nns >= XVF_LAYOUT_MAX_NS ||
            set_fields(f, sizeof(f) / sizeof(f[0]), rest, bad))
            return -EINVAL;
        *bad = "att";
        if (parse_att_list(att, &ns))
            return -EINVAL;
        *bad = "nsid";
        if (!ns.nsid || !ns.nsze || ns.lbads < 9 || ns.lbads > 16)
            return -EINVAL;
        for (i = 0; i < st->nns; i++)
            if (st->ns[i].nsid >= ns.nsid)
                return -EINVAL;
        st->ns[st->nns++] = ns;
        return 0;
    }
    return -EINVAL;
}

int xvf_layout_undump(const char *text, struct xvf_layout_state *st,
                      struct xvf_err *err)
{
    char *buf, *line, *next;
    const char *bad = "";
    unsigned int lineno = 0;
    bool ctrl = false;
    int r = 0;

    memset(st, 0, sizeof(*st));
    if (strncmp(text, DUMP_MAGIC, strlen(DUMP_MAGIC)))
        return xvf_err_set(err, -EINVAL, "not a dump of xen-vfctl "
                           "nvme-layout --save-dump (no '%s' line)",
                           DUMP_MAGIC);
    buf = strdup(text);
    if (!buf)
        return xvf_err_set(err, -ENOMEM, "out of memory");
    for (line = buf; line && !r; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        line = xvf_trim(line);
        if (!*line || *line == '#')
            continue;
        ctrl |= !strncmp(line, "ctrl", 4);
        r = undump_line(line, st, &bad);
        if (r)
            r = xvf_err_set(err, -EINVAL, "dump line %u: bad '%s'", lineno,
                            bad);
    }
    free(buf);
    if (!r && !ctrl)
        r = xvf_err_set(err, -EINVAL, "dump has no 'ctrl' line");
    return r;
}

/* ---- planning --------------------------------------------------------- */

struct want {
    const struct xvf_layout_entry *e;
    struct xvf_layout_ns *cur;  /* existing namespace, NULL if none */
    bool recreate;              /* cur is deleted, then created again */
    bool create;                /* a new namespace is created */
    bool skipped;               /* size or format wrong, cannot fix */
    unsigned int fmt;           /* LBA format index */
    uint8_t lbads;
    uint64_t nsze;              /* blocks, for create / comparison */
    uint32_t new_nsid;          /* what the controller will choose */
    unsigned int ntarget;
    uint16_t target[XVF_LAYOUT_MAX_ATT];
};

struct planner {
    const struct xvf_layout_state *st;
    const struct xvf_layout *l;
    const struct xvf_layout_opts *o;
    struct xvf_layout_plan *p;
    bool mgmt_ok, attach_ok;
    uint64_t cap;
    struct want w[XVF_LAYOUT_MAX_NS];
    bool deleted[XVF_LAYOUT_MAX_NS];    /* by index of st->ns */
    bool in_layout[XVF_LAYOUT_MAX_NS];
};

static void note(struct planner *pl, enum xvf_layout_note_kind kind,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void note(struct planner *pl, enum xvf_layout_note_kind kind,
                 const char *fmt, ...)
{
    struct xvf_layout_plan *p = pl->p;
    va_list ap;

    if (kind == XVF_LNOTE_REFUSE)
        p->refused++;
    else if (kind == XVF_LNOTE_SKIP)
        p->skipped++;
    if (p->nnotes >= XVF_LAYOUT_MAX_NOTES)
        return;
    p->notes[p->nnotes].kind = kind;
    va_start(ap, fmt);
    vsnprintf(p->notes[p->nnotes].text, XVF_LAYOUT_NOTE_LEN, fmt, ap);
    va_end(ap);
    p->nnotes++;
}

static struct xvf_layout_op *add_op(struct planner *pl,
                                    enum xvf_layout_op_kind kind,
                                    uint32_t nsid, uint16_t cntlid)
{
    struct xvf_layout_plan *p = pl->p;
    struct xvf_layout_op *op;

    if (p->nops >= XVF_LAYOUT_MAX_OPS) {
        note(pl, XVF_LNOTE_REFUSE, "the plan has more than %u commands",
             XVF_LAYOUT_MAX_OPS);
        return NULL;
    }
    op = &p->ops[p->nops++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->nsid = nsid;
    op->cntlid = cntlid;
    return op;
}

static bool has_id(const uint16_t *ids, unsigned int n, uint16_t id)
{
    unsigned int i;

    for (i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* "the primary controller 0x0" / "secondary controller 0x1 (VF 1)" */
static void ctrl_name(const struct xvf_layout_state *st, uint16_t id,
                      char *buf, size_t len)
{
    const struct xvf_layout_sec *s = state_sec(st, id);

    if (id == st->cntlid)
        snprintf(buf, len, "the primary controller 0x%x (%s)", id,
                 st->ctrl);
    else if (s)
        snprintf(buf, len, "secondary controller 0x%x (VF %u)", id, s->vfn);
    else
        snprintf(buf, len, "controller 0x%x", id);
}

static bool ns_in_use(const struct xvf_layout_ns *ns, char *buf, size_t len)
{
    const struct xvf_layout_use *u = &ns->use;
    char part[300];

    buf[0] = '\0';
    if (u->mounts[0]) {
        snprintf(part, sizeof(part), "mounted on %s", u->mounts);
        append(buf, len, ", ", part);
    }
    if (u->swap)
        append(buf, len, ", ", "used as swap");
    if (u->holders[0]) {
        snprintf(part, sizeof(part), "held by %s", u->holders);
        append(buf, len, ", ", part);
    }
    if (u->openers[0]) {
        snprintf(part, sizeof(part), "open in %s", u->openers);
        append(buf, len, ", ", part);
    }
    if (u->claimed && !u->mounts[0] && !u->swap && !u->holders[0])
        append(buf, len, ", ", "claimed exclusively");
    return buf[0];
}

/* Why secondary @id must not change attachments, or NULL. */
static const char *sec_busy(const struct xvf_layout_state *st, uint16_t id,
                            char *buf, size_t len)
{
    const struct xvf_layout_sec *s = state_sec(st, id);

    if (!s || id == st->cntlid)
        return NULL;
    if (s->held[0])
        snprintf(buf, len, "secondary controller 0x%x is held by xen-vf "
                 "(%s): release it first", id, s->held);
    else if (s->online)
        snprintf(buf, len, "secondary controller 0x%x is online (VF %s%s%s)"
                 ": a guest or this domain may be using it", id,
                 s->vf[0] ? s->vf : "not enabled",
                 s->driver[0] ? ", driver " : "", s->driver);
    else if (s->driver[0])
        snprintf(buf, len, "the VF %s of secondary controller 0x%x is bound "
                 "to %s", s->vf, id, s->driver);
    else
        return NULL;
    return buf;
}

static const struct xvf_layout_lbaf *fmt_of(const struct xvf_layout_state *st,
                                            unsigned int i)
{
    return i < st->nlbaf ? &st->lbaf[i] : NULL;
}

static int choose_format(struct planner *pl, struct want *w,
                         struct xvf_err *err)
{
    const struct xvf_layout_state *st = pl->st;
    const struct xvf_layout_entry *e = w->e;
    unsigned int i;

    if (e->lbaf >= 0) {
        if (st->nlbaf && (unsigned int)e->lbaf >= st->nlbaf)
            return xvf_err_set(err, -EINVAL, "ns%u: lbaf=%d: %s has LBA "
                               "formats 0-%u", e->nsid, e->lbaf, st->ctrl,
                               st->nlbaf - 1);
        w->fmt = e->lbaf;
    } else if (e->lbads) {
        for (i = 0; i < st->nlbaf; i++)
            if (st->lbaf[i].lbads == e->lbads && !st->lbaf[i].ms)
                break;
        if (i == st->nlbaf)
            return xvf_err_set(err, -EINVAL, "ns%u: lba=%u: %s has no LBA "
                               "format of %u bytes without metadata",
                               e->nsid, 1u << e->lbads, st->ctrl,
                               1u << e->lbads);
        w->fmt = i;
    } else if (w->cur) {
        w->fmt = w->cur->flbas;
    } else {
        w->fmt = 0;     /* the guide's create-ns -f0 */
    }
    if (w->cur && w->fmt == w->cur->flbas)
        w->lbads = w->cur->lbads;
    else if (fmt_of(st, w->fmt))
        w->lbads = fmt_of(st, w->fmt)->lbads;
    else
        w->lbads = 9;
    return 0;
}

static uint64_t pct_of(uint64_t total, uint64_t hundredths)
{
    return total / 10000 * hundredths + total % 10000 * hundredths / 10000;
}

/* Blocks for @bytes in the format of @w, on the size granularity. */
static uint64_t round_blocks(struct planner *pl, struct want *w,
                             uint64_t blocks, const char *asked)
{
    const struct xvf_layout_state *st = pl->st;
    uint64_t bs = 1ULL << w->lbads, g = 1, out;
    char a[48], b[48], gs[48];

    if (st->nszeg > bs)
        g = (st->nszeg + bs - 1) / bs;
    out = blocks / g * g;
    if (!out)
        out = g;
    xvf_layout_size_str(out * bs, b, sizeof(b));
    if (out == blocks) {
        note(pl, XVF_LNOTE_INFO, "ns%u: %s = %" PRIu64 " blocks of %"
             PRIu64 " B (%s), no rounding", w->e->nsid, asked, out, bs, b);
        return out;
    }
    xvf_layout_size_str(blocks * bs, a, sizeof(a));
    xvf_layout_size_str(g * bs, gs, sizeof(gs));
    note(pl, XVF_LNOTE_INFO, "ns%u: %s = %s, rounded %s to %" PRIu64
         " blocks of %" PRIu64 " B (%s), a multiple of the %s size "
         "granularity%s", w->e->nsid, asked, a, out > blocks ? "up" : "down",
         out, bs, b, gs, st->nszeg ? " (NSZEG)" : " (the block size)");
    return out;
}

static void target_size(struct planner *pl, struct want *w, uint64_t rest)
{
    const struct xvf_layout_entry *e = w->e;
    uint64_t bs = 1ULL << w->lbads, bytes;
    char asked[96], c[48], r[48];

    switch (e->size) {
    case XVF_LSIZE_ANY:
        w->nsze = w->cur ? w->cur->nsze : 0;
        return;
    case XVF_LSIZE_BLOCKS:
        snprintf(asked, sizeof(asked), "%" PRIu64 " blocks", e->amount);
        w->nsze = round_blocks(pl, w, e->amount, asked);
        return;
    case XVF_LSIZE_BYTES:
        bytes = e->amount;
        size_exact(bytes, asked, sizeof(asked));
        if (bytes % bs)
            note(pl, XVF_LNOTE_INFO, "ns%u: %s is not a multiple of the "
                 "%" PRIu64 " B block", e->nsid, asked, bs);
        break;
    case XVF_LSIZE_PERCENT:
        bytes = pct_of(pl->cap, e->amount);
        xvf_layout_size_str(pl->cap, c, sizeof(c));
        if (e->amount % 100)
            snprintf(asked, sizeof(asked), "%" PRIu64 ".%02u%% of %s",
                     e->amount / 100, (unsigned int)(e->amount % 100), c);
        else
            snprintf(asked, sizeof(asked), "%" PRIu64 "%% of %s",
                     e->amount / 100, c);
        break;
    case XVF_LSIZE_REST:
    default:
        bytes = rest;
        xvf_layout_size_str(rest, r, sizeof(r));
        snprintf(asked, sizeof(asked), "the rest (%s)", r);
        break;
    }
    w->nsze = round_blocks(pl, w, bytes / bs, asked);
}

static uint64_t cap_bytes(const struct xvf_layout_state *st, uint64_t bytes)
{
    if (st->ncapg > 1)
        return (bytes + st->ncapg - 1) / st->ncapg * st->ncapg;
    return bytes;
}

static int check_entries(struct planner *pl, struct xvf_err *err)
{
    const struct xvf_layout_state *st = pl->st;
    unsigned int i;

    for (i = 0; i < pl->l->n; i++) {
        const struct xvf_layout_entry *e = &pl->l->e[i];

        if (st->nn && e->nsid > st->nn)
            return xvf_err_set(err, -EINVAL, "ns%u: %s has namespace IDs "
                               "1-%u (NN)", e->nsid, st->ctrl, st->nn);
        if (e->attach == XVF_LATT_SECONDARY &&
            (e->scid == st->cntlid || !state_sec(st, e->scid)))
            return xvf_err_set(err, -EINVAL, "ns%u: 0x%x is not a "
                               "secondary controller of %s%s", e->nsid,
                               e->scid, st->ctrl, st->nsec ? "" :
                               " (it has none)");
        if (e->attach == XVF_LATT_AUTO && !st->nsec)
            return xvf_err_set(err, -EINVAL, "ns%u: %s has no secondary "
                               "controllers (no SR-IOV, or no "
                               "Virtualization Management)", e->nsid,
                               st->ctrl);
    }
    return 0;
}

static void set_capacity(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    char a[48], b[48];
    unsigned int i;
    uint64_t sum = 0;

    for (i = 0; i < st->nns; i++)
        sum += cap_bytes(st, xvf_layout_ns_bytes(&st->ns[i]));
    if (st->tnvmcap) {
        pl->cap = st->tnvmcap;
        return;
    }
    pl->cap = sum;
    xvf_layout_size_str(sum, a, sizeof(a));
    snprintf(b, sizeof(b), "%u namespace%s", st->nns, st->nns == 1 ? "" :
             "s");
    note(pl, XVF_LNOTE_INFO, "%s does not report its capacity (TNVMCAP 0):"
         " taken as the %s its %s hold", st->ctrl, a, b);
}

/* Sizes, formats, and whether each entry's namespace is right as it is. */
static int plan_sizes(struct planner *pl, struct xvf_err *err)
{
    const struct xvf_layout_state *st = pl->st;
    struct want *rest = NULL;
    uint64_t used = 0, left;
    unsigned int i;
    int r;

    for (i = 0; i < pl->l->n; i++) {
        struct want *w = &pl->w[i];

        w->e = &pl->l->e[i];
        w->cur = state_ns((struct xvf_layout_state *)st, w->e->nsid);
        if (w->cur)
            pl->in_layout[w->cur - st->ns] = true;
        if (w->e->keep) {
            if (!w->cur)
                note(pl, XVF_LNOTE_REFUSE, "ns%u: 'keep', but namespace %u "
                     "does not exist", w->e->nsid, w->e->nsid);
            continue;
        }
        r = choose_format(pl, w, err);
        if (r)
            return r;
        if (w->e->size == XVF_LSIZE_ANY && !w->cur) {
            note(pl, XVF_LNOTE_REFUSE, "ns%u: size 'any', but namespace %u "
                 "does not exist: give a size", w->e->nsid, w->e->nsid);
            continue;
        }
        if (w->e->size == XVF_LSIZE_REST) {
            rest = w;
            continue;
        }
        target_size(pl, w, 0);
    }
    for (i = 0; i < pl->l->n; i++) {
        const struct want *w = &pl->w[i];

        if (w == rest)
            continue;
        if (w->e->keep || w->e->size == XVF_LSIZE_ANY)
            used += w->cur ? cap_bytes(st, xvf_layout_ns_bytes(w->cur)) : 0;
        else
            used += cap_bytes(st, w->nsze << w->lbads);
    }
    if (rest) {
        left = pl->cap > used ? pl->cap - used : 0;
        if (left < (1ULL << rest->lbads))
            note(pl, XVF_LNOTE_REFUSE, "ns%u: 'rest', but the other "
                 "namespaces leave nothing of the controller's capacity",
                 rest->e->nsid);
        else
            target_size(pl, rest, left);
    }
    return 0;
}

static void describe_ns(const struct xvf_layout_ns *ns, char *buf,
                        size_t len)
{
    char s[48];

    xvf_layout_size_str(xvf_layout_ns_bytes(ns), s, sizeof(s));
    snprintf(buf, len, "%s, %u B blocks%s", s, 1u << ns->lbads,
             ns->ms ? " with metadata" : "");
}

/* Which entries need their namespace deleted and created again. */
static void plan_matches(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    char have[96], want[48];
    unsigned int i;

    for (i = 0; i < pl->l->n; i++) {
        struct want *w = &pl->w[i];

        if (w->e->keep || (w->e->size == XVF_LSIZE_ANY && !w->cur) ||
            (!w->nsze && w->e->size != XVF_LSIZE_ANY))
            continue;
        if (!w->cur) {
            if (pl->mgmt_ok)
                w->create = true;
            else {
                w->skipped = true;
                note(pl, XVF_LNOTE_SKIP, "ns%u does not exist and cannot "
                     "be created: Namespace Management is %s", w->e->nsid,
                     st->nsmgmt == XVF_NSMGMT_NO ? "not supported" :
                     "not implemented");
            }
            continue;
        }
        if (w->e->size == XVF_LSIZE_ANY ||
            (w->cur->nsze == w->nsze && w->cur->flbas == w->fmt))
            continue;
        describe_ns(w->cur, have, sizeof(have));
        xvf_layout_size_str(w->nsze << w->lbads, want, sizeof(want));
        if (!pl->mgmt_ok) {
            w->skipped = true;
            note(pl, XVF_LNOTE_SKIP, "ns%u is %s; the layout wants %s in "
                 "%u B blocks, which takes deleting and creating it, but "
                 "Namespace Management is %s: left as it is", w->e->nsid,
                 have, want, 1u << w->lbads, st->nsmgmt == XVF_NSMGMT_NO ?
                 "not supported" : "not implemented");
            continue;
        }
        w->recreate = w->create = true;
        pl->deleted[w->cur - st->ns] = true;
        note(pl, XVF_LNOTE_INFO, "ns%u is %s; the layout wants %s in %u B "
             "blocks: it is deleted and created again", w->e->nsid, have,
             want, 1u << w->lbads);
    }
    for (i = 0; i < st->nns; i++) {
        if (pl->in_layout[i])
            continue;
        if (pl->mgmt_ok) {
            pl->deleted[i] = true;
            note(pl, XVF_LNOTE_INFO, "ns%u is not in the layout: it is "
                 "deleted", st->ns[i].nsid);
        } else {
            note(pl, XVF_LNOTE_SKIP, "ns%u is not in the layout, but "
                 "cannot be deleted (Namespace Management %s): left as it "
                 "is", st->ns[i].nsid, st->nsmgmt == XVF_NSMGMT_NO ?
                 "not supported" : "not implemented");
        }
    }
}

static bool destroy_allowed(const struct xvf_layout_opts *o, uint32_t nsid)
{
    unsigned int i;

    for (i = 0; o && i < o->ndestroy; i++)
        if (o->destroy[i] == nsid)
            return true;
    return false;
}

/* Deleting destroys data: only what is provably empty or named. */
static void check_deletes(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    char use[512], why[300], c[96];
    unsigned int i, j;
    bool found;

    for (i = 0; i < st->nns; i++) {
        const struct xvf_layout_ns *ns = &st->ns[i];

        if (!pl->deleted[i])
            continue;
        if (ns->held[0]) {
            note(pl, XVF_LNOTE_REFUSE, "ns%u is held by xen-vf (%s): "
                 "release that VF first", ns->nsid, ns->held);
            continue;
        }
        if (ns_in_use(ns, use, sizeof(use))) {
            note(pl, XVF_LNOTE_REFUSE, "ns%u is in use in this domain as "
                 "%s (%s): stop using it first; --destroy-ns does not "
                 "override this", ns->nsid, ns->use.blockdev, use);
            continue;
        }
        for (j = 0; j < ns->natt; j++) {
            if (ns->att[j] != st->cntlid && !state_sec(st, ns->att[j])) {
                ctrl_name(st, ns->att[j], c, sizeof(c));
                note(pl, XVF_LNOTE_REFUSE, "ns%u is attached to %s, which "
                     "is not a controller of this PF: left alone",
                     ns->nsid, c);
            } else if (sec_busy(st, ns->att[j], why, sizeof(why))) {
                note(pl, XVF_LNOTE_REFUSE, "ns%u cannot be deleted: %s",
                     ns->nsid, why);
            }
        }
        if (ns->use.data == XVF_DATA_NONE) {
            note(pl, XVF_LNOTE_INFO, "ns%u holds no data (NUSE 0): deleting "
                 "it needs no --destroy-ns", ns->nsid);
            continue;
        }
        if (destroy_allowed(pl->o, ns->nsid)) {
            note(pl, XVF_LNOTE_INFO, "ns%u: --destroy-ns %u given: its data "
                 "(%s) is destroyed", ns->nsid, ns->nsid,
                 xvf_layout_data_str(ns->use.data));
            continue;
        }
        note(pl, XVF_LNOTE_REFUSE, "ns%u%s%s%s may hold data (NUSE %" PRIu64
             ", data %s): deleting it destroys that; add --destroy-ns %u "
             "to allow it", ns->nsid, ns->use.blockdev[0] ? " (" : "",
             ns->use.blockdev, ns->use.blockdev[0] ? " here)" : "",
             ns->nuse, xvf_layout_data_str(ns->use.data), ns->nsid);
    }
    for (i = 0; pl->o && i < pl->o->ndestroy; i++) {
        uint32_t nsid = pl->o->destroy[i];

        found = false;
        for (j = 0; j < st->nns; j++)
            if (st->ns[j].nsid == nsid && pl->deleted[j])
                found = true;
        if (!found)
            note(pl, XVF_LNOTE_INFO, "--destroy-ns %u: the plan does not "
                 "delete namespace %u; nothing to allow", nsid, nsid);
    }
}

static bool nsid_taken(const struct planner *pl, uint32_t nsid)
{
    const struct xvf_layout_state *st = pl->st;
    unsigned int i;

    for (i = 0; i < st->nns; i++)
        if (st->ns[i].nsid == nsid && !pl->deleted[i])
            return true;
    for (i = 0; i < pl->l->n; i++)
        if (pl->w[i].create && pl->w[i].new_nsid == nsid)
            return true;
    return false;
}

/*
 * The controller picks the NSID of a new namespace; every controller seen
 * gives the lowest free one, so the creations run in ascending order and
 * each must get the NSID the layout names.
 */
static void check_creates(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    uint64_t need = 0, created = 0;
    char a[48], b[48];
    unsigned int i;
    uint32_t id;

    for (i = 0; i < pl->l->n; i++) {
        struct want *w = &pl->w[i];

        if (!w->create)
            continue;
        for (id = 1; nsid_taken(pl, id); id++)
            ;
        w->new_nsid = id;
        created += cap_bytes(st, w->nsze << w->lbads);
        if (id != w->e->nsid)
            note(pl, XVF_LNOTE_REFUSE, "ns%u: the controller gives a new "
                 "namespace the lowest free NSID, which is %u here: name "
                 "the new namespaces from NSID %u on, without gaps",
                 w->e->nsid, id, id);
    }
    if (!created)
        return;
    for (i = 0; i < st->nns; i++)
        if (!pl->deleted[i])
            need += cap_bytes(st, xvf_layout_ns_bytes(&st->ns[i]));
    need += created;
    if (!st->tnvmcap) {
        note(pl, XVF_LNOTE_INFO, "%s does not report its capacity: whether "
             "the new namespaces fit is for it to say", st->ctrl);
        return;
    }
    if (need > pl->cap) {
        xvf_layout_size_str(need, a, sizeof(a));
        xvf_layout_size_str(pl->cap, b, sizeof(b));
        note(pl, XVF_LNOTE_REFUSE, "not enough capacity: the layout needs "
             "%s, %s has %s (TNVMCAP)", a, st->ctrl, b);
    }
}

static bool target_of(const struct want *w, uint16_t id)
{
    return has_id(w->target, w->ntarget, id);
}

/* A free secondary for attach=secondary:auto, or 0xffff. */
static uint16_t auto_secondary(struct planner *pl, const struct want *self)
{
    const struct xvf_layout_state *st = pl->st;
    unsigned int i, j;
    char why[300];

    for (i = 0; i < st->nsec; i++) {
        const struct xvf_layout_sec *s = &st->sec[i];
        bool taken = false;

        if (sec_busy(st, s->scid, why, sizeof(why)))
            continue;
        for (j = 0; j < pl->l->n && !taken; j++)
            taken = &pl->w[j] != self && target_of(&pl->w[j], s->scid);
        /* namespaces outside the layout that stay attached to it */
        for (j = 0; j < st->nns && !taken; j++)
            taken = !pl->in_layout[j] && !pl->deleted[j] &&
                    has_id(st->ns[j].att, st->ns[j].natt, s->scid);
        if (!taken)
            return s->scid;
    }
    return 0xffff;
}

static void plan_targets(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    const struct xvf_layout_sec *s;
    unsigned int i, pass;
    uint16_t id;

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < pl->l->n; i++) {
            struct want *w = &pl->w[i];
            const struct xvf_layout_entry *e = w->e;

            if ((e->attach == XVF_LATT_AUTO) != (pass == 1))
                continue;
            w->ntarget = 0;
            switch (e->keep ? XVF_LATT_KEEP : e->attach) {
            case XVF_LATT_KEEP:
                if (w->cur) {
                    memcpy(w->target, w->cur->att, sizeof(w->target));
                    w->ntarget = w->cur->natt;
                }
                break;
            case XVF_LATT_NONE:
                break;
            case XVF_LATT_PRIMARY:
                w->target[w->ntarget++] = st->cntlid;
                break;
            case XVF_LATT_SECONDARY:
                w->target[w->ntarget++] = e->scid;
                break;
            case XVF_LATT_AUTO:
                /* kept once chosen: one secondary, that nobody else wants */
                if (w->cur && w->cur->natt == 1 &&
                    (s = state_sec(st, w->cur->att[0])) &&
                    s->scid != st->cntlid) {
                    w->target[w->ntarget++] = s->scid;
                    break;
                }
                id = auto_secondary(pl, w);
                if (id == 0xffff) {
                    note(pl, XVF_LNOTE_REFUSE, "ns%u: attach=secondary:auto"
                         ", but every secondary controller of %s is in use "
                         "or taken by another namespace", e->nsid,
                         st->ctrl);
                    break;
                }
                w->target[w->ntarget++] = id;
                s = state_sec(st, id);
                note(pl, XVF_LNOTE_INFO, "ns%u: secondary:auto chose "
                     "secondary controller 0x%x (VF %u); xen-vf gives it "
                     "to the guest that asks for ns%u", e->nsid, id,
                     s ? s->vfn : 0, e->nsid);
                break;
            }
        }
    }
}

static void op_what(struct planner *pl, struct xvf_layout_op *op,
                    const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void op_what(struct planner *pl, struct xvf_layout_op *op,
                    const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(op->what, sizeof(op->what), fmt, ap);
    va_end(ap);
}

static void emit_attach(struct planner *pl, uint32_t nsid, uint16_t id,
                        bool attach, bool *primary)
{
    struct xvf_layout_op *op;
    char c[96];

    op = add_op(pl, attach ? XVF_LOP_ATTACH : XVF_LOP_DETACH, nsid, id);
    if (!op)
        return;
    ctrl_name(pl->st, id, c, sizeof(c));
    op_what(pl, op, "%s namespace %u %s %s", attach ? "attach" : "detach",
            nsid, attach ? "to" : "from", c);
    if (id == pl->st->cntlid)
        *primary = true;
}

/* Changes of attachment of a namespace that stays: checks, then ops. */
static void check_attach(struct planner *pl, const struct want *w)
{
    const struct xvf_layout_state *st = pl->st;
    const struct xvf_layout_ns *ns = w->cur;
    char why[300], use[512], c[96];
    unsigned int i;
    bool change = false;

    for (i = 0; i < ns->natt; i++)
        change |= !target_of(w, ns->att[i]);
    for (i = 0; i < w->ntarget; i++)
        change |= !has_id(ns->att, ns->natt, w->target[i]);
    if (!change)
        return;
    if (!pl->attach_ok) {
        note(pl, XVF_LNOTE_SKIP, "ns%u: its attachments cannot change: %s "
             "does not support Namespace Management", ns->nsid, st->ctrl);
        return;
    }
    if (ns->held[0]) {
        note(pl, XVF_LNOTE_REFUSE, "ns%u is held by xen-vf (%s): release "
             "that VF before changing its attachments", ns->nsid, ns->held);
        return;
    }
    for (i = 0; i < ns->natt; i++) {
        if (target_of(w, ns->att[i]))
            continue;
        if (ns->att[i] != st->cntlid && !state_sec(st, ns->att[i])) {
            ctrl_name(st, ns->att[i], c, sizeof(c));
            note(pl, XVF_LNOTE_REFUSE, "ns%u is attached to %s, which is "
                 "not a controller of this PF: left alone", ns->nsid, c);
        } else if (ns->att[i] == st->cntlid &&
                   ns_in_use(ns, use, sizeof(use))) {
            note(pl, XVF_LNOTE_REFUSE, "ns%u is in use in this domain as "
                 "%s (%s): it cannot be detached from the primary "
                 "controller; stop using it first", ns->nsid,
                 ns->use.blockdev, use);
        } else if (sec_busy(st, ns->att[i], why, sizeof(why))) {
            note(pl, XVF_LNOTE_REFUSE, "ns%u cannot be detached: %s",
                 ns->nsid, why);
        }
    }
    for (i = 0; i < w->ntarget; i++)
        if (!has_id(ns->att, ns->natt, w->target[i]) &&
            sec_busy(st, w->target[i], why, sizeof(why)))
            note(pl, XVF_LNOTE_REFUSE, "ns%u cannot be attached: %s",
                 ns->nsid, why);
}

static int cmp_op(const void *a, const void *b)
{
    const struct xvf_layout_op *x = a, *y = b;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

static void emit_ops(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    struct xvf_layout_op *op;
    char s[48], why[300];
    bool primary = false;
    unsigned int i, j;

    for (i = 0; i < st->nns; i++) {
        const struct xvf_layout_ns *ns = &st->ns[i];

        if (!pl->deleted[i])
            continue;
        for (j = 0; j < ns->natt; j++)
            emit_attach(pl, ns->nsid, ns->att[j], false, &primary);
        op = add_op(pl, XVF_LOP_DELETE, ns->nsid, 0);
        if (!op)
            return;
        xvf_layout_size_str(xvf_layout_ns_bytes(ns), s, sizeof(s));
        op_what(pl, op, "delete namespace %u (%s)", ns->nsid, s);
    }
    for (i = 0; i < pl->l->n; i++) {
        const struct want *w = &pl->w[i];

        if (w->create) {
            op = add_op(pl, XVF_LOP_CREATE, w->e->nsid, 0);
            if (!op)
                return;
            op->nsze = w->nsze;
            op->flbas = w->fmt;
            xvf_layout_size_str(w->nsze << w->lbads, s, sizeof(s));
            op_what(pl, op, "create namespace %u: %" PRIu64 " blocks of "
                    "%u B (%s), LBA format %u", w->e->nsid, w->nsze,
                    1u << w->lbads, s, w->fmt);
            for (j = 0; j < w->ntarget; j++) {
                if (sec_busy(st, w->target[j], why, sizeof(why)))
                    note(pl, XVF_LNOTE_REFUSE, "ns%u cannot be attached: "
                         "%s", w->e->nsid, why);
                emit_attach(pl, w->e->nsid, w->target[j], true, &primary);
            }
            continue;
        }
        if (!w->cur || w->e->keep)
            continue;
        check_attach(pl, w);
        if (!pl->attach_ok)
            continue;
        for (j = 0; j < w->cur->natt; j++)
            if (!target_of(w, w->cur->att[j]))
                emit_attach(pl, w->e->nsid, w->cur->att[j], false,
                            &primary);
        for (j = 0; j < w->ntarget; j++)
            if (!has_id(w->cur->att, w->cur->natt, w->target[j]))
                emit_attach(pl, w->e->nsid, w->target[j], true, &primary);
    }
    /* detach, delete, create, attach: each prefix is a state to plan from */
    qsort(pl->p->ops, pl->p->nops, sizeof(pl->p->ops[0]), cmp_op);
    if (!primary)
        return;
    op = add_op(pl, XVF_LOP_RESCAN, 0, st->cntlid);
    if (!op)
        return;
    op_what(pl, op, "ask the kernel to rescan the namespaces of %s "
            "(rescan_controller)", st->ctrl);
    note(pl, XVF_LNOTE_INFO, "no reboot: the kernel learns of attach and "
         "detach from the Namespace Attribute Changed event, and the rescan "
         "covers a lost one; the run says if a controller reset or a "
         "reboot is still needed");
}

int xvf_layout_plan(const struct xvf_layout_state *st,
                    const struct xvf_layout *l,
                    const struct xvf_layout_opts *o,
                    struct xvf_layout_plan *p, struct xvf_err *err)
{
    struct planner *pl;
    unsigned int i;
    int r;

    memset(p, 0, sizeof(*p));
    pl = calloc(1, sizeof(*pl));
    if (!pl)
        return xvf_err_set(err, -ENOMEM, "out of memory");
    pl->st = st;
    pl->l = l;
    pl->o = o;
    pl->p = p;
    pl->attach_ok = st->oacs & NVME_CTRL_OACS_NS_MGMT;
    pl->mgmt_ok = (st->nsmgmt == XVF_NSMGMT_YES ||
                   st->nsmgmt == XVF_NSMGMT_UNVERIFIED ||
                   (st->nsmgmt == XVF_NSMGMT_FAKE && o && o->trust_oacs)) &&
                  !(o && o->no_nsmgmt);
    if (st->nns > XVF_LAYOUT_MAX_NS || l->n > XVF_LAYOUT_MAX_NS) {
        r = xvf_err_set(err, -E2BIG, "too many namespaces");
        goto out;
    }
    r = check_entries(pl, err);
    if (r)
        goto out;
    set_capacity(pl);
    r = plan_sizes(pl, err);
    if (r)
        goto out;
    plan_matches(pl);
    if (pl->mgmt_ok) {
        check_deletes(pl);
        check_creates(pl);
    }
    plan_targets(pl);
    emit_ops(pl);
    if (!p->nops && !p->refused && !p->skipped)
        note(pl, XVF_LNOTE_INFO, "nothing to do: %s already has this "
             "layout", st->ctrl);
    for (i = 0; i < p->nops; i++)
        if (p->ops[i].kind == XVF_LOP_CREATE || p->ops[i].kind ==
            XVF_LOP_DELETE)
            break;
    if (i < p->nops && st->nsmgmt != XVF_NSMGMT_YES)
        note(pl, XVF_LNOTE_INFO, "%s advertises Namespace Management but "
             "%s; if it answers Invalid Command Opcode the run does the "
             "attach part only", st->ctrl,
             st->nsmgmt == XVF_NSMGMT_FAKE ? "its effects log denies it "
             "(--trust-oacs)" : "has no effects log to confirm it");
out:
    free(pl);
    return r;
}

/* ---- execution -------------------------------------------------------- */

static int run_op(int fd, const struct xvf_layout_op *op, struct xvf_err *err)
{
    struct xvf_err e = { 0 };
    uint32_t got = 0;
    int r;

    switch (op->kind) {
    case XVF_LOP_DETACH:
        r = xvf_nvme_ns_attach(fd, op->nsid, op->cntlid, false, &e);
        if (r == -ENOENT)   /* Namespace Not Attached: done already */
            r = 0;
        break;
    case XVF_LOP_ATTACH:
        r = xvf_nvme_ns_attach(fd, op->nsid, op->cntlid, true, &e);
        if (r == -EBUSY && nvme_status_code(e.nvme_status) ==
            NVME_SC_NS_ALREADY_ATTACHED)
            r = 0;
        break;
    case XVF_LOP_DELETE:
        r = xvf_nvme_ns_delete(fd, op->nsid, &e);
        break;
    case XVF_LOP_CREATE:
        r = xvf_nvme_ns_create(fd, op->nsze, op->flbas, &got, &e);
        if (r || got == op->nsid)
            break;
        /* just created, so empty: taking it back destroys nothing */
        xvf_nvme_ns_delete(fd, got, &e);
        r = xvf_err_set(&e, -EIO, "the controller numbered the new "
                        "namespace %u, not %u as planned; it was deleted "
                        "again", got, op->nsid);
        break;
    default:
        r = 0;
        break;
    }
    if (r)
        *err = e;
    return r;
}

struct nsset {
    unsigned int n;
    uint32_t id[XVF_LAYOUT_MAX_NS];
};

static void nsset_add(void *opaque, uint32_t nsid, const char *disk)
{
    struct nsset *s = opaque;
    unsigned int i;

    for (i = 0; i < s->n; i++)
        if (s->id[i] == nsid)
            return;
    if (s->n < XVF_LAYOUT_MAX_NS)
        s->id[s->n++] = nsid;
}

static bool nsset_has(const struct nsset *s, uint32_t nsid)
{
    unsigned int i;

    for (i = 0; i < s->n; i++)
        if (s->id[i] == nsid)
            return true;
    return false;
}

/* Does the kernel show on the PF's controller what the device attached? */
static bool kernel_agrees(const struct xvf_nvme_pf *pf,
                          const struct xvf_layout_state *st, char *why,
                          size_t len)
{
    struct nsset k = { 0 };
    unsigned int i;
    bool att;

    ctrl_ns_nodes(pf->ctrl, nsset_add, &k);
    for (i = 0; i < st->nns; i++) {
        att = has_id(st->ns[i].att, st->ns[i].natt, st->cntlid);
        if (att == nsset_has(&k, st->ns[i].nsid))
            continue;
        snprintf(why, len, "the kernel %s namespace %u on %s although the "
                 "controller has it %s", att ? "does not show" : "still "
                 "shows", st->ns[i].nsid, pf->ctrl, att ? "attached" :
                 "detached");
        return false;
    }
    for (i = 0; i < k.n; i++) {
        if (state_ns((struct xvf_layout_state *)st, k.id[i]))
            continue;
        snprintf(why, len, "the kernel still shows namespace %u on %s, "
                 "which no longer exists", k.id[i], pf->ctrl);
        return false;
    }
    return true;
}

static int rescan(const struct xvf_nvme_pf *pf,
                  const struct xvf_layout_state *st, unsigned int ms,
                  struct xvf_layout_result *res)
{
    struct timespec t = { 0, 50 * 1000 * 1000 };
    char path[PATH_MAX], why[160];
    unsigned int waited = 0;
    int r;

    r = xvf_path(path, sizeof(path), "/sys/class/nvme/%s/rescan_controller",
                 pf->ctrl);
    if (!r)
        r = xvf_sysfs_write(path, "1");
    res->rescanned = !r;
    while (!kernel_agrees(pf, st, why, sizeof(why))) {
        if (waited >= ms) {
            res->reset_needed = true;
            snprintf(res->reset_why, sizeof(res->reset_why), "%.100s after "
                     "%s; reset the controller (echo 1 > /sys/class/nvme/"
                     "%.8s/reset_controller) or reboot", why,
                     res->rescanned ? "a rescan" : "waiting", pf->ctrl);
            return -ETIMEDOUT;
        }
        nanosleep(&t, NULL);
        waited += 50;
    }
    return 0;
}

static const char *first_refusal(const struct xvf_layout_plan *p)
{
    unsigned int i;

    for (i = 0; i < p->nnotes; i++)
        if (p->notes[i].kind == XVF_LNOTE_REFUSE)
            return p->notes[i].text;
    return "refused";
}

static int apply_locked(const struct xvf_nvme_pf *pf, const char *state_dir,
                        const struct xvf_layout *l,
                        const struct xvf_layout_opts *o,
                        unsigned int rescan_ms, xvf_layout_step_fn step,
                        void *opaque, struct xvf_layout_result *res,
                        struct xvf_layout_state *st, struct xvf_err *err)
{
    struct xvf_layout_opts opts = { 0 };
    struct xvf_layout_plan *p = &res->plan;
    bool primary_changed = false;
    unsigned int i, round;
    int fd = -1, r;

    if (o)
        opts = *o;
    for (round = 0; round < 2; round++) {
        r = xvf_layout_read(pf, state_dir, st, err);
        if (r)
            return r;
        if (opts.no_nsmgmt && st->nsmgmt != XVF_NSMGMT_NO)
            st->nsmgmt = XVF_NSMGMT_FAKE;
        r = xvf_layout_plan(st, l, &opts, p, err);
        if (r)
            return r;
        if (p->refused)
            return xvf_err_set(err, -EPERM, "%s", first_refusal(p));
        r = xvf_nvme_open(pf, &fd, err);
        if (r)
            return r;
        for (i = 0; i < p->nops; i++) {
            const struct xvf_layout_op *op = &p->ops[i];

            if (step)
                step(opaque, i + 1, op);
            if (op->kind == XVF_LOP_RESCAN) {
                primary_changed = true;
                continue;
            }
            r = run_op(fd, op, err);
            if (r == -EOPNOTSUPP && (op->kind == XVF_LOP_CREATE ||
                                     op->kind == XVF_LOP_DELETE)) {
                xvf_err_clear(err);
                res->nsmgmt_fake = true;
                opts.no_nsmgmt = true;
                opts.trust_oacs = false;
                break;
            }
            if (r)
                goto out;
            res->done++;
        }
        close(fd);
        fd = -1;
        if (i == p->nops)
            break;
    }
    r = xvf_layout_read(pf, state_dir, st, err);
    if (r)
        return r;
    if (primary_changed)
        rescan(pf, st, rescan_ms, res);
    if (opts.no_nsmgmt && st->nsmgmt != XVF_NSMGMT_NO)
        st->nsmgmt = XVF_NSMGMT_FAKE;
    {
        struct xvf_layout_plan *again = malloc(sizeof(*again));

        if (!again)
            return xvf_err_set(err, -ENOMEM, "out of memory");
        r = xvf_layout_plan(st, l, &opts, again, err);
        if (!r && again->nops)
            r = xvf_err_set(err, -EAGAIN, "after the run %s still differs "
                            "from the layout (next: %s); run again to see "
                            "why", pf->ctrl, again->ops[0].what);
        free(again);
    }
    if (!r && p->skipped)
        r = 1;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

int xvf_layout_apply(const struct xvf_nvme_pf *pf, const char *state_dir,
                     const struct xvf_layout *l,
                     const struct xvf_layout_opts *o,
                     unsigned int rescan_ms, xvf_layout_step_fn step,
                     void *opaque, struct xvf_layout_result *res,
                     struct xvf_err *err)
{
    struct xvf_layout_state *st;
    int lock = -1, r;

    memset(res, 0, sizeof(*res));
    st = malloc(sizeof(*st));
    if (!st)
        return xvf_err_set(err, -ENOMEM, "out of memory");
    r = xvf_state_dir_init(state_dir);
    if (!r)
        r = xvf_lock_pf(state_dir, pf->bdf, &lock);
    if (r) {
        xvf_err_set(err, r, "cannot lock %s in %s: %s", pf->bdf, state_dir,
                    strerror(-r));
        goto out;
    }
    r = apply_locked(pf, state_dir, l, o, rescan_ms, step, opaque, res, st,
                     err);
out:
    if (lock >= 0)
        xvf_unlock_pf(lock);
    free(st);
    return r;
}
