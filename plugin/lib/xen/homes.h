/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * homes.h - watches on the home paths of domains xenstored does not know
 *
 * xenstored fires @releaseDomain only for domains that were introduced to
 * it. libxl asks for devices right after it makes a domain, before it
 * introduces it; if that domain is destroyed before it is introduced (xl
 * killed while it builds the domain, then xl destroy), nothing fires
 * except the removal of its home path, /local/domain/DOMID, which libxl
 * does when it destroys the domain. Dom0's users of @releaseDomain (the
 * reaper; xen-vfd when it runs in Dom0) watch those homes until the
 * domain is introduced or gone. Nothing here logs.
 */
#ifndef XVF_XEN_HOMES_H
#define XVF_XEN_HOMES_H

#include <stdbool.h>
#include <stddef.h>

#include <xenstore.h>

/**
 * struct xvf_homes - the domains whose homes are watched
 * @ids: their domids
 * @n:   how many
 * @cap: room in @ids
 *
 * Zero-initialised before first use; xvf_homes_free() at the end.
 */
struct xvf_homes {
    unsigned int *ids;
    size_t n, cap;
};

/**
 * xvf_homes_watched() - whether the home of @domid is watched
 * @h:     the set
 * @domid: the domain
 *
 * Return: true if it is (no request to xenstored).
 */
bool xvf_homes_watched(const struct xvf_homes *h, unsigned int domid);

/**
 * xvf_homes_watch() - watch the home of @domid unless it is watched
 * @xsh:   a privileged xenstore connection (Dom0's)
 * @h:     the set
 * @domid: a domain that exists but is not introduced yet
 * @token: the watch token (events come as for any watch of the caller)
 *
 * Return: 0, or -errno (the watch could not be set; nothing changed).
 */
int xvf_homes_watch(struct xs_handle *xsh, struct xvf_homes *h,
                    unsigned int domid, const char *token);

/**
 * enum xvf_home_path - where a watch event's path is, for xvf_homes_path()
 * @XVF_HOME_OTHER:  not in a watched home
 * @XVF_HOME_ITSELF: the home of a watched domain: removed (the domain
 *                   went), or the first event of the new watch
 * @XVF_HOME_INSIDE: a node in such a home: libxl writes dozens while it
 *                   builds the domain, none of them a sign that it went
 */
enum xvf_home_path {
    XVF_HOME_OTHER,
    XVF_HOME_ITSELF,
    XVF_HOME_INSIDE,
};

/**
 * xvf_homes_path() - where @path is, for a watch event
 * @h:     the set
 * @path:  the event's path
 * @domid: set to the home's domain, unless XVF_HOME_OTHER
 *
 * A watch fires for every node written under the path it watches; only
 * XVF_HOME_ITSELF can mean that a domain went, and the first event of
 * every new watch is one too: ask xvf_xs_domain_alive() before a scan.
 *
 * Return: see enum xvf_home_path (no request to xenstored).
 */
enum xvf_home_path xvf_homes_path(const struct xvf_homes *h,
                                  const char *path, unsigned int *domid);

/**
 * xvf_homes_prune() - stop watching domains @releaseDomain covers now
 * @xsh:   the connection of xvf_homes_watch()
 * @h:     the set
 * @token: the token the watches were set with
 *
 * Drops each domain that is introduced now (@releaseDomain will tell
 * when it goes) or whose home is gone (its requests are the caller's to
 * release).
 */
void xvf_homes_prune(struct xs_handle *xsh, struct xvf_homes *h,
                     const char *token);

/**
 * xvf_homes_free() - forget the set (the watches go with the connection)
 * @h: the set
 */
void xvf_homes_free(struct xvf_homes *h);

#endif
