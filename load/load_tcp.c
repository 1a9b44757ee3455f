/* The tcp transport of traffic steps: nonblocking sockets and epoll, one
 * connection per slot kept open between requests; a request sends `send` and
 * reads until `expect` shows up in the reply (any reply when it is NULL). */
#define _GNU_SOURCE
#include "load_tcp.h"
#include "launch.h"
#include "load.h"
#include "spec.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_TIMEOUT_DEFAULT (10ull * 1000 * 1000 * 1000)
#define MAX_EVENTS 256

enum tcp_state { ST_IDLE, ST_CONNECTING, ST_SENDING, ST_READING };

struct tcp_slot {
	int fd;
	enum tcp_state state;
	bool reused;    /* the connection served a request before */
	bool retried;   /* this request already moved to a fresh connection once */
	bool got;       /* some reply arrived */
	size_t sent;
	size_t winlen;  /* the reply's last bytes, for an expect split across reads */
	char *win;
	uint64_t deadline;
	unsigned prev, next; /* in-flight list, oldest first (same timeout: earliest deadline first) */
};

struct tcp_xp {
	const struct tg_tcp_req *req;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool resolved;
	size_t explen;
	uint64_t timeout;
	int ep;
	struct tcp_slot *slots;
	unsigned nslots, head, tail; /* list ends; nslots: none */
	char *scratch;
	tg_xport_done_fn done;
	void *ctx;
};

static void tcp_close(void *p)
{
	struct tcp_xp *x = p;

	if (!x)
		return;
	for (unsigned i = 0; x->slots && i < x->nslots; i++) {
		if (x->slots[i].fd >= 0)
			close(x->slots[i].fd);
		free(x->slots[i].win);
	}
	if (x->ep >= 0)
		close(x->ep);
	free(x->slots);
	free(x->scratch);
	free(x);
}

static int tcp_open(void **out, const struct tg_step *step, unsigned nslots,
		    tg_xport_done_fn done, void *ctx, char *err, size_t errlen)
{
	const struct tg_tcp_req *r = &step->tcp;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct tcp_xp *x;

	*out = NULL;
	if (!r->host || !r->port) {
		snprintf(err, errlen, "tcp step has no addr");
		return -EINVAL;
	}
	x = calloc(1, sizeof *x);
	if (!x)
		goto oom;
	x->ep = -1;
	x->req = r;
	x->done = done;
	x->ctx = ctx;
	x->nslots = nslots;
	x->head = x->tail = nslots;
	x->timeout = r->timeout_ns ? r->timeout_ns : TCP_TIMEOUT_DEFAULT;
	x->explen = r->expect ? strlen(r->expect) : 0;
	x->slots = calloc(nslots, sizeof *x->slots);
	x->scratch = malloc(x->explen + 65536);
	if (!x->slots || !x->scratch)
		goto oom;
	for (unsigned i = 0; i < nslots; i++) {
		x->slots[i].fd = -1;
		if (x->explen > 1 && !(x->slots[i].win = malloc(x->explen)))
			goto oom;
	}
	x->ep = epoll_create1(EPOLL_CLOEXEC);
	if (x->ep < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		tcp_close(x);
		return -EIO;
	}
	/* an unknown host fails every request as a connect error, like http */
	if (getaddrinfo(r->host, r->port, &hints, &ai) == 0 && ai) {
		memcpy(&x->addr, ai->ai_addr, ai->ai_addrlen);
		x->addrlen = ai->ai_addrlen;
		x->resolved = true;
	}
	if (ai)
		freeaddrinfo(ai);
	*out = x;
	return 0;
oom:
	tcp_close(x);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static void list_del(struct tcp_xp *x, unsigned i)
{
	struct tcp_slot *s = &x->slots[i];

	if (s->prev < x->nslots)
		x->slots[s->prev].next = s->next;
	else
		x->head = s->next;
	if (s->next < x->nslots)
		x->slots[s->next].prev = s->prev;
	else
		x->tail = s->prev;
}

static void list_add(struct tcp_xp *x, unsigned i)
{
	struct tcp_slot *s = &x->slots[i];

	s->prev = x->tail;
	s->next = x->nslots;
	if (x->tail < x->nslots)
		x->slots[x->tail].next = i;
	else
		x->head = i;
	x->tail = i;
}

static void drop_conn(struct tcp_slot *s)
{
	if (s->fd >= 0)
		close(s->fd); /* also leaves the epoll set */
	s->fd = -1;
	s->reused = false;
}

static void finish(struct tcp_xp *x, unsigned i, int kind)
{
	struct tcp_slot *s = &x->slots[i];

	list_del(x, i);
	if (kind >= 0 || s->state != ST_READING)
		drop_conn(s); /* its state is unknown: the next request gets a fresh one */
	else
		s->reused = true;
	s->state = ST_IDLE;
	if (s->fd >= 0) {
		struct epoll_event ev = { .events = 0, .data.u32 = i };

		epoll_ctl(x->ep, EPOLL_CTL_MOD, s->fd, &ev);
	}
	x->done(x->ctx, i, kind);
}

static void want(struct tcp_xp *x, unsigned i, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = i };

	epoll_ctl(x->ep, EPOLL_CTL_MOD, x->slots[i].fd, &ev);
}

static void do_send(struct tcp_xp *x, unsigned i);

static void do_connect(struct tcp_xp *x, unsigned i)
{
	struct tcp_slot *s = &x->slots[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = i };
	int one = 1;

	if (!x->resolved) {
		finish(x, i, TG_LERR_CONNECT);
		return;
	}
	s->fd = socket(x->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		finish(x, i, TG_LERR_IO);
		return;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s->reused = false;
	if (connect(s->fd, (struct sockaddr *)&x->addr, x->addrlen) < 0 && errno != EINPROGRESS) {
		finish(x, i, TG_LERR_CONNECT);
		return;
	}
	s->state = ST_CONNECTING;
	if (epoll_ctl(x->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		finish(x, i, TG_LERR_IO);
}

/* The kept connection died before this request got a byte: once, on a new one. */
static bool retry(struct tcp_xp *x, unsigned i)
{
	struct tcp_slot *s = &x->slots[i];

	if (!s->reused || s->retried || s->got)
		return false;
	s->retried = true;
	drop_conn(s);
	s->sent = 0;
	do_connect(x, i);
	return true;
}

static void do_send(struct tcp_xp *x, unsigned i)
{
	struct tcp_slot *s = &x->slots[i];
	const struct tg_tcp_req *r = x->req;

	while (s->sent < r->send_len) {
		ssize_t n = send(s->fd, r->send + s->sent, r->send_len - s->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (s->state != ST_SENDING)
				want(x, i, EPOLLOUT);
			s->state = ST_SENDING;
			return;
		}
		if (n <= 0) {
			if (!retry(x, i))
				finish(x, i, TG_LERR_IO);
			return;
		}
		s->sent += (size_t)n;
	}
	s->state = ST_READING;
	want(x, i, EPOLLIN | EPOLLRDHUP);
}

static void do_read(struct tcp_xp *x, unsigned i)
{
	struct tcp_slot *s = &x->slots[i];
	size_t keep = x->explen > 1 ? x->explen - 1 : 0;

	for (;;) {
		char *buf = x->scratch + s->winlen;
		ssize_t n = recv(s->fd, buf, 65536, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* closed or reset: a reply without the expected text, or none at all */
			if (!retry(x, i))
				finish(x, i, s->got ? TG_LERR_EXPECT : TG_LERR_IO);
			return;
		}
		s->got = true;
		if (!x->explen) {
			finish(x, i, -1);
			return;
		}
		/* the window's tail, then the new bytes: a match may span two reads */
		if (s->winlen)
			memcpy(x->scratch, s->win, s->winlen);
		size_t len = s->winlen + (size_t)n;

		if (memmem(x->scratch, len, x->req->expect, x->explen)) {
			finish(x, i, -1);
			return;
		}
		s->winlen = len < keep ? len : keep;
		if (s->winlen)
			memcpy(s->win, x->scratch + len - s->winlen, s->winlen);
	}
}

/* Bytes left over from an earlier reply, or a connection the peer closed. */
static bool conn_usable(struct tcp_slot *s)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

static void tcp_start(void *p, unsigned i)
{
	struct tcp_xp *x = p;
	struct tcp_slot *s = &x->slots[i];

	s->got = false;
	s->retried = false;
	s->sent = 0;
	s->winlen = 0;
	s->deadline = tg_now_ns() + x->timeout;
	list_add(x, i);
	if (s->fd >= 0 && !conn_usable(s))
		drop_conn(s);
	if (s->fd < 0) {
		do_connect(x, i);
		return;
	}
	s->state = ST_SENDING;
	do_send(x, i);
}

static void on_event(struct tcp_xp *x, unsigned i, uint32_t ev)
{
	struct tcp_slot *s = &x->slots[i];
	int e = 0;
	socklen_t l = sizeof e;

	switch (s->state) {
	case ST_IDLE:
		drop_conn(s); /* the peer closed or reset a kept connection */
		break;
	case ST_CONNECTING:
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e) {
			finish(x, i, TG_LERR_CONNECT);
			break;
		}
		s->state = ST_SENDING;
		do_send(x, i);
		break;
	case ST_SENDING:
		do_send(x, i);
		break;
	case ST_READING:
		do_read(x, i);
		break;
	}
}

static void tcp_wait(void *p, uint64_t timeout_ns)
{
	struct tcp_xp *x = p;
	struct epoll_event evs[MAX_EVENTS];
	uint64_t now = tg_now_ns();
	int n, ms;

	if (x->head < x->nslots) {
		uint64_t d = x->slots[x->head].deadline;

		if (d <= now)
			timeout_ns = 0;
		else if (d - now < timeout_ns)
			timeout_ns = d - now;
	}
	ms = (int)((timeout_ns + 999999) / 1000000);
	n = epoll_wait(x->ep, evs, MAX_EVENTS, ms);
	for (int k = 0; k < n; k++)
		on_event(x, evs[k].data.u32, evs[k].events);
	now = tg_now_ns();
	while (x->head < x->nslots && x->slots[x->head].deadline <= now) {
		unsigned i = x->head;

		finish(x, i, x->slots[i].got ? TG_LERR_EXPECT : TG_LERR_TIMEOUT);
	}
}

const struct tg_xport_ops tg_xport_tcp = {
	.name = "tcp",
	.open = tcp_open,
	.start = tcp_start,
	.wait = tcp_wait,
	.close = tcp_close,
};
