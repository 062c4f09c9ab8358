/* SPDX-License-Identifier: LGPL-2.1-only */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/nvme_ioctl.h>
#include <nvme/types.h>

#include "internal.h"

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef ssize_t (*write_fn)(int, const void *, size_t);

/*
 * Set while the mock itself runs, so nothing it calls is intercepted.
 * initial-exec: no __tls_get_addr, hence no dependency on ld.so itself,
 * which a preloaded library's DT_NEEDED on ld-linux made ld.so assert on
 * in the Xen tier's PV driver domain ("dl-version.c: Assertion `needed
 * != NULL'").
 */
static __thread int busy __attribute__((tls_model("initial-exec")));

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
    if (kind == XVF_MOCK_NETLINK) {
        if (f->opcode >= 0 || f->sub >= 0 ||
            (f->attr[0] && strcmp(f->attr, attr)))
            return false;
    } else if (kind == XVF_MOCK_ADMIN) {
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
    bool polled = false;
    char poll_note[48] = "";
    unsigned int timeout_ms;
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
        timeout_ms = c64->timeout_ms;
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
        timeout_ms = c32->timeout_ms;
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
            if (!status)
                xm_ns_sync(&c, pf, true);
            /* a VF's own vectors are not modelled */
            if (!is_vf) {
                r = xm_irq_complete(&c, pf, timeout_ms, &polled);
                if (r)
                    err = -r;
            }
        }
    }
    if (!err) {
        if (is64)
            c64->result = cmd.result;
        else
            c32->result = cmd.result;
    }
    if (polled && timeout_ms)
        snprintf(poll_note, sizeof(poll_note), " [polled after %u ms]",
                 timeout_ms);
    else if (polled)
        snprintf(poll_note, sizeof(poll_note), " [polled after "
                 "admin_timeout]");
    xm_log(&c, "admin #%u %s opc=0x%02x cdw10=0x%08x cdw11=0x%x nsid=0x%x "
           "-> %s%s0x%04x result=0x%x%s%s",
           c.m->n_admin + c.m->n_write + c.m->n_netlink,
           rel + 4, cmd.opcode, cmd.cdw10, cmd.cdw11, cmd.nsid,
           err ? "-1 " : "", err ? strerror(err) : "", err ? 0 : status,
           cmd.result, injected ? " [injected]" : "", poll_note);
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
        if (r <= 0)
            xm_ns_sync(&c, NULL, true);
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
    xm_log(&c, "write #%u %s '%s' -> %d%s%s%s",
           c.m->n_admin + c.m->n_write + c.m->n_netlink,
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

/*
 * Only a regular file can be a fake sysfs attribute. Checked before
 * do_write(), whose path buffers (about 12 KiB) would overflow the 16 KiB
 * stack of libxenstore's reader thread, which writes to its watch pipe.
 */
static bool maybe_fake(int fd)
{
    struct stat st;

    return !fstat(fd, &st) && S_ISREG(st.st_mode);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    bool handled = false;
    ssize_t r;
    int saved;

    if (busy)
        return xm_real_write(fd, buf, n);
    saved = errno;
    if (!maybe_fake(fd)) {
        errno = saved;
        return xm_real_write(fd, buf, n);
    }
    busy = 1;
    r = do_write(fd, buf, n, &handled);
    busy = 0;
    if (!handled) {
        errno = saved;
        return xm_real_write(fd, buf, n);
    }
    return r;
}

/*
 * Fake NETLINK_ROUTE sockets. While $XEN_VF_ROOT holds a model, socket()
 * for NETLINK_ROUTE returns one end of a SOCK_SEQPACKET socketpair; the
 * mock keeps the other. A request sent on it runs against the model
 * (rtnl.c) and its answers are written to the other end, where recvmsg()
 * finds them with a netlink source address. Link notifications go to the
 * sockets of this process that joined RTNLGRP_LINK.
 */
#define XM_MAX_NL 32

struct fake_nl {
    int fd, peer;
    ino_t ino;
    uint32_t portid, groups;
    bool ext_ack;
};

static struct fake_nl fakes[XM_MAX_NL];
static unsigned int n_portids;

typedef int (*socket_fn)(int, int, int);
typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*getsockname_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int,
                             const struct sockaddr *, socklen_t);
typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);
typedef ssize_t (*recvfrom_fn)(int, void *, size_t, int, struct sockaddr *,
                               socklen_t *);
typedef int (*close_fn)(int);

#define REAL(name) \
    static name##_fn real_##name; \
    if (!real_##name) \
        real_##name = (name##_fn)dlsym(RTLD_NEXT, #name)

static struct fake_nl *fake_of(int fd)
{
    struct stat st;
    unsigned int i;

    if (fd < 0)
        return NULL;
    for (i = 0; i < XM_MAX_NL; i++) {
        if (fakes[i].fd != fd || !fakes[i].ino)
            continue;
        /* a number reused after a close we did not see is not ours */
        if (fstat(fd, &st) || st.st_ino != fakes[i].ino)
            return NULL;
        return &fakes[i];
    }
    return NULL;
}

static bool model_root(char *root, size_t len)
{
    char path[XM_PATH + 16];
    const char *env = getenv("XEN_VF_ROOT");
    struct stat st;

    if (!env || !*env || xm_canon_root(env, root, len))
        return false;
    snprintf(path, sizeof(path), "%s/.mock/state", root);
    return !stat(path, &st);
}

XVF_MOCK_API int socket(int domain, int type, int protocol);
XVF_MOCK_API int bind(int fd, const struct sockaddr *addr, socklen_t len);
XVF_MOCK_API int getsockname(int fd, struct sockaddr *addr, socklen_t *len);
XVF_MOCK_API int setsockopt(int fd, int level, int name, const void *val,
                            socklen_t len);
XVF_MOCK_API ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                            const struct sockaddr *addr, socklen_t alen);
XVF_MOCK_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags);
XVF_MOCK_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
                              struct sockaddr *addr, socklen_t *alen);
XVF_MOCK_API int close(int fd);

int socket(int domain, int type, int protocol)
{
    char root[XM_PATH];
    struct stat st;
    unsigned int i;
    int sv[2];

    REAL(socket);
    if (busy || domain != AF_NETLINK || protocol != NETLINK_ROUTE ||
        !model_root(root, sizeof(root)))
        return real_socket(domain, type, protocol);
    for (i = 0; i < XM_MAX_NL && fakes[i].ino; i++)
        ;
    if (i == XM_MAX_NL) {
        errno = EMFILE;
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | (type & (SOCK_CLOEXEC |
                   SOCK_NONBLOCK)), 0, sv))
        return -1;
    if (fstat(sv[0], &st) ||
        fcntl(sv[1], F_SETFD, FD_CLOEXEC)) {
        int e = errno;

        REAL(close);
        real_close(sv[0]);
        real_close(sv[1]);
        errno = e;
        return -1;
    }
    fakes[i].fd = sv[0];
    fakes[i].peer = sv[1];
    fakes[i].ino = st.st_ino;
    fakes[i].portid = 0;
    fakes[i].groups = 0;
    fakes[i].ext_ack = false;
    return sv[0];
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    const struct sockaddr_nl *nl = (const struct sockaddr_nl *)addr;
    struct fake_nl *f = fake_of(fd);

    REAL(bind);
    if (!f)
        return real_bind(fd, addr, len);
    if (len < sizeof(*nl) || nl->nl_family != AF_NETLINK) {
        errno = EINVAL;
        return -1;
    }
    f->groups = nl->nl_groups;
    /* the kernel's autobind: the pid first, then unique negatives */
    f->portid = nl->nl_pid ? nl->nl_pid
                           : n_portids++ ? (uint32_t)-4096 - n_portids
                                         : (uint32_t)getpid();
    return 0;
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
    struct fake_nl *f = fake_of(fd);

    REAL(getsockname);
    if (!f)
        return real_getsockname(fd, addr, len);
    nl.nl_pid = f->portid;
    nl.nl_groups = f->groups;
    memcpy(addr, &nl, *len < sizeof(nl) ? *len : sizeof(nl));
    *len = sizeof(nl);
    return 0;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    struct fake_nl *f = fake_of(fd);
    unsigned int grp;

    REAL(setsockopt);
    if (!f || level != SOL_NETLINK)
        return real_setsockopt(fd, level, name, val, len);
    if (name == NETLINK_EXT_ACK && len >= sizeof(grp)) {
        memcpy(&grp, val, sizeof(grp));
        f->ext_ack = grp;
    }
    if (name == NETLINK_ADD_MEMBERSHIP && len >= sizeof(grp)) {
        memcpy(&grp, val, sizeof(grp));
        if (grp >= 1 && grp <= 32)
            f->groups |= 1u << (grp - 1);
    }
    return 0;
}

static void emit_peer(void *opaque, const void *msg, size_t len)
{
    const struct fake_nl *f = opaque;

    if (send(f->peer, msg, len, MSG_DONTWAIT) < 0)
        xm_real_write(2, "xvf-mock: netlink reply lost\n", 29);
}

void xm_nl_broadcast(uint32_t group, const void *msg, size_t len)
{
    unsigned int i;

    for (i = 0; i < XM_MAX_NL; i++)
        if (fakes[i].ino && (fakes[i].groups & group))
            send(fakes[i].peer, msg, len, MSG_DONTWAIT);
}

static ssize_t do_request(struct fake_nl *f, const void *buf, size_t n)
{
    const struct nlmsghdr *nlh = buf;
    char root[XM_PATH], what[256];
    const char *op = xm_rtnl_op(buf, n);
    struct xm_ctx c;
    bool injected;
    int r;

    if (n < sizeof(*nlh) || !model_root(root, sizeof(root)) ||
        xm_open(&c, root, false)) {
        errno = EIO;
        return -1;
    }
    c.m->n_netlink++;
    injected = fault_hits(c.m, XVF_MOCK_NETLINK, NULL, op);
    if (injected) {
        r = -(c.m->fault.f.err ? c.m->fault.f.err : EIO);
        snprintf(what, sizeof(what), "-");
    } else {
        r = xm_rtnl_exec(&c, buf, n, f->portid, emit_peer, f, what,
                         sizeof(what));
    }
    if (r || (nlh->nlmsg_flags & NLM_F_ACK))
        xm_rtnl_error(buf, r, f->portid, injected && f->ext_ack ?
                      "xvf-mock: injected fault" : NULL, emit_peer, f);
    xm_log(&c, "netlink #%u %s %s -> %d%s%s%s",
           c.m->n_admin + c.m->n_write + c.m->n_netlink, op, what, r,
           r ? " " : "", r ? strerror(-r) : "",
           injected ? " [injected]" : "");
    r = xm_save(&c);
    xm_close(&c);
    if (r) {
        errno = -r;
        return -1;
    }
    return n;
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
               const struct sockaddr *addr, socklen_t alen)
{
    struct fake_nl *f;
    ssize_t r;

    REAL(sendto);
    if (busy || !(f = fake_of(fd)))
        return real_sendto(fd, buf, n, flags, addr, alen);
    busy = 1;
    r = do_request(f, buf, n);
    busy = 0;
    return r;
}

static void nl_source(struct sockaddr *addr, socklen_t *len)
{
    struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

    if (!addr || !len)
        return;
    memcpy(addr, &nl, *len < sizeof(nl) ? *len : sizeof(nl));
    *len = sizeof(nl);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct sockaddr *name = msg->msg_name;
    socklen_t namelen = msg->msg_namelen;
    ssize_t r;

    REAL(recvmsg);
    if (!fake_of(fd))
        return real_recvmsg(fd, msg, flags);
    msg->msg_name = NULL;
    msg->msg_namelen = 0;
    r = real_recvmsg(fd, msg, flags);
    msg->msg_name = name;
    msg->msg_namelen = namelen;
    if (r >= 0)
        nl_source(name, &msg->msg_namelen);
    return r;
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
                 struct sockaddr *addr, socklen_t *alen)
{
    ssize_t r;

    REAL(recvfrom);
    if (!fake_of(fd))
        return real_recvfrom(fd, buf, n, flags, addr, alen);
    r = real_recvfrom(fd, buf, n, flags, NULL, NULL);
    if (r >= 0)
        nl_source(addr, alen);
    return r;
}

int close(int fd)
{
    struct fake_nl *f = fake_of(fd);

    REAL(close);
    if (f) {
        real_close(f->peer);
        memset(f, 0, sizeof(*f));
    }
    return real_close(fd);
}
