// SPDX-License-Identifier: Apache-2.0
/* Image files: the 12-byte header and length-prefixed protobuf records. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "image/internal.h"

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get_u32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int flush(struct img_out *o, ferry_err_t *err)
{
	size_t done = 0;

	while (done < o->blen) {
		ssize_t n = write(o->fd, o->buf + done, o->blen - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ferry_error_errno(err, "%s: write", o->name);
		done += n;
	}
	o->blen = 0;
	return 0;
}

int img_out_write(struct img_out *o, const void *data, size_t len, ferry_err_t *err)
{
	const uint8_t *p = data;

	o->crc = image_crc32c(o->crc, data, len);
	o->size += len;
	while (len) {
		size_t n = sizeof(o->buf) - o->blen;

		if (n > len)
			n = len;
		memcpy(o->buf + o->blen, p, n);
		o->blen += n;
		p += n;
		len -= n;
		if (o->blen == sizeof(o->buf) && flush(o, err) < 0)
			return -1;
	}
	return 0;
}

int img_out_open(struct img_out *o, int dirfd, const char *name, enum img_kind kind,
		 ferry_err_t *err)
{
	uint8_t hdr[IMG_HEADER_SIZE];

	memset(o, 0, offsetof(struct img_out, buf));
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (o->fd < 0)
		return ferry_error_errno(err, "%s: create", name);
	memcpy(hdr, IMG_MAGIC, 4);
	put_u32(hdr + 4, kind);
	put_u32(hdr + 8, IMAGE_FORMAT_VERSION);
	return img_out_write(o, hdr, sizeof(hdr), err);
}

int img_out_record(struct img_out *o, const ProtobufCMessage *msg, ferry_err_t *err)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t pfx[4];

	if (len > IMG_MAX_RECORD)
		return ferry_error(err, 0, "%s: record %u: %zu bytes, above the limit of %u",
				   o->name, o->nrec + 1, len, IMG_MAX_RECORD);
	buf = malloc(len ? len : 1);
	if (!buf)
		return ferry_error(err, ENOMEM, "%s", o->name);
	protobuf_c_message_pack(msg, buf);
	put_u32(pfx, (uint32_t)len);
	if (img_out_write(o, pfx, 4, err) < 0 || img_out_write(o, buf, len, err) < 0)
		return -1;
	o->nrec++;
	return 0;
}

int img_out_close(struct img_out *o, ferry_err_t *err)
{
	int r = 0;

	if (o->fd < 0)
		return 0;
	if (flush(o, err) < 0)
		r = -1;
	if (close(o->fd) < 0 && r == 0)
		r = ferry_error_errno(err, "%s: close", o->name);
	o->fd = -1;
	return r;
}

int img_in_start(struct img_in *in, const char *name, const uint8_t *buf, size_t len,
		 enum img_kind kind, ferry_err_t *err)
{
	*in = (struct img_in){.name = name, .buf = buf, .len = len, .pos = IMG_HEADER_SIZE};
	if (len < IMG_HEADER_SIZE)
		return ferry_error(err, 0, "%s: truncated header (%zu bytes)", name, len);
	if (memcmp(buf, IMG_MAGIC, 4))
		return ferry_error(err, 0, "%s: bad magic (not a ferry image file)", name);
	if (get_u32(buf + 4) != (uint32_t)kind)
		return ferry_error(err, 0, "%s: kind %u, expected %u", name, get_u32(buf + 4),
				   kind);
	if (get_u32(buf + 8) != IMAGE_FORMAT_VERSION)
		return ferry_error(err, 0, "%s: format version %u, this ferry reads version %u",
				   name, get_u32(buf + 8), IMAGE_FORMAT_VERSION);
	return 0;
}

int img_in_next(struct img_in *in, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
		ferry_err_t *err)
{
	size_t left = in->len - in->pos;
	uint32_t len;

	*msg = NULL;
	if (left == 0)
		return 0;
	in->recno++;
	if (left < 4)
		return ferry_error(err, 0, "%s: record %u: truncated length (%zu bytes left)",
				   in->name, in->recno, left);
	len = get_u32(in->buf + in->pos);
	if (len > IMG_MAX_RECORD)
		return ferry_error(err, 0, "%s: record %u: length %u above the limit of %u",
				   in->name, in->recno, len, IMG_MAX_RECORD);
	if (len > left - 4)
		return ferry_error(err, 0, "%s: record %u: truncated (%u bytes, %zu left)",
				   in->name, in->recno, len, left - 4);
	*msg = protobuf_c_message_unpack(desc, NULL, len, in->buf + in->pos + 4);
	if (!*msg)
		return ferry_error(err, 0, "%s: record %u: malformed %s", in->name, in->recno,
				   desc->short_name);
	in->pos += 4 + (size_t)len;
	return 1;
}

int img_in_error(const struct img_in *in, ferry_err_t *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ferry_error(err, 0, "%s: record %u%s%s", in->name, in->recno,
			   msg[0] == '(' ? " " : ": ", msg);
}

const char *img_path_problem(const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/')
		return "not absolute";
	if (len > IMG_MAX_PATH)
		return "too long";
	for (const char *p = path; *p;) {
		const char *e = strchrnul(p + 1, '/');
		size_t n = e - (p + 1);

		if (n == 2 && !strncmp(p + 1, "..", 2))
			return "has a '..' component";
		p = e;
	}
	return NULL;
}

char *img_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}
