/* `lifeboat abort RUN_ID`: stop a running run from any terminal; its cleanup phases still run. */
#include "act.h"
#include "runner.h"

static int cmd_abort(const struct cmd_args *a)
{
	(void)a;
	return act_on_run("abort", "abort", NULL, NULL);
}

static const struct opt abort_options[] = { OPT_END };

const struct cmd cmd_abort_entry = {
	"abort", cmd_abort, "RUN_ID", "abort a running run (cleanup phases still run)",
	abort_options,
	"abort 3f9c2a",
	NEED_CONFIG | NEED_RUN, check_run_id,
};
