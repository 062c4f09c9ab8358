/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-vfctl - prepare, release and inspect SR-IOV VFs in the driver domain
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if.h>

#include "engine/engine.h"
#include "engine/journal.h"
#include "net/netlink.h"
#include "nvme/nvme.h"
#include "nvme-layout.h"
#include "spec/spec.h"
#include "pci/sriov.h"
#include "util/sysfs.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2

static const char *prog = "xen-vfctl";
static bool verbose;

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: %s [--state-dir DIR] [-v] COMMAND ...\n"
        "\n"
        "  prepare --local [--owner NAME] SPEC   prepare a VF, print its BDF\n"
        "  release --local SPEC|BDF              release a prepared VF\n"
        "  release --local --owner NAME          release all VFs of NAME\n"
        "  reconcile --local                     undo interrupted runs\n"
        "  status [--json]                       PFs, secondaries, journal\n"
        "  check SPEC                            check a spec's grammar\n"
        "  nvme-layout CTRL [LAYOUT] [--apply]   namespace layout, dry run\n"
        "\n"
        "SPEC is e.g. vf:nvme0/ns2 or vf:0000:01:00.0/ns2,driver=nvme;\n"
        "see xen-vf-spec(5).\n", prog);
}

static void print_step(void *opaque, const char *name, const char *detail)
{
    if (verbose)
        fprintf(stderr, "%s: step %s: %s\n", prog, name, detail);
}

static int fail(const char *what, const struct xvf_err *err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what,
            err->msg[0] ? err->msg : strerror(-err->code));
    return EXIT_REFUSED;
}

struct cmd_opts {
    bool local, json;
    const char *owner;
};

static int parse_cmd_opts(int argc, char **argv, struct cmd_opts *o)
{
    static const struct option longopts[] = {
        { "local", no_argument, NULL, 'l' },
        { "owner", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            o->local = true;
            break;
        case 'o':
            o->owner = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        default:
            return -1;
        }
    }
    return optind;
}

static int need_local(const char *cmd, const struct cmd_opts *o)
{
    if (o->local)
        return 0;
    fprintf(stderr, "%s: %s: give --local to act on this domain's devices "
            "directly (requests through xen-vfd come from the toolstack)\n",
            prog, cmd);
    return EXIT_USAGE;
}

static int cmd_check(int argc, char **argv)
{
    char canonical[XVF_SPEC_MAX + 1];
    struct xvf_err err = { 0 };
    struct xvf_spec spec;

    if (argc != 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (xvf_spec_parse(argv[1], &spec, &err)) {
        fprintf(stderr, "%s: %s: %s\n", prog, argv[1], err.msg);
        return EXIT_USAGE;
    }
    xvf_spec_format(&spec, canonical, sizeof(canonical));
    printf("%s\n", canonical);
    return 0;
}

static int cmd_prepare(const struct xvf_engine_config *cfg, int argc,
                       char **argv)
{
    struct cmd_opts o = { .owner = "local" };
    struct xvf_err err = { 0 };
    struct xvf_spec spec;
    struct xvf_vf vf;
    int i;

    i = parse_cmd_opts(argc, argv, &o);
    if (i < 0 || argc - i != 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (need_local("prepare", &o))
        return EXIT_USAGE;
    if (xvf_spec_parse(argv[i], &spec, &err)) {
        fprintf(stderr, "%s: %s: %s\n", prog, argv[i], err.msg);
        return EXIT_USAGE;
    }
    if (xvf_prepare(cfg, &spec, o.owner, &vf, &err))
        return fail(argv[i], &err);
    printf("%s\n", vf.vf);
    return 0;
}

static int cmd_release(const struct xvf_engine_config *cfg, int argc,
                       char **argv)
{
    struct cmd_opts o = { 0 };
    struct xvf_err err = { 0 };
    int i, r;

    i = parse_cmd_opts(argc, argv, &o);
    if (i < 0 || argc - i != (o.owner ? 0 : 1)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (need_local("release", &o))
        return EXIT_USAGE;
    if (o.owner) {
        r = xvf_release_owner(cfg, o.owner, &err);
        if (r < 0)
            return fail(o.owner, &err);
        return 0;
    }
    r = xvf_release(cfg, argv[i], &err);
    if (r == -EINVAL) {
        fprintf(stderr, "%s: %s: %s\n", prog, argv[i], err.msg);
        return EXIT_USAGE;
    }
    if (r)
        return fail(argv[i], &err);
    return 0;
}

static int cmd_reconcile(const struct xvf_engine_config *cfg, int argc,
                         char **argv)
{
    struct cmd_opts o = { 0 };
    struct xvf_err err = { 0 };
    int i, r;

    i = parse_cmd_opts(argc, argv, &o);
    if (i < 0 || argc != i) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (need_local("reconcile", &o))
        return EXIT_USAGE;
    r = xvf_reconcile(cfg, &err);
    if (r < 0)
        return fail("reconcile", &err);
    if (verbose)
        fprintf(stderr, "%s: reconcile: %d interrupted run(s) undone\n",
                prog, r);
    return 0;
}

/* status */

struct pf_status {
    struct xvf_nvme_pf pf;
    unsigned int totalvfs, numvfs, autoprobe;
    bool have_caps;
    struct xvf_nvme_caps caps;
    struct xvf_nvme_secondary sec[XVF_NVME_MAX_SECONDARIES];
    unsigned int nsec;
    char error[XVF_ERR_MSG_MAX];
};

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void collect_pf(const char *ctrl, struct pf_status *st)
{
    char path[PATH_MAX], bdf[XVF_BDF_LEN];
    struct xvf_err err = { 0 };
    int fd = -1;

    memset(st, 0, sizeof(*st));
    if (xvf_path(path, sizeof(path), "/sys/class/nvme/%s/device", ctrl) ||
        xvf_sysfs_link_name(path, bdf, sizeof(bdf)) ||
        xvf_nvme_pf_from_bdf(bdf, &st->pf, &err) ||
        xvf_sriov_totalvfs(bdf, &st->totalvfs)) {
        st->pf.ctrl[0] = '\0';
        return;
    }
    xvf_sriov_numvfs(bdf, &st->numvfs);
    xvf_sriov_autoprobe(bdf, &st->autoprobe);
    if (!xvf_nvme_open(&st->pf, &fd, &err) &&
        !xvf_nvme_caps(fd, &st->caps, &err)) {
        st->have_caps = true;
        xvf_nvme_secondaries(fd, st->caps.cntlid, st->sec, &st->nsec, &err);
    }
    if (err.code)
        snprintf(st->error, sizeof(st->error), "%s", err.msg);
    if (fd >= 0)
        close(fd);
}

static void free_res(const struct pf_status *st, uint32_t *vq, uint32_t *vi)
{
    uint32_t uq = st->caps.vq_primary, ui = st->caps.vi_primary;
    unsigned int i;

    for (i = 0; i < st->nsec; i++) {
        uq += st->sec[i].nvq;
        ui += st->sec[i].nvi;
    }
    *vq = st->caps.vq_total > uq ? st->caps.vq_total - uq : 0;
    *vi = st->caps.vi_total > ui ? st->caps.vi_total - ui : 0;
}

static void print_pf(const struct pf_status *st, bool json, bool first)
{
    char vf[XVF_BDF_LEN], drv[64];
    uint32_t vq_free, vi_free;
    unsigned int i;

    free_res(st, &vq_free, &vi_free);
    if (json) {
        printf("%s{\"bdf\":", first ? "" : ",");
        json_str(st->pf.bdf);
        printf(",\"name\":");
        json_str(st->pf.ctrl);
        printf(",\"class\":\"nvme\",\"serial\":");
        json_str(st->pf.serial);
        printf(",\"totalvfs\":%u,\"numvfs\":%u,\"autoprobe\":%u",
               st->totalvfs, st->numvfs, st->autoprobe);
        if (st->have_caps)
            printf(",\"cntlid\":%u,\"vq\":{\"total\":%u,\"free\":%u},"
                   "\"vi\":{\"total\":%u,\"free\":%u}", st->caps.cntlid,
                   st->caps.vq_total, vq_free, st->caps.vi_total, vi_free);
        if (st->error[0]) {
            printf(",\"error\":");
            json_str(st->error);
        }
        printf(",\"secondaries\":[");
    } else {
        char desc[256];

        if (xvf_pci_describe(st->pf.bdf, desc, sizeof(desc)))
            desc[0] = '\0';
        printf("PF %s %s (%s) serial %s: VFs %u/%u, autoprobe %u\n",
               st->pf.bdf, st->pf.ctrl, desc,
               st->pf.serial[0] ? st->pf.serial : "-", st->numvfs,
               st->totalvfs, st->autoprobe);
        if (st->have_caps)
            printf("  primary 0x%x, flexible VQ %u (%u free), VI %u "
                   "(%u free)\n", st->caps.cntlid, st->caps.vq_total,
                   vq_free, st->caps.vi_total, vi_free);
        if (st->error[0])
            printf("  error: %s\n", st->error);
    }
    for (i = 0; i < st->nsec; i++) {
        const struct xvf_nvme_secondary *s = &st->sec[i];

        if (xvf_sriov_virtfn(st->pf.bdf, s->vfn, vf))
            vf[0] = '\0';
        if (!vf[0] || xvf_pci_driver(vf, drv, sizeof(drv)))
            drv[0] = '\0';
        if (json) {
            printf("%s{\"scid\":%u,\"vfn\":%u,\"state\":\"%s\","
                   "\"nvq\":%u,\"nvi\":%u,\"vf\":", i ? "," : "", s->scid,
                   s->vfn, s->online ? "online" : "offline", s->nvq,
                   s->nvi);
            if (vf[0])
                json_str(vf);
            else
                printf("null");
            printf(",\"driver\":");
            if (drv[0])
                json_str(drv);
            else
                printf("null");
            printf("}");
        } else {
            printf("  secondary 0x%x VF %u %-7s VQ %u VI %u  %s%s%s\n",
                   s->scid, s->vfn, s->online ? "online" : "offline",
                   s->nvq, s->nvi, vf[0] ? vf : "(VF not enabled)",
                   drv[0] ? " driver " : "", drv);
        }
    }
    if (json)
        printf("]}");
}

/* NIC PFs: netdevs of PCI functions with SR-IOV, their link and VFs. */
static void print_nic_vf(const char *pf, const struct xvf_nl_vf *v,
                         bool json, bool first)
{
    char vf[XVF_BDF_LEN], drv[64], mac[18];

    if (xvf_sriov_virtfn(pf, v->vf + 1, vf))
        vf[0] = '\0';
    if (!vf[0] || xvf_pci_driver(vf, drv, sizeof(drv)))
        drv[0] = '\0';
    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0],
             v->mac[1], v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
    if (json) {
        printf("%s{\"vf\":%u,\"bdf\":", first ? "" : ",", v->vf);
        if (vf[0])
            json_str(vf);
        else
            printf("null");
        printf(",\"driver\":");
        if (drv[0])
            json_str(drv);
        else
            printf("null");
        printf(",\"mac\":\"%s\",\"vlan\":%u,\"qos\":%u,\"rate\":%u,"
               "\"spoofchk\":%d,\"trust\":%d}", mac, v->vlan, v->qos,
               v->max_rate, v->spoofchk, v->trust);
        return;
    }
    printf("  VF %u %s %s%s mac %s vlan %u qos %u rate %u spoofchk %s "
           "trust %s\n", v->vf, vf[0] ? vf : "-", drv[0] ? "driver " : "",
           drv[0] ? drv : "unbound", mac, v->vlan, v->qos, v->max_rate,
           v->spoofchk < 0 ? "-" : v->spoofchk ? "on" : "off",
           v->trust < 0 ? "-" : v->trust ? "on" : "off");
}

static unsigned int print_nic_pfs(bool json, bool first)
{
    char path[PATH_MAX], bdf[XVF_BDF_LEN], phys[XVF_BDF_LEN];
    unsigned int totalvfs, numvfs = 0, autoprobe = 0, i, npf = 0;
    struct xvf_nl_link *link = NULL;
    struct xvf_nl *nl = NULL;
    struct dirent *de;
    DIR *d;
    int r;

    if (xvf_path(path, sizeof(path), "/sys/class/net") ||
        !(d = opendir(path)))
        return 0;
    link = malloc(sizeof(*link));
    while (link && (de = readdir(d))) {
        if (de->d_name[0] == '.' ||
            xvf_path(path, sizeof(path), "/sys/class/net/%s/device",
                     de->d_name) ||
            xvf_sysfs_link_name(path, bdf, sizeof(bdf)) ||
            !xvf_pci_physfn(bdf, phys) ||
            xvf_sriov_totalvfs(bdf, &totalvfs))
            continue;
        xvf_sriov_numvfs(bdf, &numvfs);
        xvf_sriov_autoprobe(bdf, &autoprobe);
        if (!nl && xvf_nl_open(&nl))
            nl = NULL;
        r = nl ? xvf_nl_get_link(nl, de->d_name, 0, link) : -ENOTCONN;
        if (json) {
            printf("%s{\"bdf\":", first && !npf ? "" : ",");
            json_str(bdf);
            printf(",\"name\":");
            json_str(de->d_name);
            printf(",\"class\":\"net\",\"totalvfs\":%u,\"numvfs\":%u,"
                   "\"autoprobe\":%u", totalvfs, numvfs, autoprobe);
            if (!r)
                printf(",\"up\":%s,\"running\":%s",
                       link->flags & IFF_UP ? "true" : "false",
                       link->flags & IFF_RUNNING ? "true" : "false");
            else
                printf(",\"error\":\"rtnetlink: %s\"", strerror(-r));
            printf(",\"vfs\":[");
        } else {
            printf("NIC PF %s %s: %s, VFs %u/%u, autoprobe %u\n", bdf,
                   de->d_name, r ? strerror(-r) :
                   !(link->flags & IFF_UP) ? "down" :
                   link->flags & IFF_RUNNING ? "up" : "up, no carrier",
                   numvfs, totalvfs, autoprobe);
        }
        for (i = 0; !r && i < link->nvfs; i++)
            print_nic_vf(bdf, &link->vfs[i], json, !i);
        if (json)
            printf("]}");
        npf++;
    }
    closedir(d);
    free(link);
    xvf_nl_close(nl);
    return npf;
}

/* NIC settings of the engine from the environment (xen-vfd has a file). */
/* The last step a NIC entry began: how far a slow prepare has got. */
static const char *nic_step(const struct xvf_entry *e)
{
    if (e->state == XVF_ENTRY_READY)
        return NULL;
    return e->steps & XVF_STEP_BIND ? "bind" :
           e->steps & XVF_STEP_VFCONFIG ? "VF settings" :
           e->steps & XVF_STEP_NUMVFS ? "sriov_numvfs" : NULL;
}

static int cmd_status(const struct xvf_engine_config *cfg, int argc,
                      char **argv)
{
    struct cmd_opts o = { 0 };
    struct xvf_entry *list = NULL;
    struct pf_status *st;
    char path[PATH_MAX];
    struct dirent *de;
    unsigned int i, n = 0, npf = 0;
    DIR *d;
    int r;

    i = parse_cmd_opts(argc, argv, &o);
    if ((int)i < 0 || argc != (int)i) {
        usage(stderr);
        return EXIT_USAGE;
    }
    st = malloc(sizeof(*st));
    if (!st)
        return EXIT_REFUSED;
    if (o.json)
        printf("{\"pfs\":[");
    if (!xvf_path(path, sizeof(path), "/sys/class/nvme") &&
        (d = opendir(path))) {
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            collect_pf(de->d_name, st);
            if (!st->pf.ctrl[0])
                continue;
            print_pf(st, o.json, !npf++);
        }
        closedir(d);
    }
    free(st);
    npf += print_nic_pfs(o.json, !npf);
    if (!npf && !o.json)
        printf("no physical function with SR-IOV\n");

    r = xvf_journal_list(cfg->state_dir, NULL, &list, &n);
    if (o.json) {
        printf("],\"journal\":[");
        for (i = 0; !r && i < n; i++) {
            printf("%s{\"spec\":", i ? "," : "");
            json_str(list[i].spec);
            printf(",\"owner\":");
            json_str(list[i].owner);
            printf(",\"pf\":\"%s\",\"vf\":\"%s\",\"scid\":%u,\"nsid\":%u,"
                   "\"state\":\"%s\",\"class\":\"%s\",\"vfn\":%u,"
                   "\"steps\":%u}", list[i].pf, list[i].vf,
                   list[i].scid, list[i].nsid,
                   xvf_entry_state_name(list[i].state),
                   list[i].cls == XVF_CLASS_NET ? "net" : "nvme",
                   list[i].vfn, list[i].steps);
        }
        printf("]}\n");
    } else {
        printf("journal (%s): %u entr%s\n", cfg->state_dir, r ? 0 : n,
               n == 1 ? "y" : "ies");
        for (i = 0; !r && i < n; i++) {
            if (list[i].cls == XVF_CLASS_NET)
                printf("  %s for %s: VF %s (VF %u of %s), %s%s%s\n",
                       list[i].spec, list[i].owner,
                       list[i].vf[0] ? list[i].vf : "-", list[i].vfn - 1,
                       list[i].pf, xvf_entry_state_name(list[i].state),
                       nic_step(&list[i]) ? ", at step " : "",
                       nic_step(&list[i]) ? nic_step(&list[i]) : "");
            else
                printf("  %s for %s: VF %s secondary 0x%x ns %u, %s\n",
                       list[i].spec, list[i].owner, list[i].vf,
                       list[i].scid, list[i].nsid,
                       xvf_entry_state_name(list[i].state));
        }
    }
    free(list);
    if (r) {
        fprintf(stderr, "%s: cannot read journal in %s: %s\n", prog,
                cfg->state_dir, strerror(-r));
        return EXIT_REFUSED;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "state-dir", required_argument, NULL, 's' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct xvf_engine_config cfg = {
        .step_cb = print_step,
        .bind_timeout_ms = 10000,
    };
    const char *cmd;
    int c;

    cfg.state_dir = XVF_STATE_DIR;
    xvf_engine_config_from_env(&cfg);
    while ((c = getopt_long(argc, argv, "+s:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            cfg.state_dir = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    cmd = argv[optind];
    argc -= optind;
    argv += optind;
    if (!strcmp(cmd, "prepare"))
        return cmd_prepare(&cfg, argc, argv);
    if (!strcmp(cmd, "release"))
        return cmd_release(&cfg, argc, argv);
    if (!strcmp(cmd, "reconcile"))
        return cmd_reconcile(&cfg, argc, argv);
    if (!strcmp(cmd, "status"))
        return cmd_status(&cfg, argc, argv);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc, argv);
    if (!strcmp(cmd, "nvme-layout"))
        return cmd_nvme_layout(&cfg, argc, argv);
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage(stderr);
    return EXIT_USAGE;
}
