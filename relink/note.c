/* The surgery note: writing a record, reading the history back. */
#include "relink/note.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "surgeon.h"
#include "util/elfview.h"

#define MAX_LINE (1u << 16)

static int put(bytevec *b, const void *p, size_t n)
{
	if (!n)
		return 0;	/* b->v may still be NULL: no memcpy(NULL, ...) */
	while (b->cap - b->n < n)
		if (vec_grow((void **)&b->v, &b->cap, 1))
			return -1;
	memcpy(b->v + b->n, p, n);
	b->n += n;
	return 0;
}

static int puts_(bytevec *b, const char *s)
{
	return put(b, s, strlen(s));
}

static int putf(bytevec *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int putf(bytevec *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= sizeof(tmp) ? -1 : put(b, tmp, n);
}

/* Text fields never contain a raw newline: '\\' and control characters are escaped. */
static int put_escaped(bytevec *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;
		int err;

		if (c == '\\')
			err = puts_(b, "\\\\");
		else if (c == '\n')
			err = puts_(b, "\\n");
		else if (c < 0x20 || c == 0x7f)
			err = putf(b, "\\x%02x", c);
		else
			err = put(b, &c, 1);
		if (err)
			return -1;
	}
	return 0;
}

static char *unescape(const char *s, size_t n)
{
	char *out = zalloc(n + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (i + 1 < n && s[i + 1] == '\\') {
			*o++ = '\\', i++;
		} else if (i + 1 < n && s[i + 1] == 'n') {
			*o++ = '\n', i++;
		} else if (i + 3 < n && s[i + 1] == 'x') {
			unsigned v;
			char hex[3] = { s[i + 2], s[i + 3], 0 };
			char *end;

			v = strtoul(hex, &end, 16);
			if (*end || !v)
				goto bad;
			*o++ = v, i += 3;
		} else {
			goto bad;
		}
	}
	return out;
bad:
	free(out);
	errno = EINVAL;
	return NULL;
}

static int record_text(bytevec *d, const struct surgery_record *rec)
{
	int err = 0;
	size_t i;

	err = err ?: puts_(d, NOTE_RECORD_MAGIC "\ntool ");
	err = err ?: put_escaped(d, rec->version ? rec->version : SURGEON_VERSION);
	err = err ?: puts_(d, "\nverb ");
	err = err ?: put_escaped(d, rec->verb ? rec->verb : "");
	err = err ?: puts_(d, "\n");
	if (!err && rec->has_new_above)
		err = putf(d, "new-above %llx\n", (unsigned long long)rec->new_above);
	for (i = 0; !err && i < rec->inputs.n; i++) {
		const struct note_input *in = &rec->inputs.v[i];

		err = puts_(d, "input ");
		for (int k = 0; !err && k < SHA256_LEN; k++)
			err = putf(d, "%02x", in->sha256[k]);
		err = err ?: putf(d, " %llu ", (unsigned long long)in->size);
		err = err ?: put_escaped(d, in->path ? in->path : "");
		err = err ?: puts_(d, "\n");
	}
	for (i = 0; !err && i < rec->exports.n; i++) {
		err = putf(d, "export %llx ", (unsigned long long)rec->exports.v[i].addr);
		err = err ?: put_escaped(d, rec->exports.v[i].name ? rec->exports.v[i].name : "");
		err = err ?: puts_(d, "\n");
	}
	for (i = 0; !err && i < rec->edits.n; i++) {
		const struct edit *e = &rec->edits.v[i];

		err = putf(d, "edit %llx %llx ", (unsigned long long)e->addr, (unsigned long long)e->size);
		err = err ?: put_escaped(d, e->reason ? e->reason : "");
		err = err ?: puts_(d, "\n");
	}
	if (!err && rec->payload) {
		err = putf(d, "payload %llx %llx ", (unsigned long long)rec->payload_off,
			   (unsigned long long)rec->payload_size);
		err = err ?: put_escaped(d, rec->payload);
		err = err ?: puts_(d, "\n");
	}
	return err;
}

int note_append(bytevec *out, const unsigned char *old_note, size_t old_size,
		const struct surgery_record *rec, const char *path)
{
	static const unsigned char pad[4];
	struct surgery_history h = { 0 };
	bytevec desc = { 0 };
	Elf64_Nhdr nh;
	int err;

	/* Never build on a note we could not read back. */
	err = note_parse(old_note, old_size, &h, path);
	note_history_free(&h);
	if (err)
		return err;
	err = record_text(&desc, rec);
	if (!err && desc.n > UINT32_MAX)
		err = pr_err(path, "surgery record too large");
	nh.n_namesz = sizeof(NOTE_OWNER);
	nh.n_descsz = desc.n;
	nh.n_type = NT_SURGEON_RECORD;
	err = err ?: old_size ? put(out, old_note, old_size) : 0;
	/* An old note that ends unaligned is padded before the new one. */
	err = err ?: put(out, pad, align_up(out->n, 4) - out->n);
	err = err ?: put(out, &nh, sizeof(nh));
	err = err ?: put(out, NOTE_OWNER, sizeof(NOTE_OWNER));
	err = err ?: put(out, pad, align_up(sizeof(NOTE_OWNER), 4) - sizeof(NOTE_OWNER));
	err = err ?: put(out, desc.v, desc.n);
	err = err ?: put(out, pad, align_up(desc.n, 4) - desc.n);
	VEC_FREE(&desc);
	return err;
}

int note_add_input(struct surgery_record *rec, const char *path, struct sha256_bg *digest)
{
	struct note_input in = { .path = path };

	if (digest ? sha256_finish(digest, in.sha256, &in.size) : sha256_file(path, in.sha256, &in.size))
		return -1;
	return VEC_PUSH(&rec->inputs, in);
}

/* Reading */

struct line {
	const char *p;
	size_t n;
};

static bool take_word(struct line *l, const char **w, size_t *wn)
{
	size_t i = 0;

	while (i < l->n && l->p[i] != ' ')
		i++;
	if (!i)
		return false;
	*w = l->p;
	*wn = i;
	l->p += i < l->n ? i + 1 : i;
	l->n -= i < l->n ? i + 1 : i;
	return true;
}

static bool parse_hex(const char *w, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		int c = w[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return false;
		x = x << 4 | d;
	}
	*v = x;
	return true;
}

static bool parse_dec(const char *w, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9' || __builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (uint64_t)(w[i] - '0'), &x))
			return false;
	}
	*v = x;
	return true;
}

static bool is_key(const char *w, size_t n, const char *key)
{
	return n == strlen(key) && !memcmp(w, key, n);
}

/* One record's text. `where` is "note N" for messages. */
static int parse_record(const char *t, size_t n, struct surgery_record *rec, const char *path, size_t idx)
{
	size_t lineno = 0;

	rec->owned = true;
	if (n < sizeof(NOTE_RECORD_MAGIC) || memcmp(t, NOTE_RECORD_MAGIC "\n", sizeof(NOTE_RECORD_MAGIC)))
		return pr_err(path, "%s: record %zu does not begin with '" NOTE_RECORD_MAGIC "'", NOTE_SECTION, idx);
	while (n) {
		const char *nl = memchr(t, '\n', n), *w;
		struct line l;
		size_t wn;
		char **dst = NULL;

		lineno++;
		if (!nl)
			return pr_err(path, "%s: record %zu, line %zu: not terminated by a newline",
				      NOTE_SECTION, idx, lineno);
		l.p = t, l.n = nl - t;
		n -= l.n + 1, t = nl + 1;
		if (memchr(l.p, 0, l.n))
			return pr_err(path, "%s: record %zu, line %zu: contains a NUL byte", NOTE_SECTION, idx, lineno);
		if (lineno == 1)
			continue;
		if (!take_word(&l, &w, &wn))
			goto bad;
		if (is_key(w, wn, "tool")) {
			dst = (char **)&rec->version;
		} else if (is_key(w, wn, "verb")) {
			dst = (char **)&rec->verb;
		} else if (is_key(w, wn, "input")) {
			struct note_input in = { 0 };
			const char *h, *s;
			size_t hn, sn;

			if (!take_word(&l, &h, &hn) || hn != 2 * SHA256_LEN || !take_word(&l, &s, &sn) ||
			    !parse_dec(s, sn, &in.size))
				goto bad;
			for (int k = 0; k < SHA256_LEN; k++) {
				uint64_t v;

				if (!parse_hex(h + 2 * k, 2, &v))
					goto bad;
				in.sha256[k] = v;
			}
			in.path = unescape(l.p, l.n);
			if (!in.path || VEC_PUSH(&rec->inputs, in)) {
				free((void *)in.path);
				goto bad_text;
			}
		} else if (is_key(w, wn, "export")) {
			struct note_export ex = { 0 };
			const char *a;
			size_t an;

			if (!take_word(&l, &a, &an) || !parse_hex(a, an, &ex.addr))
				goto bad;
			ex.name = unescape(l.p, l.n);
			if (!ex.name || VEC_PUSH(&rec->exports, ex)) {
				free((void *)ex.name);
				goto bad_text;
			}
		} else if (is_key(w, wn, "edit")) {
			struct edit e = { 0 };
			const char *a, *s;
			size_t an, sn;
			uint64_t end;

			if (!take_word(&l, &a, &an) || !parse_hex(a, an, &e.addr) || !take_word(&l, &s, &sn) ||
			    !parse_hex(s, sn, &e.size) || add_overflows(e.addr, e.size, &end))
				goto bad;
			e.reason = unescape(l.p, l.n);
			if (!e.reason || VEC_PUSH(&rec->edits, e)) {
				free((void *)e.reason);
				goto bad_text;
			}
		} else if (is_key(w, wn, "new-above")) {
			const char *a;
			size_t an;

			if (rec->has_new_above)
				return pr_err(path, "%s: record %zu, line %zu: 'new-above' given twice",
					      NOTE_SECTION, idx, lineno);
			if (!take_word(&l, &a, &an) || !parse_hex(a, an, &rec->new_above) || l.n)
				goto bad;
			rec->has_new_above = true;
		} else if (is_key(w, wn, "payload")) {
			const char *a, *s;
			size_t an, sn;

			if (rec->payload)
				return pr_err(path, "%s: record %zu, line %zu: 'payload' given twice",
					      NOTE_SECTION, idx, lineno);
			if (!take_word(&l, &a, &an) || !parse_hex(a, an, &rec->payload_off) ||
			    !take_word(&l, &s, &sn) || !parse_hex(s, sn, &rec->payload_size))
				goto bad;
			rec->payload = unescape(l.p, l.n);
			if (!rec->payload)
				goto bad_text;
		}
		/* Unknown keys are from a newer surgeon: ignored. */
		if (dst) {
			if (*dst)
				return pr_err(path, "%s: record %zu, line %zu: '%.*s' given twice",
					      NOTE_SECTION, idx, lineno, (int)wn, w);
			*dst = unescape(l.p, l.n);
			if (!*dst)
				goto bad_text;
		}
	}
	if (!rec->version || !rec->verb)
		return pr_err(path, "%s: record %zu has no '%s' line", NOTE_SECTION, idx, rec->version ? "verb" : "tool");
	return 0;
bad:
	return pr_err(path, "%s: record %zu, line %zu is malformed", NOTE_SECTION, idx, lineno);
bad_text:
	if (errno == ENOMEM)
		return -1;
	return pr_err(path, "%s: record %zu, line %zu has a bad escape", NOTE_SECTION, idx, lineno);
}

int note_parse(const unsigned char *data, size_t size, struct surgery_history *h, const char *path)
{
	size_t off = 0, idx = 0;

	while (off < size) {
		Elf64_Nhdr nh;
		uint64_t name_off, desc_off, end;
		struct surgery_record rec = { 0 };

		if (size - off < 4 && !memcmp(data + off, "\0\0\0", size - off))
			break;	/* padding */
		if (size - off < sizeof(nh))
			return pr_err(path, "%s: truncated note header at offset 0x%zx", NOTE_SECTION, off);
		memcpy(&nh, data + off, sizeof(nh));
		name_off = off + sizeof(nh);
		desc_off = name_off + align_up(nh.n_namesz, 4);
		end = desc_off + align_up(nh.n_descsz, 4);
		/* Sizes are 32-bit, so these sums cannot overflow 64 bits. */
		if (desc_off > size || nh.n_descsz > size - desc_off)
			return pr_err(path, "%s: note at offset 0x%zx runs past the section's end (0x%zx)",
				      NOTE_SECTION, off, size);
		if (nh.n_namesz != sizeof(NOTE_OWNER) || memcmp(data + name_off, NOTE_OWNER, sizeof(NOTE_OWNER)))
			return pr_err(path, "%s: note at offset 0x%zx is not owned by '" NOTE_OWNER "'",
				      NOTE_SECTION, off);
		if (nh.n_type == NT_SURGEON_RECORD) {
			int err = parse_record((const char *)data + desc_off, nh.n_descsz, &rec, path, idx + 1);

			if (err || VEC_PUSH(&h->recs, rec)) {
				note_record_free(&rec);
				return -1;
			}
			idx++;
		}
		off = end < size ? end : size;
	}
	return 0;
}

/* The .note.surgeon section of a file (*data NULL, *size 0 when none). */
static int find_note(const struct elfview *v, const unsigned char **data, size_t *size)
{
	size_t i = 0, found = 0;

	*data = NULL;
	*size = 0;
	while ((i = elfview_find_sec(v, NOTE_SECTION, i))) {
		if (v->sh[i].sh_type != SHT_NOTE)
			return pr_err(v->name, "section [%zu] '%s' is not a note", i, NOTE_SECTION);
		if (found)
			return pr_err(v->name, "section [%zu]: a second '%s'", i, NOTE_SECTION);
		found = i;
	}
	if (found) {
		*data = v->data + v->sh[found].sh_offset;	/* inside the file: checked by the view */
		*size = v->sh[found].sh_size;
	}
	return 0;
}

int note_find(const struct image *img, const unsigned char **data, size_t *size)
{
	return find_note(&img->view, data, size);
}

int note_read_fd(int fd, const char *path, struct surgery_history *h)
{
	const unsigned char *data;
	struct elfview v;
	size_t size;
	int err = elfview_map(&v, fd, path, ELFVIEW_PROGRAM) ?: find_note(&v, &data, &size) ?:
		  note_parse(data, size, h, path);

	elfview_free(&v);
	return err;
}

void note_record_free(struct surgery_record *rec)
{
	size_t i;

	if (!rec)
		return;
	if (rec->owned) {
		free((void *)rec->version);
		free((void *)rec->verb);
		for (i = 0; i < rec->inputs.n; i++)
			free((void *)rec->inputs.v[i].path);
		for (i = 0; i < rec->exports.n; i++)
			free((void *)rec->exports.v[i].name);
		for (i = 0; i < rec->edits.n; i++)
			free((void *)rec->edits.v[i].reason);
		free((void *)rec->payload);
	}
	VEC_FREE(&rec->inputs);
	VEC_FREE(&rec->exports);
	VEC_FREE(&rec->edits);
}

void note_history_free(struct surgery_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->recs.n; i++)
		note_record_free(&h->recs.v[i]);
	VEC_FREE(&h->recs);
}
