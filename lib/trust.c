/* Signature requirements and checks for runbooks and their modules (see trust.h). */
#include "trust.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "store.h"
#include "util.h"

void trust_init(struct trust *t, const struct config *cfg, const struct config_policy *pol,
		const char *env)
{
	memset(t, 0, sizeof(*t));
	/*
	 * A machine policy's keys replace the project's: a repository cannot add its
	 * own. Where the policy requires signatures, only its keys count even when it
	 * lists none, or a trust.keys in lifeboat.yaml would pass its own signatures.
	 */
	if (pol && (pol->nkeys || config_policy_requires(pol, env))) {
		t->keys = pol->pubs;
		t->key_files = pol->keys;
		t->nkeys = pol->nkeys;
		t->policy_keys = pol->path;
	} else if (cfg) {
		t->keys = cfg->trust_pubs;
		t->key_files = cfg->trust_keys;
		t->nkeys = cfg->ntrust_keys;
	}
	if (config_policy_requires(pol, env)) {
		t->required = 1;
		t->required_by = pol->require_always ?
			xasprintf("the machine policy %s requires signed runbooks", pol->path) :
			xasprintf("the machine policy %s requires signed runbooks in environment '%s'",
				  pol->path, env);
		return;
	}
	const struct config_env *e = env ? config_env(cfg, env) : NULL;
	if (e && e->require_signed) {
		t->required = 1;
		t->required_by = xasprintf("environment '%s' requires signed runbooks (%s)", env, cfg->path);
	}
}

void trust_release(struct trust *t)
{
	free(t->required_by);
	memset(t, 0, sizeof(*t));
}

static char *key_list(const struct trust *t)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 0);
	for (size_t i = 0; i < t->nkeys; i++) {
		char id[17];
		minisign_keyid(t->keys[i].keynum, id);
		strbuf_addf(&sb, "%s%s (%s)", i ? ", " : "", id, t->key_files[i]);
	}
	return strbuf_detach(&sb);
}

/* The trusted comment's timestamp: field (unix seconds), or -1 when it has none. */
static long long signed_at(const struct minisign_sig *sig)
{
	const char *val;
	size_t len;
	if (!minisign_trusted_field(sig->trusted, "timestamp", &val, &len) || !len || len > 18)
		return -1;
	long long ts = 0;
	for (size_t i = 0; i < len; i++) {
		if (val[i] < '0' || val[i] > '9')
			return -1;
		ts = ts * 10 + (val[i] - '0');
	}
	return ts;
}

/*
 * An older signed version copied back (SPEC 9): of the signatures this
 * file's path counted with in earlier runs, those by a key trusted now, the
 * newest trusted-comment timestamp must not be newer than sig's (one more
 * than a day ahead of now does not count). Per path,
 * whichever trusted key signed: a version signed earlier by another key is
 * as old. The refusal (owned), or NULL when sig may count.
 */
static char *older_than_seen(const struct trust *t, const char *path,
			     const struct minisign_sig *sig)
{
	char *real = realpath(path, NULL);
	struct store_signature *seen = NULL;
	size_t n = 0;
	char *why = NULL;
	if (store_signatures_of(t->seen, real ? real : path, &seen, &n)) {
		why = xasprintf("%s: cannot read the history to check that its signature is not older than one already run: %s",
				path, store_error(t->seen));
		free(real);
		return why;
	}
	long long mine = signed_at(sig), newest = -1;
	const char *newest_run = NULL;
	for (size_t i = 0; i < n; i++) {
		struct minisign_sig old;
		char *err = NULL;
		if (minisign_sig_parse(seen[i].signature, strlen(seen[i].signature), "history", &old, &err)) {
			free(err);
			continue;
		}
		long long ts = minisign_key_for(t->keys, t->nkeys, &old) ? signed_at(&old) : -1;
		/* one signed more than a day ahead (a wrong clock) orders nothing: it would lock the file out */
		if (ts > clock_wall_ms() / 1000 + 86400)
			ts = -1;
		if (ts > newest) {
			newest = ts;
			newest_run = seen[i].run_id;
		}
		minisign_sig_release(&old);
	}
	if (newest >= 0 && mine < newest) {
		char was[32], now[32];
		clock_iso8601(newest * 1000, was);
		if (mine < 0)
			why = xasprintf("%s: its signature carries no timestamp, but run %s already ran this file signed at %s: an older signed version does not count; sign the current version with `lifeboat sign`",
					path, newest_run, was);
		else
			why = xasprintf("%s: its signature is from %s, older than the one run %s already ran this file with (signed at %s): an older signed version does not count; sign the current version again",
					path, clock_iso8601(mine * 1000, now), newest_run, was);
	}
	store_signatures_free(seen, n);
	free(real);
	return why;
}

int trust_status(const struct trust *t, const char *path, const char *data, size_t len,
		 char signed_by[17], char **signature, char **why)
{
	signed_by[0] = '\0';
	if (signature)
		*signature = NULL;
	char *sig_path = xasprintf("%s.minisig", path);
	if (access(sig_path, F_OK) && errno == ENOENT) {
		free(sig_path);
		return 1;
	}
	struct minisign_sig sig;
	char *err = NULL, *text = NULL;
	int rc = -1;
	struct stat sb;
	/* a FIFO or a device in its place would hang or feed the reader: only a file counts */
	if (!stat(sig_path, &sb) && !S_ISREG(sb.st_mode)) {
		*why = xasprintf("%s: not a regular file", sig_path);
		free(sig_path);
		return -1;
	}
	if (minisign_sig_load_text(sig_path, &sig, &text, &err)) {
		*why = err;
		goto out;
	}
	char id[17];
	minisign_keyid(sig.keynum, id);
	const struct minisign_pub *pk = minisign_key_for(t->keys, t->nkeys, &sig);
	if (!pk) {
		char *keys = key_list(t);
		if (!t->nkeys && t->policy_keys)
			*why = xasprintf("%s is signed by key %s, which is not trusted (no key is trusted: the machine policy %s lists none under keys, and a project's trust.keys does not count under it)",
					 path, id, t->policy_keys);
		else
			*why = xasprintf("%s is signed by key %s, which is not trusted (%s%s)", path, id,
					 t->nkeys ? "trusted: " : "no key is trusted: list one under trust.keys",
					 keys);
		free(keys);
	} else if (minisign_verify(pk, &sig, data, len, &err) ||
		   minisign_check_name(&sig, path, &err)) {
		*why = xasprintf("%s: %s", path, err);
		free(err);
	} else if (t->seen && (*why = older_than_seen(t, path, &sig))) {
		/* refused: *why says why */
	} else {
		memcpy(signed_by, id, 17);
		if (signature) {
			*signature = text;
			text = NULL;
		}
		rc = 0;
	}
	free(text);
	minisign_sig_release(&sig);
out:
	free(sig_path);
	return rc;
}

int trust_verify(void *ud, const char *path, const char *data, size_t len, char signed_by[17],
		 char **signature, char **why)
{
	const struct trust *t = ud;
	*signature = NULL;
	if (!t->nkeys && !t->required) {
		signed_by[0] = '\0';
		return 0;
	}
	if (!data) {
		/* a FIFO or a device where the code should be: no signature can vouch for it */
		signed_by[0] = '\0';
		if (!t->required)
			return 0;
		*why = xasprintf("%s: not a regular file (a device, a FIFO or a socket), so no signature can vouch for its bytes, and %s",
				 path, t->required_by);
		return -1;
	}
	char *err = NULL;
	int st = trust_status(t, path, data, len, signed_by, signature, &err);
	if (st == 0 || !t->required) {
		free(err);
		return 0;
	}
	if (st == 1)
		*why = xasprintf("%s is not signed (no %s.minisig) and %s; sign it with `lifeboat sign --key KEY.key %s` by a trusted key",
				 path, path, t->required_by, path);
	else
		*why = xasprintf("%s; %s", err, t->required_by);
	free(err);
	return -1;
}
