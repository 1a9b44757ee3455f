/* The http transport of traffic steps: libcurl's multi interface, one easy
 * handle per slot, reused with its kept-alive connection. */
#define _GNU_SOURCE
#include "load_http.h"
#include "load.h"
#include "spec.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_TIMEOUT_DEFAULT (10ull * 1000 * 1000 * 1000)

struct http_slot {
	CURL *easy;
	unsigned idx;
	bool busy;
};

struct http_xp {
	CURLM *multi;
	struct curl_slist *headers;
	struct http_slot *slots;
	unsigned nslots;
	int expect_status;
	tg_xport_done_fn done;
	void *ctx;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

static void http_close(void *p)
{
	struct http_xp *x = p;

	if (!x)
		return;
	for (unsigned i = 0; x->slots && i < x->nslots; i++) {
		if (!x->slots[i].easy)
			continue;
		if (x->slots[i].busy)
			curl_multi_remove_handle(x->multi, x->slots[i].easy);
		curl_easy_cleanup(x->slots[i].easy);
	}
	free(x->slots);
	if (x->multi)
		curl_multi_cleanup(x->multi);
	curl_slist_free_all(x->headers);
	free(x);
}

static int setup_easy(struct http_xp *x, const struct tg_http_req *r, struct http_slot *s)
{
	uint64_t tmo = r->timeout_ns ? r->timeout_ns : HTTP_TIMEOUT_DEFAULT;
	long tmo_ms = (long)((tmo + 999999) / 1000000);
	const char *m = r->method ? r->method : "GET";
	CURL *e = curl_easy_init();
	CURLcode rc = CURLE_OK;

	if (!e)
		return -ENOMEM;
	s->easy = e;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, r->url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_FORBID_REUSE, 0L);
	SET(CURLOPT_FRESH_CONNECT, 0L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_NODELAY, 1L);
	SET(CURLOPT_TIMEOUT_MS, tmo_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, tmo_ms);
	SET(CURLOPT_WRITEFUNCTION, discard);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_PRIVATE, (void *)s);
	SET(CURLOPT_USERAGENT, "tokio-guard/" TG_VERSION);
	if (x->headers)
		SET(CURLOPT_HTTPHEADER, x->headers);
	if (r->body) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		SET(CURLOPT_POSTFIELDS, r->body);
	}
	if (strcasecmp(m, "HEAD") == 0)
		SET(CURLOPT_NOBODY, 1L);
	else if (strcmp(m, "GET") != 0 || r->body)
		SET(CURLOPT_CUSTOMREQUEST, m);
#undef SET
	return rc == CURLE_OK ? 0 : -EINVAL;
}

static int http_open(void **out, const struct tg_step *step, unsigned nslots,
		     tg_xport_done_fn done, void *ctx, char *err, size_t errlen)
{
	const struct tg_http_req *r = &step->http;
	struct http_xp *x;
	int rc;

	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl: %s", curl_easy_strerror(curl_init_rc));
		return -EIO;
	}
	if (!r->url || !*r->url) {
		snprintf(err, errlen, "http step has no url");
		return -EINVAL;
	}
	x = calloc(1, sizeof *x);
	if (!x)
		goto oom;
	x->done = done;
	x->ctx = ctx;
	x->nslots = nslots;
	x->expect_status = r->expect_status;
	x->multi = curl_multi_init();
	x->slots = calloc(nslots, sizeof *x->slots);
	if (!x->multi || !x->slots)
		goto oom;
	/* every slot keeps its connection between requests */
	curl_multi_setopt(x->multi, CURLMOPT_MAXCONNECTS, (long)nslots);
	for (size_t i = 0; r->headers && r->headers[i]; i++) {
		struct curl_slist *l = curl_slist_append(x->headers, r->headers[i]);

		if (!l)
			goto oom;
		x->headers = l;
	}
	for (unsigned i = 0; i < nslots; i++) {
		x->slots[i].idx = i;
		rc = setup_easy(x, r, &x->slots[i]);
		if (rc == -ENOMEM)
			goto oom;
		if (rc < 0) {
			snprintf(err, errlen, "cannot set up a request to %s", r->url);
			http_close(x);
			return rc;
		}
	}
	*out = x;
	return 0;
oom:
	http_close(x);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static int classify(struct http_xp *x, CURL *e, CURLcode res)
{
	long status = 0;

	switch (res) {
	case CURLE_OK:
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		if (x->expect_status ? status != x->expect_status : (status < 200 || status > 299))
			return TG_LERR_STATUS;
		return -1;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
		return TG_LERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return TG_LERR_TIMEOUT;
	default:
		return TG_LERR_IO;
	}
}

static void http_harvest(struct http_xp *x)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(x->multi, &left))) {
		struct http_slot *s = NULL;
		int kind;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		kind = classify(x, m->easy_handle, m->data.result);
		curl_multi_remove_handle(x->multi, m->easy_handle);
		s->busy = false;
		x->done(x->ctx, s->idx, kind);
	}
}

static void http_start(void *p, unsigned slot)
{
	struct http_xp *x = p;
	struct http_slot *s = &x->slots[slot];
	int running;

	if (curl_multi_add_handle(x->multi, s->easy) != CURLM_OK) {
		x->done(x->ctx, slot, TG_LERR_IO);
		return;
	}
	s->busy = true;
	/* send it now, not at the next wait: the request starts on schedule */
	curl_multi_perform(x->multi, &running);
}

static void http_wait(void *p, uint64_t timeout_ns)
{
	struct http_xp *x = p;
	int running, ms = (int)((timeout_ns + 999999) / 1000000);

	curl_multi_perform(x->multi, &running);
	http_harvest(x);
	if (running > 0 || ms > 0)
		curl_multi_poll(x->multi, NULL, 0, ms, NULL);
	curl_multi_perform(x->multi, &running);
	http_harvest(x);
}

const struct tg_xport_ops tg_xport_http = {
	.name = "http",
	.open = http_open,
	.start = http_start,
	.wait = http_wait,
	.close = http_close,
};
