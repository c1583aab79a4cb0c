#include <stdio.h>
#include <string.h>
#include <yaml.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	const char *doc = "name: surgeon\nlist: [1, 2, three]\nmap: {a: b}\n";
	yaml_parser_t p;
	yaml_token_t t;
	int scalars = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)doc, strlen(doc));
	do {
		if (!yaml_parser_scan(&p, &t))
			break;
		if (t.type == YAML_SCALAR_TOKEN)
			printf("yaml: scalar %d: %s\n", ++scalars, t.data.scalar.value);
		if (t.type != YAML_STREAM_END_TOKEN)
			yaml_token_delete(&t);
		else
			break;
	} while (1);
	yaml_token_delete(&t);
	yaml_parser_delete(&p);
	printf("yaml: %s\n", yaml_get_version_string());
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }
