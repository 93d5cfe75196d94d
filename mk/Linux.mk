# The Linux backend.
OS_SRCS := $(wildcard lib/os/linux/*.c)
LDLIBS += -lcap -lseccomp
