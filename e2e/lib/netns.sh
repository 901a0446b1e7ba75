#!/usr/bin/env bash
# Network namespaces for the partition test: N nodes, each in its own namespace, joined by a
# bridge that lives in a namespace of its own, so that a partition is a matter of moving bridge
# ports to a second bridge. Nothing outside the namespaces this script creates is touched,
# except one veth pair per node into the root namespace, so that the test reaches each node's RPC.
#
#   netns.sh up TAG N            create namespaces lx<TAG>n0..n<N-1> and lx<TAG>br
#   netns.sh split TAG I...      move nodes I... to the second bridge (a partition)
#   netns.sh heal TAG            every node back on the first bridge
#   netns.sh down TAG            delete all of it (idempotent)
#
# Node i: peer-to-peer address 10.248.0.<i+1>/24 (the bridge), RPC address 10.249.<i>.2 (a
# point-to-point link to the root namespace, whose end is 10.249.<i>.1). The node namespaces
# have no default route, so nodes reach each other only through the bridge.
# TAG: up to 5 letters or digits (interface names have at most 15 characters). Needs root.
set -euo pipefail

cmd="$1"; tag="$2"; shift 2
[[ "$tag" =~ ^[a-z0-9]{1,5}$ ]] || { echo "netns.sh: TAG must be 1-5 lower-case letters or digits" >&2; exit 2; }
br="lx${tag}br"
ns() { echo "lx${tag}n$1"; }
ex() { ip netns exec "$@"; }

case "$cmd" in
up)
	n="$1"
	ip netns add "$br"
	ex "$br" ip link set lo up
	for b in bra brb; do
		ex "$br" ip link add "$b" type bridge
		ex "$br" ip link set "$b" up
	done
	for ((i = 0; i < n; i++)); do
		node="$(ns "$i")"
		ip netns add "$node"
		ex "$node" ip link set lo up
		# The bridge link: eth0 in the node, p<i> on bridge bra.
		ip link add "lx${tag}p$i" netns "$br" type veth peer name eth0 netns "$node"
		ex "$br" ip link set "lx${tag}p$i" master bra up
		ex "$node" ip addr add "10.248.0.$((i + 1))/24" dev eth0
		ex "$node" ip link set eth0 up
		# The RPC link: r<i> in the root namespace, rpc0 in the node.
		ip link add "lx${tag}r$i" type veth peer name rpc0 netns "$node"
		ip addr add "10.249.$i.1/30" dev "lx${tag}r$i"
		ip link set "lx${tag}r$i" up
		ex "$node" ip addr add "10.249.$i.2/30" dev rpc0
		ex "$node" ip link set rpc0 up
	done
	;;
split)
	for i in "$@"; do ex "$br" ip link set "lx${tag}p$i" master brb; done
	;;
heal)
	for link in $(ex "$br" ip -o link show master brb | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
		ex "$br" ip link set "$link" master bra
	done
	;;
down)
	for link in $(ip -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1 | grep "^lx${tag}r" || true); do
		ip link del "$link" 2>/dev/null || true
	done
	for name in $(ip netns list | awk '{ print $1 }' | grep "^lx${tag}" || true); do
		ip netns pids "$name" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$name" 2>/dev/null || true
	done
	;;
*)
	echo "usage: netns.sh up|split|heal|down TAG [...]" >&2; exit 2 ;;
esac
