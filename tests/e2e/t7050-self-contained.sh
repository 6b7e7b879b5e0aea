#!/bin/sh
# The repository is self-contained: no tracked file refers to the developers' folder beside the
# project or to anything else outside the repository, every relative link in the Markdown files
# lands on a file of the repository, and what the tests need (the JUnit schema) is in it. A
# stranger's clone, or `git archive HEAD` unpacked alone, has nothing else.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

# outside_refs ROOT: prints FILE:LINE:TEXT for each line of ROOT's files that points outside the
# repository. The files are git's tracked files when ROOT is a git work tree, else every file
# (an unpacked archive), build folders aside. The patterns are written so that they do not match
# this file: "[s]hared" matches "shared", not the bracketed text.
cat >scan.py <<-\PY
import os, re, subprocess, sys
root = sys.argv[1]
try:
    files = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                           capture_output=True).stdout.decode().split("\0")
    files = [f for f in files if f]
except (subprocess.CalledProcessError, FileNotFoundError):
    files = []
    for d, dirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs[:] = [x for x in dirs if not (rel == "." and (x.startswith("build") or x == ".git"))]
        files += [os.path.normpath(os.path.join(rel, n)) for n in names]
bad = [
    re.compile(r"\.\./+[s]hared\b"),            # the folder beside the project
    re.compile(r"/work/+[s]hared\b"),
    re.compile(r"/work/+(main|wt-)[A-Za-z-]*/"), # a developer's checkout
    re.compile(r"LIFEBOAT_[S]RC[}\"]*/\.\."),   # climbing out of the repository in a test
]
found = 0
for f in sorted(files):
    p = os.path.join(root, f)
    if not os.path.isfile(p) or os.path.islink(p):
        continue
    data = open(p, "rb").read()
    if b"\0" in data[:8192]:
        continue   # binary (a PNG)
    for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if any(r.search(line) for r in bad):
            print("%s:%d:%s" % (f, n, line.strip())); found += 1
    if f.endswith(".md"):
        text = data.decode("utf-8", "replace")
        for m in re.finditer(r"\]\(([^)\s#]+)(#[^)]*)?\)", text):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue   # a URL
            n = text.count("\n", 0, m.start()) + 1
            dest = os.path.normpath(os.path.join(root, os.path.dirname(f), target))
            if os.path.relpath(dest, root).startswith(".."):
                print("%s:%d: link leaves the repository: %s" % (f, n, target)); found += 1
            elif not os.path.exists(dest):
                print("%s:%d: link to a missing file: %s" % (f, n, target)); found += 1
sys.exit(1 if found else 0)
PY

test_expect_success 'the scan finds a planted reference to the folder beside the project' '
	mkdir -p planted/docs &&
	printf "see ../%s/SPEC.md\n" shared >planted/notes.txt &&
	printf "[spec](../../%s/SPEC.md) and [here](present.md)\n" shared >planted/docs/a.md &&
	: >planted/docs/present.md &&
	printf "x=\$LIFEBOAT_%s/../elsewhere\n" SRC >planted/t.sh &&
	expect_code 1 python3 scan.py planted >found &&
	assert_contains found "notes.txt:1:see ../" &&
	assert_contains found "t.sh:1:" &&
	assert_contains found "docs/a.md:1: link leaves the repository" &&
	assert_not_contains found "missing file: present.md" &&
	printf "[gone](missing.md)\n" >planted/docs/b.md &&
	expect_code 1 python3 scan.py planted >found &&
	assert_contains found "docs/b.md:1: link to a missing file: missing.md"
'

test_expect_success 'no file of the repository refers to anything outside it' '
	python3 scan.py "$LIFEBOAT_SRC" >found || { cat found; false; }
'

test_expect_success 'the JUnit schema the tests use is in the repository, with its MIT licence' '
	xsd=$LIFEBOAT_SRC/tests/schemas/junit-10.xsd &&
	xmllint --noout "$xsd" &&
	assert_contains "$xsd" "The MIT License (MIT)" &&
	assert_contains "$xsd" "Copyright (c) 2014, Gregory Boissinot" &&
	assert_contains "$xsd" "jenkinsci/xunit-plugin"
'

# setup_packages: the Debian packages scripts/setup.sh installs, one a line.
setup_packages () {
	sed -n '/^packages=(/,/^)/p' "$LIFEBOAT_SRC/scripts/setup.sh" |
		sed -e 's/#.*//' -e 's/^packages=(//' -e 's/)$//' | tr -s ' \t' '\n' | sed '/^$/d'
}

test_expect_success 'setup.sh installs the package of every tool the tests call' '
	setup_packages >pkgs &&
	test "$(wc -l <pkgs)" -gt 10 &&
	for pair in curl:curl xmllint:libxml2-utils sqlite3:sqlite3 python3:python3 tmux:tmux \
		pgrep:procps killall:psmisc chromium:chromium git:git cmake:cmake cc:build-essential \
		luacheck:lua-check debootstrap:debootstrap man:man-db scdoc:scdoc \
		"jsonschema (python module):python3-jsonschema"; do
		grep -qx "${pair##*:}" pkgs || { echo "setup.sh lacks ${pair##*:} (for ${pair%:*})"; return 1; }
	done
'

test_done
