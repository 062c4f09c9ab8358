/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * reaper.h - Dom0's side of xen-vf, for xen-vf-reaper: which domain
 * serves "vf:" names (config.c), who may have written a node (domd.c),
 * and the withdrawal of the requests of domains that are gone (reap.c).
 *
 * The driver domain is the one xl asks: xl.conf's pci.name_backends
 * entry "vf=DOMAIN" (XVF_XL_CONF, by default /etc/xen/xl.conf;
 * XEN_VF_XL_CONF overrides it), a name or a domain id. Without such an
 * entry xl asks no domain for "vf:" names, and the driver domain is
 * Dom0. A NAME counts only in a /local/domain/ID/name that Dom0 alone
 * can write, and only if one domain has it.
 */
#ifndef XVF_REAPER_H
#define XVF_REAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <xenstore.h>

#ifndef XVF_XL_CONF
#define XVF_XL_CONF "/etc/xen/xl.conf"
#endif

/* The xl.conf key, and the prefix of the names xen-vfd serves */
#define VF_CONF_KEY "pci.name_backends"
#define VF_NAME_PREFIX "vf"

/**
 * struct vf_config - who serves "vf:" names
 * @domd:   domain name or id; "" for Dom0
 * @served: whether pci.name_backends has a "vf=" entry
 * @file:   where it came from, for messages
 */
struct vf_config {
    char domd[64];
    bool served;
    const char *file;
};

/**
 * vf_config_parse() - read xl.conf's text
 * @text:   the file's contents
 * @fname:  its name, for messages
 * @cfg:    filled from the last assignment of pci.name_backends (with
 *          "+=" appending, as in xl) and its last "vf=" entry
 * @err:    on failure, "FILE:LINE: what is wrong"
 * @errlen: size of @err
 * The syntax is xl's (xl.conf(5)); other keys are skipped.
 * Return: 0, or -EINVAL for a syntax error or a name over 63 characters.
 */
int vf_config_parse(const char *text, const char *fname,
                    struct vf_config *cfg, char *err, size_t errlen);

/**
 * vf_config_read() - read xl.conf, if there is one
 * @cfg:    filled; Dom0 when the file does not exist
 * @err:    on failure, what is wrong and where
 * @errlen: size of @err
 * The file is $XEN_VF_XL_CONF when that is set (and the process is not
 * set-id), else XVF_XL_CONF.
 * Return: 0; -errno when the file exists but cannot be read; or what
 * vf_config_parse() returns.
 */
int vf_config_read(struct vf_config *cfg, char *err, size_t errlen);

/**
 * vf_domd_resolve() - the driver domain Dom0 has chosen
 * @xsh:  Dom0's xenstore connection
 * @cfg:  the configuration (vf_config_read())
 * @domd: its domain id: @cfg->domd as a number, the one domain whose
 *        /local/domain/ID/name is @cfg->domd and only Dom0 can write,
 *        or 0 when @cfg->domd is empty
 *
 * Return: 0, -ENOENT (no such domain), -ENOTUNIQ (several have the
 * name), or -errno from xenstore.
 */
int vf_domd_resolve(struct xs_handle *xsh, const struct vf_config *cfg,
                    unsigned int *domd);

/**
 * vf_domd_strerror() - the message for vf_domd_resolve()'s failure @rc
 * @buf: filled with one line naming the configuration
 * @len: size of @buf
 * @cfg: the configuration it failed with
 * @rc:  what vf_domd_resolve() returned
 */
void vf_domd_strerror(char *buf, size_t len, const struct vf_config *cfg,
                      int rc);

/**
 * vf_check_writers() - whether only Dom0 and @domd can have written @path
 * @xsh:  xenstore connection
 * @t:    transaction or XBT_NULL
 * @path: the node
 * @domd: the driver domain
 * @who:  on -EPERM, the other domain that may write it (its owner or one
 *        with write access), -1 for every domain (the default entry
 *        allows writing, or the node has no permissions)
 *
 * Return: 0, -EPERM, or -errno from xenstore.
 */
int vf_check_writers(struct xs_handle *xsh, xs_transaction_t t,
                     const char *path, unsigned int domd, int *who);

/**
 * vf_ask_release() - write op = release into a request that still exists
 * @xsh:        Dom0's xenstore connection
 * @state_path: the request's state node (whether the request exists)
 * @op_path:    its op node
 *
 * In one transaction, so that a request DomD removed stays removed.
 *
 * Return: 0 once written; 1 when op already says release or the request
 * is gone (nothing written); -errno.
 */
int vf_ask_release(struct xs_handle *xsh, const char *state_path,
                   const char *op_path);

/**
 * typedef vf_reap_log_fn - told about each request vf_reap() withdraws,
 * or fails to
 * @opaque: vf_reap()'s @opaque
 * @domid:  the guest that is gone
 * @devid:  its request
 * @rc:     0 when op = release was written, else -errno
 */
typedef void vf_reap_log_fn(void *opaque, unsigned int domid,
                            unsigned int devid, int rc);

/**
 * typedef vf_reap_unborn_fn - told about a domain vf_reap() cannot yet
 * watch for
 * @opaque: vf_reap()'s @opaque
 * @domid:  a domain with requests that exists but is not yet introduced
 *          to xenstored
 *
 * libxl asks for devices right after it makes the domain, before the
 * domain is introduced to xenstored, and xenstored fires @releaseDomain
 * only for domains it was introduced to. Until then the domain's home
 * path going away (libxl removes it when it destroys the domain) is the
 * only sign that it is gone: the caller watches that path
 * (xen/homes.h).
 */
typedef void vf_reap_unborn_fn(void *opaque, unsigned int domid);

/**
 * vf_reap() - ask the driver domain to release every request of every
 * domain that is gone
 * @xsh:    Dom0's (privileged) xenstore connection
 * @domd:   the driver domain (vf_domd_resolve())
 * @log:    called for each request acted on; may be NULL
 * @unborn: called for each domain with requests that exists but is not
 *          introduced yet; may be NULL
 * @opaque: passed to @log and @unborn
 *
 * For each ~/backend/pci-name/DOMID of @domd whose domain is gone (not
 * introduced to xenstored and no home path; xvf_xs_domain_alive(),
 * privileged), writes op = release into each of its requests that does
 * not say so yet, in a transaction and only while the request exists, as
 * libxl's release does. xen-vfd then releases the VF and removes
 * the request as for any release. Safe to repeat: a request already
 * asked is left alone.
 *
 * Return: the number of requests asked to release, or -errno when the
 * driver domain's requests cannot be listed (-ENOENT: there are none).
 */
int vf_reap(struct xs_handle *xsh, unsigned int domd, vf_reap_log_fn *log,
            vf_reap_unborn_fn *unborn, void *opaque);

#endif /* XVF_REAPER_H */
