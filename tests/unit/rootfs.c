// SPDX-License-Identifier: Apache-2.0
/*
 * The container filesystem on the real kernel: a busybox rootfs is prepared, pivoted into and
 * finalized by a process that is pid 1 of new mount, pid, network, UTS and IPC namespaces; it
 * checks the result from inside and reports through a pipe. The mounts die with the namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/spec.h"
#include "os/linux/rootfs.h"
#include "tap.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static char tmpdir[] = "/tmp/ferry-rootfs.XXXXXX";
static char escape_name[64];
static int report_fd = -1;

/* In the child: one result line ("1 text" or "0 text") to the parent. */
static void report(int pass, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "%d ", pass ? 1 : 0);

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = '|';
	buf[n++] = '\n';
	if (write(report_fd, buf, (size_t)n) < 0)
		_exit(3);
}

static void report_err(const char *what, ferry_err_t *err)
{
	report(*err == NULL, "%s%s%s", what, *err ? ": " : "", *err ? (*err)->msg : "");
	ferry_error_free(err);
}

static int write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	char buf[65536];
	ssize_t n;

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	return n < 0 ? -1 : 0;
}

/* tmpdir/rootfs with busybox, tmpdir/hostfile, tmpdir/hostdir, and a symlink that points out. */
static int make_bundle(void)
{
	static const char *const dirs[] = {"rootfs",	 "rootfs/bin", "rootfs/proc", "rootfs/tmp",
					   "rootfs/sys", "rootfs/etc", "hostdir"};
	char p[256], q[256];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, dirs[i]);
		if (mkdir(p, 0755) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/rootfs/bin/busybox", tmpdir);
	snprintf(q, sizeof(q), "%s/hostfile", tmpdir);
	if (copy_file("/bin/busybox", p) < 0 || write_file(q, "hello\n") < 0)
		return -1;
	/* Resolved as it would be inside the container: it must stay in the rootfs. */
	snprintf(p, sizeof(p), "%s/rootfs/escape", tmpdir);
	snprintf(q, sizeof(q), "/%s", escape_name);
	return symlink(q, p);
}

static const char *config_fmt =
    "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
    "\"process\": {\"cwd\": \"/\", \"args\": [\"sh\"], \"user\": {\"uid\": 0, \"gid\": 0}},"
    "\"mounts\": ["
    "{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
    "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
    " \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
    "{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
    " \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"]},"
    "{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
    " \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
    "{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
    " \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
    "{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
    " \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"
    "{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\","
    " \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]},"
    "{\"destination\": \"/run\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
    " \"options\": [\"nosuid\", \"ro\", \"mode=700\"]},"
    "{\"destination\": \"/etc/hostfile\", \"type\": \"bind\", \"source\": \"hostfile\","
    " \"options\": [\"bind\", \"ro\"]},"
    "{\"destination\": \"/mnt/dir\", \"type\": \"none\", \"source\": \"%s/hostdir\","
    " \"options\": [\"rbind\", \"rro\", \"rprivate\"]},"
    "{\"destination\": \"/escape/inside\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}"
    "],"
    "\"linux\": {"
    " \"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"pid\"}, {\"type\": \"network\"},"
    "  {\"type\": \"uts\"}, {\"type\": \"ipc\"}],"
    " \"devices\": [{\"path\": \"/dev/mydev\", \"type\": \"c\", \"major\": 1, \"minor\": 7,"
    "  \"fileMode\": 384, \"uid\": 1000, \"gid\": 1001},"
    "  {\"path\": \"/dev/sub/myfifo\", \"type\": \"p\"}],"
    " \"maskedPaths\": [\"/proc/kcore\", \"/proc/timer_list\", \"/proc/fs\", \"/nonexistent\"],"
    " \"readonlyPaths\": [\"/proc/sys\", \"/proc/nothing-here\"],"
    " \"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.domainname\": \"ferry.test\"}"
    "}}";

static struct ferry_spec *load_spec(const char *json, ferry_err_t *err)
{
	return ferry_spec_parse(json, strlen(json), tmpdir, err);
}

static void check_dev(const char *path, char type, unsigned maj, unsigned min, mode_t mode,
		      uid_t uid)
{
	struct stat st;
	bool is =
	    lstat(path, &st) == 0 && (type == 'p' ? S_ISFIFO(st.st_mode) : S_ISCHR(st.st_mode));

	if (type != 'p')
		is = is && major(st.st_rdev) == maj && minor(st.st_rdev) == min;
	report(is && (st.st_mode & 07777) == mode && st.st_uid == uid,
	       "%s: %c %u:%u mode %04o uid %u", path, type, maj, min, mode, uid);
}

static void check_link(const char *path, const char *want)
{
	char buf[256];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	report(n > 0 && strcmp(buf, want) == 0, "%s -> %s (got \"%s\")", path, want, buf);
}

/* Opening for writing fails with EROFS. */
static void check_erofs(const char *path, int flags)
{
	int fd = open(path, O_WRONLY | flags | O_CLOEXEC, 0644);
	int e = errno;

	if (fd >= 0)
		close(fd);
	report(fd < 0 && e == EROFS, "%s is read-only (%s)", path, fd < 0 ? strerror(e) : "opened");
}

static void check_read(const char *path, const char *want)
{
	char buf[256] = "";
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	report(n >= 0 && strcmp(buf, want) == 0, "%s reads \"%s\" (got \"%s\")", path, want, buf);
}

static void check_inside(void)
{
	struct stat st, null;
	struct statfs sf;
	DIR *d;

	check_dev("/dev/null", 'c', 1, 3, 0666, 0);
	check_dev("/dev/zero", 'c', 1, 5, 0666, 0);
	check_dev("/dev/urandom", 'c', 1, 9, 0666, 0);
	check_dev("/dev/tty", 'c', 5, 0, 0666, 0);
	check_dev("/dev/mydev", 'c', 1, 7, 0600, 1000);
	check_dev("/dev/sub/myfifo", 'p', 0, 0, 0666, 0);
	check_link("/dev/ptmx", "pts/ptmx");
	check_link("/dev/fd", "/proc/self/fd");
	check_link("/dev/stderr", "/proc/self/fd/2");
	report(stat("/dev/pts/ptmx", &st) == 0 && S_ISCHR(st.st_mode), "devpts at /dev/pts");
	report(fstat(0, &st) == 0 && stat("/dev/null", &null) == 0 && st.st_dev == null.st_dev &&
		   st.st_ino == null.st_ino,
	       "stdin reopened on the container's /dev/null");
	report(statfs("/dev/mqueue", &sf) == 0 && sf.f_type == 0x19800202, "mqueue at /dev/mqueue");
	report(stat("/dev/shm", &st) == 0 && (st.st_mode & 07777) == 01777, "/dev/shm mode 1777");
	report(getpid() == 1 && access("/proc/1/status", R_OK) == 0, "our own proc at /proc");
	check_read("/proc/timer_list", "");
	report(statfs("/proc/fs", &sf) == 0 && sf.f_type == TMPFS_MAGIC &&
		   (d = opendir("/proc/fs")) != NULL,
	       "masked directory /proc/fs is a tmpfs");
	check_erofs("/proc/fs/x", O_CREAT);
	check_read("/proc/sys/net/ipv4/ip_forward", "1\n");
	check_read("/proc/sys/kernel/domainname", "ferry.test\n");
	check_erofs("/proc/sys/net/ipv4/ip_forward", 0);
	check_erofs("/tmp/file", O_CREAT);
	check_erofs("/run/file", O_CREAT);
	report(write_file("/dev/shm/file", "x") == 0, "/dev/shm is writable");
	check_read("/etc/hostfile", "hello\n");
	check_erofs("/etc/hostfile", 0);
	check_erofs("/mnt/dir/file", O_CREAT);
	report(stat("/sys/fs/cgroup/memory/cgroup.procs", &st) == 0,
	       "cgroup v1 memory hierarchy under /sys/fs/cgroup");
	check_erofs("/sys/fs/cgroup/memory/cgroup.procs", 0);
	report(statfs("/escape/inside", &sf) == 0 && sf.f_type == TMPFS_MAGIC,
	       "mount through an absolute symlink lands inside the rootfs");
	report(access("/bin/busybox", X_OK) == 0, "the rootfs is /");
}

static void run_container(const struct ferry_spec *spec)
{
	_cleanup_err_ ferry_err_t err = NULL;
	int null = open("/dev/null", O_RDONLY);

	if (null < 0 || dup2(null, 0) < 0)
		_exit(2);
	close(null);
	lx_rootfs_prepare(spec, false, &err);
	report_err("prepare", &err);
	lx_rootfs_pivot(spec, false, &err);
	report_err("pivot", &err);
	lx_rootfs_finalize(spec, &err);
	report_err("finalize", &err);
	check_inside();
}

static pid_t container_pid;

/* A container process that hangs is killed, and the test goes on. */
static void on_alarm(int sig)
{
	if (container_pid > 0)
		kill(container_pid, SIGKILL);
}

/* Runs fn(spec) as pid 1 of new namespaces (flags); its reports go to report_fd. */
static void in_namespaces(int flags, void (*fn)(const struct ferry_spec *),
			  const struct ferry_spec *spec)
{
	pid_t pid = fork();
	int st;

	if (pid != 0)
		return;
	if (unshare(flags) < 0) {
		report(0, "unshare: %s", strerror(errno));
		_exit(1);
	}
	pid = fork();
	if (pid == 0) {
		fn(spec);
		_exit(0);
	}
	container_pid = pid;
	signal(SIGALRM, on_alarm);
	alarm(60);
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		report(0, "container process ended badly");
	_exit(0);
}

/* Reads the child's result lines into TAP until the pipe closes; reaps it. */
static void collect(int rfd)
{
	_cleanup_fclose_ FILE *f = fdopen(rfd, "r");
	char line[600];

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		ok(line[0] == '1', "%s", line + 2);
	}
	while (wait(NULL) > 0)
		;
}

static void run_in_child(int flags, void (*fn)(const struct ferry_spec *),
			 const struct ferry_spec *spec)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	report_fd = p[1];
	in_namespaces(flags, fn, spec);
	close(p[1]);
	collect(p[0]);
}

static void run_bad_mount(const struct ferry_spec *spec)
{
	_cleanup_err_ ferry_err_t err = NULL;
	const char *want = "mounts[1] (/x): mount nosuchfs: No such device";

	int r = lx_rootfs_prepare(spec, false, &err);

	report(r < 0 && err && strcmp(err->msg, want) == 0, "a failed mount is named: \"%s\"",
	       err ? err->msg : "(no error)");
}

static void run_no_pivot(const struct ferry_spec *spec)
{
	_cleanup_err_ ferry_err_t err = NULL;
	char cwd[64] = "";

	lx_rootfs_prepare(spec, false, &err);
	report_err("no_pivot: prepare", &err);
	lx_rootfs_pivot(spec, true, &err);
	report_err("no_pivot: move and chroot", &err);
	report(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0, "no_pivot: cwd is / (%s)", cwd);
	report(access("/bin/busybox", X_OK) == 0, "no_pivot: the rootfs is /");
	report(getpid() == 1 && access("/proc/1/status", R_OK) == 0, "no_pivot: our own proc");
	report(access("/sys/kernel", F_OK) < 0, "no_pivot: the host's /sys is out of reach");
}

/* One config with a single change, parsed; NULL (and a failed test) when it does not parse. */
static struct ferry_spec *spec_with(const char *mounts, const char *linux_extra)
{
	_cleanup_err_ ferry_err_t err = NULL;
	_cleanup_free_ char *json = NULL;
	struct ferry_spec *s;

	if (asprintf(&json,
		     "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
		     "\"process\": {\"cwd\": \"/\", \"args\": [\"sh\"], \"user\": {\"uid\": 0, "
		     "\"gid\": 0}},"
		     "\"mounts\": [%s], \"linux\": {\"namespaces\": [{\"type\": \"mount\"},"
		     "{\"type\": \"pid\"}]%s}}",
		     mounts, linux_extra) < 0)
		abort();
	s = load_spec(json, &err);
	if (!s)
		ok(0, "config parses: %s", err ? err->msg : "?");
	return s;
}

static void validate_is(struct ferry_spec *s, const char *want, const char *what)
{
	_cleanup_err_ ferry_err_t err = NULL;
	int r = s ? lx_rootfs_validate(s, &err) : -1;

	if (!want)
		ok(s && r == 0, "validate: %s%s%s", what, err ? ": " : "", err ? err->msg : "");
	else
		is_str(err ? err->msg : NULL, want, "validate: %s", what);
	ferry_spec_free(s);
}

static void test_validate(void)
{
	char want[256];
	struct ferry_spec *s;

	validate_is(spec_with("{\"destination\": \"/proc\", \"type\": \"proc\"},"
			      "{\"destination\": \"/dev/pts\", \"type\": \"devpts\","
			      " \"options\": [\"newinstance\", \"ptmxmode=0666\", \"gid=5\"]},"
			      "{\"destination\": \"/h\", \"source\": \"hostfile\","
			      " \"options\": [\"rbind\", \"rro\"]}",
			      ""),
		    NULL, "fs-specific words and a relative bind source are accepted");
	s = spec_with("{\"destination\": \"/proc\", \"type\": \"proc\"}", "");
	if (s) {
		s->mounts[0].destination[0] = 'x';
		validate_is(s, "mounts[0].destination: \"xproc\" is not absolute",
			    "relative destination");
	}
	validate_is(spec_with("{\"destination\": \"/a/../../etc\", \"type\": \"tmpfs\"}", ""),
		    "mounts[0].destination: \"/a/../../etc\" leaves the rootfs", "escaping ..");
	validate_is(spec_with("{\"destination\": \"/a\", \"type\": \"bind\","
			      " \"source\": \"/nonexistent-ferry\", \"options\": [\"bind\"]}",
			      ""),
		    "mounts[0].source: /nonexistent-ferry: No such file or directory",
		    "missing bind source");
	validate_is(spec_with("{\"destination\": \"/a\", \"type\": \"tmpfs\","
			      " \"options\": [\"size=1m\", \"idmap\"]}",
			      ""),
		    "mounts[0]: options[1]: \"idmap\": idmapped mounts are not supported yet",
		    "idmap refused");
	validate_is(spec_with("", ", \"sysctl\": {\"kernel.shmmax\": \"1\"}"),
		    "sysctl \"kernel.shmmax\" is not allowed in the hosts ipc namespace",
		    "ipc sysctl without an ipc namespace");
	validate_is(spec_with("", ", \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}"),
		    "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace",
		    "net sysctl without a network namespace");
	s = spec_with("", "");
	if (s) {
		s->linux.rootfs_propagation = strdup("sideways");
		validate_is(s, "linux.rootfsPropagation: \"sideways\" is not supported",
			    "unknown rootfsPropagation");
	}
	s = spec_with("", ", \"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1,"
			  " \"minor\": 3}]");
	if (s) {
		s->linux.devices[0].type = 'x';
		validate_is(s, "linux.devices[0].type: invalid device type 'x'", "bad device type");
	}
	s = spec_with("", "");
	if (s) {
		free(s->rootfs);
		if (asprintf(&s->rootfs, "%s/missing", tmpdir) < 0)
			abort();
		snprintf(want, sizeof(want), "root.path: %s/missing: No such file or directory",
			 tmpdir);
		validate_is(s, want, "missing rootfs");
	}
	s = spec_with("", "");
	if (s) {
		free(s->rootfs);
		if (asprintf(&s->rootfs, "%s/hostfile", tmpdir) < 0)
			abort();
		snprintf(want, sizeof(want), "root.path: %s/hostfile: Not a directory", tmpdir);
		validate_is(s, want, "rootfs not a directory");
	}
}

static void test_container(void)
{
	_cleanup_err_ ferry_err_t err = NULL;
	_cleanup_free_ char *json = NULL;
	struct ferry_spec *spec;
	char esc[80];

	if (asprintf(&json, config_fmt, tmpdir) < 0)
		abort();
	spec = load_spec(json, &err);
	ok(spec != NULL, "config parses%s%s", err ? ": " : "", err ? err->msg : "");
	if (!spec)
		return;
	ok(lx_rootfs_validate(spec, &err) == 0, "config validates%s%s", err ? ": " : "",
	   err ? err->msg : "");
	ferry_error_free(&err);
	run_in_child(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC,
		     run_container, spec);
	ferry_spec_free(spec);
	snprintf(esc, sizeof(esc), "/%s", escape_name);
	ok(access(esc, F_OK) < 0 && errno == ENOENT, "nothing was created at %s on the host", esc);
}

static void test_failures(void)
{
	struct ferry_spec *s;

	s = spec_with("{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},"
		      "{\"destination\": \"/x\", \"type\": \"nosuchfs\", \"source\": \"none\"}",
		      "");
	if (s)
		run_in_child(CLONE_NEWNS, run_bad_mount, s);
	ferry_spec_free(s);
	s = spec_with("{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
		      "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}",
		      "");
	if (s)
		run_in_child(CLONE_NEWNS | CLONE_NEWPID, run_no_pivot, s);
	ferry_spec_free(s);
}

static void remove_tree(const char *path)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", "--one-file-system", path, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	snprintf(escape_name, sizeof(escape_name), "ferry-rootfs-escape-%d", (int)getpid());
	if (!mkdtemp(tmpdir) || make_bundle() < 0) {
		ok(0, "bundle in %s: %s", tmpdir, strerror(errno));
		remove_tree(tmpdir);
		return done_testing();
	}
	test_validate();
	test_container();
	test_failures();
	remove_tree(tmpdir);
	ok(access(tmpdir, F_OK) < 0, "bundle removed");
	return done_testing();
}
