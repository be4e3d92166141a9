# Thin driver over Meson.  `make` builds build/cordon; see README for the rest.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MESON      ?= meson

.PHONY: all deps test-deps asan fuzz unit check demo clean format bench

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

$(ASAN_BUILD)/build.ninja:
	$(MESON) setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

$(FUZZ_BUILD)/build.ninja:
	CC=clang $(MESON) setup $(FUZZ_BUILD) --buildtype=debug -Dfuzz=true -Dunit_tests=false \
	    -Db_sanitize=address,undefined -Db_lundef=false

deps:
	scripts/deps.sh runtime

test-deps:
	scripts/deps.sh test

asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)

unit: all
	$(MESON) test -C $(BUILD) --suite unit --print-errorlogs

demo: deps all
	demo/demo.sh $(BUILD)/cordon

check: test-deps
	scripts/check.sh

bench: all
	bench/bench.sh $(BUILD)/cordon

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
