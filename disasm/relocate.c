/* Moving displaced instructions, and finding branches into a range. */
#include "disasm/internal.h"

#include <elf.h>

#include <stdio.h>
#include <string.h>

#include "util/util.h"

int disasm_cover(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, size_t need, size_t *len,
		 char *why, size_t whylen)
{
	size_t off = 0;
	struct insn in;

	while (off < need) {
		if (off >= size || disasm_one(d, code + off, size - off, addr + off, &in)) {
			snprintf(why, whylen, "the bytes at 0x%llx are not an instruction",
				 (unsigned long long)(addr + off));
			return -1;
		}
		off += in.len;
	}
	*len = off;
	return 0;
}

static size_t prefix_len(const struct insn *in)
{
	size_t p = 0;

	while (p < in->len && (memchr("\x66\x67\xf0\xf2\xf3\x2e\x36\x3e\x26\x64\x65", in->bytes[p], 11) ||
			       (in->bytes[p] & 0xf0) == 0x40))
		p++;
	return p;
}

static int put_fix(struct relocated *r, uint32_t off, uint64_t target, int64_t bias)
{
	if (r->nfix >= RELOC_MAX_FIX)
		return -1;
	r->fix[r->nfix++] = (struct reloc_fix){ .off = off, .target = target, .bias = bias, .rel = REL_PC32 };
	return 0;
}

/* A relative branch as its rel32 form, aimed at its old target. */
static int move_branch(const struct insn *in, struct relocated *r, char *why, size_t whylen)
{
	size_t p = prefix_len(in);
	uint8_t op = p < in->len ? in->bytes[p] : 0, op2 = p + 1 < in->len ? in->bytes[p + 1] : 0;
	uint8_t enc[2];
	size_t n;

	if (op == 0xe8 || op == 0xe9 || op == 0xeb) {
		enc[0] = op == 0xe8 ? 0xe8 : 0xe9;
		n = 1;
	} else if (op >= 0x70 && op <= 0x7f) {
		enc[0] = 0x0f;
		enc[1] = 0x80 | (op & 0x0f);
		n = 2;
	} else if (op == 0x0f && op2 >= 0x80 && op2 <= 0x8f) {
		enc[0] = 0x0f;
		enc[1] = op2;
		n = 2;
	} else {
		snprintf(why, whylen, "'%s %s' at 0x%llx has no 32-bit form to move it with", in->mnemonic,
			 in->operands, (unsigned long long)in->addr);
		return -1;
	}
	if (r->len + n + 4 > RELOC_MAX_CODE)
		return -1;
	memcpy(r->code + r->len, enc, n);
	r->len += n;
	memset(r->code + r->len, 0, 4);
	if (put_fix(r, r->len, in->target, -4))
		return -1;
	r->len += 4;
	return 0;
}

/* An instruction with a RIP-relative operand: the same bytes, its disp32
 * found by value (it follows ModRM; an immediate may come after it). */
static int move_rip(const struct insn *in, struct relocated *r, char *why, size_t whylen)
{
	int32_t disp = (int32_t)(in->mem_addr - (in->addr + in->len));
	size_t found = 0, pos = 0;

	for (size_t p = 1; p + 4 <= in->len; p++) {
		int32_t v;

		memcpy(&v, in->bytes + p, 4);
		if (v == disp) {
			found++;
			pos = p;
		}
	}
	if (found != 1 || r->len + in->len > RELOC_MAX_CODE) {
		snprintf(why, whylen, "cannot locate the displacement of '%s %s' at 0x%llx", in->mnemonic,
			 in->operands, (unsigned long long)in->addr);
		return -1;
	}
	memcpy(r->code + r->len, in->bytes, in->len);
	memset(r->code + r->len + pos, 0, 4);
	if (put_fix(r, r->len + pos, in->mem_addr, -(int64_t)(in->len - pos)))
		return -1;
	r->len += in->len;
	return 0;
}

int disasm_relocate(struct disasm *d, const uint8_t *code, size_t len, uint64_t addr, struct relocated *out,
		    char *why, size_t whylen)
{
	size_t off = 0;
	struct insn in;

	if (d->machine == EM_AARCH64)
		return a64_relocate(d, code, len, addr, out, why, whylen);
	memset(out, 0, sizeof(*out));
	if (whylen)
		why[0] = 0;
	while (off < len) {
		int err;

		if (disasm_one(d, code + off, len - off, addr + off, &in)) {
			snprintf(why, whylen, "the bytes at 0x%llx are not an instruction",
				 (unsigned long long)(addr + off));
			return -1;
		}
		if (in.undecoded) {
			snprintf(why, whylen, "the instruction at 0x%llx is one capstone cannot decode",
				 (unsigned long long)in.addr);
			return -1;
		}
		if (in.has_target && !in.mem_indirect) {
			if (in.target > addr && in.target < addr + len) {
				snprintf(why, whylen, "'%s' at 0x%llx branches to 0x%llx, inside the displaced bytes",
					 in.mnemonic, (unsigned long long)in.addr, (unsigned long long)in.target);
				return -1;
			}
			err = move_branch(&in, out, why, whylen);
		} else if (in.rip_mem) {
			err = move_rip(&in, out, why, whylen);
		} else if (out->len + in.len <= RELOC_MAX_CODE) {
			memcpy(out->code + out->len, in.bytes, in.len);
			out->len += in.len;
			err = 0;
		} else {
			err = -1;
		}
		if (err) {
			if (!*why)
				snprintf(why, whylen, "too many displaced instructions");
			return -1;
		}
		off += in.len;
	}
	out->moved_len = out->len;
	/* Back to the first byte the patch leaves alone. */
	if (out->len + 5 > RELOC_MAX_CODE || put_fix(out, out->len + 1, addr + len, -4)) {
		snprintf(why, whylen, "too many displaced instructions");
		return -1;
	}
	out->code[out->len] = 0xe9;
	memset(out->code + out->len + 1, 0, 4);
	out->len += 5;
	return 0;
}

struct sweep {
	uint64_t start, end;
	const uint8_t *bytes;
};

static void check_branch(const struct insn *in, struct branch_guard *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (g[i].from || in->target <= g[i].lo || in->target >= g[i].hi)
			continue;
		if (in->addr >= g[i].lo && in->addr < g[i].hi)
			continue;	/* the displaced code itself: disasm_relocate judges it */
		g[i].from = in->addr;
	}
}

static void sweep_span(struct disasm *d, const struct symindex *ix, const struct sweep *sp, struct branch_guard *g,
		       size_t n)
{
	uint64_t addr = sp->start, lim = 0;
	struct insn in;

	while (addr < sp->end) {
		if (addr >= lim) {
			lim = symindex_next(ix, addr);
			if (lim > sp->end)
				lim = sp->end;
		}
		if (disasm_one(d, sp->bytes + (addr - sp->start), lim - addr, addr, &in)) {
			addr++;
			continue;
		}
		if (in.has_target && !in.mem_indirect)
			check_branch(&in, g, n);
		addr += in.len;
	}
}

int disasm_branches_into(struct disasm *d, const struct image *img, const struct symindex *ix,
			 struct branch_guard *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		g[i].from = 0;
	for (i = 1; i < img->shnum; i++) {
		const struct section *s = &img->secs[i];
		struct sweep sp = { s->sh.sh_addr, s->sh.sh_addr + s->sh.sh_size, img->data + s->sh.sh_offset };

		if ((s->sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) != (SHF_ALLOC | SHF_EXECINSTR) ||
		    s->sh.sh_type == SHT_NOBITS || !s->sh.sh_size)
			continue;
		sweep_span(d, ix, &sp, g, n);
	}
	if (img->shnum)
		return 0;
	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];
		struct sweep sp = { ph->p_vaddr, ph->p_vaddr + ph->p_filesz, img->data + ph->p_offset };

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && ph->p_filesz)
			sweep_span(d, ix, &sp, g, n);
	}
	return 0;
}
