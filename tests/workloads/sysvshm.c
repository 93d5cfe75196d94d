// SPDX-License-Identifier: Apache-2.0
/* sysvshm [DIR]: SysV shared memory shared by a parent and its child: a segment with a key
 * (70000 bytes, not a page multiple), attached read-write by both and read-only a second time by
 * the child, and an IPC_PRIVATE segment (3 pages) attached by both and marked for removal. The
 * parent fills the private segment, the child the keyed one; each checks the other's writes.
 * Prints READY once both are set up; on SIGUSR1 the parent checks the areas are still SysV
 * attaches (/proc/self/maps), the key still names a segment of that size attached three times
 * whose memory is the parent's attach, the contents, then writes a token the child must see and
 * answer through the keyed segment, and prints PASS or FAIL. The private segment's id is not
 * kept by a restore: only the key is looked up again. The parent removes the keyed segment
 * before it exits (the private one goes with its last attach); the child exits when told to or
 * when the parent is gone.
 *
 * A restore on the host where the checkpoint killed the tree finds the keyed segment still there
 * (it outlives its processes) and re-attaches it as it is; elsewhere it is made again from the
 * image. The private segment is made again either way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY_SIZE 70000
#define PRIV_SIZE (3 * 4096)
#define CTL_SIZE 64 /* the control words at the start of the private segment */

struct ctl {
	volatile uint64_t cmd, token, child_ok;
};

static volatile sig_atomic_t verify;
static uint8_t *keyed, *keyed_ro, *priv;
static key_t key;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static uint8_t keyed_byte(size_t i)
{
	return (uint8_t)(i * 11 + 5);
}

static uint8_t priv_byte(size_t i)
{
	return (uint8_t)(i * 3 + 9);
}

static struct ctl *ctl(void)
{
	return (struct ctl *)priv;
}

static int keyed_ok(const uint8_t *m)
{
	for (size_t i = 8; i < KEY_SIZE; i++)
		if (m[i] != keyed_byte(i))
			return 0;
	return 1;
}

static int priv_ok(void)
{
	for (size_t i = CTL_SIZE; i < PRIV_SIZE; i++)
		if (priv[i] != priv_byte(i))
			return 0;
	return 1;
}

static void child_main(pid_t parent)
{
	int id = shmget(key, 0, 0);

	keyed_ro = id < 0 ? (void *)-1 : shmat(id, NULL, SHM_RDONLY);
	if (keyed_ro == (void *)-1) {
		ctl()->child_ok = 2;
		_exit(1);
	}
	for (size_t i = 8; i < KEY_SIZE; i++)
		keyed[i] = keyed_byte(i);
	ctl()->child_ok = priv_ok() && keyed_ok(keyed_ro) ? 1 : 2;
	while (getppid() == parent && ctl()->cmd != 2) {
		if (ctl()->cmd == 1) {
			/* Answer through the keyed segment: the parent reads it there. */
			*(volatile uint64_t *)keyed = ctl()->token ^ 0x5a5a5a5a;
			ctl()->child_ok =
			    priv_ok() && keyed_ok(keyed) && keyed_ok(keyed_ro) ? 3 : 4;
			ctl()->cmd = 0;
		}
		sleep_ms(1);
	}
	shmdt(keyed_ro);
	shmdt(keyed);
	shmdt(priv);
	_exit(0);
}

/* Whether addr starts a shared SysV attach of key k in /proc/self/maps. */
static int attached(const void *addr, key_t k)
{
	char line[512], want[32], name[32];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	snprintf(name, sizeof(name), "/SYSV%08x", (unsigned)k);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)) && strstr(line, " rw-s ") &&
		    strstr(line, name))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

/* Removes the keyed segment (looked up by its key: a restore gives it another id). */
static void remove_keyed(void)
{
	int id = shmget(key, 0, 0);

	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
}

/* Tells the child to exit, waits for it, detaches and removes the segments; returns rc. */
static int finish(pid_t child, int rc)
{
	if (child > 0) {
		ctl()->cmd = 2;
		for (int i = 0; i < 2000 && waitpid(child, NULL, WNOHANG) == 0; i++)
			sleep_ms(1);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	remove_keyed();
	shmdt(keyed);
	shmdt(priv);
	return rc;
}

static int fail(const char *what, pid_t child)
{
	printf("FAIL %s\n", what);
	return finish(child, 1);
}

/* Whether the key names a segment of KEY_SIZE bytes attached three times, whose memory is the
 * parent's attach (a word written through a fresh attach is seen there). */
static int key_ok(void)
{
	struct shmid_ds ds;
	int id = shmget(key, 0, 0), same;
	volatile uint64_t *m;

	if (id < 0 || shmctl(id, IPC_STAT, &ds) < 0 || ds.shm_segsz != KEY_SIZE ||
	    ds.shm_nattch != 3)
		return 0;
	m = shmat(id, NULL, 0);
	if (m == (void *)-1)
		return 0;
	m[0] = 0x600dull;
	same = *(volatile uint64_t *)keyed == 0x600dull;
	shmdt((void *)m);
	return same;
}

static int check(pid_t child)
{
	uint64_t token = 0x1234567890ull ^ (uint64_t)time(NULL);

	if (!attached(keyed, key) || !attached(priv, IPC_PRIVATE))
		return fail("maps", child);
	if (!key_ok())
		return fail("the key does not name the attached segment", child);
	if (!keyed_ok(keyed) || !priv_ok())
		return fail("contents", child);
	ctl()->token = token;
	ctl()->cmd = 1;
	for (int i = 0; i < 2000 && ctl()->cmd; i++)
		sleep_ms(1);
	if (ctl()->cmd)
		return fail("the child never saw the command", child);
	if (ctl()->child_ok != 3)
		return fail("the child saw other contents", child);
	if (*(volatile uint64_t *)keyed != (token ^ 0x5a5a5a5a))
		return fail("the child's answer is not visible", child);
	printf("PASS sysvshm\n");
	return finish(child, 0);
}

/* Removes a segment of key k that nothing attaches: left by an earlier run of this program with
 * the same pid that was killed before it could remove it. Returns whether one was removed. */
static int drop_stale(key_t k)
{
	struct shmid_ds ds;
	int id = shmget(k, 0, 0);

	return id >= 0 && shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 0 &&
	       shmctl(id, IPC_RMID, NULL) == 0;
}

/* Creates and attaches both segments (the private one marked for removal by the caller once the
 * child has it); returns the private segment's id or -1. */
static int setup(void)
{
	int kid, pid;

	key = (key_t)(0x5f000000 | (getpid() & 0xffffff));
	kid = shmget(key, KEY_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	if (kid < 0 && errno == EEXIST && drop_stale(key))
		kid = shmget(key, KEY_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	if (kid < 0)
		return printf("FAIL shmget key 0x%08x: %m\n", (unsigned)key), -1;
	pid = shmget(IPC_PRIVATE, PRIV_SIZE, IPC_CREAT | 0600);
	keyed = shmat(kid, NULL, 0);
	priv = pid < 0 ? (void *)-1 : shmat(pid, NULL, 0);
	if (keyed == (void *)-1 || priv == (void *)-1) {
		printf("FAIL shmat: %m\n");
		shmctl(kid, IPC_RMID, NULL);
		if (pid >= 0)
			shmctl(pid, IPC_RMID, NULL);
		return -1;
	}
	for (size_t i = CTL_SIZE; i < PRIV_SIZE; i++)
		priv[i] = priv_byte(i);
	return pid;
}

int main(void)
{
	pid_t child, self = getpid();
	int priv_id;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	priv_id = setup();
	if (priv_id < 0)
		return 1;
	child = fork();
	if (child < 0) {
		shmctl(priv_id, IPC_RMID, NULL);
		printf("FAIL fork: %m\n");
		return finish(0, 1);
	}
	if (child == 0)
		child_main(self);
	/* Both have it: gone with the last attach, however the processes end. */
	shmctl(priv_id, IPC_RMID, NULL);
	for (int i = 0; i < 2000 && !ctl()->child_ok; i++)
		sleep_ms(1);
	if (ctl()->child_ok != 1)
		return fail("child setup", child);
	if (!keyed_ok(keyed))
		return fail("the child's writes are not visible", child);
	printf("READY\n");
	while (!verify)
		sleep_ms(1);
	return check(child);
}
