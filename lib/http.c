/*
 * The one file that talks to libcurl. Bodies are bounded while they arrive
 * (a health endpoint that streams forever cannot exhaust memory), header
 * lines are kept for the last response only (redirects reset them).
 */
#include "http.h"

#include <ctype.h>
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

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int http_perform(const struct http_request *rq, struct http_response *rs, char **err)
{
	memset(rs, 0, sizeof(*rs));
	const char *method = rq->method ? rq->method : rq->body ? "POST" : "GET";
	CURL *c = curl_easy_init();
	if (!c) {
		*err = xasprintf("%s %s: cannot initialise libcurl", method, rq->url);
		return -1;
	}
	struct sink s = { STRBUF_INIT, rq->max_body ? rq->max_body : HTTP_MAX_BODY, 0, rs };
	strbuf_init(&s.body, 0);
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	for (size_t i = 0; rq->headers && rq->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, rq->headers[i]);
	double ct = rq->connect_timeout_s > 0 ? rq->connect_timeout_s : HTTP_CONNECT_TIMEOUT_S;
	double tt = rq->timeout_s > 0 ? rq->timeout_s : HTTP_TIMEOUT_S;

	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(ct * 1000));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(tt * 1000));
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, rq->follow_redirects ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "lifeboat/" LIFEBOAT_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (rq->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
	}
	if (strcmp(method, "GET") && !(rq->body && !strcmp(method, "POST")))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);

	int64_t t0 = clock_mono_ns();
	CURLcode rc = curl_easy_perform(c);
	rs->duration_s = (double)(clock_mono_ns() - t0) / 1e9;
	int ret = 0;
	if (rc != CURLE_OK) {
		*err = xasprintf("%s %s: %s", method, rq->url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		strbuf_release(&s.body);
		http_response_release(rs);
		ret = -1;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
		rs->body_len = s.body.len;
		rs->body = strbuf_detach(&s.body);
		rs->body_truncated = s.truncated;
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
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
