/* Called through a pointer: built with or without a landing pad. */
int twice(int x) { return 2 * x; }
