// SPDX-License-Identifier: Apache-2.0
/*
 * What a container's namespaces hold, on the real kernel: processes with their own UTS, IPC,
 * network and mount namespaces and a tmpfs play the container. One is filled (files, a link, a
 * fifo, a device node, mounts below it, a hostname, sysctls) and collected; a fresh one gets it
 * back through prepare and is checked from the host. Links planted in the target must not lead
 * prepare out; a path held by a process and missing from the root is a clear error. SysV
 * semaphore sets and message queues go from one to the other with their ids. Every process dies
 * with the test (SIGKILL, parent-death signal), its mounts with its namespace; the temp directory
 * is removed at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "cr/model.h"
#include "ferry/spec.h"
#include "os/linux/container_ns.h"
#include "tap.h"

#define SRC_MTIME 1600000000
#define SRC_NSEC 123456789
#define DATA_LEN 3000

static char tmpdir[] = "/tmp/ferry-ctns.XXXXXX";
static char mnt[128], victim[128], victimdir[128];
static pid_t kids[16];
static size_t n_kids;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? 0 : 0;
}

static void cleanup(void)
{
	for (size_t i = 0; i < n_kids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	n_kids = 0;
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void stop(pid_t pid)
{
	for (size_t i = 0; i < n_kids; i++)
		if (kids[i] == pid) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			kids[i] = kids[--n_kids];
			return;
		}
}

static int write_file(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) < 0)
		return -1;
	return 0;
}

static int write_sysctl(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	return fd >= 0 && write(fd, value, strlen(value)) == (ssize_t)strlen(value) ? 0 : -1;
}

static void fill_data(unsigned char *buf)
{
	for (size_t i = 0; i < DATA_LEN; i++)
		buf[i] = (unsigned char)(i * 7 % 256);
}

/* In the source: the state a checkpoint must carry. */
static int fill_source(int fd)
{
	struct timespec ts[2] = {{SRC_MTIME, SRC_NSEC}, {SRC_MTIME, SRC_NSEC}};
	unsigned char data[DATA_LEN];
	char nested[256], bound[256];

	fill_data(data);
	if (write_file(fd, "hello.txt", "hello, tmpfs\n", 13, 0640) < 0 ||
	    fchownat(fd, "hello.txt", 1234, 5678, 0) < 0 || utimensat(fd, "hello.txt", ts, 0) < 0 ||
	    write_file(fd, "empty", "", 0, 0600) < 0 || mkdirat(fd, "sub", 0750) < 0 ||
	    fchownat(fd, "sub", 1000, 1001, 0) < 0 || mkdirat(fd, "sub/deep", 0700) < 0 ||
	    write_file(fd, "sub/deep/data.bin", data, DATA_LEN, 0444) < 0 ||
	    write_file(fd, "sub/suid", "#!/bin/sh\n", 10, 04755) < 0 ||
	    symlinkat("sub/deep/data.bin", fd, "link") < 0 ||
	    fchownat(fd, "link", 42, 43, AT_SYMLINK_NOFOLLOW) < 0 ||
	    symlinkat("/etc/passwd", fd, "abs-link") < 0 || mkfifoat(fd, "fifo", 0600) < 0 ||
	    mknodat(fd, "null", S_IFCHR | 0666, makedev(1, 3)) < 0)
		return -1;
	/* Other mounts below the tmpfs (another tmpfs, a bind mount of its own directory) are
	 * left out: the restore makes them from the config. */
	snprintf(nested, sizeof(nested), "%s/sub/nested", mnt);
	snprintf(bound, sizeof(bound), "%s/bound", mnt);
	if (mkdirat(fd, "sub/nested", 0755) < 0 || mount("tmpfs", nested, "tmpfs", 0, NULL) < 0 ||
	    write_file(AT_FDCWD, strcat(nested, "/inner"), "x", 1, 0644) < 0 ||
	    mkdirat(fd, "bound", 0755) < 0 || mount(mnt, bound, NULL, MS_BIND, NULL) < 0 ||
	    utimensat(fd, "sub", ts, 0) < 0 || fchown(fd, 77, 88) < 0 || fchmod(fd, 0710) < 0 ||
	    futimens(fd, ts) < 0)
		return -1;
	if (sethostname("ctns-source", 11) < 0 || setdomainname("ctns.example", 12) < 0)
		return -1;
	if (write_sysctl("/proc/sys/net/ipv4/ip_forward", "1") < 0 ||
	    write_sysctl("/proc/sys/kernel/shmmax", "123456789") < 0)
		return -1;
	return 0;
}

static int fill_empty(int fd)
{
	return 0;
}

static int plant_file_link(int fd)
{
	return symlinkat(victim, fd, "hello.txt");
}

static int plant_dir_link(int fd)
{
	return symlinkat(victimdir, fd, "sub");
}

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static const unsigned short sem_values[3] = {5, 0, 32767};
static const struct {
	long type;
	const char *text;
} sysv_msgs[3] = {{2, "first"}, {1, "second, shorter type"}, {7, ""}};

#define SEM_KEY 0x5e3
#define QBYTES 100000

/* A semaphore set (key SEM_KEY, mode 0640, owner 1000:100, values sem_values) and a private
 * queue (mode 0620, qbytes QBYTES, above msgmnb) holding sysv_msgs; each made after an empty
 * one and a removed one, so its id (2) is not the one a fresh namespace gives next (1). */
static int make_sysv(int fd)
{
	union semun arg = {.array = (unsigned short *)sem_values};
	struct semid_ds ds;
	struct {
		long type;
		char text[64];
	} m;
	int sem, q;

	if (semget(IPC_PRIVATE, 1, IPC_CREAT | 0600) < 0 || msgget(IPC_PRIVATE, IPC_CREAT) < 0)
		return -1;
	sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600), q = msgget(IPC_PRIVATE, IPC_CREAT);
	if (sem < 0 || q < 0 || semctl(sem, 0, IPC_RMID) < 0 || msgctl(q, IPC_RMID, NULL) < 0)
		return -1;
	sem = semget(SEM_KEY, 3, IPC_CREAT | IPC_EXCL | 0640);
	if (write_sysctl("/proc/sys/kernel/msgmnb", "100000") < 0)
		return -1;
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0620);
	if (sem < 0 || q < 0 || write_sysctl("/proc/sys/kernel/msgmnb", "16384") < 0 ||
	    semctl(sem, 0, SETALL, arg) < 0)
		return -1;
	arg.buf = &ds;
	if (semctl(sem, 0, IPC_STAT, arg) < 0)
		return -1;
	ds.sem_perm.uid = 1000, ds.sem_perm.gid = 100;
	if (semctl(sem, 0, IPC_SET, arg) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sysv_msgs); i++) {
		m.type = sysv_msgs[i].type;
		strcpy(m.text, sysv_msgs[i].text);
		if (msgsnd(q, &m, strlen(m.text), IPC_NOWAIT) < 0)
			return -1;
	}
	return 0;
}

static int make_sparse_file(int fd)
{
	_cleanup_close_ int f = openat(fd, "big", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	return f < 0 || ftruncate(f, (1ll << 30) + 1) < 0 ? -1 : 0;
}

/* A queue holding 33 MiB (msgmnb and msgmax raised in its namespace). */
static int make_full_queue(int fd)
{
	static struct {
		long type;
		char text[1 << 20];
	} m = {.type = 1};
	int q;

	if (write_sysctl("/proc/sys/kernel/msgmnb", "40000000") < 0 ||
	    write_sysctl("/proc/sys/kernel/msgmax", "1048576") < 0)
		return -1;
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	for (int i = 0; q >= 0 && i < 33; i++)
		if (msgsnd(q, &m, sizeof(m.text), IPC_NOWAIT) < 0)
			return -1;
	return q < 0 ? -1 : 0;
}

#define BIG_MSG 10000

/* As the root of its user namespace: a queue of qbytes 100000 above msgmnb, holding a message of
 * BIG_MSG bytes above msgmax (both raised for it, then put back) and one of 3 bytes. */
static int make_big_queue(int fd)
{
	static struct {
		long type;
		char text[BIG_MSG];
	} m;
	int q;

	if (write_sysctl("/proc/sys/kernel/msgmnb", "100000") < 0 ||
	    write_sysctl("/proc/sys/kernel/msgmax", "20000") < 0)
		return -1;
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	memset(m.text, 'x', sizeof(m.text));
	m.type = 5;
	if (q < 0 || msgsnd(q, &m, BIG_MSG, IPC_NOWAIT) < 0)
		return -1;
	m.type = 9;
	if (msgsnd(q, &m, 3, IPC_NOWAIT) < 0 ||
	    write_sysctl("/proc/sys/kernel/msgmnb", "16384") < 0 ||
	    write_sysctl("/proc/sys/kernel/msgmax", "8192") < 0)
		return -1;
	return 0;
}

/* Three semaphore sets, so the ids of make_sysv's are taken. */
static int make_sem_sets(int fd)
{
	for (int i = 0; i < 3; i++)
		if (semget(IPC_PRIVATE, 1, IPC_CREAT | 0600) < 0)
			return -1;
	return 0;
}

static int make_shm_unattached(int fd)
{
	return shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) < 0 ? -1 : 0;
}

static int make_shm_attached(int fd)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);

	return id < 0 || shmat(id, NULL, 0) == (void *)-1 ? -1 : 0;
}

/* Starts a "container": own UTS, IPC, network and mount namespaces, a tmpfs at mnt, filled by
 * fill; returns its pid once ready, or -1. */
static pid_t start_container(int (*fill)(int fd))
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd;

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", mnt, "tmpfs", 0, "mode=755") < 0)
			_exit(1);
		fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fill(fd) < 0 || write(p[1], "R", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	kids[n_kids++] = pid;
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		stop(pid);
		return -1;
	}
	close(p[0]);
	return pid;
}

/* Writes "0 100000 65536" to /proc/<pid>/<file>; returns 0 or -1. */
static int write_map(pid_t pid, const char *file, const char *text)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return write_sysctl(path, text);
}

/* Starts a "container" in its own user namespace (root is 100000 outside) and IPC, UTS and
 * network namespaces it owns, filled by fill as its root; returns its pid once ready, or -1. */
static pid_t start_userns_container(int (*fill)(int fd))
{
	int ready[2], go[2];
	char c = 0;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(go, O_CLOEXEC) < 0) {
		close(ready[0]), close(ready[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWUSER) < 0 || write(ready[1], "U", 1) != 1 ||
		    read(go[0], &c, 1) != 1 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 ||
		    unshare(CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) < 0 || fill(-1) < 0 ||
		    write(ready[1], "R", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]), close(go[0]);
	if (pid > 0) {
		kids[n_kids++] = pid;
		if (read(ready[0], &c, 1) != 1 || write_map(pid, "uid_map", "0 100000 65536") < 0 ||
		    write_map(pid, "setgroups", "deny") < 0 ||
		    write_map(pid, "gid_map", "0 100000 65536") < 0 || write(go[1], "G", 1) != 1 ||
		    read(ready[0], &c, 1) != 1 || c != 'R')
			c = 0;
	}
	close(ready[0]), close(go[1]);
	if (pid > 0 && c != 'R') {
		stop(pid);
		return -1;
	}
	return pid;
}

/* Reads /proc/sys/<path> as pid's network, IPC and UTS namespaces see it; returns a new string
 * (final newline dropped) or NULL. */
static char *ns_read(pid_t pid, const char *path)
{
	static const char *const ns[] = {"net", "ipc", "uts"};
	char buf[256] = "";
	int p[2];
	ssize_t n = 0;
	pid_t child;

	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	child = fork();
	if (child == 0) {
		char f[128];
		int fd;

		for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
			snprintf(f, sizeof(f), "/proc/%d/ns/%s", (int)pid, ns[i]);
			fd = open(f, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, 0) < 0)
				_exit(1);
		}
		snprintf(f, sizeof(f), "/proc/sys/%s", path);
		fd = open(f, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (n < 0 || write(p[1], buf, (size_t)n) != n)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (child > 0)
		n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (child < 0 || n < 0)
		return NULL;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return strdup(buf);
}

static struct ferry_spec *make_spec(bool with_tmpfs, bool with_sysctl)
{
	char json[2048];
	ferry_err_t err = NULL;
	struct ferry_spec *s;

	snprintf(json, sizeof(json),
		 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
		 "\"process\": {\"cwd\": \"/\", \"args\": [\"sh\"]},"
		 "\"hostname\": \"from-config\","
		 "\"mounts\": [%s%s%s"
		 "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"shm\"}],"
		 "\"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"network\"},"
		 " {\"type\": \"ipc\"}, {\"type\": \"uts\"}],"
		 " \"sysctl\": {%s}}}",
		 with_tmpfs ? "{\"destination\": \"" : "", with_tmpfs ? mnt : "",
		 with_tmpfs ? "\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}," : "",
		 with_sysctl ? "\"net.ipv4.ip_forward\": \"0\", \"kernel.shmmax\": \"1000\"" : "");
	s = ferry_spec_parse(json, strlen(json), tmpdir, &err);
	if (!s)
		diag("spec: %s", err->msg);
	ferry_error_free(&err);
	return s;
}

static const struct cr_mount_file *find_file(const struct cr_mount_files *m, const char *path,
					     size_t *index)
{
	for (size_t i = 0; i < m->n_files; i++)
		if (strcmp(m->files[i].path, path) == 0) {
			if (index)
				*index = i;
			return &m->files[i];
		}
	return NULL;
}

static bool has_sysctl(const struct cr_container *c, const char *kv)
{
	for (size_t i = 0; i < c->n_sysctls; i++)
		if (strcmp(c->sysctls[i], kv) == 0)
			return true;
	return false;
}

static void check_collected(const struct cr_container *c)
{
	const struct cr_mount_files *m = c->n_mounts == 1 ? &c->mounts[0] : NULL;
	const struct cr_mount_file *f;
	size_t a = 0, b = 0, d = 0;

	is_str(c->hostname, "ctns-source", "collect: hostname of the UTS namespace");
	is_str(c->domainname, "ctns.example", "collect: domainname");
	ok(c->n_sysctls == 2 && has_sysctl(c, "net.ipv4.ip_forward=1"),
	   "collect: net.ipv4.ip_forward as the network namespace has it");
	ok(has_sysctl(c, "kernel.shmmax=123456789"), "collect: kernel.shmmax of the IPC namespace");
	ok(m && strcmp(m->destination, mnt) == 0, "collect: one tmpfs (/dev itself left out)");
	if (!m)
		return;
	f = find_file(m, "hello.txt", NULL);
	ok(f && f->mode == (S_IFREG | 0640) && f->uid == 1234 && f->gid == 5678 &&
	       f->data.len == 13 && memcmp(f->data.data, "hello, tmpfs\n", 13) == 0 &&
	       f->mtime_ns == SRC_MTIME * 1000000000ull + SRC_NSEC,
	   "collect: a file with its contents, mode, owner and time");
	f = find_file(m, "link", NULL);
	ok(f && S_ISLNK(f->mode) && f->target && strcmp(f->target, "sub/deep/data.bin") == 0 &&
	       f->uid == 42,
	   "collect: a link with its target and owner");
	ok(find_file(m, "sub", &a) && find_file(m, "sub/deep", &b) &&
	       find_file(m, "sub/deep/data.bin", &d) && a < b && b < d,
	   "collect: parents before children");
	f = find_file(m, ".", &a);
	ok(f && a == 0 && f->mode == (S_IFDIR | 0710) && f->uid == 77 && f->gid == 88,
	   "collect: the mount's own directory first, with its mode and owner");
	ok(!find_file(m, "fifo", NULL) && !find_file(m, "null", NULL) && m->n_files == 9,
	   "collect: the fifo and the device node left out (%zu entries)", m->n_files);
}

/* Checks one restored entry against the source's through /proc/pid/root. */
static bool same_entry(pid_t pid, const struct cr_mount_file *f)
{
	char path[512], buf[DATA_LEN + 1];
	struct stat st;
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/root%s/%s", (int)pid, mnt, f->path);
	if (lstat(path, &st) < 0 || st.st_mode != f->mode || st.st_uid != f->uid ||
	    st.st_gid != f->gid ||
	    (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec !=
		f->mtime_ns) {
		diag("%s differs", f->path);
		return false;
	}
	if (S_ISLNK(f->mode)) {
		ssize_t n = readlink(path, buf, sizeof(buf) - 1);

		return n >= 0 && (buf[n] = '\0', strcmp(buf, f->target) == 0);
	}
	if (!S_ISREG(f->mode))
		return true;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)f->data.len &&
	       memcmp(buf, f->data.data, f->data.len) == 0;
}

static void check_restored(pid_t pid, const struct cr_container *c)
{
	const struct cr_mount_files *m = &c->mounts[0];
	_cleanup_free_ char *host = ns_read(pid, "kernel/hostname");
	_cleanup_free_ char *domain = ns_read(pid, "kernel/domainname");
	_cleanup_free_ char *fwd = ns_read(pid, "net/ipv4/ip_forward");
	_cleanup_free_ char *shmmax = ns_read(pid, "kernel/shmmax");
	size_t same = 0;
	char path[512];
	struct stat st;

	for (size_t i = 0; i < m->n_files; i++)
		same += same_entry(pid, &m->files[i]);
	ok(m->n_files == 9 && same == m->n_files,
	   "prepare: every file, directory and link back with contents, mode, owner, time");
	snprintf(path, sizeof(path), "/proc/%d/root%s/sub/suid", (int)pid, mnt);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 04755, "prepare: set-user-ID kept");
	snprintf(path, sizeof(path), "/proc/%d/root%s/fifo", (int)pid, mnt);
	ok(lstat(path, &st) < 0 && errno == ENOENT, "prepare: no fifo made");
	is_str(host, "ctns-source", "prepare: hostname");
	is_str(domain, "ctns.example", "prepare: domainname");
	is_str(fwd, "1", "prepare: net.ipv4.ip_forward in the network namespace");
	is_str(shmmax, "123456789", "prepare: kernel.shmmax in the IPC namespace");
}

static bool victims_untouched(void)
{
	char buf[64] = "";
	_cleanup_close_ int fd = open(victim, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	char p[256];

	snprintf(p, sizeof(p), "%s/deep", victimdir);
	return n == 9 && memcmp(buf, "untouched", 9) == 0 && lstat(p, &st) < 0 &&
	       stat(victim, &st) == 0 && st.st_mode == (S_IFREG | 0644) && st.st_uid == 0;
}

static void test_planted_links(const struct ferry_spec *spec, struct cr_image *img)
{
	int (*const plants[])(int) = {plant_file_link, plant_dir_link};
	const char *names[] = {"a link to a host file", "a link to a host directory"};

	for (size_t i = 0; i < ARRAY_SIZE(plants); i++) {
		ferry_err_t err = NULL;
		pid_t pid = start_container(plants[i]);
		int r = pid > 0 ? lx_ct_prepare(pid, spec, img, &err) : 0;

		ok(pid > 0 && r < 0 && victims_untouched(),
		   "prepare: %s planted in the tmpfs: an error, nothing written outside", names[i]);
		if (err)
			diag("%s", err->msg);
		ferry_error_free(&err);
		if (pid > 0)
			stop(pid);
	}
}

static void test_missing_held_path(const struct ferry_spec *spec)
{
	struct cr_fd fds[2] = {{.fd = 3, .kind = CR_FD_REG}, {.fd = 7, .kind = CR_FD_REG}};
	struct cr_vma vma = {.start = 0x7f0000000000ull, .end = 0x7f0000001000ull};
	struct cr_process p = {.pid = 12, .comm = "redis-server", .fds = fds, .n_fds = 2};
	struct cr_image img = {.procs = &p, .n_procs = 1};
	char held[256], gone[256], lib[256], want[512];
	ferry_err_t err = NULL;
	pid_t pid = start_container(fill_empty);

	snprintf(held, sizeof(held), "%s/victim", tmpdir);
	snprintf(gone, sizeof(gone), "%s/data/dump.rdb", tmpdir);
	snprintf(lib, sizeof(lib), "%s/lib/libgone.so", tmpdir);
	fds[0].path = held, fds[1].path = gone;
	p.mm.exe = "/bin/sh", p.cwd = "/";
	snprintf(want, sizeof(want),
		 "process 12 (redis-server) holds %s (fd 7), which the container's root filesystem "
		 "does not have",
		 gone);
	ok(pid > 0 && lx_ct_prepare(pid, spec, &img, &err) < 0 && err, "prepare: a missing file");
	is_str(err ? err->msg : NULL, want, "prepare: the error names the process, path and fd");
	ferry_error_free(&err);

	fds[1].path = held, p.vmas = &vma, p.n_vmas = 1, vma.path = lib;
	snprintf(want, sizeof(want),
		 "process 12 (redis-server) holds %s (mapped at 0x7f0000000000), which the "
		 "container's root filesystem does not have",
		 lib);
	ok(pid > 0 && lx_ct_prepare(pid, spec, &img, &err) < 0 && err && !strcmp(err->msg, want),
	   "prepare: a missing mapped file, named with its address");
	ferry_error_free(&err);

	vma.path = "/bin/sh";
	ok(pid > 0 && lx_ct_prepare(pid, spec, &img, &err) == 0,
	   "prepare: every held path present: no error%s%s", err ? ": " : "", err ? err->msg : "");
	ferry_error_free(&err);
	if (pid > 0)
		stop(pid);
}

static void test_sysv_refused(const struct ferry_spec *spec)
{
	int (*const makers[])(int) = {make_full_queue, make_shm_unattached, make_shm_attached};
	const char *want[] = {"SysV message queue 0 holds 34603008 bytes: more than a checkpoint "
			      "carries (33554432)",
			      "is attached by no process: not supported yet", NULL};

	for (size_t i = 0; i < ARRAY_SIZE(makers); i++) {
		struct cr_container *c = calloc(1, sizeof(*c));
		ferry_err_t err = NULL;
		pid_t pid = start_container(makers[i]);
		int r = pid > 0 && c ? lx_ct_collect(pid, spec, c, &err) : 0;

		if (want[i])
			ok(pid > 0 && r < 0 && err && strstr(err->msg, want[i]), "collect: \"%s\"",
			   want[i]);
		else
			ok(pid > 0 && r == 0, "collect: an attached SysV segment is fine");
		if (err)
			diag("%s", err->msg);
		ferry_error_free(&err);
		cr_container_free(c);
		if (pid > 0)
			stop(pid);
	}
}

static int sem_id = -1, queue_id = -1; /* as collected */

static void check_sysv_collected(const struct cr_container *c)
{
	const struct cr_sysv_sem *s = c->n_sems == 2 ? &c->sems[1] : NULL;
	const struct cr_sysv_queue *q = c->n_queues == 2 ? &c->queues[1] : NULL;
	bool same = q && q->n_msgs == 3;

	ok(c->n_sems == 2 && c->n_queues == 2 && c->sems[0].nsems == 1 && c->queues[0].n_msgs == 0,
	   "collect: two semaphore sets and two message queues, the first ones empty");
	sem_id = s ? s->id : -1, queue_id = q ? q->id : -1;
	diag("semaphore set %d, message queue %d", sem_id, queue_id);
	ok(s && s->id == 2 && s->key == SEM_KEY && s->mode == 0640 && s->uid == 1000 &&
	       s->gid == 100 && s->nsems == 3 && !memcmp(s->values, sem_values, sizeof(sem_values)),
	   "collect: the semaphore set (id, key, mode, owner, values)");
	for (size_t i = 0; same && i < 3; i++)
		same = q->msgs[i].type == sysv_msgs[i].type &&
		       q->msgs[i].data.len == strlen(sysv_msgs[i].text) &&
		       !memcmp(q->msgs[i].data.data, sysv_msgs[i].text, q->msgs[i].data.len);
	ok(same && q->id == 2 && q->qbytes == QBYTES && q->key == IPC_PRIVATE && q->mode == 0620 &&
	       q->qbytes > 0,
	   "collect: the message queue (id, mode, three messages in order, one empty)");
}

/* In pid's IPC namespace: the objects of make_sysv with their ids; returns 0 or the number of
 * the first check that failed. */
static int verify_sysv_in(pid_t pid)
{
	char path[64], text[64];
	unsigned short v[3];
	union semun arg = {.array = v};
	struct semid_ds sds;
	struct msqid_ds mds;
	struct {
		long type;
		char text[64];
	} m;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWIPC) < 0)
		return 1;
	if (semctl(sem_id, 0, GETALL, arg) < 0 || memcmp(v, sem_values, sizeof(v)))
		return 2;
	arg.buf = &sds;
	if (semctl(sem_id, 0, IPC_STAT, arg) < 0 || sds.sem_perm.__key != SEM_KEY ||
	    (sds.sem_perm.mode & 0777) != 0640 || sds.sem_perm.uid != 1000 ||
	    sds.sem_perm.gid != 100 || semget(SEM_KEY, 0, 0) != sem_id)
		return 3;
	if (msgctl(queue_id, IPC_STAT, &mds) < 0 || (mds.msg_perm.mode & 0777) != 0620 ||
	    mds.msg_perm.__key != IPC_PRIVATE || mds.msg_qnum != 3 || mds.msg_qbytes != QBYTES)
		return 4;
	for (size_t i = 0; i < ARRAY_SIZE(sysv_msgs); i++) {
		ssize_t n = msgrcv(queue_id, &m, sizeof(m.text), 0, IPC_NOWAIT);

		if (n < 0 || m.type != sysv_msgs[i].type)
			return 5 + (int)i;
		memcpy(text, m.text, (size_t)n);
		text[n] = '\0';
		if (strcmp(text, sysv_msgs[i].text))
			return 5 + (int)i;
	}
	return 0;
}

/* Runs verify_sysv_in in a child; returns its result (-1: it did not run). */
static int verify_sysv(pid_t pid)
{
	int status;
	pid_t child = fork();

	if (child == 0)
		_exit(verify_sysv_in(pid));
	if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_sysv(const struct ferry_spec *spec)
{
	struct cr_container *c = calloc(1, sizeof(*c));
	struct cr_image img = {.container = c};
	ferry_err_t err = NULL;
	pid_t src = start_container(make_sysv), dst = -1;
	_cleanup_free_ char *mnb = NULL;
	int r;

	ok(src > 0 && c, "a source container with a semaphore set and a message queue");
	if (src <= 0 || !c)
		goto out;
	ok(lx_ct_collect(src, spec, c, &err) == 0, "collect%s%s", err ? ": " : "",
	   err ? err->msg : "");
	ferry_error_free(&err);
	check_sysv_collected(c);
	r = verify_sysv(src);
	ok(r == 0, "collect left the source's objects as they were (%d)", r);
	stop(src);
	dst = start_container(fill_empty);
	ok(dst > 0 && lx_ct_prepare(dst, spec, &img, &err) == 0, "prepare%s%s", err ? ": " : "",
	   err ? err->msg : "");
	ferry_error_free(&err);
	r = dst > 0 ? verify_sysv(dst) : -1;
	ok(r == 0, "prepare: same ids, keys, modes, owners, values; messages in order (%d)", r);
	mnb = dst > 0 ? ns_read(dst, "kernel/msgmnb") : NULL;
	is_str(mnb, "16384", "prepare: msgmnb is back to what it was");
	if (dst > 0)
		stop(dst);
	dst = start_container(make_sem_sets);
	ok(dst > 0 && lx_ct_prepare(dst, spec, &img, &err) < 0 && err &&
	       strstr(err->msg, "semaphore set 0 came back with id 3: the id is taken"),
	   "prepare: an id already taken is a clear error");
	if (err)
		diag("%s", err->msg);
	ferry_error_free(&err);
	if (dst > 0)
		stop(dst);
out:
	cr_container_free(c);
}

/* In pid's IPC namespace: queue 0 holds make_big_queue's messages; returns 0 or the number of
 * the first check that failed. */
static int verify_big_queue_in(pid_t pid)
{
	static struct {
		long type;
		char text[BIG_MSG];
	} m;
	char path[64];
	struct msqid_ds ds;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWIPC) < 0)
		return 1;
	if (msgctl(0, IPC_STAT, &ds) < 0 || ds.msg_qbytes != 100000 || ds.msg_qnum != 2 ||
	    ds.msg_perm.uid != 100000)
		return 2;
	if (msgrcv(0, &m, BIG_MSG, 0, IPC_NOWAIT) != BIG_MSG || m.type != 5 ||
	    m.text[BIG_MSG - 1] != 'x')
		return 3;
	if (msgrcv(0, &m, BIG_MSG, 0, IPC_NOWAIT) != 3 || m.type != 9)
		return 4;
	return 0;
}

/* A container with a user namespace: its IPC namespace's limits belong to its root. */
static void test_sysv_userns(const struct ferry_spec *spec)
{
	struct cr_container *c = calloc(1, sizeof(*c));
	struct cr_image img = {.container = c};
	ferry_err_t err = NULL;
	pid_t src = start_userns_container(make_big_queue), dst = -1, child;
	_cleanup_free_ char *mnb = NULL, *max = NULL;
	int status = -1;

	ok(src > 0 && c, "a source container in a user namespace, a queue above msgmnb and msgmax");
	if (src <= 0 || !c)
		goto out;
	ok(lx_ct_collect(src, spec, c, &err) == 0 && c->n_queues == 1 &&
	       c->queues[0].qbytes == 100000 && c->queues[0].n_msgs == 2 &&
	       c->queues[0].msgs[0].data.len == BIG_MSG,
	   "collect: its qbytes and its %d-byte message%s%s", BIG_MSG, err ? ": " : "",
	   err ? err->msg : "");
	ferry_error_free(&err);
	max = ns_read(src, "kernel/msgmax");
	is_str(max, "8192", "collect: msgmax raised for MSG_COPY and put back");
	free(steal_ptr(max));
	stop(src);
	dst = start_userns_container(fill_empty);
	ok(dst > 0 && lx_ct_prepare(dst, spec, &img, &err) == 0, "prepare%s%s", err ? ": " : "",
	   err ? err->msg : "");
	ferry_error_free(&err);
	child = dst > 0 ? fork() : -1;
	if (child == 0)
		_exit(verify_big_queue_in(dst));
	if (child > 0)
		waitpid(child, &status, 0);
	ok(status == 0, "prepare: qbytes 100000, owner 100000, both messages (%d)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	mnb = dst > 0 ? ns_read(dst, "kernel/msgmnb") : NULL;
	max = dst > 0 ? ns_read(dst, "kernel/msgmax") : NULL;
	ok(mnb && max && !strcmp(mnb, "16384") && !strcmp(max, "8192"),
	   "prepare: msgmnb and msgmax raised as the namespace's root and put back (%s, %s)",
	   mnb ? mnb : "?", max ? max : "?");
	if (dst > 0)
		stop(dst);
out:
	cr_container_free(c);
}

static void test_file_too_large(const struct ferry_spec *spec)
{
	struct cr_container *c = calloc(1, sizeof(*c));
	ferry_err_t err = NULL;
	pid_t pid = start_container(make_sparse_file);
	int r = pid > 0 && c ? lx_ct_collect(pid, spec, c, &err) : 0;

	ok(pid > 0 && r < 0 && err &&
	       strstr(err->msg, "big: the files of the container's tmpfs mounts exceed 1024 MiB"),
	   "collect: more than 1 GiB of tmpfs files is a clear error");
	if (err)
		diag("%s", err->msg);
	ferry_error_free(&err);
	cr_container_free(c);
	if (pid > 0)
		stop(pid);
}

static void test_round_trip(const struct ferry_spec *spec, const struct ferry_spec *no_tmpfs)
{
	struct cr_container *c = calloc(1, sizeof(*c));
	struct cr_process p = {.pid = 1, .comm = "init", .cwd = "/"};
	struct cr_fd fd = {.fd = 3, .kind = CR_FD_REG};
	struct cr_image img = {.container = c, .procs = &p, .n_procs = 1};
	ferry_err_t err = NULL;
	char held[256];
	pid_t src = start_container(fill_source), dst = -1;
	_cleanup_free_ char *before = NULL;

	ok(src > 0 && c, "a source container is running");
	if (src <= 0 || !c)
		goto out;
	ok(lx_ct_collect(src, spec, c, &err) == 0, "collect%s%s", err ? ": " : "",
	   err ? err->msg : "");
	ferry_error_free(&err);
	stop(src);
	check_collected(c);
	if (c->n_mounts != 1)
		goto out;

	/* A file only the restored tmpfs has: prepare checks held paths after the files are back.
	 */
	snprintf(held, sizeof(held), "%s/sub/deep/data.bin", mnt);
	fd.path = held, p.fds = &fd, p.n_fds = 1;
	dst = start_container(fill_empty);
	before = dst > 0 ? ns_read(dst, "net/ipv4/ip_forward") : NULL;
	ok(dst > 0 && before && strcmp(before, "1") != 0,
	   "a fresh target container (ip_forward %s)", before ? before : "?");
	if (dst <= 0)
		goto out;
	ok(lx_ct_prepare(dst, no_tmpfs, &img, &err) < 0 && err &&
	       strstr(err->msg, "which the config does not mount as a tmpfs"),
	   "prepare: a tmpfs the config no longer has is an error");
	ferry_error_free(&err);
	ok(lx_ct_prepare(dst, spec, &img, &err) == 0, "prepare%s%s", err ? ": " : "",
	   err ? err->msg : "");
	ferry_error_free(&err);
	check_restored(dst, c);
	stop(dst);
	test_planted_links(spec, &img);
out:
	cr_container_free(c);
}

int main(void)
{
	struct ferry_spec *spec = NULL, *no_tmpfs = NULL, *bare = NULL;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	if (!mkdtemp(tmpdir))
		return perror("mkdtemp"), 1;
	atexit(cleanup);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmpdir);
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	snprintf(victimdir, sizeof(victimdir), "%s/victimdir", tmpdir);
	ok(mkdir(mnt, 0755) == 0 && mkdir(victimdir, 0755) == 0 &&
	       write_file(AT_FDCWD, victim, "untouched", 9, 0644) == 0,
	   "test directories");
	spec = make_spec(true, true);
	no_tmpfs = make_spec(false, true);
	bare = make_spec(false, false);
	ok(spec && no_tmpfs && bare, "specs parse");
	if (spec && no_tmpfs && bare) {
		test_round_trip(spec, no_tmpfs);
		test_missing_held_path(spec);
		test_sysv(spec);
		test_sysv_userns(bare);
		test_sysv_refused(spec);
		test_file_too_large(spec);
	}
	ferry_spec_free(spec);
	ferry_spec_free(no_tmpfs);
	ferry_spec_free(bare);
	cleanup();
	return done_testing();
}
