#!/bin/sh
# Start-up (issue 15's verify benchmark): libpq, with its Kerberos, LDAP and GnuTLS, is loaded
# with dlopen only when the team history is used, as libcurl is on the first request, so a
# command that needs neither starts without them. When libpq cannot be loaded, a config naming a
# central server says so at its line (exit 2) instead of the binary not starting at all.
# keygen, sign and verify set nothing up: no config, no history, no operator lookup.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

test_expect_success 'the binary links neither libpq nor libcurl: they load on first use' '
	LD_TRACE_LOADED_OBJECTS=1 "$LIFEBOAT" >libs &&
	assert_contains libs "libcrypto.so" &&
	assert_not_contains libs "libpq" &&
	assert_not_contains libs "libcurl" &&
	assert_not_contains libs "libgssapi" &&
	assert_not_contains libs "libldap"
'

test_expect_success 'a central server but no loadable libpq: file:line, exit 2, nothing runs' '
	mkdir fake && : >fake/libpq.so.5 &&
	printf "central: { url: \"postgresql://lb@127.0.0.1:1/db\" }\n" >lifeboat.yaml &&
	write_runbook rb.lua <<-\EOF &&
	return runbook { name = "rb", phase "p" { step "s" { sh = "echo t1461 >>ran" } } }
	EOF
	LD_LIBRARY_PATH=$PWD/fake expect_code 2 "$LIFEBOAT" run --yes rb.lua 2>err &&
	assert_contains err "lifeboat.yaml:1:" &&
	assert_contains err "central.url: the team history needs libpq: cannot load libpq.so.5 (install libpq5):" &&
	assert_contains err "fake/libpq.so.5" &&
	test ! -e ran && test ! -e .lifeboat
'

test_expect_success 'with libpq loadable the same config is read (a bad url is still told apart)' '
	expect_code 0 lb check rb.lua >out &&
	printf "central: { url: \"postgresql://lb@[bad\" }\n" >lifeboat.yaml &&
	expect_code 2 lb check rb.lua 2>err &&
	assert_contains err "central.url: not a PostgreSQL connection string"
'

test_expect_success 'keygen, sign and verify touch no history, even at a --db that cannot be made' '
	mkdir k && cd k &&
	printf "environments: [unclosed\n" >lifeboat.yaml &&
	echo "print(1)" >f.lua &&
	LD_LIBRARY_PATH=$TEST_DIR/fake expect_code 0 "$LIFEBOAT" --db /nonexistent/h.db keygen ci >out &&
	expect_code 0 lb --db /nonexistent/h.db sign --key ci.key f.lua >out &&
	expect_code 0 lb --db /nonexistent/h.db verify --pub ci.pub f.lua >out &&
	assert_contains out "f.lua: ok, signed by key" &&
	test ! -e .lifeboat && test ! -e /nonexistent
'

test_done
