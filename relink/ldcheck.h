/* Which linker --ld named, asked only when the link went wrong: its own
 * message is replaced by one that says what surgeon cannot use it for. */
#ifndef SURGEON_LDCHECK_H
#define SURGEON_LDCHECK_H

#include <stdbool.h>

enum ld_kind { LD_UNKNOWN, LD_BFD, LD_GOLD, LD_LLD, LD_MOLD };

struct ld_id {
	enum ld_kind kind;
	char version[32];	/* "2.40", "1.16", "14.0.6"; empty when unknown */
	char line[160];		/* the first line `LINKER --version` printed */
};

/* Runs `prog --version` and reads its first line. */
void ld_identify(const char *prog, struct ld_id *id);
/* The linker `prog` exited with an error (msgs: its messages), or, when
 * `wrote_nothing`, exited 0 without writing its output. When that is
 * because the program is no linker surgeon knows, is mold, or did not
 * understand an option or the linker script (too old), prints one error
 * line saying so and returns -1; otherwise 0, and the caller explains. */
int ld_check_failure(const char *prog, const char *msgs, bool wrote_nothing);

#endif
