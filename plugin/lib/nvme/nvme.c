/* SPDX-License-Identifier: LGPL-2.1-only */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvme/nvme.h"
#include "nvme/status.h"
#include "util/str.h"
#include "util/sysfs.h"

/* The one place a libnvme result is interpreted. */
static int nvme_call(int r, struct xvf_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int nvme_call(int r, struct xvf_err *err, const char *fmt, ...)
{
    const char *hint;
    char what[160];
    int code, saved = errno;
    va_list ap;

    if (r == 0)
        return 0;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (r > 0) {
        code = xvf_nvme_status_explain(r, &hint);
        if (err && !err->code)
            err->nvme_status = r;
        if (!hint && code == -EOPNOTSUPP)
            return xvf_err_set(err, code, "%s: the controller does not "
                               "implement this command (NVMe status "
                               "0x%04x, %s)", what, r,
                               nvme_status_to_string(r, false));
        return xvf_err_set(err, code, "%s: NVMe status 0x%04x (%s)%s%s",
                           what, r, nvme_status_to_string(r, false),
                           hint ? ": " : "", hint ? hint : "");
    }
    code = saved ? -saved : -EIO;
    return xvf_err_set(err, code, "%s: %s", what, strerror(-code));
}

static int ctrl_bdf(const char *ctrl, char bdf[XVF_BDF_LEN])
{
    char path[PATH_MAX];
    int r;

    r = xvf_path(path, sizeof(path), "/sys/class/nvme/%s/device", ctrl);
    if (r)
        return r;
    return xvf_sysfs_link_name(path, bdf, XVF_BDF_LEN);
}

static int ctrl_serial(const char *ctrl, char *buf, size_t len)
{
    char path[PATH_MAX];
    int r;

    r = xvf_path(path, sizeof(path), "/sys/class/nvme/%s/serial", ctrl);
    if (r)
        return r;
    r = xvf_sysfs_read(path, buf, len);
    if (!r)
        xvf_trim_copy(buf, len, buf, len);
    return r;
}

/* The controller on a PF lives under the PCI device's nvme/ directory. */
static int bdf_ctrl(const char *bdf, char *ctrl, size_t len)
{
    char path[PATH_MAX];
    struct dirent *de;
    DIR *d;
    int r = -ENOENT;

    if (xvf_pci_attr(path, sizeof(path), bdf, "nvme"))
        return -ENAMETOOLONG;
    d = opendir(path);
    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "nvme", 4) || strlen(de->d_name) >= len)
            continue;
        strcpy(ctrl, de->d_name);
        r = 0;
        break;
    }
    closedir(d);
    return r;
}

int xvf_nvme_ctrl_state(const char *bdf, char *ctrl, size_t clen,
                        char *state, size_t slen)
{
    char path[PATH_MAX];
    int r;

    r = bdf_ctrl(bdf, ctrl, clen);
    if (r)
        return r;
    r = xvf_path(path, sizeof(path), "/sys/bus/pci/devices/%s/nvme/%s/state",
                 bdf, ctrl);
    if (r)
        return r;
    return xvf_sysfs_read(path, state, slen);
}

int xvf_nvme_pf_from_bdf(const char *bdf, struct xvf_nvme_pf *pf,
                         struct xvf_err *err)
{
    char physfn[XVF_BDF_LEN];
    struct xvf_nvme_pf p;
    int r;

    memset(&p, 0, sizeof(p));
    if (!xvf_pci_exists(bdf))
        return xvf_err_set(err, -ENODEV, "no PCI device %s", bdf);
    if (!xvf_pci_physfn(bdf, physfn))
        return xvf_err_set(err, -EINVAL, "%s is a virtual function of %s, "
                           "not a physical function", bdf, physfn);
    r = bdf_ctrl(bdf, p.ctrl, sizeof(p.ctrl));
    if (r)
        return xvf_err_set(err, -ENODEV, "%s has no NVMe controller "
                           "(is the nvme driver bound to it?)", bdf);
    strcpy(p.bdf, bdf);
    if (ctrl_serial(p.ctrl, p.serial, sizeof(p.serial)))
        p.serial[0] = '\0';
    *pf = p;
    return 0;
}

static int resolve_serial(const char *serial, struct xvf_nvme_pf *pf,
                          struct xvf_err *err)
{
    char path[PATH_MAX], sn[64], bdf[XVF_BDF_LEN], physfn[XVF_BDF_LEN];
    struct dirent *de;
    DIR *d;
    int r = -ENOENT;

    if (xvf_path(path, sizeof(path), "/sys/class/nvme"))
        return -ENAMETOOLONG;
    d = opendir(path);
    if (!d)
        return xvf_err_set(err, -ENODEV, "no NVMe controllers (%s)",
                           strerror(errno));
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' ||
            ctrl_serial(de->d_name, sn, sizeof(sn)) || strcmp(sn, serial))
            continue;
        /* VFs of a PF share its serial number */
        if (ctrl_bdf(de->d_name, bdf) || !xvf_pci_physfn(bdf, physfn))
            continue;
        r = 0;
        break;
    }
    closedir(d);
    if (r)
        return xvf_err_set(err, -ENODEV, "no NVMe physical function with "
                           "serial '%s'", serial);
    return xvf_nvme_pf_from_bdf(bdf, pf, err);
}

int xvf_nvme_resolve(const struct xvf_spec *spec, struct xvf_nvme_pf *pf,
                     struct xvf_err *err)
{
    char bdf[XVF_BDF_LEN];
    int r;

    switch (spec->kind) {
    case XVF_TARGET_NVME_NAME:
        r = ctrl_bdf(spec->target, bdf);
        if (r == -ENOENT)
            return xvf_err_set(err, -ENODEV, "no NVMe controller '%s'",
                               spec->target);
        if (r)
            return xvf_err_set(err, r, "cannot resolve '%s': %s",
                               spec->target, strerror(-r));
        return xvf_nvme_pf_from_bdf(bdf, pf, err);
    case XVF_TARGET_PCI:
        return xvf_nvme_pf_from_bdf(spec->target, pf, err);
    case XVF_TARGET_SERIAL:
        return resolve_serial(spec->target, pf, err);
    case XVF_TARGET_NETDEV:
        break;
    }
    return xvf_err_set(err, -EINVAL, "'%s' is not an NVMe controller",
                       spec->target);
}

int xvf_nvme_open(const struct xvf_nvme_pf *pf, int *fd,
                  struct xvf_err *err)
{
    char path[PATH_MAX];
    int r;

    r = xvf_path(path, sizeof(path), "/dev/%s", pf->ctrl);
    if (r)
        return xvf_err_set(err, r, "device path too long");
    *fd = open(path, O_RDWR | O_CLOEXEC);
    if (*fd < 0) {
        r = -errno;
        return xvf_err_set(err, r, "cannot open %s: %s", path,
                           strerror(-r));
    }
    return 0;
}

int xvf_nvme_id_ctrl(int fd, uint16_t *cntlid, uint16_t *oacs,
                     struct xvf_err *err)
{
    struct nvme_id_ctrl id;
    int r;

    r = nvme_call(nvme_identify_ctrl(fd, &id), err, "Identify Controller");
    if (r)
        return r;
    *cntlid = le16toh(id.cntlid);
    *oacs = le16toh(id.oacs);
    return 0;
}

int xvf_nvme_id_ctrl_timed(int fd, unsigned int timeout_ms,
                           struct xvf_err *err)
{
    struct nvme_id_ctrl id;
    struct nvme_identify_args args = {
        .data = &id,
        .args_size = sizeof(args),
        .fd = fd,
        .timeout = timeout_ms,
        .cns = NVME_IDENTIFY_CNS_CTRL,
        .csi = NVME_CSI_NVM,
        .nsid = NVME_NSID_NONE,
        .cntid = NVME_CNTLID_NONE,
    };

    return nvme_call(nvme_identify(&args), err, "Identify Controller "
                     "(timeout %u ms)", timeout_ms);
}

/* The actions column may list several, "nvme0q0, nvme0q1", on one vector. */
static bool irq_line_names(char *line, const char *name,
                           unsigned long long *sum)
{
    unsigned long long total = 0, v;
    char *tok, *save = NULL, *end;
    bool counting = true, found = false;
    size_t n;

    tok = strtok_r(line, " \t\n", &save);
    if (!tok || tok[strlen(tok) - 1] != ':')
        return false;
    while ((tok = strtok_r(NULL, " \t\n", &save))) {
        if (counting) {
            errno = 0;
            v = strtoull(tok, &end, 10);
            if (!*end && !errno && isdigit((unsigned char)tok[0])) {
                total += v;
                continue;
            }
            counting = false;
        }
        n = strlen(tok);
        if (n && tok[n - 1] == ',')
            tok[--n] = '\0';
        if (!strcmp(tok, name))
            found = true;
    }
    if (found)
        *sum = total;
    return found;
}

int xvf_nvme_admin_irqs(const char *ctrl, unsigned long long *count)
{
    char path[PATH_MAX], name[48], *line = NULL;
    size_t cap = 0;
    int r = -ENOENT;
    FILE *f;

    if (snprintf(name, sizeof(name), "%sq0", ctrl) >= (int)sizeof(name))
        return -ENAMETOOLONG;
    r = xvf_path(path, sizeof(path), "/proc/interrupts");
    if (r)
        return r;
    f = fopen(path, "re");
    if (!f)
        return -errno;
    r = -ENOENT;
    while (getline(&line, &cap, f) > 0)
        if (irq_line_names(line, name, count)) {
            r = 0;
            break;
        }
    free(line);
    fclose(f);
    return r;
}

int xvf_nvme_caps(int fd, struct xvf_nvme_caps *caps, struct xvf_err *err)
{
    struct nvme_primary_ctrl_cap cap;
    int r;

    r = nvme_call(nvme_identify_primary_ctrl(fd, 0, &cap), err,
                  "Identify Primary Controller Capabilities");
    if (r)
        return r;
    caps->cntlid = le16toh(cap.cntlid);
    caps->vq_total = le32toh(cap.vqfrt);
    caps->vq_primary = le16toh(cap.vqrfap);
    caps->vq_max = le16toh(cap.vqfrsm);
    caps->vi_total = le32toh(cap.vifrt);
    caps->vi_primary = le16toh(cap.virfap);
    caps->vi_max = le16toh(cap.vifrsm);
    return 0;
}

int xvf_nvme_secondaries(int fd, unsigned int timeout_ms,
                         struct xvf_nvme_secondary *list, unsigned int *n,
                         struct xvf_err *err)
{
    struct nvme_secondary_ctrl_list sc;
    struct nvme_identify_args args = {
        .data = &sc,
        .args_size = sizeof(args),
        .fd = fd,
        .timeout = timeout_ms,
        .cns = NVME_IDENTIFY_CNS_SECONDARY_CTRL_LIST,
        .csi = NVME_CSI_NVM,
        .nsid = NVME_NSID_NONE,
        .cntid = 0,
    };
    unsigned int i, num;
    int r;

    memset(&sc, 0, sizeof(sc));
    r = nvme_call(nvme_identify(&args), err,
                  "Identify Secondary Controller List");
    if (r)
        return r;
    num = sc.num;
    if (num > XVF_NVME_MAX_SECONDARIES)
        num = XVF_NVME_MAX_SECONDARIES;
    for (i = 0; i < num; i++) {
        list[i].scid = le16toh(sc.sc_entry[i].scid);
        list[i].vfn = le16toh(sc.sc_entry[i].vfn);
        list[i].online = sc.sc_entry[i].scs & 1;
        list[i].nvq = le16toh(sc.sc_entry[i].nvq);
        list[i].nvi = le16toh(sc.sc_entry[i].nvi);
    }
    *n = num;
    return 0;
}

int xvf_nvme_ns_exists(int fd, uint32_t nsid, bool *exists,
                       struct xvf_err *err)
{
    struct nvme_id_ns ns;
    int r;

    memset(&ns, 0, sizeof(ns));
    r = nvme_identify_allocated_ns(fd, nsid, &ns);
    if (r > 0 && nvme_status_code_type(r) == NVME_SCT_GENERIC &&
        nvme_status_code(r) == NVME_SC_INVALID_NS) {
        *exists = false;
        return 0;
    }
    r = nvme_call(r, err, "Identify Namespace %u (allocated)", nsid);
    if (r)
        return r;
    *exists = le64toh(ns.nsze) != 0;
    return 0;
}

int xvf_nvme_ns_ctrls(int fd, uint32_t nsid, uint16_t *ids, unsigned int *n,
                      struct xvf_err *err)
{
    struct nvme_ctrl_list list;
    unsigned int i, num;
    int r;

    memset(&list, 0, sizeof(list));
    r = nvme_call(nvme_identify_nsid_ctrl_list(fd, nsid, 0, &list), err,
                  "Identify Controllers Attached to Namespace %u", nsid);
    if (r)
        return r;
    num = le16toh(list.num);
    if (num > NVME_ID_CTRL_LIST_MAX)
        num = NVME_ID_CTRL_LIST_MAX;
    for (i = 0; i < num; i++)
        ids[i] = le16toh(list.identifier[i]);
    *n = num;
    return 0;
}

int xvf_nvme_virt_mgmt(int fd, enum nvme_virt_mgmt_act act,
                       enum nvme_virt_mgmt_rt rt, uint16_t cntlid,
                       uint16_t nr, unsigned int timeout_ms,
                       struct xvf_err *err)
{
    static const char *const names[] = {
        [NVME_VIRT_MGMT_ACT_PRIM_CTRL_FLEX_ALLOC] = "primary flexible "
                                                    "allocation",
        [NVME_VIRT_MGMT_ACT_OFFLINE_SEC_CTRL] = "offline",
        [NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL] = "assign",
        [NVME_VIRT_MGMT_ACT_ONLINE_SEC_CTRL] = "online",
    };
    __u32 result = 0;
    struct nvme_virtual_mgmt_args args = {
        .args_size = sizeof(args),
        .fd = fd,
        .act = act,
        .rt = rt,
        .cntlid = cntlid,
        .nr = nr,
        .result = &result,
        .timeout = timeout_ms,
    };
    const char *name = (unsigned int)act < sizeof(names) / sizeof(names[0])
                       && names[act] ? names[act] : "?";

    if (act == NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL)
        return nvme_call(nvme_virtual_mgmt(&args), err,
                         "Virtualization Management %s %u %s to secondary "
                         "controller 0x%x", name, nr,
                         rt == NVME_VIRT_MGMT_RT_VQ_RESOURCE ? "VQ" : "VI",
                         cntlid);
    return nvme_call(nvme_virtual_mgmt(&args), err,
                     "Virtualization Management %s secondary controller "
                     "0x%x", name, cntlid);
}

int xvf_nvme_ns_attach(int fd, uint32_t nsid, uint16_t cntlid, bool attach,
                       unsigned int timeout_ms, struct xvf_err *err)
{
    struct nvme_ctrl_list list;
    __u16 id = cntlid;
    struct nvme_ns_attach_args args = {
        .ctrlist = &list,
        .args_size = sizeof(args),
        .fd = fd,
        .timeout = timeout_ms,
        .nsid = nsid,
        .sel = attach ? NVME_NS_ATTACH_SEL_CTRL_ATTACH :
                        NVME_NS_ATTACH_SEL_CTRL_DEATTACH,
    };

    nvme_init_ctrl_list(&list, 1, &id);
    if (attach)
        return nvme_call(nvme_ns_attach(&args), err, "attach namespace %u "
                         "to controller 0x%x", nsid, cntlid);
    return nvme_call(nvme_ns_attach(&args), err, "detach namespace %u from "
                     "controller 0x%x", nsid, cntlid);
}

int xvf_nvme_identify_ctrl(int fd, struct nvme_id_ctrl *id,
                           struct xvf_err *err)
{
    memset(id, 0, sizeof(*id));
    return nvme_call(nvme_identify_ctrl(fd, id), err, "Identify Controller");
}

int xvf_nvme_identify_ns(int fd, uint32_t nsid, bool allocated,
                         struct nvme_id_ns *ns, struct xvf_err *err)
{
    memset(ns, 0, sizeof(*ns));
    if (allocated)
        return nvme_call(nvme_identify_allocated_ns(fd, nsid, ns), err,
                         "Identify Namespace %u (allocated)", nsid);
    if (nsid == NVME_NSID_ALL)
        return nvme_call(nvme_identify_ns(fd, nsid, ns), err,
                         "Identify Namespace FFFFFFFFh (common "
                         "capabilities)");
    return nvme_call(nvme_identify_ns(fd, nsid, ns), err,
                     "Identify Namespace %u", nsid);
}

int xvf_nvme_ns_list(int fd, bool allocated, uint32_t *ids,
                     unsigned int max, unsigned int *n,
                     struct xvf_err *err)
{
    struct nvme_ns_list list;
    uint32_t start = 0, id;
    unsigned int i, num = 0;
    int r;

    for (;;) {
        memset(&list, 0, sizeof(list));
        r = nvme_call(allocated ?
                      nvme_identify_allocated_ns_list(fd, start, &list) :
                      nvme_identify_active_ns_list(fd, start, &list), err,
                      "Identify %s Namespace ID list",
                      allocated ? "Allocated" : "Active");
        if (r)
            return r;
        for (i = 0; i < NVME_ID_NS_LIST_MAX; i++) {
            id = le32toh(list.ns[i]);
            if (!id)
                break;
            if (num >= max)
                return xvf_err_set(err, -E2BIG, "more than %u namespaces",
                                   max);
            ids[num++] = id;
            start = id;
        }
        /* a full page may have a next one, starting after its last ID */
        if (i < NVME_ID_NS_LIST_MAX || start >= NVME_NSID_ALL - 1)
            break;
    }
    *n = num;
    return 0;
}

int xvf_nvme_ns_granularity(int fd,
                            struct nvme_id_ns_granularity_list *list,
                            struct xvf_err *err)
{
    memset(list, 0, sizeof(*list));
    return nvme_call(nvme_identify_ns_granularity(fd, list), err,
                     "Identify Namespace Granularity List");
}

int xvf_nvme_cmd_effects(int fd, struct nvme_cmd_effects_log *log,
                         struct xvf_err *err)
{
    memset(log, 0, sizeof(*log));
    return nvme_call(nvme_get_log_cmd_effects(fd, NVME_CSI_NVM, log), err,
                     "Get Log Page Commands Supported and Effects");
}

/*
 * nvme_ns_mgmt() with the args structure rather than nvme_ns_mgmt_create():
 * the latter gained a parameter in libnvme 1.5, the structure's fields
 * used here did not change.
 */
int xvf_nvme_ns_create(int fd, uint64_t nsze, uint8_t flbas, uint32_t *nsid,
                       struct xvf_err *err)
{
    struct nvme_id_ns ns;
    __u32 result = 0;
    struct nvme_ns_mgmt_args args = {
        .result = &result,
        .ns = &ns,
        .args_size = sizeof(args),
        .fd = fd,
        .timeout = 0,
        .nsid = NVME_NSID_NONE,
        .sel = NVME_NS_MGMT_SEL_CREATE,
        .csi = NVME_CSI_NVM,
    };
    int r;

    memset(&ns, 0, sizeof(ns));
    ns.nsze = htole64(nsze);
    ns.ncap = htole64(nsze);
    ns.flbas = flbas;
    r = nvme_call(nvme_ns_mgmt(&args), err, "Namespace Management create "
                  "(%llu blocks, LBA format %u)", (unsigned long long)nsze,
                  flbas);
    if (!r)
        *nsid = result;
    return r;
}

int xvf_nvme_ns_delete(int fd, uint32_t nsid, struct xvf_err *err)
{
    struct nvme_ns_mgmt_args args = {
        .args_size = sizeof(args),
        .fd = fd,
        .timeout = 0,
        .nsid = nsid,
        .sel = NVME_NS_MGMT_SEL_DELETE,
    };

    return nvme_call(nvme_ns_mgmt(&args), err, "Namespace Management delete "
                     "namespace %u", nsid);
}
