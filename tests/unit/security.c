// SPDX-License-Identifier: Apache-2.0
/*
 * Process privileges on the real kernel: validation errors, the bounding set, user and groups,
 * E/P/I/ambient capabilities and rlimits. Every change of privileges runs in a forked child, so
 * the test process keeps its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* gnu11 predefines `linux`, which ferry/spec.h uses as a member name. */
#undef linux

#include "core/cleanup.h"
#include "os/linux/security.h"
#include "tap.h"

/* Runs fn in a forked child that writes its findings to fd; buf gets them. Returns the child's
 * exit code, or 128 + signal. */
static int in_child(int (*fn)(int fd, void *arg), void *arg, char *buf, size_t len)
{
	int p[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	buf[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		_exit(fn(p[1], arg));
	}
	close(p[1]);
	while (got + 1 < len && (n = read(p[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Writes an error's message to fd (for the parent to compare); returns 1. */
static int send_err(int fd, ferry_err_t e)
{
	const char *msg = e ? e->msg : "(no error message)";

	if (write(fd, msg, strlen(msg)) < 0)
		return 2;
	return 1;
}

/* Writes the value of a /proc/self/status field ("CapEff") to fd, then a newline. */
static void send_status_field(int fd, const char *key)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[512];
	size_t klen = strlen(key);

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) != 0 || line[klen] != ':')
			continue;
		char *v = line + klen + 1;

		v += strspn(v, " \t");
		dprintf(fd, "%s=%s", key, v);
		return;
	}
	dprintf(fd, "%s=?\n", key);
}

static char *runc_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

/* A process with the same caps list in every set but ambient. */
static void proc_with_caps(struct ferry_process *p, char **names, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->has_caps = true;
	for (int s = 0; s < FERRY_CAP__COUNT; s++) {
		if (s == FERRY_CAP_AMBIENT)
			continue;
		p->caps.names[s] = names;
		p->caps.n[s] = n;
	}
}

/* Expects lx_process_validate to fail with exactly `want`. */
static void validate_fails(const struct ferry_process *p, const char *want, const char *what)
{
	_cleanup_err_ ferry_err_t e = NULL;
	int rc = lx_process_validate(p, &e);

	ok(rc < 0, "validate refuses %s", what);
	is_str(e ? e->msg : NULL, want, "message for %s", what);
}

static void test_validate_caps(void)
{
	struct ferry_process p;
	_cleanup_err_ ferry_err_t e = NULL;
	char *bad[] = {"CAP_KILL", "CAP_FOO"};
	char *lower[] = {"cap_kill", "Cap_Net_Bind_Service"};
	char *noprefix[] = {"KILL"};
	char *number[] = {"12"};

	proc_with_caps(&p, runc_caps, 3);
	ok(lx_process_validate(&p, &e) == 0, "runc's default capabilities validate");
	if (e)
		diag("%s", e->msg);
	ferry_error_free(&e);
	proc_with_caps(&p, lower, 2);
	ok(lx_process_validate(&p, &e) == 0, "capability names are case-insensitive");
	ferry_error_free(&e);

	proc_with_caps(&p, runc_caps, 3);
	p.caps.names[FERRY_CAP_EFFECTIVE] = bad;
	p.caps.n[FERRY_CAP_EFFECTIVE] = 2;
	validate_fails(&p, "process.capabilities.effective[1]: unknown capability \"CAP_FOO\"",
		       "an unknown capability");
	proc_with_caps(&p, noprefix, 1);
	validate_fails(&p, "process.capabilities.bounding[0]: unknown capability \"KILL\"",
		       "a name without CAP_");
	proc_with_caps(&p, number, 1);
	validate_fails(&p, "process.capabilities.bounding[0]: unknown capability \"12\"",
		       "a capability number");

	proc_with_caps(&p, runc_caps, 3);
	p.caps.n[FERRY_CAP_PERMITTED] = 1; /* only CAP_AUDIT_WRITE */
	validate_fails(&p,
		       "process.capabilities.effective[1]: CAP_KILL is not in the permitted set",
		       "effective outside permitted");

}

/* Child: drops CAP_SYS_RESOURCE from the bounding set, then validates a config granting it. */
static int child_validate_unbounded(int fd, void *arg)
{
	struct ferry_process p;
	char *names[] = {"CAP_KILL", "CAP_SYS_RESOURCE"};
	ferry_err_t e = NULL;

	if (cap_get_bound(CAP_SYS_RESOURCE) > 0 && cap_drop_bound(CAP_SYS_RESOURCE) < 0)
		return 3;
	proc_with_caps(&p, names, 2);
	if (lx_process_validate(&p, &e) == 0)
		return 0;
	return send_err(fd, e);
}

static void test_validate_bounding(void)
{
	char buf[512];
	int rc = in_child(child_validate_unbounded, NULL, buf, sizeof(buf));

	ok(rc == 1, "validate refuses a capability outside the bounding set (rc %d)", rc);
	is_str(
	    buf,
	    "process.capabilities.effective[1]: CAP_SYS_RESOURCE is not in this host's bounding "
	    "set, so it cannot be granted",
	    "message names the field and says why");
}

static void test_validate_rlimits_lsm(void)
{
	struct ferry_process p = {0};
	struct ferry_rlimit rl[2] = {
	    {.type = "RLIMIT_NOFILE", .soft = 1024, .hard = 1024},
	    {.type = "RLIMIT_FOO", .soft = 1, .hard = 1},
	};
	_cleanup_err_ ferry_err_t e = NULL;

	p.rlimits = rl;
	p.n_rlimits = 1;
	ok(lx_process_validate(&p, &e) == 0, "RLIMIT_NOFILE 1024/1024 validates");
	p.n_rlimits = 2;
	validate_fails(&p, "process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"",
		       "an unknown rlimit");
	rl[1] = (struct ferry_rlimit){.type = "rlimit_core", .soft = 1, .hard = 1};
	validate_fails(&p, "process.rlimits[1].type: unknown rlimit \"rlimit_core\"",
		       "a lower-case rlimit (runc takes exact names)");
	rl[1] = (struct ferry_rlimit){.type = "RLIMIT_CORE", .soft = 300, .hard = 200};
	validate_fails(
	    &p, "process.rlimits[1] RLIMIT_CORE: soft limit 300 is greater than hard limit 200",
	    "soft above hard");

	memset(&p, 0, sizeof(p));
	p.apparmor_profile = "docker-default";
	validate_fails(&p, "process.apparmorProfile: AppArmor is not available on this host",
		       "an AppArmor profile");
	p.apparmor_profile = "";
	ok(lx_process_validate(&p, &e) == 0, "an empty apparmorProfile is accepted");
	p.selinux_label = "system_u:system_r:container_t:s0";
	validate_fails(&p, "process.selinuxLabel: SELinux is not available on this host",
		       "an SELinux label");
}

struct caps_case {
	char **names;
	size_t n;
	char **ambient;
	size_t n_ambient;
	bool has_caps;
	bool exec_grep; /* execve grep to show the sets the next program gets */
};

/* Child: bounding set, uid/gid 1000, capabilities; reports the sets it ends with. */
static int child_caps(int fd, void *arg)
{
	const struct caps_case *c = arg;
	struct ferry_process p;
	ferry_err_t e = NULL;

	proc_with_caps(&p, c->names, c->n);
	p.has_caps = c->has_caps;
	p.caps.names[FERRY_CAP_AMBIENT] = c->ambient;
	p.caps.n[FERRY_CAP_AMBIENT] = c->n_ambient;
	p.user.uid = 1000;
	p.user.gid = 1000;
	if (lx_caps_bound(&p, &e) < 0 || lx_user_apply(&p, &e) < 0 || lx_caps_apply(&p, &e) < 0)
		return send_err(fd, e);
	if (c->exec_grep) {
		dup2(fd, 1);
		execl("/bin/grep", "grep", "^Cap", "/proc/self/status", (char *)NULL);
		return 4;
	}
	send_status_field(fd, "Uid");
	send_status_field(fd, "CapInh");
	send_status_field(fd, "CapPrm");
	send_status_field(fd, "CapEff");
	send_status_field(fd, "CapBnd");
	send_status_field(fd, "CapAmb");
	dprintf(fd, "KeepCaps=%d\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	return 0;
}

static void test_caps_apply(void)
{
	char buf[1024];
	char *kill_only[] = {"CAP_KILL"};
	struct caps_case c = {.names = kill_only, .n = 1, .has_caps = true};
	int rc = in_child(child_caps, &c, buf, sizeof(buf));

	ok(rc == 0, "bounding + user 1000 + caps [CAP_KILL] applies (rc %d)", rc);
	is_str(buf,
		 "Uid=1000\t1000\t1000\t1000\n"
		 "CapInh=0000000000000020\n"
		 "CapPrm=0000000000000020\n"
		 "CapEff=0000000000000020\n"
		 "CapBnd=0000000000000020\n"
		 "CapAmb=0000000000000000\n"
		 "KeepCaps=0\n",
		 "uid 1000 holds exactly CAP_KILL in E, P, I and the bounding set");

	c.ambient = kill_only;
	c.n_ambient = 1;
	c.exec_grep = true;
	rc = in_child(child_caps, &c, buf, sizeof(buf));
	ok(rc == 0, "an ambient CAP_KILL applies and the program execs (rc %d)", rc);
	is_str(buf,
		 "CapInh:\t0000000000000020\n"
		 "CapPrm:\t0000000000000020\n"
		 "CapEff:\t0000000000000020\n"
		 "CapBnd:\t0000000000000020\n"
		 "CapAmb:\t0000000000000020\n",
		 "the ambient capability survives execve for a non-root user");

	c = (struct caps_case){.has_caps = false, .exec_grep = false};
	rc = in_child(child_caps, &c, buf, sizeof(buf));
	ok(rc == 0, "a non-root user without process.capabilities applies (rc %d)", rc);
	ok(strstr(buf, "CapPrm=0000000000000000\nCapEff=0000000000000000\n") != NULL,
	   "a non-root user without process.capabilities holds none");
	if (rc)
		diag("%s", buf);
}

/* Child: applies user 0:1000 with additionalGids 10, 20 and umask 027; reports ids and umask. */
static int child_user(int fd, void *arg)
{
	uint32_t gids[] = {10, 20};
	struct ferry_process p = {0};
	ferry_err_t e = NULL;
	gid_t got[8];
	uid_t r, ef, s;
	gid_t gr, ge, gs;
	int n;

	p.user = (struct ferry_user){.uid = 0,
				     .gid = 1000,
				     .has_umask = true,
				     .umask = 027,
				     .additional_gids = gids,
				     .n_additional_gids = 2};
	if (lx_user_apply(&p, &e) < 0)
		return send_err(fd, e);
	n = getgroups(8, got);
	getresuid(&r, &ef, &s);
	getresgid(&gr, &ge, &gs);
	dprintf(fd, "groups=%d:%u,%u uid=%u,%u,%u gid=%u,%u,%u umask=%03o", n, n > 0 ? got[0] : 0,
		n > 1 ? got[1] : 0, r, ef, s, gr, ge, gs, umask(0));
	return 0;
}

static void test_user_apply(void)
{
	char buf[256];
	int rc = in_child(child_user, NULL, buf, sizeof(buf));

	ok(rc == 0, "user 0:1000 with additionalGids applies (rc %d)", rc);
	is_str(buf, "groups=2:10,20 uid=0,0,0 gid=1000,1000,1000 umask=027",
		 "exactly the additional gids, the gid everywhere, the umask");
}

/* Child: sets NOFILE to what arg says and reports the limits read back. */
static int child_rlimit(int fd, void *arg)
{
	struct ferry_rlimit *rl = arg;
	struct ferry_process p = {.rlimits = rl, .n_rlimits = 1};
	ferry_err_t e = NULL;
	struct rlimit got;

	if (lx_rlimits_apply(&p, &e) < 0)
		return send_err(fd, e);
	if (getrlimit(RLIMIT_NOFILE, &got) < 0)
		return 3;
	dprintf(fd, "%" PRIu64 "/%" PRIu64, (uint64_t)got.rlim_cur, (uint64_t)got.rlim_max);
	return 0;
}

/* Child: lowers NOFILE's hard limit to 200 and gives up CAP_SYS_RESOURCE (bounding set and
 * effective), then asks for a hard limit of 300. */
static int child_rlimit_raise(int fd, void *arg)
{
	struct rlimit low = {100, 200};
	cap_t caps = cap_get_proc();
	cap_value_t sr = CAP_SYS_RESOURCE;

	if (setrlimit(RLIMIT_NOFILE, &low) < 0 || !caps)
		return 3;
	if (cap_get_bound(sr) > 0 && cap_drop_bound(sr) < 0)
		return 3;
	if (cap_set_flag(caps, CAP_EFFECTIVE, 1, &sr, CAP_CLEAR) < 0 ||
	    cap_set_flag(caps, CAP_PERMITTED, 1, &sr, CAP_CLEAR) < 0 || cap_set_proc(caps) < 0)
		return 3;
	cap_free(caps);
	return child_rlimit(fd, arg);
}

static void test_rlimits(void)
{
	char buf[512];
	struct ferry_rlimit rl = {.type = "RLIMIT_NOFILE", .soft = 100, .hard = 200};
	int rc = in_child(child_rlimit, &rl, buf, sizeof(buf));

	ok(rc == 0, "RLIMIT_NOFILE 100/200 applies (rc %d)", rc);
	is_str(buf, "100/200", "RLIMIT_NOFILE reads back 100/200");

	rl = (struct ferry_rlimit){.type = "RLIMIT_NOFILE", .soft = 100, .hard = 300};
	rc = in_child(child_rlimit_raise, &rl, buf, sizeof(buf));
	ok(rc == 1, "raising the hard limit without CAP_SYS_RESOURCE fails (rc %d)", rc);
	is_str(buf,
		 "process.rlimits[0] RLIMIT_NOFILE: cannot raise the hard limit from 200 to 300: "
		 "this host withholds CAP_SYS_RESOURCE",
		 "the error names the limit, both values and the missing capability");

	rl = (struct ferry_rlimit){.type = "RLIMIT_CORE", .soft = 0, .hard = 0};
	rc = in_child(child_rlimit, &rl, buf, sizeof(buf));
	ok(rc == 0, "RLIMIT_CORE 0/0 applies (rc %d)", rc);
}

int main(void)
{
	test_validate_caps();
	test_validate_bounding();
	test_validate_rlimits_lsm();
	test_caps_apply();
	test_user_apply();
	test_rlimits();
	return done_testing();
}
