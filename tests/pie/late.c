/* A library loaded after start: it needs the plugin's plug_entry and the
 * program's counter from the executable. */
extern int counter;
int plug_entry(int);
int late_fn(int x) { return plug_entry(x) + counter; }
