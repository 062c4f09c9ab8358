#!/bin/bash
# shellcheck shell=bash
# Real-device behaviour on QEMU's controller (sourced by cases.sh, whose
# helpers and variables it uses): a reset of the PF's controller while a
# VF is held, and a primary controller that holds the flexible resources
# (QEMU implements Virtualization Management action 1, effective at the
# next function level reset), released by nvme-layout --release-primary.
# Asserted through nvme-cli and sysfs as well as xen-vfctl.

: "${SPEC2:?set by cases.sh}" "${R:?set by cases.sh}"
S_RST=/tmp/state-pfreset
S_PRIM=/tmp/state-primary
mkdir -p "$S_RST" "$S_PRIM"
# pci-stub, not nvme: a VF whose secondary goes offline under the nvme
# driver would make that driver's own recovery part of the test
SPEC2S=vf:nvme0/ns2,driver=pci-stub

# caps_field NAME - a field of nvme-cli's primary controller capabilities
caps_field() {
    nvme primary-ctrl-caps "$PFDEV" -o json | jq -r ".$1"
}

t_pf_reset_held() {
    local vf vfn lost state
    xvf "$S_RST" prepare --local "$SPEC2S"
    [ "$XVF_RC" = 0 ] || { fail "prepare exit $XVF_RC: $XVF_ERR"; return 1; }
    vf=$XVF_OUT
    vfn=$(vf_vfn "$PF" "$vf") || { fail "$vf is no VF of $PF"; return 1; }
    xvf "$S_RST" status --json
    lost=$(jq -r '.journal[0].lost' <<<"$XVF_OUT")
    [ "$lost" = null ] || { fail "lost before the reset: $lost"; return 1; }
    x sh -c "echo 1 > /sys/class/nvme/$PFNAME/reset_controller"
    state=$(secondary_json "$PFNAME" | jq -r --argjson v "$vfn" \
        '."secondary-controllers"[] | select(."virtual-function-number" == $v)
         | ."secondary-controller-state"')
    echo "nvme list-secondary: VF $vfn state $state after the reset"
    [ "$state" = 0 ] || { fail "secondary still online after the reset"; \
                          return 1; }
    xvf "$S_RST" status
    [[ $XVF_OUT == *"LOST: secondary controller"*"went offline"* ]] ||
        { fail "status does not report the lost VF"; return 1; }
    xvf "$S_RST" status --json
    lost=$(jq -r '.journal[0].lost' <<<"$XVF_OUT")
    [[ $lost == *"of VF $vf went offline"* ]] ||
        { fail "status --json lost: $lost"; return 1; }
    xvf "$S_RST" release --local "$vf"
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    device_clean || { fail "device not clean after the release"; return 1; }
    pf_healthy || return 1
    step_detail "reset_controller: secondary offline, status LOST, released"
}

t_primary_held() {
    local before after vq vi
    x nvme virt-mgmt "$PFDEV" -c 0 -a 1 -r 0 -n 8 || return 1
    x nvme virt-mgmt "$PFDEV" -c 0 -a 1 -r 1 -n 4 || return 1
    # QEMU applies it at a function level reset, not at reset_controller
    x sh -c "echo 1 > $SYSPCI/$PF/reset"
    vq=$(caps_field vqrfap)
    vi=$(caps_field virfap)
    echo "after action 1 and a function level reset: VQRFAP $vq VIRFAP $vi"
    if [ "$vq" != 8 ] || [ "$vi" != 4 ]; then
        fail "QEMU did not give the primary the resources"
        return 1
    fi
    before=$(dev_snapshot "$S_PRIM")
    xvf "$S_PRIM" prepare --local "$SPEC2"
    after=$(dev_snapshot "$S_PRIM")
    [ "$XVF_RC" = 1 ] || { fail "prepare exit $XVF_RC, want 1"; return 1; }
    [[ $XVF_ERR == *"primary controller holds 8 VQ (VQRFAP) and 4 VI (VIRFAP)"* &&
       $XVF_ERR == *"nvme-layout $PFNAME --release-primary --apply"* ]] ||
        { fail "message does not explain the primary's resources"; return 1; }
    [ "$before" = "$after" ] || { fail "device state changed"; return 1; }
    step_detail "refused: $(cut -c1-90 <<<"$XVF_ERR")"
}

t_release_primary() {
    local vq
    xvf "$S_PRIM" nvme-layout "$PFNAME" --release-primary
    [ "$XVF_RC" = 0 ] || { fail "dry run exit $XVF_RC"; return 1; }
    [[ $XVF_OUT == *"holds 8 of 8 flexible VQ"*"dry run"* ]] ||
        { fail "dry run output"; return 1; }
    [ "$(caps_field vqrfap)" = 8 ] || { fail "dry run changed it"; return 1; }
    xvf "$S_PRIM" nvme-layout "$PFNAME" --release-primary --apply
    [ "$XVF_RC" = 0 ] || { fail "--apply exit $XVF_RC"; return 1; }
    vq=$(caps_field vqrfap)
    echo "nvme primary-ctrl-caps: VQRFAP $vq VIRFAP $(caps_field virfap)"
    if [ "$vq" != 0 ] || [ "$(caps_field virfap)" != 0 ]; then
        fail "the primary still holds resources"
        return 1
    fi
    pf_healthy || return 1
    prepare_ok "$S_PRIM" "$SPEC2" 2 vf2p || return 1
    xvf "$S_PRIM" release --local "$SPEC2"
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    device_clean || { fail "device not clean"; return 1; }
    step_detail "released by nvme-layout; prepare and release work"
}

step --needs "$R" pf-reset-held -- t_pf_reset_held
settle pf-reset
step --needs "$R" primary-held -- t_primary_held
step --needs primary-held release-primary -- t_release_primary
# never leave the primary holding the pool for the groups after this one
if [ "$(caps_field vqrfap 2>/dev/null)" != 0 ]; then
    echo "XVF-NOTE releasing the primary's resources by hand"
    nvme virt-mgmt "$PFDEV" -c 0 -a 1 -r 0 -n 0 >/dev/null 2>&1
    nvme virt-mgmt "$PFDEV" -c 0 -a 1 -r 1 -n 0 >/dev/null 2>&1
    echo 1 >"$SYSPCI/$PF/reset"
fi
settle primary-held
