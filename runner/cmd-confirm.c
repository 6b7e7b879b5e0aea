/* `lifeboat confirm|decline RUN_ID [STEP]`: answer a waiting manual step from any terminal. */
#include <string.h>

#include "act.h"
#include "runner.h"

static int confirm_or_decline(int argc, char **argv, const char *kind)
{
	const char *args[2] = { NULL, NULL };
	int n = 0;
	for (int i = 1; i < argc; i++) {
		int g = global_option(argc, argv, &i, kind);
		if (g < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		if (is_help(argv[i])) {
			print_cmd_help(kind);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return usage_error(kind, "unknown option '%s'", argv[i]);
		if (n == 2)
			return usage_error(kind, "too many arguments");
		args[n++] = argv[i];
	}
	if (!args[0])
		return usage_error(kind, "no run id given");
	return act_on_run(kind, args[0], kind, args[1], NULL);
}

int cmd_confirm(int argc, char **argv)
{
	return confirm_or_decline(argc, argv, "confirm");
}

int cmd_decline(int argc, char **argv)
{
	return confirm_or_decline(argc, argv, "decline");
}
