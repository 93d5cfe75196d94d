# The code ferry runs inside a process it dumps (lib/os/linux/parasite/): built freestanding and
# position independent, linked to a flat binary, and turned into a header of bytes under
# $(B)/parasite/ that lib/os/linux/parasite.c includes (without it, dumps read pages by copy).
PARASITE_DIR := lib/os/linux/parasite
PARASITE_GEN := $(B)/parasite
PARASITE_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib -fPIC \
	-fno-stack-protector -fno-builtin -mgeneral-regs-only -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fcf-protection=none -fno-jump-tables -I$(PARASITE_DIR)
PARASITE_OBJS := $(PARASITE_GEN)/entry.o $(PARASITE_GEN)/blob.o $(PARASITE_GEN)/crc_fold.o
# The folding CRC32C uses the vector registers (AVX-512, VPCLMULQDQ): its one file is built with
# them; it runs only where crc_fold_usable() says so.
PARASITE_SIMD_CFLAGS := $(filter-out -mgeneral-regs-only,$(PARASITE_CFLAGS)) -mavx512f -mavx512vl \
	-mavx512bw -mvpclmulqdq -mpclmul -msse4.2

CFLAGS += -I$(PARASITE_GEN)

$(PARASITE_GEN)/%.o: $(PARASITE_DIR)/%.c $(PARASITE_DIR)/proto.h $(PARASITE_DIR)/crc_fold.h
	@mkdir -p $(PARASITE_GEN)
	$(CC) $(PARASITE_CFLAGS) -c -o $@ $<

$(PARASITE_GEN)/crc_fold.o: $(PARASITE_DIR)/crc_fold.c $(PARASITE_DIR)/crc_fold.h
	@mkdir -p $(PARASITE_GEN)
	$(CC) $(PARASITE_SIMD_CFLAGS) -c -o $@ $<

$(PARASITE_GEN)/%.o: $(PARASITE_DIR)/%.S
	@mkdir -p $(PARASITE_GEN)
	$(CC) $(PARASITE_CFLAGS) -c -o $@ $<

# No relocation may be left: the blob runs wherever the process maps it.
$(PARASITE_GEN)/parasite.elf: $(PARASITE_OBJS) $(PARASITE_DIR)/blob.lds
	ld -nostdlib -static -T $(PARASITE_DIR)/blob.lds -o $@ $(PARASITE_OBJS)
	@! readelf -r $@ | grep -q 'R_X86_64' || { echo "parasite: relocations left" >&2; exit 1; }

$(PARASITE_GEN)/parasite.bin: $(PARASITE_GEN)/parasite.elf
	objcopy -O binary --only-section=.text $< $@

$(PARASITE_GEN)/parasite_blob.h: $(PARASITE_GEN)/parasite.bin
	{ echo '/* Generated from $(PARASITE_DIR) by mk/parasite.mk. */'; \
	  echo 'static const unsigned char parasite_blob[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@

$(B)/lib/os/linux/parasite.o: $(PARASITE_GEN)/parasite_blob.h
