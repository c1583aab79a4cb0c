/* Plugin for exports.c: two exports that use the program's globals. */
extern int counter;
int add(int);
int plug_entry(int x) { return add(x) * 100; }
int plug_other(int x) { return x + 1000; }
