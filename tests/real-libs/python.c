#include <Python.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	PyConfig c;

	PyConfig_InitIsolatedConfig(&c);
	c.site_import = 0;
	Py_InitializeFromConfig(&c);
	PyConfig_Clear(&c);
	PyRun_SimpleString("import sys\nprint('python:', sys.version_info[:2], sum(i * i for i in range(10)), "
			   "sorted({'b': 1, 'a': 2}), '%.2f' % 3.14159)\n");
	Py_Finalize();
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }
