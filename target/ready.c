/* Readiness: the target is ready when its ready condition holds (a TCP port
 * accepting, an HTTP GET answered 2xx, a log line matched, a delay passed). */
#define _GNU_SOURCE
#include "target_parts.h"
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- readiness ---- */

static int ready_check(struct tg_target *t, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	char how[64];

	if (stop && *stop) {
		snprintf(err, errlen, "interrupted while waiting for the target to be ready");
		return -EINTR;
	}
	if (tg_target_check_exit(t)) {
		tg_describe_status(t->status, how, sizeof how);
		snprintf(err, errlen, "target exited before it was ready: %s", how);
		return -ECHILD;
	}
	return 0;
}

static bool connected_within(int fd, uint64_t ns)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int soerr = -1;

	if (poll(&pfd, 1, (int)(ns / MS) + 1) != 1)
		return false; /* EINTR included: the caller retries soon */
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return false;
	return soerr == 0;
}

static bool tcp_accepts(const struct addrinfo *ai, uint64_t ns)
{
	for (const struct addrinfo *p = ai; p; p = p->ai_next) {
		int fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				p->ai_protocol);
		bool ok;

		if (fd < 0)
			continue;
		ok = connect(fd, p->ai_addr, p->ai_addrlen) == 0;
		if (!ok && errno == EINPROGRESS)
			ok = connected_within(fd, ns);
		close(fd);
		if (ok)
			return true;
	}
	return false;
}

static void fmt_hostport(char *buf, size_t len, const char *host, const char *port)
{
	bool v6 = strchr(host, ':') != NULL;

	snprintf(buf, len, "%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

static uint64_t ready_timeout(const struct tg_spec *spec)
{
	return spec->target.ready.timeout_ns ? spec->target.ready.timeout_ns : READY_TIMEOUT_DEFAULT;
}

/* One readiness attempt, allowed to take up to BUDGET ns: true when ready. */
typedef bool (*ready_probe_fn)(void *ctx, uint64_t budget);

/* Tries PROBE every READY_RETRY (each try at most ATTEMPT ns) until it says
 * ready, the target exits, *STOP is set or TIMEOUT passes: -ETIMEDOUT then,
 * and the caller says what it was waiting for. */
static int retry_until_ready(struct tg_target *t, volatile sig_atomic_t *stop, uint64_t timeout,
			     uint64_t attempt, ready_probe_fn probe, void *ctx, char *err, size_t errlen)
{
	uint64_t deadline = tg_now_ns() + timeout;

	for (;;) {
		uint64_t now;
		int rc = ready_check(t, stop, err, errlen);

		if (rc)
			return rc;
		now = tg_now_ns();
		if (probe(ctx, min_u64(attempt, deadline > now ? deadline - now : 0)))
			return 0;
		now = tg_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		tg_nap(min_u64(READY_RETRY, deadline - now));
	}
}

static bool tcp_probe(void *ctx, uint64_t budget)
{
	return tcp_accepts(ctx, budget);
}

static int wait_tcp(struct tg_target *t, const struct tg_spec *spec, volatile sig_atomic_t *stop,
		    char *err, size_t errlen)
{
	const char *host = spec->target.ready.tcp_host, *port = spec->target.ready.tcp_port;
	uint64_t timeout = ready_timeout(spec);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char where[300], secs[32];
	int g, rc;

	fmt_hostport(where, sizeof where, host ? host : "", port ? port : "");
	g = getaddrinfo(host, port, &hints, &ai);
	if (g) {
		snprintf(err, errlen, "cannot resolve %s: %s", where, gai_strerror(g));
		return -EINVAL;
	}
	rc = retry_until_ready(t, stop, timeout, CONNECT_ATTEMPT, tcp_probe, ai, err, errlen);
	if (rc == -ETIMEDOUT) {
		tg_fmt_secs(timeout, secs, sizeof secs);
		snprintf(err, errlen, "target not ready after %s: nothing accepted on %s", secs, where);
	}
	freeaddrinfo(ai);
	return rc;
}

/* The delay is the readiness condition itself, so the ready timeout does not cut it short. */
static int wait_delay(struct tg_target *t, const struct tg_spec *spec, volatile sig_atomic_t *stop,
		      char *err, size_t errlen)
{
	uint64_t end = tg_now_ns() + spec->target.ready.delay_ns;

	for (;;) {
		int rc = ready_check(t, stop, err, errlen);
		uint64_t now = tg_now_ns();

		if (rc || now >= end)
			return rc;
		tg_nap(min_u64(READY_RETRY, end - now));
	}
}

/* ---- ready by http: a minimal HTTP/1.0 GET, any 2xx ---- */

struct http_url {
	char host[256], port[16], path[2048], hostport[300];
};

static int parse_http_url(const char *url, struct http_url *u)
{
	const char *p, *end, *hp;
	size_t hl;

	memset(u, 0, sizeof *u);
	if (!url || strncasecmp(url, "http://", 7) != 0)
		return -EINVAL;
	hp = url + 7;
	end = hp + strcspn(hp, "/?#");
	if (end == hp)
		return -EINVAL;
	if (*hp == '[') {
		p = memchr(hp, ']', (size_t)(end - hp));
		if (!p)
			return -EINVAL;
		hl = (size_t)(p - hp - 1);
		if (hl >= sizeof u->host)
			return -EINVAL;
		memcpy(u->host, hp + 1, hl);
		p++;
	} else {
		p = memchr(hp, ':', (size_t)(end - hp));
		if (!p)
			p = end;
		hl = (size_t)(p - hp);
		if (hl >= sizeof u->host)
			return -EINVAL;
		memcpy(u->host, hp, hl);
	}
	if (p < end && *p == ':') {
		size_t pl = (size_t)(end - p - 1);

		if (pl == 0 || pl >= sizeof u->port)
			return -EINVAL;
		memcpy(u->port, p + 1, pl);
	} else if (p != end) {
		return -EINVAL;
	} else {
		strcpy(u->port, "80");
	}
	snprintf(u->hostport, sizeof u->hostport, "%.*s", (int)(end - hp), hp);
	if (*end == '/' || *end == '?')
		snprintf(u->path, sizeof u->path, "%s%.*s", *end == '?' ? "/" : "",
			 (int)strcspn(end, "#"), end);
	else
		strcpy(u->path, "/");
	return u->host[0] ? 0 : -EINVAL;
}

/* One GET: the status code, 0 when nothing answered within NS. */
static int http_status(const struct addrinfo *ai, const struct http_url *u, uint64_t ns)
{
	uint64_t deadline = tg_now_ns() + ns;
	char req[2600], resp[256];
	int status = 0;

	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: tokio-guard/%s\r\n"
		 "Accept: */*\r\nConnection: close\r\n\r\n", u->path, u->hostport, TG_VERSION);
	for (const struct addrinfo *p = ai; p && !status; p = p->ai_next) {
		int fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				p->ai_protocol);
		size_t got = 0, sent = 0, rl = strlen(req);
		uint64_t now;
		bool ok;

		if (fd < 0)
			continue;
		ok = connect(fd, p->ai_addr, p->ai_addrlen) == 0;
		now = tg_now_ns();
		if (!ok && errno == EINPROGRESS && now < deadline)
			ok = connected_within(fd, deadline - now);
		while (ok && sent < rl) {
			ssize_t w = send(fd, req + sent, rl - sent, MSG_NOSIGNAL);

			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && (errno == EAGAIN || errno == EINTR))
				tg_nap(MS);
			else
				ok = false;
			if (tg_now_ns() >= deadline)
				ok = false;
		}
		while (ok && got < sizeof resp - 1 && !memchr(resp, '\n', got)) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			ssize_t r;

			now = tg_now_ns();
			if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / MS) + 1) < 0)
				break;
			r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (r > 0)
				got += (size_t)r;
		}
		resp[got] = '\0';
		if (ok && !strncmp(resp, "HTTP/", 5)) {
			const char *sp = strchr(resp, ' ');

			if (sp && isdigit((unsigned char)sp[1]))
				status = atoi(sp + 1);
		}
		close(fd);
	}
	return status;
}

struct http_probe {
	const struct addrinfo *ai;
	const struct http_url *u;
	int last; /* the last status answered, 0: none yet */
};

static bool http_probe(void *ctx, uint64_t budget)
{
	struct http_probe *hp = ctx;
	int st = http_status(hp->ai, hp->u, budget);

	if (st)
		hp->last = st;
	return st >= 200 && st < 300;
}

static int wait_http(struct tg_target *t, const struct tg_spec *spec, volatile sig_atomic_t *stop,
		     char *err, size_t errlen)
{
	const char *url = spec->target.ready.http_url;
	uint64_t timeout = ready_timeout(spec);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct http_url u;
	struct http_probe hp = { .u = &u };
	char secs[32];
	int g, rc;

	if (parse_http_url(url, &u)) {
		snprintf(err, errlen, "target.ready.http: cannot use \"%s\" (http://host[:port]/path; "
			 "https is not supported)", url ? url : "");
		return -EINVAL;
	}
	g = getaddrinfo(u.host, u.port, &hints, &ai);
	if (g) {
		snprintf(err, errlen, "cannot resolve %s: %s", u.hostport, gai_strerror(g));
		return -EINVAL;
	}
	hp.ai = ai;
	rc = retry_until_ready(t, stop, timeout, SEC, http_probe, &hp, err, errlen);
	if (rc == -ETIMEDOUT) {
		tg_fmt_secs(timeout, secs, sizeof secs);
		if (hp.last)
			snprintf(err, errlen, "target not ready after %s: %s answered %d, not 2xx",
				 secs, url, hp.last);
		else
			snprintf(err, errlen, "target not ready after %s: no HTTP answer from %s",
				 secs, url);
	}
	freeaddrinfo(ai);
	return rc;
}

/* ---- ready by log: the capture thread matches the lines ---- */

static int wait_log(struct tg_target *t, const struct tg_spec *spec, volatile sig_atomic_t *stop,
		    char *err, size_t errlen)
{
	uint64_t timeout = ready_timeout(spec), deadline = tg_now_ns() + timeout;
	char secs[32];

	if (!t->cap || !t->cap->have_re) {
		snprintf(err, errlen, "target.ready.log: the target's output is not captured");
		return -EINVAL;
	}
	for (;;) {
		int rc;
		uint64_t now;

		if (atomic_load(&t->cap->ready))
			return 0;
		rc = ready_check(t, stop, err, errlen);
		if (rc)
			return rc;
		now = tg_now_ns();
		if (now >= deadline) {
			tg_fmt_secs(timeout, secs, sizeof secs);
			snprintf(err, errlen, "target not ready after %s: no output line matched /%s/",
				 secs, spec->target.ready.log_regex);
			return -ETIMEDOUT;
		}
		tg_nap(min_u64(POLL_STEP, deadline - now));
	}
}

int tg_target_wait_ready(struct tg_target *t, const struct tg_spec *spec,
			 volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	switch (spec->target.ready.kind) {
	case TG_READY_TCP:
		return wait_tcp(t, spec, stop, err, errlen);
	case TG_READY_DELAY:
		return wait_delay(t, spec, stop, err, errlen);
	case TG_READY_HTTP:
		return wait_http(t, spec, stop, err, errlen);
	case TG_READY_LOG:
		return wait_log(t, spec, stop, err, errlen);
	case TG_READY_NONE:
		return 0;
	}
	snprintf(err, errlen, "unknown ready condition %d", (int)spec->target.ready.kind);
	return -EINVAL;
}
