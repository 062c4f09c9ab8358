/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * net-vf.h - one NIC VF's settings in its PF's driver: save them before
 * prepare changes any, set each one and read it back, check the link
 * speed before a rate, restore them on release (internal to the NIC
 * device class, class-net.c)
 *
 * VF numbers here are the kernel's (0-based), as in net/netlink.h.
 */
#ifndef XVF_ENGINE_NET_VF_H
#define XVF_ENGINE_NET_VF_H

#include "engine/class.h"
#include "net/netlink.h"

/**
 * struct net_run - a prepare or release on a NIC PF
 * @run:    the engine's run (PF lock held)
 * @ifname: the PF's netdev
 * @nl:     rtnetlink request socket
 * @link:   the PF's link as last read, with its VFs
 */
struct net_run {
    struct xvf_run *run;
    char ifname[XVF_IFNAMSIZ];
    struct xvf_nl *nl;
    struct xvf_nl_link *link;
};

/**
 * xvf_net_vf_save() - what VF @vf has now, from @nr->link
 * @nr:    the run; @nr->link freshly read
 * @vf:    the VF
 * @saved: filled, @saved->saved set
 * @err:   why not
 *
 * Return: 0, or -EIO when the PF does not report the VF.
 */
int xvf_net_vf_save(const struct net_run *nr, unsigned int vf,
                    struct xvf_entry_net *saved, struct xvf_err *err);

/**
 * xvf_net_rate_check() - whether the PF's link can carry @rate now
 * @nr:   the run
 * @rate: max tx rate asked for, Mbit/s
 * @err:  says which link speed refuses it, and why
 *
 * Reads the netdev's link speed: a rate above it, a speed the PF does
 * not report, and a driver that limits rates only at one speed (ixgbe:
 * 10 Gb/s) when the link has another are refused, before the driver is
 * asked (it would answer a bare EINVAL).
 *
 * Return: 0, -EINVAL (the speed refuses it) or -ENETDOWN (no speed).
 */
int xvf_net_rate_check(const struct net_run *nr, unsigned int rate,
                       struct xvf_err *err);

/**
 * xvf_net_vf_configure() - set what @spec asks on VF @vf, reading each
 * setting back after the driver accepted it
 * @nr:   the run
 * @spec: the request
 * @vf:   the VF
 * @err:  the setting refused or not applied
 *
 * A rate waits for the PF's link (bounded by the engine's
 * bind_timeout_ms) and passes xvf_net_rate_check() first.
 *
 * Return: 0; the driver's -errno; -EIO when it reports another value
 * than it accepted; -EINVAL/-ENETDOWN from the rate check.
 */
int xvf_net_vf_configure(struct net_run *nr, const struct xvf_spec *spec,
                         unsigned int vf, struct xvf_err *err);

/**
 * xvf_net_vf_restore() - give VF @e->vfn back the settings saved in @e
 * @nr:   the run; @nr->link freshly read
 * @e:    the entry being undone
 * @spec: its spec (which settings prepare may have changed, for an
 *        entry without saved settings)
 * @err:  the first failure
 *
 * Always resets the administrative MAC, whatever was saved and whatever
 * the spec said, so neither a MAC given to a guest nor one a guest set
 * reaches the VF's next holder: to all-zero, or, where the driver refuses
 * that (igb before Linux 5.9), to the locally administered placeholder
 * 02:58:56:BB:DF:VV (the PF's bus and devfn, the VF). Each change is read
 * back; the rest is still tried after a failure.
 *
 * Return: 0 or the first -errno.
 */
int xvf_net_vf_restore(struct net_run *nr, const struct xvf_entry *e,
                       const struct xvf_spec *spec, struct xvf_err *err);

#endif
