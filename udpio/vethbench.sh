#!/usr/bin/env bash
# vethbench.sh: bulk UDP throughput through udpio (GSO send, recvmmsg + GRO
# receive) against plain net.UDPConn WriteTo/ReadFrom, between two network
# namespaces joined by a veth pair (198.18.0.1/30 <-> 198.18.0.2/30, the
# RFC 2544 benchmarking range). Each side is the package's test binary
# (TestVethPeer) run with `ip netns exec`. Prints the receiver's figures and
# the ratio, then removes the namespaces.
#
# Usage: udpio/vethbench.sh            (needs root and iproute2's `ip`)
#   SKIFF_VETH_BYTES=N  bytes per run (default 1 GiB)
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "vethbench.sh: skipped: needs root to create network namespaces"
	exit 0
fi
if ! command -v ip >/dev/null 2>&1; then
	echo "vethbench.sh: skipped: iproute2 'ip' not found"
	exit 0
fi

bytes=${SKIFF_VETH_BYTES:-1073741824}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
ns_a=skiff-udpio-a-$$
ns_b=skiff-udpio-b-$$
rpid=

cleanup() {
	if [ -n "$rpid" ]; then kill "$rpid" 2>/dev/null || true; fi
	ip netns del "$ns_a" 2>/dev/null || true
	ip netns del "$ns_b" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building test binary..."
(cd "$here" && go test -c -o "$tmp/udpio.test" .)

ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add "skv$$a" netns "$ns_a" type veth peer name "skv$$b" netns "$ns_b"
ip -n "$ns_a" addr add 198.18.0.1/30 dev "skv$$a"
ip -n "$ns_b" addr add 198.18.0.2/30 dev "skv$$b"
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
ip -n "$ns_a" link set "skv$$a" up
ip -n "$ns_b" link set "skv$$b" up

declare -A gbps
for mode in udpio plain; do
	log="$tmp/recv-$mode.log"
	ip netns exec "$ns_b" env SKIFF_VETH_ROLE=recv SKIFF_VETH_MODE="$mode" \
		SKIFF_VETH_ADDR=198.18.0.2:4433 \
		"$tmp/udpio.test" -test.run '^TestVethPeer$' -test.count=1 >"$log" 2>&1 &
	rpid=$!
	for _ in $(seq 200); do
		grep -q READY "$log" && break
		sleep 0.05
	done
	grep -q READY "$log" || { echo "receiver did not start:"; cat "$log"; exit 1; }
	ip netns exec "$ns_a" env SKIFF_VETH_ROLE=send SKIFF_VETH_MODE="$mode" \
		SKIFF_VETH_ADDR=198.18.0.2:4433 SKIFF_VETH_BYTES="$bytes" \
		"$tmp/udpio.test" -test.run '^TestVethPeer$' -test.count=1 >"$tmp/send-$mode.log" 2>&1 ||
		{ echo "sender failed:"; cat "$tmp/send-$mode.log"; exit 1; }
	wait "$rpid" || { echo "receiver failed:"; cat "$log"; exit 1; }
	rpid=
	line=$(grep RESULT "$log")
	echo "$line  (sent $bytes bytes)"
	gbps[$mode]=$(sed -n 's/.*gbit\/s=\([0-9.]*\).*/\1/p' <<<"$line")
done
awk -v u="${gbps[udpio]}" -v p="${gbps[plain]}" 'BEGIN { if (p > 0) printf "udpio / plain = %.1fx\n", u / p }'
