/* SPDX-License-Identifier: LGPL-2.1-only */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout/internal.h"
#include "util/str.h"

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
