# postwarden: a thin wrapper over scripts/install-deps and meson (see README.md).
#   make demo   install what the demo needs, build, run it (private Postfix + daemons)
#   make test   install build and test packages, build, run every test suite but soak
#   make soak   build with ASan+UBSan (build-asan, as make sanitize) and run the soak: mixed
#               mail through all four daemons for SOAK_SECONDS (default 1800), printing the
#               figures (tests/e2e/soak.sh; make sanitize, in CI, runs it for 120 s)
#   make bench  install those plus the peer tools it measures, build, run the benchmarks
#   make packages  install the packaging tools, build the .debs and rpms from HEAD into
#               build-packages/, lint them, install the .debs in a clean Debian 12 chroot
BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?= $(if $(CI),-Dwerror=true,)
MESON_TEST_OPTS ?= --print-errorlogs
SOAK_SECONDS ?= 1800
NINJA_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# --boot (default): boot the installed packages with systemd-nspawn (real socket activation);
# also --clean-build (build again in a chroot with only the Build-Depends), --no-rpm; or empty
PACKAGES_TEST_OPTS ?= --boot

.PHONY: all deps demo-deps bench-deps packages-deps build test demo bench packages fuzz sanitize soak format clean

all: build

deps:
	scripts/install-deps

demo-deps:
	scripts/install-deps --demo

bench-deps:
	scripts/install-deps --peers

packages-deps:
	scripts/install-deps --packages

build:
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) $(MESON_OPTS)
	ninja -C $(BUILD) -j $(NINJA_JOBS)

test: deps build
	meson test -C $(BUILD) $(MESON_TEST_OPTS) --no-suite soak

demo: demo-deps build
	scripts/demo $(BUILD)

bench: bench-deps build
	scripts/bench $(BUILD)

packages: packages-deps
	scripts/packages-test $(PACKAGES_TEST_OPTS) build-packages

fuzz:
	scripts/fuzz

sanitize:
	scripts/sanitize $(ASAN_BUILD)

# the soak's meson timeout is 900 s (the 120 s run of make sanitize); scaled for SOAK_SECONDS
soak:
	SOAK_SECONDS=$(SOAK_SECONDS) scripts/sanitize $(ASAN_BUILD) --suite soak --verbose \
		--timeout-multiplier $$(( $(SOAK_SECONDS) / 600 + 2 ))

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz build-packages
