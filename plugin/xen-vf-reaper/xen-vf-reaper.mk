# xen-vf-reaper, Dom0's clean-up when the driver domain is not Dom0: it
# reads which domain serves "vf:" names from xl.conf (config.c), finds
# that domain (domd.c) and withdraws the requests of domains that are
# gone (reap.c). Installed with its systemd unit.
XVF_XL_CONF ?= $(sysconfdir)/xen/xl.conf
XEN_VF_REAPER := $(BUILD)/xen-vf-reaper
# The Dom0-side sources the reaper is made of (tests/unit builds them
# again, sanitized).
XEN_VF_REAPER_LIB_SRCS := plugin/xen-vf-reaper/config.c \
	plugin/xen-vf-reaper/domd.c plugin/xen-vf-reaper/reap.c \
	plugin/lib/xen/homes.c plugin/lib/xen/protocol.c plugin/lib/xen/xs.c \
	plugin/lib/spec/spec.c plugin/lib/util/err.c plugin/lib/util/str.c
XEN_VF_REAPER_SRCS := plugin/xen-vf-reaper/xen-vf-reaper.c \
	plugin/lib/util/cli.c $(XEN_VF_REAPER_LIB_SRCS)
XEN_VF_REAPER_UNIT := $(BUILD)/xen-vf-reaper.service

$(BUILD)/plugin/xen-vf-reaper/%.o: ALL_CFLAGS += -Iplugin/xen-vf-reaper \
	-DXVF_XL_CONF='"$(XVF_XL_CONF)"'

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
