/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * One file: grammar, planner and execution are one feature (layout.h),
 * and their tables share the dump and fixture helpers below.
 *
 * The namespace layout (layout.h): the grammar, plans for tables of
 * starting states and targets (from dumps, no device), and execution
 * against the fake controller (libxvf-mock with Namespace Management):
 * the guide's layout, refusals that change nothing, a failure injected at
 * every operation followed by a run that finishes the job, QEMU's
 * Invalid Command Opcode, and the rescan / reset-needed path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "lock-holder.h"
#include "layout/layout.h"
#include "kernel/mock.h"

#define PF "0000:01:00.0"
#define MAGIC "# xen-vfctl nvme-layout dump 1\n"

/* ---- helpers ---------------------------------------------------------- */

static struct xvf_layout_state st;
static struct xvf_layout_plan plan;

static bool has_note(const struct xvf_layout_plan *p,
                     enum xvf_layout_note_kind kind, const char *text)
{
    unsigned int i;

    for (i = 0; i < p->nnotes; i++)
        if (p->notes[i].kind == kind && strstr(p->notes[i].text, text))
            return true;
    return false;
}

static void dump_plan(const struct xvf_layout_plan *p)
{
    unsigned int i;

    for (i = 0; i < p->nnotes; i++)
        printf("#     note %d: %s\n", p->notes[i].kind, p->notes[i].text);
    for (i = 0; i < p->nops; i++)
        printf("#     op %u: %s\n", i + 1, p->ops[i].what);
}

/* "D1 X1 C2 A2 R" : the plan's commands, kind + NSID */
static void ops_str(const struct xvf_layout_plan *p, char *buf, size_t len)
{
    static const char kinds[] = "DXCAR";
    unsigned int i;
    size_t n = 0;

    buf[0] = '\0';
    for (i = 0; i < p->nops && n + 12 < len; i++) {
        const struct xvf_layout_op *op = &p->ops[i];

        if (op->kind == XVF_LOP_RESCAN)
            n += snprintf(buf + n, len - n, "%sR", i ? " " : "");
        else
            n += snprintf(buf + n, len - n, "%s%c%u", i ? " " : "",
                          kinds[op->kind], op->nsid);
    }
}

static int plan_for(const char *dump, const char *layout,
                    const uint32_t *destroy, unsigned int ndestroy)
{
    struct xvf_layout_opts o = { 0 };
    struct xvf_err err = { 0 };
    struct xvf_layout l;
    int r;

    r = xvf_layout_undump(dump, &st, &err);
    if (r) {
        FAIL("undump: %s", err.msg);
        return r;
    }
    r = xvf_layout_parse(layout, &l, &err);
    if (r) {
        FAIL("parse '%s': %s", layout, err.msg);
        return r;
    }
    o.ndestroy = ndestroy;
    if (ndestroy)
        memcpy(o.destroy, destroy, ndestroy * sizeof(*destroy));
    r = xvf_layout_plan(&st, &l, &o, &plan, &err);
    if (r)
        printf("#     plan: %s\n", err.msg);
    return r;
}

/* ---- grammar ---------------------------------------------------------- */

static void test_parse(void)
{
    static const struct {
        const char *in, *canonical;
    } good[] = {
        { "ns1: 50%, attach=primary; ns2: 512MiB, attach=secondary:auto",
          "ns1: 50%, attach=primary; ns2: 512MiB, attach=secondary:auto" },
        { "ns2: 1G\nns1: rest, attach=none",
          "ns1: rest, attach=none; ns2: 1GiB" },
        { "# the guide\nns1: 1048576blocks, attach=primary # DomD\n"
          "ns2: 1048576 blocks, attach=secondary:0x1",
          "ns1: 1048576blocks, attach=primary; "
          "ns2: 1048576blocks, attach=secondary:0x1" },
        { "ns3: keep", "ns3: keep" },
        { "ns1: size=4096, lba=4096", "ns1: 4KiB, lba=4096" },
        { "ns1: any, attach=auto, lbaf=1",
          "ns1: any, attach=secondary:auto, lbaf=1" },
        { "ns1: 33.5%", "ns1: 33.50%" },
        { "ns1: 2TB", "ns1: 1953125000KiB" },
        { " ns1 : 1 MiB ; ", "ns1: 1MiB" },
    };
    static const struct {
        const char *in, *msg;
    } bad[] = {
        { "", "empty layout" },
        { "ns1", "an entry is" },
        { "ns0: 1G", "not a namespace id" },
        { "nsx: 1G", "not a namespace id" },
        { "ns1: 1G; ns1: 2G", "named twice" },
        { "ns1: attach=primary", "no size" },
        { "ns1: 1G, attach=secondary", "attach=secondary" },
        { "ns1: 1G, attach=dom0", "attach=dom0" },
        { "ns1: 101%", "not a size" },
        { "ns1: 0", "not a size" },
        { "ns1: 1.5G", "not a size" },
        { "ns1: 1Q", "not a size" },
        { "ns1: 1G, lba=1000", "power of two" },
        { "ns1: 1G, lba=512, lbaf=0", "both choose" },
        { "ns1: keep, attach=none", "takes no other" },
        { "ns1: rest; ns2: rest", "only one" },
        { "ns1: 1G, colour=red", "unknown option" },
    };
    char out[512];
    struct xvf_err err;
    struct xvf_layout l;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(good); i++) {
        memset(&err, 0, sizeof(err));
        if (!CHECK_INT(xvf_layout_parse(good[i].in, &l, &err), 0, err.msg))
            continue;
        xvf_layout_format(&l, out, sizeof(out));
        CHECK_STR(out, good[i].canonical, good[i].in);
        /* the canonical form parses to the same */
        memset(&err, 0, sizeof(err));
        CHECK_INT(xvf_layout_parse(out, &l, &err), 0, err.msg);
    }
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        memset(&err, 0, sizeof(err));
        CHECK_INT(xvf_layout_parse(bad[i].in, &l, &err), -EINVAL,
                  bad[i].in);
        CHECK(strstr(err.msg, bad[i].msg), "'%s': '%s' lacks '%s'",
              bad[i].in, err.msg, bad[i].msg);
    }
}

/* ---- plans from dumps ------------------------------------------------- */

/* The guide's SSD as it ships: one namespace over the whole 4 GiB. */
#define CTRL_BOARD \
    MAGIC \
    "ctrl name=nvme0 bdf=0000:01:00.0 cntlid=0x41 oacs=0xde lpa=0x7 " \
    "nn=32 tnvmcap=4294967296 unvmcap=0 nsmgmt=yes\n" \
    "lbaf index=0 lbads=9 ms=0 rp=0\n" \
    "lbaf index=1 lbads=12 ms=0 rp=0\n" \
    "sec scid=0x1 vfn=1 online=0\n" \
    "sec scid=0x2 vfn=2 online=0\n"
#define NS1_WHOLE \
    "ns nsid=1 nsze=8388608 ncap=8388608 nuse=8388608 flbas=0 lbads=9 " \
    "att=0x41 blockdev=nvme0n1 data=present\n"
#define GUIDE "ns1: 512MiB, attach=primary; ns2: 512MiB, attach=secondary:1"

/* After the guide's setup: 2 x 512 MiB, ns2 on secondary 1. */
#define NS_GUIDE \
    "ns nsid=1 nsze=1048576 ncap=1048576 nuse=1048576 lbads=9 att=0x41 " \
    "blockdev=nvme0n1 data=zeros\n" \
    "ns nsid=2 nsze=1048576 ncap=1048576 nuse=0 lbads=9 att=0x1 " \
    "data=none\n"

struct plan_case {
    const char *name;
    const char *dump;
    const char *layout;
    uint32_t destroy;           /* 0: none */
    const char *ops;            /* expected commands */
    unsigned int refused, skipped;
    const char *note;           /* a note that must be there, or NULL */
};

static const struct plan_case plan_cases[] = {
    { "guide without --destroy-ns", CTRL_BOARD NS1_WHOLE, GUIDE, 0,
      "D1 X1 C1 C2 A1 A2 R", 1, 0, "add --destroy-ns 1" },
    { "guide with --destroy-ns 1", CTRL_BOARD NS1_WHOLE, GUIDE, 1,
      "D1 X1 C1 C2 A1 A2 R", 0, 0, "--destroy-ns 1 given" },
    { "already done", CTRL_BOARD NS_GUIDE, GUIDE, 0, "", 0, 0,
      "nothing to do" },
    { "already done, in percent", CTRL_BOARD NS_GUIDE,
      "ns1: 12.5%, attach=primary; ns2: 12.5%, attach=secondary:auto", 0,
      "", 0, 0, "nothing to do" },
    { "nothing to do: keep", CTRL_BOARD NS_GUIDE, "ns1: keep; ns2: keep",
      0, "", 0, 0, "nothing to do" },
    { "grow the layout: a third namespace", CTRL_BOARD NS_GUIDE,
      "ns1: any, attach=primary; ns2: any, attach=secondary:1; "
      "ns3: rest, attach=secondary:auto", 0, "C3 A3", 0, 0,
      "secondary:auto chose secondary controller 0x2" },
    { "grow a namespace: it is recreated, data", CTRL_BOARD NS_GUIDE,
      "ns1: 1GiB, attach=primary; ns2: keep", 0, "D1 X1 C1 A1 R", 1, 0,
      "deleted and created again" },
    { "grow an empty namespace: no flag needed", CTRL_BOARD NS_GUIDE,
      "ns1: keep; ns2: 1GiB, attach=secondary:1", 0, "D2 X2 C2 A2", 0, 0,
      "holds no data (NUSE 0)" },
    { "not enough capacity", CTRL_BOARD NS_GUIDE,
      "ns1: keep; ns2: keep; ns3: 3584MiB", 0, "C3", 1, 0,
      "not enough capacity" },
    { "percentages over 100", CTRL_BOARD NS1_WHOLE,
      "ns1: 60%, attach=primary; ns2: 60%", 1, "D1 X1 C1 C2 A1 R", 1, 0,
      "not enough capacity" },
    { "unlisted namespace with data", CTRL_BOARD NS_GUIDE
      "ns nsid=3 nsze=2048 ncap=2048 nuse=5 lbads=9 data=unknown\n",
      "ns1: keep; ns2: keep", 0, "X3", 1, 0, "--destroy-ns 3" },
    { "NSID gap", CTRL_BOARD NS_GUIDE, "ns1: keep; ns2: keep; ns4: 1MiB",
      0, "C4", 1, 0, "lowest free NSID, which is 3" },
    { "format by block size", CTRL_BOARD NS_GUIDE,
      "ns1: keep; ns2: keep; ns3: 1MiB, lba=4096", 0, "C3", 0, 0,
      "256 blocks of 4096 B" },
    { "move from primary to secondary", CTRL_BOARD NS_GUIDE,
      "ns1: any, attach=secondary:2; ns2: keep", 0, "D1 A1 R", 0, 0,
      NULL },
    { "detach from the secondary", CTRL_BOARD NS_GUIDE,
      "ns1: keep; ns2: any, attach=none", 0, "D2", 0, 0, NULL },
    { "secondary:auto keeps its choice", CTRL_BOARD NS_GUIDE,
      "ns1: keep; ns2: any, attach=secondary:auto", 0, "", 0, 0,
      "nothing to do" },
    { "'any' for a namespace that does not exist", CTRL_BOARD NS_GUIDE,
      "ns1: keep; ns2: keep; ns3: any", 0, "", 1, 0, "does not exist" },
};

static void test_plans(void)
{
    char ops[256];
    unsigned int i;
    int r;

    for (i = 0; i < ARRAY_SIZE(plan_cases); i++) {
        const struct plan_case *c = &plan_cases[i];

        r = plan_for(c->dump, c->layout, &c->destroy, c->destroy ? 1 : 0);
        if (!CHECK_INT(r, 0, c->name))
            continue;
        ops_str(&plan, ops, sizeof(ops));
        if (!CHECK_STR(ops, c->ops, c->name) |
            !CHECK_INT(plan.refused, c->refused, c->name) |
            !CHECK_INT(plan.skipped, c->skipped, c->name) |
            !CHECK(!c->note || has_note(&plan, XVF_LNOTE_REFUSE, c->note) ||
                   has_note(&plan, XVF_LNOTE_INFO, c->note),
                   "%s: no note '%s'", c->name, c->note ? c->note : ""))
            dump_plan(&plan);
    }
}

static void test_plan_rounding(void)
{
    /* 16 MiB granularity, 4096 B blocks */
    static const char dump[] = MAGIC
        "ctrl name=nvme0 cntlid=0x41 oacs=0xde nn=32 tnvmcap=10000000000 "
        "nsmgmt=yes nszeg=16777216 ncapg=16777216\n"
        "lbaf index=0 lbads=12 ms=0 rp=0\n";

    REQUIRE_INT(plan_for(dump, "ns1: 500MiB; ns2: 33%; ns3: rest", NULL, 0),
                0, "plan");
    REQUIRE_INT(plan.nops, 3, "three creates");
    /* 500 MiB -> 496 MiB = 126976 blocks of 4 KiB */
    CHECK_INT(plan.ops[0].nsze, 126976, "500MiB rounded down");
    CHECK(has_note(&plan, XVF_LNOTE_INFO, "rounded down to 126976 blocks"),
          "rounding reported");
    /* 33% of 10e9 = 3.3e9 B = 805664 blocks, down to 16 MiB: 802816 */
    CHECK_INT(plan.ops[1].nsze, 802816, "33%% rounded down");
    /* rest: 10e9 - 496 MiB - 3136 MiB = 5904.7 MiB, down to 5904 MiB */
    CHECK_INT(plan.ops[2].nsze, 5904 * 256, "rest rounded down");
    CHECK_INT(plan.refused, 0, "fits");
    /* a size below one granule is rounded up to it */
    REQUIRE_INT(plan_for(dump, "ns1: 1MiB", NULL, 0), 0, "plan");
    CHECK_INT(plan.ops[0].nsze, 4096, "one 16 MiB granule");
    CHECK(has_note(&plan, XVF_LNOTE_INFO, "rounded up"), "up reported");
}

static void test_plan_in_use(void)
{
    static const char dump[] = CTRL_BOARD
        "ns nsid=1 nsze=1048576 ncap=1048576 nuse=1048576 lbads=9 "
        "att=0x41 blockdev=nvme0n1 mounts=/srv claimed=1 data=present\n"
        "ns nsid=2 nsze=1048576 ncap=1048576 nuse=1048576 lbads=9 "
        "att=0x41 blockdev=nvme0n2 holders=dm-0 data=present\n";
    const uint32_t both[] = { 1, 2 };

    /* deleting a mounted namespace: refused even with --destroy-ns */
    REQUIRE_INT(plan_for(dump, "ns1: 1GiB; ns2: keep", both, 2), 0, "plan");
    CHECK_INT(plan.refused, 1, "refused");
    CHECK(has_note(&plan, XVF_LNOTE_REFUSE, "mounted on /srv"), "why");
    CHECK(has_note(&plan, XVF_LNOTE_REFUSE, "does not override"), "flag");
    /* detaching it from the driver domain: refused too */
    REQUIRE_INT(plan_for(dump, "ns1: any, attach=none; ns2: keep", NULL, 0),
                0, "plan");
    CHECK_INT(plan.refused, 1, "detach refused");
    CHECK(has_note(&plan, XVF_LNOTE_REFUSE, "cannot be detached from the "
                   "primary"), "why");
    /* a device mapper holder counts as use */
    REQUIRE_INT(plan_for(dump, "ns1: keep", both, 2), 0, "plan");
    CHECK(has_note(&plan, XVF_LNOTE_REFUSE, "held by dm-0"), "holders");
    /* changes elsewhere are fine */
    REQUIRE_INT(plan_for(dump, "ns1: keep; ns2: keep; ns3: 1GiB, "
                         "attach=secondary:auto", NULL, 0), 0, "plan");
    CHECK_INT(plan.refused, 0, "ns3 only");
}

static void test_plan_secondaries(void)
{
    static const char dump[] = MAGIC
        "ctrl name=nvme0 cntlid=0 oacs=0x1aa lpa=0x7 nn=256 nsmgmt=fake\n"
        "lbaf index=0 lbads=9 ms=0 rp=0\n"
        "sec scid=0x1 vfn=1 online=1 vf=0000:01:00.1 driver=pciback "
        "held=\"domain:3: VF 0000:01:00.1\"\n"
        "sec scid=0x2 vfn=2 online=0\n"
        "ns nsid=1 nsze=131072 ncap=131072 nuse=131072 lbads=9 att=0x0 "
        "blockdev=nvme0n1 data=present\n"
        "ns nsid=2 nsze=131072 ncap=131072 nuse=131072 lbads=9 att=0x1 "
        "held=\"domain:3: VF 0000:01:00.1\" data=unknown\n"
        "ns nsid=3 nsze=131072 ncap=131072 nuse=131072 lbads=9 "
        "data=unknown\n";

    /* auto avoids the held secondary */
    REQUIRE_INT(plan_for(dump, "ns1: keep; ns2: keep; ns3: any, "
                         "attach=secondary:auto", NULL, 0), 0, "plan");
    CHECK_INT(plan.refused, 0, "fine");
    REQUIRE_INT(plan.nops, 1, "one attach");
    CHECK_INT(plan.ops[0].cntlid, 2, "to the free secondary");
    /* an explicit held one is refused */
    REQUIRE_INT(plan_for(dump, "ns1: keep; ns2: keep; ns3: any, "
                         "attach=secondary:1", NULL, 0), 0, "plan");
    CHECK(has_note(&plan, XVF_LNOTE_REFUSE, "held by xen-vf"), "held");
    /* and so is moving the held namespace */
    REQUIRE_INT(plan_for(dump, "ns1: keep; ns2: any, attach=none; ns3: "
                         "keep", NULL, 0), 0, "plan");
    CHECK(has_note(&plan, XVF_LNOTE_REFUSE, "release that VF"), "held ns");
    /* QEMU: what needs Namespace Management is skipped, the rest runs */
    REQUIRE_INT(plan_for(dump, "ns1: 1GiB, attach=primary; ns2: keep; "
                         "ns3: any, attach=secondary:2; ns4: 1GiB", NULL,
                         0), 0, "plan");
    CHECK_INT(plan.refused, 0, "nothing refused");
    CHECK_INT(plan.skipped, 2, "ns1 resize and ns4 creation skipped");
    CHECK(plan.nops == 1 && plan.ops[0].kind == XVF_LOP_ATTACH &&
          plan.ops[0].nsid == 3, "only the attach of ns3");
    CHECK(has_note(&plan, XVF_LNOTE_SKIP, "not implemented"), "why");
    /* a secondary that is not there */
    CHECK_INT(plan_for(dump, "ns1: keep; ns3: any, attach=secondary:9",
                       NULL, 0), -EINVAL, "no such secondary");
    CHECK_INT(plan_for(dump, "ns1: keep; ns3: any, attach=secondary:0",
                       NULL, 0), -EINVAL, "the primary is no secondary");
}

static void test_dump_roundtrip(void)
{
    static const char dump[] = CTRL_BOARD NS1_WHOLE
        "ns nsid=2 nsze=2048 ncap=2048 nuse=0 flbas=1 lbads=12 nmic=1 "
        "att=0x1,0x2 held=\"local: VF 0000:01:00.2\" blockdev=nvme0n2 "
        "mounts=\"/a b, /c\" swap=1 claimed=1 openers=\"7 (dd)\" "
        "data=none\n";
    struct xvf_layout_state *a = calloc(1, sizeof(*a));
    struct xvf_layout_state *b = calloc(1, sizeof(*b));
    struct xvf_err err = { 0 };
    char *t1 = NULL, *t2 = NULL;

    REQUIRE(a && b, "memory");
    if (!CHECK_INT(xvf_layout_undump(dump, a, &err), 0, err.msg))
        goto out;
    CHECK_STR(a->ns[1].use.mounts, "/a b, /c", "quoted value");
    CHECK(a->ns[1].natt == 2 && a->ns[1].att[1] == 2, "attachments");
    t1 = xvf_layout_dump(a);
    REQUIRE(t1, "dump");
    if (!CHECK_INT(xvf_layout_undump(t1, b, &err), 0, err.msg))
        goto out;
    t2 = xvf_layout_dump(b);
    CHECK_STR(t2, t1, "dump, undump, dump");
    CHECK_INT(xvf_layout_undump("ctrl name=x\n", a, &err), -EINVAL,
              "no magic");
    memset(&err, 0, sizeof(err));
    CHECK_INT(xvf_layout_undump(MAGIC "ctrl name=x colour=red\n", a, &err),
              -EINVAL, "unknown key");
    CHECK(strstr(err.msg, "line 2") && strstr(err.msg, "colour"), "%s",
          err.msg);
out:
    free(t1);
    free(t2);
    free(a);
    free(b);
}

/* ---- execution against the fake controller --------------------------- */

/* The guide's SSD with Namespace Management, thin provisioned, 4 GiB. */
static const char board[] =
    "pf bdf=" PF " name=nvme0 cntlid=0x41 sn=S5XXNE0R700123\n"
    "   mn=\"SAMSUNG MZWLJ1T9HBJR-00007\" vendor=0x144d device=0xa824\n"
    "   oacs=0xde nn=32 totalvfs=4 offset=2 stride=1 secondaries=4 scid=1\n"
    "   vqfrt=16 vifrt=16 vqprt=8 viprt=8 vqfrsm=8 vifrsm=8 nsmgmt=1\n"
    "   capmib=4096 thin=1 lbafs=9:0,12:0\n"
    "ns nsid=1 nsze=8388608 nuse=4242 att=0x41\n";

struct fixture {
    char *root;
    char state[96];
    struct xvf_nvme_pf pf;
    struct xvf_layout l;
    struct xvf_layout_opts o;
    struct xvf_layout_result res;
};

static bool setup(struct fixture *fx, const char *config, const char *lay)
{
    struct xvf_err err = { 0 };

    memset(fx, 0, sizeof(*fx));
    if (xvf_mock_mkroot(config, &fx->root)) {
        FAIL("cannot build fake root");
        return false;
    }
    snprintf(fx->state, sizeof(fx->state), "%s/.state", fx->root);
    if (!CHECK_INT(xvf_nvme_pf_from_bdf(PF, &fx->pf, &err), 0, err.msg) ||
        !CHECK_INT(xvf_layout_parse(lay, &fx->l, &err), 0, err.msg))
        return false;
    xvf_mock_reset_counts(fx->root);
    return true;
}

static void teardown(struct fixture *fx)
{
    xvf_mock_destroy(fx->root);
    free(fx->root);
}

static int apply(struct fixture *fx, struct xvf_err *err)
{
    memset(err, 0, sizeof(*err));
    return xvf_layout_apply(&fx->pf, fx->state, &fx->l, &fx->o, 2000, NULL,
                            NULL, &fx->res, err);
}

static void destroy_ns(struct fixture *fx, uint32_t nsid)
{
    fx->o.destroy[fx->o.ndestroy++] = nsid;
}

static int root_write(const struct fixture *fx, const char *rel,
                      const char *text)
{
    char path[4200];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", fx->root, rel);
    f = fopen(path, "w");
    if (!f)
        return -errno;
    fwrite(text, 1, strlen(text), f);
    return fclose(f) ? -errno : 0;
}

static bool root_exists(const struct fixture *fx, const char *rel)
{
    char path[4200];

    snprintf(path, sizeof(path), "%s/%s", fx->root, rel);
    return access(path, F_OK) == 0;
}

/* The guide's end state, through the mock's own view. */
static void check_guide_state(const struct fixture *fx, const char *what)
{
    struct xvf_err err = { 0 };
    uint16_t ids[32];
    unsigned int n;

    CHECK_INT(xvf_mock_ns_attached(fx->root, PF, 1, ids, &n), 0, what);
    CHECK(n == 1 && ids[0] == 0x41, "%s: ns1 on the primary only", what);
    CHECK_INT(xvf_mock_ns_attached(fx->root, PF, 2, ids, &n), 0, what);
    CHECK(n == 1 && ids[0] == 1, "%s: ns2 on secondary 1 only", what);
    CHECK_INT(xvf_mock_ns_attached(fx->root, PF, 3, ids, &n), -ENOENT,
              what);
    CHECK_INT(xvf_layout_read(&fx->pf, NULL, &st, &err), 0, err.msg);
    CHECK(st.nns == 2 && st.ns[0].nsze == 1048576 &&
          st.ns[1].nsze == 1048576, "%s: 2 x 512 MiB", what);
    CHECK_STR(st.ns[0].use.blockdev, "nvme0n1", what);
}

static void test_apply_guide(void)
{
    struct xvf_mock_counts n;
    struct xvf_err err;
    struct fixture fx;
    char *before, *after, *diff;

    if (!setup(&fx, board, GUIDE))
        return;
    before = xvf_mock_snapshot(fx.root);
    /* ns1 has data: refused, and nothing changed */
    CHECK_INT(apply(&fx, &err), -EPERM, "without --destroy-ns");
    CHECK(strstr(err.msg, "--destroy-ns 1"), "%s", err.msg);
    after = xvf_mock_snapshot(fx.root);
    diff = before && after ? xvf_mock_diff(before, after) : NULL;
    CHECK(diff && !*diff, "refusal changed:\n%s", diff ? diff : "?");
    free(after);
    free(diff);

    destroy_ns(&fx, 1);
    CHECK_INT(apply(&fx, &err), 0, err.msg);
    CHECK_INT(fx.res.done, 6, "detach, delete, 2 creates, 2 attaches");
    CHECK(fx.res.rescanned && !fx.res.reset_needed, "rescanned, no reset");
    check_guide_state(&fx, "after apply");
    CHECK(root_exists(&fx, "dev/nvme0n1") && !root_exists(&fx,
          "dev/nvme0n2"), "the kernel shows ns1 only");

    /* again: nothing to do, no command but Identify and the log */
    xvf_mock_reset_counts(fx.root);
    fx.o.ndestroy = 0;
    CHECK_INT(apply(&fx, &err), 0, err.msg);
    CHECK_INT(fx.res.done, 0, "idempotent");
    CHECK_INT(xvf_mock_counts(fx.root, &n), 0, "counts");
    CHECK_INT(n.write, 0, "no sysfs write");
    free(before);
    teardown(&fx);
}

/*
 * A failure at every operation of the guide's run: what ran stays, the
 * device is in a state the next run plans from, and that run (same
 * command line) ends exactly where an undisturbed run ends.
 */
static void test_apply_fault_every_op(void)
{
    struct xvf_mock_counts n;
    struct xvf_mock_fault f;
    struct xvf_err err;
    struct fixture fx;
    char *good, *now, *diff;
    unsigned int i, total, failed = 0;
    int r;

    if (!setup(&fx, board, GUIDE))
        return;
    destroy_ns(&fx, 1);
    if (!CHECK_INT(apply(&fx, &err), 0, err.msg)) {
        teardown(&fx);
        return;
    }
    xvf_mock_counts(fx.root, &n);
    total = n.ops;
    good = xvf_mock_snapshot(fx.root);
    teardown(&fx);
    REQUIRE(good && total > 10, "a good run of %u operations", total);
    for (i = 1; i <= total; i++) {
        if (!setup(&fx, board, GUIDE))
            break;
        destroy_ns(&fx, 1);
        xvf_mock_fault_init(&f);
        f.nth = i;
        f.err = i % 2 ? EIO : 0;       /* odd: ioctl fails; even: status */
        xvf_mock_set_fault(fx.root, &f);
        r = apply(&fx, &err);
        failed += r != 0;
        xvf_mock_clear_fault(fx.root);
        CHECK_INT(apply(&fx, &err), 0, err.msg);
        now = xvf_mock_snapshot(fx.root);
        diff = now ? xvf_mock_diff(good, now) : NULL;
        CHECK(diff && !*diff, "fault at op %u (first run %d): the resumed "
              "run ends elsewhere:\n%s", i, r, diff ? diff : "?");
        free(now);
        free(diff);
        teardown(&fx);
    }
    free(good);
    /*
     * Survived: the optional reads of the state read before and after the
     * commands (effects log: plan as unverified; common namespace data:
     * formats from ns1), and the rescan write (the kernel agrees anyway).
     */
    CHECK(failed + 5 == total, "%u of %u faults stopped the run", failed,
          total);
}

static unsigned int kill_at;

static void die_at(void *opaque, unsigned int n,
                   const struct xvf_layout_op *op)
{
    if (n == kill_at)
        _exit(0);
}

/* Killed before each command in turn: the next run continues. */
static void test_apply_resume_after_kill(void)
{
    struct xvf_err err;
    struct fixture fx;
    pid_t pid;
    int status;

    for (kill_at = 1; kill_at <= 7; kill_at++) {
        if (!setup(&fx, board, GUIDE))
            return;
        destroy_ns(&fx, 1);
        pid = fork();
        if (pid == 0) {
            xvf_layout_apply(&fx.pf, fx.state, &fx.l, &fx.o, 2000, die_at,
                             NULL, &fx.res, &err);
            _exit(1);
        }
        if (!CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
                   WIFEXITED(status) && !WEXITSTATUS(status),
                   "killed before command %u", kill_at)) {
            teardown(&fx);
            return;
        }
        CHECK_INT(apply(&fx, &err), 0, err.msg);
        CHECK_INT(fx.res.done, kill_at <= 6 ? 7 - kill_at : 0,
                  "the rest of the commands");
        check_guide_state(&fx, "resumed");
        teardown(&fx);
    }
}

static void test_apply_refusals_change_nothing(void)
{
    struct xvf_err err;
    struct fixture fx;
    char *before, *after, *diff;

    /* mounted: even --destroy-ns does not delete it */
    if (!setup(&fx, board, GUIDE))
        return;
    destroy_ns(&fx, 1);
    REQUIRE_INT(root_write(&fx, "proc/self/mountinfo", "30 1 259:1 / /srv "
                           "rw - ext4 /dev/nvme0n1 rw\n"), 0, "mount");
    before = xvf_mock_snapshot(fx.root);
    CHECK_INT(apply(&fx, &err), -EPERM, "mounted");
    CHECK(strstr(err.msg, "mounted on /srv"), "%s", err.msg);
    after = xvf_mock_snapshot(fx.root);
    diff = before && after ? xvf_mock_diff(before, after) : NULL;
    CHECK(diff && !*diff, "changed:\n%s", diff ? diff : "?");
    free(before);
    free(after);
    free(diff);
    teardown(&fx);

    /* not enough capacity */
    if (!setup(&fx, board, "ns1: 3GiB, attach=primary; ns2: 2GiB"))
        return;
    destroy_ns(&fx, 1);
    CHECK_INT(apply(&fx, &err), -EPERM, "capacity");
    CHECK(strstr(err.msg, "not enough capacity"), "%s", err.msg);
    CHECK_INT(xvf_layout_read(&fx.pf, NULL, &st, &err), 0, err.msg);
    CHECK(st.nns == 1 && st.ns[0].nsze == 8388608, "ns1 untouched");
    teardown(&fx);
}

static void test_apply_data_detection(void)
{
    struct xvf_err err = { 0 };
    struct fixture fx;

    if (!setup(&fx, board, "ns1: keep"))
        return;
    CHECK_INT(xvf_layout_read(&fx.pf, NULL, &st, &err), 0, err.msg);
    CHECK_STR(st.ns[0].use.blockdev, "nvme0n1", "the kernel's disk");
    CHECK_INT(st.ns[0].use.data, XVF_DATA_UNKNOWN, "empty fake device");
    REQUIRE_INT(root_write(&fx, "dev/nvme0n1", "ext4-ish"), 0, "w");
    CHECK_INT(xvf_layout_read(&fx.pf, NULL, &st, &err), 0, err.msg);
    CHECK_INT(st.ns[0].use.data, XVF_DATA_PRESENT, "non-zero bytes");
    REQUIRE_INT(root_write(&fx, "proc/swaps", "Filename Type\n"
                           "/dev/nvme0n1 partition 1 0 -2\n"), 0, "swap");
    CHECK_INT(xvf_layout_read(&fx.pf, NULL, &st, &err), 0, err.msg);
    CHECK(st.ns[0].use.swap, "swap seen");
    CHECK_INT(st.nsmgmt, XVF_NSMGMT_YES, "effects log lists 0Dh");
    CHECK(st.tnvmcap == 4096ULL << 20 && st.unvmcap == 0, "capacity");
    teardown(&fx);
}

static void test_apply_granularity(void)
{
    static const char cfg[] =
        "pf bdf=" PF " name=nvme0 cntlid=0x41 oacs=0xde nn=32 totalvfs=2\n"
        "   nsmgmt=1 capmib=2048 gran_kib=16384 thin=1 lbafs=9:0,12:0\n";
    struct xvf_err err;
    struct fixture fx;

    /* the fake refuses sizes off the 16 MiB granularity */
    if (!setup(&fx, cfg, "ns1: 500MiB, attach=primary; ns2: rest, "
               "lba=4096"))
        return;
    CHECK_INT(apply(&fx, &err), 0, err.msg);
    CHECK_INT(xvf_layout_read(&fx.pf, NULL, &st, &err), 0, err.msg);
    CHECK(st.nns == 2 && st.ns[0].nsze == 496 * 2048 &&
          st.ns[1].lbads == 12 && st.ns[1].nsze == 1552 * 256,
          "496 MiB + 1552 MiB (%llu, %llu)",
          (unsigned long long)st.ns[0].nsze,
          (unsigned long long)st.ns[1].nsze);
    CHECK_INT(st.nszeg, 16 << 20, "NSZEG read");
    teardown(&fx);
}

/* QEMU: OACS says Namespace Management, the controller answers 0x4001. */
static void test_apply_qemu_0x4001(void)
{
    static const char *const lay = "ns1: 512MiB, attach=primary; "
                                   "ns2: 1GiB, attach=secondary:auto";
    struct xvf_err err;
    struct fixture fx;
    uint16_t ids[32];
    unsigned int n;

    /* with QEMU's effects log: known before any command */
    if (!setup(&fx, "qemu", lay))
        return;
    CHECK_INT(apply(&fx, &err), 1, err.msg);
    CHECK(!fx.res.nsmgmt_fake, "no command tried");
    CHECK_INT(fx.res.plan.skipped, 1, "ns2's size skipped");
    CHECK_INT(xvf_mock_ns_attached(fx.root, PF, 2, ids, &n), 0, "ns2");
    CHECK(n == 1 && ids[0] == 1, "ns2 attached to secondary 1 anyway");
    teardown(&fx);

    /* without it: the 0x4001 answer, then the attach part */
    if (!setup(&fx, "qemu", lay))
        return;
    REQUIRE_INT(xvf_mock_pf_set(fx.root, PF, "effects=0"), 0, "pf-set");
    destroy_ns(&fx, 2);
    CHECK_INT(apply(&fx, &err), 1, err.msg);
    CHECK(fx.res.nsmgmt_fake, "learnt from the answer");
    CHECK_INT(xvf_mock_ns_attached(fx.root, PF, 2, ids, &n), 0, "ns2");
    CHECK(n == 1 && ids[0] == 1, "attach part ran");
    teardown(&fx);

    /* effects log overruled: the same answer, the same fallback */
    if (!setup(&fx, "qemu", lay))
        return;
    fx.o.trust_oacs = true;
    destroy_ns(&fx, 2);
    CHECK_INT(apply(&fx, &err), 1, err.msg);
    CHECK(fx.res.nsmgmt_fake, "learnt from the answer");
    CHECK_INT(xvf_mock_ns_attached(fx.root, PF, 2, ids, &n), 0, "ns2");
    CHECK(n == 1 && ids[0] == 1, "attach part ran");
    teardown(&fx);
}

static void test_apply_rescan(void)
{
    struct xvf_err err;
    struct fixture fx;

    /* the event is lost, the rescan shows the namespace */
    if (!setup(&fx, "qemu", "ns1: any, attach=primary; ns2: any, "
               "attach=primary"))
        return;
    REQUIRE_INT(xvf_mock_pf_set(fx.root, PF, "aen=0 shared=0"), -EINVAL,
                "unknown key refused");
    REQUIRE_INT(xvf_mock_pf_set(fx.root, PF, "aen=0"), 0, "aen=0");
    /* QEMU's namespaces are private: ns2 moves, ns1 stays */
    CHECK_INT(apply(&fx, &err), 0, err.msg);
    CHECK(fx.res.rescanned && !fx.res.reset_needed, "rescan was enough");
    CHECK(root_exists(&fx, "dev/nvme0n2"), "nvme0n2 after the rescan");
    teardown(&fx);

    /* neither works: a reset or a reboot is needed, and said why */
    if (!setup(&fx, "qemu", "ns1: any, attach=primary; ns2: any, "
               "attach=primary"))
        return;
    REQUIRE_INT(xvf_mock_pf_set(fx.root, PF, "aen=0 rescan=0"), 0, "set");
    CHECK_INT(apply(&fx, &err), 0, err.msg);
    CHECK(fx.res.reset_needed, "reset needed");
    CHECK(strstr(fx.res.reset_why, "does not show namespace 2") &&
          strstr(fx.res.reset_why, "reset_controller"), "%s",
          fx.res.reset_why);
    teardown(&fx);
}

/* ---- the CLI ---------------------------------------------------------- */

static int run_as(const char *out, char *const argv[], bool nobody)
{
    pid_t pid = fork();
    int status, fd;

    if (pid == 0) {
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0)
            _exit(126);
        if (nobody && !getuid() && (setgid(65534) || setuid(65534)))
            _exit(125);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int run_vfctl(const char *out, char *const argv[])
{
    return run_as(out, argv, false);
}

static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return strcpy(buf, "");
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_cli(void)
{
    char vfctl[4096], out[4300], dump[4300], state[4300];
    struct fixture fx;
    char *text;
    ssize_t len;

    /* the test binaries are in build/tests/unit, xen-vfctl in build */
    len = readlink("/proc/self/exe", vfctl, sizeof(vfctl) - 32);
    REQUIRE(len > 0, "/proc/self/exe");
    vfctl[len] = '\0';
    strcpy(strrchr(vfctl, '/'), "/../../xen-vfctl");
    REQUIRE(!access(vfctl, X_OK), "%s not built", vfctl);
    if (!setup(&fx, "qemu", "ns1: keep"))
        return;
    snprintf(out, sizeof(out), "%s/out", fx.root);
    snprintf(dump, sizeof(dump), "%s/dump", fx.root);
    snprintf(state, sizeof(state), "%s/.state", fx.root);
    {
        char *argv[] = { vfctl, "--state-dir", state, "nvme-layout",
                         "nvme0", "--save-dump", dump, NULL };

        CHECK_INT(run_vfctl(out, argv), 0, slurp(out));
        text = slurp(out);
        CHECK(strstr(text, "advertised in OACS but not implemented"),
              "QEMU's Namespace Management: %s", text);
    }
    {
        /* the guide's layout against the dump, as nobody, no fake */
        char pub[] = "/tmp/xvf-layout-dump.XXXXXX", pubout[64];
        char *argv[] = { vfctl, "nvme-layout", "--from-dump", pub, GUIDE,
                         NULL };
        int fd = mkstemp(pub);

        REQUIRE(fd >= 0, "mkstemp");
        text = slurp(dump);
        CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text) &&
              !fchmod(fd, 0644), "public copy");
        close(fd);
        snprintf(pubout, sizeof(pubout), "%s.out", pub);
        unsetenv("XEN_VF_ROOT");
        CHECK_INT(run_as(pubout, argv, true), 0, slurp(pubout));
        setenv("XEN_VF_ROOT", fx.root, 1);
        text = slurp(pubout);
        CHECK(strstr(text, "attach namespace 2 to secondary controller 0x1")
              && strstr(text, "nothing was changed"), "%s", text);
        unlink(pub);
        unlink(pubout);
    }
    {
        char *argv[] = { vfctl, "nvme-layout", "--from-dump", dump, GUIDE,
                         NULL };

        CHECK_INT(run_vfctl(out, argv), 0, "the sizes are QEMU's");
        text = slurp(out);
        CHECK(strstr(text, "attach namespace 2 to secondary controller 0x1")
              && strstr(text, "nothing was changed"), "%s", text);
    }
    {
        char *argv[] = { vfctl, "nvme-layout", "--from-dump", dump,
                         "ns1: 50%, attach=primary; ns2: 1GiB, "
                         "attach=secondary:auto", NULL };

        CHECK_INT(run_vfctl(out, argv), 3, "only in part");
        text = slurp(out);
        CHECK(strstr(text, "cannot be done on this controller") &&
              strstr(text, "attach namespace 2 to secondary controller 0x1"),
              "%s", text);
    }
    {
        char *argv[] = { vfctl, "nvme-layout", "--from-dump", dump,
                         "ns1: any, attach=none", NULL };

        CHECK_INT(run_vfctl(out, argv), 3, "ns2 cannot be deleted");
    }
    {
        char *argv[] = { vfctl, "--state-dir", state, "nvme-layout",
                         "nvme0", "ns1: any, attach=primary; ns2: any, "
                         "attach=secondary:auto", "--apply", NULL };

        CHECK_INT(run_vfctl(out, argv), 0, slurp(out));
        CHECK(strstr(slurp(out), "done: nvme0 has the layout"), "%s",
              slurp(out));
    }
    {
        /* a layout file with comments and one entry a line */
        char file[4300];
        char *argv[] = { vfctl, "nvme-layout", "--from-dump", dump,
                         "--file", file, NULL };
        FILE *f;

        snprintf(file, sizeof(file), "%s/nvme0.layout", fx.root);
        f = fopen(file, "w");
        REQUIRE(f, "layout file");
        fputs("# the guide, as a file\nns1: any, attach=primary  # DomD\n"
              "ns2: any, attach=secondary:auto\n", f);
        fclose(f);
        CHECK_INT(run_vfctl(out, argv), 0, slurp(out));
        CHECK(strstr(slurp(out), "layout: ns1: any, attach=primary; ns2: "
                     "any, attach=secondary:auto\n") &&
              strstr(slurp(out), "attach namespace 2 to secondary "
                     "controller 0x1"), "%s", slurp(out));
    }
    {
        char *argv[] = { vfctl, "nvme-layout", "--from-dump", dump,
                         "ns1: 1x", NULL };

        CHECK_INT(run_vfctl(out, argv), 2, "bad layout");
    }
    {
        char *argv[] = { vfctl, "nvme-layout", "--from-dump", dump,
                         "--apply", "ns1: keep", NULL };

        CHECK_INT(run_vfctl(out, argv), 2, "--apply on a dump");
    }
    teardown(&fx);
}

/*
 * nvme-layout --apply takes the PF's engine lock with the engine's
 * deadline (XEN_VF_LOCK_TIMEOUT_MS): while another process holds it the
 * run fails in bounded time naming the holder, and changes nothing.
 */
static void test_apply_lock_deadline(void)
{
    char vfctl[4096], out[4300], pidtext[32];
    struct fixture fx;
    struct timespec t0;
    struct xvf_err err;
    char *before, *after, *diff, *text;
    int release = -1;
    ssize_t len;
    long ms;
    pid_t pid;

    len = readlink("/proc/self/exe", vfctl, sizeof(vfctl) - 32);
    REQUIRE(len > 0, "/proc/self/exe");
    vfctl[len] = '\0';
    strcpy(strrchr(vfctl, '/'), "/../../xen-vfctl");
    REQUIRE(!access(vfctl, X_OK), "%s not built", vfctl);
    if (!setup(&fx, "qemu", "ns1: any, attach=primary; ns2: any, "
               "attach=secondary:auto"))
        return;
    snprintf(out, sizeof(out), "%s/out", fx.root);
    before = xvf_mock_snapshot(fx.root);
    pid = hold_pf_lock(fx.state, PF, &release);
    REQUIRE(pid > 0, "child taking the lock");
    snprintf(pidtext, sizeof(pidtext), "pid %ld (test-layout)", (long)pid);

    fx.o.lock_timeout_ms = 300;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(apply(&fx, &err), -ETIMEDOUT, err.msg);
    ms = elapsed_ms(&t0);
    CHECK(ms >= 300 && ms < 3000, "xvf_layout_apply gave up after %ld ms",
          ms);
    CHECK_HAS(err.msg, pidtext, "the library names the holder");
    {
        char *argv[] = { vfctl, "--state-dir", fx.state, "nvme-layout",
                         "nvme0", "ns1: any, attach=primary; ns2: any, "
                         "attach=secondary:auto", "--apply", NULL };

        setenv("XEN_VF_LOCK_TIMEOUT_MS", "400", 1);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_INT(run_vfctl(out, argv), 1, slurp(out));
        ms = elapsed_ms(&t0);
        unsetenv("XEN_VF_LOCK_TIMEOUT_MS");
        CHECK(ms >= 400 && ms < 4000, "--apply gave up after %ld ms", ms);
        text = slurp(out);
        CHECK_HAS(text, "PF " PF " is busy", "--apply says why");
        CHECK_HAS(text, pidtext, "--apply names the holder");
        CHECK_HAS(text, "for 400 ms", "--apply used XEN_VF_LOCK_TIMEOUT_MS");
    }
    after = xvf_mock_snapshot(fx.root);
    diff = before && after ? xvf_mock_diff(before, after) : NULL;
    CHECK(diff && !*diff, "changed while locked out:\n%s", diff ? diff : "?");
    free(before);
    free(after);
    free(diff);
    let_go_lock(pid, release);

    /* the holder gone, the same run works */
    CHECK_INT(apply(&fx, &err), 0, err.msg);
    teardown(&fx);
}

static const struct harness_case cases[] = {
    { "parse", test_parse },
    { "plans", test_plans },
    { "plan_rounding", test_plan_rounding },
    { "plan_in_use", test_plan_in_use },
    { "plan_secondaries", test_plan_secondaries },
    { "dump_roundtrip", test_dump_roundtrip },
    { "apply_guide", test_apply_guide },
    { "apply_fault_every_op", test_apply_fault_every_op },
    { "apply_resume_after_kill", test_apply_resume_after_kill },
    { "apply_refusals_change_nothing", test_apply_refusals_change_nothing },
    { "apply_data_detection", test_apply_data_detection },
    { "apply_granularity", test_apply_granularity },
    { "apply_qemu_0x4001", test_apply_qemu_0x4001 },
    { "apply_rescan", test_apply_rescan },
    { "cli", test_cli },
    { "apply_lock_deadline", test_apply_lock_deadline },
};

int main(int argc, char **argv)
{
    return harness_main(argc, argv, cases, HARNESS_N(cases));
}
