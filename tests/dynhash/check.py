#!/usr/bin/env python3
"""The merged hash tables of an output, against the glibc loader and an
independent walk (used by tests/t-dynamic-hash.sh).

check.py CASE OUT --lookup LOOKUP.so [--input APP] [--added FILE]
         [--absent FILE] [--min N] [--sysv-copy]

What is expected comes from `readelf --dyn-syms -W OUT` (and `readelf -sW`
for .symtab), never from surgeon. The loader's own view (the tables
.dynamic points at: DT_SYMTAB, DT_STRTAB, DT_VERSYM, DT_VERDEF, DT_HASH,
DT_GNU_HASH) is read here with struct, and must agree with readelf.

  - glibc: OUT runs with LOOKUP.so preloaded (tests/dynhash/lookup.c), which
    looks up every defined .dynsym name with dlsym(RTLD_DEFAULT), dlsym on
    dlopen(NULL), and dlvsym for a versioned one; each must be the symbol's
    st_value (+ the load bias; + the thread's TLS block for STT_TLS; as is
    for SHN_ABS). The --absent names must be found nowhere, and the .symtab
    names not in .dynsym must not be found in the program.
  - with --sysv-copy and both tables, the same again on a copy of OUT whose
    DT_GNU_HASH tag is renamed to one glibc ignores, so that glibc looks
    everything up through DT_HASH.
  - an independent walk of DT_HASH (buckets and chains) and of DT_GNU_HASH
    (bloom filter, buckets, chains) for every defined name and every absent
    one.
  - --input APP and --added FILE: OUT's defined names are exactly APP's and
    FILE's; --min N: at least N defined symbols were checked.
Prints "ok NAME" / "FAIL NAME: why" lines (tests/lib.sh), and "# " notes.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import traceback

DT_NULL, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ = 0, 4, 5, 6, 10
DT_GNU_HASH, DT_VERSYM, DT_VERDEF, DT_VERDEFNUM = 0x6ffffef5, 0x6ffffff0, 0x6ffffffc, 0x6ffffffd
DT_VERNEED, DT_VERNEEDNUM = 0x6ffffffe, 0x6fffffff
DT_IGNORED = 0x6ffffe00  # DT_ADDRRNGLO: in no range glibc records
PT_LOAD, PT_DYNAMIC = 1, 2
STT_TLS, STT_GNU_IFUNC = 6, 10
SHN_UNDEF, SHN_ABS = 0, 0xfff1

results = []


def ok(name):
    results.append(True)
    print("ok " + name)


def fail(name, why):
    results.append(False)
    print("FAIL %s: %s" % (name, why))


def verdict(name, bad, what):
    """ok when bad (a list of descriptions) is empty."""
    if bad:
        fail(name, "%d of %d %s wrong: %s" % (len(bad), what[0], what[1], "; ".join(bad[:4])))
    else:
        ok(name)


def sysv_hash(name):
    h = 0
    for c in name:
        h = ((h << 4) + c) & 0xffffffff
        g = h & 0xf0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xffffffff
    return h


def gnu_hash(name):
    h = 5381
    for c in name:
        h = (h * 33 + c) & 0xffffffff
    return h


class Elf:
    """The dynamic tables as the loader finds them: through PT_DYNAMIC."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.b = f.read()
        b = self.b
        if b[:4] != b"\x7fELF" or b[4] != 2 or b[5] != 1:
            raise ValueError("not a little-endian ELF64 file")
        self.type = struct.unpack_from("<H", b, 16)[0]
        phoff, = struct.unpack_from("<Q", b, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
        self.loads, self.dynoff = [], None
        for i in range(phnum):
            p_type, _flags, off, vaddr, _pa, filesz, memsz, _al = struct.unpack_from("<IIQQQQQQ", b, phoff + i * phentsize)
            if p_type == PT_LOAD:
                self.loads.append((vaddr, off, filesz, memsz))
            elif p_type == PT_DYNAMIC:
                self.dynoff, self.dynsize = off, filesz
        if self.dynoff is None:
            raise ValueError("no PT_DYNAMIC")
        self.dyn = {}
        self.dyntag_off = {}
        for k in range(self.dynsize // 16):
            tag, val = struct.unpack_from("<qQ", b, self.dynoff + k * 16)
            if tag == DT_NULL:
                break
            self.dyn.setdefault(tag, val)
            self.dyntag_off.setdefault(tag, self.dynoff + k * 16)
        for t in (DT_SYMTAB, DT_STRTAB, DT_STRSZ):
            if t not in self.dyn:
                raise ValueError("no dynamic tag %#x" % t)
        self.strtab = self.off(self.dyn[DT_STRTAB])
        self.strsz = self.dyn[DT_STRSZ]
        self.symtab = self.off(self.dyn[DT_SYMTAB])
        self.hash = self.off(self.dyn[DT_HASH]) if DT_HASH in self.dyn else None
        self.gnu = self.off(self.dyn[DT_GNU_HASH]) if DT_GNU_HASH in self.dyn else None
        self.nsyms = self.count_syms()
        self.syms = []
        for i in range(self.nsyms):
            st_name, st_info, _other, st_shndx, st_value, st_size = struct.unpack_from("<IBBHQQ", b, self.symtab + 24 * i)
            self.syms.append((self.str(st_name), st_info, st_shndx, st_value))
        self.versions = self.read_versions()

    def off(self, vaddr):
        for v, o, fs, _ms in self.loads:
            if v <= vaddr < v + fs:
                return o + vaddr - v
        raise ValueError("address %#x is in no loaded part of the file" % vaddr)

    def str(self, o):
        if o >= self.strsz:
            raise ValueError("string offset %#x outside DT_STRTAB" % o)
        e = self.b.index(b"\0", self.strtab + o)
        return self.b[self.strtab + o:e]

    def count_syms(self):
        """DT_HASH's nchain; else one past the last symbol GNU's chains reach."""
        if self.hash is not None:
            return struct.unpack_from("<I", self.b, self.hash + 4)[0]
        nb, symoff, bloom, _shift = struct.unpack_from("<IIII", self.b, self.gnu)
        buckets = struct.unpack_from("<%dI" % nb, self.b, self.gnu + 16 + 8 * bloom)
        last = max(buckets)
        if last < symoff:
            return symoff
        chain = self.gnu + 16 + 8 * bloom + 4 * nb
        while not struct.unpack_from("<I", self.b, chain + 4 * (last - symoff))[0] & 1:
            last += 1
        return last + 1

    def read_versions(self):
        """Per symbol: (version name or None, hidden). A defined symbol's
        version is one DT_VERDEF defines or, for a variable copied from a
        library, one DT_VERNEED names."""
        out = [(None, False)] * self.nsyms
        if DT_VERSYM not in self.dyn:
            return out
        names = {}
        if DT_VERDEF in self.dyn:
            o = self.off(self.dyn[DT_VERDEF])
            for _ in range(self.dyn.get(DT_VERDEFNUM, 0)):
                _ver, flags, ndx, cnt, vhash, aux, nxt = struct.unpack_from("<HHHHIII", self.b, o)
                names[ndx] = self.str(struct.unpack_from("<I", self.b, o + aux)[0])
                if not nxt:
                    break
                o += nxt
        if DT_VERNEED in self.dyn:
            o = self.off(self.dyn[DT_VERNEED])
            for _ in range(self.dyn.get(DT_VERNEEDNUM, 0)):
                _ver, cnt, _file, aux, nxt = struct.unpack_from("<HHIII", self.b, o)
                a = o + aux
                for _ in range(cnt):
                    _h, _fl, other, vname, anext = struct.unpack_from("<IHHII", self.b, a)
                    names[other] = self.str(vname)
                    if not anext:
                        break
                    a += anext
                if not nxt:
                    break
                o += nxt
        vs = self.off(self.dyn[DT_VERSYM])
        for i in range(self.nsyms):
            v = struct.unpack_from("<H", self.b, vs + 2 * i)[0]
            idx = v & 0x7fff
            if self.syms[i][2] != SHN_UNDEF and idx >= 2:
                if idx not in names:
                    raise ValueError("symbol %d has version index %d, which neither DT_VERDEF nor DT_VERNEED names" % (i, idx))
                out[i] = (names[idx], bool(v & 0x8000))
        return out

    # --- lookups, as the ELF gABI and GNU's documentation describe them ---
    def sysv_lookup(self, name):
        """Every index the SysV walk reaches whose name is NAME."""
        nb, nchain = struct.unpack_from("<II", self.b, self.hash)
        i = struct.unpack_from("<I", self.b, self.hash + 8 + 4 * (sysv_hash(name) % nb))[0]
        found, steps = [], 0
        while i != 0:
            if i >= nchain or steps > nchain:
                return None  # out of the table, or a loop
            if self.syms[i][0] == name:
                found.append(i)
            i = struct.unpack_from("<I", self.b, self.hash + 8 + 4 * nb + 4 * i)[0]
            steps += 1
        return found

    def gnu_lookup(self, name):
        """Every index the GNU walk reaches whose name is NAME; [] when the
        bloom filter rejects it."""
        nb, symoff, nbloom, shift = struct.unpack_from("<IIII", self.b, self.gnu)
        h = gnu_hash(name)
        word = struct.unpack_from("<Q", self.b, self.gnu + 16 + 8 * ((h // 64) % nbloom))[0]
        mask = (1 << (h % 64)) | (1 << ((h >> shift) % 64))
        if word & mask != mask:
            return []
        i = struct.unpack_from("<I", self.b, self.gnu + 16 + 8 * nbloom + 4 * (h % nb))[0]
        if i == 0:
            return []
        if i < symoff:
            return None
        chain = self.gnu + 16 + 8 * nbloom + 4 * nb
        found = []
        while True:
            if i >= self.nsyms:
                return None
            h2 = struct.unpack_from("<I", self.b, chain + 4 * (i - symoff))[0]
            if (h | 1) == (h2 | 1) and self.syms[i][0] == name:
                found.append(i)
            if h2 & 1:
                return found
            i += 1


def readelf_tables(path):
    """{table: rows} of `readelf -sW PATH` (.dynsym and .symtab), each row
    (num, value, type, ndx, name, version, hidden) as readelf prints it."""
    out = subprocess.run(["readelf", "-sW", path], capture_output=True, text=True, errors="surrogateescape")
    if out.returncode:
        raise RuntimeError("readelf -sW %s: %s" % (path, out.stderr.strip()))
    tables, cur = {}, None
    for line in out.stdout.splitlines():
        if line.startswith("Symbol table '"):
            cur = tables.setdefault(line.split("'")[1], [])
            continue
        f = line.split()
        if cur is None or len(f) < 7 or not f[0].endswith(":") or not f[0][:-1].isdigit():
            continue
        name = f[7] if len(f) >= 8 else ""
        ver, hidden = None, False
        if "@@" in name:
            name, ver = name.split("@@", 1)
        elif "@" in name:
            name, ver = name.split("@", 1)
            hidden = True
        enc = lambda x: None if x is None else x.encode(errors="surrogateescape")
        cur.append((int(f[0][:-1]), int(f[1], 16), f[3], f[6], enc(name), enc(ver), hidden))
    return tables


def run_glibc(case, path, queries, lookup, tag):
    """Runs PATH with the lookup library; returns (base, tls, answers) or None."""
    qf, rf = path + ".q", path + ".r"
    with open(qf, "wb") as f:
        for kind, name, ver in queries:
            f.write(b"%s\t%s\t%s\n" % (kind.encode(), name, ver or b"-"))
    env = dict(os.environ, DYNHASH_IN=qf, DYNHASH_OUT=rf, LD_PRELOAD=lookup)
    env.pop("LD_BIND_NOW", None)
    try:
        r = subprocess.run([os.path.abspath(path)], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        fail("%s-%s-ran" % (case, tag), "timed out")
        return None
    if r.returncode != 0 or not os.path.exists(rf):
        fail("%s-%s-ran" % (case, tag), "status %d: %s" % (r.returncode, r.stderr.decode(errors="replace").strip()[-200:]))
        return None
    base = tls = None
    answers, done = [], None
    with open(rf, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            if line.startswith(b"#base "):
                base = int(line[6:], 16)
            elif line.startswith(b"#tls "):
                tls = int(line[5:], 16)
            elif line.startswith(b"#done "):
                done = int(line[6:])
            else:
                k, n, v, d, s, vv = line.split(b"\t")
                answers.append((k.decode(), n, v, int(d, 16), int(s, 16), None if vv == b"-" else int(vv, 16)))
    if done != len(queries) or len(answers) != len(queries) or base is None:
        fail("%s-%s-ran" % (case, tag), "answered %s of %d queries" % (done, len(queries)))
        return None
    ok("%s-%s-ran" % (case, tag))
    return base, tls, answers


def check_glibc(case, elf, path, dsyms, absent, symtab_only, probes, lookup, tag):
    """dlsym/dlvsym of every defined symbol, of the absent names and of the
    .symtab-only names, in the running PATH. Returns the number of symbols
    whose address was compared."""
    queries = [("+", n, v) for (_i, _val, _t, _x, n, v, _h) in dsyms]
    queries += [("!", n, None) for n in absent]
    queries += [("~", n, None) for n in symtab_only]
    queries += [("=", v, f) for v, f in probes]
    got = run_glibc(case, path, queries, lookup, tag)
    if got is None:
        return 0
    base, tls, answers = got
    bad, badv, bad_absent, bad_local = [], [], [], []
    compared = versioned = ifuncs = 0
    for (idx, val, typ, ndx, name, ver, hidden), (k, n, v, d, s, vv) in zip(dsyms, answers):
        assert k == "+" and n == name
        if typ == "TLS":
            if not tls:
                bad.append("%s: STT_TLS but the program has no TLS block" % name.decode())
                continue
            want = tls + val
        elif ndx == "ABS":
            want = val
        else:
            want = base + val
        if typ == "IFUNC":
            # dlsym calls the resolver: found is all that can be said.
            ifuncs += 1
            if not d or not s:
                bad.append("%s (IFUNC): not found" % name.decode())
            continue
        compared += 1
        if not hidden and (d != want or s != want):
            bad.append("%s: want %#x, dlsym(RTLD_DEFAULT) %#x, dlsym(dlopen(NULL)) %#x" % (name.decode(), want, d, s))
        if ver is not None:
            versioned += 1
            if vv != want:
                badv.append("%s@%s: want %#x, dlvsym %#x" % (name.decode(), ver.decode(), want, vv))
    main_ranges = [(base + v, base + v + ms) for v, _o, _fs, ms in elf.loads]
    nabsent = nlocal = 0
    bad_probe = []
    for k, n, f, d, s, vv in answers:
        if k == "=" and (not d or d != s or d != vv):
            bad_probe.append("dlsym(%s) %#x/%#x, %s() %#x" % (n.decode(), d, s, f.decode(), vv or 0))
    for k, n, _v, d, s, _vv in answers:
        if k == "!":
            nabsent += 1
            if d or s:
                bad_absent.append("%s found at %#x/%#x" % (n.decode(), d, s))
        elif k == "~":
            nlocal += 1
            for a in (d, s):
                if a and any(lo <= a < hi for lo, hi in main_ranges):
                    bad_local.append("%s found in the program at %#x" % (n.decode(), a))
                    break
    print("# %s %s: glibc looked up %d defined symbols (%d compared with st_value, %d also by dlvsym, %d IFUNC), "
          "%d absent names, %d .symtab-only names" % (case, tag, len(dsyms), compared, versioned, ifuncs, nabsent, nlocal))
    verdict("%s-%s-finds-every-export" % (case, tag), bad, (len(dsyms), "defined symbols"))
    if versioned:
        verdict("%s-%s-dlvsym" % (case, tag), badv, (versioned, "versioned symbols"))
    if absent:
        verdict("%s-%s-absent-not-found" % (case, tag), bad_absent, (nabsent, "absent names"))
    if symtab_only:
        verdict("%s-%s-symtab-only-not-in-program" % (case, tag), bad_local, (nlocal, ".symtab-only names"))
    if probes:
        verdict("%s-%s-tls-as-the-code-sees-it" % (case, tag), bad_probe, (len(probes), "TLS variables"))
    return compared


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("out")
    ap.add_argument("--lookup", required=True)
    ap.add_argument("--input")
    ap.add_argument("--added")
    ap.add_argument("--absent")
    ap.add_argument("--min", type=int, default=1)
    ap.add_argument("--sysv-copy", action="store_true")
    ap.add_argument("--tls-probe", action="append", default=[], metavar="VAR=FUNC",
                    help="dlsym(VAR) must be what the program's FUNC() returns")
    a = ap.parse_args()
    case, out = a.case, a.out
    lookup = os.path.abspath(a.lookup)
    probes = [tuple(p.encode().split(b"=", 1)) for p in a.tls_probe]

    try:
        elf = Elf(out)
    except (ValueError, OSError, struct.error) as e:
        fail(case + "-tables-readable", str(e))
        return 1
    tables = readelf_tables(out)
    rows = tables.get(".dynsym", [])

    # readelf's .dynsym is the table the loader uses, entry for entry. Its
    # "@@" is a default version; its "@" a hidden one or one DT_VERNEED
    # names (a variable copied from a library), so whether a version is
    # hidden is taken from DT_VERSYM. readelf leaves out the version of
    # the symbol naming a version definition (APP_1.0 of APP_1.0).
    bad, dsyms = [], []
    if len(rows) != elf.nsyms:
        bad.append("readelf lists %d symbols, the loader's table has %d" % (len(rows), elf.nsyms))
    for (idx, val, typ, ndx, name, ver, hidden), (ename, info, shndx, evalue) in zip(rows, elf.syms):
        ever, ehidden = elf.versions[idx]
        if ndx != "UND" and ver is None and ever == name:
            ever = None
        if (name, val, ndx == "UND") != (ename, evalue, shndx == SHN_UNDEF) or \
                (ndx != "UND" and (ver != ever or (ver is not None and not hidden and ehidden))):
            bad.append("entry %d: readelf %r@%r %#x %s, table %r@%r %#x %d" % (idx, name, ver, val, ndx, ename, ever, evalue, shndx))
        if ndx != "UND" and name:
            dsyms.append((idx, val, typ, ndx, name, ver, ehidden))
    verdict(case + "-readelf-is-loader-table", bad, (len(rows), "entries"))

    dnames = {r[4] for r in dsyms}
    # Probes of variables this output exports (not all of them do).
    probes = [(v, f) for v, f in probes if v in dnames]
    if a.tls_probe and not probes:
        fail(case + "-tls-probes", "none of %s is exported" % " ".join(a.tls_probe))
    absent = []
    if a.absent:
        absent = [l.strip().encode() for l in open(a.absent) if l.strip()]
        present = [n.decode() for n in absent if n in {r[4] for r in rows}]
        check_eq = "%s-absent-not-in-dynsym" % case
        if present:
            fail(check_eq, "in .dynsym: " + " ".join(present[:5]))
        else:
            ok(check_eq)
    if a.input:
        # The program's own table, read here (readelf is slow on node).
        want = {name for name, _i, shndx, _v in Elf(a.input).syms if shndx != SHN_UNDEF and name}
        if a.added:
            want |= {l.strip().encode() for l in open(a.added) if l.strip()}
        missing, extra = sorted(want - dnames), sorted(dnames - want)
        if missing or extra:
            fail(case + "-exports-are-old-plus-added", "missing %s; unexpected %s" %
                 (b" ".join(missing[:5]).decode(), b" ".join(extra[:5]).decode()))
        else:
            ok(case + "-exports-are-old-plus-added")
    symtab_only = sorted({r[4] for r in tables.get(".symtab", [])
                          if r[4] and r[2] in ("FUNC", "OBJECT", "NOTYPE", "TLS", "IFUNC")} - {r[4] for r in rows})

    total = check_glibc(case, elf, out, dsyms, absent, symtab_only, probes, lookup, "glibc")
    n = len(dsyms)
    if total < a.min or total == 0:
        fail(case + "-enough-checked", "only %d symbols compared, want at least %d" % (total, max(a.min, 1)))
    else:
        ok(case + "-enough-checked")

    # glibc through DT_HASH, on a copy whose DT_GNU_HASH it cannot see.
    if a.sysv_copy and elf.hash is not None and elf.gnu is not None:
        cp = out + ".sysv-only"
        shutil.copyfile(out, cp)
        shutil.copymode(out, cp)
        with open(cp, "r+b") as f:
            f.seek(elf.dyntag_off[DT_GNU_HASH])
            f.write(struct.pack("<q", DT_IGNORED))
        t2 = check_glibc(case, elf, cp, dsyms, absent, symtab_only, probes, lookup, "glibc-via-hash")
        if t2 != total:
            fail(case + "-via-hash-enough-checked", "%d symbols compared, %d through DT_GNU_HASH" % (t2, total))

    # The independent walks.
    for style, present, look in (("sysv", elf.hash is not None, elf.sysv_lookup), ("gnu", elf.gnu is not None, elf.gnu_lookup)):
        if not present:
            continue
        bad, bad_absent = [], []
        for idx, _val, _t, _x, name, _v, _h in dsyms:
            r = look(name)
            if r is None:
                bad.append("%s: the walk leaves the table" % name.decode())
            elif idx not in r:
                bad.append("%s (entry %d): the walk reaches %s" % (name.decode(), idx, r))
        for name in absent + symtab_only:
            r = look(name)
            if r is None or r:
                bad_absent.append("%s: %s" % (name.decode(), "the walk leaves the table" if r is None else "reaches %s" % r))
        if style == "gnu":
            nb, symoff = struct.unpack_from("<II", elf.b, elf.gnu)
            below = [r[4].decode() for r in dsyms if r[0] < symoff]
            if below:
                bad.append("defined below symoffset %d (GNU lookups cannot reach them): %s" % (symoff, " ".join(below[:5])))
        print("# %s %s walk: %d defined names, %d absent or .symtab-only names" % (case, style, n, len(absent) + len(symtab_only)))
        verdict("%s-%s-walk-finds-every-export" % (case, style), bad, (n, "defined symbols"))
        verdict("%s-%s-walk-absent" % (case, style), bad_absent, (len(absent) + len(symtab_only), "absent names"))
    return 0 if all(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a failure, never a silent pass
        traceback.print_exc(file=sys.stdout)
        fail((sys.argv[1] if len(sys.argv) > 1 else "dynhash") + "-check-completed", "check.py: %r" % e)
        sys.exit(2)
