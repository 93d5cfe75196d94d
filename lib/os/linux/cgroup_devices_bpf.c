// SPDX-License-Identifier: Apache-2.0
/* Device access on cgroup v2: builds, loads and attaches a BPF_CGROUP_DEVICE program. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup_devices_bpf.h"

#define MAX_OLD_PROGS 64
#define LOG_SIZE 65536

/* A growable instruction buffer. */
struct prog {
	struct bpf_insn *insns;
	size_t n, cap;
	bool oom;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->oom)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct bpf_insn *n = realloc(p->insns, cap * sizeof(*n));

		if (!n) {
			p->oom = true;
			return;
		}
		p->insns = n;
		p->cap = cap;
	}
	p->insns[p->n++] =
	    (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

/* Instructions of the program (registers: r2 type, r3 access, r4 major, r5 minor). */
#define LDX_W(p, dst, src, off) emit(p, BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(p, op, dst, imm) emit(p, BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_REG(p, dst, src) emit(p, BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(p, dst, imm) emit(p, BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_IMM(p, op, dst, imm) emit(p, BPF_JMP | (op) | BPF_K, dst, 0, 0, imm)
#define JMP_REG(p, op, dst, src) emit(p, BPF_JMP | (op) | BPF_X, dst, src, 0, 0)
#define EXIT(p) emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Returns the BPF_DEVCG_ACC_* bits of an access string ("" means all), or -1. */
static int access_bits(const char *s)
{
	int bits = 0;

	for (; *s; s++) {
		if (*s == 'r')
			bits |= BPF_DEVCG_ACC_READ;
		else if (*s == 'w')
			bits |= BPF_DEVCG_ACC_WRITE;
		else if (*s == 'm')
			bits |= BPF_DEVCG_ACC_MKNOD;
		else
			return -1;
	}
	return bits ? bits : BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
}

static bool is_deny_all(const struct lim_device_rule *r)
{
	return !r->allow && r->type == 'a' && r->major < 0 && r->minor < 0 &&
	       access_bits(r->access) ==
		   (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD);
}

/* Emits one rule: jumps past itself unless the request matches, else returns its verdict. */
static void emit_rule(struct prog *p, const struct lim_device_rule *r, int acc)
{
	const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
	size_t start = p->n;

	if (r->type != 'a')
		JMP_IMM(p, BPF_JNE, BPF_REG_2,
			r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
	if (acc != all) {
		MOV64_REG(p, BPF_REG_1, BPF_REG_3);
		ALU32_IMM(p, BPF_AND, BPF_REG_1, acc);
		if (r->allow)
			JMP_REG(p, BPF_JNE, BPF_REG_1, BPF_REG_3); /* asks for more than allowed */
		else
			JMP_IMM(p, BPF_JEQ, BPF_REG_1, 0); /* asks for none of the denied */
	}
	if (r->major >= 0)
		JMP_IMM(p, BPF_JNE, BPF_REG_4, (int32_t)r->major);
	if (r->minor >= 0)
		JMP_IMM(p, BPF_JNE, BPF_REG_5, (int32_t)r->minor);
	MOV64_IMM(p, BPF_REG_0, r->allow ? 1 : 0);
	EXIT(p);
	if (p->oom)
		return;
	/* Every conditional jump of the block goes to the instruction after it. */
	for (size_t i = start; i < p->n; i++)
		if (BPF_CLASS(p->insns[i].code) == BPF_JMP && BPF_OP(p->insns[i].code) != BPF_EXIT)
			p->insns[i].off = (int16_t)(p->n - i - 1);
}

/* Checks a rule's fields; returns its access bits or -1 with *err. */
static int check_rule(const struct lim_device_rule *r, size_t i, ferry_err_t *err)
{
	int acc = access_bits(r->access);

	if (r->type != 'a' && r->type != 'c' && r->type != 'b')
		return ferry_error(err, EINVAL, "device rule %zu: type '%c' is not a, b or c", i,
				   r->type);
	if (acc < 0)
		return ferry_error(err, EINVAL, "device rule %zu: access '%s' is not within rwm", i,
				   r->access);
	if (r->major > INT32_MAX || r->minor > INT32_MAX)
		return ferry_error(err, EINVAL, "device rule %zu: number out of range", i);
	return acc;
}

int lx_devbpf_build(const struct lim_device_rule *rules, size_t n, struct bpf_insn **insns,
		    size_t *n_insns, ferry_err_t *err)
{
	struct prog p = {0};
	bool deny_default = n > 0 && is_deny_all(&rules[0]);

	for (size_t i = 0; i < n; i++)
		if (check_rule(&rules[i], i, err) < 0)
			return -1;
	/* struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } in r1. */
	LDX_W(&p, BPF_REG_2, BPF_REG_1, 0);
	ALU32_IMM(&p, BPF_AND, BPF_REG_2, 0xffff);
	LDX_W(&p, BPF_REG_3, BPF_REG_1, 0);
	ALU32_IMM(&p, BPF_RSH, BPF_REG_3, 16);
	LDX_W(&p, BPF_REG_4, BPF_REG_1, 4);
	LDX_W(&p, BPF_REG_5, BPF_REG_1, 8);
	/* Last match wins: test the rules from the end; the leading deny-all is the default. */
	for (size_t i = n; i > (deny_default ? 1 : 0); i--)
		emit_rule(&p, &rules[i - 1], access_bits(rules[i - 1].access));
	MOV64_IMM(&p, BPF_REG_0, deny_default ? 0 : 1);
	EXIT(&p);
	if (p.oom) {
		free(p.insns);
		return ferry_error(err, ENOMEM, "device program");
	}
	*insns = p.insns;
	*n_insns = p.n;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Loads the program; on a verifier refusal the error carries the first line of its log. */
static int load(const struct bpf_insn *insns, size_t n, ferry_err_t *err)
{
	_cleanup_free_ char *log = NULL;
	union bpf_attr attr;
	int fd, errnum;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uintptr_t) "Apache";
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	errnum = errno;
	if (errnum == EINVAL || errnum == EACCES) {
		log = calloc(1, LOG_SIZE);
		if (log) {
			attr.log_buf = (uintptr_t)log;
			attr.log_size = LOG_SIZE;
			attr.log_level = 1;
			fd = sys_bpf(BPF_PROG_LOAD, &attr);
			if (fd >= 0)
				return fd;
			log[strcspn(log, "\n")] = '\0';
			return ferry_error(err, errnum, "load device program (%s)", log);
		}
	}
	return ferry_error(err, errnum, "load device program");
}

/* Fills ids with the device programs attached to the cgroup; returns their number or -1. */
static int query(int cgfd, uint32_t *ids, uint32_t max, ferry_err_t *err)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)cgfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uintptr_t)ids;
	attr.query.prog_cnt = max;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		return ferry_error_errno(err, "query device programs");
	return (int)attr.query.prog_cnt;
}

static int detach(int cgfd, uint32_t id, ferry_err_t *err)
{
	_cleanup_close_ int fd = -1;
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0)
		return errno == ENOENT ? 0 : ferry_error_errno(err, "device program %u", id);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
		return ferry_error_errno(err, "detach device program %u", id);
	return 0;
}

int lx_devbpf_apply(const char *dir, const struct lim_device_rule *rules, size_t n,
		    ferry_err_t *err)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_close_ int cgfd = -1, progfd = -1;
	uint32_t old[MAX_OLD_PROGS];
	union bpf_attr attr;
	size_t n_insns = 0;
	int n_old;

	if (lx_devbpf_build(rules, n, &insns, &n_insns, err) < 0)
		return ferry_error_wrap(err, "cgroup %s", dir);
	cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return ferry_error_errno(err, "open %s", dir);
	n_old = query(cgfd, old, MAX_OLD_PROGS, err);
	if (n_old < 0 || (progfd = load(insns, n_insns, err)) < 0)
		return ferry_error_wrap(err, "cgroup %s", dir);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)progfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return ferry_error_errno(err, "attach device program to %s", dir);
	/* The new program is in force: the old ones would only deny more. */
	for (int i = 0; i < n_old; i++)
		if (detach(cgfd, old[i], err) < 0)
			return ferry_error_wrap(err, "cgroup %s", dir);
	return 0;
}
