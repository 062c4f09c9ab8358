/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-xs.h - an in-memory xenstore for unit tests of xenstore clients
 *
 * Implements the libxenstore calls the vf provider makes (xs_read,
 * xs_write, xs_mkdir, xs_rm, xs_directory, xs_set_permissions,
 * xs_get_permissions, xs_transaction_start/end, xs_is_domain_introduced,
 * xs_watch and xs_unwatch, which record the paths but deliver no event)
 * on a tree in memory, with
 * xenstore's rules: writing a node creates its parents, a new node takes
 * its parent's permissions, removing a node removes its subtree, and an
 * aborted (or failed) transaction leaves the tree as it was. Link it
 * instead of -lxenstore.
 */
#ifndef FAKE_XS_H
#define FAKE_XS_H

#include <stdbool.h>

#include <xenstore.h>

/** fake_xs_open() - a handle on an empty tree ("/" only) */
struct xs_handle *fake_xs_open(void);

/** fake_xs_close() - free the handle and its tree */
void fake_xs_close(struct xs_handle *h);

/**
 * fake_xs_fail_commits() - make the next @n transaction commits fail
 * with EAGAIN (and undo their writes), as xenstored does on a conflict
 */
void fake_xs_fail_commits(struct xs_handle *h, unsigned int n);

/** fake_xs_commits() - number of transaction commits attempted so far */
unsigned int fake_xs_commits(struct xs_handle *h);

/**
 * fake_xs_calls() - requests to xenstored so far (reads, writes,
 * permissions, transaction starts and ends, domain queries): the round
 * trips a real xenstored would answer; fake_xs_put() and the other test
 * side calls are not counted
 */
unsigned int fake_xs_calls(struct xs_handle *h);

/** fake_xs_put() - write @val at @path, test side (no transaction) */
void fake_xs_put(struct xs_handle *h, const char *path, const char *val);

/** fake_xs_get() - value at @path, or NULL; valid until the next change */
const char *fake_xs_get(struct xs_handle *h, const char *path);

/**
 * fake_xs_perms() - permissions of @path as xenstore-ls shows them
 * ("n0", "n0 r1", "n0 b1"), or NULL if @path does not exist
 */
const char *fake_xs_perms(struct xs_handle *h, const char *path);

/**
 * fake_xs_introduce() - whether xenstored knows domain @domid (< 512), as
 * xs_is_domain_introduced() answers it; no domain is, at first
 */
void fake_xs_introduce(struct xs_handle *h, unsigned int domid, bool on);

/**
 * fake_xs_watches() - the paths watched (xs_watch(), xs_unwatch()), in
 * the order they were set, separated by spaces; valid until the next call
 */
const char *fake_xs_watches(struct xs_handle *h);

/** fake_xs_exists() - whether @path exists */
bool fake_xs_exists(struct xs_handle *h, const char *path);

#endif
