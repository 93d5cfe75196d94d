/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line flags as runc (urfave/cli) takes them: -flag, --flag, --flag=value, --flag value;
 * parsing stops at the first argument that is not a flag. */
#ifndef FERRY_CLI_OPTIONS_H
#define FERRY_CLI_OPTIONS_H

#include <stdbool.h>

enum opt_kind {
	OPT_BOOL,   /* bool *; "--x", "--x=true|false" */
	OPT_STRING, /* const char ** */
	OPT_INT,    /* int * */
	OPT_LIST,   /* struct opt_list *: may repeat */
	OPT_COUNT,  /* int *: counts repeats */
};

struct opt_list {
	const char **items;
	int n;
};

struct opt {
	const char *name;  /* long name */
	char short_name;   /* 0 for none */
	enum opt_kind kind;
	void *target;
};

/* Parses flags from argv[*i] on; on return *i indexes the first positional argument. Prints a
 * clear error and returns -1 for an unknown flag or a missing value; returns 1 for --help. */
int opts_parse(const char *cmd, const struct opt *opts, int argc, char **argv, int *i);

#endif
