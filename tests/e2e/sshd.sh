# tests/e2e/sshd.sh - a private OpenSSH server for the remote-host tests (t81xx), sourced after lib.sh.
#
#	sshd_start            starts sshd on 127.0.0.1 on a free port, as root (UsePAM no, StrictModes
#	                      no, its own host key, AuthorizedKeysFile, PidFile; MaxSessions and
#	                      MaxStartups raised so fan-out tests do not fail for the wrong reason),
#	                      and writes $SSH_DIR/config with the aliases:
#	                        h1 ... h8   the server (key known, client key authorized)
#	                        closed      127.0.0.1 on a port nobody listens on
#	                        hung        127.0.0.1 on a port whose listener accepts and never answers
#	                        stranger    the server, but with an empty known_hosts (unknown host key)
#	                      It also writes lifeboat.yaml (ssh.config, connect_timeout 2s, the groups
#	                      web: [h1, h2, h3], db: [h4], all: [h1 ... h8], bad: [h1, closed],
#	                      hung: [hung], stranger: [stranger]) unless SSHD_NO_CONFIG is set.
#	(source it as . "$LIFEBOAT_SRC/tests/e2e/sshd.sh")
#	rsh CMD               runs CMD on the "remote" side through a connection of its own
#	remote_count PAT      how many processes on the remote side match PAT (pgrep -f there)
# Only loopback addresses are used. Everything stops when the script exits.
# shellcheck disable=SC3043 # local, as in lib.sh

SSH_DIR=$TEST_DIR/.sshd

sshd_start () {
	local port closed hung i
	mkdir -p "$SSH_DIR" /run/sshd && chmod 700 "$SSH_DIR" || return 1
	ssh-keygen -q -t ed25519 -N '' -C lifeboat-test-host -f "$SSH_DIR/host_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -C lifeboat-test-client -f "$SSH_DIR/client_key" || return 1
	cp "$SSH_DIR/client_key.pub" "$SSH_DIR/authorized_keys" || return 1
	port=$(free_port) && closed=$(free_port) && hung=$(free_port) || return 1
	cat >"$SSH_DIR/sshd_config" <<-EOC
	Port $port
	ListenAddress 127.0.0.1
	HostKey $SSH_DIR/host_key
	AuthorizedKeysFile $SSH_DIR/authorized_keys
	PidFile $SSH_DIR/sshd.pid
	UsePAM no
	StrictModes no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	MaxSessions 200
	MaxStartups 200:30:400
	AcceptEnv MODEL_ROOT
	LogLevel ERROR
	EOC
	/usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log" || return 1
	wait_for "test -s '$SSH_DIR/sshd.pid'" 5 || return 1
	at_exit "kill \$(cat '$SSH_DIR/sshd.pid') 2>/dev/null"
	# a host that accepts connections and never says a word
	python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$hung" >/dev/null 2>&1 &
	echo $! >"$SSH_DIR/hung.pid"
	at_exit "kill \$(cat '$SSH_DIR/hung.pid') 2>/dev/null"
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$SSH_DIR/host_key.pub")" >"$SSH_DIR/known_hosts"
	: >"$SSH_DIR/empty_known_hosts"
	{
		for i in 1 2 3 4 5 6 7 8; do
			# each alias its own MODEL_ROOT: distinct "hosts" for runbooks/rolling-redeploy.lua
			printf 'Host h%s\n  HostName 127.0.0.1\n  Port %s\n  SetEnv MODEL_ROOT=%s/hosts/h%s\n' \
				"$i" "$port" "$TEST_DIR" "$i"
		done
		printf 'Host closed\n  HostName 127.0.0.1\n  Port %s\n' "$closed"
		printf 'Host hung\n  HostName 127.0.0.1\n  Port %s\n' "$hung"
		printf 'Host stranger\n  HostName 127.0.0.1\n  Port %s\n  UserKnownHostsFile %s\n' \
			"$port" "$SSH_DIR/empty_known_hosts"
		printf 'Host *\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n' \
			"$SSH_DIR/client_key" "$SSH_DIR/known_hosts"
		printf '  GlobalKnownHostsFile /dev/null\n  LogLevel ERROR\n'
	} >"$SSH_DIR/config"
	SSHD_PORT=$port
	if [ -z "${SSHD_NO_CONFIG:-}" ]; then
		cat >lifeboat.yaml <<-EOC
		hosts:
		  web: [h1, h2, h3]
		  db: [h4]
		  all: [h1, h2, h3, h4, h5, h6, h7, h8]
		  bad: [h1, closed]
		  hung: [hung]
		  stranger: [stranger]
		ssh:
		  config: $SSH_DIR/config
		  connect_timeout: 2s
		EOC
	fi
	wait_for "rsh true" 10
}

rsh () {
	ssh -F "$SSH_DIR/config" -o BatchMode=yes -o ControlMaster=no -o ControlPath=none h1 "$@"
}

# the pattern's first character in brackets, so the remote shell running pgrep does not match itself
remote_count () {
	local first rest
	first=$(printf %s "$1" | cut -c1) && rest=$(printf %s "$1" | cut -c2-)
	rsh "pgrep -fc '[$first]$rest' || true"
}
