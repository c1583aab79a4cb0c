/* surgeon verify: placeholder until the verb is written. */
#include "cli/cli.h"

int cmd_verify(int argc, char **argv)
{
	return usage_error("verify is not written yet");
}
