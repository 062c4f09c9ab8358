/* SPDX-License-Identifier: LGPL-2.1-only */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "layout/internal.h"
#include "util/str.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)

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
            xvf_layout_append(buf, len, "; ", item);
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
            xvf_layout_pct_str(e->amount, size, sizeof(size));
            break;
        case XVF_LSIZE_BYTES:
            xvf_layout_size_exact(e->amount, size, sizeof(size));
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
        xvf_layout_append(buf, len, "; ", item);
    }
}
