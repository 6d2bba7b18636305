# sockspan: eBPF socket tracing -> Zipkin spans.
#   make            build build/sockspan
#   make run        trace this node, spans to stdout (ARGS="..." for options)
#   make test       unit tests (ASan/UBSan), fuzz smoke, integration tests
#   make deps       install the Debian packages build, run and tests need
#   make fuzz       run every fuzzer for FUZZ_SECONDS each
#   make bench      tracing overhead on nginx, side by side
#   make vmlinux    regenerate vmlinux/<arch>/vmlinux.h from this kernel's BTF
# V=1 shows the commands.

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BUILD := build
SHELL := /bin/bash
CC := gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PYTHON ?= /usr/bin/python3
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10

CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror
CPPFLAGS := -Iinclude -Iuser -I$(BUILD)
LDLIBS := -lbpf -lelf -lz -lcjson -lnghttp2 -lcurl -lprotobuf-c -lmicrohttpd -lpthread
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Everything make deps installs: build, run and test needs.
DEB_PACKAGES := make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
	libcjson-dev libnghttp2-dev libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler \
	libmicrohttpd-dev libcriterion-dev pkg-config curl iproute2 nginx wrk \
	nghttp2-client nghttp2-server redis-server redis-tools protobuf-compiler \
	python3 python3-pytest python3-jsonschema python3-yaml python3-requests \
	python3-redis python3-grpcio python3-protobuf python3-prometheus-client

USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
TEST_OBJS := $(patsubst user/%.c,$(BUILD)/test-obj/%.o,$(USER_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
SKEL := $(BUILD)/sockspan.skel.h
HEADERS := $(wildcard include/*.h user/*.h)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all run test unit fuzz fuzz-smoke integration bench deps vmlinux clean
all: $(BUILD)/sockspan

$(BUILD)/sockspan.bpf.o: bpf/sockspan.bpf.c include/sockspan_event.h vmlinux/$(ARCH)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-Ivmlinux/$(ARCH) -Iinclude -c $< -o $@

$(SKEL): $(BUILD)/sockspan.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name sockspan_bpf > $@

$(BUILD)/obj/%.o: user/%.c $(HEADERS) $(SKEL) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/sockspan: $(BUILD)/obj/main.o $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Unit tests link the same sources, built with AddressSanitizer and UBSan.
$(BUILD)/test-obj/%.o: user/%.c $(HEADERS) $(SKEL) | $(BUILD)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(TEST_OBJS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN) $^ $(LDLIBS) -lcriterion -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(USER_SRCS) $(HEADERS) $(SKEL)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(CPPFLAGS) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		$< $(USER_SRCS) $(LDLIBS) -o $@

$(BUILD):
	$(Q)mkdir -p $@

run: deps $(BUILD)/sockspan
	./$(BUILD)/sockspan $(ARGS)

test: deps unit fuzz-smoke integration

# Every binary runs; the target fails at the end if any failed.
unit: $(UNIT_TESTS)
	$(Q)failed=; for t in $(UNIT_TESTS); do echo "== $$t"; $$t --jobs 1 || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "failed:$$failed"; exit 1; fi

# Each fuzzer briefly, from its seed corpus (copied: a run adds to the corpus).
fuzz-smoke: $(FUZZERS)
	$(Q)set -e; for f in $(FUZZERS); do n=$$(basename $$f | sed 's/^fuzz_//'); \
		rm -rf $(BUILD)/corpus/$$n; mkdir -p $(BUILD)/corpus/$$n; \
		cp -r tests/fuzz/corpus/$$n/. $(BUILD)/corpus/$$n/ 2>/dev/null || true; \
		echo "== $$f ($(FUZZ_SMOKE_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SMOKE_SECONDS) -print_final_stats=0 $(BUILD)/corpus/$$n 2>&1 | tail -n 2; \
		test $${PIPESTATUS[0]} -eq 0; done

fuzz: $(FUZZERS)
	$(Q)set -e; for f in $(FUZZERS); do n=$$(basename $$f | sed 's/^fuzz_//'); \
		mkdir -p tests/fuzz/corpus/$$n; $$f -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus/$$n; done

integration: $(BUILD)/sockspan
	$(PYTHON) -m pytest -v tests/integration

bench: deps $(BUILD)/sockspan
	$(PYTHON) tests/bench/bench_http1.py

# Installs only what is missing, so it is cheap to depend on.
deps:
	$(Q)missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install:" $$missing >&2; exit 1; fi; \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

vmlinux:
	mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux.h

clean:
	rm -rf $(BUILD)

# Keep intermediate objects (the sanitizer builds) between runs.
.SECONDARY:
