# ferry: GNU make. `make` builds ./ferry; `make check` installs what is needed and runs every test.
OS ?= $(shell uname -s)
CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Werror=implicit-function-declaration -Werror=incompatible-pointer-types \
	-D_GNU_SOURCE -Ulinux -Iinclude -Ilib -I. -MMD -MP
# A static binary: no dynamic loading on every `create`, `start` and `delete` (a third of the
# time of `run` on a VM).
LDFLAGS ?= -static
LDLIBS := -ljansson
B := build
.DEFAULT_GOAL := all

PORTABLE_SRCS := $(wildcard lib/core/*.c lib/limits/*.c lib/image/*.c lib/cr/*.c lib/migrate/*.c)
include mk/$(OS).mk
# The code ferry runs inside a process it dumps (zero-copy pages): Linux on x86-64 only.
ifeq ($(OS)-$(shell uname -m),Linux-x86_64)
include mk/parasite.mk
endif
include mk/proto.mk
include mk/workloads.mk

LIB_SRCS := $(PORTABLE_SRCS) $(OS_SRCS)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
CLI_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard cli/*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%.t,$(wildcard tests/unit/*.c))
TOOL_BINS := $(patsubst tests/tools/%.c,tests/tools/%,$(wildcard tests/tools/*.c))

.PHONY: all check demo bench clean deps format portable-check
all: ferry $(TOOL_BINS)

ferry: $(CLI_OBJS) $(B)/libferry.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(B)/libferry.a $(LDLIBS)

$(B)/libferry.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/unit/%.t: $(B)/tests/unit/%.o $(B)/libferry.a
	$(CC) $(CFLAGS) -o $@ $< $(B)/libferry.a $(LDLIBS)

tests/tools/%: $(B)/tests/tools/%.o $(B)/libferry.a
	$(CC) $(CFLAGS) -o $@ $< $(B)/libferry.a $(LDLIBS)

deps:
	@scripts/install-deps

# Portable layers must not include OS headers (DESIGN.md).
portable-check:
	@! grep -rnE '#include <(linux/|sys/jail\.h|sys/rctl\.h|sys/ptrace\.h|sys/prctl\.h|sys/mount\.h|sys/capability\.h|seccomp\.h)' \
		lib/core lib/limits lib/image lib/cr lib/migrate include 2>/dev/null \
		|| { echo "OS headers in portable layers" >&2; exit 1; }

check: deps
	$(MAKE) all $(UNIT_BINS)
	$(MAKE) portable-check
	tests/tools/subreaper prove --exec '' -r $(PROVE_FLAGS) $(B)/tests/unit tests/e2e

demo: deps
	$(MAKE) all
	scripts/demo

bench: deps
	$(MAKE) all
	bench/run-latency

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B) ferry $(TOOL_BINS)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
