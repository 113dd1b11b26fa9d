# skiff — the commands a user and CI run. `make test` is what .ci/run calls.

GO          ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 2000x
LONGFUZZ    ?= 2m
BENCHTIME   ?= 1s
SOAKTIME    ?= 10m

.PHONY: all test fmt vet staticcheck unit fuzz-short fuzz bench demo build interop soak

all: test

build:
	$(GO) build ./...
	cd interop && $(GO) build ./...

# test: formatting, vet, staticcheck, race-enabled tests of both modules,
# and a short run of every fuzz target.
test: fmt vet staticcheck unit fuzz-short

fmt:
	@out=$$(gofmt -l . ); if [ -n "$$out" ]; then echo "gofmt -l lists:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd interop && $(GO) vet ./...

staticcheck:
	$(STATICCHECK) ./...
	cd interop && $(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 ./...
	cd interop && $(GO) test -race -count=1 ./...
	# Without the race detector: the perf interop tests move 1 GiB each way, and
	# the endpoint pairs include quic-go's 0-RTT client (racy under -race upstream).
	cd interop && $(GO) test -count=1 ./perfinterop/ ./endpoint/
	# Without the race detector, whose shadow allocations and dropped pool
	# items make these figures meaningless (they skip under it): heap per
	# idle connection, allocations per packet and per HTTP/3 request.
	$(GO) test -count=1 -run '^(TestIdleConnHeap|TestSteadyStateAllocsPerPacket|TestSteadyStateAllocsPerPacketBBR)$$' ./quic/
	$(GO) test -count=1 -run '^TestRequestAllocs$$' ./h3/

fuzz-short:
	scripts/fuzz.sh $(FUZZTIME)

# fuzz: every target for longer (LONGFUZZ each).
fuzz:
	scripts/fuzz.sh $(LONGFUZZ)

# soak: legitimate and hostile traffic at once against an h3.Server and a
# QUIC echo server on loopback for SOAKTIME (10m; SOAKEVERY sets the
# timeline's period, 30s), then checks that goroutines, heap and file
# descriptors are flat (quic/internal/hostile/soak_test.go). Not part of
# `make test`.
soak:
	SKIFF_SOAK=$(SOAKTIME) SKIFF_SOAK_EVERY=$(or $(SOAKEVERY),30s) $(GO) test -run '^TestSoak$$' -count=1 -v -timeout 0 ./quic/internal/hostile/

# bench: the packet-path suites of the main module, then the side-by-side
# report against quic-go and TCP+TLS (SKIFF_BENCH_BYTES, default 1 GiB),
# then the same bulk transfers across a veth pair (root only; it says so
# and skips otherwise).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...
	cd interop && $(GO) run ./cmd/benchreport
	udpio/vethbench.sh
	interop/bench/vethbench.sh

# interop: the QUIC Interop Runner's test cases, skiff's and quic-go's
# endpoints in every server/client pairing, through a userspace relay that
# reproduces each case's network, in network namespaces (root) or else on
# loopback; prints the matrix. INTEROPFLAGS passes options, e.g.
# INTEROPFLAGS='-cases handshake,retry -pairs skiff:quic-go'.
interop:
	cd interop && $(GO) run ./cmd/interop $(INTEROPFLAGS)

# demo: skiff serve on a temporary directory and skiff get three times with
# one alt-svc file (TCP, then HTTP/3, then TCP again once the HTTP/3 port is
# closed), then bulk transfers over HTTP/3. Loopback only.
demo:
	$(GO) run ./cmd/skiff demo
