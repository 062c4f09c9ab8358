/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * spec.h - the "vf:" selector grammar
 *
 *   SPEC    := "vf:" TARGET [ "/ns" NSID ] { "," KEY "=" VALUE }
 *   TARGET  := "nvme" N                 NVMe controller by kernel name
 *            | [DDDD:]BB:DD.F           physical function by PCI address
 *            | "serial:" SERIAL         NVMe controller by serial number
 *            | NETDEV                   NIC physical function by netdev
 *
 * Kernel names (nvme0, enp1s0f0) can change between boots; the PCI address
 * and the serial do not. Linux forbids ':' and '/' in netdev names, so the
 * forms cannot be confused. An NVMe target needs "/nsN"; a NIC target must
 * not have one. A PCI address with "/nsN" is an NVMe PF, without it a NIC.
 *
 * Keys, NVMe:  vq=N vi=N (flexible resources; default 2 and 1)
 * Keys, NIC:   mac=XX:XX:XX:XX:XX:XX vlan=0-4094 qos=0-7 trust=on|off
 *              spoofchk=on|off rate=MBPS
 * Keys, both:  driver=NAME (who binds the VF; default pciback)
 *
 * The whole spec is at most 64 printable characters, the limit libxl puts
 * on a PCI device name, because libxl stores it as the device's name.
 * See xen-vf-spec(5).
 */
#ifndef XVF_SPEC_H
#define XVF_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define XVF_SPEC_MAX 64
#define XVF_SPEC_PREFIX "vf:"

/**
 * enum xvf_class - the device class of a VF
 * @XVF_CLASS_NVME: an NVMe secondary controller's VF
 * @XVF_CLASS_NET:  a NIC's VF
 */
enum xvf_class {
    XVF_CLASS_NVME,
    XVF_CLASS_NET,
};

/** enum xvf_target_kind - how a spec names the physical function */
enum xvf_target_kind {
    XVF_TARGET_NVME_NAME,   /* "nvme0" */
    XVF_TARGET_PCI,         /* "0000:01:00.0", always stored with domain */
    XVF_TARGET_SERIAL,      /* "serial:S3EV..." stored without "serial:" */
    XVF_TARGET_NETDEV,      /* "enp1s0f0" */
};

/** enum xvf_tristate - an on/off option, or not given */
enum xvf_tristate {
    XVF_UNSET = 0,
    XVF_OFF,
    XVF_ON,
};

/**
 * struct xvf_spec - a parsed selector
 * @cls:      NVMe or NIC
 * @kind:     how @target names the physical function
 * @target:   the name, address or serial
 * @nsid:     namespace id (NVMe), 0 for NICs
 * @vq:       flexible queue resources for the secondary controller
 * @vi:       flexible interrupt resources for the secondary controller
 * @vi_given: whether the selector named vi= (a controller without
 *            flexible VI refuses it; else the default is not asked for)
 * @driver:   driver the VF is bound to; "pciback" unless given
 * @mac:      VF MAC address, @has_mac says whether it was given
 * @vlan:     VLAN id or -1
 * @qos:      VLAN priority or -1
 * @rate:     max tx rate in Mbit/s or -1
 * @trust:    trust mode
 * @spoofchk: spoof checking
 */
struct xvf_spec {
    enum xvf_class cls;
    enum xvf_target_kind kind;
    char target[40];
    uint32_t nsid;
    unsigned int vq, vi;
    bool vi_given;
    char driver[32];
    bool has_mac;
    uint8_t mac[6];
    int vlan, qos, rate;
    enum xvf_tristate trust, spoofchk;
};

/**
 * xvf_spec_parse() - parse a "vf:..." string
 * @str:  the spec, with its "vf:" prefix
 * @spec: filled on success, untouched on failure
 * @err:  on failure, a message that quotes the bad part
 *
 * Return: 0 or -EINVAL.
 */
int xvf_spec_parse(const char *str, struct xvf_spec *spec,
                   struct xvf_err *err);

/**
 * xvf_spec_check_guest() - may a VF prepared for @spec be given to a guest?
 * @spec: a parsed spec
 * @err:  why not
 *
 * A guest's VF is bound to pciback in the driver domain and handed over
 * as it is. driver= anything else is for xen-vfctl's self-test there: a
 * guest asking for it would have Dom0 seize the VF from that driver.
 * Checked by Dom0 when it parses the guest's configuration and again by
 * xen-vfd for every prepare it is asked for.
 *
 * Return: 0 or -EINVAL.
 */
int xvf_spec_check_guest(const struct xvf_spec *spec, struct xvf_err *err);

/**
 * xvf_spec_format() - canonical text of a spec
 * @spec: a parsed spec
 * @buf:  output, NUL-terminated
 * @len:  size of @buf; XVF_SPEC_MAX + 1 always suffices for a parsed spec
 *
 * Keys appear in a fixed order and only when they differ from the default,
 * so two spellings of one request compare equal.
 *
 * Return: 0, or -ENAMETOOLONG when @len is too small.
 */
int xvf_spec_format(const struct xvf_spec *spec, char *buf, size_t len);

/**
 * xvf_parse_bdf() - parse "[DDDD:]BB:DD.F" into canonical "DDDD:BB:DD.F"
 * @str: the address, hex digits, the domain optional
 * @out: at least 13 bytes
 *
 * Return: 0 or -EINVAL.
 */
int xvf_parse_bdf(const char *str, char *out);

#endif
