# judge.py EDITS DIFFS HDR INIT FINI WANT (run by judge in core.sh): EDITS holds
# `surgeon: edit 0xA-0xB ...` lines, DIFFS loadcmp's lines, HDR the ELF header's address, INIT/FINI "ADDR SIZE"
# from readelf (or "-"), WANT which slots must be edited ("init fini", or "").
# Prints one line per failed rule and nothing when all hold.
import re, sys
edits_f, diffs_f, hdr, init, fini, want = sys.argv[1:7]
edits = [(int(a, 16), int(b, 16)) for a, b in
         re.findall(r'^surgeon: edit 0x([0-9a-f]+)-0x([0-9a-f]+) ', open(edits_f).read(), re.M)]
diffs = []
for line in open(diffs_f):
    m = re.match(r'0x([0-9a-f]+)-0x([0-9a-f]+)( unmapped)?$', line.strip())
    if not m:
        print('loadcmp said: ' + line.strip()); continue
    if m.group(3):
        print('old bytes no longer loaded: ' + line.strip())
    diffs.append((int(m.group(1), 16), int(m.group(2), 16)))
hdr = int(hdr, 16)
slots = {}
for name, arg in (('init', init), ('fini', fini)):
    if arg != '-':
        a, s = (int(x, 16) for x in arg.split())
        slots[name] = (a + s - 8, a + s)
allowed = [('ELF header', hdr, hdr + 64)] + [('last .%s_array slot' % n, a, b) for n, (a, b) in slots.items()]
if not edits:
    print('no edit listed')
for a, b in edits:
    if not any(lo <= a and b <= hi for _, lo, hi in allowed):
        print('edit 0x%x-0x%x is neither the ELF header nor a last init/fini slot' % (a, b))
for n in want.split():
    if n not in slots:
        print('the program has no .%s_array' % n)
    elif slots[n] not in edits:
        print('no edit of the last .%s_array slot 0x%x-0x%x' % ((n,) + slots[n]))
for n in slots:
    if n not in want.split() and slots[n] in edits:
        print('.%s_array slot edited though the plugin has none' % n)
def covered(a, b, rs):
    # every byte of [a, b) in the union of rs
    for lo, hi in sorted(rs):
        if lo <= a < hi:
            a = hi
    return a >= b
for a, b in diffs:
    if not covered(a, b, edits):
        print('bytes 0x%x-0x%x changed, not covered by an edit' % (a, b))
# Exactly: every listed edit changed something (no edit is a blanket allowance).
for a, b in edits:
    if not any(lo < b and a < hi for lo, hi in diffs):
        print('edit 0x%x-0x%x changed no byte' % (a, b))
