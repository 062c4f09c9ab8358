/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * protocol.h - the xenstore protocol between Dom0 and the driver domain
 *
 * Dom0 (the libxl "vf" provider) asks the driver domain (DomD, running
 * xen-vfd) for a VF by writing a request under DomD's backend area:
 *
 *   /local/domain/DOMD/drivers/xen-vf/status   "ready" | "dead"   (DomD)
 *   /local/domain/DOMD/drivers/xen-vf/protocol "1"                (DomD)
 *   /local/domain/DOMD/backend/pci-name/DOMID/DEVID/
 *       spec   the "vf:..." spec                          (Dom0)
 *       op     "prepare" | "release"                      (Dom0)
 *       state  "requested" (Dom0), "preparing" | "ready" | "error" |
 *              "releasing" (DomD)
 *       bdf    the VF, "DDDD:BB:DD.F", when state is ready (DomD)
 *       error  one line for the user, when state is error (DomD)
 *
 * Dom0 creates every node, so that DomD can tell a request from Dom0 by
 * the owner of the request directory; DomD may write only state, bdf and
 * error, and remove the request once it has released the VF. The guest
 * (DOMID) has no access at all. docs/protocol.md is the full description;
 * this header is its one implementation of names, paths, permissions and
 * value checks, shared by both sides. Nothing here talks to xenstore.
 */
#ifndef XVF_PROTOCOL_H
#define XVF_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#include <xenstore.h>

#include "spec/spec.h"
#include "util/err.h"

#define XVF_PROTO_VERSION 1

/* Longest path the protocol uses, with room to spare. */
#define XVF_PROTO_PATH_MAX 128

/* Longest error message DomD may give; longer ones are cut. */
#define XVF_PROTO_ERROR_MAX 200

#define XVF_PROTO_STATUS_READY "ready"
#define XVF_PROTO_STATUS_DEAD "dead"

/* Nodes of a request directory */
#define XVF_PROTO_SPEC "name"
#define XVF_PROTO_OP "op"
#define XVF_PROTO_STATE "state"
#define XVF_PROTO_BDF "bdf"
#define XVF_PROTO_ERROR "error"

enum xvf_proto_state {
    XVF_PS_REQUESTED,   /* written by Dom0 with the request */
    XVF_PS_PREPARING,   /* DomD is working on op=prepare */
    XVF_PS_READY,       /* the VF is prepared; bdf is set */
    XVF_PS_ERROR,       /* DomD could not do op; error is set */
    XVF_PS_RELEASING,   /* DomD is working on op=release */
};

enum xvf_proto_op {
    XVF_OP_PREPARE,
    XVF_OP_RELEASE,
};

/**
 * enum xvf_proto_node - the nodes whose permissions the protocol fixes
 * @XVF_NODE_ROOT:    backend/pci-name
 * @XVF_NODE_GUEST:   backend/pci-name/DOMID
 * @XVF_NODE_REQUEST: backend/pci-name/DOMID/DEVID
 * @XVF_NODE_DOM0:    spec, op (DomD reads)
 * @XVF_NODE_ANSWER:  state, bdf, error (DomD reads and writes)
 */
enum xvf_proto_node {
    XVF_NODE_ROOT,
    XVF_NODE_GUEST,
    XVF_NODE_REQUEST,
    XVF_NODE_DOM0,
    XVF_NODE_ANSWER,
};

/**
 * xvf_proto_state_name() - the xenstore value of a state
 * @state: the state
 *
 * Return: its name, "?" for a value that is no state.
 */
const char *xvf_proto_state_name(enum xvf_proto_state state);

/**
 * xvf_proto_state_parse() - value of a state node to enum
 * @str: the node's value
 * @ret: set on success
 *
 * Return: 0, or -EINVAL for anything that is not a state.
 */
int xvf_proto_state_parse(const char *str, enum xvf_proto_state *ret);

/**
 * xvf_proto_op_name() - the xenstore value of an op
 * @op: the op
 *
 * Return: its name, "?" for a value that is no op.
 */
const char *xvf_proto_op_name(enum xvf_proto_op op);

/**
 * xvf_proto_op_parse() - value of an op node to enum
 * @str: the node's value
 * @ret: set on success
 *
 * Return: 0, or -EINVAL for anything that is not an op.
 */
int xvf_proto_op_parse(const char *str, enum xvf_proto_op *ret);

/**
 * xvf_proto_status_path() - "/local/domain/DOMD/drivers/xen-vf/status"
 * @buf:  receives the path; XVF_PROTO_PATH_MAX bytes are always enough
 * @len:  size of @buf
 * @domd: the driver domain
 *
 * The path functions below take the same @buf, @len and @domd.
 *
 * Return: 0, or -ENAMETOOLONG when @len is too small.
 */
int xvf_proto_status_path(char *buf, size_t len, unsigned int domd);

/**
 * xvf_proto_name_status_path() - ".../drivers/pci-name/status"
 * @buf:  receives the path
 * @len:  size of @buf
 * @domd: the driver domain
 * Where libxl looks whether the domain serves PCI names (the same values
 * as drivers/xen-vf/status).
 * Return: 0, or -ENAMETOOLONG.
 */
int xvf_proto_name_status_path(char *buf, size_t len, unsigned int domd);

/**
 * xvf_proto_version_path() - ".../drivers/xen-vf/protocol"
 * @buf:  receives the path
 * @len:  size of @buf
 * @domd: the driver domain
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int xvf_proto_version_path(char *buf, size_t len, unsigned int domd);

/**
 * xvf_proto_root_path() - "/local/domain/DOMD/backend/pci-name"
 * @buf:  receives the path
 * @len:  size of @buf
 * @domd: the driver domain
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int xvf_proto_root_path(char *buf, size_t len, unsigned int domd);

/**
 * xvf_proto_guest_path() - ".../backend/pci-name/DOMID"
 * @buf:   receives the path
 * @len:   size of @buf
 * @domd:  the driver domain
 * @domid: the guest
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int xvf_proto_guest_path(char *buf, size_t len, unsigned int domd,
                         unsigned int domid);

/**
 * xvf_proto_request_path() - ".../backend/pci-name/DOMID/DEVID[/NODE]"
 * @buf:   receives the path
 * @len:   size of @buf
 * @domd:  the driver domain
 * @domid: the guest
 * @devid: the request's number
 * @node:  a node of the request, or NULL for the directory
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int xvf_proto_request_path(char *buf, size_t len, unsigned int domd,
                           unsigned int domid, unsigned int devid,
                           const char *node);

/* Domain ids from here on are Xen's own (DOMID_SELF, DOMID_IO, ...). */
#define XVF_DOMID_FIRST_RESERVED 0x7ff0u

/* Largest DEVID, the number of a request under its guest's directory. */
#define XVF_DEVID_MAX 0x7fffffffu

/**
 * xvf_proto_parse_domid() - parse a domain id, the whole string
 * @s:     decimal digits only: no sign, no blanks
 * @domid: set on success
 *
 * The one rule for a domain id, wherever it comes from (xenstore names,
 * the journal's owners, the command line, the provider's configuration).
 *
 * Return: 0, or -EINVAL when @s is not a number below
 * XVF_DOMID_FIRST_RESERVED.
 */
int xvf_proto_parse_domid(const char *s, unsigned int *domid);

/**
 * xvf_proto_parse_devid() - parse a request's DEVID, the whole string
 * @s:     decimal digits only: no sign, no blanks
 * @devid: set on success
 *
 * Return: 0, or -EINVAL when @s is not a number up to XVF_DEVID_MAX.
 */
int xvf_proto_parse_devid(const char *s, unsigned int *devid);

/**
 * xvf_proto_parse_path() - split a path at or under a request directory
 * @path:  e.g. a watch event's path
 * @domd:  set to D
 * @domid: set to U
 * @devid: set to N
 * @node:  set to the node after DEVID ("" for the directory itself,
 *         which may have further components), may be NULL
 *
 * Return: 0, or -EINVAL when @path is not at or under
 * /local/domain/D/backend/pci-name/U/N with domain ids D and U and a DEVID N
 * (see xvf_proto_parse_domid()), written without leading zeros: a path
 * names one node only in its canonical form.
 */
int xvf_proto_parse_path(const char *path, unsigned int *domd,
                         unsigned int *domid, unsigned int *devid,
                         const char **node);

/**
 * xvf_proto_perms() - the permissions Dom0 gives a node
 * @node:  which node
 * @domd:  the driver domain
 * @perms: filled with @*nperms entries (at most 2): owner Dom0 with no
 *         access for others, then DomD's access unless DomD is Dom0
 */
void xvf_proto_perms(enum xvf_proto_node node, unsigned int domd,
                     struct xs_permissions perms[2], unsigned int *nperms);

/**
 * struct xvf_proto_answer - what DomD answered, checked
 * @state: the state
 * @bdf:   canonical VF address when @state is XVF_PS_READY
 * @error: printable one-line message when @state is XVF_PS_ERROR
 */
struct xvf_proto_answer {
    enum xvf_proto_state state;
    char bdf[16];
    char error[XVF_PROTO_ERROR_MAX + 1];
};

/**
 * xvf_proto_answer_final() - whether Dom0 stops waiting
 * @ans: a decoded answer
 *
 * Return: true when @ans is ready or error.
 */
static inline bool xvf_proto_answer_final(const struct xvf_proto_answer *ans)
{
    return ans->state == XVF_PS_READY || ans->state == XVF_PS_ERROR;
}

/**
 * xvf_proto_decode_answer() - check the answer nodes as Dom0 reads them
 * @state: value of the state node, NULL when it does not exist
 * @bdf:   value of the bdf node, may be NULL
 * @error: value of the error node, may be NULL
 * @ans:   the answer, filled on success
 * @err:   why the answer is unusable
 *
 * The error text comes from another domain: it is cut to
 * XVF_PROTO_ERROR_MAX characters at its first line break, and anything
 * but printable ASCII becomes '?'. A missing or empty error reads
 * "the driver domain gave no reason".
 *
 * Return: 0, -ENOENT when the request is gone (@state NULL), or -EPROTO
 * when @state is unknown or "ready" comes without a valid BDF.
 */
int xvf_proto_decode_answer(const char *state, const char *bdf,
                            const char *error, struct xvf_proto_answer *ans,
                            struct xvf_err *err);

/**
 * xvf_proto_clean_error() - make a message fit for an error node
 * @dst: at least XVF_PROTO_ERROR_MAX + 1 bytes
 * @src: the message
 *
 * DomD uses this before it writes an error; Dom0 applies it again on
 * reading, because it trusts no other domain with its terminal.
 */
void xvf_proto_clean_error(char *dst, const char *src);

/**
 * struct xvf_proto_request - a request, checked, as DomD reads it
 * @op:   what is asked
 * @spec: the spec, parsed
 * @text: the spec as written
 */
struct xvf_proto_request {
    enum xvf_proto_op op;
    struct xvf_spec spec;
    char text[XVF_SPEC_MAX + 1];
};

/**
 * xvf_proto_decode_request() - check a request before acting on it
 * @owner: owner of the request directory (first permission entry)
 * @spec:  value of the spec node, or NULL
 * @op:    value of the op node, or NULL
 * @req:   filled on success
 * @err:   why the request is refused
 *
 * Return: 0; -EPERM when Dom0 did not create the request; -EINVAL when
 * spec or op is missing or malformed.
 */
int xvf_proto_decode_request(unsigned int owner, const char *spec,
                             const char *op, struct xvf_proto_request *req,
                             struct xvf_err *err);

#endif
