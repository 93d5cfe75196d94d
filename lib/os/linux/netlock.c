// SPDX-License-Identifier: Apache-2.0
/* The network lock in raw nfnetlink: a batch (BATCH_BEGIN, the nf_tables messages, BATCH_END)
 * is applied by the kernel as one transaction, every message acknowledged. A connection's rules:
 * meta nfproto, meta l4proto tcp, the two addresses and the two ports compared, verdict drop;
 * one rule per direction in each of the input and output chains. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/netlock.h"

#define PRIORITY (-300) /* before conntrack and every ordinary filter chain */
#define ACK_WAIT_MS 2000

struct lx_netlock {
	int fd;
	uint32_t seq;
};

/* A message under construction. */
struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
	size_t nest[8];
	int depth;
	uint32_t msgs; /* messages that ask for an acknowledgement */
};

static void *grow(struct buf *b, size_t n)
{
	size_t need = b->len + NLMSG_ALIGN(n);

	if (b->oom)
		return NULL;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return NULL;
		}
		b->p = p, b->cap = cap;
	}
	void *at = b->p + b->len;

	memset(at, 0, NLMSG_ALIGN(n));
	b->len = need;
	return at;
}

static size_t msg_begin(struct buf *b, uint16_t type, uint16_t flags, uint8_t family, uint32_t seq,
			uint16_t res_id)
{
	size_t at = b->len;
	struct nlmsghdr *nh = grow(b, NLMSG_HDRLEN + sizeof(struct nfgenmsg));

	if (!nh)
		return at;
	nh->nlmsg_type = type, nh->nlmsg_flags = NLM_F_REQUEST | flags, nh->nlmsg_seq = seq;
	struct nfgenmsg *g = (void *)((uint8_t *)nh + NLMSG_HDRLEN);

	g->nfgen_family = family, g->version = NFNETLINK_V0, g->res_id = htons(res_id);
	if (flags & NLM_F_ACK)
		b->msgs++;
	return at;
}

static void msg_end(struct buf *b, size_t at)
{
	if (!b->oom)
		((struct nlmsghdr *)(b->p + at))->nlmsg_len = (uint32_t)(b->len - at);
}

static void attr(struct buf *b, uint16_t type, const void *v, size_t n)
{
	struct nlattr *a = grow(b, NLA_HDRLEN + n);

	if (!a)
		return;
	a->nla_type = type, a->nla_len = (uint16_t)(NLA_HDRLEN + n);
	memcpy((uint8_t *)a + NLA_HDRLEN, v, n);
}

static void attr_str(struct buf *b, uint16_t type, const char *s)
{
	attr(b, type, s, strlen(s) + 1);
}

static void attr_u32(struct buf *b, uint16_t type, uint32_t v)
{
	uint32_t be = htonl(v);

	attr(b, type, &be, sizeof(be));
}

static void nest_start(struct buf *b, uint16_t type)
{
	size_t at = b->len;
	struct nlattr *a = grow(b, NLA_HDRLEN);

	if (a)
		a->nla_type = type | NLA_F_NESTED;
	b->nest[b->depth++] = at;
}

static void nest_end(struct buf *b)
{
	size_t at = b->nest[--b->depth];

	if (!b->oom)
		((struct nlattr *)(b->p + at))->nla_len = (uint16_t)(b->len - at);
}

static uint16_t nft_type(int msg)
{
	return (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | msg);
}

static void batch_edge(struct buf *b, int type, uint32_t seq)
{
	msg_end(b, msg_begin(b, (uint16_t)type, 0, AF_UNSPEC, seq, NFNL_SUBSYS_NFTABLES));
}

struct lx_netlock *lx_netlock_open(int netns_fd, ferry_err_t *err)
{
	_cleanup_close_ int self = -1;
	struct lx_netlock *l = calloc(1, sizeof(*l));
	int fd = -1;

	if (!l)
		return ferry_error(err, ENOMEM, "network lock"), NULL;
	if (netns_fd >= 0) {
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0 || setns(netns_fd, CLONE_NEWNET) < 0) {
			ferry_error_errno(err, "network lock: enter the network namespace");
			free(l);
			return NULL;
		}
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (netns_fd >= 0 && setns(self, CLONE_NEWNET) < 0)
		abort(); /* the thread would stay in another namespace */
	if (fd < 0) {
		ferry_error_errno(err, "network lock: netlink socket");
		free(l);
		return NULL;
	}
	l->fd = fd;
	l->seq = (uint32_t)getpid() << 8;
	return l;
}

void lx_netlock_close(struct lx_netlock *l)
{
	if (!l)
		return;
	close(l->fd);
	free(l);
}

/* Waits for one netlink message; returns its length, 0 on timeout, or -1. */
static ssize_t recv_wait(int fd, void *buf, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, ACK_WAIT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r;
	return recv(fd, buf, size, 0);
}

/* Sends b and reads an acknowledgement for each message; returns 0 or -1 with the kernel's first
 * error (errno). */
static int talk(struct lx_netlock *l, struct buf *b, ferry_err_t *err, const char *what)
{
	union {
		struct nlmsghdr nh;
		uint8_t raw[16384];
	} rep;
	uint32_t acked = 0;
	int first = 0;

	if (b->oom)
		return ferry_error(err, ENOMEM, "%s", what);
	if (send(l->fd, b->p, b->len, 0) != (ssize_t)b->len)
		return ferry_error_errno(err, "%s: netlink", what);
	while (acked < b->msgs) {
		ssize_t n = recv_wait(l->fd, &rep, sizeof(rep));

		if (n < 0)
			return ferry_error_errno(err, "%s: netlink", what);
		if (n == 0)
			break;
		for (struct nlmsghdr *nh = &rep.nh; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			acked++;
			if (e->error && !first)
				first = -e->error;
		}
		if (first)
			break;
	}
	if (first)
		return ferry_error(err, first, "%s", what);
	if (acked < b->msgs)
		return ferry_error(err, ETIMEDOUT, "%s: no answer from nf_tables", what);
	return 0;
}

static void expr_begin(struct buf *b, const char *name)
{
	nest_start(b, NFTA_LIST_ELEM);
	attr_str(b, NFTA_EXPR_NAME, name);
	nest_start(b, NFTA_EXPR_DATA);
}

static void expr_end(struct buf *b)
{
	nest_end(b);
	nest_end(b);
}

static void expr_meta(struct buf *b, uint32_t key)
{
	expr_begin(b, "meta");
	attr_u32(b, NFTA_META_DREG, NFT_REG_1);
	attr_u32(b, NFTA_META_KEY, key);
	expr_end(b);
}

static void expr_payload(struct buf *b, uint32_t base, uint32_t off, uint32_t len)
{
	expr_begin(b, "payload");
	attr_u32(b, NFTA_PAYLOAD_DREG, NFT_REG_1);
	attr_u32(b, NFTA_PAYLOAD_BASE, base);
	attr_u32(b, NFTA_PAYLOAD_OFFSET, off);
	attr_u32(b, NFTA_PAYLOAD_LEN, len);
	expr_end(b);
}

static void expr_cmp(struct buf *b, const void *v, size_t n)
{
	expr_begin(b, "cmp");
	attr_u32(b, NFTA_CMP_SREG, NFT_REG_1);
	attr_u32(b, NFTA_CMP_OP, NFT_CMP_EQ);
	nest_start(b, NFTA_CMP_DATA);
	attr(b, NFTA_DATA_VALUE, v, n);
	nest_end(b);
	expr_end(b);
}

static void expr_drop(struct buf *b)
{
	expr_begin(b, "immediate");
	attr_u32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	nest_start(b, NFTA_IMMEDIATE_DATA);
	nest_start(b, NFTA_DATA_VERDICT);
	attr_u32(b, NFTA_VERDICT_CODE, NF_DROP);
	nest_end(b);
	nest_end(b);
	expr_end(b);
}

static bool v4_mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a, prefix, sizeof(prefix));
}

/* A rule dropping packets from (sa, sp) to (da, dp) in chain. */
static void add_rule(struct lx_netlock *l, struct buf *b, const char *table, const char *chain,
		     bool v4, const uint8_t *sa, uint16_t sp, const uint8_t *da, uint16_t dp)
{
	size_t at = msg_begin(b, nft_type(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK,
			      NFPROTO_INET, ++l->seq, 0);
	uint8_t proto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6, tcp = IPPROTO_TCP;
	uint16_t bsp = htons(sp), bdp = htons(dp);
	uint32_t alen = v4 ? 4 : 16;

	attr_str(b, NFTA_RULE_TABLE, table);
	attr_str(b, NFTA_RULE_CHAIN, chain);
	nest_start(b, NFTA_RULE_EXPRESSIONS);
	expr_meta(b, NFT_META_NFPROTO);
	expr_cmp(b, &proto, 1);
	expr_meta(b, NFT_META_L4PROTO);
	expr_cmp(b, &tcp, 1);
	expr_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v4 ? 12 : 8, alen);
	expr_cmp(b, sa, alen);
	expr_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v4 ? 16 : 24, alen);
	expr_cmp(b, da, alen);
	expr_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2);
	expr_cmp(b, &bsp, 2);
	expr_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	expr_cmp(b, &bdp, 2);
	expr_drop(b);
	nest_end(b);
	msg_end(b, at);
}

/* The four rules of c: both directions in both chains. */
static void add_conn(struct lx_netlock *l, struct buf *b, const char *table,
		     const struct lx_netlock_conn *c)
{
	bool v4 = c->family == AF_INET;
	const uint8_t *s = c->src, *d = c->dst;

	if (!v4 && v4_mapped(s) && v4_mapped(d))
		v4 = true, s += 12, d += 12;
	for (int i = 0; i < 2; i++) {
		const char *chain = i ? "output" : "input";

		add_rule(l, b, table, chain, v4, s, c->sport, d, c->dport);
		add_rule(l, b, table, chain, v4, d, c->dport, s, c->sport);
	}
}

static void add_chain(struct lx_netlock *l, struct buf *b, const char *table, const char *name,
		      uint32_t hook, bool drop)
{
	size_t at = msg_begin(b, nft_type(NFT_MSG_NEWCHAIN), NLM_F_CREATE | NLM_F_ACK, NFPROTO_INET,
			      ++l->seq, 0);

	attr_str(b, NFTA_CHAIN_TABLE, table);
	attr_str(b, NFTA_CHAIN_NAME, name);
	nest_start(b, NFTA_CHAIN_HOOK);
	attr_u32(b, NFTA_HOOK_HOOKNUM, hook);
	attr_u32(b, NFTA_HOOK_PRIORITY, (uint32_t)PRIORITY);
	nest_end(b);
	attr_u32(b, NFTA_CHAIN_POLICY, drop ? NF_DROP : NF_ACCEPT);
	attr_str(b, NFTA_CHAIN_TYPE, "filter");
	msg_end(b, at);
}

/* Table name with its two chains and the rules of conns, into b. */
static void put_table(struct lx_netlock *l, struct buf *b, const char *name, bool owner, bool whole,
		      const struct lx_netlock_conn *conns, size_t n)
{
	/* A table that owns nothing may be there from an earlier checkpoint: it is added to. */
	size_t at = msg_begin(b, nft_type(NFT_MSG_NEWTABLE),
			      NLM_F_CREATE | NLM_F_ACK | (owner ? NLM_F_EXCL : 0), NFPROTO_INET,
			      ++l->seq, 0);

	attr_str(b, NFTA_TABLE_NAME, name);
	attr_u32(b, NFTA_TABLE_FLAGS, owner ? NFT_TABLE_F_OWNER : 0);
	msg_end(b, at);
	add_chain(l, b, name, "input", NF_INET_LOCAL_IN, whole);
	add_chain(l, b, name, "output", NF_INET_LOCAL_OUT, whole);
	for (size_t i = 0; i < n; i++)
		add_conn(l, b, name, &conns[i]);
}

static void put_delete(struct lx_netlock *l, struct buf *b, const char *name)
{
	size_t at = msg_begin(b, nft_type(NFT_MSG_DELTABLE), NLM_F_ACK, NFPROTO_INET, ++l->seq, 0);

	attr_str(b, NFTA_TABLE_NAME, name);
	msg_end(b, at);
}

int lx_netlock_table(struct lx_netlock *l, const char *name, bool owner, bool whole,
		     const struct lx_netlock_conn *conns, size_t n, ferry_err_t *err)
{
	struct buf b = {0};
	int r;

	batch_edge(&b, NFNL_MSG_BATCH_BEGIN, ++l->seq);
	put_table(l, &b, name, owner, whole, conns, n);
	batch_edge(&b, NFNL_MSG_BATCH_END, ++l->seq);
	r = talk(l, &b, err, "network lock");
	free(b.p);
	return r < 0 ? ferry_error_wrap(err, "table inet %s", name) : 0;
}

int lx_netlock_handover(struct lx_netlock *l, const char *from, const char *to, bool whole,
			const struct lx_netlock_conn *conns, size_t n, ferry_err_t *err)
{
	struct buf b = {0};
	int r;

	batch_edge(&b, NFNL_MSG_BATCH_BEGIN, ++l->seq);
	put_table(l, &b, to, false, whole, conns, n);
	put_delete(l, &b, from);
	batch_edge(&b, NFNL_MSG_BATCH_END, ++l->seq);
	r = talk(l, &b, err, "network lock");
	free(b.p);
	return r < 0 ? ferry_error_wrap(err, "table inet %s", to) : 0;
}

int lx_netlock_add(struct lx_netlock *l, const char *name, const struct lx_netlock_conn *c,
		   ferry_err_t *err)
{
	struct buf b = {0};
	int r;

	batch_edge(&b, NFNL_MSG_BATCH_BEGIN, ++l->seq);
	add_conn(l, &b, name, c);
	batch_edge(&b, NFNL_MSG_BATCH_END, ++l->seq);
	r = talk(l, &b, err, "network lock");
	free(b.p);
	return r < 0 ? ferry_error_wrap(err, "table inet %s", name) : 0;
}

int lx_netlock_delete(struct lx_netlock *l, const char *name, ferry_err_t *err)
{
	struct buf b = {0};
	ferry_err_t e = NULL;
	int r;

	batch_edge(&b, NFNL_MSG_BATCH_BEGIN, ++l->seq);
	put_delete(l, &b, name);
	batch_edge(&b, NFNL_MSG_BATCH_END, ++l->seq);
	r = talk(l, &b, &e, "network unlock");
	free(b.p);
	if (r < 0 && e && e->errnum != ENOENT) {
		if (err && !*err)
			*err = ferry_error_steal(&e);
		ferry_error_free(&e);
		return ferry_error_wrap(err, "table inet %s", name);
	}
	ferry_error_free(&e);
	return 0;
}

int lx_netlock_exists(struct lx_netlock *l, const char *name, ferry_err_t *err)
{
	struct buf b = {0};
	ferry_err_t e = NULL;
	size_t at;
	int r;

	at = msg_begin(&b, nft_type(NFT_MSG_GETTABLE), NLM_F_ACK, NFPROTO_INET, ++l->seq, 0);
	attr_str(&b, NFTA_TABLE_NAME, name);
	msg_end(&b, at);
	r = talk(l, &b, &e, "network lock");
	free(b.p);
	if (r == 0)
		return 1;
	if (e && e->errnum == ENOENT) {
		ferry_error_free(&e);
		return 0;
	}
	if (err && !*err)
		*err = ferry_error_steal(&e);
	ferry_error_free(&e);
	return -1;
}
