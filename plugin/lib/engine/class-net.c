/* SPDX-License-Identifier: LGPL-2.1-only */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <linux/if.h>

#include "net/netlink.h"
#include "engine/class.h"
#include "util/clock.h"
#include "util/sysfs.h"

#define PCI_BASE_CLASS_NETWORK 0x02
#define VIRTFN_POLL_MS 10

struct net_run {
    struct xvf_run *run;
    char ifname[XVF_IFNAMSIZ];
    struct xvf_nl *nl;
    struct xvf_nl_link *link;
};

static const char *mac_str(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
             mac[2], mac[3], mac[4], mac[5]);
    return buf;
}

/*
 * The PF's netdev: @prefer when the PF has it, else the first by name
 * (one PCI function with several netdevs is rare, the order is stable).
 */
static int pf_netdev(const char *pf, const char *prefer,
                     char ifname[XVF_IFNAMSIZ])
{
    char path[PATH_MAX];
    struct dirent *de;
    DIR *d;
    int r;

    r = xvf_pci_attr(path, sizeof(path), pf, "net");
    if (r)
        return r;
    d = opendir(path);
    if (!d)
        return -errno;
    ifname[0] = '\0';
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) >= XVF_IFNAMSIZ)
            continue;
        if (prefer && !strcmp(de->d_name, prefer)) {
            strcpy(ifname, de->d_name);
            break;
        }
        if (!ifname[0] || strcmp(de->d_name, ifname) < 0)
            strcpy(ifname, de->d_name);
    }
    closedir(d);
    return ifname[0] ? 0 : -ENOENT;
}

static int netdev_pci(const char *ifname, char bdf[XVF_BDF_LEN],
                      struct xvf_err *err)
{
    char path[PATH_MAX], subsys[64];
    struct stat st;
    int r;

    r = xvf_path(path, sizeof(path), "/sys/class/net/%s", ifname);
    if (r || stat(path, &st))
        return xvf_err_set(err, -ENODEV, "no network interface '%s'",
                           ifname);
    r = xvf_path(path, sizeof(path), "/sys/class/net/%s/device/subsystem",
                 ifname);
    if (!r)
        r = xvf_sysfs_link_name(path, subsys, sizeof(subsys));
    if (r == -ENOENT)
        return xvf_err_set(err, -EOPNOTSUPP, "network interface %s is not "
                           "a PCI function (a virtual interface?): it has "
                           "no SR-IOV", ifname);
    if (!r && strcmp(subsys, "pci"))
        return xvf_err_set(err, -EOPNOTSUPP, "network interface %s is a "
                           "%s device, not PCI: it has no SR-IOV", ifname,
                           subsys);
    if (!r)
        r = xvf_path(path, sizeof(path), "/sys/class/net/%s/device",
                     ifname);
    if (!r)
        r = xvf_sysfs_link_name(path, bdf, XVF_BDF_LEN);
    if (r)
        return xvf_err_set(err, r, "cannot read the device of %s: %s",
                           ifname, strerror(-r));
    return 0;
}

static int net_resolve(const struct xvf_spec *spec, char pf[XVF_BDF_LEN],
                       struct xvf_err *err)
{
    char bdf[XVF_BDF_LEN], phys[XVF_BDF_LEN], ifname[XVF_IFNAMSIZ];
    unsigned int cls;
    int r;

    if (spec->kind == XVF_TARGET_NETDEV) {
        r = netdev_pci(spec->target, bdf, err);
        if (r)
            return r;
    } else {
        snprintf(bdf, sizeof(bdf), "%.15s", spec->target);
        if (!xvf_pci_exists(bdf))
            return xvf_err_set(err, -ENODEV, "no PCI device %s", bdf);
        r = xvf_pci_attr_read_uint(bdf, "class", &cls);
        if (r)
            return xvf_err_set(err, r, "cannot read the class of %s: %s",
                               bdf, strerror(-r));
        if (cls >> 16 != PCI_BASE_CLASS_NETWORK)
            return xvf_err_set(err, -EOPNOTSUPP, "%s is not a network "
                               "controller (PCI class 0x%06x); an NVMe "
                               "target needs /nsN", bdf, cls);
    }
    if (!xvf_pci_physfn(bdf, phys)) {
        if (spec->kind == XVF_TARGET_NETDEV)
            return xvf_err_set(err, -EINVAL, "%s is the netdev of VF %s "
                               "of %s: name the physical function",
                               spec->target, bdf, phys);
        return xvf_err_set(err, -EINVAL, "%s is a virtual function of %s: "
                           "name the physical function", bdf, phys);
    }
    if (spec->kind == XVF_TARGET_PCI && pf_netdev(bdf, NULL, ifname))
        return xvf_err_set(err, -ENODEV, "%s has no network interface (is "
                           "its driver bound?)", bdf);
    memcpy(pf, bdf, XVF_BDF_LEN);
    return 0;
}

static const struct xvf_entry *held_vfn(const struct xvf_run *run,
                                        unsigned int vfn)
{
    unsigned int i;

    for (i = 0; i < run->njournal; i++)
        if (run->journal[i].vfn == vfn)
            return &run->journal[i];
    return NULL;
}

static bool vf_free(const struct xvf_run *run, unsigned int vfn)
{
    char vf[XVF_BDF_LEN], drv[64];

    if (held_vfn(run, vfn))
        return false;
    return xvf_sriov_vf_driver(run->pf, vfn, vf, drv, sizeof(drv)) ||
           !drv[0];
}

/*
 * The kernel creates the VFs inside the sriov_numvfs write, so this
 * normally returns at once; the bound covers drivers that finish later.
 */
static int wait_virtfn(struct xvf_run *run, unsigned int vfn,
                       char vf[XVF_BDF_LEN])
{
    struct timespec pause = { 0, VIRTFN_POLL_MS * 1000000L };
    long long deadline = xvf_now_ms() + run->cfg->bind_timeout_ms;
    int r;

    for (;;) {
        r = xvf_sriov_virtfn(run->pf, vfn, vf);
        if (r != -ENOENT || xvf_now_ms() >= deadline)
            return r == -ENOENT ? -ETIMEDOUT : r;
        nanosleep(&pause, NULL);
    }
}

static const char *const what_names[][2] = {
    [XVF_NL_VF_MAC] = { "mac", "vf-mac" },
    [XVF_NL_VF_VLAN] = { "vlan", "vf-vlan" },
    [XVF_NL_VF_RATE] = { "rate", "vf-rate" },
    [XVF_NL_VF_SPOOFCHK] = { "spoofchk", "vf-spoofchk" },
    [XVF_NL_VF_TRUST] = { "trust", "vf-trust" },
};

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

static const struct xvf_nl_vf *find_vf(const struct xvf_nl_link *link,
                                       unsigned int vf)
{
    unsigned int i;

    for (i = 0; i < link->nvfs; i++)
        if (link->vfs[i].vf == vf)
            return &link->vfs[i];
    return NULL;
}

/* rate= needs the PF's link (igb and ixgbe check the link speed). */
static int wait_link(struct net_run *nr, struct xvf_err *err)
{
    struct xvf_nl *watch = NULL;
    int r;

    if (nr->link->flags & IFF_RUNNING)
        return 0;
    xvf_run_step(nr->run, "link-wait", "rate= needs %s's link: waiting up "
                 "to %u ms for it", nr->ifname,
                 nr->run->cfg->bind_timeout_ms);
    r = xvf_nl_open_watch(&watch);
    if (!r)
        r = xvf_nl_wait_running(watch, nr->nl, nr->link->ifindex,
                                nr->run->cfg->bind_timeout_ms, nr->link);
    xvf_nl_close(watch);
    if (r == -ETIMEDOUT)
        return xvf_err_set(err, -ENETDOWN, "rate= needs the link of %s, "
                           "which is not up after %u ms (no carrier?)",
                           nr->ifname, nr->run->cfg->bind_timeout_ms);
    if (r)
        return xvf_err_set(err, r, "cannot watch the link of %s: %s",
                           nr->ifname, strerror(-r));
    return 0;
}

static int configure_vf(struct net_run *nr, const struct xvf_spec *spec,
                        const struct xvf_entry *e, struct xvf_err *err)
{
    struct xvf_nl_vf_set set = { .vf = e->vfn - 1 };
    const struct xvf_nl_vf *got;
    char value[32], m1[18], m2[18];
    int r;

    if (spec->has_mac) {
        set.what = XVF_NL_VF_MAC;
        memcpy(set.mac, spec->mac, 6);
        r = set_vf(nr, &set, mac_str(spec->mac, value), err);
        if (r)
            return r;
    }
    if (spec->vlan >= 0) {
        set.what = XVF_NL_VF_VLAN;
        set.vlan = spec->vlan;
        set.qos = spec->qos >= 0 ? spec->qos : 0;
        snprintf(value, sizeof(value), "%u qos %u", set.vlan, set.qos);
        r = set_vf(nr, &set, value, err);
        if (r)
            return r;
    }
    if (spec->spoofchk) {
        set.what = XVF_NL_VF_SPOOFCHK;
        set.on = spec->spoofchk == XVF_ON;
        r = set_vf(nr, &set, set.on ? "on" : "off", err);
        if (r)
            return r;
    }
    if (spec->trust) {
        set.what = XVF_NL_VF_TRUST;
        set.on = spec->trust == XVF_ON;
        r = set_vf(nr, &set, set.on ? "on" : "off", err);
        if (r)
            return r;
    }
    if (spec->rate >= 0) {
        r = wait_link(nr, err);
        if (r)
            return r;
        set.what = XVF_NL_VF_RATE;
        set.rate = spec->rate;
        snprintf(value, sizeof(value), "%u Mbit/s", set.rate);
        r = set_vf(nr, &set, value, err);
        if (r)
            return r;
    }

    /* Some drivers accept a setting they do not apply: read back. */
    xvf_run_step(nr->run, "verify", "read VF %u back from %s", set.vf,
                 nr->ifname);
    r = xvf_nl_get_link(nr->nl, NULL, nr->link->ifindex, nr->link);
    if (r)
        return xvf_err_set(err, r, "cannot read the VFs of %s: %s",
                           nr->ifname, strerror(-r));
    got = find_vf(nr->link, set.vf);
    if (!got)
        return xvf_err_set(err, -EIO, "%s does not report VF %u",
                           nr->ifname, set.vf);
    if (spec->has_mac && memcmp(got->mac, spec->mac, 6))
        return xvf_err_set(err, -EIO, "the driver of %s reports MAC %s on "
                           "VF %u, not the %s it accepted", nr->ifname,
                           mac_str(got->mac, m1), set.vf,
                           mac_str(spec->mac, m2));
    if (spec->vlan >= 0 && (got->vlan != (unsigned int)spec->vlan ||
                            got->qos != (unsigned int)(spec->qos >= 0 ?
                                                       spec->qos : 0)))
        return xvf_err_set(err, -EIO, "the driver of %s reports VLAN %u "
                           "qos %u on VF %u, not the %d it accepted",
                           nr->ifname, got->vlan, got->qos, set.vf,
                           spec->vlan);
    return 0;
}

static int open_pf(struct net_run *nr, const char *prefer,
                   struct xvf_err *err)
{
    int r;

    r = pf_netdev(nr->run->pf, prefer, nr->ifname);
    if (r)
        return xvf_err_set(err, -ENODEV, "%s has no network interface (is "
                           "its driver bound?)", nr->run->pf);
    nr->link = malloc(sizeof(*nr->link));
    if (!nr->link)
        return xvf_err_set(err, -ENOMEM, "out of memory");
    r = xvf_nl_open(&nr->nl);
    if (r)
        return xvf_err_set(err, r, "cannot open an rtnetlink socket: %s",
                           strerror(-r));
    r = xvf_nl_get_link(nr->nl, nr->ifname, 0, nr->link);
    if (r)
        return xvf_err_set(err, r, "cannot read link %s through rtnetlink: "
                           "%s", nr->ifname, strerror(-r));
    return 0;
}

static void close_pf(struct net_run *nr)
{
    xvf_nl_close(nr->nl);
    free(nr->link);
}

/*
 * Resets what the spec set and the driver still reports, so settings that
 * never took effect (a failed step, an undone one) cost no request.
 */
static int reset_vf(struct net_run *nr, const struct xvf_spec *spec,
                    const struct xvf_entry *e, struct xvf_err *err)
{
    struct xvf_nl_vf_set set = { .vf = e->vfn - 1 };
    const struct xvf_nl_vf *cur = find_vf(nr->link, set.vf);
    static const uint8_t zero[6];
    int r, rc = 0;

    if (!cur)
        return 0;
    if (spec->rate >= 0 && cur->max_rate) {
        set.what = XVF_NL_VF_RATE;
        set.rate = 0;
        r = set_vf(nr, &set, "0 (unlimited)", err);
        rc = rc ? rc : r;
    }
    if (spec->trust && cur->trust == 1) {
        set.what = XVF_NL_VF_TRUST;
        set.on = false;
        r = set_vf(nr, &set, "off", err);
        rc = rc ? rc : r;
    }
    /* spoof checking is on by default in igb, ixgbe, i40e, ice */
    if (spec->spoofchk && cur->spoofchk == 0) {
        set.what = XVF_NL_VF_SPOOFCHK;
        set.on = true;
        r = set_vf(nr, &set, "on", err);
        rc = rc ? rc : r;
    }
    if (spec->vlan >= 0 && (cur->vlan || cur->qos)) {
        set.what = XVF_NL_VF_VLAN;
        set.vlan = set.qos = 0;
        r = set_vf(nr, &set, "0 qos 0", err);
        rc = rc ? rc : r;
    }
    if (spec->has_mac && memcmp(cur->mac, zero, 6)) {
        set.what = XVF_NL_VF_MAC;
        memset(set.mac, 0, 6);
        r = set_vf(nr, &set, "00:00:00:00:00:00", err);
        rc = rc ? rc : r;
    }
    return rc;
}

static int net_undo(struct xvf_run *run, const struct xvf_entry *e,
                    struct xvf_err *err)
{
    struct net_run nr = { .run = run };
    char vf[XVF_BDF_LEN];
    struct xvf_spec spec;
    int r, rc;

    rc = xvf_run_unbind(run, e, err);
    if (!(e->steps & XVF_STEP_VFCONFIG) || !e->vfn)
        return rc;
    /* a VF that is gone took its settings with it */
    if (xvf_sriov_virtfn(run->pf, e->vfn, vf))
        return rc;
    r = xvf_spec_parse(e->spec, &spec, NULL);
    if (r)
        return rc ? rc : xvf_err_set(err, r, "journal entry %s has a bad "
                                     "spec '%s'", e->id, e->spec);
    r = open_pf(&nr, spec.kind == XVF_TARGET_NETDEV ? spec.target : NULL,
                err);
    if (!r)
        r = reset_vf(&nr, &spec, e, err);
    close_pf(&nr);
    return rc ? rc : r;
}

static int net_steps(struct net_run *nr, const struct xvf_spec *spec,
                     struct xvf_entry *e, unsigned int numvfs,
                     unsigned int target, struct xvf_err *err)
{
    struct xvf_run *run = nr->run;
    int r;

    if (!(nr->link->flags & IFF_UP)) {
        xvf_run_step(run, "pf-up", "bring %s up (bring_pf_up is set)",
                     nr->ifname);
        r = xvf_nl_set_up(nr->nl, nr->link->ifindex);
        if (!r)
            r = xvf_nl_get_link(nr->nl, NULL, nr->link->ifindex, nr->link);
        if (r)
            return xvf_err_set(err, r, "cannot bring %s up: %s", nr->ifname,
                               strerror(-r));
    }
    r = xvf_run_autoprobe_off(run, err);
    if (r)
        return r;
    if (target) {
        e->steps |= XVF_STEP_NUMVFS;
        r = xvf_run_save(run, e, err);
        if (!r)
            r = xvf_run_set_numvfs(run, numvfs, target, err);
        if (r)
            return r;
    }
    r = wait_virtfn(run, e->vfn, e->vf);
    if (r)
        return xvf_err_set(err, r, "VF %u of %s did not appear: %s", e->vfn,
                           run->pf, strerror(-r));
    if (target) {
        /* the PF driver may have reset the link for the new VFs */
        r = xvf_nl_get_link(nr->nl, NULL, nr->link->ifindex, nr->link);
        if (r)
            return xvf_err_set(err, r, "cannot read link %s: %s",
                               nr->ifname, strerror(-r));
    }

    e->steps |= XVF_STEP_VFCONFIG;
    r = xvf_run_save(run, e, err);
    if (!r)
        r = configure_vf(nr, spec, e, err);
    if (r)
        return r;

    return xvf_run_bind(run, e, err);
}

/* Which VF to use, and how many VFs to enable first (0: leave as is). */
static int plan_vf(struct net_run *nr, unsigned int totalvfs,
                   unsigned int numvfs, unsigned int *vfn,
                   unsigned int *target, struct xvf_err *err)
{
    struct xvf_run *run = nr->run;
    unsigned int i, want;

    *target = 0;
    for (i = 1; i <= numvfs; i++) {
        if (vf_free(run, i)) {
            *vfn = i;
            return 0;
        }
    }
    if (numvfs >= totalvfs)
        return xvf_err_set(err, -ENOSPC, "all %u VFs of %s (%s) are in use",
                           totalvfs, nr->ifname, run->pf);
    if (numvfs)
        return xvf_err_set(err, -ENOSPC, "the %u enabled VFs of %s (%s) are "
                           "all in use, and sriov_numvfs cannot grow while "
                           "one is (the kernel needs 0 first)", numvfs,
                           nr->ifname, run->pf);
    want = run->cfg->net_numvfs ? run->cfg->net_numvfs
                                : XVF_NET_NUMVFS_DEFAULT;
    *target = want < totalvfs ? want : totalvfs;
    *vfn = 1;
    return 0;
}

/*
 * A NIC spec is a pool, but a MAC names one interface: two VFs of a PF
 * with the same administrative MAC would both answer for it.
 */
static int check_mac_free(struct xvf_run *run, const struct xvf_spec *spec,
                          struct xvf_err *err)
{
    char holder[64], m[18];
    struct xvf_spec held;
    unsigned int i;

    if (!spec->has_mac)
        return 0;
    for (i = 0; i < run->njournal; i++) {
        const struct xvf_entry *e = &run->journal[i];

        if (e->cls != XVF_CLASS_NET || xvf_spec_parse(e->spec, &held, NULL) ||
            !held.has_mac || memcmp(held.mac, spec->mac, sizeof(held.mac)))
            continue;
        xvf_owner_describe(e->owner, holder, sizeof(holder));
        return xvf_err_set(err, -EBUSY, "MAC %s is already given to %s "
                           "(VF %s of %s)", mac_str(spec->mac, m), holder,
                           e->vf, run->pf);
    }
    return 0;
}

static int net_prepare(struct xvf_run *run, const struct xvf_spec *spec,
                       const char *canonical, const char *owner,
                       struct xvf_vf *ret, struct xvf_err *err)
{
    struct net_run nr = { .run = run };
    unsigned int totalvfs, numvfs, autoprobe, target = 0, vfn = 0;
    char name[XVF_IFNAMSIZ + XVF_BDF_LEN + 4];
    struct xvf_entry e;
    int r;

    r = open_pf(&nr, spec->kind == XVF_TARGET_NETDEV ? spec->target : NULL,
                err);
    if (r)
        goto out;
    snprintf(name, sizeof(name), "%s (%s)", nr.ifname, run->pf);
    r = xvf_run_sriov_state(run, name, &totalvfs, &numvfs, &autoprobe, err);
    if (r)
        goto out;
    if (!(nr.link->flags & IFF_UP) && !run->cfg->bring_pf_up) {
        r = xvf_err_set(err, -ENETDOWN, "%s (%s) is down, and its VFs do "
                        "not work while it is: bring it up first (ip link "
                        "set %s up) or configure xen-vf to (bring_pf_up)",
                        nr.ifname, run->pf, nr.ifname);
        goto out;
    }
    if (!xvf_pci_driver_exists(spec->driver)) {
        r = xvf_err_set(err, -ENODEV, "driver '%s' is not loaded%s",
                        spec->driver, strcmp(spec->driver, "pciback") ? "" :
                        " (modprobe xen-pciback)");
        goto out;
    }
    r = check_mac_free(run, spec, err);
    if (r)
        goto out;
    r = plan_vf(&nr, totalvfs, numvfs, &vfn, &target, err);
    if (r)
        goto out;
    xvf_run_step(run, "plan", "%s (%s): VF %u%s, driver %s", nr.ifname,
                 run->pf, vfn, target ? ", enable VFs" : "", spec->driver);

    /* Checks are over: from here on every change is journaled first. */
    xvf_run_entry_init(run, &e, spec, canonical, owner);
    snprintf(e.id, sizeof(e.id), "vf-%s-vf%u", run->pf, vfn);
    e.vfn = vfn;

    r = xvf_run_begin(run, &e, autoprobe, numvfs, err);
    if (r)
        goto out;
    r = net_steps(&nr, spec, &e, numvfs, target, err);
    r = xvf_run_finish(run, &e, r, ret, err);
out:
    close_pf(&nr);
    return r;
}

const struct xvf_class_ops xvf_class_net = {
    .resolve = net_resolve,
    .prepare = net_prepare,
    .undo = net_undo,
};
