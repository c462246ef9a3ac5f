# wasend's two commands: `make demo` runs the quickstart, `make test` runs
# every test. Both set up what they need on a Debian machine.
SHELL := /bin/bash
GO ?= go
TEST_TIMEOUT ?= 15m
# FLEET lists the sizes of BenchmarkFleet (logged-in contexts, at most 20
# browsers open) that make bench runs.
FLEET ?= 50,100,200

.PHONY: test unit vet bench bench-river demo serve chromium chaos chaos-short

# demo runs the quickstart: two WhatsApp Web sessions in headless Chromium
# against the project's local imitation of WhatsApp Web, with Redis and the
# store embedded. It installs Debian's chromium first if it is missing.
demo: chromium
	$(GO) run ./examples/quickstart

# serve runs the HTTP service and its dashboard on the embedded defaults
# (SQLite in a temporary folder, Redis in process, the local imitation of
# WhatsApp Web, whose phone scans every QR code). It prints the URL to open,
# token included: http://127.0.0.1:8080/?token=...
serve: chromium
	$(GO) run ./examples/server -fake-autoscan

chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	command -v google-chrome >/dev/null 2>&1 || { \
		echo "installing Debian's chromium"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# test installs/starts Chromium, Redis, PostgreSQL and MariaDB when missing,
# then runs go vet and the race-enabled tests with every integration
# service required (CI=true: an unreachable service fails, never skips),
# and then the fault-injection suite at half its volume (chaos-short: every
# fault still strikes while messages flow; they all strike in the first two
# minutes). `make chaos` runs the whole 2,000 messages.
test: unit chaos-short

# unit is test without the fault-injection suite (about 2 minutes).
unit:
	@eval "$$(scripts/test-env.sh)" && \
	export CI=true && \
	$(GO) vet ./... && \
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

vet:
	$(GO) vet ./...

# bench runs the benchmarks whose figures BENCHMARKS.md records.
bench:
	@eval "$$(scripts/test-env.sh)" && \
	$(GO) test -run '^$$' -bench BenchmarkPipeline -benchtime 20000x -count 3 ./internal/bench/ && \
	$(GO) test -run '^$$' -bench BenchmarkBrowser -benchtime 1x -timeout 20m ./internal/bench/ && \
	$(GO) test -run '^$$' -bench BenchmarkCampaignSimulated -benchtime 1x . && \
	WASEND_FLEET=$(FLEET) $(GO) test -run '^$$' -bench BenchmarkFleet -benchtime 1x -timeout 120m ./internal/bench/

# bench-river runs wasend's pipeline against River v0.51.2 on PostgreSQL in
# one run (internal/benchriver, a module of its own so that no user of
# wasend links River): 20,000 messages from 8 producers, no-op transport,
# each side in a fresh database, three rounds that rotate which goes first.
bench-river:
	@eval "$$(scripts/test-env.sh)" && cd internal/benchriver && \
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 3 -timeout 60m -group-commit 0 -baseline=false

# chaos runs the fault-injection suite (internal/chaos): 3 worker processes,
# 10 Chromes, 2,000 messages, with a worker, Redis, a Chrome and the
# database connection killed or cut mid-run, and a worker frozen past its
# lease. It fails unless every message
# arrived exactly once and every job finished. It is judged at quiescence,
# not at a deadline: it waits while messages flow (5 to 7 minutes on 2
# cores, about 10 at 3.4 msgs/s) and fails as stalled after 5 minutes with
# no progress (-stall), or as hung after 45 minutes in all (-cap).
chaos:
	@eval "$$(scripts/test-env.sh)" && $(GO) run ./internal/chaos

# chaos-short is chaos with 1,000 messages (500 singles, 25 bulk jobs of
# 20): the same faults at the same times, in half the time, so that make
# test stays under 15 minutes on a slow day (chaos ran at 3.5 msgs/s on
# 2026-12-07 afternoon, 7.7 in the morning).
chaos-short:
	@eval "$$(scripts/test-env.sh)" && $(GO) run ./internal/chaos -singles 500 -bulks 25
