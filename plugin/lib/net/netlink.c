/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "net/netlink.h"
#include "util/clock.h"

/* No kernel answer takes this long; a peer that never answers fails. */
#define REPLY_TIMEOUT_S 10
/* A PF with XVF_NL_MAX_VFS VFs, without statistics, fits easily. */
#define BUF_SIZE 65536

struct xvf_nl {
    struct mnl_socket *sock;
    uint32_t portid;
    uint32_t seq;
    char ext_msg[256];
    char buf[BUF_SIZE];
};

struct txn {
    struct xvf_nl *nl;
    struct xvf_nl_link *link;
    bool got_link;
    int err;
};

static int nl_open(struct xvf_nl **ret, unsigned int groups)
{
    struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
    struct xvf_nl *nl;
    int one = 1, r;

    nl = calloc(1, sizeof(*nl));
    if (!nl)
        return -ENOMEM;
    nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl->sock) {
        r = -errno;
        goto fail;
    }
    /* Optional (kernels before 4.12 lack them): messages get poorer. */
    mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
    if (!groups &&
        setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO,
                   &tv, sizeof(tv))) {
        r = -errno;
        goto fail;
    }
    if (mnl_socket_bind(nl->sock, groups, MNL_SOCKET_AUTOPID) < 0) {
        r = -errno;
        goto fail;
    }
    nl->portid = mnl_socket_get_portid(nl->sock);
    nl->seq = time(NULL);
    *ret = nl;
    return 0;
fail:
    xvf_nl_close(nl);
    return r;
}

int xvf_nl_open(struct xvf_nl **ret)
{
    return nl_open(ret, 0);
}

int xvf_nl_open_watch(struct xvf_nl **ret)
{
    return nl_open(ret, RTMGRP_LINK);
}

void xvf_nl_close(struct xvf_nl *nl)
{
    if (!nl)
        return;
    if (nl->sock)
        mnl_socket_close(nl->sock);
    free(nl);
}

const char *xvf_nl_ext_msg(const struct xvf_nl *nl)
{
    return nl->ext_msg;
}

static struct nlmsghdr *put_header(void *buf, size_t len, uint16_t type,
                                   uint16_t flags, uint32_t seq, int ifindex)
{
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifm;

    if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifm)))
        return NULL;
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh->nlmsg_seq = seq;
    ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = ifindex;
    return nlh;
}

size_t xvf_nl_build_getlink(void *buf, size_t len, uint32_t seq,
                            const char *ifname, int ifindex)
{
    struct nlmsghdr *nlh;

    nlh = put_header(buf, len, RTM_GETLINK, 0, seq, ifname ? 0 : ifindex);
    if (!nlh)
        return 0;
    if (ifname && !mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, ifname))
        return 0;
    if (!mnl_attr_put_u32_check(nlh, len, IFLA_EXT_MASK,
                                RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS))
        return 0;
    return nlh->nlmsg_len;
}

size_t xvf_nl_build_set_up(void *buf, size_t len, uint32_t seq,
                           int ifindex)
{
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifm;

    nlh = put_header(buf, len, RTM_SETLINK, 0, seq, ifindex);
    if (!nlh)
        return 0;
    ifm = mnl_nlmsg_get_payload(nlh);
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
    return nlh->nlmsg_len;
}

size_t xvf_nl_build_set_vf(void *buf, size_t len, uint32_t seq, int ifindex,
                           const struct xvf_nl_vf_set *set)
{
    struct nlattr *list, *info;
    struct nlmsghdr *nlh;
    bool ok;

    if (set->vf >= XVF_NL_MAX_VFS)
        return 0;
    nlh = put_header(buf, len, RTM_SETLINK, 0, seq, ifindex);
    if (!nlh)
        return 0;
    list = mnl_attr_nest_start_check(nlh, len, IFLA_VFINFO_LIST);
    info = list ? mnl_attr_nest_start_check(nlh, len, IFLA_VF_INFO) : NULL;
    if (!info)
        return 0;
    switch (set->what) {
    case XVF_NL_VF_MAC: {
        struct ifla_vf_mac a = { .vf = set->vf };

        memcpy(a.mac, set->mac, 6);
        ok = mnl_attr_put_check(nlh, len, IFLA_VF_MAC, sizeof(a), &a);
        break;
    }
    case XVF_NL_VF_VLAN: {
        struct ifla_vf_vlan a = {
            .vf = set->vf, .vlan = set->vlan, .qos = set->qos,
        };

        if (set->vlan > 4095 || set->qos > 7)
            return 0;
        ok = mnl_attr_put_check(nlh, len, IFLA_VF_VLAN, sizeof(a), &a);
        break;
    }
    case XVF_NL_VF_RATE: {
        struct ifla_vf_rate a = {
            .vf = set->vf, .min_tx_rate = set->min_rate,
            .max_tx_rate = set->rate,
        };

        ok = mnl_attr_put_check(nlh, len, IFLA_VF_RATE, sizeof(a), &a);
        break;
    }
    case XVF_NL_VF_SPOOFCHK: {
        struct ifla_vf_spoofchk a = { .vf = set->vf, .setting = set->on };

        ok = mnl_attr_put_check(nlh, len, IFLA_VF_SPOOFCHK, sizeof(a), &a);
        break;
    }
    case XVF_NL_VF_TRUST: {
        struct ifla_vf_trust a = { .vf = set->vf, .setting = set->on };

        ok = mnl_attr_put_check(nlh, len, IFLA_VF_TRUST, sizeof(a), &a);
        break;
    }
    case XVF_NL_VF_LINK_STATE: {
        struct ifla_vf_link_state a = {
            .vf = set->vf, .link_state = set->link_state,
        };

        if (set->link_state > IFLA_VF_LINK_STATE_DISABLE)
            return 0;
        ok = mnl_attr_put_check(nlh, len, IFLA_VF_LINK_STATE, sizeof(a),
                                &a);
        break;
    }
    default:
        return 0;
    }
    if (!ok)
        return 0;
    mnl_attr_nest_end(nlh, info);
    mnl_attr_nest_end(nlh, list);
    return nlh->nlmsg_len;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(attr);

    /* newer kernels send attributes this build does not know */
    if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
        return MNL_CB_OK;
    switch (type) {
    case IFLA_IFNAME:
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
            return MNL_CB_ERROR;
        break;
    case IFLA_OPERSTATE:
        if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
            return MNL_CB_ERROR;
        break;
    case IFLA_NUM_VF:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
            return MNL_CB_ERROR;
        break;
    case IFLA_VFINFO_LIST:
        if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
            return MNL_CB_ERROR;
        break;
    }
    tb[type] = attr;
    return MNL_CB_OK;
}

static int vf_attr_cb(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;

    if (mnl_attr_type_valid(attr, IFLA_VF_MAX) < 0)
        return MNL_CB_OK;
    tb[mnl_attr_get_type(attr)] = attr;
    return MNL_CB_OK;
}

/* The payload of @attr when it holds at least a @size struct. */
static const void *vf_struct(const struct nlattr *attr, size_t size)
{
    if (!attr || mnl_attr_get_payload_len(attr) < size)
        return NULL;
    return mnl_attr_get_payload(attr);
}

static int parse_vf(const struct nlattr *info, struct xvf_nl_vf *vf)
{
    const struct nlattr *tb[IFLA_VF_MAX + 1] = { NULL };
    const struct ifla_vf_mac *mac;
    const struct ifla_vf_vlan *vlan;
    const struct ifla_vf_rate *rate;
    const struct ifla_vf_tx_rate *tx_rate;
    const struct ifla_vf_spoofchk *spoofchk;
    const struct ifla_vf_trust *trust;
    const struct ifla_vf_link_state *link_state;

    if (mnl_attr_parse_nested(info, vf_attr_cb, tb) < 0)
        return -EBADMSG;
    mac = vf_struct(tb[IFLA_VF_MAC], sizeof(*mac));
    if (!mac)
        return -EBADMSG;
    memset(vf, 0, sizeof(*vf));
    vf->vf = mac->vf;
    memcpy(vf->mac, mac->mac, 6);
    vlan = vf_struct(tb[IFLA_VF_VLAN], sizeof(*vlan));
    if (vlan) {
        vf->vlan = vlan->vlan;
        vf->qos = vlan->qos;
    }
    rate = vf_struct(tb[IFLA_VF_RATE], sizeof(*rate));
    tx_rate = vf_struct(tb[IFLA_VF_TX_RATE], sizeof(*tx_rate));
    if (rate) {
        vf->min_rate = rate->min_tx_rate;
        vf->max_rate = rate->max_tx_rate;
    }
    else if (tx_rate)
        vf->max_rate = tx_rate->rate;
    /* the kernel sends (u32)-1 for a setting the driver does not have */
    spoofchk = vf_struct(tb[IFLA_VF_SPOOFCHK], sizeof(*spoofchk));
    vf->spoofchk = spoofchk ? (int)spoofchk->setting : -1;
    trust = vf_struct(tb[IFLA_VF_TRUST], sizeof(*trust));
    vf->trust = trust ? (int)trust->setting : -1;
    link_state = vf_struct(tb[IFLA_VF_LINK_STATE], sizeof(*link_state));
    vf->link_state = link_state ? (int)link_state->link_state : -1;
    return 0;
}

int xvf_nl_parse_link(const struct nlmsghdr *nlh, struct xvf_nl_link *ret)
{
    const struct nlattr *tb[IFLA_MAX + 1] = { NULL };
    const struct ifinfomsg *ifm;
    const struct nlattr *info;
    int r;

    if (nlh->nlmsg_type != RTM_NEWLINK ||
        nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
        return -EBADMSG;
    ifm = mnl_nlmsg_get_payload(nlh);
    memset(ret, 0, sizeof(*ret));
    ret->ifindex = ifm->ifi_index;
    ret->flags = ifm->ifi_flags;
    ret->operstate = IF_OPER_UNKNOWN;
    if (mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, tb) < 0)
        return -EBADMSG;
    if (tb[IFLA_IFNAME])
        snprintf(ret->ifname, sizeof(ret->ifname), "%s",
                 mnl_attr_get_str(tb[IFLA_IFNAME]));
    if (tb[IFLA_OPERSTATE])
        ret->operstate = mnl_attr_get_u8(tb[IFLA_OPERSTATE]);
    if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
        ret->has_addr = true;
        memcpy(ret->addr, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
    }
    if (tb[IFLA_NUM_VF]) {
        ret->has_num_vf = true;
        ret->num_vf = mnl_attr_get_u32(tb[IFLA_NUM_VF]);
    }
    if (!tb[IFLA_VFINFO_LIST])
        return 0;
    mnl_attr_for_each_nested(info, tb[IFLA_VFINFO_LIST]) {
        if (mnl_attr_get_type(info) != IFLA_VF_INFO)
            continue;
        if (ret->nvfs >= XVF_NL_MAX_VFS)
            break;
        r = parse_vf(info, &ret->vfs[ret->nvfs]);
        if (r)
            return r;
        ret->nvfs++;
    }
    return 0;
}

static int ext_attr_cb(const struct nlattr *attr, void *data)
{
    struct txn *t = data;

    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
        snprintf(t->nl->ext_msg, sizeof(t->nl->ext_msg), "%s",
                 mnl_attr_get_str(attr));
    return MNL_CB_OK;
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
    struct txn *t = data;
    size_t off = sizeof(*e);

    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
        t->err = -EBADMSG;
        errno = EBADMSG;
        return MNL_CB_ERROR;
    }
    if (!e->error)
        return MNL_CB_STOP;
    t->err = e->error < 0 ? e->error : -e->error;
    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
            off += e->msg.nlmsg_len > sizeof(struct nlmsghdr)
                   ? e->msg.nlmsg_len - sizeof(struct nlmsghdr) : 0;
        if (off <= mnl_nlmsg_get_payload_len(nlh))
            mnl_attr_parse(nlh, off, ext_attr_cb, t);
    }
    errno = -t->err;
    return MNL_CB_ERROR;
}

static int stop_cb(const struct nlmsghdr *nlh, void *data)
{
    return MNL_CB_STOP;
}

static int noop_cb(const struct nlmsghdr *nlh, void *data)
{
    return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
    struct txn *t = data;

    if (!t->link || t->got_link || nlh->nlmsg_type != RTM_NEWLINK)
        return MNL_CB_OK;
    /* read on to the ack, so no stale answer is left on the socket */
    t->err = xvf_nl_parse_link(nlh, t->link);
    t->got_link = !t->err;
    return MNL_CB_OK;
}

/* Sends the request built in nl->buf and reads until its ack or error. */
static int talk(struct xvf_nl *nl, size_t len, struct xvf_nl_link *link)
{
    static mnl_cb_t ctl[] = {
        [NLMSG_NOOP] = noop_cb,
        [NLMSG_ERROR] = error_cb,
        [NLMSG_DONE] = stop_cb,
    };
    struct txn t = { .nl = nl, .link = link };
    uint32_t seq = ((struct nlmsghdr *)nl->buf)->nlmsg_seq;
    ssize_t n;
    int r = MNL_CB_OK; /* an EINTR on the first read tests it: go round */

    nl->ext_msg[0] = '\0';
    if (!len)
        return -EINVAL;
    if (mnl_socket_sendto(nl->sock, nl->buf, len) < 0)
        return -errno;
    do {
        n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT
                                                           : -errno;
        errno = 0;
        r = mnl_cb_run2(nl->buf, n, seq, nl->portid, link_cb, &t, ctl,
                        sizeof(ctl) / sizeof(ctl[0]));
    } while (r > MNL_CB_STOP);
    if (r == MNL_CB_ERROR)
        return t.err ? t.err : errno ? -errno : -EIO;
    if (t.err)
        return t.err;
    if (link && !t.got_link)
        return -EBADMSG;
    return 0;
}

int xvf_nl_get_link(struct xvf_nl *nl, const char *ifname, int ifindex,
                    struct xvf_nl_link *ret)
{
    size_t len;

    len = xvf_nl_build_getlink(nl->buf, sizeof(nl->buf), ++nl->seq, ifname,
                               ifindex);
    return talk(nl, len, ret);
}

int xvf_nl_set_up(struct xvf_nl *nl, int ifindex)
{
    size_t len;

    len = xvf_nl_build_set_up(nl->buf, sizeof(nl->buf), ++nl->seq, ifindex);
    return talk(nl, len, NULL);
}

int xvf_nl_set_vf(struct xvf_nl *nl, int ifindex,
                  const struct xvf_nl_vf_set *set)
{
    size_t len;

    len = xvf_nl_build_set_vf(nl->buf, sizeof(nl->buf), ++nl->seq, ifindex,
                              set);
    return talk(nl, len, NULL);
}

struct watch {
    int ifindex;
    struct xvf_nl_link *link;
    bool gone;
};

static int notify_cb(const struct nlmsghdr *nlh, void *data)
{
    const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
    struct watch *w = data;

    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)) ||
        ifm->ifi_index != w->ifindex)
        return MNL_CB_OK;
    if (nlh->nlmsg_type == RTM_DELLINK)
        w->gone = true;
    else if (nlh->nlmsg_type == RTM_NEWLINK)
        w->link->flags = ifm->ifi_flags;
    return MNL_CB_OK;
}

int xvf_nl_wait_running(struct xvf_nl *watch, struct xvf_nl *nl,
                        int ifindex, unsigned int timeout_ms,
                        struct xvf_nl_link *ret)
{
    struct watch w = { .ifindex = ifindex, .link = ret };
    long long deadline = xvf_now_ms() + timeout_ms, left;
    struct pollfd pfd;
    ssize_t n;
    int r;

    r = xvf_nl_get_link(nl, NULL, ifindex, ret);
    if (r)
        return r;
    pfd.fd = mnl_socket_get_fd(watch->sock);
    pfd.events = POLLIN;
    while (!(ret->flags & IFF_RUNNING)) {
        left = deadline - xvf_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        r = poll(&pfd, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (!r)
            return -ETIMEDOUT;
        n = mnl_socket_recvfrom(watch->sock, watch->buf, sizeof(watch->buf));
        if (n < 0 && errno == ENOBUFS) {
            /* notifications were lost: read the state again */
            r = xvf_nl_get_link(nl, NULL, ifindex, ret);
            if (r)
                return r;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (mnl_cb_run(watch->buf, n, 0, 0, notify_cb, &w) == MNL_CB_ERROR)
            return -EBADMSG;
        if (w.gone)
            return -ENODEV;
    }
    return 0;
}
