// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <time.h>

#include "core/timefmt.h"

char *ferry_time_rfc3339(char *buf, size_t size, bool nanos)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (nanos)
		snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
	else
		snprintf(buf, size, "%sZ", base);
	return buf;
}
