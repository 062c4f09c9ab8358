/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/fake-xs.h"

#define MAX_NODES 512
#define MAX_PERMS 4

struct node {
    char *path;
    char *value;
    struct xs_permissions perms[MAX_PERMS];
    unsigned int nperms;
};

struct tree {
    struct node nodes[MAX_NODES];
    unsigned int n;
};

struct xs_handle {
    struct tree tree;
    struct tree saved;          /* the tree when the transaction began */
    xs_transaction_t t;         /* the open transaction, XBT_NULL if none */
    xs_transaction_t next_t;
    unsigned int fail_commits;
    unsigned int commits;
    unsigned int calls;         /* requests a real xenstored would answer */
    unsigned char introduced[64];  /* domids xenstored knows, as a bitmap */
    char *watches[32];          /* paths watched, in the order set */
    unsigned int nwatches;
    char watched[512];
    char shown[64];
};

static void tree_free(struct tree *tr)
{
    unsigned int i;

    for (i = 0; i < tr->n; i++) {
        free(tr->nodes[i].path);
        free(tr->nodes[i].value);
    }
    tr->n = 0;
}

static void tree_copy(struct tree *dst, const struct tree *src)
{
    unsigned int i;

    tree_free(dst);
    for (i = 0; i < src->n; i++) {
        dst->nodes[i] = src->nodes[i];
        dst->nodes[i].path = strdup(src->nodes[i].path);
        dst->nodes[i].value = strdup(src->nodes[i].value);
    }
    dst->n = src->n;
}

static struct node *find(struct tree *tr, const char *path)
{
    unsigned int i;

    for (i = 0; i < tr->n; i++)
        if (!strcmp(tr->nodes[i].path, path))
            return &tr->nodes[i];
    return NULL;
}

static int check_path(const char *path)
{
    size_t n = strlen(path);

    if (path[0] != '/' || (n > 1 && path[n - 1] == '/') ||
        strstr(path, "//"))
        return -EINVAL;
    return 0;
}

/* Creates @path and its missing parents, which inherit perms. */
static struct node *create(struct tree *tr, const char *path)
{
    char parent[256];
    struct node *p, *nd;
    const char *slash;

    nd = find(tr, path);
    if (nd)
        return nd;
    slash = strrchr(path, '/');
    if (slash == path) {
        p = find(tr, "/");
    } else {
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
        p = create(tr, parent);
    }
    if (!p || tr->n == MAX_NODES)
        abort();
    nd = &tr->nodes[tr->n++];
    nd->path = strdup(path);
    nd->value = strdup("");
    memcpy(nd->perms, p->perms, sizeof(nd->perms));
    nd->nperms = p->nperms;
    return nd;
}

static bool in_subtree(const char *path, const char *top)
{
    size_t n = strlen(top);

    return !strcmp(path, top) ||
           (!strncmp(path, top, n) && (path[n] == '/' || n == 1));
}

struct xs_handle *fake_xs_open(void)
{
    struct xs_handle *h = calloc(1, sizeof(*h));

    h->tree.nodes[0].path = strdup("/");
    h->tree.nodes[0].value = strdup("");
    h->tree.nodes[0].nperms = 1;
    h->tree.n = 1;
    h->next_t = 1;
    return h;
}

void fake_xs_close(struct xs_handle *h)
{
    tree_free(&h->tree);
    tree_free(&h->saved);
    while (h->nwatches)
        free(h->watches[--h->nwatches]);
    free(h);
}

void fake_xs_fail_commits(struct xs_handle *h, unsigned int n)
{
    h->fail_commits = n;
}

unsigned int fake_xs_commits(struct xs_handle *h)
{
    return h->commits;
}

unsigned int fake_xs_calls(struct xs_handle *h)
{
    return h->calls;
}

void fake_xs_put(struct xs_handle *h, const char *path, const char *val)
{
    struct node *nd = create(&h->tree, path);

    free(nd->value);
    nd->value = strdup(val);
}

const char *fake_xs_get(struct xs_handle *h, const char *path)
{
    struct node *nd = find(&h->tree, path);

    return nd ? nd->value : NULL;
}

bool fake_xs_exists(struct xs_handle *h, const char *path)
{
    return find(&h->tree, path) != NULL;
}

void fake_xs_introduce(struct xs_handle *h, unsigned int domid, bool on)
{
    if (domid >= 8 * sizeof(h->introduced))
        return;
    if (on)
        h->introduced[domid / 8] |= 1u << (domid % 8);
    else
        h->introduced[domid / 8] &= ~(1u << (domid % 8));
}

bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
    h->calls++;
    return domid < 8 * sizeof(h->introduced) &&
           (h->introduced[domid / 8] & (1u << (domid % 8)));
}

/* Events are not delivered: a test calls what the event would run. */
bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
    (void)token;
    if (h->nwatches == sizeof(h->watches) / sizeof(h->watches[0])) {
        errno = ENOSPC;
        return false;
    }
    h->watches[h->nwatches++] = strdup(path);
    return true;
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
    unsigned int i;

    (void)token;
    for (i = 0; i < h->nwatches; i++)
        if (!strcmp(h->watches[i], path)) {
            free(h->watches[i]);
            memmove(&h->watches[i], &h->watches[i + 1],
                    (h->nwatches - i - 1) * sizeof(h->watches[0]));
            h->nwatches--;
            return true;
        }
    errno = ENOENT;
    return false;
}

const char *fake_xs_watches(struct xs_handle *h)
{
    size_t len = 0;
    unsigned int i;

    h->watched[0] = '\0';
    for (i = 0; i < h->nwatches; i++)
        len += snprintf(h->watched + len, sizeof(h->watched) - len, "%s%s",
                        i ? " " : "", h->watches[i]);
    return h->watched;
}

const char *fake_xs_perms(struct xs_handle *h, const char *path)
{
    static const char letter[] = "nrwb";
    struct node *nd = find(&h->tree, path);
    size_t len = 0;
    unsigned int i;

    if (!nd)
        return NULL;
    h->shown[0] = '\0';
    for (i = 0; i < nd->nperms; i++)
        len += snprintf(h->shown + len, sizeof(h->shown) - len, "%s%c%u",
                        i ? " " : "", letter[nd->perms[i].perms & 3],
                        nd->perms[i].id);
    return h->shown;
}

static bool bad_t(struct xs_handle *h, xs_transaction_t t)
{
    h->calls++;
    if (t != XBT_NULL && t != h->t) {
        errno = EINVAL;
        return true;
    }
    return false;
}

/* The node at @path, for a call in @t (counted): NULL with errno EINVAL
 * for a bad transaction, ENOENT for a bad path or no node there. */
static struct node *lookup(struct xs_handle *h, xs_transaction_t t,
                           const char *path)
{
    struct node *nd;

    if (bad_t(h, t))
        return NULL;
    nd = check_path(path) ? NULL : find(&h->tree, path);
    if (!nd)
        errno = ENOENT;
    return nd;
}

/* @np's name when it is a child of @path, else NULL. */
static const char *child_name(const char *np, const char *path)
{
    size_t n = strlen(path);

    if (!in_subtree(np, path) || !strcmp(np, path))
        return NULL;
    np += n == 1 ? 1 : n + 1;
    return strchr(np, '/') ? NULL : np;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t,
                    const char *path, unsigned int *num)
{
    char **ret, *p;
    size_t size = 0;
    unsigned int i, count = 0;
    const char *rest;

    if (!lookup(h, t, path))
        return NULL;
    for (i = 0; i < h->tree.n; i++) {
        rest = child_name(h->tree.nodes[i].path, path);
        if (!rest)
            continue;
        count++;
        size += strlen(rest) + 1;
    }
    ret = malloc(count * sizeof(char *) + size + 1);
    p = (char *)(ret + count);
    count = 0;
    for (i = 0; i < h->tree.n; i++) {
        rest = child_name(h->tree.nodes[i].path, path);
        if (!rest)
            continue;
        ret[count++] = p;
        strcpy(p, rest);
        p += strlen(rest) + 1;
    }
    *num = count;
    return ret;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
              unsigned int *len)
{
    struct node *nd;

    nd = lookup(h, t, path);
    if (!nd)
        return NULL;
    if (len)
        *len = strlen(nd->value);
    return strdup(nd->value);
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
              const void *data, unsigned int len)
{
    struct node *nd;

    if (bad_t(h, t))
        return false;
    if (check_path(path)) {
        errno = EINVAL;
        return false;
    }
    nd = create(&h->tree, path);
    free(nd->value);
    nd->value = strndup(data, len);
    return true;
}

bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    if (bad_t(h, t))
        return false;
    if (check_path(path)) {
        errno = EINVAL;
        return false;
    }
    create(&h->tree, path);
    return true;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    unsigned int i, j;

    if (!lookup(h, t, path))
        return false;
    for (i = j = 0; i < h->tree.n; i++) {
        if (in_subtree(h->tree.nodes[i].path, path) &&
            strcmp(h->tree.nodes[i].path, "/")) {
            free(h->tree.nodes[i].path);
            free(h->tree.nodes[i].value);
        } else {
            h->tree.nodes[j++] = h->tree.nodes[i];
        }
    }
    h->tree.n = j;
    return true;
}

struct xs_permissions *xs_get_permissions(struct xs_handle *h,
                                          xs_transaction_t t,
                                          const char *path,
                                          unsigned int *num)
{
    struct xs_permissions *ret;
    struct node *nd;

    nd = lookup(h, t, path);
    if (!nd)
        return NULL;
    ret = malloc(nd->nperms * sizeof(*ret));
    memcpy(ret, nd->perms, nd->nperms * sizeof(*ret));
    *num = nd->nperms;
    return ret;
}

bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
                        const char *path, struct xs_permissions *perms,
                        unsigned int num_perms)
{
    struct node *nd;

    nd = lookup(h, t, path);
    if (!nd)
        return false;
    if (!num_perms || num_perms > MAX_PERMS) {
        errno = EINVAL;
        return false;
    }
    memcpy(nd->perms, perms, num_perms * sizeof(*perms));
    nd->nperms = num_perms;
    return true;
}

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
    h->calls++;
    if (h->t != XBT_NULL) {
        /* The provider never nests; a test that sees this has a bug. */
        errno = EBUSY;
        return XBT_NULL;
    }
    tree_copy(&h->saved, &h->tree);
    h->t = h->next_t++;
    return h->t;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t,
                        bool abort_it)
{
    h->calls++;
    if (t == XBT_NULL || t != h->t) {
        errno = EINVAL;
        return false;
    }
    h->t = XBT_NULL;
    if (!abort_it)
        h->commits++;
    if (abort_it || h->fail_commits) {
        tree_copy(&h->tree, &h->saved);
        if (abort_it)
            return true;
        h->fail_commits--;
        errno = EAGAIN;
        return false;
    }
    return true;
}
