#!/bin/bash
# The table of make bench, from the CSV files bench/run.sh collected.
#
# Usage: bench/report.sh DIR [BOARD...]     (BOARD: domd, xen)
#
# For each board: every (variant, op) with its median, quartiles and
# range over the measured rounds (round 0 is a warm-up and left out,
# failed runs too), then the comparisons of docs/performance.md, each
# computed per round from measurements taken in that same round, so the
# slow drift of a shared, emulated machine cancels out; the median and the
# quartiles of those per-round figures are printed, with the goal where
# issue 7 sets one. Exit 0 always: the table reports, it does not judge.
set -uo pipefail

dir=${1:?usage: bench/report.sh DIR [BOARD...]}
shift
boards=("$@")
[ ${#boards[@]} -gt 0 ] || boards=(domd xen)

# Comparisons: BOARD|LABEL|KIND|A|B|C|GOAL
#   ratio  A / B               (A, B: variant:op)
#   minus  A - B, in ms
#   rss    peak RSS of A - peak RSS of B, in KiB
#   mratio median of A / median of B, B from BOARD-host.csv (not paired)
#   diff   (A - B) / C
#   goal   "<= X" or empty
comparisons='
domd|engine / floor, prepare|ratio|engine:prepare|floor:prepare||<= 1.15
domd|engine / floor, release|ratio|engine:release|floor:release||<= 1.15
domd|engine / floor, prepare+release|ratio|engine:cycle|floor:cycle||<= 1.15
domd|emulation slowdown: xen-vfctl check, board / host|mratio|calib:check|calib:check||
domd|engine - floor, prepare|minus|engine:prepare|floor:prepare||
domd|engine - floor, prepare+release|minus|engine:cycle|floor:cycle||
domd|engine / floor, driver pci-stub, prepare|ratio|engine-stub:prepare|floor-stub:prepare||<= 1.15
domd|engine / floor, driver pci-stub, prepare+release|ratio|engine-stub:cycle|floor-stub:cycle||<= 1.15
domd|PF health checks of a prepare / floor prepare|ratio|health:prepare|floor:prepare||
domd|engine, journal on disk / floor, prepare|ratio|engine-fsync:prepare|floor:prepare||
domd|guide order / floor, prepare|ratio|seed:prepare|floor:prepare||
domd|guide order / engine, prepare|ratio|seed:prepare|engine:prepare||
domd|guide order / floor, prepare+release|ratio|seed:cycle|floor:cycle||
xen|engine / floor, prepare (pciback)|ratio|engine:prepare|floor:prepare||<= 1.15
xen|floor with pciback reset at the bind / floor without (as the engine)|ratio|floor-reset:prepare|floor:prepare||
xen|floor with pciback reset at the bind - floor without|minus|floor-reset:prepare|floor:prepare||
xen|engine / floor, prepare+release|ratio|engine:cycle|floor:cycle||<= 1.15
xen|engine - floor, prepare|minus|engine:prepare|floor:prepare||
xen|xenstore request -> ready / floor prepare|ratio|xenstore:prepare|floor:prepare||<= 1.15
xen|xenstore request -> ready - floor prepare|minus|xenstore:prepare|floor:prepare||
xen|the same, both without the start of their process|ratio|xenstore-answer:prepare|floor-inner:prepare||<= 1.15
xen|that difference, in xenstored round trips|diff|xenstore-answer:prepare|floor-inner:prepare|xenstore-op:read|
xen|xenstored round trip, connection with a watch / without|ratio|xenstore-op:watched|xenstore-op:read||
xen|xenstore release -> removed / floor release|ratio|xenstore:release|floor:release||
xen|the same with one site hook (script runs) / floor prepare|ratio|xenstore-hook:prepare|floor:prepare||
xen|hotplug script (add) / floor prepare|ratio|hotplug:add|floor:prepare||
xen|xl create vf: - xl create BDF|minus|create-vf:create|create-bdf:create||
xen|(xl create vf: - xl create BDF) / floor prepare|diff|create-vf:create|create-bdf:create|floor:prepare|<= 1.10
xen|xl create vf: / xl create BDF|ratio|create-vf:create|create-bdf:create||
xen|(xl create vf:, xen-vfd at nice 0 - BDF) / floor prepare|diff|create-vf-nice0:create|create-bdf:create|floor:prepare|
xen|xl create vf:, xen-vfd at nice 0 / at -10 (the unit)|ratio|create-vf-nice0:create|create-vf:create||
xen|xl create vf:, answer while xl waits / floor prepare|ratio|create-vf:answer|floor:prepare||
xen|xl create vf:, answer while xl waits - xenstore request alone|minus|create-vf:answer|xenstore-answer:prepare||
xen|xl create vf:, device to pciback: vf: - BDF|minus|create-vf:pci|create-bdf:pci||
xen|xl create, hand-over to pciback -> xl exits: vf: - BDF|minus|create-vf:after|create-bdf:after||
xen|xl peak RSS, xl create vf: - BDF (libxl)|rss|create-vf:create|create-bdf:create||
xen|xl create vf: / xl create BDF, warm PF (--keep-vfs)|ratio|create-vf-warm:create|create-bdf:create||<= 1.10
xen|guest restart, create after destroy: vf: / BDF (--keep-vfs)|ratio|restart-vf:create|restart-bdf:create||<= 1.10
xen|guest restart, destroy: vf: / BDF (--keep-vfs)|ratio|restart-vf:destroy|restart-bdf:destroy||
xen|guest restart, create after destroy: vf: - BDF|minus|restart-vf:create|restart-bdf:create||
xen|real kernel: xl create vf: - xl create BDF|minus|kcreate-vf:create|kcreate-bdf:create||
xen|real kernel: (xl create vf: - xl create BDF) / floor prepare|diff|kcreate-vf:create|kcreate-bdf:create|floor:prepare|<= 1.10
xen|real kernel: xl create vf: / xl create BDF|ratio|kcreate-vf:create|kcreate-bdf:create||<= 1.10
xen|real kernel: xl create vf: / xl create BDF, warm PF (--keep-vfs)|ratio|kcreate-vf-warm:create|kcreate-bdf:create||<= 1.10
xen|real kernel: guest restart, create after destroy: vf: / BDF (--keep-vfs)|ratio|krestart-vf:create|krestart-bdf:create||<= 1.10
xen|two guests together / one after the other|ratio|concurrent:both|sequential:both||
xen|two together - one after the other|minus|concurrent:both|sequential:both||
'

for b in "${boards[@]}"; do
    csv=$dir/$b.csv
    if [ ! -s "$csv" ]; then
        echo "$b: no measurements ($csv)"
        continue
    fi
    info=$(grep -a -o 'XVF-BENCH-INFO.*' "$dir/$b-serial.txt" 2>/dev/null |
        head -n 1 | sed 's/XVF-BENCH-INFO //')
    host=$(grep -a -o 'XVF-BENCH-HOST.*' "$dir/$b-serial.txt" 2>/dev/null |
        tail -n 1 | sed 's/XVF-BENCH-HOST //')
    [ -z "$host" ] || info="$info; host $host"
    files=("$csv")
    [ ! -s "$dir/$b-host.csv" ] || files+=("$dir/$b-host.csv")
    awk -F, -v board="$b" -v info="$info" -v comps="$comparisons" '
    function sortn(a, n,    i, j, t) {
        for (i = 2; i <= n; i++) {
            t = a[i]
            for (j = i - 1; j >= 1 && a[j] > t; j--)
                a[j + 1] = a[j]
            a[j + 1] = t
        }
    }
    # quantile of sorted a[1..n], linear interpolation
    function q(a, n, p,    h, lo) {
        if (n == 1)
            return a[1]
        h = (n - 1) * p + 1
        lo = int(h)
        if (lo >= n)
            return a[n]
        return a[lo] + (h - lo) * (a[lo + 1] - a[lo])
    }
    function ms(us) {
        us /= 1000
        return us >= 100 ? sprintf("%.0f", us) : us >= 10 ? \
            sprintf("%.1f", us) : sprintf("%.2f", us)
    }
    function fmt_ms(a, n) {
        sortn(a, n)
        return sprintf("%8s [%s..%s] (%s..%s)", ms(q(a, n, .5)),
            ms(q(a, n, .25)), ms(q(a, n, .75)), ms(a[1]), ms(a[n]))
    }
    function fmt_x(a, n) {
        sortn(a, n)
        med = q(a, n, .5)
        return sprintf("%5.2f [%.2f..%.2f]", med, q(a, n, .25),
            q(a, n, .75))
    }
    # median CPU ms and peak RSS of a key over the rounds, "" if none
    function extra(key,    n, m, r, b, c) {
        n = 0; m = 0
        for (r = 1; r <= maxr; r++)
            if ((key SUBSEP r) in cpu) {
                b[++n] = cpu[key, r]
                if (rss[key, r] > m) m = rss[key, r]
            }
        if (!n || (b[1] == 0 && m == 0))
            return ""
        sortn(b, n)
        c = sprintf("  cpu %s", ms(q(b, n, .5)))
        return m ? c sprintf(" rss %d", m) : c
    }
    # value of "variant:op" in round r, or "" when not measured
    function val(key, r) {
        return ((key SUBSEP r) in v) ? v[key, r] : ""
    }
    FNR == 1 { next }
    $1 == "host" {
        if ($9 == 0 && $2 != 0)
            hv[$3 ":" $4, ++hn[$3 ":" $4]] = $5
        next
    }
    $1 != board { next }
    {
        round = $2; key = $3 ":" $4
        if (!(key in seen)) {
            seen[key] = 1
            keys[++nkeys] = key
        }
        if ($9 != 0) { failed[key]++; next }
        if (round == 0) { warm++; next }
        v[key, round] = $5
        cpu[key, round] = $6 + $7
        rss[key, round] = $8
        if (round > maxr) maxr = round
        if ($4 == "prepare" || $4 == "release") {
            pr[$3, $4, round] = $5
            pc[$3, $4, round] = $6 + $7
            cyc[$3] = 1
        }
    }
    END {
        for (k in cyc)
            for (r = 1; r <= maxr; r++)
                if (((k SUBSEP "prepare" SUBSEP r) in pr) &&
                    ((k SUBSEP "release" SUBSEP r) in pr)) {
                    ck = k ":cycle"
                    if (!(ck in seen)) { seen[ck] = 1; cycles[k] = 1 }
                    v[ck, r] = pr[k, "prepare", r] + pr[k, "release", r]
                    cpu[ck, r] = pc[k, "prepare", r] + pc[k, "release", r]
                    rss[ck, r] = 0
                }
        printf "\n== %s board%s\n", board, info != "" ? ": " info : ""
        printf "wall time, ms: median [p25..p75] (min..max) over the " \
            "rounds; n = rounds;\ncpu: median user+system ms of the " \
            "process(es); rss: their peak resident KiB\n"
        printf "%-26s %3s  %s\n", "variant:op", "n", "wall ms"
        for (i = 1; i <= nkeys; i++) {
            key = keys[i]
            n = 0
            for (r = 1; r <= maxr; r++)
                if (val(key, r) != "") a[++n] = val(key, r)
            f = failed[key] ? sprintf("  (%d failed)", failed[key]) : ""
            if (n)
                printf "%-26s %3d  %s%s%s\n", key, n, fmt_ms(a, n),
                    extra(key), f
            else
                printf "%-26s %3d  -%s\n", key, 0, f
            split(key, kv, ":")
            if (kv[2] == "release" && (kv[1] in cycles)) {
                ck = kv[1] ":cycle"
                n = 0
                for (r = 1; r <= maxr; r++)
                    if (val(ck, r) != "") a[++n] = val(ck, r)
                if (n)
                    printf "%-26s %3d  %s%s\n", ck, n, fmt_ms(a, n),
                        extra(ck)
            }
        }
        nc = split(comps, lines, "\n")
        hdr = 0
        for (i = 1; i <= nc; i++) {
            if (split(lines[i], c, "|") < 7 || c[1] != board)
                continue
            n = 0
            if (c[3] == "mratio") {
                m = hn[c[5]]
                for (r = 1; r <= m; r++) b2[r] = hv[c[5], r]
                for (r = 1; r <= maxr; r++)
                    if (val(c[4], r) != "") a[++n] = val(c[4], r)
                if (!n || !m)
                    continue
                sortn(a, n)
                sortn(b2, m)
                if (!hdr++)
                    printf "\nper-round comparisons: median [p25..p75]\n"
                printf "%-52s %5.1f  (medians: %s ms here, %s ms on the " \
                    "host)\n", c[2], q(a, n, .5) / q(b2, m, .5),
                    ms(q(a, n, .5)), ms(q(b2, m, .5))
                continue
            }
            for (r = 1; r <= maxr; r++) {
                x = val(c[4], r); y = val(c[5], r)
                if (x == "" || y == "" || (y == 0 && c[3] != "minus"))
                    continue
                if (c[3] == "ratio") {
                    a[++n] = x / y
                } else if (c[3] == "minus") {
                    a[++n] = (x - y) / 1000
                } else if (c[3] == "rss") {
                    a[++n] = rss[c[4], r] - rss[c[5], r]
                } else {
                    z = val(c[6], r)
                    if (z == "" || z == 0)
                        continue
                    a[++n] = (x - y) / z
                }
            }
            if (!n)
                continue
            if (!hdr++)
                printf "\nper-round comparisons: median [p25..p75]\n"
            if (c[3] == "minus") {
                sortn(a, n)
                med = q(a, n, .5)
                s = sprintf("%+6.1f [%+.1f..%+.1f] ms", med, q(a, n, .25),
                    q(a, n, .75))
            } else if (c[3] == "rss") {
                sortn(a, n)
                med = q(a, n, .5)
                s = sprintf("%+6d [%+d..%+d] KiB", med, q(a, n, .25),
                    q(a, n, .75))
            } else {
                s = fmt_x(a, n)
            }
            g = ""
            if (c[7] ~ /^<= /) {
                lim = substr(c[7], 4) + 0
                g = sprintf("goal %s: %s", c[7], med <= lim ? "met" : \
                    "NOT met")
            }
            printf "%-52s %s  %s\n", c[2], s, g
        }
        if (warm)
            printf "(round 0, %d measurements, was a warm-up and is " \
                "left out)\n", warm
    }' "${files[@]}"
    if [ -s "$dir/$b-steps.csv" ] &&
        [ "$(wc -l <"$dir/$b-steps.csv")" -gt 1 ]; then
        awk -F, '
        function sortn(a, n,    i, j, t) {
            for (i = 2; i <= n; i++) {
                t = a[i]
                for (j = i - 1; j >= 1 && a[j] > t; j--)
                    a[j + 1] = a[j]
                a[j + 1] = t
            }
        }
        NR == 1 || $2 == 0 { next }
        {
            run = $3 ":" $4
            key = run SUBSEP $5
            if (!(run in seenrun)) {
                seenrun[run] = 1
                runs[++nrun] = run
            }
            if (!(key in seen)) {
                seen[key] = 1
                steps[run, ++nstep[run]] = $5
            }
            vals[key, ++cnt[key]] = $6
        }
        END {
            printf "\nsteps of the floor, the guide order and the engine, ms " \
                "(median over the rounds)\n"
            for (i = 1; i <= nrun; i++) {
                run = runs[i]
                line = sprintf("%-19s", run)
                for (s = 1; s <= nstep[run]; s++) {
                    key = run SUBSEP steps[run, s]
                    m = cnt[key]
                    for (j = 1; j <= m; j++) a[j] = vals[key, j]
                    sortn(a, m)
                    med = m % 2 ? a[(m + 1) / 2] \
                                : (a[m / 2] + a[m / 2 + 1]) / 2
                    item = sprintf(" %s %.1f", steps[run, s], med / 1000)
                    if (length(line item) > 79) {
                        print line
                        line = sprintf("%-19s", "")
                    }
                    line = line item
                }
                print line
            }
        }' "$dir/$b-steps.csv"
    fi
    if [ -s "$dir/$b-footprint.csv" ] &&
        [ "$(wc -l <"$dir/$b-footprint.csv")" -gt 1 ]; then
        printf '\nfootprint\n'
        awk -F, 'NR > 1 { printf "  %-40s %s\n", $2, $3 }' \
            "$dir/$b-footprint.csv"
    fi
done
exit 0
