#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Raw netlink tests: tools/qvnl sends RTM_NEWQDISC / RTM_NEWTCLASS with
# hand-built TCA_OPTIONS, bypassing tc and its plugin.  Well-formed requests
# are accepted; each malformed one is rejected with the expected errno and
# extack message, changes nothing, and the kernel log gets no WARN, BUG or
# oops.
. "$(dirname "$0")/lib.sh"

DEV=qvn0
DEV2=qvn1
QVNL=${QVNL:-qvnl}

if ! qvisor_loaded; then
	tap_skip "sch_qvisor loaded" "sch_qvisor module missing"
	tap_done
fi
if ! command -v "$QVNL" >/dev/null; then
	tap_skip "raw netlink tests" "no qvnl tool (tools/qvnl.c)"
	tap_done
fi
modprobe dummy 2>/dev/null
for d in $DEV $DEV2; do
	if ! $IP link add $d type dummy || ! $IP link set $d up; then
		tap_fail "dummy device $d" "cannot create a dummy device"
		tap_done
	fi
	on_exit "$IP link del $d"
done
dmesg_lines=$(dmesg | wc -l)

snap() {
	$TC qdisc show dev "$1" 2>&1
	$TC class show dev "$1" 2>&1
}

# ok NAME QVNL-ARGS...: the kernel accepts the request
ok() {
	local name=$1 out
	shift
	if out=$($QVNL --expect-ok "$@" 2>&1); then
		tap_ok "$name"
	else
		tap_fail "$name" "qvnl $*" "$out"
	fi
}

# bad NAME ERRNO MESSAGE QVNL-ARGS...: rejected with ERRNO and an extack
# message containing MESSAGE ("" = any or none); the device named in the
# request (its 3rd word after the options) is unchanged.
bad() {
	local name=$1 err=$2 msg=$3 dev before after out rc a
	shift 3
	dev=$DEV
	for a in "$@"; do
		case $a in qvn*) dev=$a; break ;; esac
	done
	before=$(snap "$dev")
	if [ -n "$msg" ]; then
		out=$($QVNL --expect-error "$err" --expect-msg "$msg" "$@" 2>&1)
	else
		out=$($QVNL --expect-error "$err" "$@" 2>&1)
	fi
	rc=$?
	after=$(snap "$dev")
	if [ $rc -ne 0 ]; then
		tap_fail "$name" "qvnl $*" "$out"
	elif [ "$before" != "$after" ]; then
		tap_fail "$name" "configuration changed" "before:" "$before" \
			"after:" "$after"
	else
		tap_ok "$name"
		tap_diag "$out"
	fi
}

# --- well-formed requests ------------------------------------------------
ok "qdisc add with options" qdisc add $DEV u64:rate=12500000 u32:limit=100 \
	u32:buckets=256 u32:slot=2000 u32:default=2 u8:backend=0 \
	u32:overlap=30 'tree:tree=strict(1 share(2 3))'
if $TC qdisc show dev $DEV | grep -qE 'qdisc qvisor 1: root refcnt [0-9]+ rate 100Mbit limit 100p buckets 256 slot 2ms default 2 backend pifo policy "1 >> 2 \+ 3" overlap 30%'; then
	tap_ok "tc shows what qvnl configured"
else
	tap_fail "tc shows what qvnl configured" "$($TC qdisc show dev $DEV)"
fi
ok "class add with options" class add $DEV 1 u8:rank=1 u32:mask=0xff \
	u32:lo=0 u32:hi=200 u32:levels=8 u32:weight=3 u64:ceil=125000 \
	u32:burst=1500 u32:limit=50
ok "class add without TCA_OPTIONS" --no-options class add $DEV 2
ok "class change with an empty nest" class change $DEV 2
ok "qdisc change with an empty nest" qdisc change $DEV
ok "qdisc change: policy of 4096 tenants (the maximum)" \
	qdisc change $DEV 'tree:tree=share(1-1000)'
if $TC qdisc show dev $DEV | grep -qF 'policy "1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + a + b'; then
	tap_ok "tc shows the policy of 4096 tenants"
else
	tap_fail "tc shows the policy of 4096 tenants" "$($TC qdisc show dev $DEV 2>&1 | head -c 300)"
fi
ok "qdisc change: policy back to a short one" qdisc change $DEV \
	'tree:tree=strict(1 share(2 3))'
ok "qdisc change: an empty tree clears the policy" qdisc change $DEV 'tree:tree='
if ! $TC qdisc show dev $DEV | grep -q 'policy'; then
	tap_ok "tc shows no policy after the empty tree"
else
	tap_fail "tc shows no policy after the empty tree" "$($TC qdisc show dev $DEV)"
fi
ok "qdisc change: the full shape, groups of one member not left out" \
	qdisc change $DEV 'tree:tree=strict(prefer(share(1)) prefer(share(2|3)))'
if $TC qdisc show dev $DEV | grep -qF 'policy "1 >> 2 + 3" '; then
	tap_ok "tc shows the full shape as \"1 >> 2 + 3\""
else
	tap_fail "tc shows the full shape as \"1 >> 2 + 3\"" "$($TC qdisc show dev $DEV)"
fi
ok "qdisc replace with options" qdisc replace $DEV u32:limit=200

# --- malformed: qdisc change ---------------------------------------------
bad "TCA_OPTIONS without NLA_F_NESTED" EINVAL "NLA_F_NESTED is missing" \
	--no-nested qdisc change $DEV u32:limit=5
bad "truncated nest (last attribute cut by 2 bytes)" EINVAL "" \
	--truncate 2 qdisc change $DEV u32:limit=5 u32:buckets=64
bad "truncated nest (attribute header cut)" EINVAL "" \
	--truncate 6 qdisc change $DEV u32:limit=5 u32:buckets=64
bad "u32 attribute of 2 bytes" EINVAL "" qdisc change $DEV hex:limit=0500
bad "u8 where u32 expected (limit)" EINVAL "" qdisc change $DEV u8:limit=5
bad "u64 where u32 expected (buckets)" EINVAL "" qdisc change $DEV u64:buckets=64
bad "u32 where u64 expected (rate)" EINVAL "" qdisc change $DEV u32:rate=1000
bad "u32 where u8 expected (backend)" EINVAL "" qdisc change $DEV u32:backend=3
bad "empty attribute (limit)" EINVAL "" qdisc change $DEV hex:limit=
bad "unknown attribute type TCA_QVISOR_MAX + 1" EINVAL "Unknown attribute type" \
	qdisc change $DEV u32:$(( 24 + 1 ))=1
bad "unknown attribute type 200" EINVAL "Unknown attribute type" \
	qdisc change $DEV u32:200=1
bad "attribute type 0 (UNSPEC)" EINVAL "" qdisc change $DEV u32:0=1
bad "TCA_QVISOR_PAD as input" EINVAL "" qdisc change $DEV u64:pad=0
# the policy tree (TCA_QVISOR_POLICY_TREE); '@' marks the attribute the
# extack must point at
bad "policy as a string (TCA_QVISOR_POLICY)" EINVAL \
	"The policy is a tree now, not a string" qdisc change $DEV 'str:policy=1 >> 2'
bad "policy tree without NLA_F_NESTED" EINVAL "NLA_F_NESTED is missing" \
	qdisc change $DEV hex:tree=
bad "tree naming a tenant twice" EINVAL "Tenant appears twice in policy" \
	qdisc change $DEV 'tree:tree=strict(1 share(2 | @3 1))'
bad "tree: group kind 3 (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV 'tree:tree=kind3(1 2)'
bad "tree: group without a kind" EINVAL "Policy group without a kind" \
	qdisc change $DEV 'tree:tree=strict(1 @nokind(2 3))'
ok "tree: a strict group in a share group is a nested group" \
	qdisc change $DEV 'tree:tree=share(1 strict(2 3))'
bad "tree: prefer in prefer, three deep" EINVAL \
	"Policy group inside a group of its own kind" \
	qdisc change $DEV 'tree:tree=strict(1 prefer(2 @prefer(3 4)))'
bad "tree: the root is a share group of a share group" EINVAL \
	"Policy group inside a group of its own kind" \
	qdisc change $DEV 'tree:tree=share(@share(1 2) 3)'
bad "tree: nested groups 9 deep" EINVAL "Policy tree is nested too deep" \
	qdisc change $DEV 'tree:tree=share(1 strict(2 share(3 strict(4 share(5 strict(6 share(7 strict(8 @share(9 10)))))))))'
bad "tree deeper than netlink's recursion limit" EINVAL \
	"allowed policy recursion depth exceeded" \
	qdisc change $DEV 'tree:tree=share(share(share(share(share(share(share(share(share(share(share(1)))))))))))'
bad "tree: an empty share group" EINVAL "Policy group has no members" \
	qdisc change $DEV 'tree:tree=strict(1 @share())'
bad "tree: an empty root group" EINVAL "Policy group has no members" \
	qdisc change $DEV 'tree:tree=@strict()'
bad "tree: tenant 0" EINVAL "Tenant must be a class minor 1..ffff" \
	qdisc change $DEV 'tree:tree=share(1 | @0)'
bad "tree: 4097 tenants" EINVAL "Too many tenants in policy" \
	qdisc change $DEV 'tree:tree=share(@1-1001)'
bad "tree: its last attribute's padding cut off" EINVAL "" \
	--truncate 2 qdisc change $DEV 'tree:tree=share(1)'
bad "buckets 100" EINVAL "buckets must be a power of two" \
	qdisc change $DEV u32:buckets=100
bad "buckets 131072" EINVAL "buckets must be a power of two" \
	qdisc change $DEV u32:buckets=131072
bad "buckets 0" EINVAL "buckets must be a power of two" \
	qdisc change $DEV u32:buckets=0
bad "slot 0 (policy range)" ERANGE "integer out of range" qdisc change $DEV u32:slot=0
bad "slot 2 s (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u32:slot=2000000
bad "lend over 60 s (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u32:lend=60000001
ok "lend 60 s (the maximum)" qdisc change $DEV u32:lend=60000000
ok "lend 0 (off)" qdisc change $DEV u32:lend=0
bad "default 0x10000 (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u32:default=0x10000
bad "overlap 101 (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u32:overlap=101
bad "limit 0 (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u32:limit=0
bad "backend 9 (policy range)" ERANGE "integer out of range" qdisc change $DEV u8:backend=9
bad "partial 2 (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u8:partial=2
bad "TCA_QVISOR_PROPS is read-only" EINVAL "Properties are reported, not set" \
	qdisc change $DEV u32:props=63
bad "TCA_QVISOR_GROUP_PROPS is read-only" EINVAL "Properties are reported, not set" \
	qdisc change $DEV u32:gprops=63
bad "TCA_QVISOR_QSTATS is read-only" EINVAL \
	"Queue statistics are reported, not set" qdisc change $DEV hex:qstats=
bad "queues 1 (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u32:queues=1
bad "queues 33 (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u32:queues=33
bad "aqm 2 (policy range)" ERANGE "integer out of range" qdisc change $DEV u8:aqm=2
bad "target 0 (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u32:target=0
bad "interval above 10 s (policy range)" ERANGE "integer out of range" \
	qdisc change $DEV u32:interval=10000001
bad "target not below interval" EINVAL "AQM target must be below its interval" \
	qdisc change $DEV u32:target=100000
bad "good limit with a bad buckets changes nothing" EINVAL "" \
	qdisc change $DEV u32:limit=7 u32:buckets=100
bad "good policy with a bad attribute after it changes nothing" EINVAL "" \
	qdisc change $DEV 'tree:tree=strict(3 2 1)' u8:limit=1
bad "qdisc replace with a bad attribute" EINVAL "" \
	qdisc replace $DEV u32:buckets=3

# --- malformed: qdisc add (init path, device without qvisor) --------------
bad "add: TCA_OPTIONS without NLA_F_NESTED" EINVAL "NLA_F_NESTED is missing" \
	--no-nested qdisc add $DEV2 u32:limit=5
bad "add: truncated nest" EINVAL "" --truncate 2 qdisc add $DEV2 u32:limit=5
bad "add: buckets 100" EINVAL "buckets must be a power of two" \
	qdisc add $DEV2 u32:buckets=100
bad "add: policy as a string" EINVAL "The policy is a tree now, not a string" \
	qdisc add $DEV2 'str:policy=1'
bad "add: share group in a share group" EINVAL \
	"Policy group inside a group of its own kind" \
	qdisc add $DEV2 'tree:tree=share(1 @share(2 3))'
bad "add: unknown attribute type" EINVAL "Unknown attribute type" \
	qdisc add $DEV2 u32:99=1
bad "add: sppifo with 40 queues (policy range)" ERANGE "integer out of range" \
	qdisc add $DEV2 u8:backend=1 u32:queues=40
if $TC qdisc show dev $DEV2 | grep -q qvisor; then
	tap_fail "no qvisor left on $DEV2 after failed adds" "$($TC qdisc show dev $DEV2)"
else
	tap_ok "no qvisor left on $DEV2 after failed adds"
fi

# --- malformed: class add / change -----------------------------------------
bad "class range lo > hi" EINVAL "range LO must not be above HI" \
	class change $DEV 1 u32:lo=5 u32:hi=3
bad "class add with range lo > hi" EINVAL "range LO must not be above HI" \
	class add $DEV 5 u32:lo=5 u32:hi=3
bad "class aqm 3 (policy range)" ERANGE "integer out of range" \
	class change $DEV 1 u8:aqm=3
bad "class target not below its interval" EINVAL "AQM target must be below its interval" \
	class change $DEV 1 u32:target=2000 u32:interval=1000
bad "class lo alone above the current hi" EINVAL "" \
	class change $DEV 1 u32:lo=1000
bad "class TCA_OPTIONS without NLA_F_NESTED" EINVAL "NLA_F_NESTED is missing" \
	--no-nested class change $DEV 1 u32:weight=2
bad "class add: TCA_OPTIONS without NLA_F_NESTED" EINVAL "NLA_F_NESTED is missing" \
	--no-nested class add $DEV 6 u32:weight=2
bad "class truncated nest" EINVAL "" --truncate 2 class change $DEV 1 u32:weight=2
bad "class u8 where u32 expected (weight)" EINVAL "" \
	class change $DEV 1 u8:weight=2
bad "class u32 where u8 expected (rank)" EINVAL "" class change $DEV 1 u32:rank=3
bad "class u32 where u64 expected (ceil)" EINVAL "" \
	class change $DEV 1 u32:ceil=1000
bad "class unknown attribute type TCA_QVISOR_CLASS_MAX + 1" EINVAL "Unknown attribute type" \
	class change $DEV 1 u32:$(( 17 + 1 ))=1
bad "class add: unknown attribute type" EINVAL "Unknown attribute type" \
	class add $DEV 6 u32:$(( 17 + 1 ))=1
# range auto (TCA_QVISOR_CLASS_RANGE_AUTO, the window in packets)
bad "class range auto window 8" EINVAL \
	"range auto window must be 0 (off) or 16 to 32768 packets" \
	class change $DEV 1 u32:rauto=8
bad "class range auto window 32769 (policy range)" ERANGE "integer out of range" \
	class change $DEV 1 u32:rauto=32769
bad "class range auto as u8" EINVAL "" class change $DEV 1 u8:rauto=64
ok "class range auto window 64" class change $DEV 1 u32:rauto=64
if $TC class show dev $DEV | grep -q 'range auto .* window 64 '; then
	tap_ok "tc shows range auto with window 64"
else
	tap_fail "tc shows range auto with window 64" "$($TC class show dev $DEV)"
fi
ok "class range auto off (window 0)" class change $DEV 1 u32:rauto=0
if ! $TC class show dev $DEV | grep -q 'range auto'; then
	tap_ok "tc shows no range auto after window 0"
else
	tap_fail "tc shows no range auto after window 0" "$($TC class show dev $DEV)"
fi
bad "class rank 200 (policy range)" ERANGE "integer out of range" class change $DEV 1 u8:rank=200
ok "class rank las" class change $DEV 1 u8:rank=4
ok "class rank edf with a budget" \
	class change $DEV 1 u8:rank=6 u64:budget=1000000
bad "class rank edf without a budget" EINVAL "deadline budget" \
	class change $DEV 1 u8:rank=6 u64:budget=0
bad "class mark mask 0" EINVAL "mark mask must not be zero" \
	class change $DEV 1 u8:rank=1 u32:mask=0
bad "class weight 0 (policy range)" ERANGE "integer out of range" \
	class change $DEV 1 u32:weight=0
bad "class weight 65536 (policy range)" ERANGE "integer out of range" \
	class change $DEV 1 u32:weight=65536
bad "class levels 0 (policy range)" ERANGE "integer out of range" \
	class change $DEV 1 u32:levels=0
bad "class levels 65537 (policy range)" ERANGE "integer out of range" \
	class change $DEV 1 u32:levels=65537
bad "class minor 0" EINVAL "" class add $DEV 0 u32:weight=1
bad "class add with a good weight and a bad rank adds nothing" EINVAL "" \
	class add $DEV 7 u32:weight=9 u8:rank=6 u64:budget=0
bad "class delete of a missing class" ENOENT "" class delete $DEV 99

# --- the kernel log ------------------------------------------------------
new=$(dmesg | tail -n +$((dmesg_lines + 1)))
oops=$(grep -E 'WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|refcount_t:|list_(add|del) corruption|Call Trace' <<<"$new")
if [ -z "$oops" ]; then
	tap_ok "kernel log: no WARN, BUG or oops"
else
	tap_fail "kernel log: no WARN, BUG or oops" "$oops"
fi
[ -n "$new" ] && tap_diag "kernel log during the test:" "$new"
tap_check "qdisc deleted" $TC qdisc del dev $DEV root
tap_done
