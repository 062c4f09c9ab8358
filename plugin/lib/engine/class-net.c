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

#include "engine/net-vf.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/sysfs.h"

#define PCI_BASE_CLASS_NETWORK 0x02
#define VIRTFN_POLL_MS 10

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
        r = xvf_net_vf_restore(&nr, e, &spec, err);
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
    /* the PF driver may have reset the link for new VFs; the VF's
     * settings as they are now are what release gives back */
    r = xvf_nl_get_link(nr->nl, NULL, nr->link->ifindex, nr->link);
    if (r)
        return xvf_err_set(err, r, "cannot read link %s: %s", nr->ifname,
                           strerror(-r));
    r = xvf_net_vf_save(nr, e->vfn - 1, &e->net, err);
    if (r)
        return r;
    e->steps |= XVF_STEP_VFCONFIG;
    r = xvf_run_save(run, e, err);
    if (!r)
        r = xvf_net_vf_configure(nr, spec, e->vfn - 1, err);
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
                           "(VF %s of %s)", xvf_mac_str(spec->mac, m), holder,
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
    /* refused now, before any change, when the link is up to tell */
    if (spec->rate >= 0 && (nr.link->flags & IFF_RUNNING)) {
        r = xvf_net_rate_check(&nr, spec->rate, err);
        if (r)
            goto out;
    }
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
