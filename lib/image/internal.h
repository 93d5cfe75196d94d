/* SPDX-License-Identifier: Apache-2.0 */
/* Image files: header, record framing, limits. Private to lib/image. */
#ifndef FERRY_IMAGE_INTERNAL_H
#define FERRY_IMAGE_INTERNAL_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/error.h"
#include "image/image.h"

#define IMG_MAGIC "FRYI"
#define IMG_HEADER_SIZE 12
#define IMG_NAME_MAX 64

enum img_kind {
	IMG_INVENTORY = 1,
	IMG_PSTREE = 2,
	IMG_CORE = 3,
	IMG_PROC = 4,
	IMG_MM = 5,
	IMG_PAGEMAP = 6,
	IMG_PAGES = 7,
	IMG_FILES = 8,
	IMG_SHM = 9,
	IMG_GHOST = 10,
	IMG_CONTAINER = 11,
};

/* Limits beyond which an image is refused as absurd. */
#define IMG_MAX_RECORD (64u << 20)
#define IMG_MAX_PROCS 65536
#define IMG_MAX_THREADS 65536 /* per process */
#define IMG_MAX_VMAS (1u << 20)
#define IMG_MAX_RUNS (1u << 24)
#define IMG_MAX_FD (1 << 20)  /* fd numbers are below this (Linux nr_open's ceiling) */
#define IMG_MAX_PID (1 << 22) /* PID_MAX_LIMIT */
#define IMG_MAX_PENDING 65536
#define IMG_MAX_XSAVE 65536
#define IMG_MAX_AUXV 1024 /* u64 words */
#define IMG_MAX_GROUPS 65536
#define IMG_MAX_PATH 4095
#define IMG_MAX_LIST 1048576		   /* epoll targets, queued messages, timers, shm objects */
#define IMG_USER_TOP 0x0100000000000000ull /* above 57-bit user space */
#define IMG_VSYSCALL 0xffffffffff600000ull

/* A record file being written: buffered, checksummed as it goes. */
struct img_out {
	char name[IMG_NAME_MAX];
	int fd;
	uint32_t crc;
	uint64_t size;
	uint32_t nrec;
	size_t blen;
	uint8_t buf[65536];
};

/* Creates name in dirfd and writes its header; returns 0 or -1. */
int img_out_open(struct img_out *o, int dirfd, const char *name, enum img_kind kind,
		 ferry_err_t *err);

/* Appends bytes (checksummed); returns 0 or -1. */
int img_out_write(struct img_out *o, const void *data, size_t len, ferry_err_t *err);

/* Appends one length-prefixed record; returns 0 or -1. */
int img_out_record(struct img_out *o, const ProtobufCMessage *msg, ferry_err_t *err);

/* Flushes and closes; returns 0 or -1 (the fd is closed either way). */
int img_out_close(struct img_out *o, ferry_err_t *err);

/* A record file being read, whole in memory. */
struct img_in {
	const char *name;
	const uint8_t *buf;
	size_t len, pos;
	unsigned recno; /* 1-based number of the last record returned */
};

/* Checks the header (magic, kind, version) of a file in memory; returns 0 or -1. */
int img_in_start(struct img_in *in, const char *name, const uint8_t *buf, size_t len,
		 enum img_kind kind, ferry_err_t *err);

/* Unpacks the next record; returns 1 with *msg set, 0 at the end, -1 on a bad record. */
int img_in_next(struct img_in *in, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
		ferry_err_t *err);

/* Sets an error "NAME: record N: ..." for the last record of in; returns -1. */
int img_in_error(const struct img_in *in, ferry_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Path checks: absolute, no "..", no empty component past the first, bounded. Returns NULL when
 * fine, else why not. */
const char *img_path_problem(const char *path);

/* Duplicates s (NULL stays NULL); returns the copy or NULL when out of memory and s != NULL. */
char *img_strdup(const char *s);

static inline void img_pb_freep(void *p)
{
	ProtobufCMessage **m = p;

	if (*m)
		protobuf_c_message_free_unpacked(*m, NULL);
}
#define _cleanup_pb_ __attribute__((cleanup(img_pb_freep)))

/* Record readers (decode.c): records of in into the model, checked one by one; return 0 or -1
 * with an error naming the file and record. */
int dec_pstree(struct img_in *in, struct cr_image *img, int32_t root_pid, ferry_err_t *err);
int dec_thread(struct img_in *in, struct cr_thread *t, int32_t tid, ferry_err_t *err);
int dec_proc(struct img_in *in, struct cr_process *p, ferry_err_t *err);
int dec_mm(struct img_in *in, struct cr_process *p, ferry_err_t *err);
/* pages_size(id) gives the page data size of pages-<id>.img, or -1 when there is none. */
int dec_pagemap(struct img_in *in, struct cr_process *p, int64_t (*pages_size)(void *, uint32_t),
		void *ctx, ferry_err_t *err);
int dec_shm(struct img_in *in, struct cr_image *img, int64_t (*pages_size)(void *, uint32_t),
	    void *ctx, ferry_err_t *err);
int dec_ghost(struct img_in *in, struct cr_ghost *g, uint64_t id, ferry_err_t *err);
int dec_files(struct img_in *in, struct cr_image *img, ferry_err_t *err);

/* Record builders (encode.c): one model object to records appended to o; return 0 or -1. */
int enc_pstree(struct img_out *o, const struct cr_process *p, ferry_err_t *err);
int enc_thread(struct img_out *o, const struct cr_thread *t, ferry_err_t *err);
int enc_proc(struct img_out *o, const struct cr_process *p, ferry_err_t *err);
int enc_mm(struct img_out *o, const struct cr_process *p, ferry_err_t *err);
int enc_pagemap(struct img_out *o, int32_t pid, const struct cr_pagemap *pm, ferry_err_t *err);
int enc_fd(struct img_out *o, int32_t pid, const struct cr_fd *fd, ferry_err_t *err);
int enc_shm(struct img_out *o, const struct cr_shm *s, ferry_err_t *err);
int enc_ghost(struct img_out *o, const struct cr_ghost *g, ferry_err_t *err);

/* container.img (container.c): the container record and its tmpfs files. */
int enc_container(struct img_out *o, const struct cr_container *c, ferry_err_t *err);
int dec_container(struct img_in *in, struct cr_image *img, ferry_err_t *err);
struct json_t;
/* The container record as JSON (null for NULL); returns a new reference. */
struct json_t *img_container_json(const struct cr_container *c);

#endif
