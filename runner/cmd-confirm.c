/* `lifeboat confirm|decline RUN_ID [STEP]`: answer a waiting manual step from any terminal. */
#include <string.h>

#include "act.h"
#include "runner.h"

static int confirm_or_decline(const struct cmd_args *a, const char *kind)
{
	if (a->nargs > 2)
		return usage_error(kind, "too many arguments");
	if (!a->nargs)
		return usage_error(kind, "no run id given");
	return act_on_run(kind, a->args[0], kind, a->nargs > 1 ? a->args[1] : NULL, NULL);
}

static int cmd_confirm(const struct cmd_args *a)
{
	return confirm_or_decline(a, "confirm");
}

static int cmd_decline(const struct cmd_args *a)
{
	return confirm_or_decline(a, "decline");
}

static const struct opt confirm_options[] = { OPT_END };

const struct cmd cmd_confirm_entry = {
	"confirm", cmd_confirm, "RUN_ID [STEP]", "confirm a waiting manual step, from any terminal",
	confirm_options,
	"confirm 3f9c2a\n"
	"--as alice confirm 3f9c2a \"promote replica\"",
};

const struct cmd cmd_decline_entry = {
	"decline", cmd_decline, "RUN_ID [STEP]", "decline a waiting manual step",
	confirm_options,
	"decline 3f9c2a",
};
