/* surgeon: relink executables nobody can rebuild.
 * The public interface of libsurgeon. */
#ifndef SURGEON_H
#define SURGEON_H

#define SURGEON_VERSION "0.1.0"

#endif
