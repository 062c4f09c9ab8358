/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * status.h - what an NVMe status means for the person reading the error
 *
 * The one table of the status codes xen-vf's commands get back (the
 * specification's Virtualization Management and Namespace Attachment
 * codes, and the generic ones), with the -errno the library returns for
 * each and a sentence that says what to do. Real controllers answer
 * differently where QEMU is lenient: a Samsung PM173x answers Invalid
 * Controller Identifier (0x11f) to an online before the VF is enabled,
 * QEMU Invalid Secondary Controller State (0x4120).
 */
#ifndef XVF_NVME_STATUS_H
#define XVF_NVME_STATUS_H

/**
 * xvf_nvme_status_explain() - the -errno and advice for an NVMe status
 * @status: the status as libnvme returns it (> 0: SCT, SC, DNR, More)
 * @hint:   set to a sentence naming the likely cause and what to do, or
 *          NULL for a status the table does not know
 *
 * Return: -EOPNOTSUPP (Invalid Command Opcode), -ENODEV (no such
 * namespace or controller), -EBUSY (secondary controller state,
 * namespace attached or private), -ENOSPC (resources or capacity),
 * -ENOENT (namespace not attached), or -EIO for any other status.
 */
int xvf_nvme_status_explain(int status, const char **hint);

#endif
