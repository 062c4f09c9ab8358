# xen-vfd, the driver domain's daemon: $(BUILD)/xen-vfd, its hotplug
# script (hotplug-scripts/xen-vf, with per-class site hook directories)
# and its systemd unit.
XEN_VFD := $(BUILD)/xen-vfd
# Everything but main() is the daemon's core, which tests/unit links too.
XEN_VFD_CORE_SRCS := $(filter-out plugin/xen-vfd/xen-vfd.c,\
	$(wildcard plugin/xen-vfd/*.c))
XEN_VFD_OBJS := $(BUILD)/plugin/xen-vfd/xen-vfd.o \
	$(XEN_VFD_CORE_SRCS:%.c=$(BUILD)/%.o)
XEN_VFD_UNIT := $(BUILD)/xen-vfd.service
XEN_VF_HOOK_DIRS := xen-vf-nvme-add.d xen-vf-nvme-remove.d \
	xen-vf-net-add.d xen-vf-net-remove.d

$(XEN_VFD): $(XEN_VFD_OBJS) $(LIBXENVF)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lsystemd

$(XEN_VFD_UNIT): hotplug-scripts/xen-vfd.service.in
	@mkdir -p $(dir $@)
	sed -e 's|@sbindir@|$(sbindir)|g' $< >$@

all: $(XEN_VFD) $(XEN_VFD_UNIT)
INSTALL_SBIN += $(XEN_VFD)

.PHONY: install-xen-vfd uninstall-xen-vfd
install: install-xen-vfd
install-xen-vfd: $(XEN_VFD_UNIT)
	$(INSTALL) -d $(DESTDIR)$(XEN_SCRIPT_DIR) $(DESTDIR)$(systemdunitdir)
	$(INSTALL) -m 0755 hotplug-scripts/xen-vf $(DESTDIR)$(XEN_SCRIPT_DIR)/
	for d in $(XEN_VF_HOOK_DIRS); do \
		$(INSTALL) -d $(DESTDIR)$(XEN_SCRIPT_DIR)/$$d; done
	$(INSTALL) -m 0644 hotplug-scripts/xen-vf-nvme-add.d/README \
		hotplug-scripts/xen-vf-nvme-add.d/50-log.hook.sample \
		$(DESTDIR)$(XEN_SCRIPT_DIR)/xen-vf-nvme-add.d/
	$(INSTALL) -m 0644 $(XEN_VFD_UNIT) $(DESTDIR)$(systemdunitdir)/

uninstall: uninstall-xen-vfd
uninstall-xen-vfd:
	rm -f $(DESTDIR)$(XEN_SCRIPT_DIR)/xen-vf
	rm -f $(DESTDIR)$(XEN_SCRIPT_DIR)/xen-vf-nvme-add.d/README
	rm -f $(DESTDIR)$(XEN_SCRIPT_DIR)/xen-vf-nvme-add.d/50-log.hook.sample
	for d in $(XEN_VF_HOOK_DIRS); do \
		rmdir $(DESTDIR)$(XEN_SCRIPT_DIR)/$$d 2>/dev/null || true; done
	rm -f $(DESTDIR)$(systemdunitdir)/xen-vfd.service
