#include <stdio.h>
#include <string.h>
#include <expat.h>
extern void (*plugin_hook)(int argc, char **argv);
static int depth;
static void XMLCALL start(void *ud, const XML_Char *name, const XML_Char **attr)
{
	(void)ud;
	printf("expat: %*s<%s%s%s>\n", depth * 2, "", name, attr[0] ? " " : "", attr[0] ? attr[0] : "");
	depth++;
}
static void XMLCALL end(void *ud, const XML_Char *name) { (void)ud; (void)name; depth--; }
static void run(int argc, char **argv)
{
	const char *doc = "<a x='1'><b><c/></b><d y='2'/></a>";
	XML_Parser p = XML_ParserCreate(NULL);

	XML_SetElementHandler(p, start, end);
	if (XML_Parse(p, doc, strlen(doc), 1) == XML_STATUS_ERROR)
		printf("expat: error %s\n", XML_ErrorString(XML_GetErrorCode(p)));
	XML_ParserFree(p);
	printf("expat: %s\n", XML_ExpatVersion());
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }
