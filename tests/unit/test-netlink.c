/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-netlink.c - the rtnetlink messages plugin/lib/net/netlink.c builds
 * (RTM_GETLINK, the PF up, IFLA_VF_* settings) and parses (RTM_NEWLINK
 * with its VF list), as bytes, without a socket. The net provider and the
 * real kernel: test-net.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "harness.h"
#include "net/netlink.h"

#define MAC1 "02:11:22:33:44:55"

struct attrs {
    const struct nlattr *tb[IFLA_MAX + 1];
    unsigned int n;
};

static int collect_cb(const struct nlattr *attr, void *data)
{
    struct attrs *a = data;
    unsigned int type = mnl_attr_get_type(attr);

    a->n++;
    if (type <= IFLA_MAX)
        a->tb[type] = attr;
    return MNL_CB_OK;
}

static const struct ifinfomsg *parse_req(const void *buf, size_t len,
                                         struct attrs *a)
{
    const struct nlmsghdr *nlh = buf;

    memset(a, 0, sizeof(*a));
    if (!len || nlh->nlmsg_len != len ||
        !mnl_nlmsg_ok(nlh, len) ||
        mnl_attr_parse(nlh, sizeof(struct ifinfomsg), collect_cb, a) < 0)
        return NULL;
    return mnl_nlmsg_get_payload(nlh);
}

static void test_msg_getlink(void)
{
    const struct nlmsghdr *nlh;
    const struct ifinfomsg *ifm;
    char buf[512];
    struct attrs a;
    size_t len;

    len = xvf_nl_build_getlink(buf, sizeof(buf), 77, "eth0", 0);
    ifm = parse_req(buf, len, &a);
    REQUIRE(ifm, "getlink by name does not parse (len %zu)", len);
    nlh = (const void *)buf;
    CHECK_INT(nlh->nlmsg_type, RTM_GETLINK, "type");
    CHECK_HEX(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK, "flags");
    CHECK_INT(nlh->nlmsg_seq, 77, "seq");
    CHECK_INT(ifm->ifi_index, 0, "by name: no index");
    CHECK_INT(a.n, 2, "IFLA_IFNAME and IFLA_EXT_MASK only");
    REQUIRE(a.tb[IFLA_IFNAME] && a.tb[IFLA_EXT_MASK], "attributes");
    CHECK_STR(mnl_attr_get_str(a.tb[IFLA_IFNAME]), "eth0", "name");
    CHECK_HEX(mnl_attr_get_u32(a.tb[IFLA_EXT_MASK]),
              RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS, "VFs, no stats");

    len = xvf_nl_build_getlink(buf, sizeof(buf), 78, NULL, 42);
    ifm = parse_req(buf, len, &a);
    REQUIRE(ifm, "getlink by index does not parse");
    CHECK_INT(ifm->ifi_index, 42, "index");
    CHECK(!a.tb[IFLA_IFNAME], "by index: no IFLA_IFNAME");

    CHECK_INT(xvf_nl_build_getlink(buf, 16, 1, "eth0", 0), 0, "too small");
    CHECK_INT(xvf_nl_build_getlink(buf, 36, 1, "eth0", 0), 0,
              "room for the header, not the attributes");
}

static void test_msg_set_up(void)
{
    const struct ifinfomsg *ifm;
    char buf[256];
    struct attrs a;
    size_t len;

    len = xvf_nl_build_set_up(buf, sizeof(buf), 5, 3);
    ifm = parse_req(buf, len, &a);
    REQUIRE(ifm, "set_up does not parse");
    CHECK_INT(((struct nlmsghdr *)buf)->nlmsg_type, RTM_SETLINK, "type");
    CHECK_INT(ifm->ifi_index, 3, "index");
    CHECK_HEX(ifm->ifi_flags, IFF_UP, "flags");
    CHECK_HEX(ifm->ifi_change, IFF_UP, "only IFF_UP changes");
    CHECK_INT(a.n, 0, "no attributes");
}

/* The one attribute inside IFLA_VFINFO_LIST / IFLA_VF_INFO. */
static const struct nlattr *vf_attr(const void *buf, size_t len,
                                    unsigned int *count)
{
    const struct nlattr *info, *inner, *found = NULL;
    struct attrs a;
    unsigned int ninfo = 0;

    *count = 0;
    if (!parse_req(buf, len, &a) || a.n != 1 || !a.tb[IFLA_VFINFO_LIST])
        return NULL;
    mnl_attr_for_each_nested(info, a.tb[IFLA_VFINFO_LIST]) {
        ninfo++;
        if (mnl_attr_get_type(info) != IFLA_VF_INFO)
            return NULL;
        mnl_attr_for_each_nested(inner, info) {
            (*count)++;
            found = inner;
        }
    }
    return ninfo == 1 ? found : NULL;
}

static void test_msg_set_vf(void)
{
    struct xvf_nl_vf_set set = { .vf = 3 };
    const struct nlattr *attr;
    unsigned int n;
    char buf[512];
    size_t len;

    set.what = XVF_NL_VF_MAC;
    memcpy(set.mac, "\x02\x11\x22\x33\x44\x55", 6);
    len = xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set);
    attr = vf_attr(buf, len, &n);
    REQUIRE(attr, "mac: no single VFINFO_LIST > VF_INFO > attribute");
    CHECK_INT(n, 1, "one attribute");
    CHECK_INT(mnl_attr_get_type(attr), IFLA_VF_MAC, "type");
    REQUIRE(mnl_attr_get_payload_len(attr) == sizeof(struct ifla_vf_mac),
            "mac size");
    {
        const struct ifla_vf_mac *m = mnl_attr_get_payload(attr);

        CHECK_INT(m->vf, 3, "vf");
        CHECK(!memcmp(m->mac, set.mac, 6), "mac bytes");
    }

    set.what = XVF_NL_VF_VLAN;
    set.vlan = 4094;
    set.qos = 7;
    attr = vf_attr(buf, xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set),
                   &n);
    REQUIRE(attr && mnl_attr_get_type(attr) == IFLA_VF_VLAN, "vlan");
    {
        const struct ifla_vf_vlan *v = mnl_attr_get_payload(attr);

        CHECK(v->vf == 3 && v->vlan == 4094 && v->qos == 7, "vlan %u/%u/%u",
              v->vf, v->vlan, v->qos);
    }

    set.what = XVF_NL_VF_RATE;
    set.rate = 250;
    set.min_rate = 10;
    attr = vf_attr(buf, xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set),
                   &n);
    REQUIRE(attr && mnl_attr_get_type(attr) == IFLA_VF_RATE, "rate");
    {
        const struct ifla_vf_rate *r = mnl_attr_get_payload(attr);

        CHECK(r->vf == 3 && r->min_tx_rate == 10 && r->max_tx_rate == 250,
              "rate %u %u-%u", r->vf, r->min_tx_rate, r->max_tx_rate);
    }

    set.what = XVF_NL_VF_LINK_STATE;
    set.link_state = IFLA_VF_LINK_STATE_DISABLE;
    attr = vf_attr(buf, xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set),
                   &n);
    REQUIRE(attr && mnl_attr_get_type(attr) == IFLA_VF_LINK_STATE,
            "link state");
    {
        const struct ifla_vf_link_state *l = mnl_attr_get_payload(attr);

        CHECK(l->vf == 3 && l->link_state == IFLA_VF_LINK_STATE_DISABLE,
              "link state %u %u", l->vf, l->link_state);
    }
    set.link_state = IFLA_VF_LINK_STATE_DISABLE + 1;
    CHECK_INT(xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set), 0,
              "link state out of range");

    set.what = XVF_NL_VF_SPOOFCHK;
    set.on = false;
    attr = vf_attr(buf, xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set),
                   &n);
    REQUIRE(attr && mnl_attr_get_type(attr) == IFLA_VF_SPOOFCHK, "spoof");
    CHECK_INT(((const struct ifla_vf_spoofchk *)
               mnl_attr_get_payload(attr))->setting, 0, "spoofchk off");

    set.what = XVF_NL_VF_TRUST;
    set.on = true;
    attr = vf_attr(buf, xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set),
                   &n);
    REQUIRE(attr && mnl_attr_get_type(attr) == IFLA_VF_TRUST, "trust");
    CHECK_INT(((const struct ifla_vf_trust *)
               mnl_attr_get_payload(attr))->setting, 1, "trust on");

    /* out of range, and no room */
    set.what = XVF_NL_VF_VLAN;
    set.vlan = 4096;
    CHECK_INT(xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set), 0,
              "vlan 4096");
    set.vlan = 1;
    set.qos = 8;
    CHECK_INT(xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set), 0,
              "qos 8");
    set.qos = 0;
    set.vf = XVF_NL_MAX_VFS;
    CHECK_INT(xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set), 0,
              "vf number");
    set.vf = 0;
    set.what = XVF_NL_VF_MAC;
    CHECK_INT(xvf_nl_build_set_vf(buf, 48, 9, 4, &set), 0, "48 bytes");
    set.what = (enum xvf_nl_vf_what)99;
    CHECK_INT(xvf_nl_build_set_vf(buf, sizeof(buf), 9, 4, &set), 0,
              "unknown setting");
}

/* An RTM_NEWLINK as the kernel sends it for a PF with two VFs. */
static size_t fake_newlink(char *buf, size_t len, bool vf_without_mac)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct ifinfomsg *ifm;
    struct nlattr *list, *info;
    unsigned int i;

    nlh->nlmsg_type = RTM_NEWLINK;
    ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
    ifm->ifi_index = 7;
    ifm->ifi_flags = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "enp1s0f0");
    mnl_attr_put(nlh, IFLA_ADDRESS, 6, "\x52\x54\x00\x12\x34\x56");
    mnl_attr_put_u8(nlh, IFLA_OPERSTATE, IF_OPER_UP);
    mnl_attr_put_u32(nlh, IFLA_NUM_VF, 2);
    mnl_attr_put_u32(nlh, IFLA_MAX + 5, 1);     /* from a newer kernel */
    list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
    for (i = 0; i < 2; i++) {
        struct ifla_vf_mac m = { .vf = i, .mac = { 2, 0, 0, 0, 0, i + 1 } };
        struct ifla_vf_vlan v = { .vf = i, .vlan = 10 * i, .qos = i };
        struct ifla_vf_rate r = {
            .vf = i, .min_tx_rate = 5 * i, .max_tx_rate = 100 * i,
        };
        struct ifla_vf_spoofchk s = { .vf = i, .setting = !i };
        struct ifla_vf_trust t = { .vf = i, .setting = (__u32)-1 };

        info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
        if (!(vf_without_mac && i))
            mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(m), &m);
        mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(v), &v);
        mnl_attr_put(nlh, IFLA_VF_RATE, sizeof(r), &r);
        mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof(s), &s);
        mnl_attr_put(nlh, IFLA_VF_TRUST, sizeof(t), &t);
        mnl_attr_nest_end(nlh, info);
    }
    mnl_attr_nest_end(nlh, list);
    (void)len;
    return nlh->nlmsg_len;
}

static void test_msg_parse_link(void)
{
    static char buf[4096];
    static struct xvf_nl_link link;
    struct nlmsghdr *nlh = (void *)buf;

    fake_newlink(buf, sizeof(buf), false);
    REQUIRE_INT(xvf_nl_parse_link(nlh, &link), 0, "parse");
    CHECK_INT(link.ifindex, 7, "index");
    CHECK_STR(link.ifname, "enp1s0f0", "name");
    CHECK(link.flags & IFF_RUNNING, "flags");
    CHECK_INT(link.operstate, IF_OPER_UP, "operstate");
    CHECK(link.has_addr && link.addr[5] == 0x56, "address");
    CHECK(link.has_num_vf && link.num_vf == 2, "IFLA_NUM_VF");
    REQUIRE_INT(link.nvfs, 2, "two VFs");
    CHECK(link.vfs[1].vf == 1 && link.vfs[1].mac[5] == 2, "VF 1 mac");
    CHECK(link.vfs[1].vlan == 10 && link.vfs[1].qos == 1, "VF 1 vlan");
    CHECK_INT(link.vfs[1].max_rate, 100, "VF 1 rate");
    CHECK_INT(link.vfs[1].min_rate, 5, "VF 1 min rate");
    CHECK_INT(link.vfs[0].spoofchk, 1, "VF 0 spoofchk");
    CHECK_INT(link.vfs[1].spoofchk, 0, "VF 1 spoofchk");
    CHECK_INT(link.vfs[0].trust, -1, "trust not reported");
    CHECK_INT(link.vfs[0].link_state, -1, "no link state attribute");

    fake_newlink(buf, sizeof(buf), true);
    CHECK_INT(xvf_nl_parse_link(nlh, &link), -EBADMSG, "VF without MAC");
    fake_newlink(buf, sizeof(buf), false);
    nlh->nlmsg_type = RTM_DELLINK;
    CHECK_INT(xvf_nl_parse_link(nlh, &link), -EBADMSG, "not NEWLINK");
    nlh->nlmsg_type = RTM_NEWLINK;
    nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
    CHECK_INT(xvf_nl_parse_link(nlh, &link), -EBADMSG, "truncated");
}

static const struct harness_case cases[] = {
    { "msg_getlink", test_msg_getlink },
    { "msg_set_up", test_msg_set_up },
    { "msg_set_vf", test_msg_set_vf },
    { "msg_parse_link", test_msg_parse_link },
};

int main(int argc, char **argv)
{
    return harness_main(argc, argv, cases, HARNESS_N(cases));
}
