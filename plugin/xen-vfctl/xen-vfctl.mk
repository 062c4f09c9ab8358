XEN_VFCTL := $(BUILD)/xen-vfctl
$(XEN_VFCTL): $(BUILD)/plugin/xen-vfctl/xen-vfctl.o \
		$(BUILD)/plugin/xen-vfctl/nvme-layout.o $(LIBXENVF)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
all: $(XEN_VFCTL)
INSTALL_SBIN += $(XEN_VFCTL)
