# Worktrace: the README's commands. `make run` and `make test` install what they need.
SHELL := /bin/bash
CARGO ?= cargo
# The macOS compile check of the sensor modules needs clang as the C compiler for that target.
export CC_aarch64_apple_darwin ?= clang
# CI builds once from a fresh clone: incremental caches would only cost disk there.
ifdef CI
export CARGO_INCREMENTAL := 0
endif

.PHONY: run run-agent test check deps deny ui ui-check lint check-platforms windows package bench bindings server fuzz

deps:
	@scripts/deps.sh

## Starts the desktop app: the window, and the tray process (worktrace-tray) that keeps tracking
## into the user's data directory when the window is closed (no server needed).
run: deps ui
	$(CARGO) build --release -p worktrace-desktop --bin worktrace-desktop -p worktrace-app --bin worktrace-tray
	./target/release/worktrace-desktop

## The same tracking without a window: the agent in the foreground of a terminal.
run-agent: deps
	$(CARGO) build --release -p worktrace-agent --bin worktrace
	./target/release/worktrace run --clock-in

## Builds both front ends into ui/dist (the desktop app and the server embed them).
ui: ui/node_modules/.package-lock.json
	cd ui && npm run build

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund

## Type check, lint/format check and unit tests of the front ends.
ui-check: ui/node_modules/.package-lock.json
	cd ui && npm run check

## The Windows agent and tray, built here with mingw-w64 (target/x86_64-pc-windows-gnu/debug/);
## the tests run it under Wine.
windows: deps
	$(CARGO) build --target x86_64-pc-windows-gnu -p worktrace-agent --bin worktrace -p worktrace-app --bin worktrace-tray

## The installers, into target/package/: the Windows MSI (per machine; scripts/package-msi.sh
## builds it from packaging/windows/worktrace.wxs with wixl) and the Linux .deb and .rpm packages
## of the agent, the desktop app and the server (scripts/package-deb.sh, scripts/package-rpm.sh).
## docs/deployment.md says how to roll them out.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
package: deps ui
	$(CARGO) build --release --target x86_64-pc-windows-gnu -p worktrace-agent --bin worktrace -p worktrace-app --bin worktrace-tray
	scripts/package-msi.sh target/x86_64-pc-windows-gnu/release $(VERSION) target/package/worktrace-$(VERSION)-x64.msi
	$(CARGO) build --release -p worktrace-agent --bin worktrace -p worktrace-app --bin worktrace-tray -p worktrace-desktop --bin worktrace-desktop -p worktrace-server --bin worktrace-server
	scripts/package-deb.sh target/release $(VERSION) target/package
	scripts/package-rpm.sh target/release $(VERSION) target/package

## Licences, duplicate crate versions and crate sources of the dependency tree against deny.toml
## (about 2 s). Works offline once the crates are downloaded; advisories are not checked (deny.toml
## says why). Installs cargo-deny through scripts/deps.sh when it is missing.
deny:
	@command -v cargo-deny >/dev/null 2>&1 || scripts/deps.sh
	$(CARGO) fetch
	$(CARGO) deny --offline check licenses bans sources

## The fast inner loop while editing (about 1.5 minutes when warm): the dependency checks,
## formatting, lints of the workspace, and the tests of the pure crates (domain, tracker, store).
## `make test` before a commit.
check: deny
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test -p worktrace-domain -p worktrace-tracker -p worktrace-store --lib

## Every check and every test; what CI runs.
## A test program that runs over TEST_LIMIT seconds (the longest takes about 4 minutes) is
## stopped and fails the run, so that a test that hangs says so instead of using up CI's time;
## the test that hung is the one cargo last reported "has been running for over 60 seconds".
TEST_LIMIT ?= 1200
test: export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER = timeout --kill-after=30 $(TEST_LIMIT)
test: deps deny ui ui-check lint check-platforms windows
	# The server's tests include the fuzzing (batch_fuzz, policy_fuzz, and schema_fuzz, which runs
	# scripts/schemathesis.sh for about 80 s).
	$(CARGO) test --workspace --lib --bins --tests --examples
	# Every benchmark runs once as a smoke test: criterion's once-through mode, and the server's
	# load programs with a few uploads and requests (they fail on any error; `make bench` measures).
	$(CARGO) test -p worktrace-agent -p worktrace-store --benches
	WT_BENCH_SAMPLES=3 WT_BENCH_REST_SECS=1 $(CARGO) test -p worktrace-exports --benches
	WORKTRACE_BENCH_SMOKE=1 $(CARGO) test -p worktrace-server --benches
	$(CARGO) test --workspace --doc

lint: ui
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	# The Windows-only modules (sensors, export detection, the agent's wiring) are linted too.
	$(CARGO) clippy --target x86_64-pc-windows-gnu -p worktrace-sensors -p worktrace-exports -p worktrace-agent -p worktrace-app -- -D warnings

## The agent, the desktop app and their OS modules (sensors, export detection) for Windows and
## macOS must keep compiling (they cannot be
## linked here). SQLite's bundled C source needs each platform's SDK, which this machine lacks, so
## these checks use the linked-library path of libsqlite3-sys: type-checking needs only the Rust side.
check-platforms:
	LIBSQLITE3_SYS_USE_PKG_CONFIG=1 $(CARGO) check -p worktrace-sensors -p worktrace-exports -p worktrace-agent -p worktrace-app -p worktrace-desktop --target x86_64-pc-windows-msvc
	LIBSQLITE3_SYS_USE_PKG_CONFIG=1 $(CARGO) check -p worktrace-sensors -p worktrace-exports -p worktrace-agent -p worktrace-app -p worktrace-desktop --target aarch64-apple-darwin

bench:
	$(CARGO) bench --workspace

## The fuzz tests alone (`make test` runs them too): proptest over the batch and policy parsers,
## then schemathesis over the OpenAPI document against a real server (about 80 s).
fuzz: deps ui
	$(CARGO) test -p worktrace-server --test batch_fuzz --test policy_fuzz --test schema_fuzz -- --nocapture

## Regenerates ui/src/bindings/: domain.ts and desktop.ts from the Rust types, server.ts from the
## server's OpenAPI document.
bindings:
	WORKTRACE_UPDATE_BINDINGS=1 $(CARGO) test -p worktrace-domain -p worktrace-app bindings
	WORKTRACE_UPDATE_BINDINGS=1 $(CARGO) test -p worktrace-server --lib bindings

## Starts the company server with its embedded SQLite database on 127.0.0.1:8900.
server: ui
	$(CARGO) run --release -p worktrace-server --bin worktrace-server -- serve
