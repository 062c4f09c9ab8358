# libxl's PCI name provider for "vf:" names: $(BUILD)/vf.so, installed as
# $(XEN_PCI_PROVIDER_DIR)/vf.so, where a libxl with the xen-patches/
# series looks for it ($(LIBEXEC_LIB)/pci-providers in Xen's terms).
#
# It builds against stock libxen-dev: the interface header comes from
# xen-patches/ and a copy is kept here (tests/xenbuild checks that the two
# are the same). It links only the objects of libxenvf it uses, and its
# version script exports only libxl_pci_provider_init().

XEN_MM := $(shell $(PKG_CONFIG) --modversion xenlight 2>/dev/null | \
	cut -d. -f1,2)
# Debian's Xen (libexec leaf xen-X.Y, multiarch LIBEXEC_LIB, shipped by
# libxenmisc) or upstream's. Decided by the target's files as pkg-config
# sees them (its sysroot when cross-building), never the build host's;
# set XEN_PCI_PROVIDER_DIR to override.
XEN_PC_SYSROOT := $(patsubst %/,%,$(shell $(PKG_CONFIG) \
	--variable=pc_sysrootdir xenlight 2>/dev/null))
XEN_PC_LIBDIR := $(patsubst $(XEN_PC_SYSROOT)/%,/%,$(shell $(PKG_CONFIG) \
	--variable=libdir xenlight 2>/dev/null))
MULTIARCH := $(notdir $(XEN_PC_LIBDIR))
ifneq ($(wildcard $(XEN_PC_SYSROOT)$(dir $(XEN_PC_LIBDIR))xen-$(XEN_MM)/lib/$(MULTIARCH)),)
XEN_PCI_PROVIDER_DIR ?= $(libexecdir)/xen-$(XEN_MM)/lib/$(MULTIARCH)/pci-providers
else
XEN_PCI_PROVIDER_DIR ?= $(libexecdir)/xen/lib/pci-providers
endif
XVF_PROVIDER_CONF ?= $(sysconfdir)/xen/xen-vf-provider.conf

VF_PROVIDER := $(BUILD)/vf.so
# The sources vf.so is made of (tests/unit builds them again, sanitized).
VF_PROVIDER_SRCS := $(wildcard plugin/libxl-provider/*.c) \
	plugin/lib/xen/protocol.c plugin/lib/xen/xs.c plugin/lib/spec/spec.c \
	plugin/lib/util/err.c plugin/lib/util/str.c
VF_PROVIDER_OBJS := $(VF_PROVIDER_SRCS:%.c=$(BUILD)/%.o)
VF_PROVIDER_MAP := plugin/libxl-provider/vf-provider.map

$(BUILD)/plugin/libxl-provider/%.o: ALL_CFLAGS += \
	-fvisibility=hidden -Iplugin/libxl-provider \
	-DXVF_PROVIDER_CONF='"$(XVF_PROVIDER_CONF)"'

$(VF_PROVIDER): $(VF_PROVIDER_OBJS) $(VF_PROVIDER_MAP)
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=$(VF_PROVIDER_MAP) \
		-Wl,-z,defs -o $@ $(VF_PROVIDER_OBJS) \
		$(shell $(PKG_CONFIG) --libs xenstore)

all: $(VF_PROVIDER)

.PHONY: vf-provider install-vf-provider uninstall-vf-provider
vf-provider: $(VF_PROVIDER)

install: install-vf-provider
install-vf-provider: $(VF_PROVIDER)
	$(INSTALL) -d $(DESTDIR)$(XEN_PCI_PROVIDER_DIR)
	$(INSTALL) -m 0644 $(VF_PROVIDER) $(DESTDIR)$(XEN_PCI_PROVIDER_DIR)/vf.so

uninstall: uninstall-vf-provider
uninstall-vf-provider:
	rm -f $(DESTDIR)$(XEN_PCI_PROVIDER_DIR)/vf.so
