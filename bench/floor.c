/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xvf-bench-floor - the device operations of an NVMe VF prepare and
 * release, back to back, with nothing else: no journal, no lock, no
 * xenstore, no checks beyond what the device answers. This is the floor
 * the engine is measured against (docs/performance.md). It links libnvme
 * directly, not libxenvf.
 *
 *   xvf-bench-floor prepare CTRL NSID [DRIVER]
 *       the engine's order: Identify (controller, primary capabilities,
 *       secondary list, namespace, its controller list), autoprobe = 0,
 *       assign VQ and VI, sriov_numvfs, online, attach, for driver nvme
 *       a function level reset of the VF (the vendor's flow), driver_override
 *       + drivers_probe (for pciback with the VF's reset_method emptied,
 *       as the engine, unless XVF_BENCH_PCIBACK_RESET is set), for nvme
 *       the wait until the VF's controller is live, Identify on the PF;
 *       prints "VF SCID US", US the
 *       microseconds from just before the PF is opened
 *   xvf-bench-floor release CTRL NSID SCID VF
 *       unbind and clear driver_override, detach, offline,
 *       sriov_numvfs = 0, autoprobe = 1
 *   xvf-bench-floor seed-prepare CTRL NSID
 *       the guide's order: the same Identify commands, attach, assign,
 *       sriov_numvfs with autoprobe on (the VF's probe by nvme fails, the
 *       secondary is offline), wait until that probe has let go of the
 *       VF, online, echo VF > /sys/bus/pci/drivers/nvme/bind
 *   xvf-bench-floor seed-release CTRL NSID SCID VF
 *       the guide's teardown: unbind, sriov_numvfs = 0, offline, detach
 *
 * The first free secondary (offline, not holding the namespace for
 * another) is used, VQ 2 and VI 1 as the engine's defaults, and
 * sriov_numvfs is set to the highest VF number any secondary has, as the
 * engine does. With XVF_BENCH_STEPS=1 each step's wall time goes to
 * stderr as "step,NAME,MICROSECONDS". Exit 0, or 1 with a message.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libnvme.h>

#define VQ 2
#define VI 1
#define PROBE_WAIT_MS 30000

static const char *prog = "xvf-bench-floor";
static bool steps;
static long long t_step;
static long long t_main;    /* after exec and argument parsing */

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void step(const char *name)
{
    long long t = now_us();

    if (steps && name)
        fprintf(stderr, "step,%s,%lld\n", name, t - t_step);
    t_step = t;
}

static int die(const char *what, int r)
{
    if (r > 0)
        fprintf(stderr, "%s: %s: NVMe status 0x%x\n", prog, what, r);
    else
        fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
    return 1;
}

static int sysfs_write(const char *path, const char *val)
{
    ssize_t n;
    int fd;

    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = write(fd, val, strlen(val));
    close(fd);
    return n < 0 ? -1 : 0;
}

static int pci_write(const char *bdf, const char *attr, const char *val)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
    return sysfs_write(path, val);
}

/* The last component of symlink @path's target, "" when there is none. */
static void link_name(const char *path, char *buf, size_t len)
{
    char target[PATH_MAX];
    const char *base;
    ssize_t n;
    size_t l;

    buf[0] = '\0';
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return;
    target[n] = '\0';
    base = strrchr(target, '/');
    base = base ? base + 1 : target;
    l = strlen(base);
    if (l >= len)
        return;
    memcpy(buf, base, l + 1);
}

static void pci_link(const char *bdf, const char *attr, char *buf,
                     size_t len)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
    link_name(path, buf, len);
}

struct pf {
    char ctrl[32];
    char bdf[32];
    int fd;
    uint16_t cntlid;
    uint16_t scid;
    uint16_t vfn;
    unsigned int numvfs;
    char vf[32];
};

static int pf_open(struct pf *pf, const char *ctrl)
{
    char path[PATH_MAX];

    snprintf(pf->ctrl, sizeof(pf->ctrl), "%s", ctrl);
    snprintf(path, sizeof(path), "/sys/class/nvme/%s/device", ctrl);
    link_name(path, pf->bdf, sizeof(pf->bdf));
    if (!pf->bdf[0])
        return die(path, -1);
    snprintf(path, sizeof(path), "/dev/%s", ctrl);
    pf->fd = open(path, O_RDWR | O_CLOEXEC);
    if (pf->fd < 0)
        return die(path, -1);
    return 0;
}

/*
 * The Identify commands the engine sends before it changes anything, and
 * the choice of a secondary from their answers.
 */
static int identify(struct pf *pf, uint32_t nsid)
{
    struct nvme_secondary_ctrl_list sc;
    struct nvme_primary_ctrl_cap cap;
    struct nvme_ctrl_list cl;
    struct nvme_id_ctrl id;
    struct nvme_id_ns ns;
    unsigned int i;
    int r;

    r = nvme_identify_ctrl(pf->fd, &id);
    if (r)
        return die("Identify Controller", r);
    pf->cntlid = le16toh(id.cntlid);
    r = nvme_identify_primary_ctrl(pf->fd, 0, &cap);
    if (r)
        return die("Identify Primary Controller Capabilities", r);
    memset(&sc, 0, sizeof(sc));
    r = nvme_identify_secondary_ctrl_list(pf->fd, 0, 0, &sc);
    if (r)
        return die("Identify Secondary Controller List", r);
    r = nvme_identify_allocated_ns(pf->fd, nsid, &ns);
    if (r)
        return die("Identify Namespace (allocated)", r);
    r = nvme_identify_nsid_ctrl_list(pf->fd, nsid, 0, &cl);
    if (r)
        return die("Identify Namespace Controller List", r);
    pf->scid = 0;
    pf->numvfs = 0;
    for (i = 0; i < sc.num && i < NVME_ID_SECONDARY_CTRL_MAX; i++) {
        if (le16toh(sc.sc_entry[i].vfn) > pf->numvfs)
            pf->numvfs = le16toh(sc.sc_entry[i].vfn);
        if (!pf->scid && !(sc.sc_entry[i].scs & 1)) {
            pf->scid = le16toh(sc.sc_entry[i].scid);
            pf->vfn = le16toh(sc.sc_entry[i].vfn);
        }
    }
    if (!pf->scid) {
        fprintf(stderr, "%s: no offline secondary controller\n", prog);
        return 1;
    }
    return 0;
}

static int virt_mgmt(struct pf *pf, enum nvme_virt_mgmt_act act,
                     enum nvme_virt_mgmt_rt rt, uint16_t nr)
{
    __u32 result = 0;
    struct nvme_virtual_mgmt_args args = {
        .args_size = sizeof(args),
        .fd = pf->fd,
        .act = act,
        .rt = rt,
        .cntlid = pf->scid,
        .nr = nr,
        .result = &result,
        .timeout = NVME_DEFAULT_IOCTL_TIMEOUT,
    };
    int r = nvme_virtual_mgmt(&args);

    return r ? die("Virtualization Management", r) : 0;
}

static int ns_attach(struct pf *pf, uint32_t nsid, bool attach)
{
    struct nvme_ctrl_list list;
    __u16 id = pf->scid;
    int r;

    nvme_init_ctrl_list(&list, 1, &id);
    r = attach ? nvme_ns_attach_ctrls(pf->fd, nsid, &list)
               : nvme_ns_detach_ctrls(pf->fd, nsid, &list);
    return r ? die(attach ? "attach" : "detach", r) : 0;
}

static int set_numvfs(struct pf *pf, unsigned int n)
{
    char v[16];

    snprintf(v, sizeof(v), "%u", n);
    return pci_write(pf->bdf, "sriov_numvfs", v) ? die("sriov_numvfs", -1)
                                                   : 0;
}

static int find_vf(struct pf *pf)
{
    char link[32];

    snprintf(link, sizeof(link), "virtfn%u", pf->vfn - 1);
    pci_link(pf->bdf, link, pf->vf, sizeof(pf->vf));
    if (!pf->vf[0]) {
        fprintf(stderr, "%s: VF %u of %s did not appear\n", prog, pf->vfn,
                pf->bdf);
        return 1;
    }
    return 0;
}

static int check_driver(const char *vf, const char *driver)
{
    char cur[64];

    pci_link(vf, "driver", cur, sizeof(cur));
    if (strcmp(cur, driver)) {
        fprintf(stderr, "%s: %s bound to '%s', not %s\n", prog, vf, cur,
                driver);
        return 1;
    }
    return 0;
}

/* nvme's probe goes on after drivers_probe returns: the VF is usable
 * once its controller is live. Polled every millisecond, for 10 s. */
static bool ctrl_live(const char *vf)
{
    char path[PATH_MAX], state[16] = "";
    struct dirent *d;
    bool live = false;
    DIR *dir;
    FILE *f;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvme", vf);
    dir = opendir(path);
    if (!dir)
        return false;
    while ((d = readdir(dir)) && strncmp(d->d_name, "nvme", 4))
        ;
    if (d) {
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvme/%s/state",
                 vf, d->d_name);
        f = fopen(path, "re");
        if (f) {
            live = fgets(state, sizeof(state), f) &&
                   !strncmp(state, "live", 4);
            fclose(f);
        }
    }
    closedir(dir);
    return live;
}

static int wait_live(const char *vf)
{
    static const struct timespec ms = { 0, 1000000 };
    int i;

    for (i = 0; i < 10000; i++) {
        if (ctrl_live(vf))
            return 0;
        nanosleep(&ms, NULL);
    }
    fprintf(stderr, "%s: %s: no live nvme controller after 10 s\n", prog,
            vf);
    return 1;
}

static int health(struct pf *pf)
{
    struct nvme_id_ctrl id;
    int r = nvme_identify_ctrl(pf->fd, &id);

    return r ? die("Identify Controller on the PF", r) : 0;
}

/* The secondary's flexible resources: VQ queues, VI interrupts. */
static int assign(struct pf *pf)
{
    return virt_mgmt(pf, NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL,
                     NVME_VIRT_MGMT_RT_VQ_RESOURCE, VQ) ||
           virt_mgmt(pf, NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL,
                     NVME_VIRT_MGMT_RT_VI_RESOURCE, VI);
}

static int cmd_prepare(struct pf *pf, uint32_t nsid, const char *driver)
{
    bool noreset;
    int bad;

    step(NULL);
    if (identify(pf, nsid))
        return 1;
    step("identify");
    if (pci_write(pf->bdf, "sriov_drivers_autoprobe", "0"))
        return die("sriov_drivers_autoprobe", -1);
    step("autoprobe");
    if (assign(pf))
        return 1;
    step("assign");
    if (set_numvfs(pf, pf->numvfs) || find_vf(pf))
        return 1;
    step("numvfs");
    if (virt_mgmt(pf, NVME_VIRT_MGMT_ACT_ONLINE_SEC_CTRL, 0, 0))
        return 1;
    step("online");
    if (ns_attach(pf, nsid, true))
        return 1;
    step("attach");
    if (!strcmp(driver, "nvme")) {
        if (pci_write(pf->vf, "reset", "1"))
            return die("VF reset", -1);
        step("vf-reset");
    }
    /* as the engine: pciback's reset is left to libxl's at assignment */
    noreset = !strcmp(driver, "pciback") &&
              !getenv("XVF_BENCH_PCIBACK_RESET") &&
              !pci_write(pf->vf, "reset_method", "\n");
    bad = pci_write(pf->vf, "driver_override", driver) ||
          sysfs_write("/sys/bus/pci/drivers_probe", pf->vf) ? errno : 0;
    if (noreset && pci_write(pf->vf, "reset_method", "default"))
        return die("reset_method", -1);
    errno = bad;
    if (bad)
        return die("driver_override + drivers_probe", -1);
    if (check_driver(pf->vf, driver))
        return 1;
    step("bind");
    if (!strcmp(driver, "nvme")) {
        if (wait_live(pf->vf))
            return 1;
        step("probe");
    }
    if (health(pf))
        return 1;
    step("health");
    printf("%s %u %lld\n", pf->vf, pf->scid, now_us() - t_main);
    return 0;
}

static int unbind(const char *vf)
{
    char drv[64], path[PATH_MAX];

    pci_link(vf, "driver", drv, sizeof(drv));
    if (!drv[0])
        return 0;
    snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", drv);
    return sysfs_write(path, vf) ? die(path, -1) : 0;
}

static int cmd_release(struct pf *pf, uint32_t nsid)
{
    step(NULL);
    if (unbind(pf->vf))
        return 1;
    if (pci_write(pf->vf, "driver_override", "\n"))
        return die("driver_override", -1);
    step("unbind");
    if (ns_attach(pf, nsid, false))
        return 1;
    step("detach");
    if (virt_mgmt(pf, NVME_VIRT_MGMT_ACT_OFFLINE_SEC_CTRL, 0, 0))
        return 1;
    step("offline");
    if (set_numvfs(pf, 0))
        return 1;
    step("numvfs");
    if (pci_write(pf->bdf, "sriov_drivers_autoprobe", "1"))
        return die("sriov_drivers_autoprobe", -1);
    step("autoprobe");
    return 0;
}

/* The probe autoprobe started fails on an offline secondary and lets go. */
static int wait_unbound(const char *vf)
{
    char drv[64];
    int i;

    for (i = 0; i < PROBE_WAIT_MS; i++) {
        pci_link(vf, "driver", drv, sizeof(drv));
        if (!drv[0])
            return 0;
        usleep(1000);
    }
    fprintf(stderr, "%s: %s still bound to %s after %d ms\n", prog, vf, drv,
            PROBE_WAIT_MS);
    return 1;
}

static int cmd_seed_prepare(struct pf *pf, uint32_t nsid)
{
    char path[PATH_MAX];

    step(NULL);
    if (identify(pf, nsid))
        return 1;
    step("identify");
    if (ns_attach(pf, nsid, true))
        return 1;
    step("attach");
    if (assign(pf))
        return 1;
    step("assign");
    if (set_numvfs(pf, pf->numvfs) || find_vf(pf))
        return 1;
    step("numvfs");
    if (wait_unbound(pf->vf))
        return 1;
    step("failed-probe");
    if (virt_mgmt(pf, NVME_VIRT_MGMT_ACT_ONLINE_SEC_CTRL, 0, 0))
        return 1;
    step("online");
    snprintf(path, sizeof(path), "/sys/bus/pci/drivers/nvme/bind");
    if (sysfs_write(path, pf->vf))
        return die(path, -1);
    if (check_driver(pf->vf, "nvme"))
        return 1;
    step("bind");
    printf("%s %u %lld\n", pf->vf, pf->scid, now_us() - t_main);
    return 0;
}

static int cmd_seed_release(struct pf *pf, uint32_t nsid)
{
    step(NULL);
    if (unbind(pf->vf))
        return 1;
    step("unbind");
    if (set_numvfs(pf, 0))
        return 1;
    step("numvfs");
    if (virt_mgmt(pf, NVME_VIRT_MGMT_ACT_OFFLINE_SEC_CTRL, 0, 0))
        return 1;
    step("offline");
    if (ns_attach(pf, nsid, false))
        return 1;
    step("detach");
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
        "Usage: %s prepare CTRL NSID [DRIVER]\n"
        "       %s release CTRL NSID SCID VF\n"
        "       %s seed-prepare CTRL NSID\n"
        "       %s seed-release CTRL NSID SCID VF\n",
        prog, prog, prog, prog);
}

int main(int argc, char **argv)
{
    struct pf pf = { .fd = -1 };
    const char *cmd, *e;
    uint32_t nsid;
    int rc;

    e = getenv("XVF_BENCH_STEPS");
    steps = e && !strcmp(e, "1");
    if (argc < 4) {
        usage();
        return 2;
    }
    cmd = argv[1];
    nsid = strtoul(argv[3], NULL, 0);
    t_main = now_us();
    if (pf_open(&pf, argv[2]))
        return 1;
    if (!strcmp(cmd, "prepare") && argc <= 5) {
        rc = cmd_prepare(&pf, nsid, argc == 5 ? argv[4] : "nvme");
    } else if (!strcmp(cmd, "seed-prepare") && argc == 4) {
        rc = cmd_seed_prepare(&pf, nsid);
    } else if ((!strcmp(cmd, "release") || !strcmp(cmd, "seed-release")) &&
               argc == 6) {
        pf.scid = strtoul(argv[4], NULL, 0);
        snprintf(pf.vf, sizeof(pf.vf), "%s", argv[5]);
        rc = cmd[0] == 's' ? cmd_seed_release(&pf, nsid)
                           : cmd_release(&pf, nsid);
    } else {
        usage();
        rc = 2;
    }
    close(pf.fd);
    return rc;
}
