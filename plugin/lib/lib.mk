# libxenvf: the library shared by xen-vfd, xen-vfctl and the provider.
# One folder per concern; see "Map of the tree" in docs/design.md.
LIB_SRCS := $(wildcard plugin/lib/util/*.c plugin/lib/spec/*.c \
	plugin/lib/xen/*.c plugin/lib/pci/*.c plugin/lib/nvme/*.c \
	plugin/lib/net/*.c plugin/lib/engine/*.c plugin/lib/layout/*.c)
LIBXENVF := $(BUILD)/libxenvf.a

$(LIBXENVF): $(LIB_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

all: $(LIBXENVF)
