/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <linux/if.h>
#include <linux/if_link.h>

#include "engine/net-vf.h"
#include "pci/device.h"
#include "util/str.h"
#include "util/sysfs.h"

static const char *const what_names[][2] = {
    [XVF_NL_VF_MAC] = { "mac", "vf-mac" },
    [XVF_NL_VF_VLAN] = { "vlan", "vf-vlan" },
    [XVF_NL_VF_RATE] = { "rate", "vf-rate" },
    [XVF_NL_VF_SPOOFCHK] = { "spoofchk", "vf-spoofchk" },
    [XVF_NL_VF_TRUST] = { "trust", "vf-trust" },
    [XVF_NL_VF_LINK_STATE] = { "link-state", "vf-link-state" },
};

/*
 * Drivers that limit a VF's rate only at one link speed and answer a bare
 * EINVAL at any other (and drop the limit when the speed changes).
 */
static const struct {
    const char *driver;
    unsigned int speed;
} rate_speed[] = {
    { "ixgbe", 10000 },         /* ixgbe_ndo_set_vf_bw() */
};

static const struct xvf_nl_vf *find_vf(const struct xvf_nl_link *link,
                                       unsigned int vf)
{
    unsigned int i;

    for (i = 0; i < link->nvfs; i++)
        if (link->vfs[i].vf == vf)
            return &link->vfs[i];
    return NULL;
}

static int set_vf(struct net_run *nr, const struct xvf_nl_vf_set *set,
                  const char *value, struct xvf_err *err)
{
    const char *name = what_names[set->what][0];
    const char *ext;
    int r;

    xvf_run_step(nr->run, what_names[set->what][1], "VF %u of %s: %s %s",
                 set->vf, nr->ifname, name, value);
    r = xvf_nl_set_vf(nr->nl, nr->link->ifindex, set);
    if (!r)
        return 0;
    ext = xvf_nl_ext_msg(nr->nl);
    if (r == -EOPNOTSUPP)
        return xvf_err_set(err, r, "the driver of %s cannot set %s on its "
                           "VFs (%s)%s%s", nr->ifname, name, strerror(-r),
                           *ext ? ": " : "", ext);
    return xvf_err_set(err, r, "cannot set %s %s on VF %u of %s: %s%s%s",
                       name, value, set->vf, nr->ifname, strerror(-r),
                       *ext ? ": " : "", ext);
}

static const char *onoff(int v)
{
    return v < 0 ? "nothing (not reported)" : v ? "on" : "off";
}

/* Whether @got has what @set asked; @now receives what it has. */
static bool vf_has(const struct xvf_nl_vf *got,
                   const struct xvf_nl_vf_set *set, char *now, size_t len)
{
    char m[18];

    switch (set->what) {
    case XVF_NL_VF_MAC:
        snprintf(now, len, "%s", xvf_mac_str(got->mac, m));
        return !memcmp(got->mac, set->mac, 6);
    case XVF_NL_VF_VLAN:
        snprintf(now, len, "%u qos %u", got->vlan, got->qos);
        return got->vlan == set->vlan && got->qos == set->qos;
    case XVF_NL_VF_RATE:
        snprintf(now, len, "%u Mbit/s (min %u)", got->max_rate,
                 got->min_rate);
        return got->max_rate == set->rate && got->min_rate == set->min_rate;
    case XVF_NL_VF_SPOOFCHK:
        snprintf(now, len, "%s", onoff(got->spoofchk));
        return got->spoofchk == set->on;
    case XVF_NL_VF_TRUST:
        snprintf(now, len, "%s", onoff(got->trust));
        return got->trust == set->on;
    case XVF_NL_VF_LINK_STATE:
        snprintf(now, len, "%d", got->link_state);
        return got->link_state == (int)set->link_state;
    }
    return false;
}

/* Sets one setting and reads it back: a driver may accept what it does
 * not apply. */
static int apply(struct net_run *nr, const struct xvf_nl_vf_set *set,
                 const char *value, struct xvf_err *err)
{
    const struct xvf_nl_vf *got;
    char now[48];
    int r;

    r = set_vf(nr, set, value, err);
    if (r)
        return r;
    r = xvf_nl_get_link(nr->nl, NULL, nr->link->ifindex, nr->link);
    if (r)
        return xvf_err_set(err, r, "cannot read the VFs of %s back: %s",
                           nr->ifname, strerror(-r));
    got = find_vf(nr->link, set->vf);
    if (!got)
        return xvf_err_set(err, -EIO, "%s does not report VF %u",
                           nr->ifname, set->vf);
    if (!vf_has(got, set, now, sizeof(now)))
        return xvf_err_set(err, -EIO, "the driver of %s accepted %s %s on "
                           "VF %u but reports %s", nr->ifname,
                           what_names[set->what][0], value, set->vf, now);
    return 0;
}

int xvf_net_vf_save(const struct net_run *nr, unsigned int vf,
                    struct xvf_entry_net *saved, struct xvf_err *err)
{
    const struct xvf_nl_vf *cur = find_vf(nr->link, vf);

    if (!cur)
        return xvf_err_set(err, -EIO, "%s does not report VF %u",
                           nr->ifname, vf);
    saved->saved = true;
    memcpy(saved->mac, cur->mac, 6);
    saved->vlan = cur->vlan;
    saved->qos = cur->qos;
    saved->min_rate = cur->min_rate;
    saved->max_rate = cur->max_rate;
    saved->spoofchk = cur->spoofchk;
    saved->trust = cur->trust;
    saved->link_state = cur->link_state;
    return 0;
}

int xvf_net_rate_check(const struct net_run *nr, unsigned int rate,
                       struct xvf_err *err)
{
    char path[PATH_MAX], buf[32], drv[64];
    unsigned long speed = 0;
    unsigned int i;
    int r;

    /* "-1" (SPEED_UNKNOWN) or EINVAL while the link is down */
    r = xvf_path(path, sizeof(path), "/sys/class/net/%s/speed", nr->ifname);
    if (!r)
        r = xvf_sysfs_read(path, buf, sizeof(buf));
    if (!r)
        r = xvf_parse_ulong(buf, UINT_MAX, &speed);
    if (r || !speed)
        return xvf_err_set(err, -ENETDOWN, "rate= needs the link speed of "
                           "%s, which it does not report (%s)", nr->ifname,
                           r ? strerror(-r) : "0");
    if (!xvf_pci_driver(nr->run->pf, drv, sizeof(drv)))
        for (i = 0; i < sizeof(rate_speed) / sizeof(rate_speed[0]); i++)
            if (!strcmp(drv, rate_speed[i].driver) &&
                speed != rate_speed[i].speed)
                return xvf_err_set(err, -EINVAL, "rate=%u: %s links at %lu "
                                   "Mb/s, and its driver %s limits VF rates "
                                   "only at %u Mb/s", rate, nr->ifname,
                                   speed, drv, rate_speed[i].speed);
    if (rate > speed)
        return xvf_err_set(err, -EINVAL, "rate=%u Mbit/s is above the link "
                           "speed of %s (%lu Mb/s)", rate, nr->ifname,
                           speed);
    return 0;
}

/* rate= needs the PF's link (igb and ixgbe check the link speed). */
static int wait_link(struct net_run *nr, struct xvf_err *err)
{
    unsigned int ms = nr->run->cfg->bind_timeout_ms;
    struct xvf_nl *watch = NULL;
    int r;

    if (nr->link->flags & IFF_RUNNING)
        return 0;
    xvf_run_step(nr->run, "link-wait", "rate= needs %s's link: waiting up "
                 "to %u ms for it", nr->ifname, ms);
    r = xvf_nl_open_watch(&watch);
    if (!r)
        r = xvf_nl_wait_running(watch, nr->nl, nr->link->ifindex, ms,
                                nr->link);
    xvf_nl_close(watch);
    if (r == -ETIMEDOUT)
        return xvf_err_set(err, -ENETDOWN, "rate= needs the link of %s, "
                           "which is not up after %u ms (no carrier?)",
                           nr->ifname, ms);
    if (r)
        return xvf_err_set(err, r, "cannot watch the link of %s: %s",
                           nr->ifname, strerror(-r));
    return 0;
}

int xvf_net_vf_configure(struct net_run *nr, const struct xvf_spec *spec,
                         unsigned int vf, struct xvf_err *err)
{
    struct xvf_nl_vf_set set = { .vf = vf };
    char value[32];
    int r;

    if (spec->has_mac) {
        set.what = XVF_NL_VF_MAC;
        memcpy(set.mac, spec->mac, 6);
        r = apply(nr, &set, xvf_mac_str(spec->mac, value), err);
        if (r)
            return r;
    }
    if (spec->vlan >= 0) {
        set.what = XVF_NL_VF_VLAN;
        set.vlan = spec->vlan;
        set.qos = spec->qos >= 0 ? spec->qos : 0;
        snprintf(value, sizeof(value), "%u qos %u", set.vlan, set.qos);
        r = apply(nr, &set, value, err);
        if (r)
            return r;
    }
    if (spec->spoofchk) {
        set.what = XVF_NL_VF_SPOOFCHK;
        set.on = spec->spoofchk == XVF_ON;
        r = apply(nr, &set, set.on ? "on" : "off", err);
        if (r)
            return r;
    }
    if (spec->trust) {
        set.what = XVF_NL_VF_TRUST;
        set.on = spec->trust == XVF_ON;
        r = apply(nr, &set, set.on ? "on" : "off", err);
        if (r)
            return r;
    }
    if (spec->rate >= 0) {
        r = wait_link(nr, err);
        if (!r)
            r = xvf_net_rate_check(nr, spec->rate, err);
        if (r)
            return r;
        set.what = XVF_NL_VF_RATE;
        set.rate = spec->rate;
        set.min_rate = 0;
        snprintf(value, sizeof(value), "%u Mbit/s", set.rate);
        r = apply(nr, &set, value, err);
        if (r)
            return r;
    }
    return 0;
}

/* 02:58:56 ("XV", locally administered), the PF's bus and devfn, the VF. */
static void placeholder_mac(const char *pf, unsigned int vf, uint8_t mac[6])
{
    unsigned int dom, bus = 0, dev = 0, fn = 0;

    if (sscanf(pf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
        bus = dev = fn = 0;
    mac[0] = 0x02;
    mac[1] = 0x58;
    mac[2] = 0x56;
    mac[3] = bus;
    mac[4] = (dev << 3 | fn) & 0xff;
    mac[5] = vf;
}

static int reset_mac(struct net_run *nr, unsigned int vf,
                     const uint8_t now[6], struct xvf_err *err)
{
    struct xvf_nl_vf_set set = { .what = XVF_NL_VF_MAC, .vf = vf };
    uint8_t placeholder[6];
    struct xvf_err zero_err = { 0 };
    char value[18];
    int r;

    placeholder_mac(nr->run->pf, vf, placeholder);
    if (!memcmp(now, set.mac, 6) || !memcmp(now, placeholder, 6))
        return 0;
    r = apply(nr, &set, "00:00:00:00:00:00", &zero_err);
    if (r != -EINVAL) {
        if (r)
            *err = zero_err;
        return r;
    }
    /* igb before Linux 5.9 takes no all-zero MAC (is_valid_ether_addr) */
    memcpy(set.mac, placeholder, 6);
    xvf_run_step(nr->run, "vf-mac-placeholder", "%s refuses an all-zero "
                 "MAC on VF %u: placeholder %s instead", nr->ifname, vf,
                 xvf_mac_str(placeholder, value));
    return apply(nr, &set, value, err);
}

/* The first failure's message stays in @err; later ones go to @scratch. */
static struct xvf_err *first(int rc, struct xvf_err *err,
                             struct xvf_err *scratch)
{
    return rc ? scratch : err;
}

int xvf_net_vf_restore(struct net_run *nr, const struct xvf_entry *e,
                       const struct xvf_spec *spec, struct xvf_err *err)
{
    struct xvf_nl_vf_set set = { .vf = e->vfn - 1 };
    const struct xvf_entry_net *s = &e->net;
    const struct xvf_nl_vf *found = find_vf(nr->link, set.vf);
    struct xvf_nl_vf now, want;
    struct xvf_err scratch;
    char value[32];
    int r, rc = 0;

    if (!found)
        return 0;
    /* @nr->link is read again by every change */
    now = want = *found;
    if (s->saved) {
        want.vlan = s->vlan;
        want.qos = s->qos;
        want.min_rate = s->min_rate;
        want.max_rate = s->max_rate;
        want.spoofchk = s->spoofchk;
        want.trust = s->trust;
        want.link_state = s->link_state;
    } else {
        /* an entry from before settings were saved: the defaults */
        if (spec->rate >= 0)
            want.min_rate = want.max_rate = 0;
        if (spec->trust)
            want.trust = 0;
        if (spec->spoofchk)
            want.spoofchk = 1;
        if (spec->vlan >= 0)
            want.vlan = want.qos = 0;
    }
    if (want.max_rate != now.max_rate || want.min_rate != now.min_rate) {
        set.what = XVF_NL_VF_RATE;
        set.rate = want.max_rate;
        set.min_rate = want.min_rate;
        snprintf(value, sizeof(value), "%u Mbit/s (min %u)", set.rate,
                 set.min_rate);
        r = apply(nr, &set, value, first(rc, err, &scratch));
        rc = rc ? rc : r;
    }
    if (want.trust >= 0 && want.trust != now.trust) {
        set.what = XVF_NL_VF_TRUST;
        set.on = want.trust;
        r = apply(nr, &set, onoff(want.trust), first(rc, err, &scratch));
        rc = rc ? rc : r;
    }
    if (want.spoofchk >= 0 && want.spoofchk != now.spoofchk) {
        set.what = XVF_NL_VF_SPOOFCHK;
        set.on = want.spoofchk;
        r = apply(nr, &set, onoff(want.spoofchk), first(rc, err, &scratch));
        rc = rc ? rc : r;
    }
    if (want.vlan != now.vlan || want.qos != now.qos) {
        set.what = XVF_NL_VF_VLAN;
        set.vlan = want.vlan;
        set.qos = want.qos;
        snprintf(value, sizeof(value), "%u qos %u", set.vlan, set.qos);
        r = apply(nr, &set, value, first(rc, err, &scratch));
        rc = rc ? rc : r;
    }
    if (want.link_state >= 0 && want.link_state != now.link_state) {
        set.what = XVF_NL_VF_LINK_STATE;
        set.link_state = want.link_state;
        snprintf(value, sizeof(value), "%d", want.link_state);
        r = apply(nr, &set, value, first(rc, err, &scratch));
        rc = rc ? rc : r;
    }
    r = reset_mac(nr, set.vf, now.mac, first(rc, err, &scratch));
    return rc ? rc : r;
}
