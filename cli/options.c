// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"

static const struct opt *find(const struct opt *opts, const char *name, size_t len, bool is_short)
{
	for (const struct opt *o = opts; o->name; o++) {
		if (is_short && len == 1 && o->short_name == name[0])
			return o;
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	}
	return NULL;
}

static int set_value(const char *cmd, const struct opt *o, const char *value)
{
	char *end;
	struct opt_list *l;

	switch (o->kind) {
	case OPT_STRING:
		*(const char **)o->target = value;
		return 0;
	case OPT_INT:
		*(int *)o->target = (int)strtol(value, &end, 10);
		if (*end || !*value) {
			fprintf(stderr, "ferry %s: --%s: invalid number \"%s\"\n", cmd, o->name,
				value);
			return -1;
		}
		return 0;
	case OPT_LIST:
		l = o->target;
		l->items = realloc(l->items, (l->n + 1) * sizeof(*l->items));
		if (!l->items)
			return -1;
		l->items[l->n++] = value;
		return 0;
	case OPT_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "1")) {
			*(bool *)o->target = true;
			return 0;
		}
		if (!strcmp(value, "false") || !strcmp(value, "0")) {
			*(bool *)o->target = false;
			return 0;
		}
		fprintf(stderr, "ferry %s: --%s: invalid boolean \"%s\"\n", cmd, o->name, value);
		return -1;
	case OPT_COUNT:
		(*(int *)o->target)++;
		return 0;
	}
	return -1;
}

int opts_parse(const char *cmd, const struct opt *opts, int argc, char **argv, int *i)
{
	while (*i < argc) {
		const char *a = argv[*i], *name, *eq;
		const struct opt *o;
		bool is_short;
		size_t len;

		if (a[0] != '-' || a[1] == '\0')
			return 0;
		if (!strcmp(a, "--")) {
			(*i)++;
			return 0;
		}
		is_short = a[1] != '-';
		name = a + (is_short ? 1 : 2);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if ((len == 4 && !strncmp(name, "help", 4)) || (len == 1 && name[0] == 'h'))
			return 1;
		o = find(opts, name, len, is_short);
		if (!o) {
			fprintf(stderr, "ferry %s: unknown flag %s (see ferry %s --help)\n", cmd, a,
				cmd);
			return -1;
		}
		(*i)++;
		if (eq) {
			if (set_value(cmd, o, eq + 1) < 0)
				return -1;
			continue;
		}
		if (o->kind == OPT_BOOL) {
			*(bool *)o->target = true;
			continue;
		}
		if (o->kind == OPT_COUNT) {
			(*(int *)o->target)++;
			continue;
		}
		if (*i >= argc) {
			fprintf(stderr, "ferry %s: flag --%s needs a value\n", cmd, o->name);
			return -1;
		}
		if (set_value(cmd, o, argv[(*i)++]) < 0)
			return -1;
	}
	return 0;
}
