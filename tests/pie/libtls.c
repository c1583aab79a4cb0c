/* A shared library with a TLS variable; the program reads it through
 * initial-exec TPOFF relocations. */
__thread int lib_tv = 100;
