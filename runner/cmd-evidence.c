/*
 * `lifeboat evidence RUN_ID -o DIR [--tar FILE]`: an evidence bundle of one
 * run for an auditor (lib/evidence.c builds it from the history), with
 * MANIFEST signed by the config's evidence_key when one is set, so that
 * `minisign -Vm MANIFEST -p KEY.pub && sha256sum -c MANIFEST` checks it
 * with public tools only.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "config.h"
#include "evidence.h"
#include "minisign.h"
#include "report.h"
#include "runner.h"

/* MANIFEST.minisig with the evidence key: 0, or EXIT_USAGE (reported) when the key is unusable. */
static int sign_manifest(struct evidence *ev, const char *manifest, const struct run_rec *r,
			 char keyid[17])
{
	const struct config *cfg = runner_config();
	keyid[0] = '\0';
	if (!cfg || !cfg->evidence_key)
		return 0;
	struct minisign_sec sk;
	char *err = NULL, *sig = NULL;
	if (minisign_sec_load(cfg->evidence_key, &sk, &err)) {
		errorf("%s: evidence_key: %s", cfg->path, err);
		free(err);
		return EXIT_USAGE;
	}
	char *trusted = xasprintf("timestamp:%lld\tfile:MANIFEST\trun:%s\thashed", (long long)time(NULL),
				  r->id);
	int rc = minisign_sign(&sk, manifest, strlen(manifest), trusted, &sig, &err);
	minisign_keyid(sk.keynum, keyid);
	OPENSSL_cleanse(&sk, sizeof(sk));
	free(trusted);
	if (rc) {
		errorf("cannot sign the MANIFEST: %s", err);
		free(err);
		return 1;
	}
	evidence_add(ev, "MANIFEST.minisig", sig, strlen(sig));
	return 0;
}

/* say: print what was written and how to check it (the scheduler says it its own way) */
int write_evidence(struct store *st, const struct run_rec *r, const char *dir, const char *tar,
		   int say)
{
	struct report_trend trend;
	if (report_trend_load(st, r, &trend)) {
		warnf("cannot read the RTO trend from '%s': %s", reader_name(), store_error(st));
		report_trend_release(&trend);
	}
	struct evidence ev;
	char *err = NULL;
	int rc = evidence_build(st, r, &trend, &ev, &err);
	report_trend_release(&trend);
	if (rc) {
		errorf("%s", err);
		free(err);
		return 1;
	}
	char *manifest = evidence_manifest(&ev);
	evidence_add(&ev, "MANIFEST", manifest, strlen(manifest));
	char keyid[17];
	rc = sign_manifest(&ev, manifest, r, keyid);
	if (!rc && dir && evidence_write_dir(&ev, dir, &err)) {
		errorf("%s", err);
		free(err);
		rc = 1;
	}
	if (!rc && tar) {
		char *prefix = xasprintf("evidence-%s", r->id);
		long long mtime = (r->ended_ms != TS_NONE ? r->ended_ms : r->started_ms) / 1000;
		if (evidence_write_tar(&ev, prefix, mtime, tar, &err)) {
			errorf("%s", err);
			free(err);
			rc = 1;
		}
		free(prefix);
	}
	if (!rc && say && !g_opts.quiet) {
		printf("evidence of run %s: %zu files", r->id, ev.n);
		if (dir)
			printf(" in %s", dir);
		if (tar)
			printf("%s%s", dir ? " and " : " in ", tar);
		if (keyid[0])
			printf("; MANIFEST signed by key %s\ncheck: minisign -Vm MANIFEST -p EVIDENCE-KEY.pub && sha256sum -c MANIFEST\n", keyid);
		else
			printf("; MANIFEST not signed (no evidence_key in the config)\ncheck: sha256sum -c MANIFEST\n");
	}
	evidence_release(&ev);
	return rc;
}

static int check_evidence(const struct cmd_args *a)
{
	int rc = check_run_id(a);
	if (!rc && !opt_value(a, 'o') && !opt_value(a, 't'))
		rc = usage_error("evidence", "where to? give -o DIR (a new folder) or --tar FILE");
	return rc;
}

static int cmd_evidence(const struct cmd_args *a)
{
	return write_evidence(runner_history(), runner_run(), opt_value(a, 'o'), opt_value(a, 't'), 1);
}

static const struct opt evidence_options[] = {
	{ 'o', "output", "DIR", "write the bundle into DIR (a new or empty folder)" },
	{ 't', "tar", "FILE", "write the bundle as one tar archive" },
	{ OPT_CENTRAL, "central", NULL, CENTRAL_OPT_HELP },
	OPT_END
};

const struct cmd cmd_evidence_entry = {
	"evidence", cmd_evidence, "RUN_ID",
	"write a run's signed evidence bundle for an auditor",
	evidence_options,
	"evidence 3f9c2a -o evidence/3f9c2a\n"
	"evidence 3f9c2a --tar evidence-3f9c2a.tar",
	NEED_CONFIG | NEED_RUN | CENTRAL_WITH_TREND | CENTRAL_WITH_AUDIT, check_evidence,
};
