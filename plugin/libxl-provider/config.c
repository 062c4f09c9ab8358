/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * config.c - the "vf" provider's configuration file (see vf-provider.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "vf-provider.h"

int vf_config_parse(FILE *f, const char *fname, struct vf_config *out,
                    char *err, size_t errlen)
{
    char line[256], *key, *val, *eq;
    unsigned long v;
    unsigned int n = 0;

    memset(out, 0, sizeof(*out));
    out->file = fname;
    while (fgets(line, sizeof(line), f)) {
        n++;
        key = xvf_trim(line);
        if (!*key || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%u: expected KEY = VALUE", fname, n);
            return -EINVAL;
        }
        *eq = '\0';
        key = xvf_trim(key);
        val = xvf_trim(eq + 1);
        if (!strcmp(key, "domd")) {
            if (!*val || strlen(val) >= sizeof(out->domd)) {
                snprintf(err, errlen, "%s:%u: bad domd", fname, n);
                return -EINVAL;
            }
            strcpy(out->domd, val);
        } else if (!strcmp(key, "timeout")) {
            if (xvf_parse_ulong(val, 3600, &v) || v < 1) {
                snprintf(err, errlen,
                         "%s:%u: timeout must be 1 to 3600 seconds",
                         fname, n);
                return -EINVAL;
            }
            out->timeout_s = v;
        } else {
            snprintf(err, errlen, "%s:%u: unknown key '%s'", fname, n,
                     key);
            return -EINVAL;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", fname);
        return -EIO;
    }
    return 0;
}

int vf_config_read(struct vf_config *cfg, char *err, size_t errlen)
{
    const char *fname = secure_getenv("XEN_VF_PROVIDER_CONF");
    FILE *f;
    int rc;

    if (!fname)
        fname = XVF_PROVIDER_CONF;
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
    rc = vf_config_parse(f, fname, cfg, err, errlen);
    fclose(f);
    return rc;
}
