# The checkpoint image schemas (lib/image/proto/*.proto), compiled by protoc-c into $(B)/proto/.
# Generated sources stay out of the source tree; lib/image includes them as "<name>.pb-c.h".
PROTOC_C ?= protoc-c
PROTO_DIR := lib/image/proto
PROTO_GEN := $(B)/proto
PROTO_FILES := $(wildcard $(PROTO_DIR)/*.proto)
PROTO_SRCS := $(PROTO_FILES:$(PROTO_DIR)/%.proto=$(PROTO_GEN)/%.pb-c.c)
PROTO_HDRS := $(PROTO_SRCS:.c=.h)
PROTO_OBJS := $(PROTO_SRCS:.c=.o)

CFLAGS += -I$(PROTO_GEN)
LDLIBS += -lprotobuf-c

# One protoc-c run makes every .pb-c.c and .pb-c.h (imports resolve across files).
$(PROTO_GEN)/.stamp: $(PROTO_FILES)
	@mkdir -p $(PROTO_GEN)
	$(PROTOC_C) --proto_path=$(PROTO_DIR) --c_out=$(PROTO_GEN) $(PROTO_FILES)
	@touch $@

$(PROTO_SRCS) $(PROTO_HDRS): $(PROTO_GEN)/.stamp ;

$(PROTO_GEN)/%.pb-c.o: $(PROTO_GEN)/%.pb-c.c $(PROTO_HDRS)
	$(CC) $(CFLAGS) -Wno-unused-parameter -c -o $@ $<

$(B)/libferry.a: $(PROTO_OBJS)

# Everything under lib/image needs the generated headers before it compiles.
$(patsubst %.c,$(B)/%.o,$(wildcard lib/image/*.c)): | $(PROTO_HDRS)
