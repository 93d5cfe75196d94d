// SPDX-License-Identifier: Apache-2.0
/*
 * linux.seccomp on the real kernel: each filter is compiled in the test process (as the runtime
 * does), loaded in a forked child, and the child's syscalls show what the kernel enforces. The
 * child reports through its exit code, since a filter may deny write.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* gnu11 predefines `linux`, which ferry/spec.h uses as a member name. */
#undef linux

#include "core/cleanup.h"
#include "os/linux/security.h"
#include "tap.h"

enum prep { PREP_NONE, PREP_DROP_CAPS, PREP_NNP_DROP_CAPS };

/* Child set-up before the load: none, drop every capability, or set no_new_privs then drop. */
static int child_prepare(enum prep prep)
{
	cap_t none;
	int rc;

	if (prep == PREP_NONE)
		return 0;
	if (prep == PREP_NNP_DROP_CAPS && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	none = cap_init();
	rc = none ? cap_set_proc(none) : -1;
	cap_free(none);
	return rc;
}

/* Compiles sc here, loads it in a child and runs body there. Returns the child's exit code,
 * 128 + signal, 100 when the load failed (*load_err gets the message), or -1. */
static int run_filtered(const struct ferry_seccomp *sc, enum prep prep, int (*body)(void),
			char **load_err)
{
	struct lx_seccomp *f = NULL;
	_cleanup_err_ ferry_err_t e = NULL;
	int p[2], status;
	pid_t pid;

	if (lx_seccomp_prepare(sc, &f, &e) < 0) {
		diag("prepare: %s", e->msg);
		return -1;
	}
	if (pipe(p) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (child_prepare(prep) < 0)
			_exit(101);
		if (lx_seccomp_load(f, &e) < 0) {
			(void)!write(p[1], e->msg, strlen(e->msg));
			_exit(100);
		}
		_exit(body());
	}
	close(p[1]);
	lx_seccomp_free(f);
	if (load_err) {
		char buf[512];
		ssize_t n = read(p[0], buf, sizeof(buf) - 1);

		*load_err = n > 0 ? strndup(buf, (size_t)n) : NULL;
	}
	close(p[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Exit codes of the bodies: 0 all as expected, otherwise the number of the first surprise. */
#define expect(n, cond)             \
	do {                        \
		if (!(cond))        \
			return (n); \
	} while (0)

static int body_getcwd_enosys_mkdir_eperm(void)
{
	char buf[256];

	errno = 0;
	expect(1, syscall(SYS_getcwd, buf, sizeof(buf)) == -1 && errno == 38);
	expect(2, syscall(SYS_mkdir, "/nonexistent-dir/x", 0700) == -1 && errno == EPERM);
	expect(3, getpid() > 0);
	return 0;
}

static char *n_getcwd[] = {"getcwd"}, *n_mkdir[] = {"mkdir"};
static char *n_personality[] = {"personality"}, *n_getpriority[] = {"getpriority"};

/* getcwd fails with ENOSYS (errnoRet 38), mkdir with the default EPERM; the rest is allowed. */
static struct ferry_seccomp errno_filter(void)
{
	static struct ferry_seccomp_rule rules[] = {
	    {.names = n_getcwd,
	     .n_names = 1,
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = 38},
	    {.names = n_mkdir, .n_names = 1, .action = "SCMP_ACT_ERRNO"},
	};

	return (struct ferry_seccomp){
	    .default_action = "SCMP_ACT_ALLOW", .rules = rules, .n_rules = 2};
}

static void test_errno_rule(void)
{
	struct ferry_seccomp sc = errno_filter();
	int rc = run_filtered(&sc, PREP_NONE, body_getcwd_enosys_mkdir_eperm, NULL);

	ok(rc == 0, "getcwd returns errnoRet 38, mkdir the default EPERM, the rest runs (rc %d)",
	   rc);
}

static int body_personality_ne(void)
{
	expect(1, personality(0xffffffff) == PER_LINUX);
	errno = 0;
	expect(2, personality(PER_LINUX) == -1 && errno == EPERM);
	return 0;
}

static int body_personality_or(void)
{
	expect(1, personality(0xffffffff) == PER_LINUX);
	expect(2, personality(PER_LINUX) == PER_LINUX);
	expect(3, personality(PER_LINUX32) == -1 && errno == EPERM);
	expect(4, personality(READ_IMPLIES_EXEC) == -1 && errno == EPERM);
	expect(5, personality(0xffffffff) == PER_LINUX);
	return 0;
}

static int body_personality_masked(void)
{
	expect(1, personality(0xffffffff) == PER_LINUX);
	expect(2, personality(PER_LINUX32) == -1 && errno == EPERM);
	expect(3, personality(PER_LINUX32 | READ_IMPLIES_EXEC) == -1 && errno == EPERM);
	expect(4, personality(PER_LINUX) == PER_LINUX);
	return 0;
}

static int body_getpriority_and(void)
{
	errno = 0;
	expect(1, syscall(SYS_getpriority, PRIO_PROCESS, 0x7ffffff0) == -1 && errno == EPERM);
	errno = 0;
	expect(2, syscall(SYS_getpriority, PRIO_PROCESS, 0) >= 0);
	errno = 0;
	expect(3, syscall(SYS_getpriority, PRIO_PGRP, 0x7ffffff0) == -1 && errno == ESRCH);
	return 0;
}

static void test_args(void)
{
	struct ferry_seccomp_arg ne[] = {{.index = 0, .value = 0xffffffff, .op = "SCMP_CMP_NE"}};
	struct ferry_seccomp_arg same_index[] = {
	    {.index = 0, .value = PER_LINUX32, .op = "SCMP_CMP_EQ"},
	    {.index = 0, .value = READ_IMPLIES_EXEC, .op = "SCMP_CMP_EQ"},
	};
	struct ferry_seccomp_arg masked[] = {
	    {.index = 0, .value = 0xff, .value_two = PER_LINUX32, .op = "SCMP_CMP_MASKED_EQ"}};
	struct ferry_seccomp_arg two_index[] = {
	    {.index = 0, .value = PRIO_PROCESS, .op = "SCMP_CMP_EQ"},
	    {.index = 1, .value = 0x7ffffff0, .op = "SCMP_CMP_EQ"},
	};
	struct ferry_seccomp_rule rule = {.names = n_personality,
					  .n_names = 1,
					  .action = "SCMP_ACT_ERRNO",
					  .args = ne,
					  .n_args = 1};
	struct ferry_seccomp sc = {
	    .default_action = "SCMP_ACT_ALLOW", .rules = &rule, .n_rules = 1};
	int rc;

	rc = run_filtered(&sc, PREP_NONE, body_personality_ne, NULL);
	ok(rc == 0,
	   "personality(0xffffffff) is allowed, personality(0) denied by SCMP_CMP_NE (rc %d)", rc);
	rule.args = same_index;
	rule.n_args = 2;
	rc = run_filtered(&sc, PREP_NONE, body_personality_or, NULL);
	ok(rc == 0, "two args on one index deny either value, allow others (rc %d)", rc);
	rule.args = masked;
	rule.n_args = 1;
	rc = run_filtered(&sc, PREP_NONE, body_personality_masked, NULL);
	ok(rc == 0, "SCMP_CMP_MASKED_EQ takes value as the mask and valueTwo as the result (rc %d)",
	   rc);
	rule.names = n_getpriority;
	rule.args = two_index;
	rule.n_args = 2;
	rc = run_filtered(&sc, PREP_NONE, body_getpriority_and, NULL);
	ok(rc == 0, "args on two indexes must both match (rc %d)", rc);
}

static int body_allow_list(void)
{
	errno = 0;
	expect(1, getpid() > 0);
	expect(2, syscall(SYS_getppid) == -1 && errno == 38);
	expect(3, syscall(SYS_getuid) == -1 && errno == 38);
	return 0;
}

static void test_default_errno(void)
{
	static char *allowed[] = {"getpid", "exit_group", "exit", "not_a_syscall_name"};
	static char *errno_default[] = {"getuid"};
	struct ferry_seccomp_rule rules[] = {
	    {.names = allowed, .n_names = 4, .action = "SCMP_ACT_ALLOW"},
	    /* the default action again: libseccomp refuses it, so it is skipped */
	    {.names = errno_default,
	     .n_names = 1,
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = 38},
	};
	struct ferry_seccomp sc = {.default_action = "SCMP_ACT_ERRNO",
				   .has_default_errno_ret = true,
				   .default_errno_ret = 38,
				   .rules = rules,
				   .n_rules = 2};
	int rc = run_filtered(&sc, PREP_NONE, body_allow_list, NULL);

	ok(rc == 0, "defaultAction ERRNO(38) with an allow list; unknown names skipped (rc %d)",
	   rc);
}

static int body_getcwd(void)
{
	char buf[256];

	errno = 0;
	if (syscall(SYS_getcwd, buf, sizeof(buf)) < 0)
		return errno == ENOSYS ? 38 : 1;
	return 0;
}

static void test_actions(void)
{
	struct ferry_seccomp_rule rule = {.names = n_getcwd, .n_names = 1};
	struct ferry_seccomp sc = {
	    .default_action = "SCMP_ACT_ALLOW", .rules = &rule, .n_rules = 1};
	int rc;

	rule.action = "SCMP_ACT_KILL_PROCESS";
	rc = run_filtered(&sc, PREP_NONE, body_getcwd, NULL);
	ok(rc == 128 + SIGSYS, "SCMP_ACT_KILL_PROCESS kills with SIGSYS (rc %d)", rc);
	rule.action = "SCMP_ACT_KILL";
	rc = run_filtered(&sc, PREP_NONE, body_getcwd, NULL);
	ok(rc == 128 + SIGSYS, "SCMP_ACT_KILL kills with SIGSYS (rc %d)", rc);
	rule.action = "SCMP_ACT_TRAP";
	rc = run_filtered(&sc, PREP_NONE, body_getcwd, NULL);
	ok(rc == 128 + SIGSYS, "SCMP_ACT_TRAP raises SIGSYS (rc %d)", rc);
	rule.action = "SCMP_ACT_TRACE";
	rc = run_filtered(&sc, PREP_NONE, body_getcwd, NULL);
	ok(rc == 38, "SCMP_ACT_TRACE without a tracer fails the call with ENOSYS (rc %d)", rc);
	rule.action = "SCMP_ACT_LOG";
	rc = run_filtered(&sc, PREP_NONE, body_getcwd, NULL);
	ok(rc == 0, "SCMP_ACT_LOG lets the call through (rc %d)", rc);
}

static void test_arches_flags(void)
{
	static char *arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
	static char *flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
				"SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
	struct ferry_seccomp_rule rules[] = {
	    {.names = n_getcwd,
	     .n_names = 1,
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = 38},
	    {.names = n_mkdir, .n_names = 1, .action = "SCMP_ACT_ERRNO"},
	};
	struct ferry_seccomp sc = {.default_action = "SCMP_ACT_ALLOW",
				   .architectures = arches,
				   .n_architectures = 3,
				   .flags = flags,
				   .n_flags = 3,
				   .rules = rules,
				   .n_rules = 2};
	int rc = run_filtered(&sc, PREP_NONE, body_getcwd_enosys_mkdir_eperm, NULL);

	ok(rc == 0,
	   "three architectures and the TSYNC, LOG, SPEC_ALLOW flags load and filter (rc %d)", rc);
}

static void test_load_order(void)
{
	struct ferry_seccomp sc = errno_filter();
	_cleanup_free_ char *msg = NULL;
	int rc;

	rc = run_filtered(&sc, PREP_DROP_CAPS, body_getcwd_enosys_mkdir_eperm, &msg);
	ok(rc == 100, "without no_new_privs and CAP_SYS_ADMIN the load fails (rc %d)", rc);
	is_str(msg,
		 "load the seccomp filter: without no_new_privs it needs CAP_SYS_ADMIN, so it must "
		 "be loaded before capabilities are dropped",
		 "the load error says which order works");
	rc = run_filtered(&sc, PREP_NNP_DROP_CAPS, body_getcwd_enosys_mkdir_eperm, NULL);
	ok(rc == 0, "with no_new_privs the filter loads after every capability is dropped (rc %d)",
	   rc);
	ok(lx_seccomp_load(NULL, NULL) == 0, "loading no filter is a no-op");
}

/* Expects lx_seccomp_validate (and lx_seccomp_prepare) to fail with exactly `want`. */
static void validate_fails(const struct ferry_seccomp *sc, const char *want, const char *what)
{
	_cleanup_err_ ferry_err_t e = NULL, e2 = NULL;
	struct lx_seccomp *f = (struct lx_seccomp *)&e; /* any non-NULL value */

	ok(lx_seccomp_validate(sc, &e) < 0, "validate refuses %s", what);
	is_str(e ? e->msg : NULL, want, "message for %s", what);
	ok(lx_seccomp_prepare(sc, &f, &e2) < 0 && !f, "prepare refuses %s too", what);
}

static void test_validate(void)
{
	static char *arch_bad[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
	static char *flag_bad[] = {"SECCOMP_FILTER_FLAG_NOPE"};
	static char *names[] = {"getcwd", "no_such_syscall"};
	struct ferry_seccomp_arg arg = {.index = 0, .value = 1, .op = "SCMP_CMP_EQ"};
	struct ferry_seccomp_rule rules[2] = {
	    {.names = names, .n_names = 2, .action = "SCMP_ACT_ERRNO"},
	    {.names = names, .n_names = 1, .action = "SCMP_ACT_LOG", .args = &arg, .n_args = 1},
	};
	struct ferry_seccomp sc = {
	    .default_action = "SCMP_ACT_ALLOW", .rules = rules, .n_rules = 2};
	_cleanup_err_ ferry_err_t e = NULL;
	struct lx_seccomp *f = NULL;

	ok(lx_seccomp_validate(&sc, &e) == 0, "a valid profile with an unknown syscall validates");
	ok(lx_seccomp_validate(NULL, &e) == 0, "no linux.seccomp validates");
	ok(lx_seccomp_prepare(NULL, &f, &e) == 0 && !f, "no linux.seccomp prepares no filter");

	sc.default_action = "SCMP_ACT_FOO";
	validate_fails(&sc, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"",
		       "an unknown default action");
	sc.default_action = "SCMP_ACT_NOTIFY";
	validate_fails(&sc,
		       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
		       "SCMP_ACT_NOTIFY as the default");
	sc.default_action = "SCMP_ACT_ALLOW";
	rules[1].action = "SCMP_ACT_NOTIFY";
	validate_fails(&sc,
		       "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY needs "
		       "linux.seccomp.listenerPath",
		       "SCMP_ACT_NOTIFY without listenerPath");
	sc.listener_path = "/run/listener.sock";
	validate_fails(&sc,
		       "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY (seccomp user "
		       "notification) is not supported yet",
		       "SCMP_ACT_NOTIFY");
	sc.listener_path = NULL;
	rules[1].action = "SCMP_ACT_LOG";
	arg.op = "SCMP_CMP_FOO";
	validate_fails(&sc,
		       "linux.seccomp.syscalls[1].args[0].op: unknown operator \"SCMP_CMP_FOO\"",
		       "an unknown operator");
	arg.op = "SCMP_CMP_EQ";
	arg.index = 6;
	validate_fails(&sc, "linux.seccomp.syscalls[1].args[0].index: 6 is out of range (0-5)",
		       "an argument index of 6");
	arg.index = 5;
	sc.architectures = arch_bad;
	sc.n_architectures = 2;
	validate_fails(&sc,
		       "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"",
		       "an unknown architecture");
	sc.n_architectures = 1;
	sc.flags = flag_bad;
	sc.n_flags = 1;
	validate_fails(&sc, "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"",
		       "an unknown flag");
	sc.n_flags = 0;
	rules[0].has_errno_ret = true;
	rules[0].errno_ret = 70000;
	validate_fails(
	    &sc, "linux.seccomp.syscalls[0].action: return value 70000 does not fit in 16 bits",
	    "an errnoRet above 65535");
	rules[0].has_errno_ret = false;
	ok(lx_seccomp_validate(&sc, &e) == 0, "the profile validates again once fixed");
}

int main(void)
{
	test_validate();
	test_errno_rule();
	test_args();
	test_default_errno();
	test_actions();
	test_arches_flags();
	test_load_order();
	return done_testing();
}
