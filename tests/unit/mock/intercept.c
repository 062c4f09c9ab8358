/* SPDX-License-Identifier: LGPL-2.1-only */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/nvme_ioctl.h>
#include <nvme/types.h>

#include "internal.h"

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef ssize_t (*write_fn)(int, const void *, size_t);

/* set while the mock itself runs, so nothing it calls is intercepted */
static __thread int busy;

ssize_t xm_real_write(int fd, const void *buf, size_t n)
{
    static write_fn real;

    if (!real)
        real = (write_fn)dlsym(RTLD_NEXT, "write");
    if (!real)
        return syscall(SYS_write, fd, buf, n);
    return real(fd, buf, n);
}

static int real_ioctl(int fd, unsigned long req, void *arg)
{
    static ioctl_fn real;

    if (!real)
        real = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
    if (!real)
        return syscall(SYS_ioctl, fd, req, arg);
    return real(fd, req, arg);
}

/*
 * Path of @fd relative to the canonical fake root, when it is below it.
 * /proc/self/fd gives the path with every link resolved.
 */
static int fd_rel(int fd, char *root, size_t rlen, char *rel, size_t len)
{
    char link[64], path[XM_PATH];
    const char *env = getenv("XEN_VF_ROOT");
    size_t n;
    ssize_t got;

    if (!env || !*env || xm_canon_root(env, root, rlen))
        return -ENOENT;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    got = readlink(link, path, sizeof(path) - 1);
    if (got < 0)
        return -ENOENT;
    path[got] = '\0';
    n = strlen(root);
    if (strncmp(path, root, n) || path[n] != '/' ||
        strlen(path + n + 1) >= len)
        return -ENOENT;
    strcpy(rel, path + n + 1);
    return 0;
}

static bool fault_hits(struct xm_model *m, enum xvf_mock_kind kind,
                       const struct xm_cmd *cmd, const char *attr)
{
    struct xm_fault_state *fs = &m->fault;
    const struct xvf_mock_fault *f = &fs->f;

    if (!fs->armed || !f->nth)
        return false;
    if (f->kind != XVF_MOCK_ANY && f->kind != kind)
        return false;
    if (kind == XVF_MOCK_ADMIN) {
        if (f->attr[0] || (f->opcode >= 0 && f->opcode != cmd->opcode) ||
            (f->sub >= 0 && f->sub != xm_cmd_sub(cmd)))
            return false;
    } else if (f->opcode >= 0 || f->sub >= 0 ||
               (f->attr[0] && strcmp(f->attr, attr))) {
        return false;
    }
    fs->seen++;
    if (fs->seen < f->nth)
        return false;
    if (!f->sticky)
        fs->armed = false;
    m->n_fired++;
    return true;
}

static int do_admin(int fd, unsigned long req, void *arg, bool *handled)
{
    struct nvme_passthru_cmd *c32 = arg;
    struct nvme_passthru_cmd64 *c64 = arg;
    bool is64 = req == NVME_IOCTL_ADMIN64_CMD, is_vf = false, injected;
    char root[XM_PATH], rel[XM_PATH];
    struct xm_pf *pf = NULL;
    struct xm_cmd cmd;
    struct xm_ctx c;
    uint16_t cntlid = 0;
    int r, status, err = 0;

    if (fd_rel(fd, root, sizeof(root), rel, sizeof(rel)) ||
        strncmp(rel, "dev/", 4) || strchr(rel + 4, '/') || !arg)
        return 0;
    if (xm_open(&c, root, false))
        return 0;
    *handled = true;
    memset(&cmd, 0, sizeof(cmd));
    if (is64) {
        cmd.opcode = c64->opcode;
        cmd.nsid = c64->nsid;
        cmd.cdw10 = c64->cdw10;
        cmd.cdw11 = c64->cdw11;
        cmd.cdw12 = c64->cdw12;
        cmd.cdw13 = c64->cdw13;
        cmd.cdw14 = c64->cdw14;
        cmd.cdw15 = c64->cdw15;
        cmd.addr = (void *)(uintptr_t)c64->addr;
        cmd.data_len = c64->data_len;
    } else {
        cmd.opcode = c32->opcode;
        cmd.nsid = c32->nsid;
        cmd.cdw10 = c32->cdw10;
        cmd.cdw11 = c32->cdw11;
        cmd.cdw12 = c32->cdw12;
        cmd.cdw13 = c32->cdw13;
        cmd.cdw14 = c32->cdw14;
        cmd.cdw15 = c32->cdw15;
        cmd.addr = (void *)(uintptr_t)c32->addr;
        cmd.data_len = c32->data_len;
    }
    c.m->n_admin++;
    injected = fault_hits(c.m, XVF_MOCK_ADMIN, &cmd, "");
    if (injected) {
        status = c.m->fault.f.status;
        err = c.m->fault.f.err;
        if (status)
            err = 0;
        else if (!err)
            status = NVME_SC_INTERNAL | NVME_SC_DNR;
    } else {
        r = xm_ctrl_target(&c, rel + 4, &pf, &cntlid, &is_vf);
        if (r) {
            status = 0;
            err = -r;
        } else {
            status = xm_admin(&c, pf, cntlid, is_vf, &cmd);
        }
    }
    if (!err) {
        if (is64)
            c64->result = cmd.result;
        else
            c32->result = cmd.result;
    }
    xm_log(&c, "admin #%u %s opc=0x%02x cdw10=0x%08x cdw11=0x%x nsid=0x%x "
           "-> %s%s0x%04x result=0x%x%s", c.m->n_admin + c.m->n_write,
           rel + 4, cmd.opcode, cmd.cdw10, cmd.cdw11, cmd.nsid,
           err ? "-1 " : "", err ? strerror(err) : "", err ? 0 : status,
           cmd.result, injected ? " [injected]" : "");
    r = xm_save(&c);
    xm_close(&c);
    if (r && !err)
        err = -r;
    if (err) {
        errno = err;
        return -1;
    }
    return status;
}

/* the two libc functions this library exists to replace */
XVF_MOCK_API int ioctl(int fd, unsigned long req, ...);
XVF_MOCK_API ssize_t write(int fd, const void *buf, size_t n);

int ioctl(int fd, unsigned long req, ...)
{
    bool handled = false;
    void *arg;
    va_list ap;
    int r, saved;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (busy ||
        (req != NVME_IOCTL_ADMIN_CMD && req != NVME_IOCTL_ADMIN64_CMD))
        return real_ioctl(fd, req, arg);
    saved = errno;
    busy = 1;
    r = do_admin(fd, req, arg, &handled);
    busy = 0;
    if (!handled) {
        errno = saved;
        return real_ioctl(fd, req, arg);
    }
    return r;
}

static void escape(char *out, size_t len, const char *in, size_t n)
{
    size_t o = 0, i;

    for (i = 0; i < n && o + 5 < len; i++) {
        unsigned char ch = in[i];

        if (ch == '\n')
            o += snprintf(out + o, len - o, "\\n");
        else if (ch < 0x20 || ch >= 0x7f)
            o += snprintf(out + o, len - o, "\\x%02x", ch);
        else
            out[o++] = ch;
    }
    out[o] = '\0';
}

static ssize_t do_write(int fd, const void *buf, size_t n, bool *handled)
{
    char root[XM_PATH], rel[XM_PATH], val[256];
    const char *attr;
    struct xm_ctx c;
    bool injected;
    int r, r2;

    if (fd_rel(fd, root, sizeof(root), rel, sizeof(rel)) ||
        strncmp(rel, "sys/", 4))
        return 0;
    if (xm_open(&c, root, false))
        return 0;
    *handled = true;
    attr = strrchr(rel, '/') + 1;
    c.m->n_write++;
    injected = fault_hits(c.m, XVF_MOCK_WRITE, NULL, attr);
    if (injected) {
        r = -(c.m->fault.f.err ? c.m->fault.f.err : EIO);
    } else {
        r = xm_sysfs_store(&c, rel, buf, n);
        if (r == 1) {
            /* a plain attribute: the value replaces the old one */
            if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != (ssize_t)n ||
                lseek(fd, n, SEEK_SET) < 0)
                r = -errno;
            else
                r = 0;
        }
    }
    escape(val, sizeof(val), buf, n < 200 ? n : 200);
    xm_log(&c, "write #%u %s '%s' -> %d%s%s%s", c.m->n_admin + c.m->n_write,
           rel, val, r, r ? " " : "", r ? strerror(-r) : "",
           injected ? " [injected]" : "");
    r2 = xm_save(&c);
    xm_close(&c);
    if (!r)
        r = r2;
    if (r) {
        errno = -r;
        return -1;
    }
    return n;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    bool handled = false;
    ssize_t r;
    int saved;

    if (busy)
        return xm_real_write(fd, buf, n);
    saved = errno;
    busy = 1;
    r = do_write(fd, buf, n, &handled);
    busy = 0;
    if (!handled) {
        errno = saved;
        return xm_real_write(fd, buf, n);
    }
    return r;
}
