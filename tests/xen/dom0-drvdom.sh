# shellcheck shell=bash
# dom0-drvdom.sh - the Xen tier's drvdom section, sourced by
# dom0-test.sh: xen-vfd in a second domain, a PV driver domain with a
# domid other than 0 (tests/xen/drvdom-guest.sh), serving Dom0's xl.
#
# The driver domain's device side is the unit tier's fake kernel (a PV
# guest cannot own an SR-IOV PF here); its PF is 0000:0a:00.0, a bus Dom0
# does not have. Everything between the domains is real: discovery
# (pci.name_backends = [ "vf=xvf-domd" ] in Dom0's xl.conf), libxl's
# requests and their permissions, xen-vfd's watch and answers, libxl's
# checks of who wrote them, and Dom0's clean-up of the requests of
# domains that are gone (xen-vf-reaper). libxl cannot assign the fake
# BDF it is answered, so every add fails after the round trip, and
# the failed add must give the VF back to the driver domain.
# shellcheck disable=SC2154  # RUN, XS_AREA etc. come from dom0-lib.sh

DD_NAME=xvf-domd
DD_VF=0000:0a:00.1
DD_CLEAN="journal=0 numvfs=0 fake=same vfd=running"
REAPER_LOG=/var/log/xen-vf-reaper.log

dd_id() { cat "$RUN/dd.id"; }
dd_area() { echo "/local/domain/$(dd_id)/backend/pci-name"; }
dd_log() { guest_log "$DD_NAME"; }

# dd_cmd VERB: run VERB in the driver domain (drvdom-guest.sh), print
# its answer.
dd_cmd() {
    local d seq ack
    d=/local/domain/$(dd_id)/data
    seq=$(($(cat "$RUN/dd.seq" 2>/dev/null || echo 0) + 1))
    echo "$seq" >"$RUN/dd.seq"
    xenstore-write "$d/xvf-cmd" "$seq $1" || return 1
    for _ in $(seq 150); do
        ack=$(xenstore-read "$d/xvf-ack" 2>/dev/null)
        if [ "${ack%% *}" = "$seq" ]; then
            echo "${ack#* }"
            return 0
        fi
        sleep 0.2
    done
    log "the driver domain did not answer '$1'"
    return 1
}

# dd_clean: nothing held in the driver domain, no request left there.
dd_clean() {
    local s
    s=$(dd_cmd state) || return 1
    echo "$s" >"$RUN/dd.state"
    [ "$s" = "$DD_CLEAN" ] && [ "$(xs_children "$(dd_area)")" = 0 ]
}

# dd_leak_check WHAT
dd_leak_check() {
    if ! wait_for 60 "the driver domain to hold nothing" dd_clean; then
        xenstore-ls -f "$(dd_area)" 2>/dev/null
        fail "after $1: driver domain: $(cat "$RUN/dd.state")"
        return 1
    fi
}

# dd_vfd_count PATTERN: lines of xen-vfd's log in the driver domain.
dd_vfd_count() {
    grep -a -c -E "xen-vfd: .*$1" "$(dd_log)" 2>/dev/null
}

# dd_request_state DOMID: state of the guest's request 0 in the driver
# domain.
dd_request_state() {
    xenstore-read "$(dd_area)/$1/0/state" 2>/dev/null
}

t_dd_boot() {
    local id st ver t0=$SECONDS
    cat >"$RUN/dd.cfg" <<EOF2
name = "$DD_NAME"
type = "pv"
kernel = "/xvf/domu/vmlinuz"
ramdisk = "/xvf/drvdom/initrd.gz"
extra = "console=hvc0 loglevel=5 xvf.loglevel=4"
memory = 160
vcpus = 1
driver_domain = 1
on_poweroff = "destroy"
on_crash = "destroy"
EOF2
    xl create "$RUN/dd.cfg" || { fail "xl create $DD_NAME failed"; return 1; }
    id=$(xl domid "$DD_NAME") || { fail "$DD_NAME not listed"; return 1; }
    echo "$id" >"$RUN/dd.id"
    [ "$id" != 0 ] || { fail "the driver domain is domain 0"; return 1; }
    wait_for 120 "xen-vfd in domain $id to be ready" sh -c \
        "[ \"\$(xenstore-read /local/domain/$id/drivers/xen-vf/status)\" = ready ]" ||
        { cat "$(dd_log)"; fail "no drivers/xen-vf/status = ready in domain $id"; return 1; }
    st=$(xenstore-read "/local/domain/$id/drivers/xen-vf/status")
    ver=$(xenstore-read "/local/domain/$id/drivers/xen-vf/protocol")
    grep -a -E 'DD-UP|xen-vfd:' "$(dd_log)"
    [ "$ver" = 1 ] || { fail "protocol '$ver'"; return 1; }
    grep -a -q "xen-vfd: notice: ready: domain $id" "$(dd_log)" ||
        { fail "xen-vfd does not say it serves domain $id"; return 1; }
    [ "$(dd_cmd state)" = "$DD_CLEAN" ] ||
        { fail "driver domain not clean at start"; return 1; }
    step_detail "$DD_NAME is domain $id: xen-vfd status=$st protocol=$ver" \
        "after $((SECONDS - t0))s"
}

# Dom0 chooses the driver domain by name, in xl.conf; the reaper reads
# the same file and watches for it.
t_dd_config() {
    set_name_backend "$DD_NAME"
    cat /etc/xen/xl.conf
    xen-vf-reaper -v >"$REAPER_LOG" 2>&1 &
    echo $! >"$RUN/reaper.pid"
    wait_for 20 "xen-vf-reaper to watch" grep -q 'watching @releaseDomain' \
        "$REAPER_LOG" || { cat "$REAPER_LOG"; fail "xen-vf-reaper"; return 1; }
    wait_for 20 "xen-vf-reaper's first scan" grep -q \
        "scanned driver domain $(dd_id)" "$REAPER_LOG" ||
        { cat "$REAPER_LOG"; fail "the reaper did not find domain $(dd_id)";
          return 1; }
    cat "$REAPER_LOG"
    step_detail "xl.conf: vf=$DD_NAME; xen-vf-reaper $(cat "$RUN/reaper.pid")" \
        "watches @releaseDomain for domain $(dd_id)"
}

# dd_add_failed NAME OUT N0 N1: an add through xl reached xen-vfd in the
# driver domain, which prepared the fake VF (N0 -> more "ready" lines);
# libxl could not assign it, and its failed add gave it back (N1 ->
# more "released" lines).
dd_add_failed() {
    local out=$2 n0=$3 r0=$4
    grep -a -E 'xen-vfd: .*(ready for|released|prepare)' "$(dd_log)" |
        tail -n 6
    [ "$(dd_vfd_count "ready for domain [0-9]+: VF $DD_VF")" -gt "$n0" ] ||
        { fail "xen-vfd in the driver domain prepared nothing"; return 1; }
    if [ "$(xs_children "$XS_AREA")" != 0 ]; then
        xenstore-ls -f "$XS_AREA"
        fail "a request reached Dom0's own xen-vfd"
        return 1
    fi
    wait_for 60 "the failed add's release" sh -c \
        "[ \$(grep -a -c -E 'xen-vfd: .*released vf:nvme0/ns2 of domain' \
            $(dd_log)) -gt $r0 ]" ||
        { fail "the driver domain never released the VF"; return 1; }
    dd_leak_check "the failed add of $1" || return 1
    grep -a "$DD_VF" "$out" | head -n 3
}

t_dd_create() {
    local rc=0 n0 r0 msg
    n0=$(dd_vfd_count "ready for domain [0-9]+: VF $DD_VF")
    r0=$(dd_vfd_count 'released vf:nvme0/ns2 of domain')
    write_cfg ddg1 '"vf:nvme0/ns2"' "" 96
    xl create -p "$RUN/ddg1.cfg" >"$RUN/ddg1.out" 2>&1 || rc=$?
    cat "$RUN/ddg1.out"
    [ $rc != 0 ] || { fail "xl create with a fake BDF succeeded"; return 1; }
    [ $rc -lt 128 ] || { fail "xl create crashed (exit $rc)"; return 1; }
    if xl list ddg1 >/dev/null 2>&1; then
        fail "ddg1 left behind"
        return 1
    fi
    dd_add_failed ddg1 "$RUN/ddg1.out" "$n0" "$r0" || return 1
    msg=$(grep -a -m 1 "$DD_VF" "$RUN/ddg1.out")
    [ -n "$msg" ] || { fail "xl never named the BDF $DD_VF"; return 1; }
    step_detail "xl create got $DD_VF from domain $(dd_id), could not" \
        "assign it; the failed add released it: ${msg#*libxl: }"
}

t_dd_attach() {
    local rc=0 n0 r0
    write_cfg ddg2 "" "" 96
    xl create -p "$RUN/ddg2.cfg" || { fail "xl create -p ddg2"; return 1; }
    n0=$(dd_vfd_count "ready for domain [0-9]+: VF $DD_VF")
    r0=$(dd_vfd_count 'released vf:nvme0/ns2 of domain')
    xl pci-attach ddg2 vf:nvme0/ns2 >"$RUN/ddg2.attach" 2>&1 || rc=$?
    cat "$RUN/ddg2.attach"
    [ $rc != 0 ] || { fail "pci-attach of a fake BDF succeeded"; return 1; }
    [ $rc -lt 128 ] || { fail "xl pci-attach crashed (exit $rc)"; return 1; }
    dd_add_failed ddg2 "$RUN/ddg2.attach" "$n0" "$r0" || return 1
    step_detail "pci-attach ddg2 vf:nvme0/ns2: $DD_VF from domain" \
        "$(dd_id), not assignable, released"
}

# Nothing attached by that name: detach fails in Dom0 and asks nothing.
t_dd_detach() {
    local rc=0 n0
    n0=$(grep -a -c 'xen-vfd:' "$(dd_log)")
    xl pci-detach ddg2 vf:nvme0/ns2 >"$RUN/ddg2.detach" 2>&1 || rc=$?
    cat "$RUN/ddg2.detach"
    log "xl pci-detach exit $rc"
    [ $rc != 0 ] || { fail "pci-detach of nothing succeeded"; return 1; }
    [ $rc -lt 128 ] || { fail "xl pci-detach crashed (exit $rc)"; return 1; }
    [ "$(xs_children "$(dd_area)")" = 0 ] ||
        { fail "pci-detach wrote a request"; return 1; }
    [ "$(dd_cmd state)" = "$DD_CLEAN" ] ||
        { fail "the driver domain changed"; return 1; }
    xl destroy ddg2 || { fail "xl destroy ddg2"; return 1; }
    step_detail "pci-detach ddg2 vf:nvme0/ns2 failed (exit $rc), nothing" \
        "asked of domain $(dd_id) ($(($(grep -a -c 'xen-vfd:' "$(dd_log)") - n0))" \
        "new xen-vfd lines)"
}

# dd_orphan NAME: leave a VF prepared for a domain whose xl is gone. The
# driver domain's xen-vfd is stopped (SIGSTOP) so that xl waits; xl is
# killed while it waits; then xen-vfd goes on and answers a request
# nobody waits for any more. Leaves the domain, paused, and its domid in
# $RUN/NAME.id.
dd_orphan() {
    local name=$1 xlpid id st
    [ "$(dd_cmd stop)" = stopped ] || { fail "cannot stop xen-vfd"; return 1; }
    write_cfg "$name" '"vf:nvme0/ns2"' "" 96
    xl create -p "$RUN/$name.cfg" >"$RUN/$name.out" 2>&1 &
    xlpid=$!
    if ! wait_for 60 "$name's request in the driver domain" sh -c \
        "xenstore-list $(dd_area) | grep -q ."; then
        dd_cmd cont
        kill -9 "$xlpid"
        cat "$RUN/$name.out"
        xl list
        fail "no request of $name reached the driver domain"
        return 1
    fi
    kill -9 "$xlpid"
    wait "$xlpid" 2>/dev/null
    id=$(xl domid "$name") ||
        { dd_cmd cont; fail "$name not left behind by the killed xl"; return 1; }
    echo "$id" >"$RUN/$name.id"
    log "killed xl create $xlpid while it waited; $name is domain $id"
    [ "$(dd_cmd cont)" = running ] || { fail "cannot resume xen-vfd"; return 1; }
    wait_for 60 "xen-vfd to answer the orphan request" sh -c \
        "[ \"\$(xenstore-read $(dd_area)/$id/0/state)\" = ready ]" ||
        { fail "request of $name not answered"; return 1; }
    st=$(dd_cmd state)
    log "driver domain: $st"
    [ "${st%% *}" = journal=1 ] ||
        { fail "no VF held for $name: $st"; return 1; }
}

# xl killed while it waited, then the domain destroyed: the toolstack
# never asks for the release; Dom0's reaper does.
t_dd_xl_killed() {
    local id n0
    dd_orphan ddk1 || return 1
    id=$(cat "$RUN/ddk1.id")
    n0=$(grep -c "asked driver domain $(dd_id) to release request $id/0" \
        "$REAPER_LOG")
    xl destroy ddk1 || { fail "xl destroy ddk1"; return 1; }
    dd_leak_check "xl destroy of ddk1" || return 1
    cat "$REAPER_LOG"
    [ "$(grep -c "asked driver domain $(dd_id) to release request $id/0" \
        "$REAPER_LOG")" -gt "$n0" ] ||
        { fail "released, but not by the reaper"; return 1; }
    step_detail "xl killed while waiting; $DD_VF held for domain $id;" \
        "xl destroy: the reaper asked, domain $(dd_id) released it"
}

# The same with the reaper down while the domain goes: DomD cannot tell
# (its VF stays held), the reaper's start-up scan releases it.
t_dd_reaper_down() {
    local id st pid
    pid=$(cat "$RUN/reaper.pid")
    kill "$pid"
    wait "$pid" 2>/dev/null
    dd_orphan ddk2 || return 1
    id=$(cat "$RUN/ddk2.id")
    xl destroy ddk2 || { fail "xl destroy ddk2"; return 1; }
    st=$(dd_cmd state)
    log "with no reaper, after xl destroy: $st"
    [ "${st%% *}" = journal=1 ] ||
        { fail "released without the reaper: $st"; return 1; }
    xen-vf-reaper -v >>"$REAPER_LOG" 2>&1 &
    echo $! >"$RUN/reaper.pid"
    dd_leak_check "the reaper's start after ddk2 went" || return 1
    grep -q "asked driver domain $(dd_id) to release request $id/0" \
        "$REAPER_LOG" || { fail "released, but not by the reaper"; return 1; }
    step_detail "reaper down: $DD_VF still held after xl destroy of" \
        "domain $id; released once the reaper started"
}

# xen-vfd stops in the driver domain: status "dead", Dom0 refuses at
# once and writes nothing.
t_dd_down() {
    local st t0 secs id
    id=$(dd_id)
    st=$(dd_cmd term)
    log "xen-vfd in domain $id: $st"
    [ "$st" = "exit dead" ] || { fail "xen-vfd did not stop: $st"; return 1; }
    st=$(xenstore-read "/local/domain/$id/drivers/xen-vf/status")
    [ "$st" = dead ] || { fail "status '$st' after SIGTERM"; return 1; }
    t0=$SECONDS
    xl_refused ddd1 '"vf:nvme0/ns2"' \
        "backend domain $id does not serve PCI names now" || return 1
    secs=$((SECONDS - t0))
    [ $secs -le 30 ] || { fail "xl create took ${secs}s to fail"; return 1; }
    [ "$(xs_children "$(dd_area)")" = 0 ] ||
        { fail "a request was written to a dead driver domain"; return 1; }
    step_detail "xen-vfd stopped in domain $id (status=$st): xl create" \
        "refused in ${secs}s, nothing written"
}

# Not a test: put Dom0 back (Dom0 serves vf:, no reaper, no driver
# domain).
t_dd_teardown() {
    local d
    [ -e "$RUN/reaper.pid" ] && kill "$(cat "$RUN/reaper.pid")" 2>/dev/null
    set_name_backend 0
    for d in ddg1 ddg2 ddk1 ddk2 ddd1 "$DD_NAME"; do
        xl list "$d" >/dev/null 2>&1 && xl destroy "$d"
    done
    return 0
}
