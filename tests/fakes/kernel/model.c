/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * model.c - the NVMe SR-IOV controller model: its configuration language
 * and saved state (parse, format), the presets, lookups, and the locked
 * session on a fake root (open, save, close, log).
 * One file: the text form and the model struct are one definition (the
 * key table drives both parse and format).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define UNSET UINT_MAX

enum key_type { K_STR, K_UINT };

struct key {
    const char *name;
    enum key_type type;
    size_t off;
    size_t size;
    bool model;                 /* saved in the state file */
};

#define KS(n, f) { n, K_STR, offsetof(struct xm_pf, f), \
                   sizeof(((struct xm_pf *)0)->f), true }
#define KU(n, f) { n, K_UINT, offsetof(struct xm_pf, f), 0, true }
#define KB(n, f) { n, K_UINT, offsetof(struct xm_pf, f), 0, false }

static const struct key pf_keys[] = {
    KS("bdf", bdf), KS("name", name), KU("cntlid", cntlid),
    KS("sn", sn), KS("mn", mn), KS("fr", fr), KS("subnqn", subnqn),
    KU("vendor", vendor), KU("device", device), KU("vf_device", vf_device),
    KU("class", class_code), KU("oacs", oacs), KU("nn", nn),
    KU("sriov", sriov), KU("totalvfs", totalvfs), KU("offset", offset),
    KU("stride", stride), KU("vqfrt", vqfrt), KU("vifrt", vifrt),
    KU("vqprt", vqprt), KU("viprt", viprt), KU("vqfrsm", vqfrsm),
    KU("vifrsm", vifrsm), KU("vqrfap", vqrfap), KU("virfap", virfap),
    KU("vqrfap_next", vqrfap_next), KU("virfap_next", virfap_next),
    KU("nsmgmt", nsmgmt), KU("online_needs_vf", online_needs_vf),
    KU("online_novf_sc", online_novf_sc), KU("online_ignored", online_ignored),
    KU("rdy_ms", rdy_ms), KU("resets", resets),
    KU("irq", irq), KU("irq_lost", irq_lost), KU("irq_lost_vfs", irq_lost_vfs),
    KS("vf_probe", vf_probe), KU("vf_probe_ms", vf_probe_ms),
    KU("capmib", capmib), KU("gran_kib", gran_kib), KU("thin", thin),
    KU("aen", aen), KU("rescan", rescan), KU("effects", effects),
    KS("lbafs", lbafs),
    /* saved too: they keep a reload from generating secondaries */
    KU("secondaries", b_secondaries), KU("scid", b_scid),
    KB("autoprobe", b_autoprobe), KB("numvfs", b_numvfs),
    KB("bound", b_bound),
    /* NIC PFs */
    KU("nic", nic), KS("pf_driver", pf_driver), KS("vf_driver", vf_driver),
    KS("mac", mac), KU("ifindex", ifindex), KU("ifup", ifup),
    KU("carrier", carrier), KU("relink", relink), KU("vf_trust", vf_trust),
    KU("vf_rate", vf_rate), KU("speed", speed),
    KU("vf_zero_mac", vf_zero_mac), KU("vf_rate_speed", vf_rate_speed),
    KS("vf_ignore", vf_ignore),
};

static const char preset_qemu[] =
    "# QEMU 10: -device nvme,serial=deadbeef,subsys=subsys0,"
    "max_ioqpairs=16,\n"
    "#   msix_qsize=17,sriov_max_vfs=2,sriov_vq_flexible=8,"
    "sriov_vi_flexible=4\n"
    "pf bdf=0000:01:00.0 name=nvme0 cntlid=0 sn=deadbeef "
    "mn=\"QEMU NVMe Ctrl\" fr=10.0.2\n"
    "   subnqn=nqn.2019-08.org.qemu:subsys0 vendor=0x1b36 device=0x0010\n"
    "   oacs=0x1aa nn=256 totalvfs=2 offset=1 stride=1 secondaries=2 "
    "scid=1\n"
    "   vqfrt=8 vifrt=4 vqprt=9 viprt=13 vqfrsm=4 vifrsm=2 nsmgmt=0\n"
    "ns nsid=1 nsze=1048576 att=0\n"
    "ns nsid=2 nsze=1048576\n";

static const char preset_board[] =
    "# The guide's Samsung SSD (seed-sriov-guide.md): primary 0x41, SCID 1\n"
    "# on VF 01:00.2; resource numbers invented\n"
    "pf bdf=0000:01:00.0 name=nvme0 cntlid=0x41 sn=S5XXNE0R700123\n"
    "   mn=\"SAMSUNG MZWLJ1T9HBJR-00007\" fr=EPK9AB5Q\n"
    "   subnqn=nqn.1994-11.com.samsung:nvme:PM1733:2.5-inch:S5XXNE0R700123\n"
    "   vendor=0x144d device=0xa824 oacs=0xde nn=32 totalvfs=32 offset=2\n"
    "   stride=1 secondaries=32 scid=1 vqfrt=128 vifrt=128 vqprt=64\n"
    "   viprt=64 vqfrsm=8 vifrsm=8 nsmgmt=1\n"
    "ns nsid=1 nsze=1048576 att=0x41\n"
    "ns nsid=2 nsze=1048576 att=1\n";

/*
 * Device profiles: the controller every "qemu"-based preset starts from.
 * PM173x (reference/real-devices.md 1-3, 7): primary 0x41, 32
 * secondaries, INVALID_CTRL_ID (0x11f) to an online before the VF is
 * enabled, CSTS.RDY slow to come (scaled down: 150 ms), and at power-on
 * the primary holds the flexible resources (VQRFAP/VIRFAP); "pm173x" is
 * that power-on state, the profile is the drive after nvme-layout's
 * one-time release. Pool sizes are invented, as small as QEMU's so the
 * shared suite's exhaustion case holds. "noflexvi": no flexible VI
 * resources (VIFRT = 0), the secondaries' interrupts are their own.
 */
#define PM173X_PF(held) \
    "# Samsung PM173x (144d:a824); resource numbers invented\n" \
    "pf bdf=0000:01:00.0 name=nvme0 cntlid=0x41 sn=S6CRNA0R900042\n" \
    "   mn=\"SAMSUNG MZWLJ3T8HBLS-00007\" fr=EPK9GB5Q\n" \
    "   subnqn=nqn.1994-11.com.samsung:nvme:PM1733:2.5-inch:S6CRNA0R900042\n" \
    "   vendor=0x144d device=0xa824 vf_device=0xa824 oacs=0x1de nn=32\n" \
    "   totalvfs=32 offset=1 stride=1 secondaries=32 scid=1 vqfrt=8\n" \
    "   vifrt=4 vqprt=64 viprt=64 vqfrsm=4 vifrsm=2 nsmgmt=1\n" \
    "   online_novf_sc=0x11f rdy_ms=150 " held "\n" \
    "ns nsid=1 nsze=1048576 att=0x41\n" \
    "ns nsid=2 nsze=1048576\n"

static const char preset_pm173x[] = PM173X_PF("vqrfap=8 virfap=4");
static const char profile_pm173x[] = PM173X_PF("vqrfap=0 virfap=0");

static const char profile_noflexvi[] =
    "# a controller without flexible VI resources (VIFRT = 0)\n"
    "pf bdf=0000:01:00.0 name=nvme0 cntlid=0 sn=noflexvi01\n"
    "   mn=\"NOFLEXVI NVMe Ctrl\" fr=1.0\n"
    "   subnqn=nqn.2019-08.org.example:noflexvi vendor=0x1b36 device=0x0010\n"
    "   oacs=0x1aa nn=256 totalvfs=2 offset=1 stride=1 secondaries=2 "
    "scid=1\n"
    "   vqfrt=8 vifrt=0 vqprt=9 viprt=13 vqfrsm=4 vifrsm=0 nsmgmt=0\n"
    "ns nsid=1 nsze=1048576 att=0\n"
    "ns nsid=2 nsze=1048576\n";

static const char preset_mixed_tail[] =
    "# a PF without SR-IOV\n"
    "pf bdf=0000:02:00.0 name=nvme1 sn=nosriov01 sriov=0\n"
    "   subnqn=nqn.2019-08.org.qemu:nosriov\n"
    "ns nsid=1 nsze=1048576 att=0\n"
    "# VF 2 of nvme0 in use outside xen-vf, as nvme2 at 0000:01:00.2\n"
    "up pf=0000:01:00.0 vfn=2 driver=nvme nvq=2 nvi=1\n";

static const char preset_igb_tail[] =
    "# QEMU 10: -device igb (82576) on a root port: eth0, 7 VFs at 02:10.x\n"
    "drivers nvme,pciback,pci-stub,igb,igbvf\n"
    "nic bdf=0000:02:00.0 name=eth0\n";

/* the profile's text, or NULL for an unknown $XVF_MOCK_PROFILE */
static const char *profile_text(void)
{
    const char *p = xvf_mock_profile();

    if (!strcmp(p, "qemu"))
        return preset_qemu;
    if (!strcmp(p, "pm173x"))
        return profile_pm173x;
    if (!strcmp(p, "noflexvi"))
        return profile_noflexvi;
    return NULL;
}

const char *xm_preset_text(const char *name)
{
    static char mixed[sizeof(preset_pm173x) + sizeof(preset_mixed_tail)];
    static char igb[sizeof(preset_pm173x) + sizeof(preset_igb_tail)];
    const char *base = profile_text();

    if (!base)
        return NULL;
    if (!name || !strcmp(name, "qemu"))
        return base;
    if (!strcmp(name, "board"))
        return preset_board;
    if (!strcmp(name, "pm173x"))
        return preset_pm173x;
    if (!strcmp(name, "noflexvi"))
        return profile_noflexvi;
    if (!strcmp(name, "mixed")) {
        snprintf(mixed, sizeof(mixed), "%s%s", base, preset_mixed_tail);
        return mixed;
    }
    if (!strcmp(name, "igb")) {
        snprintf(igb, sizeof(igb), "%s%s", base, preset_igb_tail);
        return igb;
    }
    return NULL;
}

/* Splits "key=value" tokens; value may be "double quoted". */
static char *next_token(char **p, char **key, char **val)
{
    char *s = *p, *start, *eq, *out;

    while (*s && isspace((unsigned char)*s))
        s++;
    if (!*s)
        return NULL;
    start = s;
    eq = NULL;
    out = s;
    while (*s && !isspace((unsigned char)*s)) {
        if (*s == '=' && !eq) {
            *out++ = '\0';
            eq = out;
            s++;
            if (*s == '"') {
                s++;
                while (*s && *s != '"')
                    *out++ = *s++;
                if (*s == '"')
                    s++;
            }
            continue;
        }
        *out++ = *s++;
    }
    if (*s)
        s++;
    *out = '\0';
    *p = s;
    *key = start;
    *val = eq;
    return start;
}

static int parse_uint(const char *s, unsigned int *ret)
{
    char *end;
    unsigned long v;

    if (!s || !*s)
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 0);
    if (errno || *end || v > UINT_MAX - 1)
        return -EINVAL;
    *ret = v;
    return 0;
}

static int set_pf_key(struct xm_pf *pf, const char *k, const char *v)
{
    const struct key *key = NULL;
    unsigned int i;

    for (i = 0; i < sizeof(pf_keys) / sizeof(pf_keys[0]); i++)
        if (!strcmp(pf_keys[i].name, k))
            key = &pf_keys[i];
    if (!key || !v)
        return -EINVAL;
    if (key->type == K_STR) {
        if (strlen(v) >= key->size)
            return -EINVAL;
        strcpy((char *)pf + key->off, v);
        return 0;
    }
    return parse_uint(v, (unsigned int *)((char *)pf + key->off));
}

static bool vf_probe_ok(const struct xm_pf *pf)
{
    return !strcmp(pf->vf_probe, "sync") || !strcmp(pf->vf_probe, "late") ||
           !strcmp(pf->vf_probe, "fail") || !strcmp(pf->vf_probe, "hang");
}

int xm_pf_set(struct xm_pf *pf, const char *settings)
{
    char *buf = strdup(settings), *rest = buf, *k, *v;
    int r = 0;

    if (!buf)
        return -ENOMEM;
    while (!r && next_token(&rest, &k, &v))
        r = strcmp(k, "bdf") ? set_pf_key(pf, k, v) : -EINVAL;
    free(buf);
    return r ? r : (vf_probe_ok(pf) ? 0 : -EINVAL);
}

void xm_nvf_reset(struct xm_nvf *v)
{
    memset(v, 0, sizeof(*v));
    v->spoofchk = 1;
}

static void pf_init(struct xm_pf *pf)
{
    unsigned int i;

    memset(pf, 0, sizeof(*pf));
    for (i = 0; i < sizeof(pf_keys) / sizeof(pf_keys[0]); i++)
        if (pf_keys[i].type == K_UINT)
            *(unsigned int *)((char *)pf + pf_keys[i].off) = UNSET;
    for (i = 0; i < XM_MAX_NVF; i++)
        xm_nvf_reset(&pf->nvf[i]);
}

#define DEF(f, v) do { if (pf->f == UNSET) pf->f = (v); } while (0)

static int pf_finish(struct xm_model *m, struct xm_pf *pf)
{
    unsigned int idx = pf - m->pf, i, a, b, c, d;

    if (sscanf(pf->bdf, "%x:%x:%x.%x", &a, &b, &c, &d) != 4 ||
        strlen(pf->bdf) != 12 || b > 0xff || c > 0x1f || d > 7)
        return -EINVAL;
    DEF(nic, 0);
    pf->nic = !!pf->nic;
    if (pf->nic) {
        /* QEMU's igb: 82576 PF, VFs at offset 0x80 stride 2 */
        if (!pf->name[0])
            snprintf(pf->name, sizeof(pf->name), "eth%u", idx);
        DEF(vendor, 0x8086);
        DEF(device, 0x10c9);
        DEF(vf_device, 0x10ca);
        DEF(class_code, 0x020000);
        DEF(totalvfs, 7);
        DEF(offset, 0x80);
        DEF(stride, 2);
        DEF(oacs, 0);
        DEF(b_secondaries, 0);
        if (!pf->pf_driver[0])
            strcpy(pf->pf_driver, "igb");
        if (!pf->vf_driver[0])
            strcpy(pf->vf_driver, "igbvf");
        if (!pf->mac[0])
            snprintf(pf->mac, sizeof(pf->mac), "52:54:00:12:34:%02x",
                     0x56 + idx);
    }
    if (!pf->pf_driver[0])
        strcpy(pf->pf_driver, "nvme");
    if (!pf->vf_driver[0])
        strcpy(pf->vf_driver, "nvme");
    DEF(ifindex, 2 + idx);
    DEF(ifup, 1);
    DEF(carrier, 1);
    DEF(relink, 1);
    DEF(vf_trust, 1);
    DEF(vf_rate, 1);
    DEF(speed, 1000);
    DEF(vf_zero_mac, 1);
    DEF(vf_rate_speed, 0);
    if (!pf->name[0])
        snprintf(pf->name, sizeof(pf->name), "nvme%u", idx);
    if (!pf->sn[0])
        snprintf(pf->sn, sizeof(pf->sn), idx ? "deadbeef%u" : "deadbeef",
                 idx);
    if (!pf->mn[0])
        strcpy(pf->mn, "QEMU NVMe Ctrl");
    if (!pf->fr[0])
        strcpy(pf->fr, "10.0.2");
    if (!pf->subnqn[0])
        snprintf(pf->subnqn, sizeof(pf->subnqn),
                 "nqn.2019-08.org.qemu:subsys%u", idx);
    DEF(cntlid, 0);
    DEF(vendor, 0x1b36);
    DEF(device, 0x0010);
    DEF(vf_device, pf->device);
    DEF(class_code, XM_CLASS_NVME);
    DEF(sriov, 1);
    pf->sriov = !!pf->sriov;
    /* QEMU: NMS | FORMAT | DIRECTIVES | DBBUF, plus VMS with SR-IOV */
    DEF(oacs, pf->sriov ? 0x1aa : 0x12a);
    DEF(nn, 256);
    DEF(totalvfs, pf->sriov ? 2 : 0);
    if (!pf->sriov)
        pf->totalvfs = 0;
    DEF(offset, 1);
    DEF(stride, 1);
    DEF(vqfrt, pf->sriov ? 8 : 0);
    DEF(vifrt, pf->sriov ? 4 : 0);
    DEF(vqprt, pf->sriov ? 9 : 17);
    DEF(viprt, pf->sriov ? 13 : 17);
    DEF(vqfrsm, pf->totalvfs ? pf->vqfrt / pf->totalvfs : 0);
    DEF(vifrsm, pf->totalvfs ? pf->vifrt / pf->totalvfs : 0);
    DEF(vqrfap, 0);
    DEF(virfap, 0);
    DEF(vqrfap_next, pf->vqrfap);
    DEF(virfap_next, pf->virfap);
    DEF(nsmgmt, 0);
    DEF(online_needs_vf, 1);
    DEF(online_novf_sc, 0x120);
    DEF(online_ignored, 0);
    DEF(rdy_ms, 0);
    DEF(resets, 0);
    DEF(irq, 1);
    DEF(irq_lost, 0);
    DEF(irq_lost_vfs, 0);
    DEF(vf_probe_ms, 200);
    if (!pf->vf_probe[0])
        strcpy(pf->vf_probe, "sync");
    if (!vf_probe_ok(pf))
        return -EINVAL;
    xm_ns_pf_defaults(pf);
    DEF(b_secondaries, pf->totalvfs);
    DEF(b_scid, pf->cntlid + 1);
    DEF(b_autoprobe, 1);
    DEF(b_numvfs, 0);
    DEF(b_bound, 1);
    if (pf->cntlid > 0xffff || pf->b_secondaries > XM_MAX_SEC ||
        pf->nn == 0 || (pf->nic && pf->totalvfs > XM_MAX_NVF))
        return -EINVAL;
    if (!pf->nsec && pf->sriov) {
        for (i = 0; i < pf->b_secondaries; i++) {
            pf->sec[i].scid = pf->b_scid + i;
            pf->sec[i].vfn = i + 1;
        }
        pf->nsec = pf->b_secondaries;
    }
    return 0;
}

static int parse_att(struct xm_ns *ns, char *v)
{
    char *tok, *save = NULL;
    unsigned int id;

    ns->natt = 0;
    if (!v || !*v || !strcmp(v, "-"))
        return 0;
    for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",",
                                                            &save)) {
        if (parse_uint(tok, &id) || id > 0xffff || ns->natt >= XM_MAX_ATT)
            return -EINVAL;
        ns->att[ns->natt++] = id;
    }
    return 0;
}

static int parse_sec(struct xm_pf *pf, char *rest)
{
    struct xm_sec *s;
    char *k, *v;
    unsigned int x;

    if (!pf || pf->nsec >= XM_MAX_SEC)
        return -EINVAL;
    s = &pf->sec[pf->nsec];
    memset(s, 0, sizeof(*s));
    s->vfn = pf->nsec + 1;
    s->scid = 0xffff;
    while (next_token(&rest, &k, &v)) {
        if (parse_uint(v, &x) || x > 0xffff)
            return -EINVAL;
        if (!strcmp(k, "scid"))
            s->scid = x;
        else if (!strcmp(k, "vfn"))
            s->vfn = x;
        else if (!strcmp(k, "scs"))
            s->scs = x & 1;
        else if (!strcmp(k, "nvq"))
            s->nvq = x;
        else if (!strcmp(k, "nvi"))
            s->nvi = x;
        else
            return -EINVAL;
    }
    if (s->scid == 0xffff)
        return -EINVAL;
    pf->nsec++;
    return 0;
}

static int parse_ns(struct xm_pf *pf, char *rest)
{
    struct xm_ns *ns;
    char *k, *v;
    unsigned long long z;
    unsigned int x;
    char *end;

    if (!pf || pf->nns >= XM_MAX_NS)
        return -EINVAL;
    ns = &pf->ns[pf->nns];
    memset(ns, 0, sizeof(*ns));
    ns->nsze = 1048576;
    ns->nuse = UINT64_MAX;
    while (next_token(&rest, &k, &v)) {
        if (!v)
            return -EINVAL;
        if (!strcmp(k, "nsid")) {
            if (parse_uint(v, &x) || !x)
                return -EINVAL;
            ns->nsid = x;
        } else if (!strcmp(k, "nsze")) {
            errno = 0;
            z = strtoull(v, &end, 0);
            if (errno || *end)
                return -EINVAL;
            ns->nsze = z;
        } else if (!strcmp(k, "nuse")) {
            errno = 0;
            z = strtoull(v, &end, 0);
            if (errno || *end)
                return -EINVAL;
            ns->nuse = z;
        } else if (!strcmp(k, "flbas")) {
            if (parse_uint(v, &ns->flbas))
                return -EINVAL;
        } else if (!strcmp(k, "shared")) {
            if (parse_uint(v, &x))
                return -EINVAL;
            ns->shared = x;
        } else if (!strcmp(k, "att")) {
            if (parse_att(ns, v))
                return -EINVAL;
        } else {
            return -EINVAL;
        }
    }
    if (!ns->nsid || xm_ns_by_id(pf, ns->nsid))
        return -EINVAL;
    if (ns->nuse == UINT64_MAX)
        ns->nuse = ns->nsze;
    pf->nns++;
    return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6], i;
    char tail;

    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5], &tail) != 6)
        return -EINVAL;
    for (i = 0; i < 6; i++) {
        if (b[i] > 0xff)
            return -EINVAL;
        mac[i] = b[i];
    }
    return 0;
}

static int parse_nvf(struct xm_pf *pf, char *rest)
{
    struct xm_nvf v;
    unsigned int vf = UNSET, x;
    char *k, *val;

    if (!pf || !pf->nic)
        return -EINVAL;
    xm_nvf_reset(&v);
    while (next_token(&rest, &k, &val)) {
        if (!val)
            return -EINVAL;
        if (!strcmp(k, "mac")) {
            if (parse_mac(val, v.mac))
                return -EINVAL;
            continue;
        }
        if (parse_uint(val, &x))
            return -EINVAL;
        if (!strcmp(k, "vf"))
            vf = x;
        else if (!strcmp(k, "vlan"))
            v.vlan = x;
        else if (!strcmp(k, "qos"))
            v.qos = x;
        else if (!strcmp(k, "rate"))
            v.rate = x;
        else if (!strcmp(k, "min_rate"))
            v.min_rate = x;
        else if (!strcmp(k, "link_state"))
            v.link_state = x;
        else if (!strcmp(k, "spoofchk"))
            v.spoofchk = x;
        else if (!strcmp(k, "trust"))
            v.trust = x;
        else
            return -EINVAL;
    }
    if (vf >= XM_MAX_NVF)
        return -EINVAL;
    pf->nvf[vf] = v;
    return 0;
}

static int parse_fault(struct xm_model *m, char *rest)
{
    struct xm_fault_state *fs = &m->fault;
    char *k, *v;
    unsigned int x;

    memset(fs, 0, sizeof(*fs));
    xvf_mock_fault_init(&fs->f);
    while (next_token(&rest, &k, &v)) {
        if (!v)
            return -EINVAL;
        if (!strcmp(k, "attr")) {
            if (strlen(v) >= sizeof(fs->f.attr))
                return -EINVAL;
            strcpy(fs->f.attr, strcmp(v, "-") ? v : "");
            continue;
        }
        if (!strcmp(k, "opcode") || !strcmp(k, "sub")) {
            int *p = k[0] == 'o' ? &fs->f.opcode : &fs->f.sub;

            if (!strcmp(v, "-1")) {
                *p = -1;
                continue;
            }
            if (parse_uint(v, &x) || x > 0xff)
                return -EINVAL;
            *p = x;
            continue;
        }
        if (parse_uint(v, &x))
            return -EINVAL;
        if (!strcmp(k, "kind"))
            fs->f.kind = x;
        else if (!strcmp(k, "nth"))
            fs->f.nth = x;
        else if (!strcmp(k, "status"))
            fs->f.status = x;
        else if (!strcmp(k, "err"))
            fs->f.err = x;
        else if (!strcmp(k, "sticky"))
            fs->f.sticky = x;
        else if (!strcmp(k, "armed"))
            fs->armed = x;
        else if (!strcmp(k, "seen"))
            fs->seen = x;
        else
            return -EINVAL;
    }
    return 0;
}

static int parse_up(struct xm_model *m, char *rest)
{
    struct xm_up *u;
    char *k, *v;

    if (m->nup >= XM_MAX_UP)
        return -EINVAL;
    u = &m->up[m->nup];
    memset(u, 0, sizeof(*u));
    strcpy(u->driver, "nvme");
    u->nvq = 2;
    u->nvi = 1;
    while (next_token(&rest, &k, &v)) {
        if (!v)
            return -EINVAL;
        if (!strcmp(k, "pf") && strlen(v) < sizeof(u->pf))
            strcpy(u->pf, v);
        else if (!strcmp(k, "driver") && strlen(v) < sizeof(u->driver))
            strcpy(u->driver, v);
        else if (!strcmp(k, "vfn") ? parse_uint(v, &u->vfn) :
                 !strcmp(k, "nvq") ? parse_uint(v, &u->nvq) :
                 !strcmp(k, "nvi") ? parse_uint(v, &u->nvi) : 1)
            return -EINVAL;
    }
    if (!u->pf[0] || !u->vfn)
        return -EINVAL;
    m->nup++;
    return 0;
}

/* Continuation lines start with white space. */
static char *join_lines(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    const char *p = text;

    if (!out)
        return NULL;
    while (*p) {
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (*p == '\n' && (p[1] == ' ' || p[1] == '\t')) {
            *o++ = ' ';
            p++;
            continue;
        }
        *o++ = *p++;
    }
    *o = '\0';
    return out;
}

int xm_parse(struct xm_model *m, const char *text, bool build)
{
    struct xm_pf *pf = NULL;
    char *buf, *line, *save = NULL, *rest, *k, *v, *word;
    unsigned int x;
    int r = 0;

    memset(m, 0, sizeof(*m));
    xvf_mock_fault_init(&m->fault.f);
    strcpy(m->drivers, "nvme,pciback,pci-stub");
    buf = join_lines(text);
    if (!buf)
        return -ENOMEM;
    for (line = strtok_r(buf, "\n", &save); line && !r;
         line = strtok_r(NULL, "\n", &save)) {
        rest = line;
        if (!next_token(&rest, &word, &v))
            continue;
        if (v) {
            r = -EINVAL;
        } else if (!strcmp(word, "pf") || !strcmp(word, "nic")) {
            if (pf)
                r = pf_finish(m, pf);
            if (r)
                break;
            if (m->npf >= XM_MAX_PF) {
                r = -EINVAL;
                break;
            }
            pf = &m->pf[m->npf++];
            pf_init(pf);
            if (word[0] == 'n')
                pf->nic = 1;
            while (!r && next_token(&rest, &k, &v))
                r = set_pf_key(pf, k, v);
            if (!r && xm_pf_by_bdf(m, pf->bdf) != pf)
                r = -EINVAL;
        } else if (!strcmp(word, "sec")) {
            r = parse_sec(pf, rest);
        } else if (!strcmp(word, "ns")) {
            r = parse_ns(pf, rest);
        } else if (!strcmp(word, "nvf")) {
            r = parse_nvf(pf, rest);
        } else if (!strcmp(word, "counts")) {
            while (!r && next_token(&rest, &k, &v)) {
                r = parse_uint(v, &x);
                if (r)
                    break;
                if (!strcmp(k, "admin"))
                    m->n_admin = x;
                else if (!strcmp(k, "write"))
                    m->n_write = x;
                else if (!strcmp(k, "fired"))
                    m->n_fired = x;
                else if (!strcmp(k, "netlink"))
                    m->n_netlink = x;
                else
                    r = -EINVAL;
            }
        } else if (!strcmp(word, "fault")) {
            r = parse_fault(m, rest);
        } else if (!strcmp(word, "drivers") && build) {
            if (!next_token(&rest, &k, &v) || v ||
                strlen(k) >= sizeof(m->drivers))
                r = -EINVAL;
            else
                strcpy(m->drivers, k);
        } else if (!strcmp(word, "xen") && build) {
            if (!next_token(&rest, &k, &v) || v ||
                (strcmp(k, "dom0") && strcmp(k, "domd")))
                r = -EINVAL;
            else
                m->domd = !strcmp(k, "domd");
        } else if (!strcmp(word, "up") && build) {
            r = parse_up(m, rest);
        } else {
            r = -EINVAL;
        }
    }
    if (!r && pf)
        r = pf_finish(m, pf);
    free(buf);
    return r;
}

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *np;

    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p ? b->p + b->len : NULL,
                      b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + n < b->cap) {
            b->len += n;
            return;
        }
        np = realloc(b->p, b->cap + n + 4096);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap += n + 4096;
    }
}

char *xm_format(const struct xm_model *m, bool with_runtime)
{
    struct sbuf b = { 0 };
    const struct xm_pf *pf;
    const struct xm_fault_state *fs = &m->fault;
    unsigned int i, j, k, vqrfa, virfa;

    sb_printf(&b, "# xvf-mock model\n");
    for (i = 0; i < m->npf; i++) {
        pf = &m->pf[i];
        sb_printf(&b, "pf");
        for (j = 0; j < sizeof(pf_keys) / sizeof(pf_keys[0]); j++) {
            const struct key *key = &pf_keys[j];
            const char *p = (const char *)pf + key->off;

            if (!key->model)
                continue;
            if (!strcmp(key->name, "secondaries")) {
                sb_printf(&b, " secondaries=%u", pf->nsec);
                continue;
            }
            if (!strcmp(key->name, "scid")) {
                sb_printf(&b, " scid=%u", pf->nsec ? pf->sec[0].scid
                                                   : pf->cntlid + 1);
                continue;
            }
            if (key->type == K_STR)
                sb_printf(&b, " %s=\"%s\"", key->name, p);
            else
                sb_printf(&b, " %s=0x%x", key->name,
                          *(const unsigned int *)p);
        }
        sb_printf(&b, "\n");
        vqrfa = virfa = 0;
        for (j = 0; j < pf->nsec; j++) {
            sb_printf(&b, "sec scid=%u vfn=%u scs=%u nvq=%u nvi=%u\n",
                      pf->sec[j].scid, pf->sec[j].vfn, pf->sec[j].scs,
                      pf->sec[j].nvq, pf->sec[j].nvi);
            vqrfa += pf->sec[j].nvq;
            virfa += pf->sec[j].nvi;
        }
        for (j = 0; j < pf->nns; j++) {
            sb_printf(&b, "ns nsid=%u nsze=%llu nuse=%llu flbas=%u "
                      "shared=%u att=", pf->ns[j].nsid,
                      (unsigned long long)pf->ns[j].nsze,
                      (unsigned long long)pf->ns[j].nuse, pf->ns[j].flbas,
                      pf->ns[j].shared);
            for (k = 0; k < pf->ns[j].natt; k++)
                sb_printf(&b, "%s0x%x", k ? "," : "", pf->ns[j].att[k]);
            sb_printf(&b, "%s\n", pf->ns[j].natt ? "" : "-");
        }
        sb_printf(&b, "# %s: vqrfa=%u virfa=%u\n", pf->bdf, vqrfa, virfa);
        for (j = 0; pf->nic && j < pf->totalvfs; j++) {
            const struct xm_nvf *v = &pf->nvf[j];

            sb_printf(&b, "nvf vf=%u mac=%02x:%02x:%02x:%02x:%02x:%02x "
                      "vlan=%u qos=%u rate=%u min_rate=%u spoofchk=%u "
                      "trust=%u link_state=%u\n", j,
                      v->mac[0], v->mac[1], v->mac[2], v->mac[3], v->mac[4],
                      v->mac[5], v->vlan, v->qos, v->rate, v->min_rate,
                      v->spoofchk, v->trust, v->link_state);
        }
    }
    if (with_runtime) {
        sb_printf(&b, "counts admin=%u write=%u fired=%u netlink=%u\n",
                  m->n_admin, m->n_write, m->n_fired, m->n_netlink);
        sb_printf(&b, "fault kind=%u nth=%u opcode=%d sub=%d attr=\"%s\" "
                  "status=0x%x err=%d sticky=%u armed=%u seen=%u\n",
                  fs->f.kind, fs->f.nth, fs->f.opcode, fs->f.sub,
                  fs->f.attr[0] ? fs->f.attr : "-", fs->f.status,
                  fs->f.err, fs->f.sticky, fs->armed, fs->seen);
    }
    if (b.oom) {
        free(b.p);
        errno = ENOMEM;
        return NULL;
    }
    return b.p;
}

struct xm_pf *xm_pf_by_bdf(struct xm_model *m, const char *bdf)
{
    unsigned int i;

    for (i = 0; i < m->npf; i++)
        if (!strcmp(m->pf[i].bdf, bdf))
            return &m->pf[i];
    return NULL;
}

struct xm_pf *xm_nic_by_name(struct xm_model *m, const char *name)
{
    unsigned int i;

    for (i = 0; i < m->npf; i++)
        if (m->pf[i].nic && !strcmp(m->pf[i].name, name))
            return &m->pf[i];
    return NULL;
}

struct xm_sec *xm_sec_by_scid(struct xm_pf *pf, uint16_t scid)
{
    unsigned int i;

    for (i = 0; i < pf->nsec; i++)
        if (pf->sec[i].scid == scid)
            return &pf->sec[i];
    return NULL;
}

struct xm_sec *xm_sec_by_vfn(struct xm_pf *pf, unsigned int vfn)
{
    unsigned int i;

    for (i = 0; i < pf->nsec; i++)
        if (pf->sec[i].vfn == vfn)
            return &pf->sec[i];
    return NULL;
}

struct xm_ns *xm_ns_by_id(struct xm_pf *pf, uint32_t nsid)
{
    unsigned int i;

    for (i = 0; i < pf->nns; i++)
        if (pf->ns[i].nsid == nsid)
            return &pf->ns[i];
    return NULL;
}

int xm_canon_root(const char *root, char *out, size_t len)
{
    char buf[PATH_MAX];

    if (!root)
        root = getenv("XEN_VF_ROOT");
    if (!root || !*root)
        return -ENOENT;
    if (!realpath(root, buf))
        return -errno;
    if (strlen(buf) >= len)
        return -ENAMETOOLONG;
    strcpy(out, buf);
    return 0;
}

int xm_open(struct xm_ctx *c, const char *root, bool must_exist)
{
    char path[XM_PATH], *text = NULL;
    struct stat st;
    ssize_t n;
    int fd = -1, r;

    memset(c, 0, sizeof(*c));
    c->lock_fd = -1;
    r = xm_canon_root(root, c->root, sizeof(c->root));
    if (r)
        return r;
    r = xm_pathf(c, path, sizeof(path), ".mock/state");
    if (r)
        return r;
    if (stat(path, &st))
        return must_exist ? -errno : -ENOENT;
    r = xm_pathf(c, path, sizeof(path), ".mock/lock");
    if (r)
        return r;
    c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (c->lock_fd < 0)
        return -errno;
    while (flock(c->lock_fd, LOCK_EX)) {
        if (errno != EINTR) {
            r = -errno;
            goto out;
        }
    }
    c->m = calloc(1, sizeof(*c->m));
    if (!c->m) {
        r = -ENOMEM;
        goto out;
    }
    r = xm_pathf(c, path, sizeof(path), ".mock/state");
    if (r)
        goto out;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st)) {
        r = -errno;
        goto out;
    }
    text = malloc(st.st_size + 1);
    if (!text) {
        r = -ENOMEM;
        goto out;
    }
    n = read(fd, text, st.st_size);
    if (n != st.st_size) {
        r = n < 0 ? -errno : -EIO;
        goto out;
    }
    text[n] = '\0';
    r = xm_parse(c->m, text, false);
out:
    free(text);
    if (fd >= 0)
        close(fd);
    if (r)
        xm_close(c);
    return r;
}

int xm_save(struct xm_ctx *c)
{
    char path[XM_PATH], tmp[XM_PATH], *text;
    int r;

    text = xm_format(c->m, true);
    if (!text)
        return -ENOMEM;
    r = xm_pathf(c, path, sizeof(path), ".mock/state");
    if (!r)
        r = xm_pathf(c, tmp, sizeof(tmp), ".mock/state.tmp");
    if (!r)
        r = xm_write_file(tmp, text, 0644);
    if (!r && rename(tmp, path))
        r = -errno;
    free(text);
    return r;
}

void xm_close(struct xm_ctx *c)
{
    free(c->m);
    c->m = NULL;
    if (c->lock_fd >= 0)
        close(c->lock_fd);
    c->lock_fd = -1;
}

void xm_log(struct xm_ctx *c, const char *fmt, ...)
{
    char path[XM_PATH], line[1024];
    va_list ap;
    int fd, n;

    if (xm_pathf(c, path, sizeof(path), ".mock/log"))
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (xm_real_write(fd, line, n) < 0)
        n = 0;
    close(fd);
}
