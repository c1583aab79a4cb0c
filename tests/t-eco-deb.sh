# The Debian package: dpkg-buildpackage -us -uc -b in a clean copy of the
# sources (what git has, as a clone would); lintian finds no error; the
# packages install with dpkg into a scratch root, where surgeon --version,
# man -w surgeon and pkg-config --libs surgeon work, a program links
# libsurgeon.a through pkg-config, and removing the packages leaves nothing.
. "$TOP/tests/lib.sh"
for t in dpkg-buildpackage dh lintian fakeroot; do
	command -v $t >/dev/null || { fail tools "$t is missing (make deps installs it)"; exit 0; }
done

# A clean copy: the files git tracks, as they are in the work tree (a clone
# with the changes not yet committed; nothing built, nothing untracked).
mkdir -p src
if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$TOP" && git ls-files -z --cached | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -C src -xf -
else
	(cd "$TOP" && tar --exclude=./build --exclude=./build-asan --exclude=./tests/out -cf - .) | tar -C src -xf -
fi
check_eq clean-copy "no build" "$([ -e src/build ] && echo build || echo no build)"

version=$(sed -n '1s/^surgeon (\([^)]*\)).*/\1/p' src/debian/changelog)
check_eq version-matches-header "$version" "$(sed -n 's/.*SURGEON_VERSION "\(.*\)"/\1/p' src/include/surgeon.h)"
(cd src && DEB_BUILD_OPTIONS="parallel=2" dpkg-buildpackage -us -uc -b) >build.log 2>&1
check_eq dpkg-buildpackage 0 "$?"
deb=surgeon_${version}_amd64.deb dev=libsurgeon-dev_${version}_amd64.deb
if [ ! -f "$deb" ] || [ ! -f "$dev" ]; then
	fail debs "no $deb or $dev: $(tail -5 build.log | tr '\n' ' ')"
	exit 0
fi
check_eq build-warnings "" "$(grep -E 'warning:|dh_missing:' build.log | head -3)"

# lintian: no error and no warning (every tag it gives, down to pedantic ones, is in the
# log for the record).
lintian -I -E --pedantic --tag-display-limit 0 "surgeon_${version}_amd64.changes" </dev/null >lintian.log 2>&1
sed 's/^/# lintian: /' lintian.log
check_eq lintian-no-errors "" "$(grep '^E: ' lintian.log)"
check_eq lintian-no-warnings "" "$(grep '^W: ' lintian.log)"

# What each package holds.
files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort | tr '\n' ' ' | sed 's/ $//'; }
check_eq surgeon-files "$(printf '%s\n' usr/bin/surgeon usr/share/bash-completion/completions/surgeon \
	usr/share/doc/surgeon/changelog.gz usr/share/doc/surgeon/copyright \
	$(for p in "$TOP"/man/*.1.in; do echo "usr/share/man/man1/$(basename "$p" .in).gz"; done) | sort | tr '\n' ' ' | sed 's/ $//')" "$(files "$deb")"
check_eq libsurgeon-dev-files "usr/include/surgeon.h usr/lib/x86_64-linux-gnu/libsurgeon.a usr/lib/x86_64-linux-gnu/pkgconfig/surgeon.pc usr/share/doc/libsurgeon-dev/changelog.gz usr/share/doc/libsurgeon-dev/copyright" "$(files "$dev")"
check completion-where-debian-looks test "$(pkg-config --variable=completionsdir bash-completion)" = /usr/share/bash-completion/completions
check depends-binutils grep -q '^ *Depends:.*binutils' <(dpkg-deb -I "$deb")

# apt can satisfy the dependencies here (simulated: nothing is installed).
check apt-simulate apt-get install -s "./$deb" "./$dev"

# Install into a scratch root with its own dpkg database.
R=$T/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" && : >"$R/var/lib/dpkg/status"
check dpkg-install dpkg --root="$R" --force-depends --log=/dev/null -i "$deb" "$dev"
check_eq installed-version "surgeon $version" "$("$R/usr/bin/surgeon" --version 2>&1)"
check_eq man-w "$R/usr/share/man/man1/surgeon.1.gz" "$(man -M "$R/usr/share/man" -w surgeon 2>&1)"
check_eq man-w-verb "$R/usr/share/man/man1/surgeon-info.1.gz" "$(man -M "$R/usr/share/man" -w surgeon-info 2>&1)"
# As on a machine where it is installed: the system library directory
# needs no -L.
check_eq pkg-config-libs "-lsurgeon" \
	"$(PKG_CONFIG_LIBDIR=$R/usr/lib/x86_64-linux-gnu/pkgconfig pkg-config --libs surgeon 2>&1 | sed 's/ *$//')"
check_eq pkg-config-version "$version" \
	"$(PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_LIBDIR=$R/usr/lib/x86_64-linux-gnu/pkgconfig pkg-config --modversion surgeon 2>&1)"
# A program links libsurgeon.a with what pkg-config says (the sysroot's -L added).
printf '#include <surgeon.h>\nint main(void) { return surgeon_dump_self(0) == 0; }\n' >uses.c
check link-with-pkg-config gcc -no-pie -I"$R/usr/include" -o uses uses.c -L"$R/usr/lib/x86_64-linux-gnu" \
	$(PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_LIBDIR=$R/usr/lib/x86_64-linux-gnu/pkgconfig pkg-config --libs surgeon)
check_eq links-static "" "$(readelf -d uses 2>/dev/null | grep -i 'NEEDED.*libsurgeon')"
# Removing the packages takes every file away.
check dpkg-remove dpkg --root="$R" --force-depends --log=/dev/null -r libsurgeon-dev surgeon
check_eq removed-no-file "" "$(cd "$R" && find usr -type f -o -type l 2>/dev/null)"
