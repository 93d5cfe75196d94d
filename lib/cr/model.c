// SPDX-License-Identifier: Apache-2.0
/* Releasing the process model. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cr/model.h"

static void thread_free(struct cr_thread *t)
{
	free(t->comm);
	free(t->xsave);
	free(t->pending);
}

void cr_fd_free(struct cr_fd *fd)
{
	if (!fd)
		return;
	free(fd->path);
	free(fd->data.data);
	for (size_t i = 0; i < fd->unix_sk.n_queue; i++)
		free(fd->unix_sk.queue[i].data);
	free(fd->unix_sk.queue);
	free(fd->epoll.targets);
	free(fd->termios.data);
	free(fd->tcp.sendq.data);
	free(fd->tcp.recvq.data);
	memset(fd, 0, sizeof(*fd));
}

void cr_process_free(struct cr_process *p)
{
	if (!p)
		return;
	free(p->comm);
	for (size_t i = 0; i < p->n_threads; i++)
		thread_free(&p->threads[i]);
	free(p->threads);
	for (size_t i = 0; i < p->n_vmas; i++)
		free(p->vmas[i].path);
	free(p->vmas);
	free(p->pages.runs);
	free(p->mm.auxv);
	free(p->mm.exe);
	free(p->shared_pending);
	free(p->cwd);
	free(p->root);
	free(p->creds.groups);
	free(p->timers);
	for (size_t i = 0; i < p->n_seccomp; i++)
		free(p->seccomp[i].bpf);
	free(p->seccomp);
	for (size_t i = 0; i < p->n_fds; i++)
		cr_fd_free(&p->fds[i]);
	free(p->fds);
	memset(p, 0, sizeof(*p));
}

static void host_free(struct cr_host *h)
{
	free(h->os);
	free(h->kernel);
	free(h->arch);
	for (size_t i = 0; i < h->n_vdso; i++)
		free(h->vdso[i].name);
	free(h->vdso);
	free(h->ferry_version);
}

void cr_container_free(struct cr_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->config);
	free(c->limits);
	free(c->hostname);
	free(c->domainname);
	for (size_t i = 0; i < c->n_sysctls; i++)
		free(c->sysctls[i]);
	free(c->sysctls);
	for (size_t i = 0; i < c->n_mounts; i++) {
		struct cr_mount_files *m = &c->mounts[i];

		for (size_t k = 0; k < m->n_files; k++) {
			free(m->files[k].path);
			free(m->files[k].data.data);
			free(m->files[k].target);
		}
		free(m->files);
		free(m->destination);
	}
	free(c->mounts);
	for (size_t i = 0; i < c->n_sems; i++)
		free(c->sems[i].values);
	free(c->sems);
	for (size_t i = 0; i < c->n_queues; i++) {
		for (size_t k = 0; k < c->queues[i].n_msgs; k++)
			free(c->queues[i].msgs[k].data.data);
		free(c->queues[i].msgs);
	}
	free(c->queues);
	free(c);
}

void cr_image_free(struct cr_image *img)
{
	if (!img)
		return;
	host_free(&img->host);
	cr_container_free(img->container);
	for (size_t i = 0; i < img->n_procs; i++)
		cr_process_free(&img->procs[i]);
	free(img->procs);
	for (size_t i = 0; i < img->n_shm; i++) {
		free(img->shm[i].name);
		free(img->shm[i].pages.runs);
	}
	free(img->shm);
	for (size_t i = 0; i < img->n_ghosts; i++)
		free(img->ghosts[i].data.data);
	free(img->ghosts);
	memset(img, 0, sizeof(*img));
}

struct cr_process *cr_image_find_process(const struct cr_image *img, int32_t pid)
{
	for (size_t i = 0; i < img->n_procs; i++)
		if (img->procs[i].pid == pid)
			return &img->procs[i];
	return NULL;
}

bool cr_image_has_socket(const struct cr_image *img, uint64_t id)
{
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++)
			if (img->procs[i].fds[k].kind == CR_FD_UNIX &&
			    img->procs[i].fds[k].id == id)
				return true;
	return false;
}

int cr_image_check_peers(const struct cr_image *img, ferry_err_t *err)
{
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++) {
			const struct cr_fd *f = &img->procs[i].fds[k];

			if (f->kind != CR_FD_UNIX || !f->unix_sk.peer ||
			    cr_image_has_socket(img, f->unix_sk.peer))
				continue;
			return ferry_error(
			    err, ENOTSUP,
			    "process %d fd %d: a unix socket connected to one outside "
			    "the tree (socket:[%llu]): not supported yet",
			    img->procs[i].pid, f->fd, (unsigned long long)f->unix_sk.peer);
		}
	return 0;
}
