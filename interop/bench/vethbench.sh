#!/usr/bin/env bash
# vethbench.sh: the bulk-transfer part of the side-by-side report (bench
# package, cmd/benchreport) across a veth pair between two network
# namespaces, 198.18.1.1/30 (client) <-> 198.18.1.2/30 (server), in the
# RFC 2544 benchmarking range. Unlike loopback (64 KiB MTU), the veth link
# has the 1500-byte MTU of a real Ethernet path. The client runs in one
# namespace and starts its perf peer in the other with `ip netns exec`.
# Prints the Markdown table, then removes the namespaces.
#
# Usage (from anywhere):  interop/bench/vethbench.sh   (needs root and iproute2)
#   SKIFF_BENCH_BYTES=N   bytes per transfer (default 1 GiB)
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "vethbench.sh: skipped: needs root to create network namespaces"
	exit 0
fi
if ! command -v ip >/dev/null 2>&1; then
	echo "vethbench.sh: skipped: iproute2 'ip' not found"
	exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
ns_c=skiff-perf-c-$$
ns_s=skiff-perf-s-$$

cleanup() {
	ip netns del "$ns_c" 2>/dev/null || true
	ip netns del "$ns_s" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building benchreport..." >&2
(cd "$here/.." && go build -o "$tmp/benchreport" ./cmd/benchreport)

ip netns add "$ns_c"
ip netns add "$ns_s"
ip link add "skp$$c" netns "$ns_c" type veth peer name "skp$$s" netns "$ns_s"
ip -n "$ns_c" addr add 198.18.1.1/30 dev "skp$$c"
ip -n "$ns_s" addr add 198.18.1.2/30 dev "skp$$s"
for ns in "$ns_c" "$ns_s"; do ip -n "$ns" link set lo up; done
ip -n "$ns_c" link set "skp$$c" up
ip -n "$ns_s" link set "skp$$s" up

ip netns exec "$ns_c" "$tmp/benchreport" -bulk -host 198.18.1.2 -peer-netns "$ns_s" \
	-path "veth pair between network namespaces (198.18.1.1/30 <-> 198.18.1.2/30, MTU 1500)"
