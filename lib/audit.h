/*
 * The audit log's hash chain. Each entry's hash covers every field of the
 * entry and the previous entry's hash, each field length-prefixed (a NULL
 * distinct from an empty string) after a domain tag, so no two different
 * entries — or an entry moved to another place in the chain — hash alike.
 */
#ifndef LB_AUDIT_H
#define LB_AUDIT_H
#include <stddef.h>
#include <stdint.h>

#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

struct audit_entry {
	int64_t seq;		/* 1, 2, 3, ... without gaps */
	char *at;		/* ISO-8601 UTC text as stored */
	char *run_id;		/* may be NULL */
	char *event;		/* "run_started", "step_result", "confirm", ... */
	char *operator;
	int64_t uid;
	char *detail;		/* JSON text, may be NULL */
	char prev_hash[65];
	char hash[65];
	/*
	 * The text fields' lengths as stored, NUL bytes included (an entry
	 * read back from the history); 0: strlen (an entry built in memory,
	 * and the stored length of an empty field). The hash covers exactly
	 * these bytes, so text hidden after a NUL still changes it.
	 */
	size_t at_len, run_id_len, event_len, operator_len, detail_len;
};

/* The hash the entry should have, from its fields and prev_hash. */
void audit_hash(const struct audit_entry *e, char out[65]);
void audit_entry_release(struct audit_entry *e);

#endif
