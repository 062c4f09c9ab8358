/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * config.c - which domain serves "vf:" names, from xl.conf's
 * pci.name_backends, as xl reads it (see reaper.h)
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reaper.h"

/* Larger than any xl.conf; a bigger file is refused, not cut. */
#define XL_CONF_MAX (256 * 1024)

/* xl.conf's tokens (libxlutil's lexer, tools/libs/util/libxlu_cfg_l.l) */
enum tok { T_END, T_IDENT, T_NUMBER, T_STRING, T_NL, T_PUNCT, T_ADD, T_BAD };

struct lex {
    const char *p;
    unsigned int line;
    enum tok tok;
    char text[128];  /* identifier or dequoted string, cut at 127 */
    char punct;
    bool cut;
};

static void put(struct lex *lx, size_t *n, char c)
{
    if (*n < sizeof(lx->text) - 1)
        lx->text[(*n)++] = c;
    else
        lx->cut = true;
}

static void next(struct lex *lx)
{
    const char *p = lx->p;
    size_t n = 0;
    char q;

    while (*p == ' ' || *p == '\t')
        p++;
    lx->cut = false;
    lx->text[0] = '\0';
    if (!*p) {
        lx->tok = T_END;
    } else if (*p == '\n' || *p == '#') {
        p += strcspn(p, "\n");
        if (*p)
            p++;
        lx->line++;
        lx->tok = T_NL;
    } else if (islower((unsigned char)*p)) {
        while (islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
               *p == '.' || *p == '_')
            put(lx, &n, *p++);
        lx->tok = T_IDENT;
    } else if (isdigit((unsigned char)*p)) {
        while (isxdigit((unsigned char)*p) || *p == 'x')
            p++;
        lx->tok = T_NUMBER;
    } else if (*p == '"' || *p == '\'') {
        q = *p++;
        while (*p && *p != q && *p != '\n') {
            if (*p == '\\' && p[1] && p[1] != '\n')
                p++;
            put(lx, &n, *p++);
        }
        lx->tok = *p == q ? T_STRING : T_BAD;
        if (*p == q)
            p++;
    } else if (*p == '+' && p[1] == '=') {
        p += 2;
        lx->tok = T_ADD;
    } else if (strchr(",[]=;", *p)) {
        lx->punct = *p++;
        lx->tok = T_PUNCT;
    } else {
        lx->tok = T_BAD;
    }
    lx->text[n] = '\0';
    lx->p = p;
}

static bool is(const struct lex *lx, char c)
{
    return lx->tok == T_PUNCT && lx->punct == c;
}

static void skip_nl(struct lex *lx)
{
    while (lx->tok == T_NL)
        next(lx);
}

/*
 * A value: a string, a number or a list of them. When @ours, the "vf="
 * entry of a list goes to @cfg (the last one wins, as a later entry
 * would in xl's lookup).
 */
static int value(struct lex *lx, bool ours, struct vf_config *cfg)
{
    if (lx->tok == T_STRING || lx->tok == T_NUMBER) {
        next(lx);
        return 0;
    }
    if (!is(lx, '['))
        return -EINVAL;
    next(lx);
    skip_nl(lx);
    while (!is(lx, ']')) {
        if (lx->tok != T_STRING && lx->tok != T_NUMBER)
            return -EINVAL;
        if (ours && lx->tok == T_STRING &&
            !strncmp(lx->text, VF_NAME_PREFIX "=",
                     sizeof(VF_NAME_PREFIX))) {
            if (lx->cut || strlen(lx->text) - sizeof(VF_NAME_PREFIX) >=
                           sizeof(cfg->domd))
                return -E2BIG;
            strcpy(cfg->domd, lx->text + sizeof(VF_NAME_PREFIX));
            cfg->served = cfg->domd[0] != '\0';
        }
        next(lx);
        skip_nl(lx);
        if (is(lx, ',')) {
            next(lx);
            skip_nl(lx);
        } else if (!is(lx, ']')) {
            return -EINVAL;
        }
    }
    next(lx);
    return 0;
}

int vf_config_parse(const char *text, const char *fname,
                    struct vf_config *out, char *err, size_t errlen)
{
    struct lex lx = { .p = text, .line = 1 };
    bool ours, add;
    int rc;

    memset(out, 0, sizeof(*out));
    out->file = fname;
    for (next(&lx); lx.tok != T_END;) {
        if (lx.tok == T_NL || is(&lx, ';')) {
            next(&lx);
            continue;
        }
        if (lx.tok != T_IDENT)
            goto syntax;
        ours = !strcmp(lx.text, VF_CONF_KEY);
        next(&lx);
        add = lx.tok == T_ADD;
        if (!add && !is(&lx, '='))
            goto syntax;
        next(&lx);
        if (ours && !add) {
            out->domd[0] = '\0';
            out->served = false;
        }
        rc = value(&lx, ours, out);
        if (rc == -E2BIG) {
            snprintf(err, errlen, "%s:%u: " VF_CONF_KEY ": domain name "
                     "too long", fname, lx.line);
            return -EINVAL;
        }
        if (rc)
            goto syntax;
        if (lx.tok != T_NL && lx.tok != T_END && !is(&lx, ';'))
            goto syntax;
    }
    return 0;

syntax:
    snprintf(err, errlen, "%s:%u: syntax error", fname, lx.line);
    return -EINVAL;
}

int vf_config_read(struct vf_config *cfg, char *err, size_t errlen)
{
    const char *fname = secure_getenv("XEN_VF_XL_CONF");
    char *text = NULL;
    size_t n;
    FILE *f;
    int rc;

    if (!fname)
        fname = XVF_XL_CONF;
    memset(cfg, 0, sizeof(*cfg));
    cfg->file = fname;
    f = fopen(fname, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        rc = -errno;
        snprintf(err, errlen, "%s: %s", fname, strerror(errno));
        return rc;
    }
    text = malloc(XL_CONF_MAX + 1);
    if (!text) {
        rc = -ENOMEM;
        snprintf(err, errlen, "%s: out of memory", fname);
        goto out;
    }
    n = fread(text, 1, XL_CONF_MAX + 1, f);
    if (ferror(f) || n > XL_CONF_MAX) {
        rc = ferror(f) ? -EIO : -EFBIG;
        snprintf(err, errlen, "%s: %s", fname,
                 rc == -EIO ? "read error" : "too large");
        goto out;
    }
    text[n] = '\0';
    if (memchr(text, '\0', n)) {
        rc = -EINVAL;
        snprintf(err, errlen, "%s: not a text file", fname);
        goto out;
    }
    rc = vf_config_parse(text, fname, cfg, err, errlen);
out:
    free(text);
    fclose(f);
    return rc;
}
