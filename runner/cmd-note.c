/* `lifeboat note RUN_ID TEXT`: add a note to a running run's timeline, from any terminal. */
#include <string.h>

#include "act.h"
#include "runner.h"

int cmd_note(int argc, char **argv)
{
	const char *id = NULL;
	struct strbuf text = STRBUF_INIT;
	strbuf_init(&text, 0);
	for (int i = 1; i < argc; i++) {
		int g = global_option(argc, argv, &i, "note");
		if (g < 0) {
			strbuf_release(&text);
			return EXIT_USAGE;
		}
		if (g)
			continue;
		if (is_help(argv[i])) {
			print_cmd_help("note");
			strbuf_release(&text);
			return 0;
		}
		if (!id)
			id = argv[i];
		else
			strbuf_addf(&text, "%s%s", text.len ? " " : "", argv[i]);
	}
	if (!id || !text.len) {
		strbuf_release(&text);
		return usage_error("note", "give a run id and the note's text");
	}
	int rc = act_on_run("note", id, "note", NULL, text.buf);
	strbuf_release(&text);
	return rc;
}
