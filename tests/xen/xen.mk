# tests/xen/xen.mk - the xen tier: real Xen 4.17 under QEMU TCG, dom0 as
# the driver domain running xen-vfd, the patched xl (make xen) creating a
# PV guest with pci = [ "vf:nvme0/ns2" ]. Included by the top Makefile.
#
#   make check-xen    run only this tier (same as CHECK_TIERS=xen make check)
#   make demo-xen     the narrated xl create / xl destroy flow (demo.sh)
#   make soak         XEN_VF_SOAK_CYCLES (50) xl create / destroy cycles,
#                     then the leak check; not part of make check
#   make xen-cache    fetch the kernel, gunzip Xen, build the cached
#                     dom0 / domU initramfs layers (no QEMU)
#
# XEN_VF_XEN_JOBS=local,vfd,neg picks dom0's sections (default vfd,neg);
# XEN_VF_CONSOLE=1 copies the board's console to stdout. Cached pieces
# live in $XEN_VF_CACHE (default /var/cache/xen-vf); build/xen-board/ holds
# the run's images and console, build/logs/xen/ the step logs.

.PHONY: check-xen xen-cache

check-xen:
	@tests/lib/run-tiers.sh xen

xen-cache: all xen
	@XEN_VF_XEN_STOP_BEFORE_BOARD=1 tests/xen/run.sh

# The narrated end-to-end flow on this board (what `make demo` should
# run): tests/xen/demo.sh.
.PHONY: demo-xen
demo-xen: all xen
	@tests/xen/demo.sh

# The soak, outside make check: XEN_VF_SOAK_CYCLES (default 50) xl create
# / xl destroy cycles with vf:, NVMe and NIC in turn, then the leak check
# (tests/xen/soak.sh, dom0's part tests/xen/dom0-soak.sh).
.PHONY: soak
soak: all xen
	@tests/xen/soak.sh
