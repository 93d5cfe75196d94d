// SPDX-License-Identifier: Apache-2.0
/* lib/limits: reading live limits back from cgroup v1/v2 file contents and RCTL rule text, the
 * stats JSON, merging updates, and ferry_limits_format. The file contents are tables of sample
 * text handed through the library's read callback (the code under test is pure). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "ferry/container.h"
#include "limits/limits.h"
#include "tap.h"

struct file {
	const char *controller, *name, *text;
};

static char *table_read(void *arg, const char *controller, const char *file)
{
	for (const struct file *f = arg; f->name; f++)
		if (strcmp(f->controller, controller) == 0 && strcmp(f->name, file) == 0)
			return strdup(f->text);
	return NULL;
}

static const struct file v1_files[] = {
    {"memory", "memory.limit_in_bytes", "536870912\n"},
    {"memory", "memory.soft_limit_in_bytes", "9223372036854771712\n"},
    {"memory", "memory.memsw.limit_in_bytes", "9223372036854771712\n"},
    {"memory", "memory.swappiness", "60\n"},
    {"memory", "memory.oom_control", "oom_kill_disable 1\nunder_oom 0\noom_kill 0\n"},
    {"cpu", "cpu.shares", "512\n"},
    {"cpu", "cpu.cfs_quota_us", "50000\n"},
    {"cpu", "cpu.cfs_period_us", "100000\n"},
    {"cpu", "cpu.cfs_burst_us", "0\n"},
    {"cpu", "cpu.rt_runtime_us", "0\n"},
    {"cpu", "cpu.rt_period_us", "1000000\n"},
    {"cpuset", "cpuset.cpus", "0-1\n"},
    {"cpuset", "cpuset.mems", "\n"},
    {"pids", "pids.max", "max\n"},
    {"blkio", "blkio.weight", "500\n"},
    {"blkio", "blkio.throttle.read_bps_device", "8:0 1048576\n8:16 2048\n"},
    {"blkio", "blkio.throttle.write_iops_device", ""},
    {"hugetlb", "hugetlb.2MB.limit_in_bytes", "4194304\n"},
    {"hugetlb", "hugetlb.1GB.limit_in_bytes", "9223372036854771712\n"},
    {"devices", "devices.list", "c 1:3 rwm\nc 136:* rwm\nb 8:0 r\n"},
    {"net_cls", "net_cls.classid", "0\n"},
    {"net_prio", "net_prio.ifpriomap", "lo 0\neth0 5\n"},
    {NULL, NULL, NULL},
};

static void test_from_cgroup1(void)
{
	struct lim_resources r;
	ferry_err_t err = NULL;
	_cleanup_free_ char *j = NULL;
	struct file empty[] = {{NULL, NULL, NULL}},
		    all[] = {{"devices", "devices.list", "a *:* rwm\n"}, {NULL, NULL, NULL}};

	ok(lim_from_cgroup1(table_read, (void *)v1_files, &r, &err) == 0, "v1 read back");
	j = lim_to_json(&r);
	is_str(
	    j,
	    "{\"devices\":[{\"allow\":false,\"type\":\"a\",\"access\":\"rwm\"},{\"allow\":true,"
	    "\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},{\"allow\":true,\"type\":"
	    "\"c\",\"major\":136,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"b\",\"major\":8,"
	    "\"minor\":0,\"access\":\"r\"}],\"memory\":{\"limit\":536870912,\"swap\":-1,"
	    "\"swappiness\":60,\"disableOOMKiller\":true},\"cpu\":{\"shares\":512,\"quota\":50000,"
	    "\"period\":100000,\"cpus\":\"0-1\"},\"pids\":{\"limit\":-1},\"blockIO\":{\"weight\":"
	    "500,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576},{\"major\":"
	    "8,"
	    "\"minor\":16,\"rate\":2048}]},\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":"
	    "4194304}],\"network\":{\"priorities\":[{\"name\":\"eth0\",\"priority\":5}]}}",
	    "v1 values: PAGE_COUNTER_MAX and max are -1, defaults and empty files are not set");
	lim_free(&r);
	ok(lim_from_cgroup1(table_read, empty, &r, &err) == 0 && !r.has_memory && !r.has_cpu &&
	       !r.has_pids && !r.n_devices,
	   "v1 with no files: nothing set");
	free(j);
	j = lim_to_json(&r);
	is_str(j, "{}", "v1 with no files gives {}");
	lim_free(&r);
	ok(lim_from_cgroup1(table_read, all, &r, &err) == 0 && r.n_devices == 1 &&
	       r.devices[0].allow && r.devices[0].type == 'a',
	   "v1 devices.list a *:* rwm is one allow-all rule");
	lim_free(&r);
}

static const struct file v2_files[] = {
    {"", "memory.max", "536870912\n"},
    {"", "memory.low", "0\n"},
    {"", "memory.swap.max", "536870912\n"},
    {"", "cpu.weight", "39\n"},
    {"", "cpu.max", "max 100000\n"},
    {"", "cpu.max.burst", "0\n"},
    {"", "cpu.idle", "1\n"},
    {"", "cpuset.cpus", "0-3,7\n"},
    {"", "cpuset.mems", "\n"},
    {"", "pids.max", "128\n"},
    {"", "io.weight", "default 4950\n8:0 100\n"},
    {"", "io.max", "8:0 rbps=1048576 wbps=max riops=max wiops=50\n"},
    {"", "hugetlb.2MB.max", "max\n"},
    {"", "hugetlb.1GB.max", "1073741824\n"},
    {NULL, NULL, NULL},
};

static void test_from_cgroup2(void)
{
	struct lim_resources r;
	ferry_err_t err = NULL;
	_cleanup_free_ char *j = NULL;
	struct lim_writes w = {0};

	ok(lim_from_cgroup2(table_read, (void *)v2_files, &r, &err) == 0, "v2 read back");
	j = lim_to_json(&r);
	is_str(j,
	       "{\"memory\":{\"limit\":536870912,\"swap\":1073741824},\"cpu\":{\"shares\":999,"
	       "\"quota\":-1,\"period\":100000,\"cpus\":\"0-3,7\",\"idle\":1},\"pids\":{\"limit\":"
	       "128},"
	       "\"blockIO\":{\"weight\":500,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,"
	       "\"rate\":1048576}],\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":"
	       "50}]},"
	       "\"hugepageLimits\":[{\"pageSize\":\"1GB\",\"limit\":1073741824}]}",
	       "v2 values: swap = swap.max + max, max is -1, weights converted back");
	/* Written back, the values are the same files. */
	ok(lim_to_cgroup2(&r, &w, NULL, &err) == 0, "v2 read back translates again");
	ok(w.n >= 3 && strcmp(w.w[0].file, "memory.swap.max") == 0 &&
	       strcmp(w.w[0].value, "536870912") == 0 && strcmp(w.w[2].file, "cpu.weight") == 0 &&
	       strcmp(w.w[2].value, "39") == 0,
	   "v2 round trip: swap.max and cpu.weight come back unchanged");
	lim_writes_free(&w);
	lim_free(&r);
}

static void test_from_rctl(void)
{
	struct lim_resources r;
	ferry_err_t err = NULL;
	_cleanup_free_ char *j = NULL;

	ok(lim_from_rctl("jail:ID:pcpu:deny=50\njail:ID:memoryuse:deny=512m\n"
			 "jail:ID:vmemoryuse:deny=1G\njail:ID:maxproc:deny=64\n"
			 "jail:ID:openfiles:deny=1024\njail:ID:memoryuse:log=1\n# comment\n\n",
			 &r, &err) == 0,
	   "rctl text parses");
	j = lim_to_json(&r);
	is_str(j,
	       "{\"memory\":{\"limit\":536870912,\"swap\":1073741824},\"cpu\":{\"quota\":50000,"
	       "\"period\":100000},\"pids\":{\"limit\":64}}",
	       "rctl: memoryuse, vmemoryuse, pcpu (period 100000), maxproc; humanized amounts");
	lim_free(&r);
	ok(lim_from_rctl("jail:ID:memoryuse\n", &r, &err) < 0 && err &&
	       strcmp(err->msg, "RCTL line 1: not subject:id:resource:action=amount") == 0,
	   "rctl: a rule with no action is refused");
	ferry_error_free(&err);
	ok(lim_from_rctl("jail:ID:memoryuse:deny=12x\n", &r, &err) < 0 && err &&
	       strcmp(err->msg, "RCTL line 1: bad amount \"12x\"") == 0,
	   "rctl: a bad amount is refused");
	ferry_error_free(&err);
	ok(lim_from_rctl("jail:ID:memoryuse:deny=16777216e\n", &r, &err) < 0, "rctl: overflow");
	ferry_error_free(&err);
}

static const struct file v1_stats_files[] = {
    {"cpuacct", "cpuacct.usage", "3000000000\n"},
    {"cpuacct", "cpuacct.usage_percpu", "1000000000 2000000000 \n"},
    {"cpuacct", "cpuacct.usage_all", "cpu user system\n0 600000000 400000000\n1 1 2\n"},
    {"cpuacct", "cpuacct.stat", "user 150\nsystem 50\n"},
    {"cpu", "cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n"},
    {"memory", "memory.usage_in_bytes", "1048576\n"},
    {"memory", "memory.max_usage_in_bytes", "2097152\n"},
    {"memory", "memory.failcnt", "3\n"},
    {"memory", "memory.limit_in_bytes", "9223372036854771712\n"},
    {"memory", "memory.stat", "cache 4096\nrss 8192\n"},
    {"pids", "pids.current", "2\n"},
    {"pids", "pids.max", "max\n"},
    {"blkio", "blkio.throttle.io_service_bytes_recursive",
     "8:0 Read 100\n8:0 Write 0\nTotal 100\n"},
    {"hugetlb", "hugetlb.2MB.usage_in_bytes", "0\n"},
    {"hugetlb", "hugetlb.2MB.max_usage_in_bytes", "0\n"},
    {"hugetlb", "hugetlb.2MB.failcnt", "0\n"},
    {NULL, NULL, NULL},
};

static const struct file v2_stats_files[] = {
    {"", "cpu.stat",
     "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 4\nnr_throttled 1\n"
     "throttled_usec 7\n"},
    {"", "memory.current", "1048576\n"},
    {"", "memory.max", "max\n"},
    {"", "memory.swap.current", "0\n"},
    {"", "memory.swap.max", "0\n"},
    {"", "memory.stat", "anon 8192\nfile 4096\n"},
    {"", "pids.current", "1\n"},
    {"", "pids.max", "10\n"},
    {"", "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"},
    {"", "hugetlb.2MB.current", "2097152\n"},
    {"", "hugetlb.2MB.events", "max 4\n"},
    {NULL, NULL, NULL},
};

static void test_stats(void)
{
	_cleanup_free_ char *v1 = lim_stats_json(table_read, (void *)v1_stats_files, false);
	_cleanup_free_ char *v2 = lim_stats_json(table_read, (void *)v2_stats_files, true);
	json_t *j;

	is_str(
	    v1,
	    "{\"cpu\":{\"usage\":{\"total\":3000000000,\"percpu\":[1000000000,2000000000],"
	    "\"percpu_kernel\":[400000000,2],\"percpu_user\":[600000000,1],\"kernel\":500000000,"
	    "\"user\":1500000000},\"throttling\":{\"periods\":10,\"throttledPeriods\":2,"
	    "\"throttledTime\":5000}},\"cpuset\":{},\"memory\":{\"cache\":4096,\"usage\":{"
	    "\"limit\":"
	    "9223372036854771712,\"usage\":1048576,\"max\":2097152,\"failcnt\":3},\"swap\":{"
	    "\"limit\":"
	    "0,\"failcnt\":0},\"kernel\":{\"limit\":0,\"failcnt\":0},\"kernelTCP\":{\"limit\":0,"
	    "\"failcnt\":0},\"raw\":{\"cache\":4096,\"rss\":8192}},\"pids\":{\"current\":2},"
	    "\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":100},"
	    "{\"major\":8,\"op\":\"Write\"}]},\"hugetlb\":{\"2MB\":{\"failcnt\":0}},\"intel_rdt\":{"
	    "},"
	    "\"network_interfaces\":null}",
	    "v1 stats: runc's shape, ticks to ns, omitempty as runc");
	is_str(
	    v2,
	    "{\"cpu\":{\"usage\":{\"total\":3000000,\"kernel\":1000000,\"user\":2000000},"
	    "\"throttling\":{\"periods\":4,\"throttledPeriods\":1,\"throttledTime\":7000}},"
	    "\"cpuset\":{},\"memory\":{\"cache\":4096,\"usage\":{\"limit\":18446744073709551615,"
	    "\"usage\":1048576,\"failcnt\":0},\"swap\":{\"limit\":18446744073709551615,\"usage\":"
	    "1048576,\"failcnt\":0},\"kernel\":{\"limit\":0,\"failcnt\":0},\"kernelTCP\":{"
	    "\"limit\":"
	    "0,\"failcnt\":0},\"raw\":{\"anon\":8192,\"file\":4096}},\"pids\":{\"current\":1,"
	    "\"limit\":10},\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\","
	    "\"value\":10},{\"major\":8,\"op\":\"Write\",\"value\":20}],\"ioServicedRecursive\":[{"
	    "\"major\":8,\"op\":\"Read\",\"value\":1},{\"major\":8,\"op\":\"Write\",\"value\":2}]},"
	    "\"hugetlb\":{\"2MB\":{\"usage\":2097152,\"failcnt\":4}},\"intel_rdt\":{},"
	    "\"network_interfaces\":null}",
	    "v2 stats: usec to ns, max is MaxUint64, swap reported as memory+swap (as runc)");
	j = v2 ? json_loads(v2, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
	ok(j != NULL, "v2 stats is valid JSON");
	json_decref(j);
}

static void test_merge(void)
{
	struct lim_resources base, up;
	ferry_err_t err = NULL;
	_cleanup_free_ char *j = NULL;

	ok(lim_parse_json(
	       "{\"memory\":{\"limit\":1048576,\"swap\":2097152},\"cpu\":{\"shares\":"
	       "512,\"cpus\":\"0\"},\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,"
	       "\"minor\":0,\"rate\":1}]},\"hugepageLimits\":[{\"pageSize\":\"2MB\","
	       "\"limit\":2097152}],\"unified\":{\"memory.high\":\"1\"},\"devices\":[{"
	       "\"allow\":false,\"access\":\"rwm\"}]}",
	       NULL, &base, &err) == 0 &&
	       lim_parse_json(
		   "{\"memory\":{\"limit\":4194304},\"cpu\":{\"quota\":50000,\"cpus\":"
		   "\"1-2\"},\"pids\":{\"limit\":10},\"blockIO\":{"
		   "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":2},{"
		   "\"major\":8,\"minor\":16,\"rate\":3}]},\"hugepageLimits\":[{"
		   "\"pageSize\":\"2MB\",\"limit\":0},{\"pageSize\":\"1GB\",\"limit\":"
		   "1073741824}],\"unified\":{\"memory.high\":\"2\",\"pids.max\":\"5\"}}",
		   NULL, &up, &err) == 0,
	   "merge inputs parse");
	ok(lim_merge(&base, &up, &err) == 0, "merge");
	j = lim_to_json(&base);
	is_str(
	    j,
	    "{\"devices\":[{\"allow\":false,\"type\":\"a\",\"access\":\"rwm\"}],\"memory\":{"
	    "\"limit\":4194304,\"swap\":2097152},\"cpu\":{\"shares\":512,\"quota\":50000,\"cpus\":"
	    "\"1-2\"},\"pids\":{\"limit\":10},\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,"
	    "\"minor\":0,\"rate\":2},{\"major\":8,\"minor\":16,\"rate\":3}]},\"hugepageLimits\":[{"
	    "\"pageSize\":\"2MB\",\"limit\":0},{\"pageSize\":\"1GB\",\"limit\":1073741824}],"
	    "\"unified\":{\"memory.high\":\"2\",\"pids.max\":\"5\"}}",
	    "merge: set values replace, lists merge by device, size and key, unset values stay");
	lim_free(&base);
	lim_free(&up);
}

static void test_format(void)
{
	const char *in =
	    "{\"cpu\":{\"quota\":50000,\"period\":100000,\"shares\":1024,\"cpus\":"
	    "\"0-1\"},\"memory\":{\"limit\":536870912},\"devices\":[{\"allow\":false,"
	    "\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,"
	    "\"access\":\"rwm\"}]}";
	ferry_err_t err = NULL;
	_cleanup_free_ char *rctl = ferry_limits_format(in, "rctl", "ID", -1, &err);
	_cleanup_free_ char *v1 = ferry_limits_format(in, "cgroup1", NULL, -1, &err);
	_cleanup_free_ char *v2 = ferry_limits_format(in, "cgroup2", NULL, -1, &err);
	_cleanup_free_ char *js = ferry_limits_format(in, "json", NULL, -1, &err);
	_cleanup_free_ char *bad = NULL, *nofile = NULL;

	is_str(rctl,
	       "jail:ID:pcpu:deny=50\njail:ID:memoryuse:deny=536870912\ncpuset: 0-1\ndevfs: hide\n"
	       "devfs: path null unhide\n# warning: cpu.shares: no FreeBSD counterpart; not set\n",
	       "format rctl: the issue's example, cpuset, devfs, warnings");
	is_str(
	    v1,
	    "devices/devices.deny a\ndevices/devices.deny a *:* rwm\ndevices/devices.allow c 1:3 "
	    "rwm\nmemory/memory.limit_in_bytes 536870912\ncpu/cpu.shares 1024\n"
	    "cpu/cpu.cfs_period_us 100000\ncpu/cpu.cfs_quota_us 50000\ncpuset/cpuset.cpus 0-1\n",
	    "format cgroup1");
	is_str(v2, "memory.max 536870912\ncpu.weight 39\ncpu.max 50000 100000\ncpuset.cpus 0-1\n",
	       "format cgroup2");
	ok(js && strncmp(js, "{\"devices\":", 11) == 0 && js[strlen(js) - 1] == '\n',
	   "format json");
	nofile = ferry_limits_format("{}", "rctl", "ID", 1024, &err);
	is_str(nofile, "jail:ID:openfiles:deny=1024\n", "format rctl with nofile");
	bad = ferry_limits_format("{}", "yaml", NULL, -1, &err);
	ok(!bad && err && strstr(err->msg, "unknown format \"yaml\""), "format: unknown format");
	ferry_error_free(&err);
	free(bad);
	bad = ferry_limits_format("{\"cpu\":{\"shares\":1}}", "json", NULL, -1, &err);
	ok(!bad && err &&
	       strcmp(err->msg, "linux.resources.cpu.shares: 1 is out of range (2..262144)") == 0,
	   "format: parse errors name the field");
	ferry_error_free(&err);
}

int main(void)
{
	test_from_cgroup1();
	test_from_cgroup2();
	test_from_rctl();
	test_stats();
	test_merge();
	test_format();
	return done_testing();
}
