/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The NIC side of the fake kernel: what rtnetlink does with RTM_GETLINK
 * and RTM_SETLINK for the netdevs of the fake root, with the PF driver's
 * per-VF state as igb keeps it (the model's "nvf" lines). Messages are
 * built and read with the plain <linux/netlink.h> macros, not with the
 * libmnl the code under test uses.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "internal.h"

#define MSG_MAX 32768

struct msg {
    union {
        struct nlmsghdr nlh;
        char buf[MSG_MAX];
    } u;
};

static struct rtattr *put(struct nlmsghdr *nlh, unsigned short type,
                          const void *data, size_t len)
{
    struct rtattr *rta;
    size_t at = NLMSG_ALIGN(nlh->nlmsg_len);

    if (at + RTA_SPACE(len) > MSG_MAX)
        return NULL;
    rta = (struct rtattr *)((char *)nlh + at);
    rta->rta_type = type;
    rta->rta_len = RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(rta), data, len);
    nlh->nlmsg_len = at + RTA_ALIGN(rta->rta_len);
    return rta;
}

static struct rtattr *nest(struct nlmsghdr *nlh, unsigned short type)
{
    return put(nlh, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct nlmsghdr *nlh, struct rtattr *rta)
{
    rta->rta_len = (char *)nlh + nlh->nlmsg_len - (char *)rta;
}

static int mac_parse(const char *s, uint8_t mac[6])
{
    unsigned int b[6], i;

    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5]) != 6)
        return -EINVAL;
    for (i = 0; i < 6; i++)
        mac[i] = b[i];
    return 0;
}

static unsigned int link_flags(const struct xm_pf *pf)
{
    unsigned int f = IFF_BROADCAST | IFF_MULTICAST;

    if (!pf)
        return f | IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
    if (pf->ifup)
        f |= IFF_UP;
    if (pf->ifup && pf->carrier)
        f |= IFF_RUNNING | IFF_LOWER_UP;
    return f;
}

/* RTM_NEWLINK for netdev @name (@pf when it is a NIC PF's). */
static int fill_link(struct xm_ctx *c, struct msg *m, const char *name,
                     const struct xm_pf *pf, uint16_t type, uint32_t seq,
                     uint32_t pid, bool with_vfs)
{
    struct nlmsghdr *nlh = &m->u.nlh;
    struct ifinfomsg *ifm;
    struct rtattr *list, *info;
    unsigned int idx, i, n, flags = link_flags(pf);
    uint8_t mac[6] = { 0 }, oper;
    char buf[32];

    if (xm_netdev_index(c, name, &idx))
        return -ENODEV;
    memset(m, 0, NLMSG_SPACE(sizeof(*ifm)));
    nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifm));
    nlh->nlmsg_type = type;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = pid;
    ifm = NLMSG_DATA(nlh);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_type = ARPHRD_ETHER;
    ifm->ifi_index = idx;
    ifm->ifi_flags = flags;
    put(nlh, IFLA_IFNAME, name, strlen(name) + 1);
    snprintf(buf, sizeof(buf), "%s", pf ? pf->mac : "");
    if (pf)
        mac_parse(buf, mac);
    put(nlh, IFLA_ADDRESS, mac, 6);
    oper = flags & IFF_RUNNING ? IF_OPER_UP : IF_OPER_DOWN;
    put(nlh, IFLA_OPERSTATE, &oper, 1);
    if (!with_vfs || !pf || !pf->sriov)
        return 0;
    /* rtnl_vfinfo_fill(): the count, then the list when there are VFs */
    n = xm_numvfs(c, pf);
    put(nlh, IFLA_NUM_VF, &n, sizeof(n));
    if (!n)
        return 0;
    list = nest(nlh, IFLA_VFINFO_LIST);
    for (i = 0; list && i < n && i < XM_MAX_NVF; i++) {
        const struct xm_nvf *v = &pf->nvf[i];
        struct ifla_vf_mac vm = { .vf = i };
        struct ifla_vf_vlan vv = { .vf = i, .vlan = v->vlan, .qos = v->qos };
        struct ifla_vf_tx_rate vt = { .vf = i, .rate = v->rate };
        struct ifla_vf_rate vr = {
            .vf = i, .min_tx_rate = v->min_rate, .max_tx_rate = v->rate,
        };
        struct ifla_vf_spoofchk vs = { .vf = i, .setting = v->spoofchk };
        struct ifla_vf_trust vtr = {
            .vf = i, .setting = pf->vf_trust ? v->trust : (__u32)-1,
        };
        struct ifla_vf_link_state vl = { .vf = i, .link_state = v->link_state };

        memcpy(vm.mac, v->mac, 6);
        info = nest(nlh, IFLA_VF_INFO);
        if (!info)
            return -EMSGSIZE;
        put(nlh, IFLA_VF_MAC, &vm, sizeof(vm));
        put(nlh, IFLA_VF_VLAN, &vv, sizeof(vv));
        put(nlh, IFLA_VF_TX_RATE, &vt, sizeof(vt));
        put(nlh, IFLA_VF_RATE, &vr, sizeof(vr));
        put(nlh, IFLA_VF_SPOOFCHK, &vs, sizeof(vs));
        put(nlh, IFLA_VF_LINK_STATE, &vl, sizeof(vl));
        if (!put(nlh, IFLA_VF_TRUST, &vtr, sizeof(vtr)))
            return -EMSGSIZE;
        nest_end(nlh, info);
    }
    nest_end(nlh, list);
    return 0;
}

void xm_rtnl_link_event(struct xm_ctx *c, const struct xm_pf *pf)
{
    static struct msg m;

    if (!fill_link(c, &m, pf->name, pf, RTM_NEWLINK, 0, 0, false))
        xm_nl_broadcast(RTMGRP_LINK, &m, m.u.nlh.nlmsg_len);
}

const char *xm_rtnl_op(const void *req, size_t len)
{
    const struct nlmsghdr *nlh = req;

    if (len < sizeof(*nlh))
        return "short";
    switch (nlh->nlmsg_type) {
    case RTM_GETLINK:
        return "getlink";
    case RTM_SETLINK:
        return "setlink";
    case RTM_NEWLINK:
        return "newlink";
    default:
        return "other";
    }
}

void xm_rtnl_error(const void *req, int err, uint32_t portid,
                   const char *ext_msg, xm_emit_fn emit, void *opaque)
{
    const struct nlmsghdr *rq = req;
    static struct msg m;
    struct nlmsgerr *e;

    memset(&m, 0, NLMSG_SPACE(sizeof(*e)));
    m.u.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(*e));
    m.u.nlh.nlmsg_type = NLMSG_ERROR;
    m.u.nlh.nlmsg_flags = NLM_F_CAPPED;
    m.u.nlh.nlmsg_seq = rq->nlmsg_seq;
    m.u.nlh.nlmsg_pid = portid;
    e = NLMSG_DATA(&m.u.nlh);
    e->error = err;
    e->msg = *rq;
    /* netlink_ack() with NETLINK_EXT_ACK on: the text as a TLV */
    if (ext_msg && err) {
        m.u.nlh.nlmsg_flags |= NLM_F_ACK_TLVS;
        put(&m.u.nlh, NLMSGERR_ATTR_MSG, ext_msg, strlen(ext_msg) + 1);
    }
    emit(opaque, &m, m.u.nlh.nlmsg_len);
}

struct req_attrs {
    const char *ifname;
    uint32_t ext_mask;
    const struct rtattr *vfinfo;
};

static int parse_req(const struct nlmsghdr *nlh, struct req_attrs *a)
{
    const struct rtattr *rta;
    int len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifinfomsg));

    memset(a, 0, sizeof(*a));
    if (len < 0)
        return -EINVAL;
    rta = (const struct rtattr *)((const char *)NLMSG_DATA(nlh) +
                                  NLMSG_ALIGN(sizeof(struct ifinfomsg)));
    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        switch (rta->rta_type & NLA_TYPE_MASK) {
        case IFLA_IFNAME:
            if (RTA_PAYLOAD(rta) < 1 ||
                ((const char *)RTA_DATA(rta))[RTA_PAYLOAD(rta) - 1])
                return -EINVAL;
            a->ifname = RTA_DATA(rta);
            break;
        case IFLA_EXT_MASK:
            if (RTA_PAYLOAD(rta) < 4)
                return -EINVAL;
            memcpy(&a->ext_mask, RTA_DATA(rta), 4);
            break;
        case IFLA_VFINFO_LIST:
            a->vfinfo = rta;
            break;
        }
    }
    return len ? -EINVAL : 0;
}

static const char *vf_attr_name(unsigned int type)
{
    switch (type) {
    case IFLA_VF_MAC:
        return "mac";
    case IFLA_VF_VLAN:
        return "vlan";
    case IFLA_VF_RATE:
    case IFLA_VF_TX_RATE:
        return "rate";
    case IFLA_VF_SPOOFCHK:
        return "spoofchk";
    case IFLA_VF_TRUST:
        return "trust";
    case IFLA_VF_LINK_STATE:
        return "link_state";
    }
    return "?";
}

/* One attribute on VF @vf, as igb_ndo_set_vf_*() and the quirks do. */
static int apply_vf_attr(struct xm_pf *pf, struct xm_nvf *v,
                         unsigned int type, const struct rtattr *a,
                         unsigned int vf, char *what, size_t wlen)
{
    static const uint8_t zero[6];
    uint32_t w[3];

    switch (type) {
    case IFLA_VF_MAC: {
        const struct ifla_vf_mac *m = RTA_DATA(a);

        if ((m->mac[0] & 1) ||
            (!pf->vf_zero_mac && !memcmp(m->mac, zero, 6)))
            return -EINVAL;
        memcpy(v->mac, m->mac, 6);
        snprintf(what, wlen, " vf %u mac %02x:%02x:%02x:%02x:%02x:%02x", vf,
                 m->mac[0], m->mac[1], m->mac[2], m->mac[3], m->mac[4],
                 m->mac[5]);
        return 0;
    }
    case IFLA_VF_VLAN:
        memcpy(w, RTA_DATA(a), 12);
        if (w[1] > 4095 || w[2] > 7)
            return -EINVAL;
        v->vlan = w[1];
        v->qos = w[2];
        snprintf(what, wlen, " vf %u vlan %u qos %u", vf, w[1], w[2]);
        return 0;
    case IFLA_VF_RATE:
    case IFLA_VF_TX_RATE:
        memcpy(w, RTA_DATA(a), type == IFLA_VF_RATE ? 12 : 8);
        if (type == IFLA_VF_TX_RATE)
            w[2] = w[1], w[1] = 0;
        if (!pf->vf_rate)
            return -EOPNOTSUPP;
        /* igb: min rate unsupported, max needs the link, <= its speed;
         * ixgbe: only at 10 Gb/s */
        if (w[1] || !pf->ifup || !pf->carrier || w[2] > pf->speed ||
            (w[2] && pf->vf_rate_speed && pf->speed != pf->vf_rate_speed))
            return -EINVAL;
        v->rate = w[2];
        snprintf(what, wlen, " vf %u rate %u", vf, w[2]);
        return 0;
    case IFLA_VF_SPOOFCHK:
        memcpy(w, RTA_DATA(a), 8);
        v->spoofchk = !!w[1];
        snprintf(what, wlen, " vf %u spoofchk %u", vf, v->spoofchk);
        return 0;
    case IFLA_VF_TRUST:
        memcpy(w, RTA_DATA(a), 8);
        if (!pf->vf_trust)
            return -EOPNOTSUPP;
        v->trust = !!w[1];
        snprintf(what, wlen, " vf %u trust %u", vf, v->trust);
        return 0;
    case IFLA_VF_LINK_STATE:
        memcpy(w, RTA_DATA(a), 8);
        if (w[1] > IFLA_VF_LINK_STATE_DISABLE)
            return -EINVAL;
        v->link_state = w[1];
        snprintf(what, wlen, " vf %u link_state %u", vf, w[1]);
        return 0;
    }
    return 0;
}

/*
 * do_setvfinfo(), with igb's answers (igb_ndo_set_vf_*) and the quirks
 * the model's keys ask for: vf_zero_mac=0 refuses an all-zero MAC (igb
 * before Linux 5.9), vf_rate_speed=N takes a rate only at link speed N
 * (ixgbe: 10000), vf_ignore=NAME acknowledges that setting but keeps the
 * old value (a driver that accepts what it does not apply).
 */
static int set_vf_attr(struct xm_ctx *c, struct xm_pf *pf,
                       const struct rtattr *a, char *what, size_t wlen)
{
    unsigned int numvfs = xm_numvfs(c, pf), vf, type;
    size_t used = strlen(what), need;
    struct xm_nvf *v, keep;
    int r;

    type = a->rta_type & NLA_TYPE_MASK;
    need = type == IFLA_VF_MAC ? sizeof(struct ifla_vf_mac)
         : type == IFLA_VF_VLAN ? sizeof(struct ifla_vf_vlan)
         : type == IFLA_VF_RATE ? sizeof(struct ifla_vf_rate)
         : type == IFLA_VF_TX_RATE ? sizeof(struct ifla_vf_tx_rate)
         : type == IFLA_VF_SPOOFCHK ? sizeof(struct ifla_vf_spoofchk)
         : type == IFLA_VF_TRUST ? sizeof(struct ifla_vf_trust)
         : type == IFLA_VF_LINK_STATE ? sizeof(struct ifla_vf_link_state)
         : 0;
    if (!need)
        return 0;
    if (RTA_PAYLOAD(a) < need)
        return -EINVAL;
    memcpy(&vf, RTA_DATA(a), 4);
    if (vf >= numvfs || vf >= XM_MAX_NVF)
        return -EINVAL;
    v = &pf->nvf[vf];
    keep = *v;
    r = apply_vf_attr(pf, v, type, a, vf, what + used, wlen - used);
    if (!r && !strcmp(pf->vf_ignore, vf_attr_name(type)))
        *v = keep;
    return r;
}

static int set_vfinfo(struct xm_ctx *c, struct xm_pf *pf,
                      const struct rtattr *list, char *what, size_t wlen)
{
    const struct rtattr *info, *a;
    int len = RTA_PAYLOAD(list), ilen, r;

    if (!pf || !pf->sriov)
        return -EOPNOTSUPP;
    for (info = RTA_DATA(list); RTA_OK(info, len);
         info = RTA_NEXT(info, len)) {
        if ((info->rta_type & NLA_TYPE_MASK) != IFLA_VF_INFO)
            return -EINVAL;
        ilen = RTA_PAYLOAD(info);
        for (a = RTA_DATA(info); RTA_OK(a, ilen); a = RTA_NEXT(a, ilen)) {
            r = set_vf_attr(c, pf, a, what, wlen);
            if (r)
                return r;
        }
    }
    return 0;
}

int xm_rtnl_exec(struct xm_ctx *c, const void *req, size_t len,
                 uint32_t portid, xm_emit_fn emit, void *opaque,
                 char *what, size_t wlen)
{
    const struct nlmsghdr *nlh = req;
    const struct ifinfomsg *ifm;
    static struct msg m;
    struct req_attrs a;
    struct xm_pf *pf;
    char name[64];
    int r;

    what[0] = '\0';
    if (len < NLMSG_LENGTH(sizeof(*ifm)) || nlh->nlmsg_len > len ||
        nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifm)))
        return -EINVAL;
    if (nlh->nlmsg_type != RTM_GETLINK && nlh->nlmsg_type != RTM_SETLINK &&
        nlh->nlmsg_type != RTM_NEWLINK)
        return -EOPNOTSUPP;
    ifm = NLMSG_DATA(nlh);
    r = parse_req(nlh, &a);
    if (r)
        return r;
    if (ifm->ifi_index > 0)
        r = xm_netdev_name(c, ifm->ifi_index, name, sizeof(name));
    else if (a.ifname && strlen(a.ifname) < sizeof(name))
        r = snprintf(name, sizeof(name), "%s", a.ifname) < 0 ? -EINVAL : 0;
    else
        r = -EINVAL;
    if (!r) {
        unsigned int idx;

        r = xm_netdev_index(c, name, &idx);
    }
    snprintf(what, wlen, "%s", r ? "?" : name);
    if (r)
        return r;
    pf = xm_nic_by_name(c->m, name);

    if (nlh->nlmsg_type == RTM_GETLINK) {
        r = fill_link(c, &m, name, pf, RTM_NEWLINK, nlh->nlmsg_seq, portid,
                      a.ext_mask & RTEXT_FILTER_VF);
        if (!r)
            emit(opaque, &m, m.u.nlh.nlmsg_len);
        return r;
    }
    if (ifm->ifi_change & IFF_UP) {
        snprintf(what + strlen(what), wlen - strlen(what), " %s",
                 ifm->ifi_flags & IFF_UP ? "up" : "down");
        if (pf) {
            pf->ifup = !!(ifm->ifi_flags & IFF_UP);
            xm_rtnl_link_event(c, pf);
        }
    }
    if (a.vfinfo)
        return set_vfinfo(c, pf, a.vfinfo, what, wlen);
    return 0;
}
