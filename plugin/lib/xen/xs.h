/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xs.h - the xenstore helpers both sides of the protocol share
 *
 * xen-vf-reaper in Dom0 and xen-vfd in the driver domain use these
 * instead of their own loops, so that a transaction is retried one way
 * everywhere. Nothing here logs.
 */
#ifndef XVF_XEN_XS_H
#define XVF_XEN_XS_H

#include <stdbool.h>

#include <xenstore.h>

/* How many times a transaction is started again after EAGAIN. */
#define XVF_XS_TXN_TRIES 16

/**
 * typedef xvf_xs_txn_fn - the body of a transaction
 * @xsh:    the xenstore connection
 * @t:      the transaction to read and write in
 * @opaque: the caller's data
 *
 * May run several times: it must not keep anything from an earlier run
 * that the transaction did not commit.
 *
 * Return: 0 to commit; a negative errno to abort with that error; a
 * positive value to abort without error (nothing to change, or reads
 * only), which xvf_xs_txn() passes back.
 */
typedef int xvf_xs_txn_fn(struct xs_handle *xsh, xs_transaction_t t,
                          void *opaque);

/**
 * xvf_xs_txn() - run @fn in a transaction, again while xenstore says EAGAIN
 * @xsh:    the xenstore connection
 * @fn:     the body, see xvf_xs_txn_fn
 * @opaque: passed to @fn
 *
 * The transaction is committed when @fn returns 0 and aborted otherwise.
 * A commit that fails with EAGAIN (another writer was faster) runs @fn
 * again in a new transaction, at most XVF_XS_TXN_TRIES times in all.
 *
 * Return: 0 once committed; what @fn returned when not 0; -EAGAIN when
 * every try conflicted; another -errno when xenstore fails.
 */
int xvf_xs_txn(struct xs_handle *xsh, xvf_xs_txn_fn *fn, void *opaque);

/**
 * xvf_xs_read() - read a node as a string
 * @xsh:  the xenstore connection
 * @t:    a transaction, or XBT_NULL
 * @path: the node
 *
 * Return: the value, NUL-terminated, for the caller to free(); NULL with
 * errno set (ENOENT when the node does not exist).
 */
char *xvf_xs_read(struct xs_handle *xsh, xs_transaction_t t,
                  const char *path);

/**
 * xvf_xs_domain_alive() - whether domain @domid may still exist
 * @xsh:        the xenstore connection
 * @domid:      the domain
 * @privileged: the caller is Dom0 (xenstored answers it whether a domain
 *              is introduced; it refuses that question to other domains)
 *
 * A domain is gone when xenstored no longer knows it (asked only when
 * @privileged) and its /local/domain/@domid does not exist. A domain
 * that cannot read /local/domain (any but Dom0) gets EACCES for a
 * domain that exists and for one that does not, and so never learns
 * that a domain is gone: see "Domains that are gone" in
 * docs/protocol.md.
 *
 * Return: false only when the domain is surely gone.
 */
bool xvf_xs_domain_alive(struct xs_handle *xsh, unsigned int domid,
                         bool privileged);

#endif
