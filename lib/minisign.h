/*
 * minisign's key and signature formats over OpenSSL's libcrypto (Ed25519,
 * BLAKE2b-512), so Debian's `minisign` verifies what lifeboat signs and
 * lifeboat verifies what `minisign -S` signs, prehashed ("ED") or legacy
 * ("Ed"). The only file that does signature cryptography; it reads and
 * hashes files but writes none and prints nothing.
 *
 *   NAME.pub      untrusted comment: ...\n base64("Ed" ‖ key id ‖ public key)\n
 *   NAME.key      untrusted comment: ...\n base64 of minisign's unencrypted
 *                 secret key ("Ed" ‖ "\0\0" ‖ "B2" ‖ salt ‖ limits ‖ key id ‖
 *                 seed ‖ public key ‖ checksum), as `minisign -G -W` writes it
 *   FILE.minisig  untrusted comment: ...\n base64(alg ‖ key id ‖ signature)\n
 *                 trusted comment: ...\n base64(signature of sig ‖ comment)\n
 *
 * Errors: functions return 0 or -1 with *err (xmalloc'd) saying what is
 * wrong in words a person acts on.
 */
#ifndef LB_MINISIGN_H
#define LB_MINISIGN_H
#include <stddef.h>

#define MINISIGN_KEYNUM 8
#define MINISIGN_TRUSTED_MAX 8192	/* minisign's own limit on a trusted comment */

/*
 * For a process that only signs or verifies (keygen, sign, verify): OpenSSL
 * started without the system's openssl.cnf, which configures TLS and
 * providers these algorithms do not need, without the table of every
 * cipher and digest by name (the two used are fetched directly), and
 * without its clean-up at exit.
 * Call it first; later TLS users (libcurl, libpq) still load the config.
 */
void minisign_init_alone(void);

struct minisign_pub {
	unsigned char keynum[MINISIGN_KEYNUM];
	unsigned char pk[32];
};

struct minisign_sec {
	unsigned char keynum[MINISIGN_KEYNUM];
	unsigned char seed[32];
	unsigned char pk[32];
};

struct minisign_sig {
	int prehashed;			/* "ED": signs BLAKE2b-512 of the file; 0: "Ed", the file */
	unsigned char keynum[MINISIGN_KEYNUM];
	unsigned char sig[64];
	char *trusted;			/* the trusted comment, without its prefix; owned */
	unsigned char global_sig[64];	/* signs sig ‖ trusted */
};

/* The key id as minisign prints it: 16 upper-case hex digits (the 8 bytes little-endian). */
void minisign_keyid(const unsigned char keynum[MINISIGN_KEYNUM], char out[17]);

/* A new key pair from the system's random generator. */
int minisign_keygen(struct minisign_sec *sk, struct minisign_pub *pk, char **err);
/* The files' texts (owned); comment: the untrusted comment's text (one line). */
char *minisign_pub_format(const struct minisign_pub *pk, const char *comment);
char *minisign_sec_format(const struct minisign_sec *sk, const char *comment);

/* Parsers of the files' texts (len bytes, need not end in NUL); what names the file. */
int minisign_pub_parse(const char *text, size_t len, const char *what, struct minisign_pub *out,
		       char **err);
int minisign_sec_parse(const char *text, size_t len, const char *what, struct minisign_sec *out,
		       char **err);
int minisign_sig_parse(const char *text, size_t len, const char *what, struct minisign_sig *out,
		       char **err);
void minisign_sig_release(struct minisign_sig *sig);
/* The same, read from path (a file of at most a few KiB). */
int minisign_pub_load(const char *path, struct minisign_pub *out, char **err);
int minisign_sec_load(const char *path, struct minisign_sec *out, char **err);
int minisign_sig_load(const char *path, struct minisign_sig *out, char **err);
/* The same, also giving the file's text (owned) in *text. */
int minisign_sig_load_text(const char *path, struct minisign_sig *out, char **text, char **err);

/*
 * Signs data (or the file at path, streamed) in the prehashed format with
 * the trusted comment given (one line) and returns the .minisig text
 * (owned) in *out.
 */
int minisign_sign(const struct minisign_sec *sk, const void *data, size_t len,
		  const char *trusted, char **out, char **err);
int minisign_sign_file(const struct minisign_sec *sk, const char *path, const char *trusted,
		       char **out, char **err);
/*
 * The default trusted comment, minisign's own: "timestamp:T\tfile:NAME\thashed"
 * (owned): the file's name is signed, so a renamed file is told apart. NAME
 * is path as given when it is relative and only goes down (the folders are
 * signed too, so a file of the same name from another folder is told
 * apart), else its base name, as minisign writes it.
 */
char *minisign_default_trusted(const char *path);

/*
 * Checks sig against data (or the file at path, streamed when prehashed)
 * and pk: the key ids match, the signature is the file's, the trusted
 * comment is the one signed.
 */
int minisign_verify(const struct minisign_pub *pk, const struct minisign_sig *sig,
		    const void *data, size_t len, char **err);
int minisign_verify_file(const struct minisign_pub *pk, const struct minisign_sig *sig,
			 const char *path, char **err);

/*
 * A field of a trusted comment ("name:value", fields separated by tabs, as
 * minisign writes "timestamp:..\tfile:..\thashed"): 1 with *val and *len
 * pointing into sig->trusted, or 0 when absent.
 */
int minisign_trusted_field(const char *trusted, const char *name, const char **val, size_t *len);

/* The key among keys[n] whose id made sig, or NULL. */
const struct minisign_pub *minisign_key_for(const struct minisign_pub *keys, size_t n,
					    const struct minisign_sig *sig);
/*
 * The trusted comment's file: field must be path's base name, or, when it
 * names folders too ("runbooks/prod/util.lua"), the end of path's real path:
 * a signature of another file (renamed, or from another folder) does not count.
 */
int minisign_check_name(const struct minisign_sig *sig, const char *path, char **err);

/* BLAKE2b-512 of the file at path, streamed (flat memory), as 128 hex digits. */
int minisign_blake2b_file(const char *path, char out[129], char **err);

/* Strict base64 (standard alphabet, padding required). Decode: bytes written or -1. */
char *minisign_base64(const unsigned char *data, size_t len);
long minisign_unbase64(const char *text, size_t len, unsigned char *out, size_t cap);

#endif
