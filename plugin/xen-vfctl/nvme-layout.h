/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nvme-layout.h - "xen-vfctl nvme-layout": show, check and apply an NVMe
 * namespace layout (xen-vf-layout(5))
 */
#ifndef XVF_CTL_NVME_LAYOUT_H
#define XVF_CTL_NVME_LAYOUT_H

#include "engine/engine.h"

/**
 * cmd_nvme_layout() - the subcommand; @argv[0] is "nvme-layout"
 *
 * Return: the exit status: 0 done or nothing to do, 1 refused or failed,
 * 2 usage, 3 only part of the layout can be (or was) reached because the
 * controller lacks Namespace Management.
 */
int cmd_nvme_layout(const struct xvf_engine_config *cfg, int argc,
                    char **argv);

#endif
