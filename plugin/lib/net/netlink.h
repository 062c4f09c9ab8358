/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * netlink.h - rtnetlink for NIC physical functions, through libmnl
 *
 * What the NIC device class needs from the kernel's network side: a link's
 * index, flags and operational state, bringing it up, the VF settings the
 * PF's driver keeps (IFLA_VFINFO_LIST), changing them one attribute at a
 * time (IFLA_VF_MAC, IFLA_VF_VLAN, IFLA_VF_RATE, IFLA_VF_SPOOFCHK,
 * IFLA_VF_TRUST on an RTM_SETLINK of the PF, as "ip link set PF vf N"
 * does), and waiting for link notifications (RTNLGRP_LINK) with a bound.
 *
 * VF numbers here are the kernel's: 0-based, VF n is the PF's virtfn<n>.
 *
 * Functions return 0 or -errno. A request the kernel refuses returns its
 * errno; the kernel's extended-ack text, when it sent one, is kept for the
 * caller's message (xvf_nl_ext_msg()). The message builders and the
 * parser are separate from the socket so they can be tested without a
 * kernel.
 */
#ifndef XVF_NETLINK_H
#define XVF_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#define XVF_NL_MAX_VFS 256
#define XVF_IFNAMSIZ 16

/**
 * struct xvf_nl_vf - one VF as the PF's driver reports it
 * @vf:         VF number (0-based)
 * @mac:        administratively set MAC, all zero when none is
 * @vlan:       port VLAN, 0 for none
 * @qos:        its 802.1p priority
 * @min_rate:   min tx rate in Mbit/s, 0 none
 * @max_rate:   max tx rate in Mbit/s, 0 unlimited
 * @spoofchk:   spoof checking: 1, 0, or -1 when not reported
 * @trust:      trust mode: 1, 0, or -1 when not reported
 * @link_state: IFLA_VF_LINK_STATE_*, -1 when not reported
 */
struct xvf_nl_vf {
    unsigned int vf;
    uint8_t mac[6];
    unsigned int vlan, qos;
    unsigned int min_rate, max_rate;
    int spoofchk, trust, link_state;
};

/**
 * struct xvf_nl_link - a link (RTM_NEWLINK)
 * @ifindex:    interface index
 * @ifname:     its name
 * @flags:      IFF_* (IFF_UP administratively up, IFF_RUNNING
 *              operationally up, IFF_LOWER_UP carrier)
 * @operstate:  IF_OPER_*, IF_OPER_UNKNOWN when not reported
 * @addr:       hardware address, when @has_addr
 * @has_num_vf: the kernel reported IFLA_NUM_VF (the link has a parent
 *              device); @num_vf is then the number of enabled VFs
 * @nvfs:       entries in @vfs (IFLA_VFINFO_LIST), at most XVF_NL_MAX_VFS
 */
struct xvf_nl_link {
    int ifindex;
    char ifname[XVF_IFNAMSIZ];
    unsigned int flags;
    uint8_t operstate;
    bool has_addr;
    uint8_t addr[6];
    bool has_num_vf;
    unsigned int num_vf;
    unsigned int nvfs;
    struct xvf_nl_vf vfs[XVF_NL_MAX_VFS];
};

/** enum xvf_nl_vf_what - the one VF attribute a set request carries */
enum xvf_nl_vf_what {
    XVF_NL_VF_MAC,
    XVF_NL_VF_VLAN,
    XVF_NL_VF_RATE,
    XVF_NL_VF_SPOOFCHK,
    XVF_NL_VF_TRUST,
    XVF_NL_VF_LINK_STATE,
};

/**
 * struct xvf_nl_vf_set - change one setting of one VF
 * @what: which attribute
 * @vf:   VF number (0-based)
 * @mac:  XVF_NL_VF_MAC: the address; all zero removes it
 * @vlan: XVF_NL_VF_VLAN: VLAN id (0 removes the port VLAN) ...
 * @qos:  ... and priority
 * @rate: XVF_NL_VF_RATE: max tx rate in Mbit/s ...
 * @min_rate: ... and min tx rate (0 for none; igb and ixgbe take no other)
 * @on:   XVF_NL_VF_SPOOFCHK, XVF_NL_VF_TRUST
 * @link_state: XVF_NL_VF_LINK_STATE: IFLA_VF_LINK_STATE_AUTO, _ENABLE or
 *        _DISABLE
 */
struct xvf_nl_vf_set {
    enum xvf_nl_vf_what what;
    unsigned int vf;
    uint8_t mac[6];
    unsigned int vlan, qos;
    unsigned int rate, min_rate;
    bool on;
    unsigned int link_state;
};

/* An open rtnetlink socket with its buffer; opaque. */
struct xvf_nl;

/**
 * xvf_nl_open() - a NETLINK_ROUTE socket for requests
 * @ret: the handle, for xvf_nl_close()
 *
 * Replies are awaited at most 10 s.
 *
 * Return: 0, -ENOMEM, or -errno of socket(), setsockopt() or bind().
 */
int xvf_nl_open(struct xvf_nl **ret);

/**
 * xvf_nl_open_watch() - a NETLINK_ROUTE socket subscribed to link
 * notifications; open it before the change whose effect you wait for
 * @ret: the handle, for xvf_nl_wait_running() and xvf_nl_close()
 *
 * Return: 0, -ENOMEM, or -errno of socket() or bind().
 */
int xvf_nl_open_watch(struct xvf_nl **ret);

/**
 * xvf_nl_close() - close a handle
 * @nl: from xvf_nl_open() or xvf_nl_open_watch(); NULL is fine
 */
void xvf_nl_close(struct xvf_nl *nl);

/**
 * xvf_nl_ext_msg() - the kernel's extended-ack message for the last
 * refused request
 * @nl: the handle the request went through
 *
 * Return: the message, "" when the kernel gave none; valid until the
 * next request on @nl.
 */
const char *xvf_nl_ext_msg(const struct xvf_nl *nl);

/**
 * xvf_nl_get_link() - a link's state and its VFs
 * @nl:      request handle
 * @ifname:  look up by name, or NULL ...
 * @ifindex: ... by index
 * @ret:     filled (VF list included, statistics not)
 *
 * Return: 0, -ENODEV when there is no such link, or -errno.
 */
int xvf_nl_get_link(struct xvf_nl *nl, const char *ifname, int ifindex,
                    struct xvf_nl_link *ret);

/**
 * xvf_nl_set_up() - set IFF_UP on link @ifindex ("ip link set X up")
 * @nl:      request handle
 * @ifindex: the link
 *
 * Return: 0, or the kernel's -errno (-ENODEV for no such link, ...).
 */
int xvf_nl_set_up(struct xvf_nl *nl, int ifindex);

/**
 * xvf_nl_set_vf() - change one VF setting on PF link @ifindex
 * @nl:      request handle
 * @ifindex: the PF's link
 * @set:     the setting
 *
 * Return: 0; -EINVAL when the message cannot be built (see
 * xvf_nl_build_set_vf()); or the driver's answer: -EOPNOTSUPP when it has no such
 * setting (or no VFs at all), -EINVAL for a VF number or value it
 * refuses, ...
 */
int xvf_nl_set_vf(struct xvf_nl *nl, int ifindex,
                  const struct xvf_nl_vf_set *set);

/**
 * xvf_nl_wait_running() - wait until link @ifindex is IFF_RUNNING
 * @watch:      from xvf_nl_open_watch(), opened before the change
 * @nl:         a request socket, to read the current state first
 * @ifindex:    the link
 * @timeout_ms: bound on the wait
 * @ret:        the link's last known state
 *
 * Sleeps in poll() on the notification socket; never longer than
 * @timeout_ms in all.
 *
 * Return: 0, -ETIMEDOUT, -ENODEV when the link goes away, or -errno.
 */
int xvf_nl_wait_running(struct xvf_nl *watch, struct xvf_nl *nl,
                        int ifindex, unsigned int timeout_ms,
                        struct xvf_nl_link *ret);

/**
 * xvf_nl_build_getlink() - RTM_GETLINK for one link, asking for the VF
 * list without statistics (RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS)
 * @buf:     where to build the message
 * @len:     its size
 * @seq:     sequence number
 * @ifname:  IFLA_IFNAME, or NULL to ask by @ifindex
 * @ifindex: the link, when @ifname is NULL
 *
 * Return: the message length, or 0 when @len is too small.
 */
size_t xvf_nl_build_getlink(void *buf, size_t len, uint32_t seq,
                            const char *ifname, int ifindex);

/**
 * xvf_nl_build_set_up() - RTM_SETLINK changing IFF_UP to on
 * @buf:     where to build the message
 * @len:     its size
 * @seq:     sequence number
 * @ifindex: the link
 *
 * Return: the message length, or 0 when @len is too small.
 */
size_t xvf_nl_build_set_up(void *buf, size_t len, uint32_t seq,
                           int ifindex);

/**
 * xvf_nl_build_set_vf() - RTM_SETLINK with IFLA_VFINFO_LIST holding one
 * IFLA_VF_INFO with the one attribute @set describes
 * @buf:     where to build the message
 * @len:     its size
 * @seq:     sequence number
 * @ifindex: the PF's link
 * @set:     the setting
 *
 * Return: the message length, 0 when @len is too small, or 0 for a value
 * out of the attribute's range (VF number, VLAN above 4095, QoS above 7,
 * link state above IFLA_VF_LINK_STATE_DISABLE).
 */
size_t xvf_nl_build_set_vf(void *buf, size_t len, uint32_t seq, int ifindex,
                           const struct xvf_nl_vf_set *set);

/**
 * xvf_nl_parse_link() - read an RTM_NEWLINK message
 * @nlh: the message
 * @ret: filled; at most XVF_NL_MAX_VFS VFs are kept
 *
 * Return: 0, -EBADMSG for a message that is not one or is malformed.
 */
int xvf_nl_parse_link(const struct nlmsghdr *nlh, struct xvf_nl_link *ret);

#endif
