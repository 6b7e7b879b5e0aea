/* The audit chain's hash: SHA-256 over length-prefixed, domain-separated fields. */
#include "audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util.h"

static void put_field(EVP_MD_CTX *ctx, const char *s, size_t stored_len)
{
	unsigned char len[8];
	size_t bytes = s ? (stored_len ? stored_len : strlen(s)) : 0;
	uint64_t n = s ? (uint64_t)bytes : UINT64_MAX;	/* NULL is not "" */
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (56 - 8 * i));
	EVP_DigestUpdate(ctx, len, sizeof(len));
	if (s)
		EVP_DigestUpdate(ctx, s, bytes);
}

/*
 * SHA-256 fetched once: EVP_sha256() makes every EVP_DigestInit_ex look the
 * algorithm up again (locks, a hash table), and a run writes two audit
 * entries per step.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void audit_hash(const struct audit_entry *e, char out[65])
{
	static const char domain[] = "lifeboat-audit-v1";
	char seq[32], uid[32];
	snprintf(seq, sizeof(seq), "%lld", (long long)e->seq);
	snprintf(uid, sizeof(uid), "%lld", (long long)e->uid);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		die_oom(0);
	pthread_once(&sha256_once, sha256_fetch);
	EVP_DigestInit_ex(ctx, sha256_md ? sha256_md : EVP_sha256(), NULL);
	put_field(ctx, domain, 0);
	put_field(ctx, seq, 0);
	put_field(ctx, e->at, e->at_len);
	put_field(ctx, e->run_id, e->run_id_len);
	put_field(ctx, e->event, e->event_len);
	put_field(ctx, e->operator, e->operator_len);
	put_field(ctx, uid, 0);
	put_field(ctx, e->detail, e->detail_len);
	put_field(ctx, e->prev_hash, 0);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}

void audit_entry_release(struct audit_entry *e)
{
	free(e->at);
	free(e->run_id);
	free(e->event);
	free(e->operator);
	free(e->detail);
	e->at = e->run_id = e->event = e->operator = e->detail = NULL;
}
