// SPDX-License-Identifier: Apache-2.0
/*
 * A short deterministic mutation run over the config.json parser: every prefix of a full config,
 * then a few thousand random edits (fixed seed). Each input must either parse or fail with an
 * error that names the file; the process must survive. tests/fuzz/spec_fuzz.c is the libFuzzer
 * entry for longer runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#undef linux /* gnu11 predefines it; the spec model has a member of that name */
#include "ferry/spec.h"
#include "tap.h"

#define ROUNDS 4000

/* Every section of the model, in double quotes already. */
static const char full_config[] =
    "{\"ociVersion\": \"1.1.0\", \"process\": {\"terminal\": true,"
    " \"consoleSize\": {\"height\": 25, \"width\": 80},"
    " \"user\": {\"uid\": 1000, \"gid\": 1001, \"umask\": 18, \"additionalGids\": [5, 6]},"
    " \"args\": [\"/bin/sh\", \"-c\", \"echo hi\"], \"env\": [\"PATH=/bin\"], \"cwd\": \"/work\","
    " \"capabilities\": {\"bounding\": [\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"],"
    "  \"inheritable\": [], \"permitted\": [\"CAP_KILL\"], \"ambient\": []},"
    " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096},"
    "  {\"type\": \"RLIMIT_CORE\", \"soft\": 18446744073709551615, \"hard\": 9223372036854775808}],"
    " \"noNewPrivileges\": true, \"oomScoreAdj\": -500, \"apparmorProfile\": \"p\","
    " \"selinuxLabel\": \"l\"},"
    " \"root\": {\"path\": \"rootfs/../r\", \"readonly\": true}, \"hostname\": \"box\","
    " \"domainname\": \"d\", \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\","
    " \"source\": \"proc\", \"options\": [\"nosuid\"]}],"
    " \"hooks\": {\"prestart\": [{\"path\": \"/p\", \"args\": [\"p\"], \"env\": [\"A=1\"],"
    " \"timeout\": 5}], \"poststop\": [{\"path\": \"/q\"}]},"
    " \"annotations\": {\"k\": \"v\"},"
    " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\","
    " \"path\": \"/proc/1/ns/net\"}, {\"type\": \"user\"}, {\"type\": \"time\"}],"
    " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
    " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
    " \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229,"
    " \"fileMode\": 438, \"uid\": 0, \"gid\": 0}],"
    " \"cgroupsPath\": \"/a/b\", \"resources\": {\"pids\": {\"limit\": 64}},"
    " \"rootfsPropagation\": \"rslave\", \"maskedPaths\": [\"/proc/kcore\"],"
    " \"readonlyPaths\": [\"/proc/sys\"], \"mountLabel\": \"m\","
    " \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
    " \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
    " \"architectures\": [\"SCMP_ARCH_X86_64\"], \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],"
    " \"listenerPath\": \"/run/s\", \"syscalls\": [{\"names\": [\"read\"],"
    " \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1, \"args\": [{\"index\": 0, \"value\": 1,"
    " \"valueTwo\": 2, \"op\": \"SCMP_CMP_EQ\"}]}]},"
    " \"timeOffsets\": {\"boottime\": {\"secs\": 1, \"nanosecs\": 2}},"
    " \"personality\": {\"domain\": \"LINUX\"}}}";

static uint64_t rng_state = 0x5eedf00dcafe1234ull;

/* xorshift64*: the same sequence on every libc. */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t rng_below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

/* One random edit of buf (capacity cap) of length *len. */
static void mutate(char *buf, size_t *len, size_t cap)
{
	static const char interesting[] = "{}[]\",:0-9 \\ntfu.e";
	static const char *const tokens[] = {"18446744073709551615",
					     "9223372036854775808",
					     "-1",
					     "null",
					     "\"\"",
					     "[]",
					     "{}",
					     "\"\\u0000\"",
					     "1e400",
					     "18446744073709551616"};
	size_t pos = rng_below(*len + 1), n;
	const char *tok;

	switch (rng_below(6)) {
	case 0: /* flip bits */
		if (*len)
			buf[rng_below(*len)] ^= (char)(1u << rng_below(8));
		break;
	case 1: /* a structural character */
		if (*len)
			buf[rng_below(*len)] = interesting[rng_below(sizeof(interesting) - 1)];
		break;
	case 2: /* truncate */
		*len = pos;
		break;
	case 3: /* delete a range */
		n = rng_below(*len - pos + 1);
		memmove(buf + pos, buf + pos + n, *len - pos - n);
		*len -= n;
		break;
	case 4: /* insert a token */
		tok = tokens[rng_below(sizeof(tokens) / sizeof(tokens[0]))];
		n = strlen(tok);
		if (*len + n > cap)
			break;
		memmove(buf + pos + n, buf + pos, *len - pos);
		memcpy(buf + pos, tok, n);
		*len += n;
		break;
	default: /* duplicate a range */
		n = rng_below(64);
		if (pos + n > *len || *len + n > cap)
			break;
		memmove(buf + pos + n, buf + pos, *len - pos);
		*len += n;
		break;
	}
}

struct tally {
	int parsed, failed, bad;
};

/* Parses one input; an outcome must be a model or an error naming the file, never both. */
static void run_one(const char *buf, size_t len, struct tally *t, const char *what, size_t i)
{
	ferry_err_t err = NULL;
	struct ferry_spec *s = ferry_spec_parse(buf, len, "/bundle", &err);
	struct ferry_process p;
	int rc;

	if (s && !err && s->rootfs && s->rootfs[0] == '/')
		t->parsed++;
	else if (!s && err && strncmp(err->msg, "config.json: ", 13) == 0)
		t->failed++;
	else if (t->bad++ < 5)
		diag("%s %zu: spec=%p err=%s", what, i, (void *)s, err ? err->msg : "(none)");
	ferry_spec_free(s);
	ferry_error_free(&err);
	rc = ferry_spec_parse_process(buf, len, &p, &err);
	if ((rc == 0) == (err != NULL) || (err && strncmp(err->msg, "process: ", 9) != 0)) {
		if (t->bad++ < 5)
			diag("%s %zu: process rc=%d err=%s", what, i, rc,
			     err ? err->msg : "(none)");
	}
	ferry_process_clear(&p);
	ferry_error_free(&err);
}

int main(void)
{
	size_t full_len = strlen(full_config), cap = full_len * 2 + 256;
	char *buf = malloc(cap);
	struct tally prefixes = {0}, random = {0};

	if (!buf)
		return 1;
	for (size_t n = 0; n <= full_len; n++) {
		memcpy(buf, full_config, n);
		run_one(buf, n, &prefixes, "prefix", n);
	}
	ok(prefixes.parsed == 1 && prefixes.bad == 0,
	   "%zu prefixes: only the whole config parses, every other one fails cleanly",
	   full_len + 1);
	for (size_t i = 0; i < ROUNDS; i++) {
		size_t len = full_len, edits = 1 + rng_below(3);

		memcpy(buf, full_config, len);
		for (size_t e = 0; e < edits; e++)
			mutate(buf, &len, cap);
		run_one(buf, len, &random, "round", i);
	}
	ok(random.bad == 0, "%d mutated configs: each parses or fails with a named error", ROUNDS);
	ok(random.parsed > 0 && random.failed > 0,
	   "mutations reach both outcomes (%d parsed, %d failed)", random.parsed, random.failed);
	free(buf);
	return done_testing();
}
