#!/bin/sh
# The recovery library's backup checks (SPEC 10, require "lifeboat.backup") on real files:
# manifest_verify finds a corrupted and a missing file as sha256sum -c does; newest() passes over
# a newer copy that does not verify and says so; policy_321 names each finding that fails (only
# two copies, no copy that truly refuses writes — a 0444 copy does not stop root —, an old newest
# copy, a corrupted copy) and passes with a copy on a read-only bind mount, which it checks
# without changing a byte of any copy.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# m/: four files and their SHA256SUMS (names with a space and in a subfolder)
mkdir -p m/sub && echo alpha >m/a && echo beta >m/b && echo gamma >m/sub/c && echo delta >"m/d e" &&
(cd m && sha256sum a b sub/c "d e" >SHA256SUMS) || _lb_bail "cannot make m/"

write_runbook manifest.lua <<-\EOF
local backup = require "lifeboat.backup"
return runbook { name = "manifest", params = { manifest = "" }, phase "p" { step "verify" { run = function(ctx)
	local ok, bad, missing = backup.manifest_verify(ctx.params.manifest)
	if ok == nil then
		fs.write("result.txt", "error " .. bad .. "\n")
		return
	end
	fs.write("result.txt", string.format("ok=%s\nbad=%s\nmissing=%s\n", tostring(ok),
		table.concat(bad, ","), table.concat(missing, ",")))
end } } }
EOF

test_expect_success 'manifest_verify: all files verify' '
	expect_code 0 lb --db h.db run --yes manifest.lua -p manifest=m/SHA256SUMS >out &&
	test "$(cat result.txt)" = "$(printf "ok=true\nbad=\nmissing=")"
'

test_expect_success 'manifest_verify: a corrupted and a missing file, as sha256sum -c finds them' '
	echo BETA >m/b && rm m/sub/c &&
	expect_code 0 lb --db h.db run --yes manifest.lua -p manifest=m/SHA256SUMS >out &&
	test "$(cat result.txt)" = "$(printf "ok=false\nbad=b\nmissing=sub/c")" &&
	(cd m && ! sha256sum -c SHA256SUMS >../sums.out 2>&1) &&
	grep -q "^b: FAILED\$" sums.out && grep -q "^sub/c: FAILED open or read\$" sums.out &&
	grep -q "^a: OK\$" sums.out && grep -q "^d e: OK\$" sums.out
'

test_expect_success 'manifest_verify: sha256sum --tag lines; a line that is not sha256sum is an error with its line' '
	(cd m && sha256sum --tag a >tagged.sha256 && printf "%s\n" "$(sha256sum a)" "not a checksum" >bad.sha256) &&
	expect_code 0 lb --db h.db run --yes manifest.lua -p manifest=m/tagged.sha256 >out &&
	test "$(head -n 1 result.txt)" = ok=true &&
	expect_code 0 lb --db h.db run --yes manifest.lua -p manifest=m/bad.sha256 >out &&
	test "$(cat result.txt)" = "error m/bad.sha256:2: not a sha256sum line (HASH, two spaces, file name)" &&
	: >m/empty.sha256 &&
	expect_code 0 lb --db h.db run --yes manifest.lua -p manifest=m/empty.sha256 >out &&
	test "$(cat result.txt)" = "error m/empty.sha256: lists no files"
'

# snaps/: features-1..3.db with NAME.sha256 beside each, an hour apart, and a folder copy
snapshot () { # NAME AGE: snaps/NAME with its checksum, both AGE old (touch -d)
	echo "snapshot $1" >"snaps/$1" &&
	(cd snaps && sha256sum "$1" >"$1.sha256") &&
	touch -d "$2" "snaps/$1" "snaps/$1.sha256"
}
mkdir snaps && snapshot features-1.db "4 hours ago" && snapshot features-2.db "3 hours ago" &&
	snapshot features-3.db "2 hours ago" || _lb_bail "cannot make snaps/"

write_runbook newest.lua <<-\EOF
local backup = require "lifeboat.backup"
return runbook { name = "newest", params = { pattern = "" }, phase "p" { step "find" { run = function(ctx)
	local copy, err = backup.newest("snaps", ctx.params.pattern)
	if not copy then
		fs.write("newest.txt", "none: " .. err .. "\n")
		return
	end
	local lines = { "newest=" .. copy.name, string.format("age=%d", math.floor(now() - copy.time + 0.5)) }
	for _, s in ipairs(copy.skipped) do lines[#lines + 1] = "skipped " .. s.why end
	fs.write("newest.txt", table.concat(lines, "\n") .. "\n")
end } } }
EOF

test_expect_success 'newest: the newest copy whose checksum verifies' '
	expect_code 0 lb --db h.db run --yes newest.lua -p pattern="^features%-.*%.db\$" >out &&
	test "$(head -n 2 newest.txt)" = "$(printf "newest=features-3.db\nage=7200")"
'

test_expect_success 'newest: a newer torn copy and a newer copy without a checksum are passed over, named' '
	snapshot features-4.db "1 hour ago" && echo torn >>snaps/features-4.db && touch -d "1 hour ago" snaps/features-4.db &&
	echo "no checksum" >snaps/features-5.db &&
	expect_code 0 lb --db h.db run --yes newest.lua -p pattern="^features%-.*%.db\$" >out &&
	cat newest.txt &&
	test "$(head -n 1 newest.txt)" = newest=features-3.db &&
	assert_contains newest.txt "skipped snaps/features-5.db.sha256: no checksum beside the copy" &&
	assert_contains newest.txt "skipped snaps/features-4.db.sha256: bad: features-4.db" &&
	mkdir snaps/full-1 && cp m/a snaps/full-1/ && (cd snaps/full-1 && sha256sum a >SHA256SUMS) &&
	expect_code 0 lb --db h.db run --yes newest.lua -p pattern="^full" >out &&
	test "$(head -n 1 newest.txt)" = newest=full-1 &&
	expect_code 0 lb --db h.db run --yes newest.lua -p pattern="^nothing" >out &&
	test "$(cat newest.txt)" = "none: snaps: no copy matches \"^nothing\""
'

test_expect_success 'newest: accept() passes over a copy that verifies but is refused, with its reason' '
	write_runbook accept.lua <<-\EOF &&
	local backup = require "lifeboat.backup"
	return runbook { name = "accept", phase "p" { step "find" { run = function()
		local copy = assert(backup.newest("snaps", "^features%-.*%.db$", { accept = function(path)
			if path:find("features%-3") then return false, "labels flipped" end
			return true
		end }))
		local lines = { "newest=" .. copy.name }
		for _, s in ipairs(copy.skipped) do lines[#lines + 1] = "skipped " .. s.why end
		local none, err = backup.newest("snaps", "^features%-.*%.db$", { accept = function() return false end })
		lines[#lines + 1] = tostring(none) .. " " .. err:sub(1, 80)
		fs.write("accept.txt", table.concat(lines, "\n") .. "\n")
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes accept.lua >out &&
	cat accept.txt &&
	test "$(head -n 1 accept.txt)" = newest=features-2.db &&
	assert_contains accept.txt "skipped snaps/features-3.db: not accepted: labels flipped" &&
	assert_contains accept.txt "nil snaps: none of the 5 copies matching \"^features%-.*%.db\$\" verifies and"
'

# The 3-2-1 copies: each a folder with a database and its SHA256SUMS, all 1 hour old.
HOUR_AGO=$(( $(date +%s) - 3600 ))
copy () { # DIR: a verified copy of the same snapshot
	mkdir -p "$1" && cp snaps/features-2.db "$1/features.db" &&
	(cd "$1" && sha256sum features.db >SHA256SUMS) &&
	touch -d "@$HOUR_AGO" "$1/features.db" "$1/SHA256SUMS"
}
copy local && copy nas && copy offsite && copy vault-src && mkdir vault || _lb_bail "cannot make the copies"

write_runbook policy.lua <<-\EOF
local backup = require "lifeboat.backup"
return runbook { name = "policy", params = { policy = "" }, phase "p" { step "3-2-1" { run = function(ctx)
	local r = backup.policy_321(json.decode(fs.read(ctx.params.policy)))
	local lines = {}
	for _, f in ipairs(r.findings) do lines[#lines + 1] = f.name .. " " .. (f.ok and "ok" or "FAIL") end
	fs.write("findings.txt", table.concat(lines, "\n") .. "\n")
	backup.check(r, "3-2-1")
end } } }
EOF

policy () { # MAX_AGE COPY...: policy.json; a COPY is PATH:MEDIA[:offsite][:immutable]
	local age="$1"
	shift
	/usr/bin/python3 - "$age" "$@" >policy.json <<-\PY
	import json, sys
	copies = []
	for spec in sys.argv[2:]:
	    parts = spec.split(":")
	    copies.append({"path": parts[0], "media": parts[1], "offsite": "offsite" in parts[2:],
	                   "immutable": "immutable" in parts[2:]})
	print(json.dumps({"copies": copies, "max_age": sys.argv[1]}))
	PY
}

# findings_are LINE...: findings.txt is exactly these lines
findings_are () {
	printf "%s\n" "$@" >want.txt &&
	{ cmp -s want.txt findings.txt || { diff want.txt findings.txt; false; }; }
}

# fingerprint: every copy's bytes and times, to show the checks change nothing
fingerprint () {
	find local nas offsite vault-src -type f -exec sha256sum {} + | sort &&
	find local nas offsite vault-src -printf "%p %M %T@\n" | sort
}

# vault: a read-only bind mount of vault-src, made here as root (the kernel refuses root there)
test_expect_success 'policy_321: only two copies: three_copies fails, the rest passes' '
	chmod -R a-w offsite &&
	mount --bind vault-src vault && at_exit "umount $TEST_DIR/vault" &&
	mount -o remount,ro,bind vault &&
	policy 1d local:disk vault:tape:offsite:immutable &&
	expect_code 1 lb --db h.db run --yes policy.lua -p policy=policy.json >out &&
	findings_are "three_copies FAIL" "two_media ok" "one_offsite ok" "one_immutable ok" "checksums ok" "max_age ok" &&
	assert_contains out "✗ three_copies: 2 verified copies of 2 (local, vault), at least 3 needed" &&
	assert_contains out "3-2-1 failed: three_copies (2 verified copies of 2 (local, vault), at least 3 needed)"
'

test_expect_success 'policy_321: no copy refuses writes (mode 0444 does not stop root): one_immutable fails' '
	fingerprint >before &&
	policy 1d local:disk nas:nfs offsite:s3:offsite:immutable &&
	expect_code 1 lb --db h.db run --yes policy.lua -p policy=policy.json >out &&
	findings_are "three_copies ok" "two_media ok" "one_offsite ok" "one_immutable FAIL" "checksums ok" "max_age ok" &&
	test "$(id -u)" = 0 &&
	assert_contains out "offsite is marked immutable but $TEST_DIR/offsite: writable by this process (uid 0)" &&
	fingerprint >after && cmp before after
'

test_expect_success 'policy_321: a copy on a read-only bind mount is immutable; everything passes' '
	policy 1d local:disk nas:nfs offsite:s3:offsite vault:tape:immutable &&
	expect_code 0 lb --db h.db run --yes policy.lua -p policy=policy.json >out &&
	findings_are "three_copies ok" "two_media ok" "one_offsite ok" "one_immutable ok" "checksums ok" "max_age ok" &&
	assert_contains out "✓ one_immutable: 1 verified copy refusing writes by this process (vault), at least 1 needed: read-only file system" &&
	assert_contains out "✓ two_media: 4 media among the verified copies (disk, nfs, s3, tape), at least 2 needed" &&
	fingerprint >after && cmp before after &&
	ln -s vault vault-link &&
	policy 1d local:disk nas:nfs offsite:s3:offsite vault-link:tape:immutable &&
	expect_code 0 lb --db h.db run --yes policy.lua -p policy=policy.json >out &&
	assert_contains out "(vault-link), at least 1 needed: read-only file system"
'

test_expect_success 'policy_321: chattr +i on the copy and every file in it is immutable; on the folder alone it is not' '
	copy attr && chattr +i attr && at_exit "chattr -R -i $TEST_DIR/attr" &&
	policy 1d local:disk nas:nfs offsite:s3:offsite attr:tape:immutable &&
	expect_code 1 lb --db h.db run --yes policy.lua -p policy=policy.json >out &&
	findings_are "three_copies ok" "two_media ok" "one_offsite ok" "one_immutable FAIL" "checksums ok" "max_age ok" &&
	assert_contains out "attr is marked immutable but $TEST_DIR/attr/SHA256SUMS: writable by this process (uid 0)" &&
	chattr +i attr/SHA256SUMS attr/features.db &&
	expect_code 0 lb --db h.db run --yes policy.lua -p policy=policy.json >out &&
	assert_contains out "(attr), at least 1 needed: immutable (the kernel refuses even root: chattr +i)" &&
	chattr -R -i attr
'

test_expect_success 'policy_321: the newest copy older than max_age fails max_age' '
	policy 30m local:disk nas:nfs offsite:s3:offsite vault:tape:immutable &&
	expect_code 1 lb --db h.db run --yes policy.lua -p policy=policy.json >out &&
	findings_are "three_copies ok" "two_media ok" "one_offsite ok" "one_immutable ok" "checksums ok" "max_age FAIL" &&
	assert_contains out "✗ max_age: the newest verified copy (local) is 1h old, over 30m"
'

test_expect_success 'policy_321: a corrupted copy fails checksums and does not count' '
	echo torn >>nas/features.db &&
	policy 1d local:disk nas:nfs offsite:s3:offsite vault:tape:immutable &&
	expect_code 1 lb --db h.db run --yes policy.lua -p policy=policy.json >out &&
	findings_are "three_copies ok" "two_media ok" "one_offsite ok" "one_immutable ok" "checksums FAIL" "max_age ok" &&
	assert_contains out "✗ checksums: nas/SHA256SUMS: bad: features.db" &&
	assert_contains out "✓ three_copies: 3 verified copies of 4 (local, offsite, vault), at least 3 needed"
'

test_expect_success 'policy_321: misuse raises (missing max_age, unknown key, bad duration)' '
	printf "{\"copies\": [{\"path\": \"local\"}], \"max_age\": \"1d\"}" >p1.json &&
	printf "{\"copies\": [], \"maxage\": \"1d\"}" >p2.json &&
	printf "{\"copies\": [], \"max_age\": \"soon\"}" >p3.json &&
	expect_code 1 lb --db h.db run --yes policy.lua -p policy=p1.json >out &&
	assert_contains out "policy_321: copies[1] needs media = a name for the kind of storage" &&
	expect_code 1 lb --db h.db run --yes policy.lua -p policy=p2.json >out &&
	assert_contains out "policy_321: unknown key $(printf "\047")maxage$(printf "\047") (known: copies, max_age)" &&
	expect_code 1 lb --db h.db run --yes policy.lua -p policy=p3.json >out &&
	assert_contains out "policy_321: max_age: $(printf "\047")soon$(printf "\047") is not a duration" &&
	umount vault
'

test_done
