/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * internal.h - what the files of plugin/lib/layout share and nothing else
 * sees: the planner's working state, and helpers used by more than one of
 * grammar, state, use, dump, plan and apply
 */
#ifndef XVF_LAYOUT_INTERNAL_H
#define XVF_LAYOUT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout/layout.h"

/* ---- common.c ---------------------------------------------------------- */

/**
 * xvf_layout_append() - append @s to the string in @buf
 * @buf: a NUL-terminated string
 * @len: size of @buf
 * @sep: put between the old text and @s, when there is old text
 * @s:   the text to add; cut when @buf is full
 */
void xvf_layout_append(char *buf, size_t len, const char *sep, const char *s);

/**
 * xvf_layout_size_exact() - @bytes in the largest binary unit that divides
 * it exactly, as a layout writes it ("512MiB", "1000")
 * @bytes: the size
 * @buf:   where the text goes
 * @len:   size of @buf
 */
void xvf_layout_size_exact(uint64_t bytes, char *buf, size_t len);

/**
 * xvf_layout_pct_str() - a percentage as a layout writes it: "50%",
 * "12.50%"
 * @hundredths: the percentage in hundredths (5000 = 50%)
 * @buf:        where the text goes
 * @len:        size of @buf
 */
void xvf_layout_pct_str(uint64_t hundredths, char *buf, size_t len);

/**
 * xvf_layout_has_id() - whether @id is one of the @n controller ids @ids
 * @ids: the list
 * @n:   its length
 * @id:  the controller id looked for
 *
 * Return: true when found.
 */
bool xvf_layout_has_id(const uint16_t *ids, unsigned int n, uint16_t id);

/* ---- state.c ----------------------------------------------------------- */

/**
 * xvf_layout_state_ns() - the namespace @nsid of @st
 * @st:   the state
 * @nsid: the namespace id
 *
 * Return: the namespace, or NULL when @st has none of that id.
 */
struct xvf_layout_ns *xvf_layout_state_ns(struct xvf_layout_state *st,
                                          uint32_t nsid);

/**
 * xvf_layout_state_sec() - the secondary controller @scid of @st
 * @st:   the state
 * @scid: the secondary controller id
 *
 * Return: the secondary, or NULL when @st has none of that id.
 */
const struct xvf_layout_sec *xvf_layout_state_sec(
    const struct xvf_layout_state *st, uint16_t scid);

/* ---- use.c ------------------------------------------------------------- */

/**
 * xvf_layout_ctrl_ns_nodes() - call @fn for every namespace node of
 * controller @ctrl
 * @ctrl:   the controller's name ("nvme0")
 * @fn:     called with @opaque, the node's NSID and its disk's name
 *          ("nvme0n1"; with native multipath "nvme0n1" for "nvme0c0n1")
 * @opaque: passed to @fn
 */
void xvf_layout_ctrl_ns_nodes(const char *ctrl,
                              void (*fn)(void *, uint32_t, const char *),
                              void *opaque);

/**
 * xvf_layout_read_use() - fill ns->use of every namespace of @st: its
 * block device in the driver domain and what uses it
 * @pf: the PF whose controller, and those of its subsystem, show the
 *      namespaces
 * @st: the state, with its namespaces read
 */
void xvf_layout_read_use(const struct xvf_nvme_pf *pf,
                         struct xvf_layout_state *st);

/* ---- the planner: plan.c ---------------------------------------------- */

/**
 * struct want - what the planner makes of one layout entry
 * @e:        the entry
 * @cur:      its existing namespace, NULL if none
 * @recreate: @cur is deleted, then created again
 * @create:   a new namespace is created
 * @skipped:  size or format wrong, and it cannot be fixed here
 * @fmt:      the LBA format index it is to have
 * @lbads:    log2 of that format's block size
 * @nsze:     the size it is to have, in blocks
 * @new_nsid: with @create: the NSID the controller will choose
 * @ntarget:  number of entries of @target
 * @target:   the controllers it is to be attached to
 */
struct want {
    const struct xvf_layout_entry *e;
    struct xvf_layout_ns *cur;  /* existing namespace, NULL if none */
    bool recreate;              /* cur is deleted, then created again */
    bool create;                /* a new namespace is created */
    bool skipped;               /* size or format wrong, cannot fix */
    unsigned int fmt;           /* LBA format index */
    uint8_t lbads;
    uint64_t nsze;              /* blocks, for create / comparison */
    uint32_t new_nsid;          /* what the controller will choose */
    unsigned int ntarget;
    uint16_t target[XVF_LAYOUT_MAX_ATT];
};

/**
 * struct planner - the working state of one xvf_layout_plan()
 * @st:        the controller as it is
 * @l:         the layout wanted
 * @o:         what the user allowed, may be NULL
 * @p:         the plan being written
 * @mgmt_ok:   namespaces may be created and deleted
 * @attach_ok: namespaces may be attached and detached
 * @cap:       the capacity percentages and "rest" are taken of, in bytes
 * @w:         one per entry of @l, same order
 * @deleted:   by index of st->ns: the plan deletes it
 * @in_layout: by index of st->ns: the layout names it
 */
struct planner {
    const struct xvf_layout_state *st;
    const struct xvf_layout *l;
    const struct xvf_layout_opts *o;
    struct xvf_layout_plan *p;
    bool mgmt_ok, attach_ok;
    uint64_t cap;
    struct want w[XVF_LAYOUT_MAX_NS];
    bool deleted[XVF_LAYOUT_MAX_NS];    /* by index of st->ns */
    bool in_layout[XVF_LAYOUT_MAX_NS];
};

/**
 * xvf_plan_note() - add a note to the plan, counting SKIP and REFUSE
 * @pl:   the planner
 * @kind: what the note means
 * @fmt:  printf format of its text
 *
 * Notes past XVF_LAYOUT_MAX_NOTES are counted but not kept.
 */
void xvf_plan_note(struct planner *pl, enum xvf_layout_note_kind kind,
                   const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * xvf_plan_target_of() - whether @w is to be attached to controller @id
 * @w:  the entry
 * @id: the controller id
 *
 * Return: true when @id is one of @w's targets.
 */
bool xvf_plan_target_of(const struct want *w, uint16_t id);

/* ---- plan-size.c ------------------------------------------------------- */

/**
 * xvf_plan_cap_bytes() - the capacity a namespace of @bytes takes, rounded
 * up to the capacity granularity
 * @st:    the state, for its NCAPG
 * @bytes: the namespace's size
 *
 * Return: the capacity in bytes.
 */
uint64_t xvf_plan_cap_bytes(const struct xvf_layout_state *st,
                            uint64_t bytes);

/**
 * xvf_plan_set_capacity() - set pl->cap: TNVMCAP, or when the controller
 * does not report it, what its namespaces hold (with a note saying so)
 * @pl: the planner
 */
void xvf_plan_set_capacity(struct planner *pl);

/**
 * xvf_plan_sizes() - fill the size and format of every entry, and whether
 * its namespace exists
 * @pl:  the planner, with pl->cap set
 * @err: why it failed
 *
 * Return: 0, or -EINVAL when an entry asks for an LBA format the
 * controller does not have.
 */
int xvf_plan_sizes(struct planner *pl, struct xvf_err *err);

/**
 * xvf_plan_matches() - decide which entries need their namespace created,
 * or deleted and created again, and which namespaces are deleted
 * @pl: the planner, after xvf_plan_sizes()
 */
void xvf_plan_matches(struct planner *pl);

/* ---- plan-checks.c ----------------------------------------------------- */

/**
 * xvf_plan_ctrl_name() - a controller in words: "the primary controller
 * 0x0 (nvme0)", "secondary controller 0x1 (VF 1)"
 * @st:  the state
 * @id:  the controller id
 * @buf: where the text goes
 * @len: size of @buf
 */
void xvf_plan_ctrl_name(const struct xvf_layout_state *st, uint16_t id,
                        char *buf, size_t len);

/**
 * xvf_plan_sec_busy() - why secondary @id must not change attachments
 * @st:  the state
 * @id:  the controller id
 * @buf: where the reason goes
 * @len: size of @buf
 *
 * Return: @buf with the reason, or NULL when it is free (or is not a
 * secondary).
 */
const char *xvf_plan_sec_busy(const struct xvf_layout_state *st, uint16_t id,
                              char *buf, size_t len);

/**
 * xvf_plan_check_ctrl() - refuse when namespace @nsid must not be @verb
 * because of controller @id: it is not a controller of this PF, or a
 * secondary that is held, online or bound
 * @pl:   the planner
 * @nsid: the namespace
 * @id:   the controller it is detached from, attached to, or attached to
 *        while deleted
 * @verb: "detached", "attached", "deleted", for the note
 */
void xvf_plan_check_ctrl(struct planner *pl, uint32_t nsid, uint16_t id,
                         const char *verb);

/**
 * xvf_plan_check_entries() - check that every entry can apply to this
 * controller at all
 * @pl:  the planner
 * @err: why not
 *
 * Return: 0, or -EINVAL for an NSID above NN or a secondary the
 * controller does not have.
 */
int xvf_plan_check_entries(struct planner *pl, struct xvf_err *err);

/**
 * xvf_plan_check_deletes() - refuse deleting what is held, in use or may
 * hold data that --destroy-ns does not name
 * @pl: the planner, after xvf_plan_matches()
 */
void xvf_plan_check_deletes(struct planner *pl);

/**
 * xvf_plan_check_creates() - set the NSID of every namespace created, and
 * refuse when it is not the one the layout names or capacity lacks
 * @pl: the planner, after xvf_plan_check_deletes()
 */
void xvf_plan_check_creates(struct planner *pl);

/**
 * xvf_plan_check_attach() - refuse or skip the attachment changes of a
 * namespace that stays, when they cannot or must not be made
 * @pl: the planner, with the targets chosen
 * @w:  the entry, whose namespace exists
 */
void xvf_plan_check_attach(struct planner *pl, const struct want *w);

#endif
