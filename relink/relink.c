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

bool relink_adds_code(const struct relink_opts *o)
{
	for (size_t i = 0; i < o->inputs.n; i++)
		if (o->inputs.v[i].kind != IN_LIBDIR)
			return true;
	return o->undefs.n || o->patch_reqs.n;
}

void relink_abandon(struct relink_out *ro)
{
	bg_wait(&ro->copy);
	if (ro->file.tmp)
		outfile_abort(&ro->file);
}

void relink_link_free(struct link_result *lr)
{
	linked_close(&lr->l);
	if (lr->patch)
		VEC_FREE(&lr->ldopts.inputs);
	for (size_t i = 0; i < lr->ldopts.ld_extra.n; i++)
		free(lr->ldopts.ld_extra.v[i]);
	VEC_FREE(&lr->ldopts.ld_extra);
	patch_plan_free(lr->patch);
	free(lr->hook);
	free(lr->path);
	free(lr->script);
	memset(lr, 0, sizeof(*lr));
	lr->l.fd = -1;
}

int relink_link(struct image *img, const char *obj, const char *script, const struct relink_opts *o,
		struct link_result *lr)
{
	const char *dir = tmp_dir();
	struct relink_opts *lo = &lr->ldopts;
	uint64_t tls_pad = 0;
	size_t i;

	memset(lr, 0, sizeof(*lr));
	lr->l.fd = -1;
	lr->opts = *o;
	lr->ldopts = *o;
	/* ld_extra is the link's own (the second link's): freed with the result. */
	memset(&lo->ld_extra, 0, sizeof(lo->ld_extra));
	if (!dir || !(lr->path = xasprintf("%s/linked", dir)))
		return -1;
	/* Without new code the thunks would be new sections of their own. */
	if (relink_adds_code(o)) {
		lr->hook = xasprintf("%s/hook.o", dir);
		if (!lr->hook || hook_write_object(img, lr->hook))
			return -1;
	}
	/* patching: check every --replace/--wrap and write the trampolines
	 * before the link; the linker also gets the trampolines' object, the
	 * note records only the user's inputs. */
	if (patch_plan_make(img, o, dir, &lr->patch))
		return -1;
	lr->opts.patch_plan = lo->patch_plan = lr->patch;
	if (lr->patch) {
		struct input in = { IN_FILE, lr->patch->obj };

		memset(&lo->inputs, 0, sizeof(lo->inputs));
		if (VEC_PUSH(&lo->inputs, in))
			return -1;
		for (i = 0; i < o->inputs.n; i++)
			if (VEC_PUSH(&lo->inputs, o->inputs.v[i]))
				return -1;
	}
	/* The linker resolves the new code against the pinned old sections
	 * (the old bytes are meanwhile copied to the output: relink_begin). */
	if (ld_run(lo, img, obj, lr->hook, script, lr->path) || linked_open(&lr->l, img, lr->path))
		return -1;
	/* Linked again when the first link shows what the script could not
	 * know: a variable the program has under one name and the new code
	 * uses under another (the program's copy serves both), new
	 * thread-local variables a linker laid out without the padding the
	 * old block's offsets need (lld, gold). */
	if (img->dyn.present && img->interp && !o->live && dyn_copy_aliases(img, &lr->l, &lo->ld_extra))
		return -1;
	if (tls_pad_needed(&lr->l, img, &tls_pad))
		return -1;
	if (lo->ld_extra.n || tls_pad) {
		if (tls_pad) {
			lr->script = xasprintf("%s/image-tls.ld", dir);
			if (!lr->script || unexec_write_script_tls(img, lr->script, tls_pad))
				return -1;
			script = lr->script;
		}
		linked_close(&lr->l);
		if (ld_run(lo, img, obj, lr->hook, script, lr->path) || linked_open(&lr->l, img, lr->path))
			return -1;
	}
	if (tls_plan(&lr->l, img))
		return -1;
	if (lr->patch && patch_resolve(lr->patch, img, &lr->l))
		return -1;
	if (eh_hdr_plan(&lr->l, img, lr->patch))
		return -1;
	/* The old variables' offsets in the debug info move too: it is read
	 * now if it was not (a damaged one only costs gdb those variables). */
	if (lr->l.tls.shift && !img->dwarf && image_load_dwarf(img))
		return -1;
	return libs_check_duplicates(o->libs, img, &lr->l, o->refs);
}

int relink_run(struct image *img, const char *obj, const char *script, const struct relink_opts *o,
	       struct relink_out *ro)
{
	struct outfile *out = &ro->file;
	struct link_result lr;
	struct output *plan = NULL;
	const edit_vec none = { 0 }, *edits = &none;
	struct verify_report rep;
	int err = -1;
	size_t i;

	if (relink_link(img, obj, script, o, &lr))
		goto out;
	o = &lr.opts;
	if ((errno = bg_wait(&ro->copy))) {
		pr_err(o->output, "cannot write: %m");
		goto out;
	}

	/* Write: around the old bytes, new segments after them. */
	if (!lr.l.secs.n) {
		pr_info("nothing new to add: the output is a copy of %s", img->path);
		if ((errno = output_copy_rest(img, out->fd))) {
			pr_err(o->output, "cannot write: %m");
			goto out;
		}
	} else if (output_plan(img, &lr.l, o, &plan) || output_emit(plan, out->fd)) {
		goto out;
	} else {
		edits = output_edits(plan);
	}

	/* Prove: every old loaded byte is unchanged but for the recorded edits. */
	if (verify_fd(img, out->fd, o->output, edits, &rep))
		goto out;
	if (rep.bad) {
		char where[128];

		image_addr_name(img, rep.first_bad, where, sizeof(where));
		pr_err(o->output, "verification failed: the byte at 0x%llx (%s) changed and no edit explains it",
		       (unsigned long long)rep.first_bad, where);
		goto out;
	}
	for (i = 0; i < edits->n; i++) {
		char where[128];

		image_addr_name(img, edits->v[i].addr, where, sizeof(where));
		pr_info("edit 0x%llx-0x%llx (%s): %s", (unsigned long long)edits->v[i].addr,
			(unsigned long long)(edits->v[i].addr + edits->v[i].size), where, edits->v[i].reason);
	}
	pr_info("verified: %llu old bytes compared, %llu changed, all by the %zu recorded edits",
		(unsigned long long)rep.compared, (unsigned long long)rep.differing, edits->n);
	err = outfile_commit(out);
out:
	bg_wait(&ro->copy);
	if (err && out->tmp)
		outfile_abort(out);
	output_free(plan);
	relink_link_free(&lr);
	return err;
}
