/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * vf-provider.h - the "vf" provider's configuration (config.c), which
 * vf-provider.c reads on every request and tests/unit checks
 *
 * The provider's configuration, XVF_PROVIDER_CONF (by default
 * /etc/xen/xen-vf-provider.conf; XEN_VF_PROVIDER_CONF overrides it), is
 * optional and holds "KEY = VALUE" lines and "#" comments:
 *
 *   domd = NAME|DOMID   the driver domain to ask; by default Dom0. A
 *                       NAME counts only in a /local/domain/ID/name
 *                       that Dom0 alone can write, and only if one
 *                       domain has it
 *   timeout = SECONDS   how long libxl waits for the driver domain to
 *                       prepare a VF, 1 to 3600; by default libxl's 60
 */
#ifndef XVF_VF_PROVIDER_H
#define XVF_VF_PROVIDER_H

#include <stddef.h>
#include <stdio.h>

#ifndef XVF_PROVIDER_CONF
#define XVF_PROVIDER_CONF "/etc/xen/xen-vf-provider.conf"
#endif

/**
 * struct vf_config - the provider's configuration
 * @domd:      domain name or id; "" for Dom0
 * @timeout_s: seconds, 0 for libxl's default
 * @file:      where it came from, for messages
 */
struct vf_config {
    char domd[64];
    unsigned int timeout_s;
    const char *file;
};

/**
 * vf_config_parse() - read a configuration file
 * @f:      the open file
 * @fname:  its name, for messages
 * @cfg:    filled; keys that are absent keep their defaults
 * @err:    on failure, "FILE:LINE: what is wrong"
 * @errlen: size of @err
 *
 * Return: 0, -EINVAL for a bad line, -EIO for a read error.
 */
int vf_config_parse(FILE *f, const char *fname, struct vf_config *cfg,
                    char *err, size_t errlen);

/**
 * vf_config_read() - read the configuration file, if there is one
 * @cfg:    filled; all defaults when the file does not exist
 * @err:    on failure, what is wrong and where
 * @errlen: size of @err
 *
 * The file is $XEN_VF_PROVIDER_CONF when that is set (and the process is
 * not set-id), else XVF_PROVIDER_CONF.
 *
 * Return: 0; -errno when the file exists but cannot be opened; or what
 * vf_config_parse() returns.
 */
int vf_config_read(struct vf_config *cfg, char *err, size_t errlen);

#endif
