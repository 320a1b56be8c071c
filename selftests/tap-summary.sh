#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Sum TAP results of several runs and print one final line:
#
#   selftests/tap-summary.sh out/logs/*.tap
#   ...
#   FAILED: vm-6.1.0-56-cloud-amd64 smoke.sh: ping crosses veth0
#   12 passed, 1 failed, 3 skipped
#
# Counts "ok N", "ok N ... # SKIP", "not ok N" lines (other text, such as a
# VM's boot log, is ignored).  A "# exit: RC" line with RC != 0 in a file
# that has no "not ok" line counts as one failure of that run.  "# qvisor-test:
# NAME" lines (printed by the VM's /init) name the test script in reports.
# Exits 1 if anything failed or no result was found at all.
set -u

[ $# -gt 0 ] || { echo "usage: $0 FILE.tap..." >&2; exit 2; }

awk '
function flush_file() {
	if (file != "" && exitrc != 0 && file_fail == 0) {
		fail++
		failed[++nfailed] = run ": run exited with status " exitrc
	}
}
FNR == 1 {
	flush_file()
	file = FILENAME; run = FILENAME
	sub(/.*\//, "", run); sub(/\.(tap|log)$/, "", run)
	test = ""; exitrc = 0; file_fail = 0
}
{ sub(/\r$/, "") }
/^# qvisor-test: / { test = $3 ": "; next }
/^# exit: [0-9]+$/ { exitrc = $3 + 0; next }
/^not ok [0-9]+/ {
	fail++; file_fail++
	d = $0; sub(/^not ok [0-9]+ *-? */, "", d)
	failed[++nfailed] = run " " test d
	next
}
/^ok [0-9]+/ {
	if (tolower($0) ~ /# *skip/) skip++; else pass++
	next
}
END {
	flush_file()
	for (i = 1; i <= nfailed; i++) print "FAILED: " failed[i]
	if (pass + fail + skip == 0) { print "no test results found"; fail = 1 }
	line = sprintf("%d passed, %d failed", pass, fail)
	if (skip) line = sprintf("%s, %d skipped", line, skip)
	print line
	exit fail ? 1 : 0
}' "$@"
