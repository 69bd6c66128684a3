# Cases of the "files" integration tests: real Debian programs on a file tree
# built afresh in a temporary directory. Run natively and under `runsc do` by
# files_test.sh, which compares the outputs. Output never shows the temporary
# directory's absolute path (it is replaced by WORK) nor anything that differs
# by filesystem (directory sizes and link counts, block counts, inode numbers).
# Usage: bash files_cases.sh CASE [ARGS...]
set -euo pipefail
export LC_ALL=C TZ=UTC
umask 022
# A fixed date for every file of a tree, so that listings with dates match.
fixed_date=@1700000000

# make_tree DIR: nested directories, a symlink (and a dangling one), a hard
# link, a 1 MiB file, an empty file, a name with a space, modes 0600/0755/0700.
make_tree() {
  local d=$1
  mkdir -p "$d/a/b/c" "$d/empty-dir"
  printf 'hello\n' >"$d/a/hello.txt"
  printf 'secret\n' >"$d/a/b/secret"
  chmod 0600 "$d/a/b/secret"
  printf '#!/bin/sh\necho run\n' >"$d/a/b/c/run.sh"
  chmod 0755 "$d/a/b/c/run.sh"
  chmod 0700 "$d/a/b/c"
  # yes ends with SIGPIPE when head has had enough.
  { yes 'files milestone 0123456789' || true; } | head -c 1048576 >"$d/big.bin"
  : >"$d/a/empty-file"
  printf 'spaced\n' >"$d/a/with space.txt"
  ln "$d/a/hello.txt" "$d/a/b/hard-hello.txt"
  ln -s ../hello.txt "$d/a/b/link-to-hello"
  ln -s does-not-exist "$d/dangling"
  # Children before their directory: setting a child's date leaves the
  # directory's alone, but `find` visits the directory first anyway.
  find "$d" -depth -exec touch -h -d "$fixed_date" {} +
}

# list_tree DIR: one sorted line per entry (type, mode, owner, date; size,
# link count and target for non-directories), then md5sums of regular files.
list_tree() {
  (
    cd "$1"
    find . -mindepth 1 \( -type d -printf '%P %y %m %u:%g %TY-%Tm-%Td+%TT\n' \) \
      -o -printf '%P %y %m %u:%g %TY-%Tm-%Td+%TT %s %n %l\n' | sort
    find . -type f -print0 | sort -z | xargs -0 md5sum
  )
}

# The same without dates: for trees just modified, whose dates are "now".
list_tree_undated() {
  (
    cd "$1"
    find . -mindepth 1 \( -type d -printf '%P %y %m %u:%g\n' \) \
      -o -printf '%P %y %m %u:%g %s %n %l\n' | sort
    find . -type f -print0 | sort -z | xargs -0 md5sum
  )
}

case_tar() {
  make_tree src
  echo "== source tree"
  list_tree src
  tar -C src --sort=name -czf tree.tgz .
  echo "== tar tzvf"
  tar tzvf tree.tgz
  echo "== uncompressed archive"
  gzip -dc tree.tgz | md5sum
  gzip -t tree.tgz && echo "gzip -t ok"
  mkdir out
  tar -C out -xzf tree.tgz
  echo "== extracted tree"
  list_tree out
  echo "== diff -r"
  diff -r --no-dereference src out && echo "no difference"
  # Extracting again over an existing tree replaces every file.
  tar -C out -xzf tree.tgz
  echo "== extracted again"
  list_tree out | md5sum
  # Appending to an uncompressed archive, then extracting one member.
  tar -C src --sort=name -cf tree.tar a
  tar -C src -rf tree.tar big.bin
  tar tf tree.tar
  tar -xOf tree.tar big.bin | md5sum
}

case_cp() {
  make_tree src
  cp -a src copy
  echo "== cp -a copy"
  list_tree copy
  echo "== diff -r"
  diff -r --no-dereference src copy && echo "no difference"
  # The hard link is still one file in the copy.
  [ "$(stat -c %i copy/a/hello.txt)" = "$(stat -c %i copy/a/b/hard-hello.txt)" ] && echo "hard link kept"
  # cp -r (no -a): new dates, hard links broken.
  cp -r src plain
  echo "== cp -r"
  list_tree_undated plain
  # cp -a onto an existing copy, cp -u, cp --reflink=auto, cp --sparse.
  cp -a src/. copy/
  list_tree copy | md5sum
  cp --reflink=auto src/big.bin reflink.bin && cmp src/big.bin reflink.bin && echo "reflink=auto copy ok"
  truncate -s 4M sparse.bin
  printf 'tail' >>sparse.bin
  cp --sparse=always sparse.bin sparse-copy.bin
  stat -c '%n %s' sparse.bin sparse-copy.bin
  cmp sparse.bin sparse-copy.bin && echo "sparse copy ok"
  mv copy moved
  [ ! -e copy ] && echo "moved"
  list_tree moved | md5sum
  rm -r moved plain
  ls
}

case_find() {
  make_tree src
  echo "== find -xdev | wc -l"
  find src -xdev | wc -l
  echo "== find -xdev"
  find src -xdev | sort
  echo "== apparent sizes (du --apparent-size, without directories)"
  (cd src && find . -xdev ! -type d -printf '%s\t%P\n' | sort -k2)
  (cd src && find . -xdev ! -type d -printf '%s\n' | awk '{ t += $1 } END { print "total", t }')
  (cd src && find . -type f -print0 | sort -z | xargs -0 du -b --apparent-size)
  echo "== predicates"
  (cd src && find . -type f -size +1000k | sort)
  (cd src && find . -perm 0600 | sort)
  (cd src && find . -perm -0100 -type f | sort)
  (cd src && find . -type f -links 2 | sort)
  (cd src && find . -empty | sort)
  (cd src && find . -xtype l | sort)
  (cd src && find . -samefile a/hello.txt | sort)
  (cd src && find . -name '*.txt' -newermt '2023-11-14 00:00' | sort)
  (cd src && find . -maxdepth 1 | sort)
  (cd src && find -L . -type f | sort)
  touch -d @1800000000 src/a/hello.txt
  (cd src && find . -newer big.bin | sort)
}

case_sqlite() {
  local db=$PWD/test.db
  {
    echo "CREATE TABLE t(id INTEGER PRIMARY KEY, grp TEXT, val INTEGER, note TEXT);"
    echo "CREATE INDEX t_grp ON t(grp);"
    echo "BEGIN;"
    for i in $(seq 1 1000); do
      echo "INSERT INTO t(grp, val, note) VALUES('g$((i % 7))', $((i * 3)), 'row $i');"
    done
    echo "COMMIT;"
  } | sqlite3 "$db"
  echo "== queries"
  sqlite3 "$db" <<'EOF'
SELECT count(*), sum(val) FROM t;
SELECT grp, count(*), sum(val), min(id), max(id) FROM t GROUP BY grp ORDER BY grp;
SELECT note FROM t WHERE id IN (1, 500, 1000) ORDER BY id;
PRAGMA integrity_check;
EOF
  echo "== update, delete, rollback"
  sqlite3 "$db" <<'EOF'
BEGIN;
UPDATE t SET val = val + 1 WHERE grp = 'g3';
DELETE FROM t WHERE id > 990;
COMMIT;
BEGIN;
DELETE FROM t;
ROLLBACK;
SELECT count(*), sum(val) FROM t;
VACUUM;
PRAGMA integrity_check;
EOF
  stat -c '%s' "$db"
  ls
  echo "== WAL journal (shared memory through mmap, locks)"
  sqlite3 "$db" 'PRAGMA journal_mode=WAL;'
  sqlite3 "$db" "INSERT INTO t(grp, val, note) VALUES('wal', 1, 'in the wal');"
  sqlite3 "$db" "SELECT count(*), sum(val) FROM t; SELECT note FROM t WHERE grp = 'wal';"
  sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);'
  sqlite3 "$db" 'PRAGMA integrity_check; PRAGMA journal_mode=DELETE;'
  ls
  echo "== dump"
  sqlite3 "$db" .dump | md5sum
}

case_python() {
  /usr/bin/python3 "$(dirname "$0")/files_python.py"
}

case_git() {
  export HOME=$PWD/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_DATE='2023-11-14T22:13:20+0000' GIT_COMMITTER_DATE='2023-11-14T22:13:20+0000'
  mkdir home
  git init -q -b main repo
  cd repo
  git config user.name 'Files Test'
  git config user.email 'files@example.com'
  mkdir -p src/lib docs
  printf 'int main(void) { return 0; }\n' >src/main.c
  printf 'void lib(void) {}\n' >src/lib/lib.c
  printf '# Title\n\nSome text.\n' >docs/README.md
  printf '#!/bin/sh\necho tool\n' >tool.sh
  chmod 0755 tool.sh
  ln -s docs/README.md README
  seq 1 20000 >numbers.txt
  git add -A
  git commit -q -m 'first commit'
  export GIT_AUTHOR_DATE='2023-11-15T10:00:00+0000' GIT_COMMITTER_DATE='2023-11-15T10:00:00+0000'
  printf 'void lib2(void) {}\n' >>src/lib/lib.c
  git mv docs/README.md docs/INTRO.md
  ln -sf docs/INTRO.md README
  git rm -q numbers.txt
  git add -A
  git commit -q -m 'second commit'
  echo "== git log"
  git log --format='%H %s'
  echo "== git ls-files -s"
  git ls-files -s
  echo "== trees"
  git cat-file -p 'HEAD^{tree}'
  git rev-parse HEAD~1 'HEAD~1^{tree}'
  echo "== status and diff"
  printf 'changed\n' >src/main.c
  printf 'new\n' >untracked.txt
  git status --porcelain
  git diff --stat
  git diff HEAD~1 --name-status
  git checkout -q -- src/main.c
  git status --porcelain
  echo "== fsck, gc"
  git fsck --no-progress 2>&1
  git gc -q
  git count-objects -v | grep -E '^(count|in-pack|packs|garbage)'
  git log --format='%H' | md5sum
  echo "== clone and archive"
  cd ..
  git clone -q repo clone
  git -C clone log --format='%H %an %ad %s' --date=iso-strict
  git -C clone archive --format=tar HEAD | md5sum
  (cd clone && find . -path ./.git -prune -o -printf '%P %y %m %l\n' | sort)
}

# mutate DIR: writes, appends, truncates, renames, unlinks and chmods inside
# DIR (a tree from make_tree), then lists it.
case_mutate() {
  cd "$1"
  printf 'new file\n' >new.txt
  printf 'appended\n' >>a/b/secret
  truncate -s 1000 big.bin
  : >"a/with space.txt"
  mv a/b/secret a/renamed-secret
  # Renaming a directory of the lower layer fails with EXDEV (as on overlayfs
  # without redirect_dir): mv falls back to copying and removing.
  mv a/b/c a/moved-c
  mv a renamed-a
  # The copy made by mv is in the upper layer: hard links there behave.
  printf 'appended\n' >>renamed-a/hello.txt
  cat renamed-a/b/hard-hello.txt
  rm renamed-a/b/hard-hello.txt
  rm dangling
  rmdir empty-dir
  chmod 0640 renamed-a/hello.txt
  chmod 0711 renamed-a/moved-c
  mkdir -p x/y
  ln -s ../renamed-a/hello.txt x/link
  ln renamed-a/hello.txt x/y/hard
  printf 'over' | dd of=renamed-a/moved-c/run.sh bs=1 seek=3 conv=notrunc status=none
  list_tree_undated .
}

if [ "${1:-}" = make_tree ] || [ "${1:-}" = list_tree ]; then
  "$@"
  exit
fi
if [ "${1:-}" = mutate ]; then
  case_mutate "$2"
  exit
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/files-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
"case_$1" 2>&1 | sed "s|$work|WORK|g"
