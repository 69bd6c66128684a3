# Python's file machinery: reads and writes, os.replace, tempfile, shutil,
# filecmp, mmap and scandir. Prints only what is the same on every
# filesystem: names relative to a temporary directory, sizes of files, modes.
import errno
import filecmp
import mmap
import os
import shutil
import stat
import tempfile

os.umask(0o022)


def rel(path, base):
    return os.path.relpath(path, base)


with tempfile.TemporaryDirectory(prefix="files-py.") as top:
    print("== write, read, append")
    p = os.path.join(top, "text.txt")
    with open(p, "w") as f:
        f.write("line one\nline two\n")
    with open(p, "a") as f:
        f.write("line three\n")
    with open(p) as f:
        print(f.read().splitlines())
    with open(p, "rb") as f:
        f.seek(5)
        print(f.read(3), f.tell())
    with open(p, "r+b") as f:
        f.seek(0, os.SEEK_END)
        print("size", f.tell())
        f.truncate(9)
    print("after truncate", os.path.getsize(p), open(p).read().encode())
    blob = bytes(range(256)) * 1024
    b = os.path.join(top, "blob.bin")
    with open(b, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    with open(b, "rb") as f:
        print("blob round trip", f.read() == blob)
    fd = os.open(b, os.O_RDWR)
    os.pwrite(fd, b"XYZ", 1000)
    print("pread", os.pread(fd, 5, 999))
    os.close(fd)

    print("== os.replace, os.rename, link, errors")
    q = os.path.join(top, "other.txt")
    with open(q, "w") as f:
        f.write("other\n")
    os.replace(q, p)
    print(sorted(os.listdir(top)), open(p).read().encode())
    os.link(p, os.path.join(top, "hard.txt"))
    print("nlink", os.stat(p).st_nlink)
    os.rename(os.path.join(top, "hard.txt"), os.path.join(top, "hard2.txt"))
    os.symlink("text.txt", os.path.join(top, "sym"))
    print("readlink", os.readlink(os.path.join(top, "sym")))
    for what, call in [
        ("O_EXCL", lambda: os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY)),
        ("open missing", lambda: open(os.path.join(top, "missing"))),
        ("rmdir non-empty", lambda: os.rmdir(top)),
        ("mkdir existing", lambda: os.mkdir(top)),
        ("unlink dir", lambda: os.unlink(top)),
        ("listdir file", lambda: os.listdir(p)),
        ("rename dir into itself", lambda: os.rename(top, os.path.join(top, "in"))),
    ]:
        try:
            call()
            print(what, "succeeded")
        except OSError as e:
            print(what, type(e).__name__, errno.errorcode[e.errno])
    os.utime(p, ns=(1_600_000_000_123_456_789, 1_700_000_000_987_654_321))
    st = os.stat(p)
    print("utime", st.st_atime_ns, st.st_mtime_ns)
    os.chmod(p, 0o640)
    print("chmod", oct(stat.S_IMODE(os.stat(p).st_mode)))

    print("== NamedTemporaryFile")
    with tempfile.NamedTemporaryFile("w+", dir=top, prefix="ntf.", suffix=".txt") as t:
        t.write("temporary data\n")
        t.flush()
        with open(t.name) as again:
            print("read by name", again.read().encode())
        t.seek(0)
        print("read back", t.read().encode())
        name = t.name
        print("exists while open", os.path.exists(name), rel(name, top).startswith("ntf."))
    print("exists after close", os.path.exists(name))
    with tempfile.NamedTemporaryFile(dir=top, delete=False) as t:
        t.write(b"kept")
    print("kept", open(t.name, "rb").read())
    os.unlink(t.name)
    with tempfile.TemporaryFile(dir=top) as t:
        t.write(b"anonymous")
        t.seek(0)
        print("TemporaryFile", t.read(), "listed" if any(
            n.startswith("tmp") for n in os.listdir(top)) else "not listed")

    print("== TemporaryDirectory")
    with tempfile.TemporaryDirectory(dir=top) as d:
        os.makedirs(os.path.join(d, "x", "y"))
        with open(os.path.join(d, "x", "y", "f"), "w") as f:
            f.write("f")
        os.symlink("x", os.path.join(d, "link"))
        print("inside", sorted(os.listdir(d)))
    print("removed", not os.path.exists(d))

    print("== shutil.copytree, filecmp.dircmp")
    src = os.path.join(top, "src")
    for sub in ["a", "a/b", "c"]:
        os.makedirs(os.path.join(src, sub))
    for name, data in [("a/one", "1"), ("a/b/two", "22"), ("c/three", "333"), ("top", "t")]:
        with open(os.path.join(src, name), "w") as f:
            f.write(data * 100)
    os.chmod(os.path.join(src, "a/one"), 0o600)
    os.symlink("a/one", os.path.join(src, "link"))
    dst = os.path.join(top, "dst")
    shutil.copytree(src, dst, symlinks=True)

    def report(cmp, indent=""):
        print(indent + "left_only", sorted(cmp.left_only), "right_only", sorted(cmp.right_only),
              "diff", sorted(cmp.diff_files), "same", sorted(cmp.same_files))
        for name in sorted(cmp.subdirs):
            print(indent + name + ":")
            report(cmp.subdirs[name], indent + "  ")

    report(filecmp.dircmp(src, dst))
    with open(os.path.join(dst, "a/b/two"), "w") as f:
        f.write("changed")
    os.remove(os.path.join(dst, "c/three"))
    with open(os.path.join(dst, "extra"), "w") as f:
        f.write("extra")
    report(filecmp.dircmp(src, dst))
    print("mode kept", oct(stat.S_IMODE(os.stat(os.path.join(dst, "a/one")).st_mode)))
    print("link kept", os.readlink(os.path.join(dst, "link")))
    print("mtime kept", os.stat(os.path.join(src, "top")).st_mtime_ns
          == os.stat(os.path.join(dst, "top")).st_mtime_ns)
    shutil.move(dst, os.path.join(top, "moved"))
    shutil.rmtree(os.path.join(top, "moved"))
    print("after rmtree", sorted(os.listdir(top)))

    print("== mmap")
    m = os.path.join(top, "mapped.bin")
    size = 3 * mmap.PAGESIZE + 100
    with open(m, "wb") as f:
        f.truncate(size)
    with open(m, "r+b") as f:
        mm = mmap.mmap(f.fileno(), size)
        mm[0:5] = b"start"
        mm[mmap.PAGESIZE:mmap.PAGESIZE + 6] = b"page 1"
        mm[size - 3:size] = b"end"
        mm.flush()
        mm.close()
    with open(m, "rb") as f:
        data = f.read()
    print("size", len(data), data[:5], data[mmap.PAGESIZE:mmap.PAGESIZE + 6], data[-3:],
          "zeros", data.count(0))
    # A write() is seen through an existing shared mapping.
    with open(m, "r+b") as f:
        mm = mmap.mmap(f.fileno(), 0)
        os.pwrite(f.fileno(), b"WRITTEN", 2 * mmap.PAGESIZE)
        print("write seen by the mapping", mm[2 * mmap.PAGESIZE:2 * mmap.PAGESIZE + 7])
        print("find", mm.find(b"page 1"), mm.rfind(b"end"))
        mm.close()
    # A private mapping's writes stay private.
    with open(m, "r+b") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        mm[0:5] = b"PRIVA"
        mm.close()
    print("private write not in file", open(m, "rb").read(5))
    with open(m, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        print("read-only mapping", mm[:5], len(mm))
        mm.close()

    print("== os.scandir")
    with os.scandir(top) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        st = e.stat(follow_symlinks=False)
        kind = "l" if e.is_symlink() else "d" if e.is_dir(follow_symlinks=False) else "f"
        size = "-" if kind == "d" else st.st_size
        print(e.name, kind, oct(stat.S_IMODE(st.st_mode)), size, e.is_file())
    print("== os.walk")
    for root, dirs, files in os.walk(src):
        dirs.sort()
        print(rel(root, top), sorted(dirs), sorted(files))
    print("== os.statvfs")
    sv = os.statvfs(top)
    print("statvfs sane", sv.f_bsize > 0 and sv.f_blocks >= sv.f_bfree >= sv.f_bavail)

print("top removed", not os.path.exists(top))
