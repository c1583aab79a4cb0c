/* Thread-local variables' block offsets in the program's own .debug_info,
 * which relink moves when new TLS goes in front of the old block. */
#include "unexec/dwarf-int.h"

#include <dwarf.h>
#include <string.h>

static unsigned uleb_size(uint64_t v)
{
	unsigned n = 1;

	while (v >>= 7)
		n++;
	return n;
}

/* A variable whose location is its block offset for the thread's TLS
 * block: DW_OP_const8u (or const4u) OFFSET, DW_OP_form_tls_address (or
 * GNU's push_tls_address). Where the operand sits in .debug_info. */
static int tls_operand(Dwarf_Debug dbg, Dwarf_Die die, dwarf_tls_ops *out)
{
	Dwarf_Attribute a;
	Dwarf_Error err = NULL;
	Dwarf_Half form = 0;
	Dwarf_Unsigned len = 0;
	Dwarf_Ptr ptr = NULL;
	Dwarf_Block *blk = NULL;
	Dwarf_Off off = 0;
	unsigned hdr = 0, width = 0;
	const unsigned char *b;
	int r = 0;

	if (dwarf_attr(die, DW_AT_location, &a, &err) != DW_DLV_OK)
		return 0;
	if (dwarf_whatform(a, &form, &err) == DW_DLV_OK) {
		if (form == DW_FORM_exprloc && dwarf_formexprloc(a, &len, &ptr, &err) == DW_DLV_OK) {
			hdr = uleb_size(len);
		} else if ((form == DW_FORM_block1 || form == DW_FORM_block2 || form == DW_FORM_block4 ||
			    form == DW_FORM_block) && dwarf_formblock(a, &blk, &err) == DW_DLV_OK) {
			len = blk->bl_len;
			ptr = blk->bl_data;
			hdr = form == DW_FORM_block1 ? 1 : form == DW_FORM_block2 ? 2 : form == DW_FORM_block4 ? 4 :
			      uleb_size(len);
		}
	}
	b = ptr;
	if (b && len == 10 && b[0] == DW_OP_const8u && (b[9] == DW_OP_GNU_push_tls_address || b[9] == DW_OP_form_tls_address))
		width = 8;
	if (b && len == 6 && b[0] == DW_OP_const4u && (b[5] == DW_OP_GNU_push_tls_address || b[5] == DW_OP_form_tls_address))
		width = 4;
	if (width && dwarf_attr_offset(die, a, &off, &err) == DW_DLV_OK) {
		struct dwarf_tls_op op = { .off = off + hdr + 1, .width = width };

		r = VEC_PUSH(out, op);
	}
	if (blk)
		dwarf_dealloc(dbg, blk, DW_DLA_BLOCK);
	if (err)
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
	dwarf_dealloc_attribute(a);
	return r;
}

/* Every DIE below this one (file-scope and function-scope statics alike). */
static int tls_walk(Dwarf_Debug dbg, Dwarf_Die die, int depth, dwarf_tls_ops *out)
{
	Dwarf_Error err = NULL;
	Dwarf_Die ch = NULL, next = NULL;
	Dwarf_Half tag = 0;
	int r;

	if (dwarf_tag(die, &tag, &err) != DW_DLV_OK)
		return 1;
	if (tag == DW_TAG_variable && tls_operand(dbg, die, out))
		return -1;
	if (depth > 64)
		return 0;
	r = dwarf_child(die, &ch, &err);
	while (r == DW_DLV_OK) {
		int w = tls_walk(dbg, ch, depth + 1, out);

		if (w) {
			dwarf_dealloc_die(ch);
			return w;
		}
		r = dwarf_siblingof_b(dbg, ch, 1, &next, &err);
		dwarf_dealloc_die(ch);
		ch = next;
	}
	if (r == DW_DLV_ERROR) {
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
		return 1;
	}
	return 0;
}

int dwarf_tls_operands(const struct image *img, dwarf_tls_ops *out)
{
	const struct dwarf_info *di = img->dwarf;
	const struct dwpriv *p = di ? di->priv : NULL;
	Dwarf_Error err = NULL;
	int r = 0;

	/* Only the program's own debug info goes into the output. */
	if (!p || !p->dbg || p->elf || strcmp(di->path, img->path))
		return 0;
	while (!r) {
		Dwarf_Unsigned next = 0;
		Dwarf_Die cu = NULL;
		int n = dwarf_next_cu_header_d(p->dbg, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &next, NULL,
					       &err);

		if (n != DW_DLV_OK)
			break;
		if (dwarf_siblingof_b(p->dbg, NULL, 1, &cu, &err) != DW_DLV_OK)
			continue;
		r = tls_walk(p->dbg, cu, 0, out);
		dwarf_dealloc_die(cu);
	}
	if (err)
		dwarf_dealloc(p->dbg, err, DW_DLA_ERROR);
	if (r > 0)
		dw_warn(img, img->path, "its debug info could not be read whole: gdb may show some of its thread-local "
			"variables at their old offsets");
	return r < 0 ? -1 : 0;
}
