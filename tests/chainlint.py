#!/usr/bin/env python3
"""chainlint for tests/e2e, after git's t/chainlint: finds test bodies whose && chain is broken.

A test body runs under `set -e`, but the shell ignores -e for every command of an && list other
than the last, and inside a loop or an `if` that is part of one. So a command that is not chained
to the next with && can fail without failing the test, and a loop needs `|| return 1` (or
`|| exit 1`) after the last command of its body. Also flagged: `a && b &`, which puts all of
`a && b` in the background, not just b.

Usage: tests/chainlint.py FILE...   (exit 1 and one line per problem, FILE:LINE: what)
It reads the bodies of test_expect_success '...' '...' written the way tests/e2e writes them: the
body opens with a quote at the end of the title line and closes with a quote alone on its line.
"""
import re
import sys

OPENERS = ("do", "then", "else", "{", "(", "in", "|", "&&", "||", "\\")
CLOSERS = re.compile(r"^(done|fi|esac|else|elif|then|do|\}|\)|;;)")
CASE_ITEM = re.compile(r"^[^()\s]+(\s*\|\s*[^()\s]+)*\)(\s|$)")
LOOP_START = re.compile(r"^(while|until|for)\b")
HEREDOC = re.compile(r"<<-?\s*\\?['\"]?(\w+)")


def strip_comment(line):
    """The line without a trailing comment (a # after a space, outside quotes)."""
    out, quote = [], None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        out.append(c)
    return "".join(out).rstrip()


def bodies(lines):
    """(first line number, [lines]) of each test body."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("test_expect_success") and line.rstrip().endswith("'") \
                and line.count("'") % 2 == 1:
            start, body = i + 2, []
            i += 1
            while i < len(lines) and lines[i].rstrip() != "'":
                body.append(lines[i])
                i += 1
            yield start, body
        i += 1


def logical_lines(start, body):
    """(line number, text) of each command line: heredoc texts dropped, a line continued while a
    double quote or a $( is open, comments stripped."""
    out, i = [], 0
    while i < len(body):
        n, text = start + i, strip_comment(body[i].strip())
        i += 1
        while True:
            opened = open_quotes(text)
            if not opened or i >= len(body):
                break
            text += "\n" + body[i].strip()
            i += 1
        m = HEREDOC.search(text)
        if m:
            end = m.group(1)
            while i < len(body) and body[i].strip() != end:
                i += 1
            i += 1
        if text:
            out.append((n, text))
    return out


def open_quotes(text):
    """Whether text leaves a double quote or a $( open (each $( has its own quoting)."""
    stack, i = [False], 0  # per $( level: inside a double quote
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            stack[-1] = not stack[-1]
        elif text.startswith("$(", i):
            stack.append(False)
            i += 1
        elif c == ")" and not stack[-1] and len(stack) > 1:
            stack.pop()
        i += 1
    return stack[-1] or len(stack) > 1


# a line that cannot fail: `|| :`, `|| true`, `|| var=...`, a plain assignment, a one-line case
# whose branches only continue or break
CANNOT_FAIL = re.compile(r"\|\|\s*(:|true)$|\|\|\s*\w+=(\"[^\"`]*\"|[^\s$`]*)$"
                         r"|^\w+=(\"[^\"`]*\"|'[^']*'|[^\s$`]*)$"
                         r"|^case\b.*\bin\b(\s*[^()]*\)\s*(continue|break)?\s*;;)*\s*esac$")
HANDLED = re.compile(r"(\|\|\s*(return|exit)\s+1|[;|]\s*(return|exit)\s+1;?\s*\})$")
EXITS = re.compile(r"^(exit|return)\b|^false$")


def lint_body(path, start, body):
    problems = []
    logical = logical_lines(start, body)
    loops = 0
    for k, (n, text) in enumerate(logical):
        nxt = logical[k + 1][1] if k + 1 < len(logical) else None
        prev = logical[k - 1][1] if k else ""
        if LOOP_START.match(text) and not re.search(r"\bdone\b", text):
            loops += 1
        if text.startswith("done"):
            if loops and not re.search(r"\b(return|exit) 1\b", prev) \
                    and not re.match(r"^(break|continue|fi|esac|done)\b", prev) \
                    and not CANNOT_FAIL.search(prev):
                problems.append((n, "the loop body does not end with || return 1 (set -e is off inside it)"))
            loops = max(0, loops - 1)
        unquoted = re.sub(r'"(\\.|[^"\\])*"', '""', text)  # a loop inside a string is not run here
        for body_text in re.findall(r"\bdo\b(.*?)\bdone\b", unquoted):
            if not re.search(r"\b(return|exit) 1\b|\|\|\s*(true|:)\s*;?\s*$", body_text):
                problems.append((n, "the one-line loop does not end its body with || return 1 (set -e is off inside it)"))
        if text.endswith("&") and not text.endswith("&&"):
            # inside a subshell left open on this line, & backgrounds only what is in it
            if prev.endswith("&&") and text.count("(") <= text.count(")"):
                problems.append((n, "`a && b &` puts the whole chain in the background: do not end the line before it with &&"))
            continue
        if nxt is None:
            continue
        if text.endswith(OPENERS) or text.endswith(";") or (CASE_ITEM.match(text) and not text.endswith(";;")):
            continue
        if CLOSERS.match(nxt) or CASE_ITEM.match(nxt) or EXITS.match(text):
            continue
        if nxt.endswith("&") and not nxt.endswith("&&"):
            continue	# a background job starts a new chain
        if CANNOT_FAIL.search(text) or HANDLED.search(text):
            continue
        if re.match(r"^(for|while|until|if|case)\b", text) and not re.search(r"\b(done|fi|esac)\b", text):
            continue
        # before an exit or return in the same block, nothing needs chaining
        rest = [t for _, t in logical[k + 1:]]
        tail = next((t for t in rest if CLOSERS.match(t) or EXITS.match(t)), "")
        if EXITS.match(tail):
            continue
        problems.append((n, "broken && chain: '%s' is not chained to the next command" % text.split("\n")[0][-60:]))
    return ["%s:%d: %s" % (path, n, what) for n, what in problems]


def main(paths):
    found = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for start, body in bodies(lines):
            found += lint_body(path, start, body)
    for p in found:
        print(p)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
