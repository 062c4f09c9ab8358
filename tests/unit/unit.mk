# Unit tests: libxvf-mock.so (fake kernel + NVMe SR-IOV controller, loaded
# with LD_PRELOAD), the xvf-mock CLI and one binary per tests/unit/test-*.c.
# `make unit` builds them; tests/unit/run.sh builds and runs them.
UNIT_DIR := $(BUILD)/tests/unit
MOCK_SO := $(UNIT_DIR)/libxvf-mock.so
MOCK_CLI := $(UNIT_DIR)/xvf-mock
MOCK_SRCS := tests/fakes/kernel/model.c tests/fakes/kernel/tree.c \
	tests/fakes/kernel/admin.c tests/fakes/kernel/intercept.c \
	tests/fakes/kernel/api.c tests/fakes/kernel/rtnl.c tests/fakes/kernel/ns.c
UNIT_TESTS := $(patsubst tests/unit/%.c,$(UNIT_DIR)/%,\
	$(filter-out tests/unit/test-vfd.c tests/unit/test-provider.c,\
	$(wildcard tests/unit/test-*.c)))

$(MOCK_SRCS:%.c=$(BUILD)/%.o): CFLAGS += -fvisibility=hidden
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

.PHONY: unit
unit: $(MOCK_SO) $(MOCK_CLI) $(UNIT_TESTS) $(XEN_VFCTL)
