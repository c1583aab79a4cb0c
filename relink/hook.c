/* The thunks that run the new code's constructors and destructors. The
 * program's last .init_array slot is pointed at the init thunk, which calls
 * what the slot held, then the new IFUNC resolvers and constructors: the
 * order a normal link of the program followed by the library would give.
 * Prioritized new constructors sort before everything else in a normal
 * link, so when there are any the first slot gets a thunk that runs them
 * before what it held. (The program's own priorities are not recorded in
 * the file, so a new constructor(150) runs before an old constructor(101)
 * too.) The fini side mirrors it. Hooking slots works alike for dynamic and
 * static glibc and musl, which all walk these arrays, and needs no change
 * to the entry point. */
#include "relink/relink.h"
#include "unexec/anchors.h"

#include <string.h>

/* The thunks' code is the arch's (arch/x86_64.c and arch/aarch64.c show it as assembly):
 * each is instantiated per hooked slot, and relocations bind A, B, I and
 * TARGET to that slot's ranges and to the function the slot held. */

/* The ranges the script brackets (unexec/script.c). Prioritized
 * constructors come first in .init_array, as in a normal link, so the
 * first slot runs them before the program's; the rest run after the last
 * slot. Destructors run backwards: the last slot (first to run) runs the
 * new unprioritized ones first, the first slot (last to run) runs the new
 * prioritized ones after everything else. */
#define IA ANCHOR_INIT_ARRAY_START
#define IP ANCHOR_INIT_PRIO_END
#define IE ANCHOR_INIT_ARRAY_END
#define FA ANCHOR_FINI_ARRAY_START
#define FP ANCHOR_FINI_PRIO_END
#define FE ANCHOR_FINI_ARRAY_END
#define RI ANCHOR_RELA_IPLT_START, ANCHOR_RELA_IPLT_END
#define RR ANCHOR_RELRO_START, ANCHOR_RELRO_END

struct thunk {
	const char *name;
	bool fini, first, entry;
	const char *sym[NROLES];
};

/* One slot holding both roles when the array has a single entry. */
static const struct thunk thunks[] = {
	{ ANCHOR_INIT_THUNK, false, false, false, { IA, IP, ANCHOR_INIT_TARGET, RI, IP, IE, RR } },
	{ ANCHOR_INIT_THUNK, false, false, false, { IA, IA, ANCHOR_INIT_TARGET, RI, IP, IE, RR } },
	{ ANCHOR_INIT_FIRST_THUNK, false, true, false, { IA, IP, ANCHOR_INIT_FIRST_TARGET, IA, IA, IA, IA, IA, IA } },
	{ ANCHOR_FINI_THUNK, true, false, false, { FP, FE, ANCHOR_FINI_TARGET, NULL, NULL, FA, FP } },
	{ ANCHOR_FINI_THUNK, true, false, false, { FP, FE, ANCHOR_FINI_TARGET, NULL, NULL, FA, FA } },
	{ ANCHOR_FINI_FIRST_THUNK, true, true, false, { FA, FA, ANCHOR_FINI_FIRST_TARGET, NULL, NULL, FA, FP } },
	{ ANCHOR_ENTRY_THUNK, false, false, true, { NULL, NULL, ANCHOR_ENTRY, RI, IA, IE, RR } },
};

static const unsigned char relro_pad[8];

int hook_write_object(const struct image *img, const char *path)
{
	const struct arch *a = img->arch;
	VEC(unsigned char) text = { 0 };
	VEC(Elf64_Rela) rela = { 0 };
	VEC(Elf64_Sym) syms = { 0 };
	struct strset *str = strset_new();
	size_t i;
	int err = -1;

	if (!str || VEC_PUSH(&syms, ((Elf64_Sym){ 0 })))
		goto out;
	for (i = 0; i < sizeof(thunks) / sizeof(*thunks); i++) {
		const struct thunk *t = &thunks[i];
		const struct hook *h = t->fini ? &img->fini : &img->init;
		bool single = h->nslots == 1;
		const struct code *c = t->entry ? &a->entry_thunk : t->fini ? &a->fini_thunk : &a->init_thunk;
		Elf64_Sym sym = {
			.st_name = strset_add(str, t->name), .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
			.st_other = STV_HIDDEN, .st_shndx = 1, .st_value = text.n, .st_size = c->len,
		};

		/* Entries 0 and 3 serve single-slot arrays, 1 and 4 the last of
		 * several; the entry thunk stands in when there is no init slot. */
		if (t->entry ? img->init.present :
		    (!h->present || (t->first && (single || !h->first_present)) ||
		     (!t->first && single != (i == 0 || i == 3))))
			continue;
		if (VEC_PUSH(&syms, sym))
			goto out;
		for (size_t k = 0; k < c->nfix; k++) {
			Elf64_Sym role = { .st_name = strset_add(str, t->sym[c->fix[k].role]),
					   .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE) };
			Elf64_Rela r = { .r_offset = text.n + c->fix[k].off,
					 .r_info = ELF64_R_INFO(syms.n, a->rel_type(c->fix[k].rel)),
					 .r_addend = a->code_addend };

			if (VEC_PUSH(&syms, role) || VEC_PUSH(&rela, r))
				goto out;
		}
		for (size_t k = 0; k < c->len; k++)
			if (VEC_PUSH(&text, c->bytes[k]))
				goto out;
	}
	err = relobj_write(path, img->arch, ".surgeon.text", text.v, text.n, rela.v, rela.n, syms.v, syms.n, str,
			   ".surgeon.relro", relro_pad, sizeof(relro_pad));
out:
	VEC_FREE(&text);
	VEC_FREE(&rela);
	VEC_FREE(&syms);
	strset_free(str);
	return err;
}

/* Which slots to point at which thunks, given what the new code brought. */
int hooks_needed(const struct image *img, const struct linked *l, struct hookplan *hp)
{
	bool isingle = img->init.nslots == 1, fsingle = img->fini.nslots == 1;
	bool want_init = l->init_unprio || l->has_irel || (isingle && l->init_prio) || l->relro;
	bool want_fini = l->fini_unprio || (fsingle && l->fini_prio);
	struct hookuse h[4];
	size_t k = 0;

	if (want_init)
		h[k++] = (struct hookuse){ &img->init, img->init.slot, l->init_thunk, "constructors",
			".init_array slot: runs the program's constructor, then the added ones" };
	if (!isingle && l->init_prio)
		h[k++] = (struct hookuse){ &img->init, img->init.first_slot, l->init_first_thunk, "constructors",
			"first .init_array slot: runs the added prioritized constructors, then the program's" };
	if (want_fini)
		h[k++] = (struct hookuse){ &img->fini, img->fini.slot, l->fini_thunk, "destructors",
			".fini_array slot: runs the added destructors, then the program's" };
	if (!fsingle && l->fini_prio)
		h[k++] = (struct hookuse){ &img->fini, img->fini.first_slot, l->fini_first_thunk, "destructors",
			"first .fini_array slot: runs the program's destructor, then the added prioritized ones" };
	/* No init slot (a Free Pascal program, say): the entry thunk runs the
	 * new constructors, all of them, before the program's entry point. */
	hp->entry = false;
	if (!img->init.present && (want_init || l->init_prio)) {
		size_t j = 0;

		if (!l->entry_thunk)
			return pr_err(l->path, "the added code has constructors, but the program has neither an "
				      ".init_array slot nor an entry point to run them from");
		hp->entry = true;
		for (size_t i = 0; i < k; i++)
			if (h[i].hook != &img->init)
				h[j++] = h[i];
		k = j;
	}
	/* No fini slot: there is no safe place to run new destructors from. */
	if (!img->fini.present && (want_fini || l->fini_prio)) {
		size_t j = 0;

		pr_warn(img->path, "has no .fini_array slot: the added code's destructors will not run");
		for (size_t i = 0; i < k; i++)
			if (h[i].hook != &img->fini)
				h[j++] = h[i];
		k = j;
	}
	for (size_t i = 0; i < k; i++) {
		if (!h[i].hook->present || !h[i].thunk)
			return pr_err(l->path, "the added code has %s, but the program has no .%s_array slot to run them from",
				      h[i].what, h[i].hook == &img->init ? "init" : "fini");
		hp->use[i] = h[i];
	}
	hp->n = k;
	return 0;
}
