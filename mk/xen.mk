# make xen [XEN_SRC=DIR | XEN_TARBALL=FILE] [XEN_SERIES=DIR]
#
# Xen's libxlutil, libxenlight and xl with the xen-patches/ series, built
# by scripts/build-xen.sh into a staging root cached under
# $(XEN_VF_CACHE) by source version and series hash. $(BUILD)/xen links to
# the cache entry: $(BUILD)/xen/stage is the root to copy over a Debian 12
# system (the xen tier does), $(BUILD)/xen/info says what it is.
#
# Without XEN_SRC: Debian 12's source package (apt-get source xen) and
# xen-patches/4.17. With XEN_SRC: that tree (copied, not changed) and the
# series for its version, xen-patches/X.Y, xen-patches/rcar for a tree
# with pcid, or xen-patches/upstream. XEN_TARBALL: the same from a
# snapshot in ../shared/xen-src (checked against its SHA256SUMS).
#
#   make xen-check-series XEN_SRC=DIR   only check that the series applies
#   make xen-arm64    the same, cross-built for arm64 against the sysroot
#                     of scripts/arm64-sysroot.sh; $(BUILD)/xen-arm64 links
#                     to its cache entry (the xen-arm64 tier's dom0 runs it)

XEN_VF_CACHE ?= /var/cache/xen-vf
XEN_SRC ?=
XEN_SERIES ?=
XEN_TARBALL ?=
XEN_BUILD_ARGS = $(if $(XEN_SRC),--src $(XEN_SRC)) \
	$(if $(XEN_TARBALL),--tarball $(XEN_TARBALL)) \
	$(if $(XEN_SERIES),--series $(XEN_SERIES))

.PHONY: xen xen-arm64 xen-check-series
xen:
	@scripts/deps.sh xen
	@XEN_VF_CACHE=$(XEN_VF_CACHE) scripts/build-xen.sh $(XEN_BUILD_ARGS) \
		--link $(BUILD)/xen

xen-arm64:
	@scripts/deps.sh xen-arm64
	@XEN_VF_CACHE=$(XEN_VF_CACHE) scripts/build-xen.sh $(XEN_BUILD_ARGS) \
		--arch arm64 --link $(BUILD)/xen-arm64

xen-check-series:
	@XEN_VF_CACHE=$(XEN_VF_CACHE) scripts/build-xen.sh $(XEN_BUILD_ARGS) \
		--check-only
