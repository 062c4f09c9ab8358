# tests/domd/domd.mk - the domd tier: the engine on the real nvme driver in
# an emulated DomD (QEMU q35, TCG). Included by the top Makefile.
#
#   make check-domd   run only this tier (same as CHECK_TIERS=domd make check)
#   make domd-cache   fetch the kernel and build the cached initrd base
#   make demo-domd    (top Makefile) tests/domd/demo.sh
#
# The kernel and the initrd base live in $XEN_VF_CACHE (default
# /var/cache/xen-vf), outside the tree; build/domd/ holds the per-run
# initrd and namespace images, build/logs/domd/ the step logs.

.PHONY: check-domd domd-cache

check-domd:
	@tests/lib/run-tiers.sh domd

domd-cache:
	@scripts/deps.sh domd
	@XVF_TOP=$(CURDIR) bash -c '. tests/domd/board.sh && \
		k=$$(board_kernel) && board_base "$$k"'
