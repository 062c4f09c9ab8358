# xen-vfctl: main and the command table in xen-vfctl.c, one cmd-*.c per
# command group (as xl's xl_cmdtable.c and xl_<area>.c).
XEN_VFCTL := $(BUILD)/xen-vfctl
XEN_VFCTL_SRCS := $(wildcard plugin/xen-vfctl/*.c)
$(XEN_VFCTL): $(XEN_VFCTL_SRCS:%.c=$(BUILD)/%.o) $(LIBXENVF)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
all: $(XEN_VFCTL)
INSTALL_SBIN += $(XEN_VFCTL)
