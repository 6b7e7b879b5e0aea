/*
 * `lifeboat keygen NAME`: a minisign key pair, NAME.key (the secret key,
 * unencrypted as `minisign -G -W` writes it, mode 0600) and NAME.pub. It
 * never overwrites: a lost secret key cannot be recreated, and a replaced
 * one silently invalidates every signature made with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "minisign.h"
#include "runner.h"

/* Writes text to a new file with mode; 0, or -1 (reported). */
static int write_new(const char *path, const char *text, mode_t mode)
{
	if (!write_new_file(path, text, mode))
		return 0;
	if (errno == EEXIST)
		errorf("'%s' exists: keygen never overwrites a key (move it away first, or pick another name)",
		       path);
	else
		errorf("cannot write '%s': %s", path, strerror(errno));
	return -1;
}

static int cmd_keygen(const struct cmd_args *a)
{
	if (a->nargs > 1)
		return usage_error("keygen", "one key name at a time");
	const char *name = a->nargs ? a->args[0] : NULL;
	if (!name || !*name)
		return usage_error("keygen", "give the key's name: lifeboat keygen keys/ci writes keys/ci.key and keys/ci.pub");
	struct minisign_sec sk;
	struct minisign_pub pk;
	char *err = NULL;
	if (minisign_keygen(&sk, &pk, &err)) {
		errorf("%s", err);
		free(err);
		return 1;
	}
	char keyid[17];
	minisign_keyid(pk.keynum, keyid);
	char *key_path = xasprintf("%s.key", name), *pub_path = xasprintf("%s.pub", name);
	char *sec_comment = xasprintf("lifeboat secret key %s (unencrypted: keep it where only the signer can read it)", keyid);
	char *pub_comment = xasprintf("minisign public key %s", keyid);
	char *sec_text = minisign_sec_format(&sk, sec_comment);
	char *pub_text = minisign_pub_format(&pk, pub_comment);
	OPENSSL_cleanse(&sk, sizeof(sk));
	int rc = 1;
	/* both names are checked first, so a refusal leaves nothing half made */
	if (access(key_path, F_OK) == 0 || access(pub_path, F_OK) == 0) {
		errorf("'%s' exists: keygen never overwrites a key (move it away first, or pick another name)",
		       access(key_path, F_OK) == 0 ? key_path : pub_path);
	} else if (!write_new(key_path, sec_text, 0600)) {
		if (write_new(pub_path, pub_text, 0644)) {
			unlink(key_path);
		} else {
			rc = 0;
			if (!g_opts.quiet)
				printf("key %s\nsecret key: %s (mode 0600; keep it where only the signer can read it)\npublic key: %s (list it under trust.keys; minisign -V -p %s verifies)\n",
				       keyid, key_path, pub_path, pub_path);
		}
	}
	OPENSSL_cleanse(sec_text, strlen(sec_text));
	free(sec_text);
	free(pub_text);
	free(sec_comment);
	free(pub_comment);
	free(key_path);
	free(pub_path);
	return rc;
}

static const struct opt keygen_options[] = { OPT_END };

const struct cmd cmd_keygen_entry = {
	"keygen", cmd_keygen, "NAME", "make a minisign key pair: NAME.key (secret, 0600) and NAME.pub",
	keygen_options,
	"keygen keys/ci",
	NO_SETUP, NULL,
};
