/* The host program of t-real-libs: built on its own, then given a plugin
 * by `surgeon add-lib`, and compared with the same program linked with the
 * plugin from source by gcc. The plugin's constructor sets plugin_hook.
 * The program owns some of the C library's variables (it uses opterr and
 * stderr, so a normal link gives it their copies), writes one before the
 * plugin runs and reads another after. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void (*plugin_hook)(int argc, char **argv);

int main(int argc, char **argv)
{
	opterr = 5;			/* old code writes, new code reads */
	fprintf(stderr, "app: started\n");
	if (plugin_hook)
		plugin_hook(argc, argv);
	else
		printf("app: no plugin\n");
	printf("app: opterr is %d after the plugin\n", opterr);	/* new code wrote it */
	fflush(stdout);
	return 3;
}
