# The self-checking workloads of the checkpoint/restore tests (tests/workloads/NAME.c), built into
# $(B)/workloads/NAME; tests/e2e/workloads.t runs each one. Plain programs: no ferry library.
WORKLOAD_SRCS := $(wildcard tests/workloads/*.c)
WORKLOAD_BINS := $(WORKLOAD_SRCS:tests/workloads/%.c=$(B)/workloads/%)
WORKLOAD_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -D_GNU_SOURCE= -pthread

.PHONY: workloads
workloads: $(WORKLOAD_BINS)
all: $(WORKLOAD_BINS)

$(B)/workloads/%: tests/workloads/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WORKLOAD_CFLAGS) -o $@ $< -lm
