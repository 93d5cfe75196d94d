// SPDX-License-Identifier: Apache-2.0
/* Resource limits on real cgroups (as root): apply, read back, enforcement by the kernel (pids,
 * devices, memory and the OOM killer), stats, and the cgroup v2 eBPF device program. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup.h"
#include "os/linux/cgroup_devices_bpf.h"
#include "os/linux/cgroup_limits.h"
#include "tap.h"

#define MIB (1024 * 1024)
#define MAX_KIDS 16

static char cgpath[64], bpfdir[256], v2host[320], v2ctl_before[256];
static pid_t kids[MAX_KIDS];
static size_t nkids;

/* ---- helpers ---- */

static void reap(pid_t pid)
{
	for (size_t i = 0; i < nkids; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

static void kill_kids(void)
{
	for (size_t i = 0; i < nkids; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	nkids = 0;
}

static bool mount_of(const char *ctl, char *out, size_t size);

/* Disables in the cgroup2 root the controllers the v2 test enabled there. */
static void restore_subtree_control(void)
{
	char mnt[200], file[256], now[256] = "";
	FILE *f;

	if (!mount_of("", mnt, sizeof(mnt)))
		return;
	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", mnt);
	f = fopen(file, "re");
	if (!f)
		return;
	if (!fgets(now, sizeof(now), f))
		now[0] = '\0';
	fclose(f);
	for (char *save = NULL, *c = strtok_r(now, " \n", &save); c;
	     c = strtok_r(NULL, " \n", &save)) {
		char want[64];
		int fd;

		snprintf(want, sizeof(want), " %s ", c);
		if (strstr(v2ctl_before, want))
			continue;
		snprintf(want, sizeof(want), "-%s", c);
		fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && write(fd, want, strlen(want)) < 0)
			diag("could not disable %s again in %s", c, file);
		if (fd >= 0)
			close(fd);
	}
}

static void cleanup(void)
{
	kill_kids();
	if (cgpath[0]) {
		lx_cgroup_kill(cgpath, SIGKILL, NULL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		lx_cgroup_destroy(cgpath, NULL);
	}
	if (bpfdir[0])
		rmdir(bpfdir);
	if (v2host[0]) {
		rmdir(v2host);
		restore_subtree_control();
		v2host[0] = '\0';
	}
}

static void on_alarm(int sig)
{
	(void)sig;
	printf("not ok - timed out\n");
	cleanup();
	_exit(1);
}

/* Mount point of the hierarchy with the v1 controller, or of cgroup2 for "" (parsed here, not by
 * the module). Returns false when it is not mounted. */
static bool mount_of(const char *ctl, char *out, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	while (f && getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - "), mnt[256], fstype[16], src[64], opts[256];

		if (!sep || sscanf(line, "%*d %*d %*s %*s %255s", mnt) != 1 ||
		    sscanf(sep, " - %15s %63s %255s", fstype, src, opts) != 3)
			continue;
		if (!*ctl && strcmp(fstype, "cgroup2") == 0) {
			snprintf(out, size, "%s", mnt);
			return true;
		}
		if (*ctl && strcmp(fstype, "cgroup") == 0) {
			for (char *save = NULL, *o = strtok_r(opts, ",", &save); o;
			     o = strtok_r(NULL, ",", &save))
				if (strcmp(o, ctl) == 0) {
					snprintf(out, size, "%s", mnt);
					return true;
				}
		}
	}
	return false;
}

/* Contents of <mount of ctl>/<cgpath>/<file> without the trailing newline, or NULL. */
static char *cg_file(const char *ctl, const char *file)
{
	char mnt[256], path[512];
	_cleanup_fclose_ FILE *f = NULL;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!mount_of(ctl, mnt, sizeof(mnt)))
		return NULL;
	snprintf(path, sizeof(path), "%s%s/%s", mnt, cgpath, file);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static void check_file(const char *ctl, const char *file, const char *want)
{
	_cleanup_free_ char *got = cg_file(ctl, file);

	is_str(got, want, "%s reads %s", file, want);
}

static bool has_warning(const struct lim_warnings *w, const char *text)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->msgs[i], text) == 0)
			return true;
	return false;
}

/* Forks a child that joins the cgroup (v1/hybrid: the test cgroup; with dir, that cgroup2 dir)
 * and returns fn's result as its exit code. Returns the child's wait status, or -1. */
static int run_in(const char *dir, int (*fn)(void))
{
	int status = -1;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		char procs[300];
		int fd;

		if (dir) {
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
			fd = open(procs, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "0", 1) != 1)
				_exit(120);
			close(fd);
		} else if (lx_cgroup_enter(cgpath, getpid(), NULL) < 0) {
			_exit(121);
		}
		_exit(fn());
	}
	kids[nkids++] = pid;
	if (waitpid(pid, &status, 0) < 0)
		status = -1;
	reap(pid);
	return status;
}

static int exit_code(int status)
{
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Starts a child in the test cgroup that locks `locked` bytes of memory, then sleeps; returns its
 * pid (recorded for cleanup) or -1. */
static pid_t start_sleeper(size_t locked)
{
	int p[2];
	char c = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char *mem = locked ? mmap(NULL, locked, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
				   : NULL;

		if (lx_cgroup_enter(cgpath, getpid(), NULL) < 0 || mem == MAP_FAILED)
			_exit(1);
		if (mem) {
			memset(mem, 1, locked);
			if (mlock(mem, locked) < 0)
				_exit(1);
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0)
		kids[nkids++] = pid;
	if (pid > 0 && read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

static void stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	reap(pid);
}

/* ---- the model ---- */

static struct lim_device_rule rules_null_only[] = {
    {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
    {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
};

static struct lim_hugepage huge_2m = {.page_size = "2MB", .limit = 4 * MIB};

static void model(struct lim_resources *r, int64_t mem, int64_t swap)
{
	memset(r, 0, sizeof(*r));
	r->has_memory = true;
	r->memory.limit = (struct lim_i64){true, mem};
	r->memory.swap = (struct lim_i64){true, swap};
}

static void full_model(struct lim_resources *r)
{
	model(r, 64 * MIB, 64 * MIB);
	r->has_pids = true;
	r->pids_limit = (struct lim_i64){true, 16};
	r->has_cpu = true;
	r->cpu.quota = (struct lim_i64){true, 20000};
	r->cpu.period = (struct lim_u64){true, 100000};
	r->cpu.shares = (struct lim_u64){true, 512};
	r->cpu.cpus = "0";
	r->has_blkio = true;
	r->blkio.weight = (struct lim_u64){true, 500};
	r->hugepages = &huge_2m;
	r->n_hugepages = 1;
	r->devices = rules_null_only;
	r->n_devices = ARRAY_SIZE(rules_null_only);
}

/* ---- v1 / hybrid: apply and read back ---- */

/* Every write of the model to a file this host lacks must come back as a warning. */
static void check_warnings(const struct lim_resources *r, const struct lim_warnings *warn)
{
	struct lim_writes ws = {0};
	struct lim_warnings tw = {0};
	size_t missing = 0;

	if (lim_to_cgroup1(r, &ws, &tw, NULL) < 0) {
		ok(0, "translate the model for the warning check");
		return;
	}
	for (size_t i = 0; i < ws.n; i++) {
		char mnt[256], path[512], msg[256];

		snprintf(path, sizeof(path), "%s%s/%s",
			 mount_of(ws.w[i].controller, mnt, 256) ? mnt : "/nonexistent", cgpath,
			 ws.w[i].file);
		if (access(path, F_OK) == 0)
			continue;
		missing++;
		snprintf(msg, sizeof(msg), "%s: not available on this host", ws.w[i].file);
		ok(has_warning(warn, msg), "warning: %s", msg);
	}
	diag("%zu of %zu files missing on this host", missing, ws.n);
	if (!mount_of("hugetlb", (char[256]){0}, 256))
		ok(missing > 0, "hugetlb is not mounted as v1 here: some files are missing");
	lim_writes_free(&ws);
	lim_warnings_free(&tw);
}

static void test_apply_v1(void)
{
	struct lim_resources r;
	struct lim_warnings warn = {0};
	_cleanup_err_ ferry_err_t err = NULL;

	full_model(&r);
	ok(lx_limits_apply(cgpath, &r, &warn, &err) == 0, "apply the model (%s)",
	   err ? err->msg : "ok");
	check_file("memory", "memory.limit_in_bytes", "67108864");
	check_file("memory", "memory.memsw.limit_in_bytes", "67108864");
	check_file("pids", "pids.max", "16");
	check_file("cpu", "cpu.cfs_quota_us", "20000");
	check_file("cpu", "cpu.cfs_period_us", "100000");
	check_file("cpu", "cpu.shares", "512");
	check_file("cpuset", "cpuset.cpus", "0");
	check_file("devices", "devices.list", "c 1:3 rwm");
	for (size_t i = 0; i < warn.n; i++)
		diag("warning: %s", warn.msgs[i]);
	check_warnings(&r, &warn);
	lim_warnings_free(&warn);
}

static void test_memory_order(void)
{
	struct lim_resources r;
	_cleanup_err_ ferry_err_t err = NULL;

	model(&r, 300 * MIB, 300 * MIB);
	ok(lx_limits_apply(cgpath, &r, NULL, &err) == 0, "raise memory and swap to 300 MiB (%s)",
	   err ? err->msg : "ok");
	check_file("memory", "memory.limit_in_bytes", "314572800");
	check_file("memory", "memory.memsw.limit_in_bytes", "314572800");
	model(&r, 64 * MIB, 64 * MIB);
	ok(lx_limits_apply(cgpath, &r, NULL, &err) == 0, "lower them back to 64 MiB (%s)",
	   err ? err->msg : "ok");
	check_file("memory", "memory.limit_in_bytes", "67108864");
	check_file("memory", "memory.memsw.limit_in_bytes", "67108864");
}

/* A limit below what a process holds locked is refused, naming the setting and file. */
static void test_refused(void)
{
	struct lim_resources r;
	_cleanup_err_ ferry_err_t err = NULL;
	pid_t pid = start_sleeper(4 * MIB);

	ok(pid > 0, "a child holding 4 MiB locked in the cgroup");
	memset(&r, 0, sizeof(r));
	r.has_memory = true;
	r.memory.limit = (struct lim_i64){true, 1000};
	ok(lx_limits_apply(cgpath, &r, NULL, &err) < 0, "memory limit 1000 is refused");
	ok(err && strstr(err->msg, "memory.limit_in_bytes = 1000: Device or resource busy"),
	   "error names the file and value: %s", err ? err->msg : "(none)");
	ok(err && err->errnum == EBUSY, "errno EBUSY");
	stop(pid);
	check_file("memory", "memory.limit_in_bytes", "67108864");
}

static void test_read(void)
{
	struct lim_resources got = {0};
	_cleanup_err_ ferry_err_t err = NULL;

	ok(lx_limits_read(cgpath, &got, &err) == 0, "read the live limits (%s)",
	   err ? err->msg : "ok");
	ok(got.memory.limit.set && got.memory.limit.v == 64 * MIB, "memory.limit %lld",
	   (long long)got.memory.limit.v);
	ok(got.memory.swap.set && got.memory.swap.v == 64 * MIB, "memory.swap %lld",
	   (long long)got.memory.swap.v);
	ok(got.pids_limit.set && got.pids_limit.v == 16, "pids.limit %lld",
	   (long long)got.pids_limit.v);
	ok(got.cpu.quota.set && got.cpu.quota.v == 20000, "cpu.quota %lld",
	   (long long)got.cpu.quota.v);
	ok(got.cpu.period.set && got.cpu.period.v == 100000, "cpu.period %llu",
	   (unsigned long long)got.cpu.period.v);
	ok(got.cpu.shares.set && got.cpu.shares.v == 512, "cpu.shares %llu",
	   (unsigned long long)got.cpu.shares.v);
	is_str(got.cpu.cpus, "0", "cpu.cpus");
	ok(got.n_devices == 2 && !got.devices[0].allow && got.devices[0].type == 'a' &&
	       got.devices[1].allow && got.devices[1].type == 'c' && got.devices[1].major == 1 &&
	       got.devices[1].minor == 3 && strcmp(got.devices[1].access, "rwm") == 0,
	   "devices: deny all, allow c 1:3 rwm (%zu rules)", got.n_devices);
	lim_free(&got);
}

/* ---- enforcement by the kernel ---- */

/* Forks until refused; exit code: 0 when exactly 15 more processes fit (16 with this one) and the
 * refusal is EAGAIN, else 1 + the count (capped). */
static int fork_bomb(void)
{
	pid_t pids[64];
	int n = 0, errnum = 0;

	for (; n < 64; n++) {
		pid_t p = fork();

		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0) {
			errnum = errno;
			break;
		}
		pids[n] = p;
	}
	for (int i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	if (n == 15 && errnum == EAGAIN)
		return 0;
	return 1 + (n < 100 ? n : 100);
}

static int open_devices(void)
{
	int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC), zerr = errno;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	return (zero < 0 && zerr == EPERM ? 0 : 1) | (null >= 0 ? 0 : 2);
}

static volatile char *hog_mem;

static int memory_hog(void)
{
	for (size_t i = 0; i < 512; i++) {
		hog_mem =
		    mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (hog_mem == MAP_FAILED)
			return 2;
		memset((char *)hog_mem, 1, MIB);
	}
	return 0;
}

static void test_enforced(void)
{
	_cleanup_err_ ferry_err_t err = NULL;
	uint64_t before = 0, after = 0;
	int st;

	ok(exit_code(run_in(NULL, fork_bomb)) == 0,
	   "under pids 16 a process forks 15 times, then fork fails with EAGAIN");
	ok(exit_code(run_in(NULL, open_devices)) == 0,
	   "devices: /dev/zero is refused with EPERM, /dev/null opens");
	ok(lx_limits_oom_count(cgpath, &before, &err) == 0, "OOM count before (%llu)",
	   (unsigned long long)before);
	st = run_in(NULL, memory_hog);
	ok(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	   "a memory hog under 64 MiB is OOM-killed (status 0x%x)", st);
	ok(lx_limits_oom_count(cgpath, &after, &err) == 0 && after == before + 1,
	   "OOM count went up by one (%llu -> %llu)", (unsigned long long)before,
	   (unsigned long long)after);
}

static void test_stats(void)
{
	_cleanup_err_ ferry_err_t err = NULL;
	_cleanup_free_ char *json = NULL;
	pid_t pid = start_sleeper(0);
	json_t *root;

	ok(pid > 0, "one sleeping child in the cgroup");
	json = lx_limits_stats(cgpath, &err);
	ok(json != NULL, "stats (%s)", err ? err->msg : "ok");
	root = json ? json_loads(json, 0, NULL) : NULL;
	ok(root != NULL, "stats are JSON");
	ok(json_integer_value(json_object_get(
	       json_object_get(json_object_get(root, "memory"), "usage"), "limit")) == 64 * MIB,
	   "memory.usage.limit == 67108864");
	ok(json_is_integer(json_object_get(json_object_get(root, "pids"), "current")) &&
	       json_integer_value(json_object_get(json_object_get(root, "pids"), "current")) == 1,
	   "pids.current == 1");
	if (!root && json)
		diag("%s", json);
	json_decref(root);
	stop(pid);
}

/* ---- cgroup v2 device program, on the host's cgroup2 mount ---- */

static int open_null_rdonly(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	return fd >= 0 ? 0 : errno == EPERM ? 10 : 11;
}

static int open_null_wronly(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	return fd >= 0 ? 0 : errno == EPERM ? 10 : 11;
}

static int open_zero(void)
{
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

	return fd >= 0 ? 0 : errno == EPERM ? 10 : 11;
}

static void test_bpf_build(void)
{
	struct lim_device_rule bad[] = {{.allow = true, .type = 'x', .access = "r"}};
	struct lim_device_rule badacc[] = {{.allow = true, .type = 'c', .access = "rx"}};
	_cleanup_err_ ferry_err_t e1 = NULL, e2 = NULL;
	struct bpf_insn *insns = NULL;
	size_t n = 0;

	ok(lx_devbpf_build(bad, 1, &insns, &n, &e1) < 0 && strstr(e1->msg, "type 'x'"),
	   "device rule of unknown type refused: %s", e1 ? e1->msg : "(none)");
	ok(lx_devbpf_build(badacc, 1, &insns, &n, &e2) < 0 && strstr(e2->msg, "access 'rx'"),
	   "device rule with unknown access refused: %s", e2 ? e2->msg : "(none)");
}

static void test_bpf(void)
{
	struct lim_device_rule only_zero[] = {
	    {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
	    {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm"},
	};
	struct lim_device_rule no_write_null[] = {
	    {.allow = false, .type = 'c', .major = 1, .minor = 3, .access = "w"},
	};
	char mnt[200];
	_cleanup_err_ ferry_err_t e1 = NULL, e2 = NULL, e3 = NULL;

	if (!mount_of("", mnt, sizeof(mnt))) {
		diag("no cgroup2 mount: device program not tested");
		return;
	}
	snprintf(bpfdir, sizeof(bpfdir), "%s/ferry-test-bpf-%d", mnt, (int)getpid());
	ok(mkdir(bpfdir, 0755) == 0, "cgroup2 child %s", bpfdir);
	ok(exit_code(run_in(bpfdir, open_zero)) == 0, "no program: /dev/zero opens");
	ok(lx_devbpf_apply(bpfdir, rules_null_only, 2, &e1) == 0, "attach deny all + c 1:3 (%s)",
	   e1 ? e1->msg : "ok");
	ok(exit_code(run_in(bpfdir, open_null_rdonly)) == 0, "/dev/null opens");
	ok(exit_code(run_in(bpfdir, open_zero)) == 10, "/dev/zero is refused with EPERM");
	ok(lx_devbpf_apply(bpfdir, only_zero, 2, &e2) == 0, "replace with deny all + c 1:5 (%s)",
	   e2 ? e2->msg : "ok");
	ok(exit_code(run_in(bpfdir, open_zero)) == 0, "/dev/zero opens (old program detached)");
	ok(exit_code(run_in(bpfdir, open_null_rdonly)) == 10, "/dev/null is refused with EPERM");
	ok(lx_devbpf_apply(bpfdir, no_write_null, 1, &e3) == 0, "replace with deny c 1:3 w (%s)",
	   e3 ? e3->msg : "ok");
	ok(exit_code(run_in(bpfdir, open_null_rdonly)) == 0, "allow by default: /dev/null reads");
	ok(exit_code(run_in(bpfdir, open_null_wronly)) == 10, "/dev/null write is refused");
	ok(exit_code(run_in(bpfdir, open_zero)) == 0, "/dev/zero opens");
	ok(rmdir(bpfdir) == 0, "cgroup2 child removed");
	bpfdir[0] = '\0';
}

/* ---- the v2 layout: a mount namespace where only the host's cgroup2 is mounted ---- */

#define V2_MAX 24

struct v2_results {
	int n;
	struct {
		bool ok;
		char what[200];
	} r[V2_MAX];
};

static struct v2_results *v2r;

#define v2ok(cond, ...)                                                                     \
	do {                                                                                \
		if (v2r->n < V2_MAX) {                                                      \
			v2r->r[v2r->n].ok = (cond);                                         \
			snprintf(v2r->r[v2r->n].what, sizeof(v2r->r[0].what), __VA_ARGS__); \
			v2r->n++;                                                           \
		}                                                                           \
	} while (0)

/* The checks of v2_child that need the limits applied. */
static void v2_checks(void)
{
	_cleanup_free_ char *huge = cg_file("", "hugetlb.2MB.max"),
			    *ctls = cg_file("", "cgroup.controllers");
	_cleanup_free_ char *json = NULL;
	_cleanup_err_ ferry_err_t e1 = NULL, e2 = NULL;
	struct lim_resources got = {0};
	uint64_t n = 0;
	json_t *root;
	bool has_huge = ctls && strstr(ctls, "hugetlb"), has_mem = ctls && strstr(ctls, "memory");

	if (has_huge)
		v2ok(huge && strcmp(huge, "4194304") == 0, "v2: hugetlb.2MB.max reads %s",
		     huge ? huge : "(none)");
	v2ok(exit_code(run_in(NULL, open_devices)) == 0,
	     "v2: the device program refuses /dev/zero with EPERM, /dev/null opens");
	v2ok(lx_limits_read(cgpath, &got, &e1) == 0, "v2: read the live limits (%s)",
	     e1 ? e1->msg : "ok");
	if (has_huge)
		v2ok(got.n_hugepages == 1 && got.hugepages[0].limit == 4 * MIB,
		     "v2: hugepages read back");
	lim_free(&got);
	if (!has_mem)
		v2ok(lx_limits_oom_count(cgpath, &n, &e2) < 0 && strstr(e2->msg, "memory.events"),
		     "v2: no memory controller: OOM count is an error naming memory.events");
	json = lx_limits_stats(cgpath, NULL);
	root = json ? json_loads(json, 0, NULL) : NULL;
	v2ok(root != NULL, "v2: stats are JSON");
	json_decref(root);
}

/* In a new mount namespace with only cgroup2 mounted: apply the model through the v2 files and
 * the device program. */
static void v2_child(void)
{
	struct lim_resources r;
	struct lim_warnings warn = {0};
	_cleanup_err_ ferry_err_t err = NULL;
	_cleanup_free_ char *ctls = NULL;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    umount2("/sys/fs/cgroup", MNT_DETACH) < 0 ||
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
		v2ok(0, "v2: a mount namespace with only cgroup2: %s", strerror(errno));
		return;
	}
	v2ok(lx_cgroup_layout(NULL) == LX_CGROUP_V2, "v2: the layout is v2 only");
	if (lx_cgroup_create(cgpath, &err) < 0) {
		v2ok(0, "v2: create %s: %s", cgpath, err->msg);
		return;
	}
	full_model(&r);
	r.cpu.cpus = NULL;
	r.has_cpu = false;
	r.has_blkio = false;
	v2ok(lx_limits_apply(cgpath, &r, &warn, &err) == 0, "v2: apply the model (%s)",
	     err ? err->msg : "ok");
	ctls = cg_file("", "cgroup.controllers");
	if (!ctls || !strstr(ctls, "memory"))
		v2ok(has_warning(&warn, "memory.max: not available on this host"),
		     "v2: warning: memory.max: not available on this host");
	if (!ctls || !strstr(ctls, "pids"))
		v2ok(has_warning(&warn, "pids.max: not available on this host"),
		     "v2: warning: pids.max: not available on this host");
	lim_warnings_free(&warn);
	v2_checks();
	v2ok(lx_cgroup_destroy(cgpath, &err) == 0, "v2: cgroup removed");
}

static void test_v2_layout(void)
{
	char mnt[200], file[256];
	_cleanup_free_ char *before = NULL;
	FILE *f;
	int st = -1;
	pid_t pid;

	if (!mount_of("", mnt, sizeof(mnt)))
		return;
	v2r = mmap(NULL, sizeof(*v2r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (v2r == MAP_FAILED) {
		ok(0, "mmap");
		return;
	}
	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", mnt);
	f = fopen(file, "re");
	snprintf(v2ctl_before, sizeof(v2ctl_before), " ");
	if (f && fgets(v2ctl_before + 1, sizeof(v2ctl_before) - 2, f))
		v2ctl_before[strcspn(v2ctl_before, "\n")] = '\0';
	strcat(v2ctl_before, " ");
	if (f)
		fclose(f);
	snprintf(cgpath, sizeof(cgpath), "/ferry-test-limits-v2-%d", (int)getpid());
	snprintf(v2host, sizeof(v2host), "%s%s", mnt, cgpath);
	pid = fork();
	if (pid == 0) {
		v2_child();
		_exit(0);
	}
	if (pid > 0)
		kids[nkids++] = pid;
	if (pid > 0 && waitpid(pid, &st, 0) == pid)
		reap(pid);
	ok(exit_code(st) == 0, "v2 test process exited");
	for (int i = 0; i < v2r->n; i++)
		ok(v2r->r[i].ok, "%s", v2r->r[i].what);
	cgpath[0] = '\0';
	cleanup();
	ok(access(v2host, F_OK) < 0, "v2 test cgroup removed");
	munmap(v2r, sizeof(*v2r));
}

int main(void)
{
	_cleanup_err_ ferry_err_t err = NULL;
	int layout;

	test_bpf_build();
	if (geteuid() != 0) {
		diag("not root: real cgroup tests skipped");
		return done_testing();
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGALRM, on_alarm);
	alarm(120);
	test_bpf();
	layout = lx_cgroup_layout(&err);
	snprintf(cgpath, sizeof(cgpath), "/ferry-test-limits-%d", (int)getpid());
	if (lx_cgroup_create(cgpath, &err) < 0) {
		ok(0, "create %s: %s", cgpath, err->msg);
		cgpath[0] = '\0';
		return done_testing();
	}
	if (layout == LX_CGROUP_V2) {
		diag("cgroup v2 only: the v1 file checks are skipped");
	} else {
		test_apply_v1();
		test_memory_order();
		test_refused();
		test_read();
		test_enforced();
		test_stats();
	}
	cleanup();
	ok(!cg_file("memory", "cgroup.procs"), "test cgroup removed");
	cgpath[0] = '\0';
	test_v2_layout();
	return done_testing();
}
