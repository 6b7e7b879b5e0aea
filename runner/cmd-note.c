/* `lifeboat note RUN_ID TEXT`: add a note to a run's timeline from any terminal; on a finished run, a review finding. */
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "runner.h"

/* The note's words after the run id, joined by spaces (owned). */
static char *note_text(const struct cmd_args *a)
{
	struct strbuf text = STRBUF_INIT;
	strbuf_init(&text, 0);
	for (size_t i = 1; i < a->nargs; i++)
		strbuf_addf(&text, "%s%s", text.len ? " " : "", a->args[i]);
	return strbuf_detach(&text);
}

static int check_note(const struct cmd_args *a)
{
	char *text = note_text(a);
	int rc = *text ? 0 : usage_error("note", "give a run id and the note's text");
	free(text);
	return rc;
}

static int cmd_note(const struct cmd_args *a)
{
	char *text = note_text(a);
	int rc = act_on_run("note", "note", NULL, text);
	free(text);
	/* a finished run's process no longer sends: the note goes to the team history from here */
	if (!rc)
		finish_central(start_central());
	return rc;
}

static const struct opt note_options[] = { OPT_END };

const struct cmd cmd_note_entry = {
	"note", cmd_note, "RUN_ID TEXT...", "add a note to a run's timeline",
	note_options,
	"note 3f9c2a \"DNS TTL was 1h, not 5m\"",
	NEED_CONFIG | NEED_RUN, check_note,
};
