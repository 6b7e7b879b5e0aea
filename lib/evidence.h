/*
 * Evidence bundles (SPEC 9): what an auditor takes away from one run, built
 * from the history alone — the reports, the runbook files exactly as run
 * (from the sources the run stored, checked against their SHA-256), the
 * audit chain segment of the run with the hash before it and the head, an
 * exercise summary (scenario, objectives, participants, results,
 * deviations, notes), and MANIFEST in `sha256sum` format. Signing MANIFEST
 * and writing the files are the caller's; nothing here prints.
 */
#ifndef LB_EVIDENCE_H
#define LB_EVIDENCE_H
#include <stddef.h>

#include "record.h"
#include "report.h"

struct store;

struct evidence_file {
	char *name;		/* relative, '/'-separated, no ".." */
	char *data;		/* owned */
	size_t len;
};

struct evidence {
	struct evidence_file *files;	/* in MANIFEST order */
	size_t n;
};

/*
 * Everything but MANIFEST and its signature for run r (a full record loaded
 * from st); trend may be NULL. 0, or -1 with *err (owned).
 */
int evidence_build(struct store *st, const struct run_rec *r, const struct report_trend *trend,
		   struct evidence *ev, char **err);
/* Adds a file (takes data). */
void evidence_add(struct evidence *ev, const char *name, char *data, size_t len);
/* MANIFEST over every file so far, `sha256sum` format, as a new string (owned). */
char *evidence_manifest(const struct evidence *ev);
/* Writes the files under dir (created; it must be empty or absent). 0, or -1 with *err. */
int evidence_write_dir(const struct evidence *ev, const char *dir, char **err);
/* One ustar archive at path, every file under prefix/. 0, or -1 with *err. */
int evidence_write_tar(const struct evidence *ev, const char *prefix, long long mtime,
		       const char *path, char **err);
void evidence_release(struct evidence *ev);

#endif
