# Unit tests: libxvf-mock.so (fake kernel + NVMe SR-IOV controller, loaded
# with LD_PRELOAD), the xvf-mock CLI and one binary per tests/unit/test-*.c.
# `make unit` builds them; tests/unit/run.sh builds and runs them.
UNIT_DIR := $(BUILD)/tests/unit
MOCK_SO := $(UNIT_DIR)/libxvf-mock.so
MOCK_CLI := $(UNIT_DIR)/xvf-mock
MOCK_SRCS := tests/unit/mock/model.c tests/unit/mock/tree.c \
	tests/unit/mock/admin.c tests/unit/mock/intercept.c \
	tests/unit/mock/api.c tests/unit/mock/rtnl.c tests/unit/mock/ns.c
UNIT_TESTS := $(patsubst tests/unit/%.c,$(UNIT_DIR)/%,\
	$(wildcard tests/unit/test-*.c))

$(MOCK_SRCS:%.c=$(BUILD)/%.o): CFLAGS += -fvisibility=hidden

$(MOCK_SO): $(MOCK_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libxvf-mock.so -o $@ $^ -ldl

# Linked against the mock too (for its API); $ORIGIN finds it without
# LD_PRELOAD, run.sh preloads it anyway so children are faked as well.
UNIT_LINK = -L$(UNIT_DIR) -lxvf-mock -Wl,-rpath,'$$ORIGIN'

$(MOCK_CLI): $(BUILD)/tests/unit/mock/xvf-mock.o $(MOCK_SO)
	$(CC) $(LDFLAGS) -o $@ $< $(UNIT_LINK)

$(UNIT_DIR)/test-%: $(BUILD)/tests/unit/test-%.o $(MOCK_SO) $(LIBXENVF)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBXENVF) $(UNIT_LINK) $(PKG_LIBS)

.PHONY: unit
unit: $(MOCK_SO) $(MOCK_CLI) $(UNIT_TESTS) $(XEN_VFCTL)
