/* `lifeboat abort RUN_ID`: stop a running run from any terminal; its cleanup phases still run. */
#include "act.h"
#include "runner.h"

int cmd_abort(int argc, char **argv)
{
	const char *id = NULL;
	for (int i = 1; i < argc; i++) {
		int g = global_option(argc, argv, &i, "abort");
		if (g < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		if (is_help(argv[i])) {
			print_cmd_help("abort");
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return usage_error("abort", "unknown option '%s'", argv[i]);
		if (id)
			return usage_error("abort", "one run at a time");
		id = argv[i];
	}
	if (!id)
		return usage_error("abort", "no run id given");
	return act_on_run("abort", id, "abort", NULL, NULL);
}
