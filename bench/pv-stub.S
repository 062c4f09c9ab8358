/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pv-stub - the smallest image Xen's PV domain builder accepts: the ELF
 * notes of a "generic" x86_64 PV kernel, a hypercall page and an entry
 * point that would spin. The benchmark's guests are created paused and
 * never run; with this stub instead of a compressed Linux kernel,
 * `xl create` does not spend seconds of emulated CPU decompressing a
 * kernel, which would drown the difference under test in noise
 * (docs/performance.md).
 */
#include <xen/elfnote.h>

#define ELFNOTE(type, desc)                     \
    .pushsection .note.Xen, "a", @note;         \
    .balign 4;                                  \
    .long 2f - 1f;                              \
    .long 4f - 3f;                              \
    .long type;                                 \
1:  .asciz "Xen";                               \
2:  .balign 4;                                  \
3:  desc;                                       \
4:  .balign 4;                                  \
    .popsection

ELFNOTE(XEN_ELFNOTE_GUEST_OS, .asciz "xvf-pv-stub")
ELFNOTE(XEN_ELFNOTE_LOADER, .asciz "generic")
ELFNOTE(XEN_ELFNOTE_XEN_VERSION, .asciz "xen-3.0")
ELFNOTE(XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page)
ELFNOTE(XEN_ELFNOTE_FEATURES, .asciz "!writable_page_tables")

    .text
    .globl _start
_start:
    jmp _start

    .balign 4096
hypercall_page:
    .fill 4096, 1, 0
