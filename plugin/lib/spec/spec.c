/* SPDX-License-Identifier: LGPL-2.1-only */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "util/str.h"

#define VQ_DEFAULT 2
#define VI_DEFAULT 1
#define DRIVER_DEFAULT "pciback"

int xvf_parse_bdf(const char *str, char *out)
{
    unsigned int dom = 0, bus, dev, fn;
    char tail;
    int n;

    if (sscanf(str, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) == 4) {
        n = 0;
        while (str[n] && str[n] != ':')
            n++;
        if (n != 4)
            return -EINVAL;
    } else if (sscanf(str, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3) {
        dom = 0;
    } else {
        return -EINVAL;
    }
    for (n = 0; str[n]; n++)
        if (!isxdigit((unsigned char)str[n]) && str[n] != ':' &&
            str[n] != '.')
            return -EINVAL;
    if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
        return -EINVAL;
    sprintf(out, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
    return 0;
}

static int parse_onoff(const char *s, enum xvf_tristate *ret)
{
    if (!strcmp(s, "on") || !strcmp(s, "1") || !strcmp(s, "yes"))
        *ret = XVF_ON;
    else if (!strcmp(s, "off") || !strcmp(s, "0") || !strcmp(s, "no"))
        *ret = XVF_OFF;
    else
        return -EINVAL;
    return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t b[6];

    if (xvf_parse_mac(s, b))
        return -EINVAL;
    if (b[0] & 1)
        return -EDOM;   /* multicast */
    if (!(b[0] | b[1] | b[2] | b[3] | b[4] | b[5]))
        return -EDOM;
    memcpy(mac, b, 6);
    return 0;
}

static bool is_nvme_name(const char *s)
{
    if (strncmp(s, "nvme", 4) || !s[4])
        return false;
    for (s += 4; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* 1 to @max characters, each alphanumeric or one of @extra. */
static bool valid_name(const char *s, size_t max, const char *extra)
{
    size_t len = strlen(s);

    if (!len || len > max)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
            return false;
    return true;
}

static bool valid_netdev(const char *s)
{
    /* IFNAMSIZ - 1; dev_valid_name() also forbids '/', ':' and spaces */
    return valid_name(s, 15, "_.-@") && strcmp(s, ".") && strcmp(s, "..");
}

static bool valid_serial(const char *s)
{
    /* NVMe SN is 20 ASCII characters, space padded; we compare trimmed */
    return valid_name(s, 20, "_.-");
}

static bool valid_driver(const char *s)
{
    return valid_name(s, sizeof(((struct xvf_spec *)0)->driver) - 1, "_-");
}

static int parse_target(const char *t, struct xvf_spec *s,
                        struct xvf_err *err)
{
    char bdf[16];

    if (!*t)
        return xvf_err_set(err, -EINVAL, "missing target after 'vf:' "
                           "(expected nvmeN/nsM, a PCI address, "
                           "serial:SN or a network interface)");
    if (strlen(t) >= sizeof(s->target))
        return xvf_err_set(err, -EINVAL, "target '%s' is too long", t);
    if (!strncmp(t, "serial:", 7)) {
        if (!valid_serial(t + 7))
            return xvf_err_set(err, -EINVAL, "serial '%s' is not a valid "
                               "NVMe serial number", t + 7);
        s->kind = XVF_TARGET_SERIAL;
        strcpy(s->target, t + 7);
    } else if (strchr(t, ':')) {
        if (xvf_parse_bdf(t, bdf))
            return xvf_err_set(err, -EINVAL, "target '%s' is not a PCI "
                               "address ([DDDD:]BB:DD.F)", t);
        s->kind = XVF_TARGET_PCI;
        strcpy(s->target, bdf);
    } else if (is_nvme_name(t)) {
        s->kind = XVF_TARGET_NVME_NAME;
        strcpy(s->target, t);
    } else if (valid_netdev(t)) {
        s->kind = XVF_TARGET_NETDEV;
        strcpy(s->target, t);
    } else {
        return xvf_err_set(err, -EINVAL, "target '%s' is neither nvmeN, a "
                           "PCI address, serial:SN nor a network interface "
                           "name", t);
    }
    return 0;
}

static int parse_option(char *kv, struct xvf_spec *s, unsigned int *seen,
                        struct xvf_err *err)
{
    static const char *const keys[] = {
        "vq", "vi", "driver", "mac", "vlan", "qos", "trust", "spoofchk",
        "rate",
    };
    char *val = strchr(kv, '=');
    unsigned long v;
    unsigned int i;
    int r;

    if (!*kv)
        return xvf_err_set(err, -EINVAL, "empty option (stray ',')");
    if (!val)
        return xvf_err_set(err, -EINVAL, "option '%s' is not KEY=VALUE", kv);
    *val++ = '\0';
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!strcmp(kv, keys[i]))
            break;
    if (i == sizeof(keys) / sizeof(keys[0]))
        return xvf_err_set(err, -EINVAL, "unknown option '%s' (known: vq, "
                           "vi, driver, mac, vlan, qos, trust, spoofchk, "
                           "rate)", kv);
    if (*seen & (1u << i))
        return xvf_err_set(err, -EINVAL, "option '%s' given twice", kv);
    *seen |= 1u << i;
    if (i <= 1 && s->cls != XVF_CLASS_NVME)
        return xvf_err_set(err, -EINVAL, "option '%s' applies to NVMe "
                           "VFs only", kv);
    if (i >= 3 && s->cls != XVF_CLASS_NET)
        return xvf_err_set(err, -EINVAL, "option '%s' applies to network "
                           "VFs only", kv);

    switch (i) {
    case 0:
    case 1:
        if (xvf_parse_ulong(val, 0xffff, &v) || !v)
            return xvf_err_set(err, -EINVAL, "%s='%s' is not a number of "
                               "resources between 1 and 65535", kv, val);
        if (i == 0) {
            s->vq = v;
        } else {
            s->vi = v;
            s->vi_given = true;
        }
        break;
    case 2:
        if (!valid_driver(val))
            return xvf_err_set(err, -EINVAL, "driver='%s' is not a driver "
                               "name", val);
        strcpy(s->driver, val);
        break;
    case 3:
        r = parse_mac(val, s->mac);
        if (r == -EDOM)
            return xvf_err_set(err, -EINVAL, "mac='%s' is multicast or "
                               "zero, a VF needs a unicast address", val);
        if (r)
            return xvf_err_set(err, -EINVAL, "mac='%s' is not "
                               "XX:XX:XX:XX:XX:XX", val);
        s->has_mac = true;
        break;
    case 4:
        if (xvf_parse_ulong(val, 4094, &v))
            return xvf_err_set(err, -EINVAL, "vlan='%s' is not a VLAN id "
                               "between 0 and 4094", val);
        s->vlan = v;
        break;
    case 5:
        if (xvf_parse_ulong(val, 7, &v))
            return xvf_err_set(err, -EINVAL, "qos='%s' is not a priority "
                               "between 0 and 7", val);
        s->qos = v;
        break;
    case 6:
    case 7:
        if (parse_onoff(val, i == 6 ? &s->trust : &s->spoofchk))
            return xvf_err_set(err, -EINVAL, "%s='%s' is not on or off",
                               kv, val);
        break;
    case 8:
        if (xvf_parse_ulong(val, 1000000, &v))
            return xvf_err_set(err, -EINVAL, "rate='%s' is not a rate in "
                               "Mbit/s", val);
        s->rate = v;
        break;
    }
    return 0;
}

int xvf_spec_parse(const char *str, struct xvf_spec *spec,
                   struct xvf_err *err)
{
    struct xvf_spec s;
    char buf[XVF_SPEC_MAX + 1], *p, *opts, *ns, *tok, *save;
    unsigned int seen = 0;
    unsigned long nsid;
    size_t len;
    int r;

    if (!str)
        return xvf_err_set(err, -EINVAL, "no spec given");
    if (strncmp(str, XVF_SPEC_PREFIX, strlen(XVF_SPEC_PREFIX)))
        return xvf_err_set(err, -EINVAL, "'%s' does not start with 'vf:'",
                           str);
    len = strlen(str);
    if (len > XVF_SPEC_MAX)
        return xvf_err_set(err, -EINVAL, "spec is %zu characters long, "
                           "libxl keeps at most %d", len, XVF_SPEC_MAX);
    for (p = (char *)str; *p; p++)
        if (!isgraph((unsigned char)*p))
            return xvf_err_set(err, -EINVAL, "spec contains a space or "
                               "control character at position %zu",
                               (size_t)(p - str));

    memset(&s, 0, sizeof(s));
    s.vlan = s.qos = s.rate = -1;
    strcpy(buf, str + strlen(XVF_SPEC_PREFIX));

    opts = strchr(buf, ',');
    if (opts)
        *opts++ = '\0';
    /* "serial:" and PCI addresses contain ':' but never '/' */
    ns = strchr(buf, '/');
    if (ns) {
        *ns++ = '\0';
        if (strncmp(ns, "ns", 2) || xvf_parse_ulong(ns + 2, 0xfffffffeUL, &nsid)
            || !nsid)
            return xvf_err_set(err, -EINVAL, "'/%s' is not a namespace "
                               "(expected /nsN with N >= 1)", ns);
        s.nsid = nsid;
    }
    r = parse_target(buf, &s, err);
    if (r)
        return r;

    switch (s.kind) {
    case XVF_TARGET_NVME_NAME:
    case XVF_TARGET_SERIAL:
        if (!s.nsid)
            return xvf_err_set(err, -EINVAL, "NVMe target '%s' needs a "
                               "namespace: add /nsN", buf);
        s.cls = XVF_CLASS_NVME;
        break;
    case XVF_TARGET_NETDEV:
        if (s.nsid)
            return xvf_err_set(err, -EINVAL, "network interface '%s' has "
                               "no namespaces: drop '/ns%u'", buf,
                               s.nsid);
        s.cls = XVF_CLASS_NET;
        break;
    case XVF_TARGET_PCI:
        s.cls = s.nsid ? XVF_CLASS_NVME : XVF_CLASS_NET;
        break;
    }

    if (s.cls == XVF_CLASS_NVME) {
        s.vq = VQ_DEFAULT;
        s.vi = VI_DEFAULT;
    }
    strcpy(s.driver, DRIVER_DEFAULT);

    if (opts) {
        for (tok = strtok_r(opts, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            r = parse_option(tok, &s, &seen, err);
            if (r)
                return r;
        }
        len = strlen(str);
        if (str[len - 1] == ',' || strstr(str, ",,"))
            return xvf_err_set(err, -EINVAL, "empty option (stray ',')");
    }
    if (s.qos >= 0 && s.vlan < 0)
        return xvf_err_set(err, -EINVAL, "qos= needs vlan=");
    /* DomD and the journal work on the canonical form ("0" is "off"):
     * what is accepted here must be a spec they accept too. */
    if (xvf_spec_format(&s, buf, sizeof(buf)))
        return xvf_err_set(err, -EINVAL, "the canonical form of '%s' is "
                           "over %d characters (on/off and defaults "
                           "spelled out): drop default options",
                           str, XVF_SPEC_MAX);

    *spec = s;
    return 0;
}

static int append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= len - *pos)
        return -ENAMETOOLONG;
    *pos += r;
    return 0;
}

int xvf_spec_check_guest(const struct xvf_spec *spec, struct xvf_err *err)
{
    if (!strcmp(spec->driver, "pciback"))
        return 0;
    return xvf_err_set(err, -EINVAL, "driver=%s: a guest's VF is always "
                       "bound to pciback (other drivers are for xen-vfctl "
                       "prepare --local in the driver domain)", spec->driver);
}

int xvf_spec_format(const struct xvf_spec *s, char *buf, size_t len)
{
    const char *onoff[] = { "", "off", "on" };
    size_t pos = 0;
    int r;

    if (!len)
        return -ENAMETOOLONG;
    buf[0] = '\0';
    r = append(buf, len, &pos, "vf:%s%s",
               s->kind == XVF_TARGET_SERIAL ? "serial:" : "", s->target);
    if (!r && s->nsid)
        r = append(buf, len, &pos, "/ns%u", s->nsid);
    if (!r && s->cls == XVF_CLASS_NVME && s->vq != VQ_DEFAULT)
        r = append(buf, len, &pos, ",vq=%u", s->vq);
    if (!r && s->cls == XVF_CLASS_NVME && s->vi != VI_DEFAULT)
        r = append(buf, len, &pos, ",vi=%u", s->vi);
    if (!r && strcmp(s->driver, DRIVER_DEFAULT))
        r = append(buf, len, &pos, ",driver=%s", s->driver);
    if (!r && s->has_mac)
        r = append(buf, len, &pos, ",mac=%02x:%02x:%02x:%02x:%02x:%02x",
                   s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4],
                   s->mac[5]);
    if (!r && s->vlan >= 0)
        r = append(buf, len, &pos, ",vlan=%d", s->vlan);
    if (!r && s->qos >= 0)
        r = append(buf, len, &pos, ",qos=%d", s->qos);
    if (!r && s->trust)
        r = append(buf, len, &pos, ",trust=%s", onoff[s->trust]);
    if (!r && s->spoofchk)
        r = append(buf, len, &pos, ",spoofchk=%s", onoff[s->spoofchk]);
    if (!r && s->rate >= 0)
        r = append(buf, len, &pos, ",rate=%d", s->rate);
    return r;
}
