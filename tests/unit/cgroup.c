// SPDX-License-Identifier: Apache-2.0
/* Container cgroups on the real kernel (as root): resolve, create, enter, pids, freeze, kill and
 * destroy, in every mounted hierarchy. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup.h"
#include "os/linux/cgroup_internal.h"
#include "tap.h"

struct shared {
	volatile unsigned long counter[2]; /* [0] the child, [1] the grandchild */
	volatile pid_t grandchild;
};

static char base[64], c1[96], c2[96], c2sub[128];
static pid_t kids[4];
static size_t nkids;
static struct shared *sh;

/* ---- helpers ---- */

/* Compares strings (NULL-safe) and shows both on a mismatch. */
static bool same(const char *got, const char *want)
{
	bool eq = got && want ? strcmp(got, want) == 0 : got == want;

	if (!eq)
		diag("got '%s', expected '%s'", got ? got : "(null)", want ? want : "(null)");
	return eq;
}

static bool has_msg(ferry_err_t e, const char *needle)
{
	return e && e->msg && strstr(e->msg, needle);
}

/* Mount points of every cgroup and cgroup2 hierarchy (one mount each), parsed here independently
 * of the module. */
static size_t cgroup_mounts(char mnts[][256], size_t max, size_t *n_v1, size_t *n_v2)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	char devs[32][32];
	size_t cap = 0, n = 0;

	*n_v1 = *n_v2 = 0;
	while (f && getline(&line, &cap, f) > 0 && n < max && n < 32) {
		char *sep = strstr(line, " - ");
		char mnt[256], dev[32];
		bool seen = false;

		if (!sep || sscanf(line, "%*d %*d %31s %*s %255s", dev, mnt) != 2)
			continue;
		if (strncmp(sep, " - cgroup2 ", 11) != 0 && strncmp(sep, " - cgroup ", 10) != 0)
			continue;
		for (size_t i = 0; i < n; i++)
			seen = seen || strcmp(devs[i], dev) == 0;
		if (seen)
			continue;
		if (strncmp(sep, " - cgroup2 ", 11) == 0)
			(*n_v2)++;
		else
			(*n_v1)++;
		snprintf(devs[n], sizeof(devs[n]), "%s", dev);
		snprintf(mnts[n++], 256, "%s", mnt);
	}
	return n;
}

/* Counts the hierarchies where path exists as a directory; *total gets how many there are. */
static size_t dirs_present(const char *path, size_t *total)
{
	char mnts[32][256];
	size_t v1, v2, n = cgroup_mounts(mnts, 32, &v1, &v2), found = 0;

	for (size_t i = 0; i < n; i++) {
		char p[512];
		struct stat st;

		snprintf(p, sizeof(p), "%s%s", mnts[i], path);
		found += stat(p, &st) == 0 && S_ISDIR(st.st_mode);
	}
	*total = n;
	return found;
}

/* True when /proc/pid/cgroup names path for every mounted hierarchy (a kernel may list more
 * hierarchies than this mount namespace mounts). */
static bool proc_in_cgroup(pid_t pid, const char *path)
{
	char file[64], line[512], mnts[32][256];
	_cleanup_fclose_ FILE *f = NULL;
	size_t v1, v2, mounted = cgroup_mounts(mnts, 32, &v1, &v2), match = 0;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	f = fopen(file, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strrchr(line, ':');

		line[strcspn(line, "\n")] = '\0';
		match += colon && strcmp(colon + 1, path) == 0;
	}
	if (match < mounted)
		diag("pid %d: %zu of %zu hierarchies in %s", (int)pid, match, mounted, path);
	return mounted > 0 && match >= mounted;
}

static void cleanup(void)
{
	lx_cgroup_freeze(c1, false, NULL);
	lx_cgroup_freeze(c2, false, NULL);
	for (size_t i = 0; i < nkids; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	if (sh && sh->grandchild > 0) {
		kill(sh->grandchild, SIGKILL);
		waitpid(sh->grandchild, NULL, 0);
	}
	nkids = 0;
	if (base[0])
		lx_cgroup_destroy(base, NULL);
}

static void on_alarm(int sig)
{
	(void)sig;
	printf("not ok - timed out\n");
	cleanup();
	_exit(1);
}

static pid_t spawn_counter(int slot)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;) {
			sh->counter[slot]++;
			usleep(1000);
		}
	}
	if (pid > 0)
		kids[nkids++] = pid;
	return pid;
}

/* True when the counter stays the same over 200 ms (the process does not run). */
static bool stalls(int slot)
{
	unsigned long a = sh->counter[slot];

	usleep(200000);
	return sh->counter[slot] == a;
}

static void forget(pid_t pid)
{
	for (size_t i = 0; i < nkids; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

/* ---- parsing (no cgroup touched) ---- */

static int parse(const char *text, struct lx_cg_hiers *hs, ferry_err_t *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r = lx_cg_parse_mountinfo(f, hs, err);

	fclose(f);
	return r;
}

static void test_mountinfo(void)
{
	const char *other = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
	const char *v2 = "30 22 0:27 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 "
			 "rw,nsdelegate\n";
	const char *v1 =
	    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup "
	    "rw,cpu,cpuacct\n"
	    "32 30 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
	    "33 30 0:30 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n"
	    "34 22 0:30 / /mnt/my\\040freezer rw - cgroup cgroup rw,freezer\n";
	const char *unified = "40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
	struct lx_cg_hiers hs = {0};
	_cleanup_err_ ferry_err_t err = NULL;
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s%s", other, v2);
	ok(parse(buf, &hs, &err) == 0 && hs.n == 1 && hs.h[0].v2, "v2-only: one cgroup2 mount");
	ok(lx_cg_layout_of(&hs) == LX_CGROUP_V2, "v2-only layout");
	ok(same(hs.n ? hs.h[0].mnt : NULL, "/sys/fs/cgroup"), "v2 mount point");
	lx_cg_hiers_free(&hs);

	snprintf(buf, sizeof(buf), "%s%s", other, v1);
	ok(parse(buf, &hs, &err) == 0 && hs.n == 3,
	   "v1-only: the same freezer mounted twice is one");
	ok(lx_cg_layout_of(&hs) == LX_CGROUP_V1, "v1-only layout");
	ok(hs.n == 3 && lx_cg_has_option(&hs.h[0], "cpu") &&
	       lx_cg_has_option(&hs.h[0], "cpuacct") && !lx_cg_has_option(&hs.h[0], "cpuset"),
	   "controllers from super options");
	ok(hs.n == 3 && lx_cg_has_option(&hs.h[1], "name=systemd"), "name=systemd hierarchy");
	lx_cg_hiers_free(&hs);

	snprintf(buf, sizeof(buf), "%s%s", v1, unified);
	ok(parse(buf, &hs, &err) == 0 && lx_cg_layout_of(&hs) == LX_CGROUP_HYBRID, "hybrid layout");
	lx_cg_hiers_free(&hs);

	snprintf(buf, sizeof(buf), "%s",
		 "34 22 0:30 / /mnt/my\\040freezer rw - cgroup c rw,freezer\n");
	ok(parse(buf, &hs, &err) == 0 && hs.n == 1, "escaped mount point parsed");
	ok(same(hs.n ? hs.h[0].mnt : NULL, "/mnt/my freezer"), "\\040 unescaped");
	lx_cg_hiers_free(&hs);

	ok(parse(other, &hs, &err) < 0 && err && err->errnum == ENOENT, "no cgroup mount: error");
}

static void test_self(void)
{
	const char *v1 = "9:name=systemd:/user.slice/s.scope\n4:cpu,cpuacct:/c\n3:memory:/m/x\n"
			 "0::/u\n";
	const char *nomem = "2:name=systemd:/s\n1:cpu:/c\n";
	_cleanup_free_ char *a = lx_cg_parse_self(v1, false, NULL);
	_cleanup_free_ char *b = lx_cg_parse_self(v1, true, NULL);
	_cleanup_free_ char *c = lx_cg_parse_self(nomem, false, NULL);
	_cleanup_err_ ferry_err_t err = NULL;

	ok(same(a, "/m/x"), "own cgroup: the v1 memory entry");
	ok(same(b, "/u"), "own cgroup: the 0:: entry on v2");
	ok(same(c, "/s"), "own cgroup: the first v1 entry without memory");
	ok(!lx_cg_parse_self(nomem, true, &err) && err, "v2 entry missing: error");
}

/* The process's own cgroup as this test reads it: the v1 memory entry or the first, else 0::. */
static char *own_cgroup(int layout)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	char line[512], first[512] = "", mem[512] = "", v2[512] = "";

	while (f && fgets(line, sizeof(line), f)) {
		char *path = strchr(strchr(line, ':') + 1, ':') + 1;

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "0::", 3) == 0)
			snprintf(v2, sizeof(v2), "%s", path);
		else if (!first[0])
			snprintf(first, sizeof(first), "%s", path);
		if (strstr(line, ":memory:") || strstr(line, ",memory:") ||
		    strstr(line, ":memory,"))
			snprintf(mem, sizeof(mem), "%s", path);
	}
	return strdup(layout == LX_CGROUP_V2 ? v2 : mem[0] ? mem : first);
}

static void test_resolve(int layout)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {NULL, "/ferry/abc"}, {"", "/ferry/abc"},		{"/a/b", "/a/b"},
	    {"//a//b/", "/a/b"},  {"/x.slice/c", "/x.slice/c"},
	};
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"..", "linux.cgroupsPath"},
	    {"a/../b", "linux.cgroupsPath"},
	    {"/a/./b", "linux.cgroupsPath"},
	    {"/a/..", "linux.cgroupsPath"},
	    {"/", "root"},
	    {"system.slice:docker:abc", "systemd"},
	};
	_cleanup_free_ char *own = own_cgroup(layout), *want = NULL, *rel = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *got = lx_cgroup_resolve(cases[i].in, "abc", NULL);

		ok(same(got, cases[i].want), "resolve '%s'", cases[i].in ? cases[i].in : "(null)");
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_err_ ferry_err_t err = NULL;
		char *got = lx_cgroup_resolve(bad[i].in, "abc", &err);

		ok(!got && has_msg(err, bad[i].why), "resolve '%s' refused: %s", bad[i].in,
		   err ? err->msg : "(accepted)");
		free(got);
	}
	if (asprintf(&want, "%s/rel/x", strcmp(own, "/") == 0 ? "" : own) < 0)
		want = NULL;
	rel = lx_cgroup_resolve("rel//x/", "abc", NULL);
	ok(same(rel, want), "relative path joined to the own cgroup");
}

/* ---- real cgroups ---- */

static void check_removed(const char *path)
{
	size_t total, left = dirs_present(path, &total);
	size_t tb, base_left = dirs_present(base, &tb);

	ok(left == 0, "%s gone from all %zu hierarchies (%zu left)", path, total, left);
	ok(base_left == tb, "parent %s kept in every hierarchy", base);
}

/* Freezes through the v2 files directly, where cgroup2 is mounted but not the freezer used. */
static void test_v2_freezer(void)
{
	struct lx_cg_hiers hs = {0};
	_cleanup_free_ char *dir = NULL;
	_cleanup_err_ ferry_err_t err = NULL;
	bool frozen = false;

	if (lx_cg_discover(&hs, NULL) < 0)
		return;
	for (size_t i = 0; i < hs.n && !dir; i++)
		if (hs.h[i].v2)
			dir = lx_cg_dir(&hs.h[i], c1);
	lx_cg_hiers_free(&hs);
	if (!dir)
		return;
	ok(lx_cgv2_freeze(dir, true, &err) == 0, "v2 cgroup.freeze 1 (%s)", err ? err->msg : "");
	ok(lx_cgv2_frozen(dir, &frozen, &err) == 0 && frozen, "v2 cgroup.events: frozen 1");
	ok(stalls(0), "v2-frozen child makes no progress");
	ok(lx_cgv2_freeze(dir, false, &err) == 0, "v2 cgroup.freeze 0");
	ok(lx_cgv2_frozen(dir, &frozen, &err) == 0 && !frozen, "v2 cgroup.events: frozen 0");
	ok(!stalls(0), "v2-thawed child runs again");
}

static void test_lifecycle(void)
{
	_cleanup_err_ ferry_err_t err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0, total, present;
	bool frozen = true;
	pid_t child;
	int status = 0;

	ok(lx_cgroup_create(c1, &err) == 0, "create %s (%s)", c1, err ? err->msg : "");
	present = dirs_present(c1, &total);
	ok(total > 0 && present == total, "%s exists in %zu of %zu hierarchies", c1, present,
	   total);
	ok(lx_cgroup_create(c1, &err) == 0, "create again is idempotent");
	ok(lx_cgroup_frozen(c1, &frozen, &err) == 0 && !frozen, "new cgroup is not frozen");

	child = spawn_counter(0);
	ok(child > 0 && lx_cgroup_enter(c1, child, &err) == 0, "enter %d (%s)", (int)child,
	   err ? err->msg : "");
	ok(proc_in_cgroup(child, c1), "/proc/%d/cgroup names %s in every hierarchy", (int)child,
	   c1);
	ok(lx_cgroup_pids(c1, &pids, &n, &err) == 0 && n == 1 && pids[0] == child,
	   "pids lists exactly the child (%zu)", n);

	ok(lx_cgroup_freeze(c1, true, &err) == 0, "freeze (%s)", err ? err->msg : "");
	ok(lx_cgroup_frozen(c1, &frozen, &err) == 0 && frozen, "frozen reads true");
	ok(stalls(0), "frozen child makes no progress over 200 ms");
	ok(lx_cgroup_freeze(c1, false, &err) == 0, "thaw");
	ok(lx_cgroup_frozen(c1, &frozen, &err) == 0 && !frozen, "frozen reads false");
	ok(!stalls(0), "thawed child makes progress");
	test_v2_freezer();

	ok(lx_cgroup_freeze(c1, true, &err) == 0, "freeze again");
	ok(lx_cgroup_kill(c1, SIGKILL, &err) == 0, "kill SIGKILL (%s)", err ? err->msg : "");
	/* The frozen child cannot exit until destroy thaws it; destroy waits for it. */
	ok(lx_cgroup_destroy(c1, &err) == 0, "destroy of a frozen cgroup (%s)",
	   err ? err->msg : "");
	ok(waitpid(child, &status, 0) == child && WIFSIGNALED(status) &&
	       WTERMSIG(status) == SIGKILL,
	   "child reaped with SIGKILL");
	forget(child);
	check_removed(c1);
	free(pids);
	pids = NULL;
	ok(lx_cgroup_pids(c1, &pids, &n, &err) < 0 && err && err->errnum == ENOENT,
	   "pids of a missing cgroup: ENOENT");
	ferry_error_free(&err);
	ok(lx_cgroup_destroy(c1, &err) == 0, "destroy of a missing cgroup succeeds");
	ok(lx_cgroup_frozen(c1, &frozen, &err) == 0 && !frozen, "missing cgroup is not frozen");
}

/* Child in c2 forks a grandchild; the grandchild goes to c2/sub. */
static pid_t spawn_parent_of_counter(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pid_t g = fork();

		if (g == 0) {
			for (;;) {
				sh->counter[1]++;
				usleep(1000);
			}
		}
		sh->grandchild = g;
		for (;;)
			pause();
	}
	if (pid > 0)
		kids[nkids++] = pid;
	return pid;
}

static void test_recursive(void)
{
	_cleanup_err_ ferry_err_t err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	pid_t child, g;
	int status = 0;

	ok(lx_cgroup_create(c2, &err) == 0, "create %s", c2);
	child = spawn_parent_of_counter();
	for (int i = 0; i < 500 && !sh->grandchild; i++)
		usleep(2000);
	g = sh->grandchild;
	ok(child > 0 && g > 0, "child %d forked grandchild %d", (int)child, (int)g);
	ok(lx_cgroup_enter(c2, child, &err) == 0 && lx_cgroup_create(c2sub, &err) == 0 &&
	       lx_cgroup_enter(c2sub, g, &err) == 0,
	   "child in %s, grandchild in %s (%s)", c2, c2sub, err ? err->msg : "");
	ok(proc_in_cgroup(g, c2sub), "grandchild's /proc cgroup names %s", c2sub);
	ok(lx_cgroup_pids(c2, &pids, &n, &err) == 0 && n == 2 &&
	       pids[0] == (child < g ? child : g) && pids[1] == (child < g ? g : child),
	   "recursive pids: child and grandchild, sorted (%zu)", n);
	ok(lx_cgroup_freeze(c2, true, &err) == 0 && stalls(1), "freezing %s stops the grandchild",
	   c2);
	ok(lx_cgroup_freeze(c2, false, &err) == 0 && !stalls(1), "thaw resumes it");

	ok(lx_cgroup_kill(c2, SIGTERM, &err) == 0, "kill SIGTERM walks the pids");
	ok(waitpid(child, &status, 0) == child && WIFSIGNALED(status) &&
	       WTERMSIG(status) == SIGTERM,
	   "child died of SIGTERM");
	forget(child);
	ok(waitpid(g, &status, 0) == g && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	   "grandchild died of SIGTERM");
	sh->grandchild = 0;
	ok(lx_cgroup_destroy(c2, &err) == 0, "destroy removes %s and %s (%s)", c2sub, c2,
	   err ? err->msg : "");
	check_removed(c2sub);
	check_removed(c2);
}

static void test_bad_paths(void)
{
	static const char *const bad[] = {"relative", "/", "/a/../b", "/a//b", "/a/"};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_err_ ferry_err_t err = NULL;

		ok(lx_cgroup_create(bad[i], &err) < 0 && err && err->errnum == EINVAL,
		   "create '%s' refused", bad[i]);
	}
}

/* A failing create removes the directories it made: the kernel refuses a name with a newline. */
static void test_create_rollback(void)
{
	_cleanup_err_ ferry_err_t err = NULL;
	char path[512], top[128];
	size_t total, left;

	snprintf(top, sizeof(top), "%s/c3", base);
	snprintf(path, sizeof(path), "%s/a\nb", top);
	ok(lx_cgroup_create(path, &err) < 0 && err && err->errnum == EINVAL,
	   "create of a name with a newline fails");
	left = dirs_present(top, &total);
	ok(left == 0, "failed create left nothing behind (%zu of %zu)", left, total);
}

static void test_layout(void)
{
	char mnts[32][256];
	size_t v1, v2;
	int want, got = lx_cgroup_layout(NULL);

	cgroup_mounts(mnts, 32, &v1, &v2);
	want = v1 && v2 ? LX_CGROUP_HYBRID : v2 ? LX_CGROUP_V2 : LX_CGROUP_V1;
	/* A host whose only v1 mount is name=systemd next to cgroup2 counts as v2. */
	ok(got == want || (want == LX_CGROUP_HYBRID && got == LX_CGROUP_V2),
	   "host layout %d (v1 mounts %zu, cgroup2 mounts %zu)", got, v1, v2);
}

int main(void)
{
	test_mountinfo();
	test_self();
	if (geteuid() != 0) {
		diag("not root: real cgroup tests skipped");
		return done_testing();
	}
	test_layout();
	test_resolve(lx_cgroup_layout(NULL));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		ok(0, "mmap shared counter");
		return done_testing();
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(base, sizeof(base), "/ferry-test-%d", (int)getpid());
	snprintf(c1, sizeof(c1), "%s/c1", base);
	snprintf(c2, sizeof(c2), "%s/c2", base);
	snprintf(c2sub, sizeof(c2sub), "%s/sub", c2);
	signal(SIGALRM, on_alarm);
	alarm(60);
	test_bad_paths();
	test_create_rollback();
	test_lifecycle();
	test_recursive();
	cleanup();
	{
		size_t total;

		ok(dirs_present(base, &total) == 0, "test cgroups cleaned up");
	}
	return done_testing();
}
