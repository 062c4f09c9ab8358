/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-vfctl nvme-layout - the vendor guide's one-time namespace setup from
 * a declared layout; a dry run unless --apply
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layout/layout.h"
#include "spec/spec.h"
#include "util/str.h"
#include "vfctl.h"

#define RESCAN_MS 10000
#define FILE_MAX (1024 * 1024)

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: xen-vfctl nvme-layout CONTROLLER [LAYOUT | --file FILE] [--apply]\n"
        "                 [--destroy-ns N]... [--trust-oacs]\n"
        "                 [--save-dump FILE]\n"
        "       xen-vfctl nvme-layout --from-dump FILE [LAYOUT | --file FILE]\n"
        "       xen-vfctl nvme-layout CONTROLLER --release-primary [--apply]\n"
        "\n"
        "Shows the namespaces of CONTROLLER (nvme0, a PCI address or\n"
        "serial:SN) and the plan to reach LAYOUT, e.g.\n"
        "  'ns1: 50%%, attach=primary; ns2: 512MiB, "
        "attach=secondary:auto'\n"
        "Nothing changes without --apply; a namespace that may hold data\n"
        "is deleted only when --destroy-ns names it. --release-primary\n"
        "gives back the flexible resources the primary controller holds\n"
        "(action 1 and a controller reset, once). See "
        "xen-vf-layout(5).\n");
}

static int read_file(const char *path, char **ret)
{
    char *buf;
    ssize_t n, got = 0;
    int fd, r = 0;

    fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    if (fd < 0)
        return -errno;
    buf = malloc(FILE_MAX + 1);
    if (!buf) {
        r = -ENOMEM;
        goto out;
    }
    while (got < FILE_MAX && (n = read(fd, buf + got, FILE_MAX - got)) > 0)
        got += n;
    if (n < 0)
        r = -errno;
    else if (got == FILE_MAX)
        r = -EFBIG;
    buf[got] = '\0';
out:
    if (fd > 0)
        close(fd);
    if (r)
        free(buf);
    else
        *ret = buf;
    return r;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "we") : stdout;
    int r = 0;

    if (!f)
        return -errno;
    if (fputs(text, f) < 0)
        r = -EIO;
    if (f != stdout && fclose(f) && !r)
        r = -errno;
    return r;
}

/* nvme0, [DDDD:]BB:DD.F or serial:SN, as in a vf: spec's target */
static int resolve(const char *name, struct xvf_nvme_pf *pf,
                   struct xvf_err *err)
{
    struct xvf_spec spec;
    char bdf[XVF_BDF_LEN];

    memset(&spec, 0, sizeof(spec));
    spec.cls = XVF_CLASS_NVME;
    if (!strncmp(name, "serial:", 7)) {
        spec.kind = XVF_TARGET_SERIAL;
        name += 7;
    } else if (!xvf_parse_bdf(name, bdf)) {
        spec.kind = XVF_TARGET_PCI;
        name = bdf;
    } else {
        spec.kind = XVF_TARGET_NVME_NAME;
    }
    if (!*name || strlen(name) >= sizeof(spec.target))
        return xvf_err_set(err, -EINVAL, "bad controller name");
    strcpy(spec.target, name);
    return xvf_nvme_resolve(&spec, pf, err);
}

static const char *attached_str(const struct xvf_layout_state *st,
                                const struct xvf_layout_ns *ns, char *buf,
                                size_t len)
{
    unsigned int i, n = 0;

    if (!ns->natt)
        return "attached to nothing";
    n = snprintf(buf, len, "attached to ");
    for (i = 0; i < ns->natt && n < len; i++) {
        uint16_t id = ns->att[i];
        unsigned int j;

        if (id == st->cntlid) {
            n += snprintf(buf + n, len - n, "%sprimary 0x%x", i ? ", " : "",
                          id);
            continue;
        }
        for (j = 0; j < st->nsec && st->sec[j].scid != id; j++)
            ;
        if (j < st->nsec)
            n += snprintf(buf + n, len - n, "%ssecondary 0x%x (VF %u)",
                          i ? ", " : "", id, st->sec[j].vfn);
        else
            n += snprintf(buf + n, len - n, "%scontroller 0x%x",
                          i ? ", " : "", id);
    }
    return buf;
}

static void print_state(const struct xvf_layout_state *st)
{
    char a[48], b[48], att[256];
    unsigned int i;

    printf("%s: %s, %s, serial %s; primary controller 0x%x\n", st->ctrl,
           st->bdf[0] ? st->bdf : "-", st->model[0] ? st->model : "-",
           st->serial[0] ? st->serial : "-", st->cntlid);
    if (st->tnvmcap) {
        xvf_layout_size_str(st->tnvmcap, a, sizeof(a));
        xvf_layout_size_str(st->unvmcap, b, sizeof(b));
        printf("  capacity:       %s, %s unallocated\n", a, b);
    } else {
        printf("  capacity:       not reported (TNVMCAP 0)\n");
    }
    printf("  ns management:  %s\n", xvf_layout_nsmgmt_str(st));
    if (st->nszeg || st->ncapg) {
        xvf_layout_size_str(st->nszeg, a, sizeof(a));
        xvf_layout_size_str(st->ncapg, b, sizeof(b));
        printf("  granularity:    size %s, capacity %s\n", a, b);
    } else {
        printf("  granularity:    not reported (sizes are rounded to the "
               "block size)\n");
    }
    printf("  LBA formats:   ");
    for (i = 0; i < st->nlbaf; i++) {
        printf(" %u: %u B", i, 1u << st->lbaf[i].lbads);
        if (st->lbaf[i].ms)
            printf("+%u", st->lbaf[i].ms);
        printf("%s", i + 1 < st->nlbaf ? "," : "");
    }
    printf("%s\n", !st->nlbaf ? " unknown" :
           !strcmp(st->lbaf_from, "common") ? " (Identify Namespace "
           "FFFFFFFFh)" : "");
    printf("  secondaries:   ");
    for (i = 0; i < st->nsec; i++) {
        const struct xvf_layout_sec *s = &st->sec[i];

        printf("%s 0x%x (VF %u, %s%s%s%s%s)", i ? "," : "", s->scid, s->vfn,
               s->online ? "online" : "offline", s->driver[0] ? ", " : "",
               s->driver, s->held[0] ? ", held by " : "", s->held);
    }
    printf("%s\n", st->nsec ? "" : " none");
    printf("  namespaces:     %u\n", st->nns);
    for (i = 0; i < st->nns; i++) {
        const struct xvf_layout_ns *ns = &st->ns[i];
        const struct xvf_layout_use *u = &ns->use;

        xvf_layout_size_str(xvf_layout_ns_bytes(ns), a, sizeof(a));
        printf("    ns%-3u %-10s %" PRIu64 " x %u B%s, format %u, %s\n",
               ns->nsid, a, ns->nsze, 1u << ns->lbads, ns->ms ? "+md" : "",
               ns->flbas, attached_str(st, ns, att, sizeof(att)));
        printf("          ");
        if (u->blockdev[0]) {
            printf("here: %s", u->blockdev);
            if (u->mounts[0])
                printf(", mounted on %s", u->mounts);
            if (u->swap)
                printf(", swap");
            if (u->holders[0])
                printf(", held by %s", u->holders);
            if (u->openers[0])
                printf(", open in %s", u->openers);
            if (u->claimed)
                printf(", claimed");
            printf("; ");
        } else {
            printf("not visible here; ");
        }
        if (ns->held[0])
            printf("held by xen-vf (%s); ", ns->held);
        printf("data: %s\n", xvf_layout_data_str(u->data));
    }
}

static void print_notes(const struct xvf_layout_plan *p,
                        enum xvf_layout_note_kind kind, const char *title)
{
    unsigned int i;
    bool first = true;

    for (i = 0; i < p->nnotes; i++) {
        if (p->notes[i].kind != kind)
            continue;
        if (first)
            printf("%s\n", title);
        first = false;
        printf("  - %s\n", p->notes[i].text);
    }
}

static void print_plan(const struct xvf_layout *l,
                       const struct xvf_layout_plan *p)
{
    char text[XVF_LAYOUT_TEXT_MAX];
    unsigned int i;

    xvf_layout_format(l, text, sizeof(text));
    printf("\nlayout: %s\n", text);
    print_notes(p, XVF_LNOTE_INFO, "notes:");
    print_notes(p, XVF_LNOTE_SKIP, "cannot be done on this controller "
                "(the rest of the plan still runs):");
    print_notes(p, XVF_LNOTE_REFUSE, "refused (nothing runs until these "
                "are resolved):");
    if (!p->nops) {
        printf("plan: no command\n");
        return;
    }
    printf("plan: %u command%s\n", p->nops, p->nops == 1 ? "" : "s");
    for (i = 0; i < p->nops; i++)
        printf("  %2u. %s\n", i + 1, p->ops[i].what);
}

static void print_step(void *opaque, unsigned int n,
                       const struct xvf_layout_op *op)
{
    printf("[%u] %s\n", n, op->what);
    fflush(stdout);
}

/* N or nsN, as in a vf: spec's /nsN */
static int parse_nsid(const char *s, uint32_t *ret)
{
    unsigned long v;

    if (!strncasecmp(s, "ns", 2))
        s += 2;
    if (xvf_parse_ulong(s, 0xfffffffeUL, &v) || !v)
        return -EINVAL;
    *ret = v;
    return 0;
}

struct opts {
    const char *ctrl, *layout, *file, *from_dump, *save_dump;
    bool apply, release_primary;
    struct xvf_layout_opts lo;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        { "file", required_argument, NULL, 'f' },
        { "apply", no_argument, NULL, 'a' },
        { "destroy-ns", required_argument, NULL, 'd' },
        { "from-dump", required_argument, NULL, 'D' },
        { "save-dump", required_argument, NULL, 'S' },
        { "trust-oacs", no_argument, NULL, 'T' },
        { "release-primary", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *pos[2];
    unsigned int npos = 0;
    uint32_t nsid;
    int c;

    optind = 0;     /* re-initialise: main() parsed in "+" mode */
    while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->file = optarg;
            break;
        case 'a':
            o->apply = true;
            break;
        case 'd':
            if (parse_nsid(optarg, &nsid) ||
                o->lo.ndestroy >= XVF_LAYOUT_MAX_NS) {
                vfctl_msg("--destroy-ns %s: want a namespace id", optarg);
                return -1;
            }
            o->lo.destroy[o->lo.ndestroy++] = nsid;
            break;
        case 'D':
            o->from_dump = optarg;
            break;
        case 'S':
            o->save_dump = optarg;
            break;
        case 'T':
            o->lo.trust_oacs = true;
            break;
        case 'R':
            o->release_primary = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    while (optind < argc) {
        if (npos >= 2)
            return -1;
        pos[npos++] = argv[optind++];
    }
    if (o->from_dump) {
        if (npos > 1 || o->apply || o->save_dump)
            return -1;
        o->layout = npos ? pos[0] : NULL;
    } else {
        if (!npos)
            return -1;
        o->ctrl = pos[0];
        o->layout = npos > 1 ? pos[1] : NULL;
    }
    if (o->layout && o->file)
        return -1;
    if (o->release_primary)
        return o->from_dump || o->layout || o->file || o->save_dump ||
               o->lo.ndestroy ? -1 : 0;
    if (o->apply && !o->layout && !o->file)
        return -1;
    return 0;
}

static void print_line(void *opaque, const char *line)
{
    (void)opaque;
    printf("  %s\n", line);
    fflush(stdout);
}

/* --release-primary: the one-time step, a dry run unless --apply */
static int release_primary(const struct xvf_engine_config *cfg,
                           const struct opts *o)
{
    struct xvf_primary_held held;
    struct xvf_err err = { 0 };
    struct xvf_nvme_pf pf;
    int r;

    if (resolve(o->ctrl, &pf, &err))
        return vfctl_fail(VFCTL_EXIT_REFUSED, o->ctrl, &err);
    if (o->apply)
        printf("applying:\n");
    r = xvf_layout_release_primary(&pf, cfg->state_dir, o->apply,
                                   print_line, NULL, &held, &err);
    if (r)
        return vfctl_fail(VFCTL_EXIT_REFUSED, pf.ctrl, &err);
    printf("%s: the primary controller holds %u of %u flexible VQ (VQRFAP) "
           "and %u of %u VI (VIRFAP)\n", pf.ctrl, held.vq, held.vq_total,
           held.vi, held.vi_total);
    if (held.released)
        printf("done: released for the secondary controllers\n");
    else if (held.vq || held.vi)
        printf("dry run: nothing was changed; add --apply to release them "
               "(Virtualization Management action 1 and a controller "
               "reset)\n");
    else
        printf("nothing to release\n");
    return 0;
}

int cmd_nvme_layout(const struct xvf_engine_config *cfg, int argc,
                    char **argv)
{
    struct xvf_layout_state *st = NULL;
    struct xvf_layout_result *res = NULL;
    struct xvf_layout_plan *plan = NULL;
    struct xvf_err err = { 0 };
    struct xvf_layout l;
    struct xvf_nvme_pf pf;
    struct opts o;
    char *text = NULL, *dump = NULL;
    bool have_layout;
    int rc, r;

    memset(&o, 0, sizeof(o));
    if (parse_opts(argc, argv, &o)) {
        usage(stderr);
        return VFCTL_EXIT_USAGE;
    }
    if (o.release_primary)
        return release_primary(cfg, &o);
    have_layout = o.layout || o.file;
    if (o.file) {
        r = read_file(o.file, &text);
        if (r) {
            vfctl_msg("%s: %s", o.file, strerror(-r));
            return VFCTL_EXIT_USAGE;
        }
    }
    if (have_layout &&
        xvf_layout_parse(o.file ? text : o.layout, &l, &err)) {
        free(text);
        return vfctl_fail(VFCTL_EXIT_USAGE, "layout", &err);
    }
    free(text);
    text = NULL;
    st = malloc(sizeof(*st));
    plan = malloc(sizeof(*plan));
    res = malloc(sizeof(*res));
    if (!st || !plan || !res) {
        vfctl_msg("out of memory");
        rc = VFCTL_EXIT_REFUSED;
        goto out;
    }
    if (o.from_dump) {
        r = read_file(o.from_dump, &text);
        if (!r)
            r = xvf_layout_undump(text, st, &err);
        else
            xvf_err_set(&err, r, "%s", strerror(-r));
        if (r) {
            rc = vfctl_fail(VFCTL_EXIT_USAGE, o.from_dump, &err);
            goto out;
        }
    } else {
        if (resolve(o.ctrl, &pf, &err) ||
            xvf_layout_read(&pf, cfg->state_dir, st, &err)) {
            rc = vfctl_fail(VFCTL_EXIT_REFUSED, o.ctrl, &err);
            goto out;
        }
    }
    if (o.save_dump) {
        dump = xvf_layout_dump(st);
        r = dump ? write_file(o.save_dump, dump) : -ENOMEM;
        if (r) {
            vfctl_msg("%s: %s", o.save_dump, strerror(-r));
            rc = VFCTL_EXIT_REFUSED;
            goto out;
        }
        if (!strcmp(o.save_dump, "-") && !have_layout) {
            rc = 0;
            goto out;
        }
    }
    print_state(st);
    if (!have_layout) {
        rc = 0;
        goto out;
    }
    if (xvf_layout_plan(st, &l, &o.lo, plan, &err)) {
        rc = vfctl_fail(VFCTL_EXIT_USAGE, "layout", &err);
        goto out;
    }
    print_plan(&l, plan);
    if (plan->refused) {
        for (r = 0; r < (int)plan->nnotes; r++)
            if (plan->notes[r].kind == XVF_LNOTE_REFUSE)
                vfctl_msg("%s: refused: %s", st->ctrl, plan->notes[r].text);
        rc = VFCTL_EXIT_REFUSED;
        goto out;
    }
    if (!o.apply) {
        if (o.from_dump)
            printf("checked against %s: nothing was changed\n",
                   o.from_dump);
        else if (plan->nops)
            printf("dry run: nothing was changed; add --apply to run the "
                   "plan\n");
        rc = plan->skipped ? VFCTL_EXIT_PARTIAL : 0;
        goto out;
    }
    if (!plan->nops && !plan->skipped) {
        rc = 0;
        goto out;
    }
    printf("\napplying:\n");
    fflush(stdout);
    o.lo.lock_timeout_ms = cfg->lock_timeout_ms;
    r = xvf_layout_apply(&pf, cfg->state_dir, &l, &o.lo, RESCAN_MS,
                         print_step, NULL, res, &err);
    if (res->nsmgmt_fake)
        printf("%s answered Namespace Management with Invalid Command "
               "Opcode although OACS advertises it: only the attach part "
               "of the plan ran\n", pf.ctrl);
    if (res->rescanned)
        printf("asked the kernel to rescan the namespaces of %s\n",
               pf.ctrl);
    if (res->reset_needed)
        printf("a controller reset or a reboot is needed: %s (a reset "
               "interrupts I/O on every namespace of %s)\n",
               res->reset_why, pf.ctrl);
    if (r < 0) {
        vfctl_fail(VFCTL_EXIT_REFUSED, pf.ctrl, &err);
        if (res->done)
            vfctl_msg("%u command%s ran; run the same command again to "
                      "continue from there", res->done,
                      res->done == 1 ? "" : "s");
        rc = VFCTL_EXIT_REFUSED;
        goto out;
    }
    if (r == 1) {
        print_notes(&res->plan, XVF_LNOTE_SKIP, "not done:");
        printf("done in part: %s has the layout's attachments, not all of "
               "its namespaces\n", pf.ctrl);
        rc = VFCTL_EXIT_PARTIAL;
        goto out;
    }
    printf("done: %s has the layout\n", pf.ctrl);
    rc = res->reset_needed ? VFCTL_EXIT_REFUSED : 0;
out:
    free(text);
    free(dump);
    free(st);
    free(plan);
    free(res);
    return rc;
}
