# libxenvf: the library shared by xen-vfd, xen-vfctl and the provider.
LIB_SRCS := plugin/lib/xvf-err.c plugin/lib/sysfs.c plugin/lib/spec.c \
	plugin/lib/sriov.c plugin/lib/nvme.c plugin/lib/journal.c \
	plugin/lib/engine.c plugin/lib/provider-nvme.c \
	plugin/lib/netlink.c plugin/lib/provider-net.c
LIB_SRCS += plugin/lib/layout.c
LIB_SRCS += $(wildcard plugin/lib/protocol.c)
LIBXENVF := $(BUILD)/libxenvf.a

$(LIBXENVF): $(LIB_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

all: $(LIBXENVF)
