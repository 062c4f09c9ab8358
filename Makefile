# xen-vf: SR-IOV virtual functions on demand for Xen guests.
#
#   make              build the library, xen-vfd, xen-vfctl, xen-vf-reaper
#                     (WERROR=1 adds -Werror; make check always does)
#   make check        install test dependencies, run every test tier
#   make demo         install demo dependencies, run the main job on the
#                     emulated default board
#   make install      install (honours DESTDIR, prefix, sbindir, ...)
#   make xen          patched Xen 4.17 tools from Debian's source package
#   make bench        benchmarks (not part of check)

prefix      ?= /usr
exec_prefix ?= $(prefix)
sbindir     ?= $(exec_prefix)/sbin
libdir      ?= $(exec_prefix)/lib
libexecdir  ?= $(exec_prefix)/lib
mandir      ?= $(prefix)/share/man
sysconfdir  ?= /etc
localstatedir ?= /var
XEN_SCRIPT_DIR ?= $(sysconfdir)/xen/scripts
XEN_VF_LIBEXEC ?= $(libexecdir)/xen-vf
XEN_VF_STATE_DIR ?= $(localstatedir)/lib/xen-vf
systemdunitdir ?= $(prefix)/lib/systemd/system

CC         ?= cc
PKG_CONFIG ?= pkg-config
INSTALL    ?= install
CFLAGS     ?= -O2 -g
BUILD      ?= build

PKGS := libnvme xenstore libpci libmnl
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null || echo PKG_CONFIG_FAILED)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
LIBNVME_VERSION := $(shell $(PKG_CONFIG) --modversion libnvme 2>/dev/null)
LIBNVME_VERNUM := $(shell echo $(LIBNVME_VERSION) | \
	awk -F. '{ printf "%d", $$1 * 10000 + $$2 * 100 + $$3 }')

# -Werror is for the project's own builds (make check, CI, WERROR=1):
# the flags of a user or a distribution (-O1, -O3, -Os, Yocto's) may turn
# on warnings this code was not checked with, and must not stop the build.
WERROR ?= $(if $(filter check,$(MAKECMDGOALS)),1)
export WERROR

XVF_CFLAGS := -std=gnu11 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) \
	-Wno-unused-parameter \
	-Wmissing-prototypes -Wstrict-prototypes -D_GNU_SOURCE \
	-DXVF_LIBNVME_VERSION=$(LIBNVME_VERNUM) \
	-DXVF_STATE_DIR='"$(XEN_VF_STATE_DIR)"' \
	-DXVF_SCRIPT_DIR='"$(XEN_SCRIPT_DIR)"' \
	-Iplugin/lib $(PKG_CFLAGS)
ALL_CFLAGS = $(XVF_CFLAGS) $(CFLAGS) $(CPPFLAGS)

.PHONY: all check demo demo-domd install uninstall clean deps bench
all:

include plugin/lib/lib.mk
include plugin/xen-vfctl/xen-vfctl.mk
-include plugin/xen-vfd/xen-vfd.mk
-include plugin/xen-vf-reaper/xen-vf-reaper.mk
include tests/unit/unit.mk
-include tests/domd/domd.mk
-include tests/xen/xen.mk
-include mk/xen.mk
-include mk/bench.mk

MAN_PODS := $(wildcard docs/man/*.pod)
MAN5 := $(patsubst docs/man/%.pod,$(BUILD)/man/%,$(filter %.5.pod,$(MAN_PODS)))
MAN8 := $(patsubst docs/man/%.pod,$(BUILD)/man/%,$(filter %.8.pod,$(MAN_PODS)))
$(BUILD)/man/%: docs/man/%.pod
	@mkdir -p $(dir $@)
	pod2man --section=$(subst .,,$(suffix $*)) --center=xen-vf \
		--name=$(basename $(notdir $*)) $< $@
all: $(MAN5) $(MAN8)

$(BUILD)/%.o: %.c
	@if [ "$(PKG_CFLAGS)" = PKG_CONFIG_FAILED ]; then \
		$(PKG_CONFIG) --cflags $(PKGS); \
		echo "missing development packages: run scripts/deps.sh" >&2; \
		exit 1; fi
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)

deps:
	scripts/deps.sh build

# Each tier prints its own `N passed, N failed`; tests/lib/summary.sh adds
# them up into the closing line.
# The cross tier needs more than `make` does (scripts/deps.sh check).
check:
	@scripts/deps.sh check
	@tests/lib/run-tiers.sh $(CHECK_TIERS)

# The main job: xl create with pci = [ "vf:nvme0/ns2" ] under real Xen on
# the emulated board (tests/xen/demo.sh). demo-domd is the DomD-only flow.
demo:
	@scripts/deps.sh xen
	@$(MAKE) --no-print-directory demo-xen

demo-domd:
	@scripts/deps.sh domd
	@$(MAKE) --no-print-directory all
	@tests/domd/demo.sh

install: all
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(XEN_VF_STATE_DIR)
	$(INSTALL) -m 0755 $(INSTALL_SBIN) $(DESTDIR)$(sbindir)/
	$(INSTALL) -d $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man8
	for m in $(MAN5); do $(INSTALL) -m 0644 $$m $(DESTDIR)$(mandir)/man5/; done
	for m in $(MAN8); do $(INSTALL) -m 0644 $$m $(DESTDIR)$(mandir)/man8/; done
	$(INSTALL_EXTRA)

uninstall:
	for f in $(notdir $(INSTALL_SBIN)); do rm -f $(DESTDIR)$(sbindir)/$$f; done
	for m in $(notdir $(MAN5)); do rm -f $(DESTDIR)$(mandir)/man5/$$m; done
	for m in $(notdir $(MAN8)); do rm -f $(DESTDIR)$(mandir)/man8/$$m; done
	$(UNINSTALL_EXTRA)

clean:
	rm -rf $(BUILD)
