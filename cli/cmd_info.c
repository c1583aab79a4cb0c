/* surgeon info: placeholder until the verb is written. */
#include "cli/cli.h"

int cmd_info(int argc, char **argv)
{
	return usage_error("info is not written yet");
}
