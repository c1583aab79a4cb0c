#include <stdio.h>
#include <sqlite3.h>
extern void (*plugin_hook)(int argc, char **argv);
static int row(void *arg, int n, char **val, char **col)
{
	(void)arg;
	for (int i = 0; i < n; i++)
		printf("sqlite3: %s=%s\n", col[i], val[i] ? val[i] : "NULL");
	return 0;
}
static void run(int argc, char **argv)
{
	sqlite3 *db;
	char *err = NULL;

	printf("sqlite3: library %s\n", sqlite3_libversion());
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return;
	sqlite3_exec(db, "create table t(a integer, b text); insert into t values (1,'one'),(2,'two'),(3,'three');"
			 "select count(*) as n, sum(a) as s, group_concat(b, '+') as g from t;"
			 "select printf('%.3f', avg(a)) as avg, upper(max(b)) as m from t;", row, NULL, &err);
	if (err)
		printf("sqlite3: error %s\n", err);
	sqlite3_close(db);
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }
