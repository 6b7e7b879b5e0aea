#!/bin/sh
# The recovery library is part of the binary (SPEC 10): require "lifeboat.backup" and
# "lifeboat.data" work at a runbook's top level and inside a step, with require_signed too (there
# is no file to sign), and a lifeboat/ folder beside a runbook never stands in for them; docs/ and
# the editor definitions cover every function each module exports.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

lb -q keygen ci && mkdir keys && mv ci.* keys/ || _lb_bail "cannot make a key"
cat >lifeboat.yaml <<-\EOF
trust:
  keys: [keys/ci.pub]
environments:
  prod: { require_signed: true }
EOF
write_runbook rb.lua <<-\EOF
local backup = require "lifeboat.backup"
return runbook { name = "rb", phase "p" { step "s" { run = function()
	local data = require "lifeboat.data"   -- inside a step: the shipped library needs no signature
	assert(type(backup.policy_321) == "function" and type(data.psi) == "function")
	fs.write("ran", string.format("ks=%g\n", data.ks({ 1, 2, 3 }, { 3, 4, 5 })))
end } } }
EOF

test_expect_success 'signed runbook, require_signed: both modules load (top level and in a step)' '
	lb -q sign --key keys/ci.key rb.lua &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	test "$(cat ran)" = "ks=0.666667"
'

test_expect_success 'a lifeboat/ folder beside the runbook does not stand in for the shipped modules' '
	write_runbook lifeboat/backup.lua <<-\EOF &&
	return { policy_321 = function() error("the impostor ran") end, impostor = true }
	EOF
	write_runbook shadow.lua <<-\EOF &&
	local backup = require "lifeboat.backup"
	return runbook { name = "shadow", phase "p" { step "s" { run = function()
		assert(not backup.impostor, "the folder impostor was loaded")
		log("shipped manifest_verify: %s", type(backup.manifest_verify))
	end } } }
	EOF
	expect_code 0 lb run --yes shadow.lua >out &&
	assert_contains out "shipped manifest_verify: function" &&
	rm -r lifeboat
'

test_expect_success 'an unknown lifeboat.* module is an error naming it' '
	write_runbook nope.lua <<-\EOF &&
	local x = require "lifeboat.nope"
	return runbook { name = "nope", phase "p" { step "s" { sh = "true" } } }
	EOF
	expect_code 2 lb check nope.lua >out 2>&1 &&
	assert_contains out "module $(printf "\047")lifeboat.nope$(printf "\047") not found"
'

test_expect_success 'docs/recovery-library.md and editor/lifeboat/*.lua cover every exported function' '
	write_runbook list.lua <<-\EOF &&
	return runbook { name = "list", phase "p" { step "s" { run = function()
		local out = {}
		for _, m in ipairs({ "backup", "data" }) do
			for k, v in pairs(require("lifeboat." .. m)) do
				if type(v) == "function" then out[#out + 1] = m .. "." .. k end
			end
		end
		table.sort(out)
		fs.write("exports.txt", table.concat(out, "\n") .. "\n")
	end } } }
	EOF
	expect_code 0 lb run --yes list.lua >out &&
	test "$(wc -l <exports.txt)" -ge 12 &&
	missing= &&
	for f in $(cat exports.txt); do
		m=${f%%.*} &&
		grep -q "^function $f(" "$LIFEBOAT_SRC/editor/lifeboat/$m.lua" || missing="$missing editor:$f"
		grep -Eq "^### (.* )?$f[({]" "$LIFEBOAT_SRC/docs/recovery-library.md" || missing="$missing docs:$f"
	done &&
	grep -Eho "^function (backup|data)\.[a-z_0-9]+" "$LIFEBOAT_SRC"/editor/lifeboat/backup.lua \
		"$LIFEBOAT_SRC"/editor/lifeboat/data.lua | sed "s/^function //" | sort >declared &&
	sort exports.txt | comm -23 declared - >extra &&
	test -z "$missing$(cat extra)" || { echo "missing:$missing"; echo "declared, not exported:"; cat extra; false; } &&
	luacheck --no-color --no-config --no-global --no-unused --no-redefined --no-max-line-length \
		"$LIFEBOAT_SRC"/editor/lifeboat/*.lua >lint || { cat lint; false; } &&
	head -n 1 "$LIFEBOAT_SRC/editor/lifeboat/backup.lua" | grep -qx -- "---@meta lifeboat.backup" &&
	head -n 1 "$LIFEBOAT_SRC/editor/lifeboat/data.lua" | grep -qx -- "---@meta lifeboat.data"
'

test_done
