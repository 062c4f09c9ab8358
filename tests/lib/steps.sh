# shellcheck shell=bash
# steps.sh - OSSTest-style jobs made of ordered steps (bash library).
#
#   . tests/lib/steps.sh
#   steps_init JOB LOGDIR
#   step boot -- qemu_boot                      # needs every earlier step
#   step --needs boot io -- do_io               # needs only "boot"
#   step --needs none lint -- shellcheck x.sh   # needs nothing
#   step --always collect-logs -- collect       # runs whatever happened
#   step_skip nic "no igb on this QEMU"         # explicit, counted skip
#   steps_finish                                # table, closing line, rc
#
# A job is an ordered list of steps. Each step runs a command (a function
# is fine) with its stdout and stderr in LOGDIR/NN-<step>.log and ends
#   PASS     the command returned 0
#   FAIL     it returned non-zero or ran past its timeout
#   BLOCKED  not run, because a step it needs did not PASS
#   SKIP     step_skip was called; the reason is the detail
# By default a step needs every step before it (OSSTest: once a job
# breaks, the rest of it is blocked). `--needs a,b` narrows that to the
# named steps, `--needs none` to nothing; `--always` runs the step
# regardless (cleanup, log capture) and still counts its own result.
#
# Counting: BLOCKED counts as failed, because a test that could not run
# has not shown that anything works. The closing line is therefore
#   "<PASS> passed, <FAIL+BLOCKED> failed"
# and the line before it breaks that down ("..., N blocked, N skipped").
# steps_finish returns 1 when anything failed or was blocked.
#
# Progress: `step_progress TEXT` prints on the job's stdout from inside a
# step (whose own stdout is its log), e.g. to follow a guest's console.
#
# Detail: a step may call `step_detail TEXT` to set the text shown next to
# its status (e.g. the BDF it got); a failed step without one shows the
# last line of its log.
#
# Markers: every step prints one line on stdout when it ends:
#   XVF-STEP <name> PASS|FAIL|BLOCKED|SKIP <seconds>s <detail>
# and "XVF-BEGIN <name>" when it starts. With STEPS_ECHO=1 the step's log
# is also copied to stdout between "XVF-LOG-BEGIN <name>" and
# "XVF-LOG-END <name>" just before its XVF-STEP line. That is how a job
# that runs where the host cannot read files (a QEMU guest whose only
# channel is the serial console, a board over `ssh`) hands its results
# back: the host saves that stream and calls
#   steps_import_console FILE [PREFIX]
# which turns each step found in it into a step of the host's job, with
# its log in the host's LOGDIR. A step that printed XVF-BEGIN and never
# ended (the guest died) is imported as FAIL.
#
# Timeouts: STEPS_TIMEOUT (seconds, default 300) or `--timeout S` per
# step. The step's process tree is killed and the step FAILs.
#
# Requires bash >= 5 (EPOCHREALTIME); works with busybox as the only other
# userland.

STEPS_JOB=
STEPS_LOGDIR=
STEPS_N=0
STEPS_NAMES=()
declare -A STEPS_STATUS=() STEPS_SECS=() STEPS_DETAIL=() STEPS_LOG=()

# steps_init JOB LOGDIR - start a job; LOGDIR is created and emptied of
# earlier step logs.
steps_init() {
    STEPS_JOB=$1
    STEPS_LOGDIR=$2
    STEPS_N=0
    STEPS_NAMES=()
    STEPS_STATUS=() STEPS_SECS=() STEPS_DETAIL=() STEPS_LOG=()
    mkdir -p "$STEPS_LOGDIR"
    # Steps write to their logs; step_progress reaches the real stdout.
    exec {STEPS_CONSOLE_FD}>&1
    rm -f "$STEPS_LOGDIR"/[0-9][0-9]-*.log "$STEPS_LOGDIR/steps.tsv"
    STEPS_DETAIL_FILE=$STEPS_LOGDIR/.detail
}

# step_progress TEXT - show TEXT on the job's console while a step runs
# (its stdout is the step's log).
step_progress() {
    printf '%s\n' "$*" >&"$STEPS_CONSOLE_FD"
}

# step_detail TEXT - set the detail of the running step.
step_detail() {
    printf '%s\n' "$*" >"$STEPS_DETAIL_FILE"
}

steps__now() {
    echo "${EPOCHREALTIME/,/.}"
}

steps__elapsed() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'
}

steps__record() {
    local name=$1 st=$2 secs=$3 detail=$4 log=$5
    STEPS_NAMES+=("$name")
    STEPS_STATUS[$name]=$st
    STEPS_SECS[$name]=$secs
    STEPS_DETAIL[$name]=$detail
    STEPS_LOG[$name]=$log
    printf '%s\t%s\t%s\t%s\n' "$name" "$st" "$secs" "$detail" \
        >>"$STEPS_LOGDIR/steps.tsv"
    echo "XVF-STEP $name $st ${secs}s${detail:+ $detail}"
}

# Sets STEPS__LOGPATH (no subshell, so the counter survives).
steps__logname() {
    STEPS_N=$((STEPS_N + 1))
    printf -v STEPS__LOGPATH '%s/%02d-%s.log' "$STEPS_LOGDIR" "$STEPS_N" \
        "${1//[^A-Za-z0-9._-]/_}"
}

steps__kill_tree() {
    local pid=$1 sig=$2 p pp kids=()
    for p in /proc/[0-9]*; do
        read -r _ _ _ pp _ <"$p/stat" 2>/dev/null || continue
        [ "$pp" = "$pid" ] && kids+=("${p#/proc/}")
    done
    for p in "${kids[@]}"; do
        steps__kill_tree "$p" "$sig"
    done
    kill "-$sig" "$pid" 2>/dev/null || true
}

# step [--needs LIST|none] [--always] [--timeout S] NAME -- CMD [ARG...]
step() {
    local needs=all always=0 tmo=${STEPS_TIMEOUT:-300} name n st rc
    local t0 t1 log detail blocker='' pid i
    while [ $# -gt 0 ]; do
        case $1 in
            --needs) needs=$2; shift 2 ;;
            --always) always=1; shift ;;
            --timeout) tmo=$2; shift 2 ;;
            *) break ;;
        esac
    done
    name=$1
    shift
    [ "${1:-}" = -- ] && shift
    if [ -n "${STEPS_STATUS[$name]+x}" ]; then
        echo "steps.sh: duplicate step name $name" >&2
        return 2
    fi

    if [ $always -eq 0 ]; then
        if [ "$needs" = all ]; then
            for n in "${STEPS_NAMES[@]}"; do
                st=${STEPS_STATUS[$n]}
                if [ "$st" != PASS ] && [ "$st" != SKIP ]; then
                    blocker=$n
                    break
                fi
            done
        elif [ "$needs" != none ]; then
            for n in ${needs//,/ }; do
                st=${STEPS_STATUS[$n]:-MISSING}
                if [ "$st" != PASS ]; then
                    blocker=$n
                    break
                fi
            done
        fi
    fi
    steps__logname "$name"
    log=$STEPS__LOGPATH
    if [ -n "$blocker" ]; then
        echo "blocked: needs $blocker (${STEPS_STATUS[$blocker]:-not run})" \
            >"$log"
        steps__record "$name" BLOCKED 0.0 \
            "needs $blocker (${STEPS_STATUS[$blocker]:-not run})" "$log"
        return 0
    fi

    echo "XVF-BEGIN $name"
    : >"$STEPS_DETAIL_FILE"
    t0=$(steps__now)
    ( set +e; "$@" ) >"$log" 2>&1 </dev/null &
    pid=$!
    # The watchdog polls once a second instead of sleeping the whole
    # timeout, so it never outlives the step by more than a second and
    # needs no killing (a killed `sleep` child could linger, holding the
    # console open). It closes the console fd for the same reason.
    (
        exec {STEPS_CONSOLE_FD}>&-
        for ((i = 0; i < tmo; i++)); do
            sleep 1
            kill -0 "$pid" 2>/dev/null || exit 0
        done
        echo "steps.sh: step $name timed out after ${tmo}s" >>"$log"
        steps__kill_tree "$pid" TERM
        sleep 2
        steps__kill_tree "$pid" KILL
    ) >/dev/null 2>&1 &
    rc=0
    wait "$pid" || rc=$?
    t1=$(steps__now)

    detail=$(head -n 1 "$STEPS_DETAIL_FILE" 2>/dev/null || true)
    if [ $rc -eq 0 ]; then
        st=PASS
    else
        st=FAIL
        [ -n "$detail" ] ||
            detail=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 | cut -c1-160)
        detail="${detail:-exit $rc}"
    fi
    if [ "${STEPS_ECHO:-0}" = 1 ]; then
        echo "XVF-LOG-BEGIN $name"
        cat "$log"
        echo "XVF-LOG-END $name"
    fi
    steps__record "$name" "$st" "$(steps__elapsed "$t0" "$t1")" "$detail" "$log"
    return 0
}

# step_skip NAME REASON - record an explicit skip.
step_skip() {
    local name=$1 log
    shift
    steps__logname "$name"
    log=$STEPS__LOGPATH
    echo "skipped: $*" >"$log"
    steps__record "$name" SKIP 0.0 "$*" "$log"
}

# step_log NAME - print the path of the step's log.
step_log() {
    echo "${STEPS_LOG[$1]:-}"
}

# step_status NAME - print PASS/FAIL/BLOCKED/SKIP, or nothing if not run.
step_status() {
    echo "${STEPS_STATUS[$1]:-}"
}

# steps_import_console FILE [PREFIX] - add the steps found in a console
# stream (see the header) to this job, names prefixed with PREFIX.
steps_import_console() {
    local file=$1 prefix=${2:-} line name st secs detail cur='' log
    local -A began=() ended=()
    local -a order=()
    local tmpd
    tmpd=$(mktemp -d "$STEPS_LOGDIR/.import.XXXXXX")
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        # Kernel messages may share a line with a marker: find the marker.
        case $line in
            *XVF-LOG-BEGIN\ *)
                cur=${line##*XVF-LOG-BEGIN }
                : >"$tmpd/$cur"
                continue ;;
            *XVF-LOG-END\ *)
                cur=''
                continue ;;
        esac
        if [ -n "$cur" ]; then
            printf '%s\n' "$line" >>"$tmpd/$cur"
            continue
        fi
        case $line in
            *XVF-BEGIN\ *)
                name=${line##*XVF-BEGIN }
                name=${name%% *}
                if [ -z "${began[$name]+x}" ]; then
                    began[$name]=1
                    order+=("$name")
                fi ;;
            *XVF-STEP\ *)
                line=${line##*XVF-STEP }
                read -r name st secs detail <<<"$line"
                secs=${secs%s}
                if [ -z "${began[$name]+x}" ]; then
                    began[$name]=1
                    order+=("$name")
                fi
                ended[$name]="$st"$'\t'"$secs"$'\t'"$detail" ;;
        esac
    done <"$file"
    for name in "${order[@]}"; do
        steps__logname "$prefix$name"
        log=$STEPS__LOGPATH
        if [ -f "$tmpd/$name" ]; then
            cp "$tmpd/$name" "$log"
        else
            : >"$log"
        fi
        if [ -n "${ended[$name]+x}" ]; then
            IFS=$'\t' read -r st secs detail <<<"${ended[$name]}"
        else
            st=FAIL secs=0.0 detail="began but never ended (guest died?)"
            echo "$detail" >>"$log"
        fi
        steps__record "$prefix$name" "$st" "$secs" "$detail" "$log"
    done
    rm -rf "$tmpd"
}

# steps_run_remote [--needs ...] [--timeout S] NAME PREFIX -- CMD [ARG...]
# Run CMD as step NAME with its output saved as LOGDIR/NAME.console, then
# import the steps it printed (CMD runs a steps.sh job with STEPS_ECHO=1
# somewhere else), prefixed with PREFIX. NAME itself passes when CMD
# exits 0 or when it printed a closing line (the remote job ran to its
# end, even if some of its steps failed: those are counted on their own).
# Example, a real board:
#   steps_run_remote board-cases board- -- \
#       ssh root@board 'STEPS_ECHO=1 /tmp/xvf/cases.sh'
steps_run_remote() {
    local opts=() name prefix console
    while [ $# -gt 0 ]; do
        case $1 in
            --needs|--timeout) opts+=("$1" "$2"); shift 2 ;;
            --always) opts+=("$1"); shift ;;
            *) break ;;
        esac
    done
    name=$1 prefix=$2
    shift 2
    [ "${1:-}" = -- ] && shift
    console=$STEPS_LOGDIR/$name.console
    : >"$console"
    step "${opts[@]}" "$name" -- steps__remote "$console" "$@"
    [ -s "$console" ] && steps_import_console "$console" "$prefix"
    return 0
}

steps__remote() {
    local console=$1 rc=0
    shift
    echo "+ $*"
    "$@" >"$console" 2>&1 || rc=$?
    echo "exit $rc; $(grep -c '^XVF-STEP ' "$console") steps reported"
    [ $rc -eq 0 ] && return 0
    if grep -Eq '^[0-9]+ passed, [0-9]+ failed$' "$console"; then
        return 0
    fi
    step_detail "remote job exited $rc without a closing line"
    return 1
}

# steps_count STATUS - how many steps ended with STATUS.
steps_count() {
    local n c=0
    for n in "${STEPS_NAMES[@]}"; do
        [ "${STEPS_STATUS[$n]}" = "$1" ] && c=$((c + 1))
    done
    echo $c
}

# steps_finish - print the summary table and the closing line; return 1
# if any step failed or was blocked (or if there was no step at all).
steps_finish() {
    local n i=0 p f b s w
    w=24
    for n in "${STEPS_NAMES[@]}"; do
        [ "${#n}" -le "$w" ] || w=${#n}
    done
    echo
    echo "== job $STEPS_JOB: ${#STEPS_NAMES[@]} steps, logs in $STEPS_LOGDIR =="
    printf ' %3s  %-*s  %-7s  %6s  %s\n' '#' "$w" step status secs detail
    for n in "${STEPS_NAMES[@]}"; do
        i=$((i + 1))
        printf ' %3d  %-*s  %-7s  %6s  %s\n' "$i" "$w" "$n" \
            "${STEPS_STATUS[$n]}" "${STEPS_SECS[$n]}" "${STEPS_DETAIL[$n]}"
    done
    p=$(steps_count PASS)
    f=$(steps_count FAIL)
    b=$(steps_count BLOCKED)
    s=$(steps_count SKIP)
    echo "$STEPS_JOB: $p passed, $f failed, $b blocked, $s skipped"
    echo "$p passed, $((f + b)) failed"
    [ $((f + b)) -eq 0 ] && [ ${#STEPS_NAMES[@]} -gt 0 ]
}
