# mk/bench.mk - benchmarks: what the automation costs over the device
# itself. Included by the top Makefile; not part of `make check`.
#
#   make bench            every part (emulated DomD board, then Xen board),
#                         table at the end, raw CSV in $(BUILD)/bench/
#   make bench-domd       only the DomD board (floor, engine, guide order)
#   make bench-xen        only the Xen board (xenstore path, xl create,
#                         concurrency, footprint)
#   make bench-tools      only build the benchmark programs
#
# XEN_VF_BENCH_ROUNDS / XEN_VF_BENCH_XEN_ROUNDS change the number of
# rounds; docs/performance.md explains the method and the numbers.

BENCH_DIR := $(BUILD)/bench
BENCH_FLOOR := $(BENCH_DIR)/xvf-bench-floor
BENCH_TIME := $(BENCH_DIR)/xvf-bench-time
BENCH_XS := $(BENCH_DIR)/xvf-bench-xs
BENCH_PV_STUB := $(BENCH_DIR)/pv-stub
BENCH_TOOLS := $(BENCH_FLOOR) $(BENCH_TIME) $(BENCH_XS) $(BENCH_PV_STUB)

# The floor links libnvme and nothing of libxenvf.
$(BENCH_FLOOR): $(BUILD)/bench/floor.o
	$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libnvme)

$(BENCH_TIME): $(BUILD)/bench/timeit.o
	$(CC) $(LDFLAGS) -o $@ $^

$(BENCH_XS): $(BUILD)/bench/xs-req.o $(LIBXENVF)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The kernel of the Xen board's benchmark guests (they never run).
$(BENCH_PV_STUB): bench/pv-stub.S bench/pv-stub.lds
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Wl,-T,bench/pv-stub.lds \
		-Wl,--build-id=none -o $@ bench/pv-stub.S

.PHONY: bench bench-domd bench-xen bench-tools
bench-tools: $(BENCH_TOOLS)

# deps first, then a sub-make: the package flags are read when make
# starts, so a fresh machine needs a second make after the install.
bench: deps
	@$(MAKE) --no-print-directory all xen bench-tools $(MOCK_SO) $(MOCK_CLI)
	@bench/run.sh domd xen

bench-domd: deps
	@$(MAKE) --no-print-directory all bench-tools
	@bench/run.sh domd

# The Xen board's dom0 image carries the xen tier's driver domain too,
# which needs the mock (tests/unit/unit.mk).
bench-xen: deps
	@$(MAKE) --no-print-directory all xen bench-tools $(MOCK_SO) $(MOCK_CLI)
	@bench/run.sh xen
