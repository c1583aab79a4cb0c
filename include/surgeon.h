/* surgeon: relink executables nobody can rebuild.
 * The public interface of libsurgeon. */
#ifndef SURGEON_H
#define SURGEON_H

#define SURGEON_VERSION "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes to `path` an executable of the calling program whose data, bss,
 * brk heap and anonymous memory hold their current contents at their
 * addresses, as Emacs' unexec() did: started, it runs from its entry point
 * (main() again) with that data already initialized. A PIE becomes a
 * fixed-address executable at the address it runs at now; a glibc
 * static-pie is refused (musl's is not). Only the calling thread is dumped. Stdio buffers are flushed
 * first. Returns 0, or -1 with errno set and no file left at `path`; a
 * message saying why goes to stderr. */
int surgeon_dump_self(const char *path);

#ifdef __cplusplus
}
#endif

#endif
