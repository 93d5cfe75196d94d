// SPDX-License-Identifier: Apache-2.0
/* /proc/PID/maps and /proc/PID/smaps -> struct lx_memmap. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/memmap.h"

#define DELETED_SUFFIX " (deleted)"

static const struct {
	char code[3];
	uint64_t bit;
} vmflag_codes[] = {
    {"rd", LX_VM_RD}, {"wr", LX_VM_WR}, {"ex", LX_VM_EX}, {"sh", LX_VM_SH}, {"mr", LX_VM_MR},
    {"mw", LX_VM_MW}, {"me", LX_VM_ME}, {"ms", LX_VM_MS}, {"gd", LX_VM_GD}, {"pf", LX_VM_PF},
    {"lo", LX_VM_LO}, {"io", LX_VM_IO}, {"sr", LX_VM_SR}, {"rr", LX_VM_RR}, {"dc", LX_VM_DC},
    {"de", LX_VM_DE}, {"ac", LX_VM_AC}, {"nr", LX_VM_NR}, {"ht", LX_VM_HT}, {"sf", LX_VM_SF},
    {"ar", LX_VM_AR}, {"wf", LX_VM_WF}, {"dd", LX_VM_DD}, {"bt", LX_VM_BT}, {"sd", LX_VM_SD},
    {"mm", LX_VM_MM}, {"hg", LX_VM_HG}, {"nh", LX_VM_NH}, {"mg", LX_VM_MG}, {"um", LX_VM_UM},
    {"uw", LX_VM_UW}, {"ui", LX_VM_UI}, {"lf", LX_VM_LF}, {"ss", LX_VM_SS}, {"sl", LX_VM_SL},
    {"dp", LX_VM_DP}, {"mt", LX_VM_MT},
};

static const struct {
	const char *name;
	enum lx_area_kind kind;
} special_names[] = {
    {"[heap]", LX_AREA_HEAP},
    {"[stack]", LX_AREA_STACK},
    {"[vdso]", LX_AREA_VDSO},
    {"[vvar]", LX_AREA_VVAR},
    {"[vvar_vclock]", LX_AREA_VVAR_VCLOCK},
    {"[vsyscall]", LX_AREA_VSYSCALL},
};

bool lx_area_is_shmem(const struct lx_area *a)
{
	return a->kind == LX_AREA_SHMEM || a->kind == LX_AREA_MEMFD || a->kind == LX_AREA_SYSV;
}

bool lx_area_is_anon(const struct lx_area *a)
{
	return a->kind == LX_AREA_ANON || a->kind == LX_AREA_SHMEM || a->kind == LX_AREA_HEAP ||
	       a->kind == LX_AREA_STACK;
}

dev_t lx_shmem_dev(void)
{
	_cleanup_close_ int fd = memfd_create("ferry-shmem-dev", MFD_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return 0;
	return st.st_dev;
}

void lx_memmap_free(struct lx_memmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->areas[i].path);
		free(m->areas[i].name);
	}
	free(m->areas);
	memset(m, 0, sizeof(*m));
}

const struct lx_area *lx_memmap_find(const struct lx_memmap *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct lx_area *a = &m->areas[mid];

		if (addr < a->start)
			hi = mid;
		else if (addr >= a->end)
			lo = mid + 1;
		else
			return a;
	}
	return NULL;
}

/* Returns a copy of the bracketed name "[PREFIX:NAME]" -> NAME, or NULL when path is not one. */
static char *bracket_name(const char *path, const char *prefix)
{
	size_t pl = strlen(prefix), len = strlen(path);

	if (strncmp(path, prefix, pl) != 0 || len < pl + 1 || path[len - 1] != ']')
		return NULL;
	return strndup(path + pl, len - pl - 1);
}

/* Sets kind, name and sysv_key from the path and the device; returns 0 or -1 (ENOMEM). */
static int classify(struct lx_area *a, bool on_shmem)
{
	const char *p = a->path;

	if (!p) {
		a->kind = a->shared ? LX_AREA_SHMEM : LX_AREA_ANON;
		return 0;
	}
	if (p[0] == '[') {
		for (size_t i = 0; i < ARRAY_SIZE(special_names); i++)
			if (strcmp(p, special_names[i].name) == 0) {
				a->kind = special_names[i].kind;
				return 0;
			}
		if ((a->name = bracket_name(p, "[anon:")))
			a->kind = LX_AREA_ANON;
		else if ((a->name = bracket_name(p, "[anon_shmem:")))
			a->kind = LX_AREA_SHMEM;
		else
			a->kind = LX_AREA_SPECIAL;
		return 0;
	}
	a->kind = LX_AREA_FILE;
	if (!on_shmem)
		return 0;
	if (strncmp(p, "/memfd:", 7) == 0) {
		a->kind = LX_AREA_MEMFD;
		a->name = strdup(p + 7);
		return a->name ? 0 : -1;
	}
	if (strncmp(p, "/SYSV", 5) == 0 && strlen(p) == 13) {
		a->kind = LX_AREA_SYSV;
		a->sysv_key = (uint32_t)strtoul(p + 5, NULL, 16);
	} else if (strcmp(p, "/dev/zero") == 0 && a->shared) {
		a->kind = LX_AREA_SHMEM;
	}
	return 0;
}

/* Parses one header line "start-end perms offset maj:min inode   path" into a; returns 0, or -1
 * when the line is not a header line. */
static int parse_header(const char *line, size_t len, dev_t shmem_dev, struct lx_area *a)
{
	char perms[5];
	unsigned long long start, end, off, ino;
	int pos = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &off,
		   &a->dev_major, &a->dev_minor, &ino, &pos) != 7 ||
	    strlen(perms) != 4 || end <= start)
		return -1;
	a->start = start;
	a->end = end;
	a->offset = off;
	a->inode = ino;
	a->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	a->shared = perms[3] == 's';
	if ((size_t)pos < len) {
		size_t plen = len - pos, sl = strlen(DELETED_SUFFIX);

		if (plen > sl && memcmp(line + pos + plen - sl, DELETED_SUFFIX, sl) == 0) {
			a->deleted = true;
			plen -= sl;
		}
		a->path = strndup(line + pos, plen);
		if (!a->path)
			return -2;
	}
	bool on_shmem = shmem_dev && makedev(a->dev_major, a->dev_minor) == shmem_dev;
	return classify(a, on_shmem) < 0 ? -2 : 0;
}

static uint64_t parse_vmflags(const char *s)
{
	uint64_t bits = 0;

	while (*s) {
		while (*s == ' ')
			s++;
		if (!s[0] || !s[1])
			break;
		uint64_t bit = LX_VM_UNKNOWN;
		for (size_t i = 0; i < ARRAY_SIZE(vmflag_codes); i++)
			if (s[0] == vmflag_codes[i].code[0] && s[1] == vmflag_codes[i].code[1])
				bit = vmflag_codes[i].bit;
		bits |= bit;
		s += 2;
		while (*s && *s != ' ')
			s++;
	}
	return bits;
}

/* Applies an smaps "Key: value" line to a; returns true when it was one. */
static bool parse_smaps_field(const char *line, struct lx_area *a)
{
	unsigned long long kb;

	if (strncmp(line, "VmFlags:", 8) == 0) {
		a->vmflags = parse_vmflags(line + 8);
		return true;
	}
	if (sscanf(line, "Rss: %llu kB", &kb) == 1)
		a->rss_kb = kb;
	else if (sscanf(line, "Anonymous: %llu kB", &kb) == 1)
		a->anon_kb = kb;
	else if (sscanf(line, "Swap: %llu kB", &kb) == 1)
		a->swap_kb = kb;
	return false;
}

static int append_area(struct lx_memmap *m, size_t *cap, ferry_err_t *err)
{
	if (m->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct lx_area *v = realloc(m->areas, ncap * sizeof(*v));

		if (!v)
			return ferry_error(err, ENOMEM, "memory map");
		m->areas = v;
		*cap = ncap;
	}
	memset(&m->areas[m->n++], 0, sizeof(struct lx_area));
	return 0;
}

int lx_memmap_parse(const char *text, dev_t shmem_dev, struct lx_memmap *m, ferry_err_t *err)
{
	size_t cap = 0, lineno = 0;

	memset(m, 0, sizeof(*m));
	for (const char *line = text; *line; lineno++) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		_cleanup_free_ char *copy = strndup(line, len);

		line += len + (nl ? 1 : 0);
		if (!copy)
			goto nomem;
		if (len == 0)
			continue;
		/* Header lines start with a hex digit; smaps fields with a capital letter. */
		if (m->n &&
		    !((copy[0] >= '0' && copy[0] <= '9') || (copy[0] >= 'a' && copy[0] <= 'f'))) {
			if (parse_smaps_field(copy, &m->areas[m->n - 1]))
				m->have_smaps = true;
			continue;
		}
		if (append_area(m, &cap, err) < 0)
			goto fail;
		int r = parse_header(copy, len, shmem_dev, &m->areas[m->n - 1]);
		if (r == -2)
			goto nomem;
		if (r < 0) {
			ferry_error(err, EINVAL, "memory map line %zu: cannot parse '%.80s'",
				    lineno + 1, copy);
			goto fail;
		}
		if (m->n > 1 && m->areas[m->n - 1].start < m->areas[m->n - 2].end) {
			ferry_error(err, EINVAL,
				    "memory map line %zu: areas overlap or are unsorted",
				    lineno + 1);
			goto fail;
		}
	}
	return 0;
nomem:
	ferry_error(err, ENOMEM, "memory map");
fail:
	lx_memmap_free(m);
	return -1;
}

/* Reads a whole /proc file; returns a NUL-terminated buffer or NULL with *err. */
static char *read_proc_file(const char *path, ferry_err_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return ferry_error_errno(err, "open %s", path), NULL;
	for (;;) {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + 262144);
			if (!nb)
				return ferry_error(err, ENOMEM, "read %s", path), NULL;
			buf = nb;
			cap += 262144;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ferry_error_errno(err, "read %s", path), NULL;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	return steal_ptr(buf);
}

int lx_memmap_read(pid_t pid, bool with_smaps, struct lx_memmap *m, ferry_err_t *err)
{
	char path[64];
	_cleanup_free_ char *text = NULL;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, with_smaps ? "smaps" : "maps");
	text = read_proc_file(path, err);
	if (!text)
		return -1;
	if (lx_memmap_parse(text, lx_shmem_dev(), m, err) < 0)
		return ferry_error_wrap(err, "%s", path);
	return 0;
}
