/* relink: run the linker on the frozen image and the new inputs, write the
 * result around the old bytes, prove the old bytes are intact, rename. */
#include "relink/relink.h"
#include "relink/patch.h"	/* patching: --replace, --wrap */

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct copyarg {
	const struct image *img;
	int fd;
};

static int copy_old(void *arg)
{
	const struct copyarg *ca = arg;

	return output_copy_loads(ca->img, ca->fd);
}

int relink_run(struct image *img, const char *obj, const char *script, const struct relink_opts *o)
{
	const char *dir = tmp_dir();
	char *hook = NULL, *linked_path = NULL;
	struct outfile out = { .fd = -1 };
	struct verify_report rep;
	struct linked l = { .fd = -1 };
	edit_vec edits = { 0 };
	int err = -1;
	size_t i;
	/* patching: the plan rides on a copy of the options; the linker also
	 * gets the trampolines' object, the note records only the user's inputs. */
	struct relink_opts po = *o, lo;
	struct patch_plan *plan = NULL;
	struct bgjob copy = { 0 };
	struct copyarg ca;

	if (!dir)
		return -1;
	linked_path = xasprintf("%s/linked", dir);
	if (!linked_path)
		goto out;
	if (o->inputs.n) {
		hook = xasprintf("%s/hook.o", dir);
		if (!hook || hook_write_object(img, hook))
			goto out;
	}
	/* patching: check every --replace/--wrap and write the trampolines before the link. */
	if (patch_plan_make(img, o, dir, &plan))
		goto out;
	po.patch_plan = plan;
	lo = po;
	if (plan) {
		struct input in = { IN_FILE, plan->obj };

		memset(&lo.inputs, 0, sizeof(lo.inputs));
		if (VEC_PUSH(&lo.inputs, in))
			goto out;
		for (i = 0; i < o->inputs.n; i++)
			if (VEC_PUSH(&lo.inputs, o->inputs.v[i]))
				goto out;
	}
	/* The old bytes go to the output while the linker resolves the new code
	 * against the pinned old sections. */
	if (outfile_open(&out, o->output, o->mode))
		goto out;
	ca = (struct copyarg){ img, out.fd };
	bg_start(&copy, copy_old, &ca);
	if (ld_run(&lo, img, obj, hook, script, linked_path) || linked_open(&l, img, linked_path))
		goto out;
	if (plan && patch_resolve(plan, img, &l))
		goto out;
	o = &po;
	if ((errno = bg_wait(&copy))) {
		pr_err(o->output, "cannot write: %m");
		goto out;
	}

	/* Write: around the old bytes, new segments after them. */
	if (!l.secs.n) {
		pr_info("nothing new to add: the output is a copy of %s", img->path);
		if (img->fd >= 0 ? copy_range(img->fd, 0, out.fd, 0, img->size) :
		    write_all(out.fd, img->data, img->size, 0)) {
			pr_err(o->output, "cannot write: %m");
			goto out;
		}
	} else if (output_write(img, &l, o, out.fd, &edits)) {
		goto out;
	}

	/* Prove: every old loaded byte is unchanged but for the recorded edits. */
	if (verify_fd(img, out.fd, o->output, &edits, &rep))
		goto out;
	if (rep.bad) {
		char where[128];

		image_addr_name(img, rep.first_bad, where, sizeof(where));
		pr_err(o->output, "verification failed: the byte at 0x%llx (%s) changed and no edit explains it",
		       (unsigned long long)rep.first_bad, where);
		goto out;
	}
	for (i = 0; i < edits.n; i++) {
		char where[128];

		image_addr_name(img, edits.v[i].addr, where, sizeof(where));
		pr_info("edit 0x%llx-0x%llx (%s): %s", (unsigned long long)edits.v[i].addr,
			(unsigned long long)(edits.v[i].addr + edits.v[i].size), where, edits.v[i].reason);
	}
	pr_info("verified: %llu old bytes compared, %llu changed, all by the %zu recorded edits",
		(unsigned long long)rep.compared, (unsigned long long)rep.differing, edits.n);
	err = outfile_commit(&out);
out:
	bg_wait(&copy);
	if (err && out.tmp)
		outfile_abort(&out);
	linked_close(&l);
	if (plan)
		VEC_FREE(&lo.inputs);
	patch_plan_free(plan);
	VEC_FREE(&edits);
	free(hook);
	free(linked_path);
	return err;
}
