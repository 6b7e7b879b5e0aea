/*
 * `lifeboat sign --key NAME.key FILE...`: FILE.minisig beside each file, in
 * minisign's prehashed format with minisign's trusted comment
 * ("timestamp:T\tfile:NAME\thashed", NAME with the folders of a relative
 * path that stays below this one), so `minisign -V` checks it and a
 * signature moved to another file's name or folder does not pass
 * require_signed; the timestamp orders versions (an older one is refused).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "minisign.h"
#include "report.h"
#include "runner.h"

static int cmd_sign(const struct cmd_args *a)
{
	const char *key = opt_value(a, 'k');
	const char *const *files = a->args;
	size_t nfiles = a->nargs;
	int rc = 0;
	if (!key) {
		rc = usage_error("sign", "give the secret key: --key NAME.key (made by lifeboat keygen NAME)");
		goto out;
	}
	if (!nfiles) {
		rc = usage_error("sign", "no file to sign given");
		goto out;
	}
	struct minisign_sec sk;
	char *err = NULL;
	if (minisign_sec_load(key, &sk, &err)) {
		errorf("%s", err);
		free(err);
		rc = EXIT_USAGE;
		goto out;
	}
	char keyid[17];
	minisign_keyid(sk.keynum, keyid);
	for (size_t i = 0; i < nfiles; i++) {
		struct stat sb;
		if (stat(files[i], &sb) == 0 && !S_ISREG(sb.st_mode)) {
			errorf("'%s' is not a regular file: nothing signed", files[i]);
			rc = 1;
			continue;
		}
		char *trusted = minisign_default_trusted(files[i]);
		char *text = NULL;
		if (minisign_sign_file(&sk, files[i], trusted, &text, &err)) {
			errorf("%s", err);
			free(err);
			err = NULL;
			rc = 1;
		} else {
			char *sig_path = xasprintf("%s.minisig", files[i]);
			if (report_write_file(sig_path, text, &err)) {
				errorf("cannot write '%s': %s", sig_path, err ? err : "unknown error");
				free(err);
				err = NULL;
				rc = 1;
			} else if (!g_opts.quiet) {
				printf("%s: signed by key %s → %s\n", files[i], keyid, sig_path);
			}
			free(sig_path);
		}
		free(text);
		free(trusted);
	}
	OPENSSL_cleanse(&sk, sizeof(sk));
out:
	return rc;
}

static const struct opt sign_options[] = {
	{ 'k', "key", "FILE", "the secret key (NAME.key, made by lifeboat keygen NAME)" },
	OPT_END
};

const struct cmd cmd_sign_entry = {
	"sign", cmd_sign, "FILE...", "write FILE.minisig beside each file (minisign's format)",
	sign_options,
	"sign --key keys/ci.key runbooks/*.lua",
	NO_SETUP, NULL,
};
