/*
 * Evidence bundles (see evidence.h). The audit part is a contiguous segment
 * of the chain — from the run's first entry to its last, other runs'
 * entries in between included, since the chain only checks when nothing is
 * left out — with the hash before it, so it checks on its own with the
 * small script shipped beside it; the head printed with it lets an auditor
 * compare against a head kept elsewhere (the run_finished webhook's).
 */
#include "evidence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "clock.h"
#include "json.h"
#include "runbook.h"
#include "store.h"
#include "util.h"

void evidence_add(struct evidence *ev, const char *name, char *data, size_t len)
{
	ev->files = xrealloc(ev->files, (ev->n + 1) * sizeof(*ev->files));
	ev->files[ev->n].name = xstrdup(name);
	ev->files[ev->n].data = data;
	ev->files[ev->n].len = len;
	ev->n++;
}

static void add_text(struct evidence *ev, const char *name, char *text)
{
	evidence_add(ev, name, text, strlen(text));
}

void evidence_release(struct evidence *ev)
{
	for (size_t i = 0; i < ev->n; i++) {
		free(ev->files[i].name);
		free(ev->files[i].data);
	}
	free(ev->files);
	ev->files = NULL;
	ev->n = 0;
}

/* ------------------------------------------------------------------------ */
/* the audit segment */

struct segment {
	const char *run_id;
	struct audit_entry *e;	/* from the run's first entry on; owned */
	size_t n, last;		/* last: index of the run's last entry + 1 */
};

static int collect(void *ud, const struct audit_entry *e)
{
	struct segment *sg = ud;
	int mine = e->run_id && !strcmp(e->run_id, sg->run_id);
	if (!sg->n && !mine)
		return 0;
	sg->e = xrealloc(sg->e, (sg->n + 1) * sizeof(*sg->e));
	struct audit_entry *c = &sg->e[sg->n++];
	*c = *e;
	c->at = xstrdup(e->at);
	c->run_id = xstrdup(e->run_id);
	c->event = xstrdup(e->event);
	c->operator = xstrdup(e->operator);
	c->detail = xstrdup(e->detail);
	if (mine)
		sg->last = sg->n;
	return 0;
}

static void segment_release(struct segment *sg)
{
	for (size_t i = 0; i < sg->n; i++)
		audit_entry_release(&sg->e[i]);
	free(sg->e);
}

static const char audit_how[] =
	"each entry's hash is SHA-256 over these fields in this order, each as an 8-byte big-endian "
	"length (2^64-1 for null) followed by its UTF-8 bytes: \"lifeboat-audit-v1\", seq (decimal), "
	"at, run_id, event, operator, uid (decimal, -1 when unknown), detail, prev_hash. The first "
	"entry's prev_hash is hash_before; each next entry's prev_hash is the previous entry's hash; "
	"seq has no gaps. check-audit.py checks all of this; compare last_hash or head with a copy "
	"kept elsewhere (the run_finished webhook carries the head)";

static char *audit_jsonl(const struct segment *sg, const char *head)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 4096);
	const struct audit_entry *first = &sg->e[0], *last = &sg->e[sg->last - 1];
	json_t *hdr = json_pack("{s:{s:s, s:I, s:I, s:s, s:s, s:s?, s:s}}", "segment",
				"run_id", sg->run_id, "from_seq", (json_int_t)first->seq,
				"to_seq", (json_int_t)last->seq, "hash_before", first->prev_hash,
				"last_hash", last->hash, "head", head, "hash", audit_how);
	char *line = lbjson_dump(hdr);
	strbuf_addf(&sb, "%s\n", line);
	free(line);
	for (size_t i = 0; i < sg->last; i++) {
		const struct audit_entry *e = &sg->e[i];
		line = lbjson_dump(json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o}",
					     "seq", (json_int_t)e->seq, "at", lbjson_string(e->at),
					     "run_id", lbjson_string(e->run_id), "event", lbjson_string(e->event),
					     "operator", lbjson_string(e->operator), "uid", (json_int_t)e->uid,
					     "detail", lbjson_string(e->detail), "prev_hash",
					     lbjson_string(e->prev_hash), "hash", lbjson_string(e->hash)));
		strbuf_addf(&sb, "%s\n", line);
		free(line);
	}
	return strbuf_detach(&sb);
}

static const char check_audit_py[] =
	"#!/usr/bin/env python3\n"
	"\"\"\"Checks audit.jsonl of a lifeboat evidence bundle on its own: every entry's hash,\n"
	"the chain from hash_before to last_hash, no gaps. Needs only Python 3.\"\"\"\n"
	"import hashlib, json, struct, sys\n"
	"\n"
	"def field(h, s):\n"
	"    if s is None:\n"
	"        h.update(struct.pack('>Q', 2**64 - 1))\n"
	"    else:\n"
	"        b = s.encode('utf-8')\n"
	"        h.update(struct.pack('>Q', len(b)))\n"
	"        h.update(b)\n"
	"\n"
	"path = sys.argv[1] if len(sys.argv) > 1 else 'audit.jsonl'\n"
	"lines = open(path, encoding='utf-8').read().splitlines()\n"
	"seg = json.loads(lines[0])['segment']\n"
	"prev, seq = seg['hash_before'], seg['from_seq']\n"
	"for n, line in enumerate(lines[1:], 2):\n"
	"    e = json.loads(line)\n"
	"    if e['seq'] != seq or e['prev_hash'] != prev:\n"
	"        sys.exit('%s:%d: entry %s does not follow entry %d: the chain is broken' % (path, n, e['seq'], seq - 1))\n"
	"    h = hashlib.sha256()\n"
	"    for f in ('lifeboat-audit-v1', str(e['seq']), e['at'], e['run_id'], e['event'],\n"
	"              e['operator'], str(e['uid']), e['detail'], e['prev_hash']):\n"
	"        field(h, f)\n"
	"    if h.hexdigest() != e['hash']:\n"
	"        sys.exit('%s:%d: entry %d was changed: its hash does not match' % (path, n, e['seq']))\n"
	"    prev, seq = e['hash'], seq + 1\n"
	"if seq - 1 != seg['to_seq'] or prev != seg['last_hash']:\n"
	"    sys.exit('%s: the segment does not end at entry %d' % (path, seg['to_seq']))\n"
	"print('audit segment ok: entries %d-%d of run %s, hash before %s, last hash %s' %\n"
	"      (seg['from_seq'], seg['to_seq'], seg['run_id'], seg['hash_before'], prev))\n";

/* ------------------------------------------------------------------------ */
/* the exercise summary */

static const char *dur(double s, char *buf, size_t n)
{
	if (isnan(s))
		return "-";
	return duration_format(s, buf, n);
}

static const char *ts(int64_t ms, char buf[32])
{
	return ms == TS_NONE ? "-" : clock_iso8601(ms, buf);
}

/* Markdown table cells must not break the table. */
static void cell(struct strbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			strbuf_addstr(sb, "\\|");
		else if (*s == '\n' || *s == '\r')
			strbuf_addch(sb, ' ');
		else
			strbuf_addch(sb, *s);
	}
}

static char *detail_field(const struct audit_entry *e, const char *key)
{
	json_t *j = e->detail ? json_loads(e->detail, 0, NULL) : NULL;
	const char *v = json_string_value(json_object_get(j, key));
	char *out = v ? xstrdup(v) : NULL;
	json_decref(j);
	return out;
}

struct who {
	char *name;
	long uid;
	struct strbuf acts;
};

static void participant(struct who **w, size_t *n, const char *name, long uid, const char *act)
{
	if (!name)
		return;
	size_t i;
	for (i = 0; i < *n; i++)
		if (!strcmp((*w)[i].name, name))
			break;
	if (i == *n) {
		*w = xrealloc(*w, (*n + 1) * sizeof(**w));
		(*w)[i].name = xstrdup(name);
		(*w)[i].uid = uid;
		strbuf_init(&(*w)[i].acts, 0);
		(*n)++;
	}
	struct strbuf *a = &(*w)[i].acts;
	if (!strstr(a->buf, act))
		strbuf_addf(a, "%s%s", a->len ? ", " : "", act);
}

/* What was exercised: the runbook, its file and signature, mode, environment, times. */
static void ex_scenario(struct strbuf *sb, const struct run_rec *r, const struct segment *sg)
{
	char b1[32], b2[32], t1[32];
	char *description = NULL;
	for (size_t i = 0; i < sg->last && !description; i++)
		if (sg->e[i].run_id && !strcmp(sg->e[i].run_id, r->id) &&
		    !strcmp(sg->e[i].event, "run_started"))
			description = detail_field(&sg->e[i], "description");

	strbuf_addf(sb, "# Exercise report: %s, run %s\n\n", r->runbook, r->id);
	strbuf_addstr(sb, "## Scenario\n\n");
	strbuf_addf(sb, "- Runbook: **%s**", r->runbook);
	if (description) {
		strbuf_addstr(sb, ": ");
		cell(sb, description);
	}
	strbuf_addf(sb, "\n- File: `%s` (SHA-256 `%s`), signed by key %s\n", r->file ? r->file : "-",
		    r->sha256 ? r->sha256 : "-", r->signed_by ? r->signed_by : "none (unsigned)");
	strbuf_addf(sb, "- Mode: %s (trigger %s), environment %s, host %s\n", r->mode,
		    r->trigger ? r->trigger : "-", r->env ? r->env : "none", r->host ? r->host : "-");
	strbuf_addf(sb, "- Started %s, ended %s; incident (t0) %s, service restored (t1) %s\n\n",
		    ts(r->started_ms, b1), ts(r->ended_ms, b2), ts(r->incident_ms, t1),
		    r->restored_ms == TS_NONE ? "never" : clock_iso8601(r->restored_ms, b1));
	free(description);
}

static void ex_objectives(struct strbuf *sb, const struct run_rec *r)
{
	char b1[32];
	strbuf_addstr(sb, "## Objectives\n\n");
	strbuf_addf(sb, "- RTO: %s\n", isnan(r->rto_target_s) ? "none declared" : dur(r->rto_target_s, b1, sizeof(b1)));
	strbuf_addf(sb, "- RPO: %s\n\n", isnan(r->rpo_target_s) ? "none declared" : dur(r->rpo_target_s, b1, sizeof(b1)));
	strbuf_addstr(sb, "| Phase | Role | Budget |\n| --- | --- | --- |\n");
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		strbuf_addstr(sb, "| ");
		cell(sb, p->name);
		strbuf_addf(sb, "%s | %s | %s |\n", p->fault ? " (fault)" : p->cleanup ? " (cleanup)" : "",
			    p->role ? p->role : "-", dur(p->budget_s, b1, sizeof(b1)));
	}
}

/* Who took part: the operator who started the run and everyone the audit log names. */
static void ex_participants(struct strbuf *sb, const struct run_rec *r, const struct segment *sg)
{
	strbuf_addstr(sb, "\n## Participants\n\n");
	struct who *w = NULL;
	size_t nw = 0;
	participant(&w, &nw, r->operator, r->uid, "started the run");
	for (size_t i = 0; i < sg->last; i++) {
		const struct audit_entry *e = &sg->e[i];
		if (e->run_id && !strcmp(e->run_id, r->id) && e->operator &&
		    strcmp(e->event, "step_started") && strcmp(e->event, "step_result") &&
		    strcmp(e->event, "run_finished") && strcmp(e->event, "run_started"))
			participant(&w, &nw, e->operator, (long)e->uid, e->event);
	}
	strbuf_addstr(sb, "| Operator | uid | Actions |\n| --- | --- | --- |\n");
	for (size_t i = 0; i < nw; i++) {
		strbuf_addstr(sb, "| ");
		cell(sb, w[i].name);
		strbuf_addf(sb, " | %ld | %s |\n", w[i].uid, w[i].acts.buf);
		free(w[i].name);
		strbuf_release(&w[i].acts);
	}
	free(w);
}

static void ex_confirmations(struct strbuf *sb, const struct run_rec *r)
{
	char b1[32], b2[32];
	strbuf_addstr(sb, "\nConfirmations of manual steps:\n\n");
	int any = 0;
	for (size_t i = 0; i < r->nphases; i++)
		for (size_t j = 0; j < r->phases[i].nsteps; j++) {
			const struct step_rec *s = &r->phases[i].steps[j];
			if (!s->confirmed_by || !step_kind_is(s->kind, STEP_MANUAL))
				continue;
			if (!any)
				strbuf_addstr(sb, "| Step | Role | Confirmed by | When | Human wait |\n| --- | --- | --- | --- | --- |\n");
			any = 1;
			strbuf_addstr(sb, "| ");
			cell(sb, s->name);
			strbuf_addf(sb, " | %s | ", s->role ? s->role : "-");
			char *how = step_confirmed_text(s);
			cell(sb, how);
			free(how);
			strbuf_addf(sb, "%s | %s | %s |\n", s->status == ST_DECLINED ? " (declined)" : "",
				    ts(s->ended_ms, b1), dur(s->human_wait_s, b2, sizeof(b2)));
		}
	if (!any)
		strbuf_addstr(sb, "none (no manual step was confirmed)\n");
}

static void ex_results(struct strbuf *sb, const struct run_rec *r)
{
	char b1[32], b2[32];
	strbuf_addstr(sb, "\n## Results\n\n");
	strbuf_addf(sb, "- Run: **%s**, exit code %d\n", status_name(r->status), r->exit_code);
	strbuf_addf(sb, "- RTO: achieved %s against %s: %s\n", dur(r->rto_achieved_s, b1, sizeof(b1)),
		    dur(r->rto_target_s, b2, sizeof(b2)),
		    r->rto_met == 1 ? "met" : r->rto_met == 0 ? "MISSED" : "not judged");
	strbuf_addf(sb, "- RPO: achieved %s against %s: %s\n\n", dur(r->rpo_achieved_s, b1, sizeof(b1)),
		    dur(r->rpo_target_s, b2, sizeof(b2)), r->rpo_status ? r->rpo_status : "none");
	strbuf_addstr(sb, "| Phase | Status | Duration | Budget | Human wait |\n| --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		char b3[32];
		strbuf_addstr(sb, "| ");
		cell(sb, p->name);
		strbuf_addf(sb, " | %s%s | %s | %s | %s |\n", status_name(p->status),
			    p->over_budget ? ", over budget" : "", dur(p->duration_s, b1, sizeof(b1)),
			    dur(p->budget_s, b2, sizeof(b2)), dur(p->human_wait_s, b3, sizeof(b3)));
	}
}

/* What did not go to plan: errors, missed objectives, phases over budget, odd steps. */
static void ex_deviations(struct strbuf *sb, const struct run_rec *r)
{
	char b1[32], b2[32];
	strbuf_addstr(sb, "\n## Deviations\n\n");
	size_t nd = 0;
	if (r->error) {
		strbuf_addstr(sb, "- The run: ");
		cell(sb, r->error);
		strbuf_addch(sb, '\n');
		nd++;
	}
	if (r->rto_met == 0) {
		strbuf_addf(sb, "- RTO missed: %s against %s\n", dur(r->rto_achieved_s, b1, sizeof(b1)),
			    dur(r->rto_target_s, b2, sizeof(b2)));
		nd++;
	}
	if (r->rpo_met == 0) {
		strbuf_addf(sb, "- RPO %s\n", r->rpo_status ? r->rpo_status : "missed");
		nd++;
	}
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		if (p->over_budget) {
			strbuf_addstr(sb, "- Phase ");
			cell(sb, p->name);
			strbuf_addf(sb, " over budget: %s against %s\n", dur(p->duration_s, b1, sizeof(b1)),
				    dur(p->budget_s, b2, sizeof(b2)));
			nd++;
		}
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			const char *what = NULL;
			if (s->section == SEC_ROLLBACK && s->status != ST_PENDING)
				what = "rollback step ran";
			else if (s->status == ST_SKIPPED && !p->fault)
				what = "skipped";
			else if (s->status == ST_DECLINED)
				what = "declined";
			else if (s->status == ST_FAILED || s->status == ST_TIMED_OUT ||
				 s->status == ST_ROLLED_BACK || s->status == ST_INTERRUPTED)
				what = status_name(s->status);
			if (!what && s->attempts <= 1)
				continue;
			strbuf_addstr(sb, "- Step ");
			cell(sb, s->name);
			strbuf_addstr(sb, " (phase ");
			cell(sb, p->name);
			strbuf_addf(sb, "): %s", what ? what : "");
			if (s->attempts > 1)
				strbuf_addf(sb, "%sretried, %d attempts", what ? "; " : "", s->attempts);
			if (s->error && what) {
				strbuf_addstr(sb, ": ");
				cell(sb, s->error);
			}
			strbuf_addch(sb, '\n');
			nd++;
		}
	}
	if (!nd)
		strbuf_addstr(sb, "none\n");
}

/* Notes, and where the bundle's audit entries sit in the history's log. */
static void ex_notes_audit(struct strbuf *sb, const struct run_rec *r, const struct segment *sg, const char *head)
{
	char b1[32];
	strbuf_addstr(sb, "\n## Notes and findings\n\n");
	for (size_t i = 0; i < r->nnotes; i++) {
		strbuf_addf(sb, "- %s, %s: ", ts(r->notes[i].at_ms, b1),
			    r->notes[i].operator ? r->notes[i].operator : "-");
		cell(sb, r->notes[i].text);
		strbuf_addch(sb, '\n');
	}
	if (!r->nnotes)
		strbuf_addstr(sb, "none\n");

	strbuf_addf(sb, "\n## Audit trail\n\naudit.jsonl holds entries %lld to %lld of the history's audit log (the hash before them: `%s`; the last: `%s`; the log's head when this bundle was written: `%s`). `python3 check-audit.py audit.jsonl` checks them.\n",
		    (long long)sg->e[0].seq, (long long)sg->e[sg->last - 1].seq, sg->e[0].prev_hash,
		    sg->e[sg->last - 1].hash, head ? head : "-");
}

static char *exercise_md(const struct run_rec *r, const struct segment *sg, const char *head)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 8192);
	ex_scenario(&sb, r, sg);
	ex_objectives(&sb, r);
	ex_participants(&sb, r, sg);
	ex_confirmations(&sb, r);
	ex_results(&sb, r);
	ex_deviations(&sb, r);
	ex_notes_audit(&sb, r, sg, head);
	return strbuf_detach(&sb);
}

/* ------------------------------------------------------------------------ */
/* the runbook files as run */

/* The name in the bundle: runbook/ and the path relative to the runbook's folder. */
static char *source_name(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	const char *rel = path;
	if (!strncmp(path, dir, n) && path[n] == '/')
		rel = path + n + 1;
	else if (strrchr(path, '/'))
		rel = strrchr(path, '/') + 1;
	return xasprintf("runbook/%s", rel);
}

static int add_sources(struct evidence *ev, struct store *st, const struct run_rec *r,
		       struct strbuf *readme, char **err)
{
	struct store_source *src = NULL;
	size_t n = 0;
	if (store_sources_load(st, r->id, &src, &n))
		return err_set(err, "cannot read the run's sources: %s", store_error(st));
	int rc = 0;
	if (!n) {
		/* a run recorded before sources were kept, or refused before it loaded */
		size_t len = 0;
		char *text = r->file ? read_file(r->file, &len) : NULL;
		char sha[65] = "";
		if (text)
			sha256_hex(text, len, sha);
		if (text && r->sha256 && !strcmp(sha, r->sha256)) {
			char *dir = path_dirname(r->file);
			char *name = source_name(dir, r->file);
			evidence_add(ev, name, text, len);
			strbuf_addf(readme, "The runbook's text is not in the history (an older run); %s is the file as it is now, whose SHA-256 matches the one recorded.\n", name);
			free(name);
			free(dir);
		} else {
			free(text);
			strbuf_addf(readme, "The runbook's text is not in the history and the file '%s' changed since the run (or is gone): it is not included; its recorded SHA-256 is %s.\n",
				    r->file ? r->file : "-", r->sha256 ? r->sha256 : "-");
		}
		return 0;
	}
	char *dir = path_dirname(src[0].path);
	for (size_t i = 0; i < n && !rc; i++) {
		char sha[65];
		sha256_hex(src[i].text, src[i].len, sha);
		if (src[i].missing || strcmp(sha, src[i].sha256) ||
		    (i == 0 && r->sha256 && strcmp(sha, r->sha256))) {
			rc = err_set(err, "the history's copy of '%s' does not match its recorded SHA-256 %s: the history was changed; no evidence written",
				  src[i].path, i == 0 && r->sha256 ? r->sha256 : src[i].sha256);
			break;
		}
		char *name = source_name(dir, src[i].path);
		for (size_t k = 0; k < ev->n; k++)
			if (!strcmp(ev->files[k].name, name)) {
				free(name);
				name = xasprintf("runbook/%zu-%s", i, strrchr(src[i].path, '/') ? strrchr(src[i].path, '/') + 1 : src[i].path);
				break;
			}
		char *copy = xmalloc(src[i].len + 1);
		memcpy(copy, src[i].text, src[i].len);
		evidence_add(ev, name, copy, src[i].len);
		if (src[i].signature) {
			/* minisign -Vm runbook/X -p KEY.pub finds it beside the file */
			char *sig_name = xasprintf("%s.minisig", name);
			add_text(ev, sig_name, xstrdup(src[i].signature));
			free(sig_name);
		}
		strbuf_addf(readme, "- %s: %s, SHA-256 %s, %s%s%s\n", name, src[i].path, sha,
			    src[i].signed_by ? "signed by key " : "not signed",
			    src[i].signed_by ? src[i].signed_by : "",
			    src[i].signature ? " (its signature beside it: minisign -Vm FILE -p SIGNER.pub)" : "");
		free(name);
	}
	free(dir);
	store_sources_free(src, n);
	return rc;
}

/* ------------------------------------------------------------------------ */

int evidence_build(struct store *st, const struct run_rec *r, const struct report_trend *trend,
		   struct evidence *ev, char **err)
{
	memset(ev, 0, sizeof(*ev));
	struct segment sg = { .run_id = r->id };
	char *head = NULL;
	if (store_audit_walk(st, collect, &sg) || store_audit_head(st, &head)) {
		segment_release(&sg);
		return err_set(err, "cannot read the audit log: %s", store_error(st));
	}
	if (!sg.last) {
		segment_release(&sg);
		free(head);
		return err_set(err, "run %s has no entries in the audit log: no evidence can be written for it",
			    r->id);
	}
	struct strbuf readme = STRBUF_INIT;
	strbuf_init(&readme, 2048);
	strbuf_addf(&readme, "Evidence of lifeboat run %s (runbook %s, %s, %s)\n\n", r->id, r->runbook,
		    r->mode, status_name(r->status));
	strbuf_addstr(&readme,
		      "Check it with public tools only (the evidence public key comes to you separately):\n\n"
		      "    minisign -Vm MANIFEST -p EVIDENCE-KEY.pub && sha256sum -c MANIFEST\n"
		      "    python3 check-audit.py audit.jsonl\n\n"
		      "MANIFEST lists every other file with its SHA-256; MANIFEST.minisig signs it. The\n"
		      "bundle is tamper-evident from the moment it was signed: it proves what the signing\n"
		      "host recorded, not that the host was honest.\n\n"
		      "exercise.md       scenario, objectives, participants, results, deviations, notes\n"
		      "report.json       the run (lifeboat's JSON report); report.xml (JUnit), report.md, report.html\n"
		      "audit.jsonl       the run's segment of the hash-chained audit log\n"
		      "runbook/          the files the run loaded, exactly as run:\n");
	int rc = add_sources(ev, st, r, &readme, err);
	if (!rc) {
		add_text(ev, "report.json", report_json_string(r, 1));
		add_text(ev, "report.xml", report_junit_string(r));
		add_text(ev, "report.md", report_markdown_string(r, trend));
		add_text(ev, "report.html", report_html_string(r, trend));
		add_text(ev, "audit.jsonl", audit_jsonl(&sg, head));
		add_text(ev, "check-audit.py", xstrdup(check_audit_py));
		add_text(ev, "exercise.md", exercise_md(r, &sg, head));
		add_text(ev, "README.txt", strbuf_detach(&readme));
	} else {
		strbuf_release(&readme);
		evidence_release(ev);
	}
	segment_release(&sg);
	free(head);
	return rc;
}

char *evidence_manifest(const struct evidence *ev)
{
	/* sha256sum's order is the caller's; keep it sorted so two bundles diff well */
	size_t *order = xcalloc(ev->n + 1, sizeof(*order));
	for (size_t i = 0; i < ev->n; i++)
		order[i] = i;
	for (size_t i = 1; i < ev->n; i++)
		for (size_t j = i; j > 0 && strcmp(ev->files[order[j - 1]].name, ev->files[order[j]].name) > 0; j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 128 * ev->n);
	for (size_t i = 0; i < ev->n; i++) {
		const struct evidence_file *f = &ev->files[order[i]];
		char sha[65];
		sha256_hex(f->data, f->len, sha);
		strbuf_addf(&sb, "%s  %s\n", sha, f->name);
	}
	free(order);
	return strbuf_detach(&sb);
}

/* ------------------------------------------------------------------------ */
/* writing */

static int mkdirs(const char *path, char **err)
{
	char *failed;
	int rc = 0;
	if (mkdir_parents(path, 0755, &failed))
		rc = err_set(err, "cannot create folder '%s': %s", failed, strerror(errno));
	else if (mkdir(path, 0755) && errno != EEXIST)
		rc = err_set(err, "cannot create folder '%s': %s", path, strerror(errno));
	free(failed);
	return rc;
}

static int dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 1;
	struct dirent *e;
	int empty = 1;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

int evidence_write_dir(const struct evidence *ev, const char *dir, char **err)
{
	struct stat sb;
	if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
		return err_set(err, "'%s' exists and is not a folder", dir);
	if (stat(dir, &sb) == 0 && !dir_empty(dir))
		return err_set(err, "'%s' is not empty: give a new folder for the bundle", dir);
	if (mkdirs(dir, err))
		return -1;
	for (size_t i = 0; i < ev->n; i++) {
		const struct evidence_file *f = &ev->files[i];
		char *path = xasprintf("%s/%s", dir, f->name);
		char *slash = strrchr(path, '/');
		*slash = '\0';
		if (mkdirs(path, err)) {
			free(path);
			return -1;
		}
		*slash = '/';
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write_all(fd, f->data, f->len) || fsync(fd) || close(fd)) {
			err_set(err, "cannot write '%s': %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

/* size - 1 octal digits and a NUL, as ustar wants (the values here always fit) */
static void octal(char *field, size_t size, unsigned long long v)
{
	field[size - 1] = '\0';
	for (size_t i = size - 1; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
}

int evidence_write_tar(const struct evidence *ev, const char *prefix, long long mtime,
		       const char *path, char **err)
{
	char *tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(err, "cannot write '%s': %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	int rc = 0;
	static const char zeros[1024];
	for (size_t i = 0; i < ev->n && !rc; i++) {
		const struct evidence_file *f = &ev->files[i];
		unsigned char h[512];
		memset(h, 0, sizeof(h));
		char *name = xasprintf("%s/%s", prefix, f->name);
		if (strlen(name) > 99) {
			rc = err_set(err, "'%s': the name is too long for the archive", name);
			free(name);
			break;
		}
		memcpy(h, name, strlen(name));
		free(name);
		octal((char *)h + 100, 8, 0644);
		octal((char *)h + 108, 8, 0);
		octal((char *)h + 116, 8, 0);
		octal((char *)h + 124, 12, f->len);
		octal((char *)h + 136, 12, (unsigned long long)(mtime > 0 ? mtime : 0));
		memset(h + 148, ' ', 8);
		h[156] = '0';
		memcpy(h + 257, "ustar", 6);
		memcpy(h + 263, "00", 2);
		memcpy(h + 265, "root", 4);
		memcpy(h + 297, "root", 4);
		unsigned sum = 0;
		for (size_t k = 0; k < sizeof(h); k++)
			sum += h[k];
		snprintf((char *)h + 148, 8, "%06o", sum);
		h[155] = ' ';
		size_t pad = (512 - f->len % 512) % 512;
		if (write_all(fd, h, sizeof(h)) || write_all(fd, f->data, f->len) ||
		    write_all(fd, zeros, pad))
			rc = err_set(err, "cannot write '%s': %s", path, strerror(errno));
	}
	if (!rc && (write_all(fd, zeros, sizeof(zeros)) || fsync(fd)))
		rc = err_set(err, "cannot write '%s': %s", path, strerror(errno));
	if (close(fd) && !rc)
		rc = err_set(err, "cannot write '%s': %s", path, strerror(errno));
	if (!rc && rename(tmp, path))
		rc = err_set(err, "cannot write '%s': %s", path, strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}
