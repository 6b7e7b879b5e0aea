/*
 * HTTP requests for http steps and the Lua http API. Only http.c talks to
 * libcurl. Defaults follow SPEC 1: 5 s to connect, 30 s in all, redirects
 * off unless asked, TLS verification always on.
 */
#ifndef LB_HTTP_H
#define LB_HTTP_H
#include <stdatomic.h>
#include <stddef.h>

#define HTTP_CONNECT_TIMEOUT_S 5.0
#define HTTP_TIMEOUT_S 30.0
#define HTTP_MAX_BODY (8u * 1024 * 1024)

struct http_request {
	const char *url;
	const char *method;		/* NULL: GET, or POST when body is set */
	const char *body;		/* NULL: none */
	size_t body_len;
	char *const *headers;		/* "Name: value", NULL-terminated, may be NULL */
	double connect_timeout_s;	/* <= 0: default */
	double timeout_s;		/* <= 0: default */
	int follow_redirects;
	size_t max_body;		/* 0: HTTP_MAX_BODY; the rest is dropped and flagged */
	const atomic_int *abort_flag;	/* set (by a signal handler): give up now */
};

struct http_header {
	char *name;			/* lower-case */
	char *value;
};

struct http_response {
	long status;
	char *body;			/* NUL-terminated, owned */
	size_t body_len;
	int body_truncated;
	struct http_header *headers;	/* of the last response */
	size_t nheaders;
	double duration_s;
};

int http_global_init(void);
/* 0 with *rs filled, or -1 with *err "GET http://...: curl's reason" (owned). */
int http_perform(const struct http_request *rq, struct http_response *rs, char **err);
void http_response_release(struct http_response *rs);

#endif
