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
	if (expect && parse_expect_head(expect, &v))
		return usage_error("audit", "--expect-head wants SEQ:HASH as `audit verify` prints it, not '%s'", expect);
	return 0;
}

static int cmd_audit(const struct cmd_args *a)
{
	const char *expect = opt_value(a, AUDIT_OPT_EXPECT_HEAD);
	struct store *st = runner_history();
	struct verify v = { .expect_seq = 1 };
	snprintf(v.prev, sizeof(v.prev), "%s", AUDIT_GENESIS);
	if (expect)
		parse_expect_head(expect, &v);	/* checked by check_audit */
	int64_t runs = 0;
	if (store_audit_walk(st, check_entry, &v) || store_run_count(st, &runs)) {
		errorf("cannot read the audit log in '%s': %s", db_path(), store_error(st));
		return 1;
	}
	/* every run writes entries: none at all beside recorded runs means they were deleted */
	if (!v.bad && !v.count && runs)
		v.bad = xasprintf("the log is empty but the history holds %lld run%s: its entries were deleted",
				  (long long)runs, runs == 1 ? "" : "s");
	if (!v.bad && v.want_hash && !v.want_seen)
		v.bad = xasprintf("the log ends at entry %lld but entry %lld was expected: its tail was cut off",
				  (long long)v.head_seq, (long long)v.want_seq);
	if (v.bad) {
		printf("audit log BROKEN: %s\n", v.bad);
		if (v.count)
			printf("verified up to head %lld:%s\n", (long long)v.head_seq, v.head);
		free(v.bad);
		return 1;
	}
	if (!v.count)
		printf("audit log ok: empty\n");
	else
		printf("audit log ok: %lld entries, head %lld:%s\n", (long long)v.count,
		       (long long)v.head_seq, v.head);
	return 0;
}

static const struct opt audit_options[] = {
	{ AUDIT_OPT_EXPECT_HEAD, "expect-head", "SEQ:HASH",
	  "fail unless the log reaches this head (as printed by an earlier verify): a cut tail shows" },
	OPT_END
};

const struct cmd cmd_audit_entry = {
	"audit", cmd_audit, "verify", "check the audit log's hash chain",
	audit_options,
	"audit verify\n"
	"audit verify --expect-head \"$(cat audit-head.txt)\"",
	NEED_CONFIG | NEED_HISTORY, check_audit,
};
