/* --replace getenv=my_getenv: one variable gets a fixed value, the others
 * read as unset. (No libc calls: in a static program they would be IFUNCs,
 * and in a dynamic one the replaced getenv is no longer reachable by name.) */
static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

char *my_getenv(const char *name)
{
	return same(name, "PATCH_TEST_VAR") ? "patched" : 0;
}
