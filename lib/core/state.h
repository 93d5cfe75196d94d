/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state store under --root: one directory per container holding state.json (written
 * atomically), config.json (the config it was created with) and, until `start`, exec.fifo.
 * Commands that change a container hold an exclusive lock on its directory.
 */
#ifndef FERRY_STATE_H
#define FERRY_STATE_H

#include "ferry/container.h"

struct state_rec {
	struct ferry_state pub;
	unsigned long long start_time; /* of pub.pid, from the backend */
};

/* Returns "<root>/<id>" (new string) after validating the id, or NULL. */
char *state_dir(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err);

/* Makes the container's directory (and the root); an existing one is a clear "already exists"
 * error. Returns a locked directory fd or -1. */
int state_dir_create(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err);

/* Opens and locks an existing container's directory; returns the fd or -1 ("does not exist"). */
int state_dir_lock(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err);

/* Writes state.json atomically into the directory; returns 0 or -1. */
int state_write(int dirfd, const struct state_rec *rec, ferry_err_t *err);

/* Reads state.json of a container and derives its current status; returns 0 or -1. */
int state_read(const struct ferry_ctx *ctx, const char *id, struct state_rec *rec,
	       ferry_err_t *err);

/* Returns the user name owning the container's state (new string, "" when unknown). */
char *state_owner(const struct ferry_ctx *ctx, const char *id);

/* Writes `len` bytes to name inside dirfd atomically (temp file + rename); returns 0 or -1. */
int state_write_file(int dirfd, const char *name, const char *data, size_t len, ferry_err_t *err);

/* Removes the container's directory and everything in it; returns 0 or -1. */
int state_dir_remove(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err);

#endif
