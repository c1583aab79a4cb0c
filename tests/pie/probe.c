/* The probe added to real programs: a constructor that writes one line to
 * stderr when SURGEON_PROBE is set (so --version output stays clean), and
 * an export, probe_fn, for programs that can call into themselves. */
#include <stdlib.h>
#include <unistd.h>
int probe_fn(int x) { return x + 1; }
__attribute__((constructor)) static void probe_init(void)
{
	static const char msg[] = "surgeon probe: constructor ran\n";
	if (getenv("SURGEON_PROBE"))
		write(2, msg, sizeof msg - 1);
}
