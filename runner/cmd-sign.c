/*
 * `lifeboat sign --key NAME.key FILE...`: FILE.minisig beside each file, in
 * minisign's prehashed format with minisign's trusted comment
 * ("timestamp:T\tfile:NAME\thashed"), so `minisign -V` checks it and a
 * signature moved to another file's name does not pass require_signed.
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

int cmd_sign(int argc, char **argv)
{
	const char *key = NULL;
	const char **files = xcalloc((size_t)argc, sizeof(*files));
	size_t nfiles = 0;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		int g = global_option(argc, argv, &i, "sign");
		if (g < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		if (g)
			continue;
		const char *a = argv[i];
		if (is_help(a)) {
			print_cmd_help("sign");
			goto out;
		} else if (!strcmp(a, "--key") || !strcmp(a, "-k")) {
			if (i + 1 >= argc) {
				rc = usage_error("sign", "option '%s' needs a value", a);
				goto out;
			}
			key = argv[++i];
		} else if (!strncmp(a, "--key=", 6)) {
			key = a + 6;
		} else if (a[0] == '-' && a[1]) {
			rc = usage_error("sign", "unknown option '%s'", a);
			goto out;
		} else {
			files[nfiles++] = a;
		}
	}
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
	free(files);
	return rc;
}
