/*
 * The one file that talks to libcurl. Bodies are bounded while they arrive
 * (a health endpoint that streams forever cannot exhaust memory), header
 * lines are kept for the last response only (redirects reset them).
 *
 * libcurl is loaded with dlopen on the first request, not linked: with its
 * TLS, LDAP, Kerberos and SSH dependencies it costs every lifeboat process
 * about 4.5 MiB of resident memory and most of its start-up time, and most
 * commands (and most runbooks) never make a request. The headers still come
 * from the libcurl development package found by pkg-config.
 */
#include "http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clock.h"
#include "util.h"

struct sink {
	struct strbuf body;
	size_t max;
	int truncated;
	struct http_response *rs;
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;
	size_t room = s->max > s->body.len ? s->max - s->body.len : 0;
	if (len > room) {
		s->truncated = 1;
		strbuf_add(&s->body, data, room);
	} else {
		strbuf_add(&s->body, data, len);
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	struct http_response *rs = s->rs;
	size_t len = size * n;
	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		/* a new response (after a redirect or 100-continue): start over */
		for (size_t i = 0; i < rs->nheaders; i++) {
			free(rs->headers[i].name);
			free(rs->headers[i].value);
		}
		rs->nheaders = 0;
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon || rs->nheaders >= 200)
		return len;
	size_t nlen = (size_t)(colon - data);
	const char *v = colon + 1, *end = data + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	rs->headers = xrealloc(rs->headers, (rs->nheaders + 1) * sizeof(*rs->headers));
	struct http_header *h = &rs->headers[rs->nheaders++];
	h->name = xstrndup(data, nlen);
	for (char *p = h->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	h->value = xstrndup(v, (size_t)(end - v));
	return len;
}

#define CURL_SONAME "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;
static char *load_error;

/* An abort (Ctrl-C, `lifeboat abort`) must not wait for a request's 30 s timeout. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	const atomic_int *flag = ud;
	return flag && atomic_load(flag) ? 1 : 0;
}

static int global_state = -1;	/* 0 ready, -1 failed; written only by global_load */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

/*
 * Loads libcurl and runs curl_global_init (which is not thread-safe) exactly
 * once, even when the engine thread and the notify thread ask at the same time.
 */
static void global_load(void)
{
	const struct dl_symbol syms[] = {
		{ "curl_global_init", &cu.global_init },
		{ "curl_easy_init", &cu.easy_init },
		{ "curl_easy_setopt", &cu.easy_setopt },
		{ "curl_easy_perform", &cu.easy_perform },
		{ "curl_easy_getinfo", &cu.easy_getinfo },
		{ "curl_easy_cleanup", &cu.easy_cleanup },
		{ "curl_easy_strerror", &cu.easy_strerror },
		{ "curl_slist_append", &cu.slist_append },
		{ "curl_slist_free_all", &cu.slist_free_all },
	};
	if (dl_load(CURL_SONAME, "libcurl4", syms, ARRAY_SIZE(syms), &load_error))
		return;
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		load_error = xstrdup("curl_global_init failed");
		return;
	}
	global_state = 0;
}

int http_global_init(void)
{
	pthread_once(&global_once, global_load);
	return global_state;
}

/* The first control character (CR, LF, NUL's neighbours, DEL) in s, or NULL. */
static const char *control_char(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return s;
	return NULL;
}

/*
 * Every request line and header is checked here, whoever built it (a
 * declarative step expands ${name} into them, and a param can hold
 * "\r\nX-Injected: yes"): a line break would end the header and start one
 * of the attacker's. The messages never repeat the value (it may be a secret).
 */
static int request_check(const struct http_request *rq, const char *method, char **err)
{
	const char *bad = control_char(rq->url);
	if (bad) {
		*err = xasprintf("%s: the URL has a control character (byte 0x%02x at offset %zu): refused, so it cannot inject a header",
				 method, (unsigned char)*bad, (size_t)(bad - rq->url));
		return -1;
	}
	for (const char *m = method; *m; m++)
		if (!strchr("!#$%&'*+-.^_`|~", *m) && !isalnum((unsigned char)*m)) {
			*err = xstrdup("the HTTP method is not a token (letters, digits, -._~ ...): refused");
			return -1;
		}
	for (size_t i = 0; rq->headers && rq->headers[i]; i++) {
		const char *h = rq->headers[i];
		const char *colon = strchr(h, ':');
		for (const char *c = h; colon && c < colon; c++)
			if (!strchr("!#$%&'*+-.^_`|~", *c) && !isalnum((unsigned char)*c))
				colon = NULL;
		if (!colon || colon == h) {
			*err = xasprintf("%s: header %zu is not \"Name: value\" with a valid name: refused",
					 method, i + 1);
			return -1;
		}
		for (const char *c = colon + 1; *c; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f) {
				*err = xasprintf("%s: the value of header %.*s has a line break or control character: refused, so it cannot inject a header",
						 method, (int)(colon - h), h);
				return -1;
			}
	}
	return 0;
}

int http_perform(const struct http_request *rq, struct http_response *rs, char **err)
{
	memset(rs, 0, sizeof(*rs));
	const char *method = rq->method ? rq->method : rq->body ? "POST" : "GET";
	if (request_check(rq, method, err))
		return -1;
	if (http_global_init()) {
		*err = xasprintf("%s %s: %s", method, rq->url, load_error);
		return -1;
	}
	CURL *c = cu.easy_init();
	if (!c) {
		*err = xasprintf("%s %s: cannot initialise libcurl", method, rq->url);
		return -1;
	}
	struct sink s = { STRBUF_INIT, rq->max_body ? rq->max_body : HTTP_MAX_BODY, 0, rs };
	strbuf_init(&s.body, 0);
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	for (size_t i = 0; rq->headers && rq->headers[i]; i++)
		hdrs = cu.slist_append(hdrs, rq->headers[i]);
	double ct = rq->connect_timeout_s > 0 ? rq->connect_timeout_s : HTTP_CONNECT_TIMEOUT_S;
	double tt = rq->timeout_s > 0 ? rq->timeout_s : HTTP_TIMEOUT_S;

	cu.easy_setopt(c, CURLOPT_URL, rq->url);
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(ct * 1000));
	cu.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(tt * 1000));
	cu.easy_setopt(c, CURLOPT_FOLLOWLOCATION, rq->follow_redirects ? 1L : 0L);
	cu.easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	cu.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	cu.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(c, CURLOPT_USERAGENT, "lifeboat/" LIFEBOAT_VERSION);
	cu.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, &s);
	cu.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	cu.easy_setopt(c, CURLOPT_HEADERDATA, &s);
	if (hdrs)
		cu.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (rq->abort_flag) {
		cu.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		cu.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		cu.easy_setopt(c, CURLOPT_XFERINFODATA, (void *)(uintptr_t)rq->abort_flag);
	}
	if (rq->body) {
		cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		cu.easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
	}
	if (strcmp(method, "GET") && !(rq->body && !strcmp(method, "POST")))
		cu.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		cu.easy_setopt(c, CURLOPT_NOBODY, 1L);

	int64_t t0 = clock_mono_ns();
	CURLcode rc = cu.easy_perform(c);
	rs->duration_s = (double)(clock_mono_ns() - t0) / 1e9;
	int ret = 0;
	if (rc != CURLE_OK) {
		*err = xasprintf("%s %s: %s", method, rq->url, errbuf[0] ? errbuf : cu.easy_strerror(rc));
		strbuf_release(&s.body);
		http_response_release(rs);
		ret = -1;
	} else {
		cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
		rs->body_len = s.body.len;
		rs->body = strbuf_detach(&s.body);
		rs->body_truncated = s.truncated;
	}
	cu.slist_free_all(hdrs);
	cu.easy_cleanup(c);
	return ret;
}

void http_response_release(struct http_response *rs)
{
	free(rs->body);
	for (size_t i = 0; i < rs->nheaders; i++) {
		free(rs->headers[i].name);
		free(rs->headers[i].value);
	}
	free(rs->headers);
	memset(rs, 0, sizeof(*rs));
}
