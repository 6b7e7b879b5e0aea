/*
 * Which signatures a run requires and accepts (SPEC 9): the keys in force
 * (the machine policy's when it names any or requires signatures for this
 * run, else the config's trust.keys),
 * whether this run needs signed code (its environment's require_signed, or
 * the machine policy), and the check of one file's exact bytes against
 * FILE.minisig: a trusted key, a valid signature, a trusted comment that
 * names this file (a renamed one, or one from another folder, does not
 * pass), and, with the history at hand, a signature no older than one this
 * file already ran with (an older signed version copied back does not pass).
 */
#ifndef LB_TRUST_H
#define LB_TRUST_H
#include <stddef.h>

#include "config.h"
#include "minisign.h"

struct store;

struct trust {
	const struct minisign_pub *keys;	/* borrowed from the config or the policy */
	char *const *key_files;
	size_t nkeys;
	const char *policy_keys;		/* the policy's path when its keys are in force */
	int required;				/* this run needs signed code */
	char *required_by;			/* why, for messages (owned); NULL when not required */
	struct store *seen;			/* borrowed: the history of earlier runs; NULL: no rollback check */
};

/* cfg and pol may be NULL; env is the run's environment (NULL: none). */
void trust_init(struct trust *t, const struct config *cfg, const struct config_policy *pol,
		const char *env);
void trust_release(struct trust *t);

/*
 * One file's signature: 0 signed by a trusted key (signed_by set, and
 * *signature the signature's text (owned) when signature is not NULL), 1 not
 * signed (no FILE.minisig), -1 a signature that does not count (*why says
 * why: bad, untrusted key, another file's, older than one already run).
 */
int trust_status(const struct trust *t, const char *path, const char *data, size_t len,
		 char signed_by[17], char **signature, char **why);

/*
 * The Lua host's verifier (luahost_verify_fn, ud a struct trust): when
 * signatures are required, refuses a file without a counting one; when not,
 * only notes the key id of a file that happens to be signed.
 */
int trust_verify(void *ud, const char *path, const char *data, size_t len, char signed_by[17],
		 char **signature, char **why);

#endif
