# SPDX-License-Identifier: GPL-2.0-only
# A leaf-spine of network namespaces (IPv6), for the network-wide tests
# and experiments (issue #22), and the pieces hops.sh builds its chain
# from (ls_ns, ls_link, ls_require; ns_sysctl is in lib.sh).  Source it
# after lib.sh.
#
#   LS_SPINES, LS_LEAVES, LS_HOSTS   sizes (default 2, 2, 2)
#   ls_build                         build it; every netns removed at exit
#
# Namespaces: qv-spS (spine S), qv-lfL (leaf L), qv-hL-H (host H of leaf
# L).  Device names are those of Documentation/examples/leafspine.spec:
# leaf L's port to host H is lfL-hH, to spine S lfL-sS; spine S's port to
# leaf L is spS-lL; a host's only device is eth0.  Every link is its own
# /64: host H of leaf L is fd10:L:H::2 (the leaf fd10:L:H::1), leaf L and
# spine S are fd20:L:S::1 and fd20:L:S::2.  A leaf reaches another leaf's
# hosts (fd10:L::/32) over every spine (ECMP, hashed on the ports:
# fib_multipath_hash_policy 1, so that a flow stays on one path whatever
# its flow label); a spine reaches them through their leaf.  Neighbour
# entries are permanent and addresses skip DAD: no neighbour discovery
# through a throttled port.  Switch ports get the clsact ingress program
# qv_label2mark ($BPF) when ls_label is called, hosts qv_prio2label on
# their egress, so that a rank set with SO_PRIORITY in a host is
# skb->mark at every switch.

LS_SPINES=${LS_SPINES:-2}
LS_LEAVES=${LS_LEAVES:-2}
LS_HOSTS=${LS_HOSTS:-2}
BPF=${BPF:-${QVISOR_BPF_DIR:-/usr/lib/qvisor/bpf}}

# ls_require NAME TOOL...: skip the test NAME (and end it) unless
# sch_qvisor, the TOOLs and the flow label programs are there; loads the
# classifiers the tests use
ls_require() {
	local name=$1 t m
	shift
	qvisor_loaded || { tap_skip "$name" "sch_qvisor not loaded"; tap_done; }
	for t in "$@"; do
		command -v "$t" >/dev/null || { tap_skip "$name" "$t missing"; tap_done; }
	done
	for t in qv_prio2label qv_label2mark; do
		[ -f "$BPF/$t.o" ] ||
			{ tap_skip "$name" "$BPF/$t.o missing (make bpf)"; tap_done; }
	done
	for m in sch_ingress cls_bpf cls_u32 cls_flower; do
		modprobe $m 2>/dev/null
	done
}

# ls_host_addr L H: the address of host H of leaf L
ls_host_addr() {
	echo "fd10:$1:$2::2"
}

# ls_hosts: the host namespaces (qv-hL-H), sorted
ls_hosts() {
	$IP netns list | awk '/^qv-h[0-9]/{print $1}' | sort
}

# ls_ns_addr NS: the address of host namespace NS (qv-hL-H)
ls_ns_addr() {
	local lh=${1#qv-h}
	ls_host_addr "${lh%-*}" "${lh#*-}"
}

# ls_ns NAME: a namespace with lo up, removed at exit
ls_ns() {
	$IP netns add "$1" || return 1
	on_exit "$IP netns del $1"
	$IP -n "$1" link set lo up
}

# ls_link NS1 DEV1 ADDR1 NS2 DEV2 ADDR2: a veth between two namespaces,
# IPv6 /64 without DAD, both neighbour entries permanent (no neighbour
# discovery through a throttled port)
ls_link() {
	local mac1 mac2
	$IP -n "$1" link add "$2" type veth peer name "$5" netns "$4" || return 1
	ns_sysctl "$1" "net/ipv6/conf/$2/disable_ipv6" 0
	ns_sysctl "$4" "net/ipv6/conf/$5/disable_ipv6" 0
	$IP -n "$1" addr add "$3/64" dev "$2" nodad &&
		$IP -n "$4" addr add "$6/64" dev "$5" nodad &&
		$IP -n "$1" link set "$2" up && $IP -n "$4" link set "$5" up ||
		return 1
	mac1=$(dev_mac "$1" "$2")
	mac2=$(dev_mac "$4" "$5")
	$IP -n "$1" neigh replace "$6" lladdr "$mac2" dev "$2" nud permanent &&
		$IP -n "$4" neigh replace "$3" lladdr "$mac1" dev "$5" nud permanent
}

# _ls_leaf_routes L: leaf L reaches every other leaf's hosts over all spines
_ls_leaf_routes() {
	local l=$1 o s hops
	for o in $(seq 1 "$LS_LEAVES"); do
		[ "$o" = "$l" ] && continue
		hops=
		for s in $(seq 1 "$LS_SPINES"); do
			hops="$hops nexthop via fd20:$l:$s::2 dev lf$l-s$s"
		done
		# shellcheck disable=SC2086
		$IP -n "qv-lf$l" -6 route add "fd10:$o::/32" $hops || return 1
	done
}

ls_build() {
	local s l h
	for s in $(seq 1 "$LS_SPINES"); do
		ls_ns "qv-sp$s" || return 1
		ns_sysctl "qv-sp$s" net/ipv6/conf/all/forwarding 1
	done
	for l in $(seq 1 "$LS_LEAVES"); do
		ls_ns "qv-lf$l" || return 1
		ns_sysctl "qv-lf$l" net/ipv6/conf/all/forwarding 1
		ns_sysctl "qv-lf$l" net/ipv6/fib_multipath_hash_policy 1
		for s in $(seq 1 "$LS_SPINES"); do
			ls_link "qv-lf$l" "lf$l-s$s" "fd20:$l:$s::1" \
				"qv-sp$s" "sp$s-l$l" "fd20:$l:$s::2" || return 1
			$IP -n "qv-sp$s" -6 route add "fd10:$l::/32" \
				via "fd20:$l:$s::1" dev "sp$s-l$l" || return 1
		done
		for h in $(seq 1 "$LS_HOSTS"); do
			ls_ns "qv-h$l-$h" || return 1
			ls_link "qv-lf$l" "lf$l-h$h" "fd10:$l:$h::1" \
				"qv-h$l-$h" eth0 "$(ls_host_addr "$l" "$h")" || return 1
			$IP -n "qv-h$l-$h" -6 route add default via "fd10:$l:$h::1" ||
				return 1
		done
	done
	for l in $(seq 1 "$LS_LEAVES"); do
		_ls_leaf_routes "$l" || return 1
	done
}

# ls_switches: the switch namespaces, spines first
ls_switches() {
	local i
	for i in $(seq 1 "$LS_SPINES"); do echo "qv-sp$i"; done
	for i in $(seq 1 "$LS_LEAVES"); do echo "qv-lf$i"; done
}

# ls_ports NS: the switch ports (every device but lo) of namespace NS
ls_ports() {
	$IP -n "$1" -o link show | awk -F': ' '$2 != "lo" { sub(/@.*/, "", $2); print $2 }'
}

# ls_label: qv_prio2label on every host's egress, qv_label2mark on every
# switch port's ingress
ls_label() {
	local n p
	for n in $(ls_hosts); do
		$TC -n "$n" qdisc add dev eth0 clsact &&
			$TC -n "$n" filter add dev eth0 egress prio 1 bpf da \
				obj "$BPF/qv_prio2label.o" sec classifier || return 1
	done
	for n in $(ls_switches); do
		for p in $(ls_ports "$n"); do
			$TC -n "$n" qdisc add dev "$p" clsact &&
				$TC -n "$n" filter add dev "$p" ingress prio 1 bpf da \
					obj "$BPF/qv_label2mark.o" sec classifier || return 1
		done
	done
}
