# xen-vf-reaper, Dom0's clean-up when the driver domain is not Dom0: the
# provider's Dom0-side objects (configuration, driver domain, reap) and a
# main. Installed with its systemd unit.
XEN_VF_REAPER := $(BUILD)/xen-vf-reaper
XEN_VF_REAPER_SRCS := plugin/xen-vf-reaper/xen-vf-reaper.c \
	plugin/lib/xen/homes.c \
	$(filter-out plugin/libxl-provider/vf-provider.c,$(VF_PROVIDER_SRCS))
XEN_VF_REAPER_UNIT := $(BUILD)/xen-vf-reaper.service

$(BUILD)/plugin/xen-vf-reaper/%.o: ALL_CFLAGS += -Iplugin/libxl-provider \
	-DXVF_PROVIDER_CONF='"$(XVF_PROVIDER_CONF)"'

$(XEN_VF_REAPER): $(XEN_VF_REAPER_SRCS:%.c=$(BUILD)/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs xenstore)

$(XEN_VF_REAPER_UNIT): hotplug-scripts/xen-vf-reaper.service.in
	@mkdir -p $(dir $@)
	sed -e 's|@sbindir@|$(sbindir)|g' $< >$@

all: $(XEN_VF_REAPER) $(XEN_VF_REAPER_UNIT)
INSTALL_SBIN += $(XEN_VF_REAPER)

.PHONY: install-xen-vf-reaper uninstall-xen-vf-reaper
install: install-xen-vf-reaper
install-xen-vf-reaper: $(XEN_VF_REAPER_UNIT)
	$(INSTALL) -d $(DESTDIR)$(systemdunitdir)
	$(INSTALL) -m 0644 $(XEN_VF_REAPER_UNIT) $(DESTDIR)$(systemdunitdir)/

uninstall: uninstall-xen-vf-reaper
uninstall-xen-vf-reaper:
	rm -f $(DESTDIR)$(systemdunitdir)/xen-vf-reaper.service
