#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	const char *doc = "<?xml version='1.0'?><r><item n='1'>one</item><item n='2'>two</item></r>";
	xmlDocPtr d = xmlReadMemory(doc, strlen(doc), "t.xml", NULL, 0);
	int n = 0;

	if (!d) {
		printf("xml2: parse failed\n");
		return;
	}
	for (xmlNodePtr c = xmlDocGetRootElement(d)->children; c; c = c->next) {
		xmlChar *t = xmlNodeGetContent(c), *a = xmlGetProp(c, (const xmlChar *)"n");

		printf("xml2: item %s = %s\n", a, t);
		xmlFree(t);
		xmlFree(a);
		n++;
	}
	xmlFreeDoc(d);
	xmlCleanupParser();
	printf("xml2: %d items, libxml %s\n", n, LIBXML_DOTTED_VERSION);
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }
