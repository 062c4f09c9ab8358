#!/usr/bin/env python3
"""Read a BitBake recipe the way bitbake would, for the little this
layer's recipes use, so CI can run and check them without bitbake.

    recipe.py [--set VAR=VALUE]... RECIPE [BBAPPEND...] COMMAND [ARG]

COMMAND:
  get VAR        print VAR, expanded
  task NAME      print shell function NAME (do_compile, ...), expanded
  files IMAGE    the packages the installed tree IMAGE (the recipe's ${D})
                 splits into, by PACKAGES and FILES:<pkg>, one "pkg path"
                 line each; an installed file or empty directory no
                 package takes, or a FILES entry of the recipe's own that
                 takes nothing, is an error
  lic SRCDIR     check LIC_FILES_CHKSUM's md5s against the sources
  patches        SRC_URI's file:// patches: each is found through
                 FILESEXTRAPATHS, and they are every *.patch of the
                 directory they are in, in order

Understood: VAR = / ?= / ??= / := / += / =+ / .= / =. "value" (with
backslash continuations), VAR:append / :prepend / :remove, override
suffixes in names (FILES:${PN}), `inherit`, shell functions NAME() {...},
${VAR} expansion. Not understood (an error, so the recipes stay within
it): inline Python ${@...}, conditional overrides, include/require.
Defaults are poky's bitbake.conf for the variables the recipes use;
--set replaces one. Exit status 1 when a check fails, 2 on bad input.
"""
import fnmatch
import hashlib
import os
import re
import sys

DEFAULTS = {
    "base_prefix": "",
    "prefix": "/usr",
    "exec_prefix": "${prefix}",
    "base_libdir": "${base_prefix}/lib",
    "nonarch_base_libdir": "${base_prefix}/lib",
    "bindir": "${exec_prefix}/bin",
    "sbindir": "${exec_prefix}/sbin",
    "libdir": "${exec_prefix}/lib",
    "libexecdir": "${exec_prefix}/libexec",
    "includedir": "${exec_prefix}/include",
    "datadir": "${prefix}/share",
    "docdir": "${datadir}/doc",
    "infodir": "${datadir}/info",
    "mandir": "${datadir}/man",
    "sysconfdir": "${base_prefix}/etc",
    "localstatedir": "${base_prefix}/var",
    "systemd_unitdir": "${nonarch_base_libdir}/systemd",
    "systemd_system_unitdir": "${nonarch_base_libdir}/systemd/system",
    "WORKDIR": "/workdir",
    "S": "${WORKDIR}/${BP}",
    "B": "${S}",
    "D": "${WORKDIR}/image",
    "BP": "${BPN}-${PV}",
    "SOLIBSDEV": ".so",
    "PACKAGE_BEFORE_PN": "",
    "PACKAGES": "${PN}-src ${PN}-dbg ${PN}-staticdev ${PN}-dev ${PN}-doc "
                "${PN}-locale ${PACKAGE_BEFORE_PN} ${PN}",
    "FILES:${PN}-dev": "${includedir} ${libdir}/lib*${SOLIBSDEV} "
                       "${libdir}/*.la ${libdir}/*.o ${libdir}/pkgconfig "
                       "${datadir}/pkgconfig ${datadir}/aclocal",
    "FILES:${PN}-staticdev": "${libdir}/*.a ${base_libdir}/*.a",
    "FILES:${PN}-doc": "${docdir} ${mandir} ${infodir}",
    "FILES:${PN}-locale": "${datadir}/locale",
    "FILES:${PN}": "${bindir}/* ${sbindir}/* ${libexecdir}/* "
                   "${libdir}/lib*.so.* ${sysconfdir} ${localstatedir} "
                   "${datadir}/${BPN}",
}

ASSIGN = re.compile(r'^([A-Za-z0-9_${}:.+-]+?)\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)'
                    r'\s*"(.*)"\s*$', re.S)
FUNC = re.compile(r'^([A-Za-z0-9_-]+)\s*\(\)\s*\{\s*$')
REF = re.compile(r'\$\{([A-Za-z0-9_:+-]+)\}')


class Recipe:
    def __init__(self, sets):
        self.vars = {}
        self.appends = {}       # name -> [(op, value)] for :append etc.
        self.funcs = {}
        self.own_files = set()  # FILES:<pkg> the recipes set themselves
        self.sets = sets
        self.thisdir = ""

    def get_raw(self, name):
        if name in self.sets:
            return self.sets[name]
        if name == "THISDIR":
            return self.thisdir
        if name in self.vars:
            return self.vars[name]
        if name in DEFAULTS:
            return DEFAULTS[name]
        return None

    def expand(self, text, depth=0):
        if "${@" in text:
            raise SystemExit("recipe.py: inline Python is not understood: "
                             + text)
        if depth > 30:
            raise SystemExit("recipe.py: recursive expansion: " + text)

        def one(m):
            v = self.value(m.group(1), depth + 1)
            return m.group(0) if v is None else v
        new = REF.sub(one, text)
        return new if new == text else self.expand(new, depth + 1)

    def value(self, name, depth=0):
        raw = self.get_raw(name)
        if raw is None and "${" not in name:
            # FILES:${PN}-doc is stored under its expanded name
            for key in DEFAULTS:
                if "${" in key and self.expand(key, depth + 1) == name:
                    raw = DEFAULTS[key]
                    break
        if raw is None and name in self.appends:
            raw = ""
        if raw is None:
            return None
        for op, val in self.appends.get(name, []):
            if op == "append":
                raw = raw + val
            elif op == "prepend":
                raw = val + raw
        out = self.expand(raw, depth + 1)
        for op, val in self.appends.get(name, []):
            if op == "remove":
                gone = set(self.expand(val, depth + 1).split())
                out = " ".join(w for w in out.split() if w not in gone)
        return out

    def assign(self, key, op, val):
        key = self.expand(key)
        base, _, suffix = key.rpartition(":")
        if suffix in ("append", "prepend", "remove"):
            if op == ":=":
                val = self.expand(val)
            elif op != "=":
                raise SystemExit("recipe.py: %s %s is not understood"
                                 % (key, op))
            self.appends.setdefault(base, []).append((suffix, val))
            return
        old = self.get_raw(key) if key not in self.sets else None
        if key.startswith("FILES:"):
            self.own_files.add(key)
        if op == "=":
            self.vars[key] = val
        elif op in ("?=", "??="):
            if key not in self.vars:
                self.vars[key] = val
        elif op == ":=":
            self.vars[key] = self.expand(val)
        elif op == "+=":
            self.vars[key] = (old + " " if old else "") + val
        elif op == "=+":
            self.vars[key] = val + (" " + old if old else "")
        elif op == ".=":
            self.vars[key] = (old or "") + val
        elif op == "=.":
            self.vars[key] = val + (old or "")

    def parse(self, path, is_append):
        self.thisdir = os.path.dirname(os.path.abspath(path))
        name = os.path.basename(path).rsplit(".", 1)[0]
        pn, _, pv = name.partition("_")
        # a bbappend read alone: the recipe it names (xen-tools_%)
        self.vars.setdefault("PN", pn)
        self.vars.setdefault("BPN", pn)
        if not is_append:
            self.vars.setdefault("PV", pv or "1.0")
        with open(path) as f:
            lines = f.read().split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = FUNC.match(line)
            if m:
                body = []
                while i < len(lines) and lines[i].rstrip() != "}":
                    body.append(lines[i])
                    i += 1
                i += 1
                self.funcs[m.group(1)] = "\n".join(body)
                continue
            while line.endswith("\\") and i < len(lines):
                line = line[:-1] + lines[i]
                i += 1
            if line.startswith("inherit "):
                continue
            m = ASSIGN.match(line)
            if not m:
                raise SystemExit("recipe.py: %s:%d: not understood: %s"
                                 % (path, i, line))
            self.assign(m.group(1), m.group(2), m.group(3))


def claimed(path, pattern):
    pattern = pattern.rstrip("/")
    p = path
    while p:
        if p == pattern or fnmatch.fnmatchcase(p, pattern):
            return True
        p = os.path.dirname(p) if p != "/" else ""
        if p == "/":
            break
    return False


def installed(image):
    out = []
    for root, dirs, files in os.walk(image):
        rel = "/" + os.path.relpath(root, image) if root != image else ""
        for f in files:
            out.append(rel + "/" + f)
        for d in dirs:
            full = os.path.join(root, d)
            if os.path.islink(full) or not os.listdir(full):
                out.append(rel + "/" + d)
    return sorted(out)


def cmd_files(r, image):
    if not os.path.isdir(image):
        raise SystemExit("recipe.py: no directory " + image)
    pkgs = r.value("PACKAGES").split()
    pats = {p: (r.value("FILES:" + p) or "").split() for p in pkgs}
    used = set()
    bad = 0
    for path in installed(image):
        owner = None
        for p in pkgs:
            for pat in pats[p]:
                if claimed(path, pat):
                    owner = p
                    used.add((p, pat))
                    break
            if owner:
                break
        if owner:
            print(owner, path)
        else:
            print("NOT SHIPPED", path, "(installed, in no package's FILES)")
            bad = 1
    for key in sorted(r.own_files):
        p = key.split(":", 1)[1]
        for pat in pats.get(p, []):
            if (p, pat) not in used:
                print("NOT INSTALLED", p, pat, "(in FILES, matches nothing)")
                bad = 1
    return bad


def cmd_lic(r, srcdir):
    bad = 0
    entries = (r.value("LIC_FILES_CHKSUM") or "").split()
    if not entries:
        print("LIC_FILES_CHKSUM is empty")
        return 1
    for e in entries:
        url, *params = e.split(";")
        opts = dict(p.split("=", 1) for p in params)
        path = os.path.join(srcdir, url[len("file://"):])
        begin = int(opts.get("beginline", 0))
        end = int(opts.get("endline", 0))
        m = hashlib.md5()
        with open(path, "rb") as f:
            for n, line in enumerate(f, 1):
                if n >= begin and (not end or n <= end):
                    m.update(line)
        ok = m.hexdigest() == opts.get("md5")
        print("%s %s md5 %s" % ("ok" if ok else "MISMATCH", url,
                                m.hexdigest()))
        bad |= not ok
    return bad


def cmd_patches(r):
    dirs = [d for d in (r.value("FILESEXTRAPATHS") or "").split(":") if d]
    want = [u[len("file://"):].split(";")[0]
            for u in (r.value("SRC_URI") or "").split()
            if u.startswith("file://") and ".patch" in u]
    if not want:
        print("no file:// patch in SRC_URI")
        return 1
    bad = 0
    where = set()
    for p in want:
        found = [d for d in dirs if os.path.isfile(os.path.join(d, p))]
        if not found:
            print("MISSING", p, "in", " ".join(dirs))
            bad = 1
            continue
        print("ok", os.path.normpath(os.path.join(found[0], p)))
        where.add(found[0])
    for d in where:
        have = sorted(f for f in os.listdir(d) if f.endswith(".patch"))
        if have != want:
            print("SERIES DIFFERS: %s has %s, SRC_URI lists %s"
                  % (os.path.normpath(d), have, want))
            bad = 1
    return bad


def main(argv):
    sets = {}
    while len(argv) > 1 and argv[0] == "--set":
        k, _, v = argv[1].partition("=")
        sets[k] = v
        argv = argv[2:]
    files = [a for a in argv if a.endswith((".bb", ".bbappend"))]
    rest = argv[len(files):]
    if not files or not rest:
        print(__doc__, file=sys.stderr)
        return 2
    r = Recipe(sets)
    for f in files:
        r.parse(f, f.endswith(".bbappend"))
    cmd, args = rest[0], rest[1:]
    if cmd == "get" and len(args) == 1:
        v = r.value(args[0])
        if v is None:
            print("recipe.py: %s is not set" % args[0], file=sys.stderr)
            return 1
        print(v)
        return 0
    if cmd == "task" and len(args) == 1:
        if args[0] not in r.funcs:
            print("recipe.py: no function " + args[0], file=sys.stderr)
            return 1
        print(r.expand(r.funcs[args[0]]))
        return 0
    if cmd == "files" and len(args) == 1:
        return cmd_files(r, args[0])
    if cmd == "lic" and len(args) == 1:
        return cmd_lic(r, args[0])
    if cmd == "patches" and not args:
        return cmd_patches(r)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
