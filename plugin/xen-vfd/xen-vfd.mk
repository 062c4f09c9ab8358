# xen-vfd, the driver domain's daemon: $(BUILD)/xen-vfd.
XEN_VFD := $(BUILD)/xen-vfd
XEN_VFD_OBJS := $(BUILD)/plugin/xen-vfd/xen-vfd.o $(BUILD)/plugin/xen-vfd/vfd.o

$(XEN_VFD): $(XEN_VFD_OBJS) $(LIBXENVF)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lsystemd

all: $(XEN_VFD)
INSTALL_SBIN += $(XEN_VFD)
