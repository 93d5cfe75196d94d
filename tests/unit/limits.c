// SPDX-License-Identifier: Apache-2.0
/* lib/limits: parsing linux.resources, the JSON round trip, and the translators to cgroup v1,
 * cgroup v2 and FreeBSD (RCTL, cpuset, devfs), with the research's equations and the edges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "limits/limits.h"
#include "tap.h"

/* Returns the writes as "controller/file value" lines (v2: "file value"), a new string. */
static char *writes_text(const struct lim_writes *w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < w->n; i++) {
		if (*w->w[i].controller)
			fprintf(f, "%s/", w->w[i].controller);
		fprintf(f, "%s %s\n", w->w[i].file, w->w[i].value);
	}
	fclose(f);
	return buf;
}

static char *joined(char **v, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", v[i]);
	fclose(f);
	return buf;
}

/* Translates json to cgroup v1 (v=1), v2 (v=2) or FreeBSD rctl+devfs (v=3); NULL on an error,
 * with the error text in *errtext. Warnings land in *warns. */
static char *translate(const char *json, int v, char **warns, char **errtext)
{
	struct lim_resources r;
	struct lim_writes w = {0};
	struct lim_warnings warn = {0};
	struct lim_freebsd fb = {0};
	ferry_err_t err = NULL;
	char *out = NULL;
	int rc;

	*errtext = NULL;
	if (warns)
		*warns = NULL;
	if (lim_parse_json(json, "linux.resources", &r, &err) < 0) {
		*errtext = strdup(err->msg);
		ferry_error_free(&err);
		return NULL;
	}
	if (v == 1)
		rc = lim_to_cgroup1(&r, &w, &warn, &err);
	else if (v == 2)
		rc = lim_to_cgroup2(&r, &w, &warn, &err);
	else
		rc = lim_to_freebsd(&r, "ID", -1, &fb, &warn, &err);
	if (rc < 0) {
		*errtext = strdup(err->msg);
		ferry_error_free(&err);
	} else if (v < 3) {
		out = writes_text(&w);
	} else {
		_cleanup_free_ char *rc_text = joined(fb.rctl, fb.n_rctl);
		_cleanup_free_ char *dv = joined(fb.devfs, fb.n_devfs);

		if (asprintf(&out, "%scpuset=%s\n%s", rc_text, fb.cpuset ? fb.cpuset : "-", dv) < 0)
			out = NULL;
	}
	if (warns)
		*warns = joined(warn.msgs, warn.n);
	lim_writes_free(&w);
	lim_warnings_free(&warn);
	lim_freebsd_free(&fb);
	lim_free(&r);
	return out;
}

static void check(const char *json, int v, const char *want, const char *name)
{
	_cleanup_free_ char *errtext = NULL;
	_cleanup_free_ char *got = translate(json, v, NULL, &errtext);

	if (errtext)
		diag("error: %s", errtext);
	is_str(got, want, "%s", name);
}

static void check_warn(const char *json, int v, const char *needle, const char *name)
{
	_cleanup_free_ char *errtext = NULL, *warns = NULL;
	_cleanup_free_ char *got = translate(json, v, &warns, &errtext);

	ok(warns && strstr(warns, needle), "%s", name);
	if (!(warns && strstr(warns, needle)))
		diag("warnings: %s", warns ? warns : "(none)");
}

static void check_error(const char *json, const char *want, const char *name)
{
	_cleanup_free_ char *errtext = NULL;
	_cleanup_free_ char *got = translate(json, 1, NULL, &errtext);

	ok(!got, "%s: refused", name);
	is_str(errtext, want, "%s: message", name);
}

static void test_shares_to_weight(void)
{
	ok(lim_shares_to_weight(2) == 1, "shares 2 -> weight 1");
	ok(lim_shares_to_weight(262144) == 10000, "shares 262144 -> weight 10000");
	ok(lim_shares_to_weight(1024) == 39, "shares 1024 -> weight 39 (runc 1.1, crun)");
	ok(lim_shares_to_weight(0) == 0, "shares 0 -> 0 (not set)");
	for (uint64_t s = 2; s <= 262144; s += 997) {
		uint64_t w = lim_shares_to_weight(s);

		if (w < 1 || w > 10000 || w != 1 + ((s - 2) * 9999) / 262142) {
			ok(0, "shares %llu -> weight %llu", (unsigned long long)s,
			   (unsigned long long)w);
			return;
		}
	}
	ok(1, "every shares in 2..262144 maps into 1..10000 by 1 + ((shares-2)*9999)/262142");
}

static void test_cgroup1(void)
{
	check("{\"memory\":{\"limit\":536870912,\"reservation\":268435456,\"swap\":1073741824,"
	      "\"swappiness\":10,\"disableOOMKiller\":true,\"kernelTCP\":1048576}}",
	      1,
	      "memory/memory.limit_in_bytes 536870912\n"
	      "memory/memory.memsw.limit_in_bytes 1073741824\n"
	      "memory/memory.soft_limit_in_bytes 268435456\n"
	      "memory/memory.kmem.tcp.limit_in_bytes 1048576\n"
	      "memory/memory.swappiness 10\n"
	      "memory/memory.oom_control 1\n",
	      "v1 memory");
	check("{\"memory\":{\"limit\":536870912,\"swap\":-1}}", 1,
	      "memory/memory.memsw.limit_in_bytes -1\nmemory/memory.limit_in_bytes 536870912\n",
	      "v1 unlimited swap is written before the memory limit");
	check("{\"memory\":{\"limit\":0,\"swap\":0}}", 1, "",
	      "v1 memory limit 0 is not set (as runc)");
	check("{\"memory\":{\"limit\":9223372036854775807}}", 1,
	      "memory/memory.limit_in_bytes 9223372036854775807\n", "v1 memory limit INT64_MAX");
	check("{\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"burst\":1000,"
	      "\"realtimeRuntime\":950000,\"realtimePeriod\":1000000,\"cpus\":\"0-1\","
	      "\"mems\":\"0\",\"idle\":0}}",
	      1,
	      "cpu/cpu.rt_period_us 1000000\ncpu/cpu.rt_runtime_us 950000\ncpu/cpu.shares 1024\n"
	      "cpu/cpu.cfs_period_us 100000\ncpu/cpu.cfs_quota_us 50000\n"
	      "cpu/cpu.cfs_burst_us 1000\ncpu/cpu.idle 0\ncpuset/cpuset.cpus 0-1\n"
	      "cpuset/cpuset.mems 0\n",
	      "v1 cpu: period before quota");
	check("{\"cpu\":{\"quota\":-1}}", 1, "cpu/cpu.cfs_quota_us -1\n",
	      "v1 quota -1 is unlimited");
	check("{\"cpu\":{\"quota\":50000}}", 1, "cpu/cpu.cfs_quota_us 50000\n",
	      "v1 no period: the kernel's period (100000) stays");
	check("{\"pids\":{\"limit\":100}}", 1, "pids/pids.max 100\n", "v1 pids");
	check("{\"pids\":{\"limit\":-1}}", 1, "pids/pids.max max\n", "v1 pids -1 is max");
	check("{\"pids\":{\"limit\":0}}", 1, "pids/pids.max max\n", "v1 pids 0 is max");
	check(
	    "{\"blockIO\":{\"weight\":500,\"leafWeight\":300,\"weightDevice\":[{\"major\":8,"
	    "\"minor\":0,\"weight\":200,\"leafWeight\":100}],\"throttleReadBpsDevice\":[{\"major\":"
	    "8,"
	    "\"minor\":0,\"rate\":1048576}],\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":16,"
	    "\"rate\":2097152}],\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":100}]"
	    ","
	    "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":50}]}}",
	    1,
	    "blkio/blkio.weight 500\nblkio/blkio.leaf_weight 300\nblkio/blkio.weight_device 8:0 "
	    "200\n"
	    "blkio/blkio.leaf_weight_device 8:0 100\n"
	    "blkio/blkio.throttle.read_bps_device 8:0 1048576\n"
	    "blkio/blkio.throttle.write_bps_device 8:16 2097152\n"
	    "blkio/blkio.throttle.read_iops_device 8:0 100\n"
	    "blkio/blkio.throttle.write_iops_device 8:0 50\n",
	    "v1 blkio");
	check("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],\"network\":{"
	      "\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":5},{\"name\":"
	      "\"lo\","
	      "\"priority\":2}]}}",
	      1,
	      "hugetlb/hugetlb.2MB.limit_in_bytes 4194304\nnet_cls/net_cls.classid 1048577\n"
	      "net_prio/net_prio.ifpriomap eth0 5\nnet_prio/net_prio.ifpriomap lo 2\n",
	      "v1 hugetlb, net_cls, net_prio");
	check("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\","
	      "\"major\":1,\"minor\":3,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\","
	      "\"major\":136,"
	      "\"access\":\"rw\"},{\"allow\":false,\"type\":\"b\",\"major\":8,\"minor\":0}]}",
	      1,
	      "devices/devices.deny a\ndevices/devices.deny a *:* rwm\n"
	      "devices/devices.allow c 1:3 rwm\ndevices/devices.allow c 136:* rw\n"
	      "devices/devices.deny b 8:0 rwm\n",
	      "v1 devices: deny all, then the rules in order, * for any");
	check_warn("{\"memory\":{\"kernel\":1048576}}", 1,
		   "memory.kernel:", "v1 kernel memory warns");
	check_warn("{\"unified\":{\"memory.high\":\"1000000\"}}", 1,
		   "unified.memory.high:", "v1 unified warns");
}

static void test_cgroup2(void)
{
	check("{\"memory\":{\"limit\":536870912,\"reservation\":268435456,\"swap\":1073741824}}", 2,
	      "memory.swap.max 536870912\nmemory.max 536870912\nmemory.low 268435456\n",
	      "v2 memory: swap.max = swap - limit");
	check("{\"memory\":{\"limit\":536870912,\"swap\":536870912}}", 2,
	      "memory.swap.max 0\nmemory.max 536870912\n", "v2 swap equal to limit: no swap");
	check("{\"memory\":{\"limit\":-1,\"swap\":-1}}", 2, "memory.swap.max max\nmemory.max max\n",
	      "v2 memory -1 is max");
	check("{\"memory\":{\"limit\":9223372036854775807}}", 2, "memory.max 9223372036854775807\n",
	      "v2 memory INT64_MAX");
	{
		_cleanup_free_ char *e = NULL;
		_cleanup_free_ char *got =
		    translate("{\"memory\":{\"swap\":1073741824}}", 2, NULL, &e);

		ok(!got && e && strstr(e, "memory.swap:"), "v2 swap without memory limit refused");
	}
	check(
	    "{\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"burst\":1000,\"idle\":1,"
	    "\"cpus\":\"0-3,7\",\"mems\":\"0\"}}",
	    2,
	    "cpu.weight 39\ncpu.max 50000 100000\ncpu.max.burst 1000\ncpu.idle 1\n"
	    "cpuset.cpus 0-3,7\ncpuset.mems 0\n",
	    "v2 cpu");
	check("{\"cpu\":{\"quota\":-1,\"period\":200000}}", 2, "cpu.max max 200000\n",
	      "v2 quota -1 is max");
	check("{\"cpu\":{\"quota\":50000}}", 2, "cpu.max 50000\n",
	      "v2 no period: the kernel's period (100000) stays, as runc");
	check("{\"cpu\":{\"shares\":2}}", 2, "cpu.weight 1\n", "v2 shares 2 -> 1");
	check("{\"cpu\":{\"shares\":262144}}", 2, "cpu.weight 10000\n",
	      "v2 shares 262144 -> 10000");
	check("{\"pids\":{\"limit\":-1}}", 2, "pids.max max\n", "v2 pids -1");
	check(
	    "{\"blockIO\":{\"weight\":500,\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":"
	    "200}],"
	    "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}],"
	    "\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":2097152},{\"major\":8,"
	    "\"minor\":16,\"rate\":7}],\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":0,"
	    "\"rate\":100}],\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":50}]}}",
	    2,
	    "io.weight default 4950\nio.bfq.weight 8:0 200\n"
	    "io.max 8:0 rbps=1048576 wbps=2097152 riops=100 wiops=50\nio.max 8:16 wbps=7\n",
	    "v2 io: weight converted as runc, one io.max line per device");
	check("{\"hugepageLimits\":[{\"pageSize\":\"1GB\",\"limit\":1073741824}],\"unified\":{"
	      "\"memory.high\":\"1000000\"}}",
	      2, "hugetlb.1GB.max 1073741824\nmemory.high 1000000\n", "v2 hugetlb and unified");
	check("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}", 2, "",
	      "v2 devices are no files (eBPF)");
	check_warn("{\"network\":{\"classID\":1}}", 2, "network.classID:", "v2 classID warns");
	check_warn("{\"network\":{\"priorities\":[{\"name\":\"eth0\",\"priority\":5}]}}", 2,
		   "network.priorities[eth0]:", "v2 priorities warn");
	check_warn("{\"memory\":{\"kernel\":1}}", 2, "memory.kernel:", "v2 kernel memory warns");
	check_warn("{\"memory\":{\"swappiness\":0}}", 2,
		   "memory.swappiness:", "v2 swappiness warns");
	check_warn("{\"cpu\":{\"realtimeRuntime\":1000}}", 2,
		   "cpu.realtimeRuntime:", "v2 realtime warns");
}

static void test_freebsd(void)
{
	check("{\"cpu\":{\"quota\":50000,\"period\":100000},\"memory\":{\"limit\":536870912}}", 3,
	      "jail:ID:pcpu:deny=50\njail:ID:memoryuse:deny=536870912\ncpuset=-\n",
	      "rctl: the research's example (pcpu = quota / period * 100)");
	check("{\"cpu\":{\"quota\":50000}}", 3, "jail:ID:pcpu:deny=50\ncpuset=-\n",
	      "rctl: no period means 100000");
	check("{\"cpu\":{\"quota\":1000,\"period\":1000000}}", 3, "jail:ID:pcpu:deny=1\ncpuset=-\n",
	      "rctl: pcpu at least 1");
	check("{\"cpu\":{\"quota\":33333,\"period\":100000}}", 3,
	      "jail:ID:pcpu:deny=34\ncpuset=-\n", "rctl: pcpu rounded up");
	check("{\"cpu\":{\"quota\":400000,\"period\":100000,\"cpus\":\"0-3\"}}", 3,
	      "jail:ID:pcpu:deny=400\ncpuset=0-3\n", "rctl: 4 CPUs is 400, cpuset list kept");
	check("{\"cpu\":{\"quota\":9223372036854775807,\"period\":1000}}", 3,
	      "jail:ID:pcpu:deny=922337203685477581\ncpuset=-\n",
	      "rctl: quota INT64_MAX does not overflow");
	check("{\"cpu\":{\"quota\":-1}}", 3, "cpuset=-\n", "rctl: quota -1 is no rule");
	check("{\"memory\":{\"limit\":536870912,\"swap\":1073741824},\"pids\":{\"limit\":64}}", 3,
	      "jail:ID:memoryuse:deny=536870912\njail:ID:vmemoryuse:deny=1073741824\n"
	      "jail:ID:maxproc:deny=64\ncpuset=-\n",
	      "rctl: memoryuse, vmemoryuse from swap, maxproc");
	check("{\"memory\":{\"limit\":-1,\"swap\":-1},\"pids\":{\"limit\":-1}}", 3, "cpuset=-\n",
	      "rctl: unlimited is no rule");
	check("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":7,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":8,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":9,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":0,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":1,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":2,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rwm\"},"
	      "{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":229,\"access\":\"rwm\"},"
	      "{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":9,\"access\":\"rwm\"}]}",
	      3,
	      "cpuset=-\nhide\npath null unhide\npath zero unhide\npath full unhide\n"
	      "path random unhide\npath urandom unhide\npath tty unhide\npath console unhide\n"
	      "path ptmx unhide\npath pts unhide\npath pts/* unhide\npath fuse unhide\n"
	      "path urandom hide\n",
	      "devfs: deny all, then each device by name, in order");
	check_warn("{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":4,\"minor\":64,"
		   "\"access\":\"rwm\"}]}",
		   3, "devices[0]: no FreeBSD device name for 4:64", "devfs: unknown device warns");
	check_warn("{\"cpu\":{\"shares\":1024}}", 3, "cpu.shares: no FreeBSD counterpart",
		   "rctl: shares warn");
	check_warn("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":1}]}", 3,
		   "hugepageLimits[2MB]:", "rctl: hugepages warn");
	check_warn("{\"blockIO\":{\"weight\":100}}", 3, "blockIO.weight:", "rctl: blkio warns");
	check_warn("{\"network\":{\"classID\":1}}", 3, "network.classID:", "rctl: network warns");
	check_warn("{\"cpu\":{\"realtimePeriod\":1000}}", 3,
		   "cpu.realtimePeriod:", "rctl: realtime warns");
	check_warn("{\"memory\":{\"swappiness\":1}}", 3,
		   "memory.swappiness:", "rctl: swappiness warns");
	check_warn("{\"memory\":{\"kernel\":1}}", 3, "memory.kernel:", "rctl: kernel memory warns");
	check_warn("{\"cpu\":{\"period\":100000}}", 3, "cpu.period:", "rctl: a lone period warns");
	{
		struct lim_resources r = {0};
		struct lim_freebsd fb;
		ferry_err_t err = NULL;

		ok(lim_to_freebsd(&r, "ID", 1024, &fb, NULL, &err) == 0 && fb.n_rctl == 1 &&
		       strcmp(fb.rctl[0], "jail:ID:openfiles:deny=1024") == 0,
		   "rctl: openfiles from RLIMIT_NOFILE");
		lim_freebsd_free(&fb);
		ok(lim_to_freebsd(&r, "a:b", -1, &fb, NULL, &err) < 0 && err,
		   "rctl: a jail name with ':' is refused");
		ferry_error_free(&err);
	}
}

static void test_parse_errors(void)
{
	check_error("{\"cpu\":{\"shares\":1}}",
		    "linux.resources.cpu.shares: 1 is out of range (2..262144)", "shares 1");
	check_error("{\"cpu\":{\"shares\":262145}}",
		    "linux.resources.cpu.shares: 262145 is out of range (2..262144)",
		    "shares 262145");
	check_error("{\"memory\":{\"limit\":-2}}", "linux.resources.memory.limit: -2 must be >= -1",
		    "memory -2");
	check_error("{\"memory\":{\"reservation\":-5}}",
		    "linux.resources.memory.reservation: -5 must be >= -1", "reservation -5");
	check_error("{\"memory\":{\"limit\":2048,\"swap\":1024}}",
		    "linux.resources.memory.swap: 1024 is below limit 2048 (swap is memory+swap)",
		    "swap below limit");
	check_error("{\"memory\":{\"swappiness\":101}}",
		    "linux.resources.memory.swappiness: 101 is out of range (0..100)",
		    "swappiness");
	check_error("{\"cpu\":{\"quota\":-2}}", "linux.resources.cpu.quota: -2 must be >= -1",
		    "quota -2");
	check_error("{\"cpu\":{\"quota\":999}}",
		    "linux.resources.cpu.quota: 999 is below the kernel's minimum of 1000 (1ms)",
		    "quota 999");
	check_error("{\"cpu\":{\"period\":999}}",
		    "linux.resources.cpu.period: 999 is out of range (1000..1000000)",
		    "period 999");
	check_error("{\"cpu\":{\"period\":1000001}}",
		    "linux.resources.cpu.period: 1000001 is out of range (1000..1000000)",
		    "period 1000001");
	check_error("{\"cpu\":{\"idle\":2}}", "linux.resources.cpu.idle: 2 is out of range (0..1)",
		    "idle 2");
	check_error("{\"pids\":{\"limit\":-2}}", "linux.resources.pids.limit: -2 must be >= -1",
		    "pids -2");
	check_error("{\"blockIO\":{\"weight\":5}}",
		    "linux.resources.blockIO.weight: 5 is out of range (10..1000)",
		    "blkio weight 5");
	check_error("{\"blockIO\":{\"weight\":1001}}",
		    "linux.resources.blockIO.weight: 1001 is out of range (10..1000)",
		    "blkio weight 1001");
	check_error("{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}}",
		    "linux.resources.blockIO.throttleReadBpsDevice[0].rate: must be given",
		    "throttle without rate");
	check_error("{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}",
		    "linux.resources.devices[0].type: unknown device type \"x\" (a, c or b)",
		    "device type x");
	check_error("{\"devices\":[{\"allow\":true,\"type\":\"c\",\"access\":\"rwx\"}]}",
		    "linux.resources.devices[0].access: \"rwx\" has letters other than r, w and m",
		    "device access rwx");
	check_error("{\"devices\":[{\"type\":\"c\"}]}",
		    "linux.resources.devices[0].allow: must be given", "device without allow");
	check_error("{\"hugepageLimits\":[{\"pageSize\":\"2XB\",\"limit\":1}]}",
		    "linux.resources.hugepageLimits[0].pageSize: must be a size like \"2MB\"",
		    "hugepage size");
	check_error("{\"memory\":{\"limit\":\"1G\"}}",
		    "linux.resources.memory.limit: must be an integer", "memory limit string");
	check_error("{\"memory\":[]}", "linux.resources.memory: must be an object", "memory array");
	check_error("[]", "linux.resources: must be an object", "not an object");
	check_error("{\"unified\":{\"../x\":\"1\"}}",
		    "linux.resources.unified.../x: not a cgroup file name", "unified path");
	check_error("{\"network\":{\"priorities\":[{\"name\":\"\",\"priority\":1}]}}",
		    "linux.resources.network.priorities[0].name: must be an interface name",
		    "empty interface name");
}

static void test_json_roundtrip(void)
{
	const char *in =
	    "{\"devices\":[{\"allow\":false,\"type\":\"a\",\"access\":\"rwm\"},{\"allow\":true,"
	    "\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}],\"memory\":{\"limit\":"
	    "536870912,\"reservation\":1,\"swap\":-1,\"kernel\":2,\"kernelTCP\":3,\"swappiness\":"
	    "4,\"disableOOMKiller\":true,\"useHierarchy\":true,\"checkBeforeUpdate\":false},"
	    "\"cpu\":{\"shares\":1024,\"quota\":50000,\"burst\":5,\"period\":100000,"
	    "\"realtimeRuntime\":6,\"realtimePeriod\":7,\"cpus\":\"0-1\",\"mems\":\"0\",\"idle\":1}"
	    ","
	    "\"pids\":{\"limit\":-1},\"blockIO\":{\"weight\":10,\"leafWeight\":20,\"weightDevice\":"
	    "[{"
	    "\"major\":8,\"minor\":0,\"weight\":30,\"leafWeight\":40}],\"throttleReadBpsDevice\":[{"
	    "\"major\":8,\"minor\":0,\"rate\":1}],\"throttleWriteBpsDevice\":[{\"major\":8,"
	    "\"minor\":"
	    "0,\"rate\":2}],\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":3}],"
	    "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":4}]},"
	    "\"hugepageLimits\":"
	    "[{\"pageSize\":\"2MB\",\"limit\":2097152}],\"network\":{\"classID\":9,\"priorities\":["
	    "{"
	    "\"name\":\"eth0\",\"priority\":5}]},\"unified\":{\"memory.high\":\"max\"}}";
	struct lim_resources r;
	ferry_err_t err = NULL;
	_cleanup_free_ char *out = NULL;

	ok(lim_parse_json(in, NULL, &r, &err) == 0, "parse every field");
	out = lim_to_json(&r);
	is_str(out, in, "lim_to_json gives back every field");
	lim_free(&r);
	ok(lim_parse_json("{}", NULL, &r, &err) == 0, "empty resources parse");
	free(out);
	out = lim_to_json(&r);
	is_str(out, "{}", "empty resources give {}");
	lim_free(&r);
	ok(lim_parse_json(
	       "{\"memory\":{\"limit\":0},\"cpu\":{\"shares\":0,\"quota\":0,\"period\":0}}", NULL,
	       &r, &err) == 0 &&
	       !r.memory.limit.set && !r.cpu.shares.set && !r.cpu.quota.set && !r.cpu.period.set,
	   "0 is not set (as runc)");
	lim_free(&r);
}

int main(void)
{
	test_shares_to_weight();
	test_cgroup1();
	test_cgroup2();
	test_freebsd();
	test_parse_errors();
	test_json_roundtrip();
	return done_testing();
}
