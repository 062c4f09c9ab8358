/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stddef.h>

#include <libnvme.h>

#include "nvme/status.h"

#define GEN(sc) NVME_SCT_GENERIC, NVME_SC_##sc
#define CMD(sc) NVME_SCT_CMD_SPECIFIC, NVME_SC_##sc

static const struct {
    unsigned int sct, sc;
    int code;
    const char *hint;
} table[] = {
    { GEN(INVALID_OPCODE), -EOPNOTSUPP, NULL },
    { GEN(INVALID_FIELD), -EIO,
      "a field is not valid for this controller (Virtualization "
      "Management: an action or resource type it does not support, e.g. "
      "primary flexible allocation, or VI on a controller without "
      "flexible VI)" },
    { GEN(INVALID_NS), -ENODEV, "no such namespace on this controller" },
    /* Virtualization Management (NVMe 2.0 base, 5.22) */
    { CMD(INVALID_CTRL_ID), -ENODEV,
      "the controller does not take this ID as one of its secondary "
      "controllers now: a Samsung PM173x answers this to an online before "
      "the secondary's VF is enabled (sriov_numvfs must cover the VF "
      "first); for primary flexible allocation it must be the primary's "
      "own ID" },
    { CMD(INVALID_SEC_CTRL_STATE), -EBUSY,
      "the secondary controller is not in a state that allows this: "
      "online needs its VF enabled (QEMU answers this to an online before "
      "sriov_numvfs) and at least 2 VQ and 1 VI assigned; assigning needs "
      "it offline" },
    { CMD(INVALID_CTRL_RESOURCES), -ENOSPC,
      "more resources than one secondary may have (VQFRSM/VIFRSM) or than "
      "the controller's flexible total (VQFRT/VIFRT)" },
    { CMD(INVALID_RESOURCE_ID), -ENOSPC,
      "not enough free flexible resources of that type: other secondaries "
      "hold them, or the primary does (VQRFAP/VIRFAP > 0: release them "
      "once with 'xen-vfctl nvme-layout --release-primary --apply'), or "
      "the controller has none of that type (VIFRT = 0: no flexible VI)" },
    /* Namespace Attachment and Management */
    { CMD(NS_ALREADY_ATTACHED), -EBUSY,
      "the namespace is already attached to that controller" },
    { CMD(NS_IS_PRIVATE), -EBUSY,
      "the namespace is private and attached to another controller: "
      "detach it there first" },
    { CMD(NS_NOT_ATTACHED), -ENOENT,
      "the namespace is not attached to that controller" },
    { CMD(CTRL_LIST_INVALID), -EIO,
      "the controller list names a controller the subsystem does not "
      "have, or one the device cannot attach to now" },
    { CMD(NS_INSUFFICIENT_CAP), -ENOSPC,
      "not enough unallocated capacity for the namespace" },
    { CMD(NS_ID_UNAVAILABLE), -ENOSPC,
      "the controller has no free namespace ID" },
};

int xvf_nvme_status_explain(int status, const char **hint)
{
    unsigned int sct = nvme_status_code_type(status);
    unsigned int sc = nvme_status_code(status);
    size_t i;

    *hint = NULL;
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].sct == sct && table[i].sc == sc) {
            *hint = table[i].hint;
            return table[i].code;
        }
    return -EIO;
}
