/*
 * `lifeboat verify --pub KEY.pub FILE...`: checks FILE.minisig (minisign's
 * prehashed or legacy format, made by lifeboat sign or minisign -S) against
 * the public key(s) given. Exit 0 when every file verifies, 1 when one does
 * not, 2 when a key cannot be read.
 */
#include <stdlib.h>
#include <string.h>

#include "minisign.h"
#include "runner.h"

static int cmd_verify(const struct cmd_args *a)
{
	const char **pubs = xcalloc(a->nopts + 1, sizeof(*pubs));
	const char *const *files = a->args;
	size_t npubs = 0, nfiles = a->nargs;
	const char *sig_opt = opt_value(a, 'x');
	struct minisign_pub *keys = NULL;
	int rc = 0;
	for (size_t i = 0; i < a->nopts; i++)
		if (a->opts[i].id == 'p')
			pubs[npubs++] = a->opts[i].value;
	if (!npubs) {
		rc = usage_error("verify", "give the public key: --pub KEY.pub");
		goto out;
	}
	if (!nfiles) {
		rc = usage_error("verify", "no file to verify given");
		goto out;
	}
	if (sig_opt && nfiles > 1) {
		rc = usage_error("verify", "--sig names the signature of one file");
		goto out;
	}
	keys = xcalloc(npubs, sizeof(*keys));
	char *err = NULL;
	for (size_t i = 0; i < npubs; i++) {
		if (minisign_pub_load(pubs[i], &keys[i], &err)) {
			errorf("%s", err);
			free(err);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	for (size_t i = 0; i < nfiles; i++) {
		char *sig_path = sig_opt ? xstrdup(sig_opt) : xasprintf("%s.minisig", files[i]);
		struct minisign_sig sig;
		const struct minisign_pub *pk = NULL;
		char keyid[17] = "";
		if (!minisign_sig_load(sig_path, &sig, &err)) {
			minisign_keyid(sig.keynum, keyid);
			pk = minisign_key_for(keys, npubs, &sig);
			if (!pk && npubs > 1)
				err = xasprintf("signed by key %s, which is none of the %zu public keys given",
						keyid, npubs);
			else if (!minisign_verify_file(pk ? pk : &keys[0], &sig, files[i], &err))
				err = NULL;
		}
		if (err) {
			errorf("%s: %s", files[i], err);
			free(err);
			err = NULL;
			rc = 1;
		} else if (!g_opts.quiet) {
			printf("%s: ok, signed by key %s%s\n  trusted comment: %s\n", files[i], keyid,
			       sig.prehashed ? "" : " (legacy format)", sig.trusted);
		}
		minisign_sig_release(&sig);
		free(sig_path);
	}
out:
	free(keys);
	free(pubs);
	return rc;
}

static const struct opt verify_options[] = {
	{ 'p', "pub", "FILE", "a public key (KEY.pub); repeatable: any of them may have signed" },
	{ 'x', "sig", "FILE", "the signature of the one FILE (default: FILE.minisig)" },
	OPT_END
};

const struct cmd cmd_verify_entry = {
	"verify", cmd_verify, "FILE...",
	"check each FILE.minisig against the public keys (minisign's format)",
	verify_options,
	"verify --pub keys/ci.pub runbooks/failover.lua",
	NO_SETUP, NULL,
};
