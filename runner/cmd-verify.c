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

int cmd_verify(int argc, char **argv)
{
	const char **pubs = xcalloc((size_t)argc, sizeof(*pubs)), **files = xcalloc((size_t)argc, sizeof(*files));
	size_t npubs = 0, nfiles = 0;
	const char *sig_opt = NULL;
	struct minisign_pub *keys = NULL;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		int g = global_option(argc, argv, &i, "verify");
		if (g < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		if (g)
			continue;
		const char *a = argv[i];
		const char **target = NULL;
		if (is_help(a)) {
			print_cmd_help("verify");
			goto out;
		} else if (!strcmp(a, "--pub") || !strcmp(a, "-p")) {
			target = &pubs[npubs++];
		} else if (!strcmp(a, "--sig") || !strcmp(a, "-x")) {
			target = &sig_opt;
		} else if (!strncmp(a, "--pub=", 6)) {
			pubs[npubs++] = a + 6;
		} else if (!strncmp(a, "--sig=", 6)) {
			sig_opt = a + 6;
		} else if (a[0] == '-' && a[1]) {
			rc = usage_error("verify", "unknown option '%s'", a);
			goto out;
		} else {
			files[nfiles++] = a;
		}
		if (target) {
			if (i + 1 >= argc) {
				rc = usage_error("verify", "option '%s' needs a value", a);
				goto out;
			}
			*target = argv[++i];
		}
	}
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
	free(files);
	return rc;
}
