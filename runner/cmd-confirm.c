/* `lifeboat confirm|decline RUN_ID [STEP]`: answer a waiting manual step from any terminal. */
#include <string.h>

#include "act.h"
#include "runner.h"

static int check_confirm(const struct cmd_args *a)
{
	if (a->nargs > 2)
		return usage_error(a->cmd->name, "too many arguments");
	if (!a->nargs)
		return usage_error(a->cmd->name, "no run id given");
	return 0;
}

static int cmd_confirm(const struct cmd_args *a)
{
	return act_on_run("confirm", "confirm", a->nargs > 1 ? a->args[1] : NULL, NULL);
}

static int cmd_decline(const struct cmd_args *a)
{
	return act_on_run("decline", "decline", a->nargs > 1 ? a->args[1] : NULL, NULL);
}

static const struct opt confirm_options[] = { OPT_END };

const struct cmd cmd_confirm_entry = {
	"confirm", cmd_confirm, "RUN_ID [STEP]", "confirm a waiting manual step, from any terminal",
	confirm_options,
	"confirm 3f9c2a\n"
	"--as alice confirm 3f9c2a \"promote replica\"",
	NEED_CONFIG | NEED_RUN, check_confirm,
};

const struct cmd cmd_decline_entry = {
	"decline", cmd_decline, "RUN_ID [STEP]", "decline a waiting manual step",
	confirm_options,
	"decline 3f9c2a",
	NEED_CONFIG | NEED_RUN, check_confirm,
};
