/* Load steps: http/tcp scheduling (open and closed models), errors by kind,
 * connection reuse, parallel groups and exec output, against servers run in
 * this process on loopback. No root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "hist.h"
#include "launch.h"
#include "load.h"
#include "results_json.h"
#include "spec.h"

#define MS (1000ull * 1000)
#define SEC (1000 * MS)

/* ---- a tiny threaded server: HTTP/1.1 keep-alive, or line-ish TCP ---- */

struct srv {
	int lfd, port;
	bool tcp;
	pthread_t th;
	atomic_ulong requests, connections;
	atomic_int inflight, max_inflight;
	atomic_ulong first_ns, last_ns;
	atomic_ulong stall_at;      /* the request with this number (from 1) stalls everything */
	atomic_ulong stall_until;   /* requests arriving before this wait until it */
	uint64_t stall_ns;
	int delay_ms;               /* every response waits this long */
	char last_method[16];
	atomic_ulong last_body_len;
};

static uint64_t now_ns(void)
{
	return tg_now_ns();
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / SEC), (long)(ns % SEC) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void begin_request(struct srv *s)
{
	uint64_t t = now_ns(), zero = 0, until;
	unsigned long n = atomic_fetch_add(&s->requests, 1) + 1;
	int in = atomic_fetch_add(&s->inflight, 1) + 1, m = atomic_load(&s->max_inflight);

	while (in > m && !atomic_compare_exchange_weak(&s->max_inflight, &m, in))
		;
	atomic_compare_exchange_strong(&s->first_ns, &zero, t);
	atomic_store(&s->last_ns, t);
	if (s->stall_at && n == s->stall_at)
		atomic_store(&s->stall_until, t + s->stall_ns);
	until = atomic_load(&s->stall_until);
	if (t < until)
		sleep_ns(until - t);
	if (s->delay_ms)
		sleep_ns((uint64_t)s->delay_ms * MS);
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

struct conn {
	struct srv *s;
	int fd;
};

static atomic_uint g_every2; /* "/every2" requests so far */

static void *http_conn(void *arg)
{
	struct conn *c = arg;
	struct srv *s = c->s;
	char buf[65536];
	size_t len = 0;

	for (;;) {
		char *end = memmem(buf, len, "\r\n\r\n", 4);
		ssize_t n;

		if (!end) {
			if (len == sizeof buf)
				break;
			n = recv(c->fd, buf + len, sizeof buf - len, 0);
			if (n <= 0)
				break;
			len += (size_t)n;
			continue;
		}
		size_t hdr = (size_t)(end + 4 - buf), body = 0;
		char *cl = strcasestr(buf, "\r\nContent-Length:");
		char path[256] = "", method[16] = "";
		const char *status = "200 OK";

		if (cl && cl < end)
			body = strtoul(cl + 17, NULL, 10);
		while (len < hdr + body) {
			n = recv(c->fd, buf + len, sizeof buf - len, 0);
			if (n <= 0)
				goto out;
			len += (size_t)n;
		}
		sscanf(buf, "%15s %255s", method, path);
		memcpy(s->last_method, method, sizeof method);
		atomic_store(&s->last_body_len, body);
		begin_request(s);
		if (strcmp(path, "/500") == 0)
			status = "500 Internal Server Error";
		/* every other request fails: some errors, some good responses */
		if (strcmp(path, "/every2") == 0 && atomic_fetch_add(&g_every2, 1) % 2)
			status = "500 Internal Server Error";
		if (strcmp(path, "/hang") == 0)
			sleep_ns(1500 * MS);
		char resp[256];
		int rl = snprintf(resp, sizeof resp,
				  "HTTP/1.1 %s\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok", status);

		atomic_fetch_sub(&s->inflight, 1);
		if (!write_all(c->fd, resp, (size_t)rl))
			break;
		memmove(buf, buf + hdr + body, len - hdr - body);
		len -= hdr + body;
	}
out:
	close(c->fd);
	free(c);
	return NULL;
}

/* tcp: every "PING" gets "+PONG\r\n", anything else "-ERR\r\n"; the connection stays open */
static void *tcp_conn(void *arg)
{
	struct conn *c = arg;
	struct srv *s = c->s;
	char buf[4096];
	ssize_t n;

	while ((n = recv(c->fd, buf, sizeof buf - 1, 0)) > 0) {
		buf[n] = '\0';
		begin_request(s);
		atomic_fetch_sub(&s->inflight, 1);
		if (!write_all(c->fd, strstr(buf, "PING") ? "+PONG\r\n" : "-ERR\r\n", strstr(buf, "PING") ? 7 : 6))
			break;
	}
	close(c->fd);
	free(c);
	return NULL;
}

static void *accept_loop(void *arg)
{
	struct srv *s = arg;

	for (;;) {
		int fd = accept(s->lfd, NULL, NULL), one = 1;
		struct conn *c;
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		atomic_fetch_add(&s->connections, 1);
		c = malloc(sizeof *c);
		c->s = s;
		c->fd = fd;
		pthread_create(&t, NULL, s->tcp ? tcp_conn : http_conn, c);
		pthread_detach(t);
	}
}

static struct srv *srv_start(bool tcp)
{
	/* never freed: detached connection threads may still count into it */
	static struct srv pool[16];
	static int used;
	struct srv *s = &pool[used++];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	int one = 1;

	assert_true(used <= 16);
	s->tcp = tcp;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->lfd, 4096), 0);
	getsockname(s->lfd, (struct sockaddr *)&a, &l);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, accept_loop, s), 0);
	return s;
}

static void srv_stop(struct srv *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	close(s->lfd);
	pthread_join(s->th, NULL);
}

/* ---- steps built by hand ---- */

static char *no_strings[] = { NULL };
static struct tg_spec spec = { .dir = "/tmp" };
static char urlbuf[8][128];

static struct tg_step http_step(struct srv *s, int u, const char *path)
{
	struct tg_step st = { .name = "h", .kind = TG_STEP_HTTP, .env = no_strings };

	snprintf(urlbuf[u], sizeof urlbuf[u], "http://127.0.0.1:%d%s", s ? s->port : 1, path);
	st.http.url = urlbuf[u];
	st.http.headers = no_strings;
	st.http.timeout_ns = 5 * SEC;
	return st;
}

static uint64_t hist_count(const struct tg_step_result *r)
{
	uint64_t n = 0;

	for (size_t b = 0; b < TG_HIST_BUCKETS; b++)
		n += r->latency_hist[b];
	return n;
}

static uint64_t quantile(const struct tg_step_result *r, double q)
{
	return tg_hist_quantile((const __u64 *)r->latency_hist, hist_count(r), q, r->latency_max_ns);
}

static volatile sig_atomic_t no_stop;

static int run(const struct tg_step *st, struct tg_step_result *r)
{
	return tg_run_step(&spec, st, r, &no_stop, NULL, NULL);
}

/* ---- http ---- */

static void test_http_requests_exact_and_reuse(void **state)
{
	struct srv *s = srv_start(false);
	struct tg_step st = http_step(s, 0, "/");
	struct tg_step_result r;

	st.traffic.concurrency = 4;
	st.traffic.requests = 500;
	assert_int_equal(run(&st, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.requests, 500);
	assert_int_equal(r.errors, 0);
	assert_int_equal(atomic_load(&s->requests), 500);
	/* one kept-alive connection per slot */
	assert_true(atomic_load(&s->connections) <= 8);
	assert_int_equal(hist_count(&r), 500);
	assert_true(r.latency_max_ns > 0);
	assert_true(r.throughput_per_s > 0);
	tg_step_result_free(&r);

	/* open model with a request count: exact too */
	st.traffic.concurrency = 0;
	st.traffic.rate_per_s = 1000;
	st.traffic.requests = 123;
	assert_int_equal(run(&st, &r), 0);
	assert_int_equal(r.requests, 123);
	assert_int_equal(atomic_load(&s->requests), 623);
	tg_step_result_free(&r);
	srv_stop(s);
}

static void test_http_method_body(void **state)
{
	struct srv *s = srv_start(false);
	struct tg_step st = http_step(s, 0, "/post");
	char *hdrs[] = { "Content-Type: application/json", NULL };
	struct tg_step_result r;

	st.http.method = "POST";
	st.http.body = "{\"data\":\"test\"}";
	st.http.body_len = strlen(st.http.body);
	st.http.headers = hdrs;
	st.http.expect_status = 200;
	st.traffic.requests = 3;
	assert_int_equal(run(&st, &r), 0);
	assert_int_equal(r.requests, 3);
	assert_int_equal(r.errors, 0);
	assert_string_equal(s->last_method, "POST");
	assert_int_equal(atomic_load(&s->last_body_len), strlen(st.http.body));
	tg_step_result_free(&r);
	srv_stop(s);
}

static void test_http_closed_concurrency(void **state)
{
	struct srv *s = srv_start(false);
	struct tg_step st = http_step(s, 0, "/");
	struct tg_step_result r;

	s->delay_ms = 10;
	st.traffic.concurrency = 8;
	st.traffic.requests = 200;
	assert_int_equal(run(&st, &r), 0);
	assert_int_equal(r.requests, 200);
	assert_int_equal(r.errors, 0);
	assert_int_equal(atomic_load(&s->max_inflight), 8); /* reached, never exceeded */
	tg_step_result_free(&r);

	/* with a duration */
	atomic_store(&s->max_inflight, 0);
	st.traffic.concurrency = 3;
	st.traffic.requests = 0;
	st.traffic.duration_ns = 300 * MS;
	assert_int_equal(run(&st, &r), 0);
	assert_int_equal(atomic_load(&s->max_inflight), 3);
	assert_true(r.requests >= 3 * 20 && r.requests <= 3 * 31);
	tg_step_result_free(&r);
	srv_stop(s);
}

static void check_rate(double rate, uint64_t dur)
{
	struct srv *s = srv_start(false);
	struct tg_step st = http_step(s, 0, "/");
	struct tg_step_result r;
	double want = rate * (double)dur / 1e9, got, span;

	st.traffic.rate_per_s = rate;
	st.traffic.duration_ns = dur;
	assert_int_equal(run(&st, &r), 0);
	got = (double)atomic_load(&s->requests);
	span = (double)(atomic_load(&s->last_ns) - atomic_load(&s->first_ns)) / 1e9;
	print_message("rate %.0f/s: %.0f requests (want %.0f), server saw %.1f/s, p99 %.2fms, errors %lu\n",
		      rate, got, want, (got - 1) / span, quantile(&r, 0.99) / 1e6,
		      (unsigned long)r.errors);
	assert_int_equal(r.requests, (uint64_t)got);
	assert_int_equal(r.errors, 0);
	assert_true(got >= want * 0.95 && got <= want * 1.05);
	/* and on a steady schedule, as the server saw them arrive */
	assert_true((got - 1) / span >= rate * 0.95 && (got - 1) / span <= rate * 1.05);
	tg_step_result_free(&r);
	srv_stop(s);
}

static void test_http_open_rate_10(void **state)
{
	check_rate(10, 1 * SEC);
}

static void test_http_open_rate_200(void **state)
{
	check_rate(200, 1 * SEC);
}

static void test_http_open_rate_2000(void **state)
{
	check_rate(2000, 1 * SEC);
}

static void test_http_stall_is_latency(void **state)
{
	struct srv *s = srv_start(false);
	struct tg_step st = http_step(s, 0, "/");
	struct tg_step_result r;

	s->stall_at = 100;        /* at 0.5s */
	s->stall_ns = 300 * MS;
	st.traffic.rate_per_s = 200;
	st.traffic.duration_ns = 1500 * MS;
	assert_int_equal(run(&st, &r), 0);
	print_message("stall: %lu requests, p50 %.2fms p99 %.2fms max %.2fms\n",
		      (unsigned long)r.requests, quantile(&r, 0.5) / 1e6, quantile(&r, 0.99) / 1e6,
		      r.latency_max_ns / 1e6);
	assert_int_equal(r.requests, 300); /* on schedule despite the stall */
	assert_int_equal(atomic_load(&s->requests), 300);
	assert_int_equal(r.errors, 0);
	assert_true(quantile(&r, 0.99) >= 250 * MS);
	assert_true(r.latency_max_ns >= 280 * MS);
	assert_true(quantile(&r, 0.5) < 50 * MS);
	tg_step_result_free(&r);
	srv_stop(s);
}

static void test_http_errors_by_kind(void **state)
{
	struct srv *s = srv_start(false);
	struct tg_step st = http_step(s, 0, "/500");
	struct tg_step_result r;
	int fd;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;

	st.traffic.requests = 5;
	/* no good response at all: the step failed, its errors by kind say why */
	assert_int_equal(run(&st, &r), -EIO);
	assert_false(r.ok);
	assert_int_equal(r.requests, 5);
	assert_int_equal(r.errors, 5);
	assert_int_equal(r.errors_by_kind[TG_LERR_STATUS], 5);
	assert_non_null(strstr(r.error, "got no successful response: 5 status errors (expected 2xx) to http://127.0.0.1:"));
	tg_step_result_free(&r);

	/* expect_status other than the one returned */
	st = http_step(s, 0, "/");
	st.http.expect_status = 201;
	st.traffic.requests = 2;
	assert_int_equal(run(&st, &r), -EIO);
	assert_int_equal(r.errors_by_kind[TG_LERR_STATUS], 2);
	assert_non_null(strstr(r.error, ": 2 status errors (expected 201) to "));
	tg_step_result_free(&r);

	/* timeout */
	st = http_step(s, 0, "/hang");
	st.http.timeout_ns = 200 * MS;
	st.traffic.requests = 2;
	st.traffic.concurrency = 2;
	assert_int_equal(run(&st, &r), -EIO);
	assert_int_equal(r.errors, 2);
	assert_int_equal(r.errors_by_kind[TG_LERR_TIMEOUT], 2);
	assert_non_null(strstr(r.error, ": 2 timeouts to "));
	assert_true(r.end_ns - r.start_ns < 1 * SEC);
	tg_step_result_free(&r);

	/* connection refused: a port nobody listens on */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&a, sizeof a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	snprintf(urlbuf[1], sizeof urlbuf[1], "http://127.0.0.1:%d/", ntohs(a.sin_port));
	st = http_step(s, 0, "/");
	st.http.url = urlbuf[1];
	st.traffic.requests = 3;
	assert_int_equal(run(&st, &r), -EIO);
	assert_int_equal(r.errors, 3);
	assert_int_equal(r.errors_by_kind[TG_LERR_CONNECT], 3);
	assert_non_null(strstr(r.error, "got no successful response: 3 connect errors to "));
	assert_non_null(strstr(r.error, urlbuf[1]));
	tg_step_result_free(&r);
	srv_stop(s);
}

static void test_http_stop(void **state)
{
	struct srv *s = srv_start(false);
	struct tg_step st = http_step(s, 0, "/");
	struct tg_step_result r;
	static volatile sig_atomic_t stop = 1;

	st.traffic.rate_per_s = 100;
	st.traffic.duration_ns = 10 * SEC;
	assert_int_equal(tg_run_step(&spec, &st, &r, &stop, NULL, NULL), -EINTR);
	assert_false(r.ok);
	assert_true(r.end_ns - r.start_ns < 500 * MS);
	tg_step_result_free(&r);
	srv_stop(s);
}

/* ---- tcp ---- */

static struct tg_step tcp_step(struct srv *s, const char *send, const char *expect)
{
	struct tg_step st = { .name = "t", .kind = TG_STEP_TCP, .env = no_strings };
	static char port[16];

	snprintf(port, sizeof port, "%d", s->port);
	st.tcp.host = "127.0.0.1";
	st.tcp.port = port;
	st.tcp.send = (char *)send;
	st.tcp.send_len = strlen(send);
	st.tcp.expect = (char *)expect;
	st.tcp.timeout_ns = 2 * SEC;
	return st;
}

static void test_tcp(void **state)
{
	struct srv *s = srv_start(true);
	struct tg_step st = tcp_step(s, "PING\r\n", "+PONG");
	struct tg_step_result r;

	st.traffic.concurrency = 4;
	st.traffic.requests = 300;
	assert_int_equal(run(&st, &r), 0);
	assert_int_equal(r.requests, 300);
	assert_int_equal(r.errors, 0);
	assert_int_equal(atomic_load(&s->requests), 300);
	assert_true(atomic_load(&s->connections) <= 4);
	tg_step_result_free(&r);

	/* any reply */
	st.tcp.expect = NULL;
	st.traffic.concurrency = 0;
	st.traffic.requests = 0;
	st.traffic.rate_per_s = 200;
	st.traffic.duration_ns = 500 * MS;
	assert_int_equal(run(&st, &r), 0);
	assert_int_equal(r.requests, 100);
	assert_int_equal(r.errors, 0);
	tg_step_result_free(&r);

	/* a reply without the expected text */
	st = tcp_step(s, "BAD\r\n", "+PONG");
	st.tcp.timeout_ns = 150 * MS;
	st.traffic.concurrency = 3;
	st.traffic.requests = 3;
	assert_int_equal(run(&st, &r), -EIO);
	assert_int_equal(r.errors, 3);
	assert_int_equal(r.errors_by_kind[TG_LERR_EXPECT], 3);
	assert_non_null(strstr(r.error, ": 3 replies without the expected text to 127.0.0.1:"));
	tg_step_result_free(&r);
	srv_stop(s);

	/* nobody listens any more */
	st = tcp_step(s, "PING\r\n", "+PONG");
	st.traffic.requests = 2;
	assert_int_equal(run(&st, &r), -EIO);
	assert_int_equal(r.errors_by_kind[TG_LERR_CONNECT], 2);
	assert_non_null(strstr(r.error, "tcp step"));
	assert_non_null(strstr(r.error, ": 2 connect errors to 127.0.0.1:"));
	tg_step_result_free(&r);
}

/* ---- exec, parallel ---- */

static void test_exec_output(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "echo out $TG_LOAD_X; echo err >&2; pwd", NULL };
	char *env[] = { "TG_LOAD_X=42", NULL };
	struct tg_step st = { .name = "e", .kind = TG_STEP_EXEC, .argv = argv, .env = env,
			      .cwd = "/usr" };
	struct tg_step_result r;
	int rc;

	assert_int_equal(run(&st, &r), 0);
	assert_true(r.ok);
	assert_non_null(r.output);
	assert_non_null(strstr(r.output, "out 42\n"));
	assert_non_null(strstr(r.output, "err\n"));
	assert_non_null(strstr(r.output, "/usr\n"));
	tg_step_result_free(&r);

	/* non-zero exit: a load error, output still kept; the tail only */
	char *argv2[] = { "/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; echo END; exit 3", NULL };
	int saved = dup(2), devnull = open("/dev/null", O_WRONLY);

	st.argv = argv2;
	st.cwd = NULL;
	dup2(devnull, 2); /* forwarded too: keep 100 KB of x out of the test log */
	rc = run(&st, &r);
	dup2(saved, 2);
	close(saved);
	close(devnull);
	assert_int_equal(rc, -EIO);
	assert_false(r.ok);
	assert_int_equal(r.exit_code, 3);
	assert_non_null(strstr(r.error, "code 3"));
	assert_non_null(r.output);
	assert_true(strlen(r.output) <= 64 * 1024);
	assert_true(strlen(r.output) >= 60 * 1024);
	assert_non_null(strstr(r.output, "END\n"));
	tg_step_result_free(&r);
}

static void test_parallel(void **state)
{
	struct srv *s = srv_start(false);
	struct tg_step kids[3];
	char *argv[] = { "/bin/sh", "-c", "sleep 0.4; echo done", NULL };
	struct tg_step st = { .name = "p", .kind = TG_STEP_PARALLEL, .env = no_strings,
			      .children = kids, .nchildren = 3 };
	struct tg_step_result r;

	kids[0] = http_step(s, 2, "/a");
	kids[0].traffic.rate_per_s = 100;
	kids[0].traffic.duration_ns = 500 * MS;
	kids[1] = http_step(s, 3, "/every2");
	kids[1].traffic.rate_per_s = 40;
	kids[1].traffic.duration_ns = 500 * MS;
	kids[2] = (struct tg_step){ .name = "x", .kind = TG_STEP_EXEC, .argv = argv, .env = no_strings };
	assert_int_equal(run(&st, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.nchildren, 3);
	assert_int_equal(r.children[0].requests, 50);
	assert_int_equal(r.children[1].requests, 20);
	/* some errors and some good responses: counted, the step ran */
	assert_true(r.children[1].ok);
	assert_int_equal(r.children[1].errors_by_kind[TG_LERR_STATUS], 10);
	assert_int_equal(r.requests, 70);
	assert_int_equal(r.errors, 10);
	assert_int_equal(r.errors_by_kind[TG_LERR_STATUS], 10);
	assert_int_equal(hist_count(&r), 70);
	assert_non_null(strstr(r.children[2].output, "done"));
	/* at the same time, not one after the other */
	assert_true(r.end_ns - r.start_ns < 900 * MS);
	tg_step_result_free(&r);

	/* a child that fails fails the group */
	atomic_store(&g_every2, 0);
	char *argv2[] = { "/bin/false", NULL };
	kids[2].argv = argv2;
	assert_int_equal(run(&st, &r), -EIO);
	assert_false(r.ok);
	assert_true(r.children[0].ok);
	assert_false(r.children[2].ok);
	assert_non_null(strstr(r.error, "exec step 'x'"));
	tg_step_result_free(&r);
	srv_stop(s);
}

/* ---- results.json load[] ---- */

static cJSON *obj(const cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_non_null(v);
	return v;
}

static double num(const cJSON *o, const char *k)
{
	cJSON *v = obj(o, k);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static void test_results_json_load(void **state)
{
	struct srv *s = srv_start(false);
	struct tg_step kids[2];
	char *argv[] = { "/bin/echo", "hi", NULL };
	struct tg_step st = { .name = "group", .kind = TG_STEP_PARALLEL, .env = no_strings,
			      .children = kids, .nchildren = 2 };
	struct tg_step_result r;
	struct tg_results res = { .spec = &spec, .sampler = "off", .steps = &r, .nsteps = 1 };
	char path[] = "/tmp/tg-test-load-XXXXXX", err[256], *text;
	const cJSON *l, *c;
	cJSON *root;
	FILE *f;
	long len;
	int fd;

	kids[0] = http_step(s, 4, "/");
	kids[0].name = "web";
	kids[0].traffic.requests = 10;
	kids[1] = (struct tg_step){ .name = "tool", .kind = TG_STEP_EXEC, .argv = argv, .env = no_strings };
	assert_int_equal(run(&st, &r), 0);
	res.t0_ns = r.start_ns - 1000;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tg_results_write(path, &res, err, sizeof err), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(path);
	root = cJSON_Parse(text);
	free(text);
	assert_non_null(root);
	l = cJSON_GetArrayItem(obj(root, "load"), 0);
	assert_non_null(l);
	assert_string_equal(obj(l, "name")->valuestring, "group");
	assert_string_equal(obj(l, "kind")->valuestring, "parallel");
	assert_true(cJSON_IsTrue(obj(l, "ok")));
	assert_int_equal((int)num(l, "start_ns"), 1000);
	assert_true(num(l, "duration_ns") > 0);
	assert_int_equal((int)num(l, "requests"), 10);
	assert_int_equal((int)num(l, "errors"), 0);
	assert_int_equal((int)num(obj(l, "errors_by_kind"), "connect"), 0);
	num(obj(l, "errors_by_kind"), "timeout");
	num(obj(l, "errors_by_kind"), "status");
	num(obj(l, "errors_by_kind"), "expect");
	num(obj(l, "errors_by_kind"), "io");
	assert_true(num(obj(l, "latency_ns"), "p50") > 0);
	assert_true(num(obj(l, "latency_ns"), "p90") >= num(obj(l, "latency_ns"), "p50"));
	assert_true(num(obj(l, "latency_ns"), "p99") >= num(obj(l, "latency_ns"), "p90"));
	assert_true(num(obj(l, "latency_ns"), "max") > 0);
	assert_true(num(l, "throughput_per_s") > 0);
	assert_int_equal(cJSON_GetArraySize(obj(l, "children")), 2);
	c = cJSON_GetArrayItem(obj(l, "children"), 0);
	assert_string_equal(obj(c, "kind")->valuestring, "http");
	assert_string_equal(obj(c, "name")->valuestring, "web");
	assert_int_equal((int)num(c, "requests"), 10);
	c = cJSON_GetArrayItem(obj(l, "children"), 1);
	assert_string_equal(obj(c, "kind")->valuestring, "exec");
	assert_string_equal(obj(c, "output")->valuestring, "hi\n");
	cJSON_Delete(root);
	tg_step_result_free(&r);
	srv_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_requests_exact_and_reuse),
		cmocka_unit_test(test_http_method_body),
		cmocka_unit_test(test_http_closed_concurrency),
		cmocka_unit_test(test_http_open_rate_10),
		cmocka_unit_test(test_http_open_rate_200),
		cmocka_unit_test(test_http_open_rate_2000),
		cmocka_unit_test(test_http_stall_is_latency),
		cmocka_unit_test(test_http_errors_by_kind),
		cmocka_unit_test(test_http_stop),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_exec_output),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_results_json_load),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
