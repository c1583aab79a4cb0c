/* A real library for the old program: a greeter that keeps a logbook in an
 * in-memory SQLite database. Built with gcc's default flags and added to
 * the statically linked build of the program with -lsqlite3: the C library
 * functions SQLite needs and the program lacks come from the program's own
 * libc.a, and everything the program has stays the program's. */
#include <stdio.h>
#include <sqlite3.h>

extern int visits;
extern void (*greeter)(const char *who);

static sqlite3 *db;

static int show(void *arg, int n, char **val, char **col)
{
	(void)arg;
	(void)n;
	(void)col;
	printf("logbook: %s visits by %s, the longest name has %s letters\n", val[0], val[1], val[2]);
	return 0;
}

static void logbook_greeter(const char *who)
{
	char *sql = sqlite3_mprintf("insert into log values (%Q, %d); insert into log values ('%q again', %d);",
				    who, visits, who, visits + 1);

	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	sqlite3_exec(db, "select count(*), group_concat(who, ' and '), max(length(who)) from log", show, NULL, NULL);
}

__attribute__((constructor)) static void open_logbook(void)
{
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "create table log(who text, visit integer)", NULL, NULL, NULL) != SQLITE_OK)
		return;
	printf("logbook: SQLite %s, in memory\n", sqlite3_libversion());
	greeter = logbook_greeter;
}
