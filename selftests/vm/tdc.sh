#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The tc-testing cases of selftests/tc-testing/qvisor.json (the file the
# upstream series adds as tools/testing/selftests/tc-testing/tc-tests/
# qdiscs/qvisor.json), run the way tdc.py runs them: per case the setup
# commands, the command under test (its exit status must be expExitCode),
# the verify command, whose output must contain matchPattern exactly
# matchCount times, then the teardown.  The VM has no python, so jq reads
# the JSON; $TC, $IP and $DUMMY are what tdc's nsPlugin provides.
. "$(dirname "$0")/lib.sh"

JSON=$(dirname "$0")/qvisor.json
export TC IP=ip DUMMY=dummy-tdc

if ! command -v jq >/dev/null; then
	tap_skip "tc-testing cases" "no jq in this image"
	tap_done
fi
if ! qvisor_loaded; then
	tap_skip "tc-testing cases" "module missing"
	tap_done
fi
modprobe dummy 2>/dev/null

# run_cmds CMDS: each line of CMDS through the shell, as tdc does; prints
# the failing one
run_cmds() {
	local cmd
	while IFS= read -r cmd; do
		[ -n "$cmd" ] || continue
		if ! eval "$cmd" >/dev/null 2>&1; then
			echo "$cmd"
			return 1
		fi
	done <<<"$1"
}

n=$(jq length "$JSON")
for ((i = 0; i < n; i++)); do
	# one jq per case (jq is slow under TCG): its fields as shell words
	eval "$(jq -r --argjson i "$i" '.[$i] | @sh "id=\(.id) name=\(.name)
		setup=\(.setup | join("\n")) teardown=\(.teardown | join("\n"))
		cmd=\(.cmdUnderTest) want=\(.expExitCode) verify=\(.verifyCmd)
		pat=\(.matchPattern) cnt=\(.matchCount)"' "$JSON")"
	name="$id $name"
	if bad=$(run_cmds "$setup"); then
		out=$(eval "$cmd" 2>&1)
		rc=$?
		vout=$(eval "$verify" 2>&1)
		got=$(grep -oE -- "$pat" <<<"$vout" | wc -l)
		if [ "$rc" != "$want" ]; then
			tap_fail "$name" "command: $cmd" "exit status $rc, expected $want" "$out"
		elif [ "$got" != "$cnt" ]; then
			tap_fail "$name" "pattern: $pat" \
				"matched $got times, expected $cnt" "$vout"
		else
			tap_ok "$name"
		fi
	else
		tap_fail "$name" "setup failed: $bad"
	fi
	run_cmds "$teardown" >/dev/null
	ip link del "$DUMMY" 2>/dev/null
done
tap_done
