/* relink: run the linker on the frozen image and the new inputs, write the
 * result around the old bytes, prove the old bytes are intact, rename. */
#include "relink/relink.h"
#include "relink/patch.h"	/* patching: --replace, --wrap */
#include "unexec/dwarf.h"
#include "unexec/unexec.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int copy_old(void *arg)
{
	const struct relink_out *ro = arg;

	return output_copy_loads(ro->img, ro->file.fd);
}

int relink_begin(struct relink_out *ro, const struct image *img, const struct relink_opts *o)
{
	memset(ro, 0, sizeof(*ro));
	ro->file.fd = -1;
	ro->img = img;
	if (outfile_open(&ro->file, o->output, o->mode))
		return -1;
	bg_start(&ro->copy, copy_old, ro);
	return 0;
}

void relink_abandon(struct relink_out *ro)
{
	bg_wait(&ro->copy);
	if (ro->file.tmp)
		outfile_abort(&ro->file);
}

int relink_run(struct image *img, const char *obj, const char *script, const struct relink_opts *o,
	       struct relink_out *ro)
{
	const char *dir = tmp_dir();
	char *hook = NULL, *linked_path = NULL, *script2 = NULL;
	uint64_t tls_pad = 0;
	struct outfile *out = &ro->file;
	struct verify_report rep;
	struct linked l = { .fd = -1 };
	edit_vec edits = { 0 };
	int err = -1;
	size_t i;
	/* patching: the plan rides on a copy of the options; the linker also
	 * gets the trampolines' object, the note records only the user's inputs. */
	struct relink_opts po = *o, lo = *o;
	struct patch_plan *plan = NULL;

	if (!dir)
		goto out;
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
	/* The linker resolves the new code against the pinned old sections
	 * (the old bytes are meanwhile copied to the output: relink_begin). */
	if (ld_run(&lo, img, obj, hook, script, linked_path) || linked_open(&l, img, linked_path))
		goto out;
	/* Linked again when the first link shows what the script could not
	 * know: a variable the program has under one name and the new code
	 * uses under another (the program's copy serves both), new
	 * thread-local variables a linker laid out without the padding the
	 * old block's offsets need (lld, gold). */
	if (img->dyn.present && img->interp && dyn_copy_aliases(img, &l, &lo.ld_extra))
		goto out;
	if (tls_pad_needed(&l, img, &tls_pad))
		goto out;
	if (lo.ld_extra.n || tls_pad) {
		if (tls_pad) {
			script2 = xasprintf("%s/image-tls.ld", dir);
			if (!script2 || unexec_write_script_tls(img, script2, tls_pad))
				goto out;
			script = script2;
		}
		linked_close(&l);
		if (ld_run(&lo, img, obj, hook, script, linked_path) || linked_open(&l, img, linked_path))
			goto out;
	}
	if (tls_plan(&l, img))
		goto out;
	if (plan && patch_resolve(plan, img, &l))
		goto out;
	if (eh_hdr_plan(&l, img, plan))
		goto out;
	/* The old variables' offsets in the debug info move too: it is read
	 * now if it was not (a damaged one only costs gdb those variables). */
	if (l.tls.shift && !img->dwarf && image_load_dwarf(img))
		goto out;
	if (libs_check_duplicates(o->libs, img, &l, o->refs))
		goto out;
	o = &po;
	if ((errno = bg_wait(&ro->copy))) {
		pr_err(o->output, "cannot write: %m");
		goto out;
	}

	/* Write: around the old bytes, new segments after them. */
	if (!l.secs.n) {
		pr_info("nothing new to add: the output is a copy of %s", img->path);
		if ((errno = output_copy_rest(img, out->fd))) {
			pr_err(o->output, "cannot write: %m");
			goto out;
		}
	} else if (output_write(img, &l, o, out->fd, &edits)) {
		goto out;
	}

	/* Prove: every old loaded byte is unchanged but for the recorded edits. */
	if (verify_fd(img, out->fd, o->output, &edits, &rep))
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
	err = outfile_commit(out);
out:
	bg_wait(&ro->copy);
	if (err && out->tmp)
		outfile_abort(out);
	linked_close(&l);
	if (plan)
		VEC_FREE(&lo.inputs);
	for (i = 0; i < lo.ld_extra.n; i++)
		free(lo.ld_extra.v[i]);
	VEC_FREE(&lo.ld_extra);
	patch_plan_free(plan);
	VEC_FREE(&edits);
	free(hook);
	free(linked_path);
	free(script2);
	return err;
}
