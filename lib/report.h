/*
 * Reports from a run record: the JSON report of SPEC 7 and JUnit XML. The
 * same record comes from the engine at the end of a run or from the history
 * later, so any past run can be reported again.
 */
#ifndef LB_REPORT_H
#define LB_REPORT_H
#include "record.h"

#define REPORT_SCHEMA_VERSION 1

/* SPEC 7 JSON as a new string (caller frees); pretty = indented. */
char *report_json_string(const struct run_rec *run, int pretty);
/* JUnit XML as a new string (caller frees). */
char *report_junit_string(const struct run_rec *run);
/* Writes to path atomically (temp file + rename). 0, or -1 with *err (caller frees). */
int report_write_file(const char *path, const char *text, char **err);

#endif
