/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * layout.h - NVMe namespace layout: the vendor guide's one-time setup
 * (delete-ns, create-ns, attach-ns to the primary and to a secondary) from
 * a declared layout, safe by default
 *
 * Four parts, each usable alone:
 *
 *  - the layout text (xen-vf-layout(5)):
 *        ns1: 50%, attach=primary; ns2: 512MiB, attach=secondary:auto
 *  - the state of a controller (struct xvf_layout_state): what Identify
 *    says (capacity, granularity, LBA formats, namespaces and their
 *    attachments, secondaries), whether Namespace Management really works,
 *    and what the driver domain does with each namespace (block device,
 *    mounted, held, open). It is read from the device, or from a saved
 *    dump (a text file), so a layout can be checked without root;
 *  - the plan (struct xvf_layout_plan): the commands that take the state
 *    to the layout, in an order where every prefix leaves a state the next
 *    run plans from (detach, delete, create, attach, rescan), the rounding
 *    done, and the reasons it must not run (data would be destroyed
 *    without --destroy-ns, a namespace is in use, not enough capacity);
 *  - execution, which holds the PF's engine lock, re-reads the state,
 *    re-plans and runs the plan. Nothing is journaled: an interrupted run
 *    is continued by planning again from the device.
 *
 * Nothing here prints.
 */
#ifndef XVF_LAYOUT_H
#define XVF_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "nvme/nvme.h"
#include "util/err.h"

#define XVF_LAYOUT_MAX_NS 64        /* entries of a layout, namespaces */
#define XVF_LAYOUT_MAX_ATT 16       /* controllers per namespace */
#define XVF_LAYOUT_MAX_LBAF 64
#define XVF_LAYOUT_MAX_OPS 256
#define XVF_LAYOUT_MAX_NOTES 96
#define XVF_LAYOUT_NOTE_LEN 320
#define XVF_LAYOUT_TEXT_MAX 8192    /* of a layout given as text */

/* ---- the layout ------------------------------------------------------- */

/**
 * enum xvf_layout_size - how the size of a layout entry is given
 * @XVF_LSIZE_ANY:     "any": whatever size it has (the namespace must
 *                     exist)
 * @XVF_LSIZE_BYTES:   512MiB, 1G, 1000000000
 * @XVF_LSIZE_BLOCKS:  1048576blocks: logical blocks of its format
 * @XVF_LSIZE_PERCENT: 50%: of the controller's total NVM capacity
 * @XVF_LSIZE_REST:    "rest": what the other namespaces leave
 */
enum xvf_layout_size {
    XVF_LSIZE_ANY,
    XVF_LSIZE_BYTES,
    XVF_LSIZE_BLOCKS,
    XVF_LSIZE_PERCENT,
    XVF_LSIZE_REST,
};

/**
 * enum xvf_layout_attach - where a layout entry's namespace is attached
 * @XVF_LATT_KEEP:      attachments left as they are (none if new)
 * @XVF_LATT_NONE:      attached to no controller
 * @XVF_LATT_PRIMARY:   the PF's controller: the driver domain's disk
 * @XVF_LATT_SECONDARY: the secondary controller of the entry's @scid
 * @XVF_LATT_AUTO:      a free secondary; kept once chosen
 */
enum xvf_layout_attach {
    XVF_LATT_KEEP,
    XVF_LATT_NONE,
    XVF_LATT_PRIMARY,
    XVF_LATT_SECONDARY,
    XVF_LATT_AUTO,
};

/**
 * struct xvf_layout_entry - one "nsN: ..." of a layout
 * @nsid:   namespace id
 * @size:   how @amount is meant
 * @amount: bytes, blocks, or percent in hundredths (5000 = 50%)
 * @attach: where it is attached
 * @scid:   for XVF_LATT_SECONDARY
 * @lbads:  log2 of the wanted data size (9, 12), 0 = not asked
 * @lbaf:   wanted LBA format index, -1 = not asked
 * @keep:   "keep": the namespace is left exactly as it is
 */
struct xvf_layout_entry {
    uint32_t nsid;
    enum xvf_layout_size size;
    uint64_t amount;
    enum xvf_layout_attach attach;
    uint16_t scid;
    uint8_t lbads;
    int lbaf;
    bool keep;
};

/**
 * struct xvf_layout - a whole layout: every namespace the controller is to
 * have; namespaces it does not name are to be deleted
 * @n: number of entries
 * @e: the entries, ascending NSID, each NSID once
 */
struct xvf_layout {
    unsigned int n;
    struct xvf_layout_entry e[XVF_LAYOUT_MAX_NS];
};

/**
 * xvf_layout_parse() - parse a layout
 * @text: entries separated by ';' or new lines, '#' starts a comment; at
 *        most XVF_LAYOUT_TEXT_MAX bytes
 * @l:    the layout, set only on success
 * @err:  why it failed
 *
 * Only the text is checked here: whether the layout fits a controller is
 * for xvf_layout_plan().
 *
 * Return: 0, -EINVAL with a message quoting the bad part, or -ENOMEM.
 */
int xvf_layout_parse(const char *text, struct xvf_layout *l,
                     struct xvf_err *err);

/**
 * xvf_layout_format() - the canonical one-line text of a layout
 * @l:   the layout
 * @buf: where the text goes; always NUL-terminated, cut when too small
 * @len: size of @buf
 *
 * xvf_layout_parse() of the text gives @l back.
 */
void xvf_layout_format(const struct xvf_layout *l, char *buf, size_t len);

/* ---- the state of a controller ---------------------------------------- */

/**
 * enum xvf_nsmgmt - whether Namespace Management can be used
 * @XVF_NSMGMT_NO:         OACS bit 3 clear
 * @XVF_NSMGMT_YES:        OACS bit 3, and the Commands Supported and
 *                         Effects log lists opcode 0Dh
 * @XVF_NSMGMT_UNVERIFIED: OACS bit 3, no effects log to confirm it
 * @XVF_NSMGMT_FAKE:       OACS bit 3, but the effects log does not list
 *                         the opcode, or the controller answered Invalid
 *                         Command Opcode (QEMU 7.2 to 10.0 do both)
 */
enum xvf_nsmgmt {
    XVF_NSMGMT_NO,
    XVF_NSMGMT_YES,
    XVF_NSMGMT_UNVERIFIED,
    XVF_NSMGMT_FAKE,
};

/**
 * enum xvf_data - what is known of a namespace's contents
 * @XVF_DATA_UNKNOWN: NUSE > 0 and not readable in the driver domain
 * @XVF_DATA_NONE:    NUSE is 0: no block was ever written
 * @XVF_DATA_ZEROS:   NUSE > 0, the first MiB reads as zeros
 * @XVF_DATA_PRESENT: non-zero bytes in the first MiB
 */
enum xvf_data {
    XVF_DATA_UNKNOWN,
    XVF_DATA_NONE,
    XVF_DATA_ZEROS,
    XVF_DATA_PRESENT,
};

/**
 * struct xvf_layout_use - what the driver domain does with a namespace
 * @blockdev: its block device ("nvme0n1"), "" when the kernel shows none
 * @mounts:   mount points of it or its partitions, ", " separated
 * @holders:  holders (device mapper, md), ", " separated
 * @swap:     used as swap
 * @claimed:  an exclusive open is refused (mounted or claimed by someone)
 * @openers:  processes that have it open, "pid (comm)", ", " separated
 * @data:     what is known of its contents
 */
struct xvf_layout_use {
    char blockdev[32];
    char mounts[256];
    char holders[128];
    bool swap;
    bool claimed;
    char openers[160];
    enum xvf_data data;
};

/**
 * struct xvf_layout_ns - an allocated namespace
 * @nsid:   namespace id
 * @nsze:   size (Identify Namespace), in logical blocks
 * @ncap:   capacity, in logical blocks
 * @nuse:   utilization, in logical blocks
 * @flbas:  LBA format index in use
 * @lbads:  log2 of its data size
 * @nmic:   bit 0: may be attached to several controllers
 * @ms:     metadata bytes per block
 * @natt:   number of entries of @att
 * @att:    controllers it is attached to
 * @held:   "" or who holds it through xen-vf ("local: VF 0000:01:00.1")
 * @use:    in the driver domain
 */
struct xvf_layout_ns {
    uint32_t nsid;
    uint64_t nsze, ncap, nuse;
    uint8_t flbas, lbads, nmic;
    uint16_t ms;
    unsigned int natt;
    uint16_t att[XVF_LAYOUT_MAX_ATT];
    char held[64];
    struct xvf_layout_use use;
};

/**
 * struct xvf_layout_sec - a secondary controller of the PF
 * @scid:   secondary controller id
 * @vfn:    its virtual function number (1-based)
 * @online: the controller is online (has resources assigned)
 * @vf:     its VF's address, "" while the VF is not enabled
 * @driver: the VF's driver, "" when none
 * @held:   "" or who holds it through xen-vf
 */
struct xvf_layout_sec {
    uint16_t scid, vfn;
    bool online;
    char vf[16];
    char driver[32];
    char held[64];
};

/**
 * struct xvf_layout_lbaf - an LBA format
 * @ms:    metadata bytes per block
 * @lbads: log2 of the data size of a block
 * @rp:    relative performance, 0 (best) to 3
 */
struct xvf_layout_lbaf {
    uint16_t ms;
    uint8_t lbads;
    uint8_t rp;
};

/**
 * struct xvf_layout_state - one controller as the plan sees it
 * @ctrl:      the kernel's name of the PF's controller ("nvme0")
 * @bdf:       the PF's PCI address
 * @serial:    serial number, blanks trimmed
 * @model:     model number, blanks trimmed
 * @cntlid:    the primary controller (0 in QEMU, 0x41 on the guide's SSD)
 * @oacs:      Optional Admin Command Support (Identify Controller)
 * @ctratt:    Controller Attributes
 * @nn:        Number of Namespaces: the highest NSID
 * @lpa:       Log Page Attributes
 * @tnvmcap:   total NVM capacity in bytes, 0 = not reported (QEMU)
 * @unvmcap:   unallocated NVM capacity in bytes
 * @nsmgmt:    whether Namespace Management works
 * @nszeg:     size granularity in bytes, 0 = not reported (CTRATT bit 7
 *             clear)
 * @ncapg:     capacity granularity in bytes, 0 = not reported
 * @nlbaf:     number of entries of @lbaf
 * @lbaf:      the LBA formats a new namespace may use
 * @lbaf_from: where @lbaf was read: "common" from NSID FFFFFFFFh, "nsN"
 *             from a namespace, "" unknown
 * @nns:       number of entries of @ns
 * @ns:        allocated namespaces, ascending NSID
 * @nsec:      number of entries of @sec
 * @sec:       secondary controllers (none without SR-IOV)
 */
struct xvf_layout_state {
    char ctrl[32], bdf[16], serial[24], model[44];
    uint16_t cntlid, oacs;
    uint32_t ctratt, nn;
    uint8_t lpa;
    uint64_t tnvmcap, unvmcap;
    enum xvf_nsmgmt nsmgmt;
    uint64_t nszeg, ncapg;
    unsigned int nlbaf;
    struct xvf_layout_lbaf lbaf[XVF_LAYOUT_MAX_LBAF];
    char lbaf_from[8];
    unsigned int nns;
    struct xvf_layout_ns ns[XVF_LAYOUT_MAX_NS];
    unsigned int nsec;
    struct xvf_layout_sec sec[XVF_NVME_MAX_SECONDARIES];
};

/**
 * xvf_layout_read() - read the state of the controller @pf
 * @pf:        the PF
 * @state_dir: the engine's journal, to see which namespaces and
 *             secondaries xen-vf holds; NULL to skip
 * @st:        the state; zeroed first
 * @err:       why it failed
 *
 * Only Identify, Get Log Page, sysfs, /proc and reads of the first MiB of
 * the driver domain's block devices: nothing changes. What cannot be
 * learnt about the driver domain's use of a namespace is left empty.
 *
 * Return: 0, or -errno when the controller cannot be opened or answers
 * Identify with an error or nonsense (-EIO).
 */
int xvf_layout_read(const struct xvf_nvme_pf *pf, const char *state_dir,
                    struct xvf_layout_state *st, struct xvf_err *err);

/**
 * xvf_layout_dump() - the state as text (the --save-dump format,
 * xen-vf-layout(5))
 * @st: the state
 *
 * Return: the text, malloc'd (the caller frees it), or NULL on
 * allocation failure.
 */
char *xvf_layout_dump(const struct xvf_layout_state *st);

/**
 * xvf_layout_undump() - read a dump made by xvf_layout_dump()
 * @text: the dump
 * @st:   the state; zeroed first
 * @err:  why it failed
 *
 * Return: 0, -EINVAL naming the bad line and word, or -ENOMEM.
 */
int xvf_layout_undump(const char *text, struct xvf_layout_state *st,
                      struct xvf_err *err);

/* ---- the plan --------------------------------------------------------- */

/**
 * enum xvf_layout_op_kind - what a command of a plan does; a plan runs
 * them in this order
 * @XVF_LOP_DETACH: Namespace Attachment, detach
 * @XVF_LOP_DELETE: Namespace Management, delete
 * @XVF_LOP_CREATE: Namespace Management, create
 * @XVF_LOP_ATTACH: Namespace Attachment, attach
 * @XVF_LOP_RESCAN: rescan_controller of the PF's controller
 */
enum xvf_layout_op_kind {
    XVF_LOP_DETACH,
    XVF_LOP_DELETE,
    XVF_LOP_CREATE,
    XVF_LOP_ATTACH,
    XVF_LOP_RESCAN,
};

/**
 * struct xvf_layout_op - one command of a plan
 * @kind:   what it does
 * @nsid:   the namespace; for CREATE the NSID the controller will choose
 * @cntlid: ATTACH, DETACH; RESCAN: the primary controller
 * @nsze:   CREATE, in blocks of format @flbas
 * @flbas:  CREATE: the LBA format index
 * @what:   the command in words, for the plan listing
 */
struct xvf_layout_op {
    enum xvf_layout_op_kind kind;
    uint32_t nsid;
    uint16_t cntlid;
    uint64_t nsze;
    uint8_t flbas;
    char what[160];
};

/**
 * enum xvf_layout_note_kind - what a note of a plan means
 * @XVF_LNOTE_INFO:   rounding, choices made, what stays
 * @XVF_LNOTE_SKIP:   a part of the layout that cannot be done here (no
 *                    Namespace Management); the rest runs
 * @XVF_LNOTE_REFUSE: the plan must not run
 */
enum xvf_layout_note_kind {
    XVF_LNOTE_INFO,
    XVF_LNOTE_SKIP,
    XVF_LNOTE_REFUSE,
};

/**
 * struct xvf_layout_note - a sentence of a plan for the user
 * @kind: what it means
 * @text: the sentence, without a final full stop
 */
struct xvf_layout_note {
    enum xvf_layout_note_kind kind;
    char text[XVF_LAYOUT_NOTE_LEN];
};

/**
 * struct xvf_layout_opts - what the user allowed
 * @ndestroy: number of entries of @destroy
 * @destroy:  NSIDs named by --destroy-ns: these may be deleted although
 *            they may hold data (never while in use)
 * @no_nsmgmt: plan as if Namespace Management were missing (set by
 *            execution after an Invalid Command Opcode)
 * @trust_oacs: believe OACS over an effects log that lacks opcode 0Dh
 *            (for a device whose log is wrong): such a controller is
 *            planned for as unverified, and an Invalid Command Opcode
 *            answer still makes the run fall back to the attach part
 * @lock_timeout_ms: how long xvf_layout_apply() waits for the PF's lock
 *            while another process holds it (the engine's
 *            lock_timeout_ms, XEN_VF_LOCK_TIMEOUT_MS); 0 =
 *            XVF_LOCK_TIMEOUT_DEFAULT_MS
 */
struct xvf_layout_opts {
    unsigned int ndestroy;
    uint32_t destroy[XVF_LAYOUT_MAX_NS];
    bool no_nsmgmt;
    bool trust_oacs;
    unsigned int lock_timeout_ms;
};

/**
 * struct xvf_layout_plan - the way from a state to a layout
 * @nops:     number of entries of @ops
 * @ops:      in execution order
 * @nnotes:   number of entries of @notes (those past
 *            XVF_LAYOUT_MAX_NOTES are counted, not kept)
 * @notes:    rounding, choices, skipped parts, refusals
 * @refused:  number of REFUSE notes: the plan must not run
 * @skipped:  number of SKIP notes: running it reaches the layout only in
 *            part
 */
struct xvf_layout_plan {
    unsigned int nops;
    struct xvf_layout_op ops[XVF_LAYOUT_MAX_OPS];
    unsigned int nnotes;
    struct xvf_layout_note notes[XVF_LAYOUT_MAX_NOTES];
    unsigned int refused, skipped;
};

/**
 * xvf_layout_plan() - compute the plan from @st to @l
 * @st:  the controller as it is
 * @l:   the layout wanted
 * @o:   what the user allowed; NULL for nothing
 * @p:   the plan; zeroed first
 * @err: why it failed
 *
 * Never fails for a reason the plan can state: those become REFUSE notes.
 * Nothing is read from the device: a state from a dump plans the same.
 *
 * Return: 0, or -EINVAL when @l cannot apply to this controller at all
 * (an NSID above NN, two "rest" entries, ...), with a message.
 */
int xvf_layout_plan(const struct xvf_layout_state *st,
                    const struct xvf_layout *l,
                    const struct xvf_layout_opts *o,
                    struct xvf_layout_plan *p, struct xvf_err *err);

/* ---- execution -------------------------------------------------------- */

/**
 * struct xvf_layout_result - what a run did
 * @done:     commands that completed
 * @nsmgmt_fake: the controller answered Invalid Command Opcode to
 *            Namespace Management; the run went on with the attach part
 * @rescanned: the kernel was asked to rescan the PF's namespaces
 * @reset_needed: the kernel still disagrees with the device after the
 *            rescan
 * @reset_why: with @reset_needed: about what, and what to do
 * @plan:     the plan that ran last (after a re-plan, the second)
 */
struct xvf_layout_result {
    unsigned int done;
    bool nsmgmt_fake;
    bool rescanned;
    bool reset_needed;
    char reset_why[XVF_LAYOUT_NOTE_LEN];
    struct xvf_layout_plan plan;
};

/**
 * typedef xvf_layout_step_fn - called before each command runs
 * @opaque: as given to xvf_layout_apply()
 * @n:      1-based position in the plan
 * @op:     the command
 */
typedef void (*xvf_layout_step_fn)(void *opaque, unsigned int n,
                                   const struct xvf_layout_op *op);

/**
 * xvf_layout_apply() - take the controller @pf to layout @l
 * @pf:         the PF
 * @state_dir:  the engine's state directory: its per-PF lock is held for
 *              the whole run, its journal says what xen-vf holds
 * @l:          the layout wanted
 * @o:          what the user allowed; NULL for nothing
 * @rescan_ms:  bound on waiting for the kernel to show the primary's
 *              namespaces after the rescan
 * @step:       called before each command; NULL for none
 * @opaque:     passed to @step
 * @res:        what the run did, also on failure; zeroed first
 * @err:        why it failed
 *
 * Takes the PF's lock first, waiting at most @o's lock_timeout_ms
 * (-ETIMEDOUT naming the holder). Reads the state, plans, refuses (-EPERM, or -EBUSY for namespaces in
 * use, -ENOSPC for capacity; nothing changed) when the plan has REFUSE
 * notes, else runs it. A command that fails stops the run: what ran stays
 * done, and running again continues from the device's state. Namespace
 * Management answered with Invalid Command Opcode is not a failure: the
 * run re-plans without it and does the attach part.
 *
 * Return: 0 when the layout is reached, 1 when it is reached only in part
 * (SKIP notes), -errno otherwise.
 */
int xvf_layout_apply(const struct xvf_nvme_pf *pf, const char *state_dir,
                     const struct xvf_layout *l,
                     const struct xvf_layout_opts *o,
                     unsigned int rescan_ms, xvf_layout_step_fn step,
                     void *opaque, struct xvf_layout_result *res,
                     struct xvf_err *err);

/* ---- helpers for printing --------------------------------------------- */

/**
 * xvf_layout_size_str() - a size for people: "512 MiB", "1.50 GiB",
 * "1000 B"
 * @bytes: the size
 * @buf:   where the text goes
 * @len:   size of @buf
 */
void xvf_layout_size_str(uint64_t bytes, char *buf, size_t len);

/**
 * xvf_layout_nsmgmt_str() - what @st->nsmgmt means, in one line
 * @st: the state
 *
 * Return: a static string.
 */
const char *xvf_layout_nsmgmt_str(const struct xvf_layout_state *st);

/**
 * xvf_layout_data_str() - what is known of a namespace's contents, in
 * words ("none (NUSE 0: no block written)", ...)
 * @data: what is known
 *
 * Return: a static string.
 */
const char *xvf_layout_data_str(enum xvf_data data);

/**
 * xvf_layout_ns_bytes() - size of a namespace in bytes
 * @ns: the namespace
 *
 * Return: NSZE times the block size (metadata not counted).
 */
uint64_t xvf_layout_ns_bytes(const struct xvf_layout_ns *ns);

/**
 * struct xvf_primary_held - flexible resources the primary controller
 * holds (Identify Primary Controller Capabilities)
 * @vq:       VQRFAP, VQ resources allocated to the primary now
 * @vi:       VIRFAP
 * @vq_total: VQFRT, the flexible VQ resources of the controller
 * @vi_total: VIFRT
 * @released: the release ran (action 1 and a reset): @vq and @vi are what
 *            the primary holds after it
 */
struct xvf_primary_held {
    unsigned int vq, vi, vq_total, vi_total;
    bool released;
};

/**
 * xvf_layout_release_primary() - the one-time release of the flexible
 * resources the primary controller holds (a Samsung PM173x at power-on)
 * @pf:        the PF
 * @state_dir: the engine's state directory (its lock and journal)
 * @apply:     false for a dry run: only read what the primary holds
 * @step:      called with a line before each command, or NULL
 * @opaque:    for @step
 * @held:      what the primary holds (after the release, when it ran)
 * @err:       why not
 *
 * Under the PF's lock: Virtualization Management action 1 (primary
 * flexible allocation) of 0 VQ and 0 VI, then a controller reset
 * (reset_controller), at which the specification has the allocation take
 * effect, then Identify again; if the primary still holds them, a
 * function level reset of the PF (its "reset" attribute: QEMU applies
 * the allocation only then) and Identify again. A reset takes every
 * secondary offline, so it is refused while a secondary is online, a VF
 * is journaled (xen-vf holds it) or bound to a driver, or VFs are
 * enabled. Nothing is sent when the primary holds nothing.
 *
 * Return: 0; -EBUSY when refused; -EIO when the primary still holds
 * resources after the reset; or -errno.
 */
int xvf_layout_release_primary(const struct xvf_nvme_pf *pf,
                               const char *state_dir, bool apply,
                               void (*step)(void *opaque, const char *line),
                               void *opaque, struct xvf_primary_held *held,
                               struct xvf_err *err);

#endif
