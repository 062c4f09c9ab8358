# Unit tests: libxvf-mock.so (fake kernel + NVMe SR-IOV controller, loaded
# with LD_PRELOAD), the xvf-mock CLI and one binary per tests/unit/test-*.c.
# `make unit` builds them; tests/unit/run.sh builds and runs them.
#
# Two kinds of test binary:
#   $(UNIT_DIR)/test-X       linked with libxvf-mock.so, run preloaded
#   $(UNIT_DIR)/san/test-X   the tests of xenstore clients (xen-vfd's core,
#                            Dom0's side) against the in-memory
#                            xenstore of tests/fakes/xenstore: built with
#                            ASan and UBSan from their own objects under
#                            san/, run without the preload (ASan refuses a
#                            library preloaded ahead of it)
UNIT_DIR := $(BUILD)/tests/unit
MOCK_SO := $(UNIT_DIR)/libxvf-mock.so
MOCK_CLI := $(UNIT_DIR)/xvf-mock
MOCK_SRCS := tests/fakes/kernel/model.c tests/fakes/kernel/tree.c \
	tests/fakes/kernel/admin.c tests/fakes/kernel/intercept.c \
	tests/fakes/kernel/api.c tests/fakes/kernel/rtnl.c tests/fakes/kernel/ns.c \
	tests/fakes/kernel/irq.c tests/fakes/kernel/probe.c
UNIT_SAN_TESTS := test-vfd test-dom0 test-reaper
UNIT_TESTS := $(patsubst tests/unit/%.c,$(UNIT_DIR)/%,\
	$(filter-out $(UNIT_SAN_TESTS:%=tests/unit/%.c),\
	$(wildcard tests/unit/test-*.c)))

# ALL_CFLAGS, not CFLAGS: a CFLAGS given on make's command line (as a
# Yocto or cross build does) would override a target-specific CFLAGS +=.
$(MOCK_SRCS:%.c=$(BUILD)/%.o): ALL_CFLAGS += -fvisibility=hidden
$(BUILD)/tests/unit/%.o: ALL_CFLAGS += -Itests/fakes -Itests/lib

$(MOCK_SO): $(MOCK_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libxvf-mock.so -o $@ $^ -ldl

# Linked against the mock too (for its API); $ORIGIN finds it without
# LD_PRELOAD, run.sh preloads it anyway so children are faked as well.
UNIT_LINK = -L$(UNIT_DIR) -lxvf-mock -Wl,-rpath,'$$ORIGIN'

$(MOCK_CLI): $(BUILD)/tests/fakes/kernel/xvf-mock.o $(MOCK_SO)
	$(CC) $(LDFLAGS) -o $@ $< $(UNIT_LINK)

$(UNIT_DIR)/test-%: $(BUILD)/tests/unit/test-%.o $(MOCK_SO) $(LIBXENVF)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBXENVF) $(UNIT_LINK) $(PKG_LIBS)

# The sanitized tests: their sources, the plugin sources they test (by
# the plugin's own variables) and the fake xenstore, compiled again.
ifeq ($(XEN_VFD_CORE_SRCS)$(XEN_VF_REAPER_LIB_SRCS),)
$(error tests/unit/unit.mk needs the plugin .mk files included first)
endif
SAN_DIR := $(UNIT_DIR)/san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
FAKE_XS_SRCS := tests/fakes/xenstore/fake-xs.c
TEST_VFD_SRCS := tests/unit/test-vfd.c $(XEN_VFD_CORE_SRCS) $(FAKE_XS_SRCS)
TEST_DOM0_SRCS := tests/unit/test-dom0.c $(XEN_VF_REAPER_LIB_SRCS) \
	$(FAKE_XS_SRCS)
TEST_REAPER_SRCS := tests/unit/test-reaper.c $(XEN_VF_REAPER_LIB_SRCS) \
	$(FAKE_XS_SRCS)

$(SAN_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Itests/fakes -Itests/lib \
		-MMD -MP -c -o $@ $<

$(TEST_VFD_SRCS:%.c=$(SAN_DIR)/%.o): ALL_CFLAGS += -Iplugin/xen-vfd
$(TEST_DOM0_SRCS:%.c=$(SAN_DIR)/%.o) \
$(TEST_REAPER_SRCS:%.c=$(SAN_DIR)/%.o): ALL_CFLAGS += \
	-Iplugin/xen-vf-reaper -DXVF_XL_CONF='"$(XVF_XL_CONF)"'

# xen-vfd's core with the plain libxenvf archive, as today's xen-vfd
$(SAN_DIR)/test-vfd: $(TEST_VFD_SRCS:%.c=$(SAN_DIR)/%.o) $(LIBXENVF)
	$(CC) $(LDFLAGS) $(SAN_FLAGS) -o $@ $^ \
		$(shell $(PKG_CONFIG) --libs libnvme libpci libmnl)

$(SAN_DIR)/test-dom0: $(TEST_DOM0_SRCS:%.c=$(SAN_DIR)/%.o)
	$(CC) $(LDFLAGS) $(SAN_FLAGS) -o $@ $^

$(SAN_DIR)/test-reaper: $(TEST_REAPER_SRCS:%.c=$(SAN_DIR)/%.o)
	$(CC) $(LDFLAGS) $(SAN_FLAGS) -o $@ $^

.PHONY: unit
unit: $(MOCK_SO) $(MOCK_CLI) $(UNIT_TESTS) $(UNIT_SAN_TESTS:%=$(SAN_DIR)/%) \
	$(XEN_VFCTL)
