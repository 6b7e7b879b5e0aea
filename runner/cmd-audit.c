/*
 * `lifeboat audit verify [--expect-head SEQ:HASH]`: walks the audit log's
 * hash chain and names the first entry that does not fit: a changed field,
 * a deleted, inserted or reordered entry. It prints the head, which a copy
 * kept elsewhere (the run_finished webhook) can be compared with; given that
 * head, --expect-head also catches a tail cut off the log.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "central.h"
#include "runner.h"

struct verify {
	int64_t expect_seq;
	char prev[65];
	int64_t count;
	char *bad;		/* first problem, owned */
	int64_t head_seq;
	char head[65];
	int64_t want_seq;	/* --expect-head */
	const char *want_hash;
	int want_seen;
};

static int check_entry(void *ud, const struct audit_entry *e)
{
	struct verify *v = ud;
	char h[65];
	if (e->seq != v->expect_seq) {
		v->bad = xasprintf("entry %lld: expected sequence number %lld here: an entry was %s",
				   (long long)e->seq, (long long)v->expect_seq,
				   e->seq > v->expect_seq ? "deleted before it" : "inserted or moved");
		return 1;
	}
	if (strcmp(e->prev_hash, v->prev)) {
		v->bad = xasprintf("entry %lld: its previous-hash does not match entry %lld: an entry was changed, deleted, inserted or reordered",
				   (long long)e->seq, (long long)e->seq - 1);
		return 1;
	}
	audit_hash(e, h);
	if (strcmp(h, e->hash)) {
		v->bad = xasprintf("entry %lld (%s, %s): its contents do not match its hash: it was changed",
				   (long long)e->seq, e->event ? e->event : "?", e->at ? e->at : "?");
		return 1;
	}
	if (v->want_hash && e->seq == v->want_seq) {
		v->want_seen = 1;
		if (strcmp(e->hash, v->want_hash)) {
			v->bad = xasprintf("entry %lld does not have the expected head hash %s",
					   (long long)e->seq, v->want_hash);
			return 1;
		}
	}
	snprintf(v->prev, sizeof(v->prev), "%s", e->hash);
	v->head_seq = e->seq;
	snprintf(v->head, sizeof(v->head), "%s", e->hash);
	v->expect_seq++;
	v->count++;
	return 0;
}

enum { AUDIT_OPT_EXPECT_HEAD = OPT_CODE + 64 };

/* --expect-head SEQ:HASH into v: 0, or -1 when it is not that */
static int parse_expect_head(const char *expect, struct verify *v)
{
	const char *colon = strchr(expect, ':');
	char *end;
	v->want_seq = strtoll(expect, &end, 10);
	if (!colon || end != colon || v->want_seq < 1 || strlen(colon + 1) != 64)
		return -1;
	v->want_hash = colon + 1;
	return 0;
}

static int check_audit(const struct cmd_args *a)
{
	const char *expect = opt_value(a, AUDIT_OPT_EXPECT_HEAD);
	struct verify v = { 0 };
	if (a->nargs > 1)
		return usage_error("audit", "unexpected argument '%s'", a->args[1]);
	if (!a->nargs || strcmp(a->args[0], "verify"))
		return usage_error("audit", "the audit command is `lifeboat audit verify`");
	if (expect && opt_count(a, OPT_CENTRAL))
		return usage_error("audit", "--expect-head names one history's head; with --central each source history's head is printed");
	if (expect && parse_expect_head(expect, &v))
		return usage_error("audit", "--expect-head wants SEQ:HASH as `audit verify` prints it, not '%s'", expect);
	return 0;
}

/* Walks st's chain into v; -1 when it cannot be read (said, naming where). */
static int walk(struct store *st, struct verify *v, int64_t *runs, const char *where)
{
	if (store_audit_walk(st, check_entry, v) || (runs && store_run_count(st, runs))) {
		errorf("cannot read the audit log in '%s': %s", where, store_error(st));
		return -1;
	}
	return 0;
}

/* The verdict on one chain, said; 0 ok, 1 broken. prefix: "" or the source's name. */
static int verdict(struct verify *v, int64_t runs, const char *prefix)
{
	/* every run writes entries: none at all beside recorded runs means they were deleted */
	if (!v->bad && !v->count && runs)
		v->bad = xasprintf("the log is empty but the history holds %lld run%s: its entries were deleted",
				   (long long)runs, runs == 1 ? "" : "s");
	if (!v->bad && v->want_hash && !v->want_seen)
		v->bad = xasprintf("the log ends at entry %lld but entry %lld was expected: its tail was cut off",
				   (long long)v->head_seq, (long long)v->want_seq);
	if (v->bad) {
		printf("%saudit log BROKEN: %s\n", prefix, v->bad);
		if (v->count)
			printf("%sverified up to head %lld:%s\n", prefix, (long long)v->head_seq, v->head);
		free(v->bad);
		v->bad = NULL;
		return 1;
	}
	if (!v->count)
		printf("%saudit log ok: empty\n", prefix);
	else
		printf("%saudit log ok: %lld entries, head %lld:%s\n", prefix, (long long)v->count,
		       (long long)v->head_seq, v->head);
	return 0;
}

/*
 * --central (SPEC 11): every source history's chain as the server stores it,
 * each copied into a local history of its own and walked as a local log is,
 * so a row changed, deleted or inserted in PostgreSQL shows.
 */
static int verify_central(void)
{
	struct central *c = NULL;
	int rc = central_connect_for("audit verify", &c);
	if (rc)
		return rc;
	struct central_source *src = NULL;
	size_t n = 0;
	char *err = NULL;
	if (central_sources(c, &src, &n, &err)) {
		errorf("audit verify --central: %s", err);
		free(err);
		central_close(c);
		return 1;
	}
	if (!n)
		printf("no source history has sent anything to %s yet\n", central_server(c));
	for (size_t i = 0; i < n && rc != EXIT_USAGE; i++) {
		struct central_fetch f = { .what = CENTRAL_FETCH_AUDIT, .source_id = src[i].source_id };
		struct store *st = NULL;
		char *prefix = xasprintf("%s (%s, source %s): ", src[i].host ? src[i].host : "?",
					 src[i].path ? src[i].path : "?", src[i].source_id);
		struct verify v = { .expect_seq = 1 };
		snprintf(v.prev, sizeof(v.prev), "%s", AUDIT_GENESIS);
		int r = open_copy("audit verify", c, &f, &st);
		if (!r)
			r = walk(st, &v, NULL, central_server(c)) ? 1 : verdict(&v, src[i].runs, prefix);
		close_copy(st);
		free(v.bad);
		free(prefix);
		rc = exit_code_precedence(rc, r);
	}
	central_sources_free(src, n);
	central_close(c);
	return rc;
}

static int cmd_audit(const struct cmd_args *a)
{
	const char *expect = opt_value(a, AUDIT_OPT_EXPECT_HEAD);
	if (opt_count(a, OPT_CENTRAL))
		return verify_central();	/* main opened no local history */
	struct verify v = { .expect_seq = 1 };
	snprintf(v.prev, sizeof(v.prev), "%s", AUDIT_GENESIS);
	if (expect)
		parse_expect_head(expect, &v);	/* checked by check_audit */
	int64_t runs = 0;
	if (walk(runner_history(), &v, &runs, db_path()))
		return 1;
	int rc = verdict(&v, runs, "");
	free(v.bad);
	return rc;
}

static const struct opt audit_options[] = {
	{ AUDIT_OPT_EXPECT_HEAD, "expect-head", "SEQ:HASH",
	  "fail unless the log reaches this head (as printed by an earlier verify): a cut tail shows" },
	{ OPT_CENTRAL, "central", NULL, "check every source history's chain as the team's PostgreSQL stores it" },
	OPT_END
};

const struct cmd cmd_audit_entry = {
	"audit", cmd_audit, "verify", "check the audit log's hash chain",
	audit_options,
	"audit verify\n"
	"audit verify --expect-head \"$(cat audit-head.txt)\"\n"
	"audit verify --central",
	NEED_CONFIG | NEED_HISTORY, check_audit,
};
