/* SPDX-License-Identifier: LGPL-2.1-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "engine/journal.h"
#include "util/clock.h"
#include "util/str.h"

static const char *const state_names[] = {
    [XVF_ENTRY_PREPARING] = "preparing",
    [XVF_ENTRY_READY] = "ready",
    [XVF_ENTRY_RELEASING] = "releasing",
};

const char *xvf_entry_state_name(enum xvf_entry_state state)
{
    return (unsigned int)state < 3 ? state_names[state] : "?";
}

int xvf_state_dir_init(const char *dir)
{
    if (mkdir(dir, 0700) && errno != EEXIST)
        return -errno;
    return 0;
}

/* Makes a rename or unlink in @dir survive a power cut. */
static int sync_dir(const char *dir)
{
    int fd, r = 0;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fsync(fd))
        r = -errno;
    close(fd);
    return r;
}

static int write_all(int fd, const char *text, size_t len)
{
    ssize_t n;

    while (len) {
        n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        /* write() returning 0 for a regular file means no space left. */
        if (n == 0)
            return -ENOSPC;
        text += n;
        len -= n;
    }
    return 0;
}

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    int fd, r;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= PATH_MAX ||
        snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= PATH_MAX)
        return -ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    r = write_all(fd, text, strlen(text));
    if (!r && fsync(fd))
        r = -errno;
    if (close(fd) && !r)
        r = -errno;
    if (!r && rename(tmp, path))
        r = -errno;
    if (r) {
        unlink(tmp);
        return r;
    }
    return sync_dir(dir);
}

static int remove_file(const char *dir, const char *name)
{
    char path[PATH_MAX];

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= PATH_MAX)
        return -ENAMETOOLONG;
    if (unlink(path)) {
        if (errno == ENOENT)
            return 0;
        return -errno;
    }
    return sync_dir(dir);
}

static int read_file(const char *dir, const char *name, char *buf,
                     size_t len)
{
    char path[PATH_MAX];
    ssize_t n;
    int fd, r;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= PATH_MAX)
        return -ENAMETOOLONG;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, len - 1);
    r = n < 0 ? -errno : 0;
    close(fd);
    if (r)
        return r;
    buf[n] = '\0';
    return 0;
}

/* Calls @fn for every "key=value" line; unknown keys are ignored. */
static void for_each_kv(char *text, void (*fn)(void *, const char *,
                                               const char *), void *opaque)
{
    char *line, *save, *eq;

    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        fn(opaque, line, eq + 1);
    }
}

/* The keys a journal file stores as they are, each named as its member. */
enum kv_kind { KV_STR, KV_UINT, KV_INT, KV_LLONG, KV_FLAG };

struct kv_field {
    const char *key;
    enum kv_kind kind;
    size_t off, size;
};

#define KV(type, member, kind) \
    { #member, kind, offsetof(type, member), sizeof(((type *)0)->member) }

#define NET(m, kind) KV(struct xvf_entry_net, m, kind)
static const struct kv_field net_fields[] = {
    NET(vlan, KV_UINT), NET(qos, KV_UINT), NET(min_rate, KV_UINT),
    NET(max_rate, KV_UINT), NET(spoofchk, KV_INT), NET(trust, KV_INT),
    NET(link_state, KV_INT),
};

#define ENTRY(m, kind) KV(struct xvf_entry, m, kind)
static const struct kv_field entry_fields[] = {
    ENTRY(spec, KV_STR), ENTRY(owner, KV_STR), ENTRY(pf, KV_STR),
    ENTRY(vf, KV_STR), ENTRY(driver, KV_STR), ENTRY(scid, KV_UINT),
    ENTRY(vfn, KV_UINT), ENTRY(nsid, KV_UINT), ENTRY(vq, KV_UINT),
    ENTRY(vi, KV_UINT), ENTRY(steps, KV_UINT),
};

#define PF(m, kind) KV(struct xvf_pf_entry, m, kind)
static const struct kv_field pf_fields[] = {
    PF(autoprobe_orig, KV_UINT), PF(numvfs_orig, KV_UINT),
    PF(numvfs_raised, KV_FLAG), PF(warm_until, KV_LLONG),
};

_Static_assert(sizeof(unsigned int) == sizeof(uint32_t),
               "KV_UINT stores 16 or 32 bits");

/* Through memcpy(): the members are of several widths (uint16_t, int,
 * bool...), the table has only their size. */
static void kv_store(void *obj, const struct kv_field *f, const char *v)
{
    char *p = (char *)obj + f->off;
    unsigned long u = 0;
    uint16_t u16;
    uint32_t u32;
    long long ll;
    bool flag;
    int i;

    switch (f->kind) {
    case KV_STR:
        snprintf(p, f->size, "%s", v);
        return;
    case KV_UINT:
        u = strtoul(v, NULL, 0);
        break;
    case KV_INT:
        i = strtol(v, NULL, 0);
        memcpy(p, &i, sizeof(i));
        return;
    case KV_LLONG:
        ll = strtoll(v, NULL, 10);
        memcpy(p, &ll, sizeof(ll));
        return;
    case KV_FLAG:
        flag = !strcmp(v, "1");
        memcpy(p, &flag, sizeof(flag));
        return;
    }
    if (f->size == sizeof(u16)) {
        u16 = u;
        memcpy(p, &u16, sizeof(u16));
    } else {
        u32 = u;
        memcpy(p, &u32, sizeof(u32));
    }
}

/* Return: whether @k is one of @fields (then stored into @obj). */
static bool kv_set(void *obj, const struct kv_field *fields, size_t n,
                   const char *k, const char *v)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcmp(k, fields[i].key)) {
            kv_store(obj, &fields[i], v);
            return true;
        }
    return false;
}

#define KV_SET(obj, fields, k, v) \
    kv_set(obj, fields, sizeof(fields) / sizeof(fields[0]), k, v)

/* A NIC VF's saved settings: "saved_mac=...", all or none. */
static void net_kv(struct xvf_entry_net *n, const char *k, const char *v)
{
    if (!strcmp(k, "mac"))
        n->saved = !xvf_parse_mac(v, n->mac);
    else
        KV_SET(n, net_fields, k, v);
}

static void entry_kv(void *opaque, const char *k, const char *v)
{
    struct xvf_entry *e = opaque;
    unsigned int i;

    if (!strcmp(k, "state")) {
        for (i = 0; i < 3; i++)
            if (!strcmp(v, state_names[i]))
                e->state = i;
    } else if (!strcmp(k, "class"))
        e->cls = strcmp(v, "net") ? XVF_CLASS_NVME : XVF_CLASS_NET;
    else if (!strncmp(k, "saved_", 6))
        net_kv(&e->net, k + 6, v);
    else
        KV_SET(e, entry_fields, k, v);
}

int xvf_journal_save(const char *dir, const struct xvf_entry *e)
{
    const struct xvf_entry_net *n = &e->net;
    char text[1024], mac[18];
    int len;

    len = snprintf(text, sizeof(text),
                   "spec=%s\nowner=%s\nstate=%s\nclass=%s\npf=%s\nvf=%s\n"
                   "scid=0x%x\nvfn=%u\nnsid=%u\nvq=%u\nvi=%u\ndriver=%s\n"
                   "steps=0x%x\n",
                   e->spec, e->owner, xvf_entry_state_name(e->state),
                   e->cls == XVF_CLASS_NET ? "net" : "nvme", e->pf,
                   e->vf, e->scid, e->vfn, e->nsid, e->vq, e->vi, e->driver,
                   e->steps);
    if (n->saved && len > 0 && (size_t)len < sizeof(text))
        snprintf(text + len, sizeof(text) - len,
                 "saved_vlan=%u\nsaved_qos=%u\nsaved_min_rate=%u\n"
                 "saved_max_rate=%u\nsaved_spoofchk=%d\nsaved_trust=%d\n"
                 "saved_link_state=%d\nsaved_mac=%s\n", n->vlan, n->qos,
                 n->min_rate, n->max_rate, n->spoofchk, n->trust,
                 n->link_state, xvf_mac_str(n->mac, mac));
    return write_file(dir, e->id, text);
}

int xvf_journal_remove(const char *dir, const struct xvf_entry *e)
{
    return remove_file(dir, e->id);
}

/*
 * The files of @dir whose names start with @prefix, into a malloc()ed
 * array of @size-byte slots: @add fills a zeroed slot from a file and
 * says whether to keep it (else the slot is used again).
 */
static int list_dir(const char *dir, const char *prefix, size_t size,
                    bool (*add)(void *opaque, const char *dir,
                                const char *name, void *slot),
                    void *opaque, void **ret, unsigned int *n)
{
    unsigned int count = 0;
    char *list = NULL, *tmp;
    struct dirent *de;
    DIR *d;
    int r = 0;

    *ret = NULL;
    *n = 0;
    d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)))
            continue;
        tmp = realloc(list, (count + 1) * size);
        if (!tmp) {
            r = -ENOMEM;
            break;
        }
        list = tmp;
        memset(list + count * size, 0, size);
        if (add(opaque, dir, de->d_name, list + count * size))
            count++;
    }
    closedir(d);
    if (r) {
        free(list);
        return r;
    }
    *ret = list;
    *n = count;
    return 0;
}

/* @opaque: the PF whose entries are kept, or NULL for all. */
static bool entry_add(void *opaque, const char *dir, const char *name,
                      void *slot)
{
    const char *pf = opaque;
    struct xvf_entry *e = slot;
    char text[1024];

    if (strlen(name) >= sizeof(e->id) ||
        read_file(dir, name, text, sizeof(text)))
        return false;
    strcpy(e->id, name);
    for_each_kv(text, entry_kv, e);
    return !pf || !strcmp(e->pf, pf);
}

int xvf_journal_list(const char *dir, const char *pf, struct xvf_entry **ret,
                     unsigned int *n)
{
    void *list;
    int r;

    r = list_dir(dir, "vf-", sizeof(**ret), entry_add, (void *)pf, &list, n);
    *ret = list;
    return r;
}

static void pf_kv(void *opaque, const char *k, const char *v)
{
    KV_SET(opaque, pf_fields, k, v);
}

int xvf_journal_pf_load(const char *dir, const char *pf,
                        struct xvf_pf_entry *ret)
{
    char name[64], text[512];
    int r;

    snprintf(name, sizeof(name), "pf-%s", pf);
    r = read_file(dir, name, text, sizeof(text));
    if (r)
        return r;
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->pf, sizeof(ret->pf), "%s", pf);
    for_each_kv(text, pf_kv, ret);
    return 0;
}

int xvf_journal_pf_save(const char *dir, const struct xvf_pf_entry *e)
{
    char name[64], text[256];

    snprintf(name, sizeof(name), "pf-%s", e->pf);
    snprintf(text, sizeof(text),
             "autoprobe_orig=%u\nnumvfs_orig=%u\nnumvfs_raised=%d\n"
             "warm_until=%lld\n", e->autoprobe_orig, e->numvfs_orig,
             e->numvfs_raised, e->warm_until);
    return write_file(dir, name, text);
}

int xvf_journal_pf_remove(const char *dir, const char *pf)
{
    char name[64];

    snprintf(name, sizeof(name), "pf-%s", pf);
    return remove_file(dir, name);
}

static bool pf_add(void *opaque, const char *dir, const char *name,
                   void *slot)
{
    if (strlen(name + 3) >= XVF_BDF_LEN)
        return false;
    strcpy(slot, name + 3);
    return true;
}

int xvf_journal_pf_list(const char *dir, char (**ret)[XVF_BDF_LEN],
                        unsigned int *n)
{
    void *list;
    int r;

    r = list_dir(dir, "pf-", sizeof(**ret), pf_add, NULL, &list, n);
    *ret = list;
    return r;
}

static int lock_open(const char *dir, const char *pf, char *path, int *fd)
{
    int r;

    r = xvf_state_dir_init(dir);
    if (r)
        return r;
    if (snprintf(path, PATH_MAX, "%s/lock-%s", dir, pf) >= PATH_MAX)
        return -ENAMETOOLONG;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return -errno;
    return 0;
}

int xvf_lock_pf(const char *dir, const char *pf, int *fd)
{
    char path[PATH_MAX];
    int r;

    r = lock_open(dir, pf, path, fd);
    if (r)
        return r;
    while (flock(*fd, LOCK_EX)) {
        if (errno == EINTR)
            continue;
        r = -errno;
        close(*fd);
        *fd = -1;
        return r;
    }
    return 0;
}

/*
 * flock() has no timed form, and interrupting a blocking one needs a
 * signal handler, which a library must not install behind its caller's
 * back (xen-vfd takes its signals through a signalfd). So: non-blocking
 * attempts, 1 ms apart at first, doubling up to 50 ms, until the
 * deadline. A release is seen within 50 ms; the waiter costs a few
 * wake-ups a second.
 */
int xvf_lock_pf_timed(const char *dir, const char *pf,
                      unsigned int timeout_ms, int *fd)
{
    long long deadline, now;
    long long nap_us = 1000;
    char path[PATH_MAX];
    struct timespec ts;
    int r;

    r = lock_open(dir, pf, path, fd);
    if (r)
        return r;
    deadline = xvf_now_us() + timeout_ms * 1000LL;
    for (;;) {
        if (!flock(*fd, LOCK_EX | LOCK_NB))
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            r = -errno;
            break;
        }
        now = xvf_now_us();
        if (now >= deadline) {
            r = -ETIMEDOUT;
            break;
        }
        if (nap_us > deadline - now)
            nap_us = deadline - now;
        ts.tv_sec = nap_us / 1000000;
        ts.tv_nsec = (long)(nap_us % 1000000) * 1000;
        nanosleep(&ts, NULL);
        nap_us = nap_us * 2 > 50000 ? 50000 : nap_us * 2;
    }
    close(*fd);
    *fd = -1;
    return r;
}

/*
 * The holder as the kernel lists it: "N: FLOCK ADVISORY WRITE PID
 * MAJ:MIN:INO 0 EOF", waiters as "N: -> FLOCK ...". The real /proc, not
 * XEN_VF_ROOT's: the lock is a real one. The device is matched when it
 * agrees (overlayfs may report another one for a file), the inode always.
 */
int xvf_lock_pf_holder(const char *dir, const char *pf, long *pid,
                       char *comm, size_t len)
{
    char path[PATH_MAX], line[256], type[16];
    unsigned int maj, min;
    unsigned long ino;
    long who, found = -1;
    struct stat sb;
    ssize_t n;
    FILE *f;
    int fd;

    if (snprintf(path, sizeof(path), "%s/lock-%s", dir, pf) >= PATH_MAX)
        return -ENAMETOOLONG;
    if (stat(path, &sb))
        return -errno;
    f = fopen("/proc/locks", "re");
    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%*s %15s %*s %*s %ld %x:%x:%lu", type, &who, &maj,
                   &min, &ino) != 5 || strcmp(type, "FLOCK") ||
            ino != (unsigned long)sb.st_ino || who <= 0)
            continue;
        found = who;
        if (maj == major(sb.st_dev) && min == minor(sb.st_dev))
            break;
    }
    fclose(f);
    if (found < 0)
        return -ENOENT;
    *pid = found;
    if (!len)
        return 0;
    comm[0] = '\0';
    snprintf(path, sizeof(path), "/proc/%ld/comm", found);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, comm, len - 1);
        comm[n > 0 ? n : 0] = '\0';
        comm[strcspn(comm, "\n")] = '\0';
        close(fd);
    }
    return 0;
}

void xvf_unlock_pf(int fd)
{
    if (fd >= 0)
        close(fd);
}
