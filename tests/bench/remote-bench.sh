#!/usr/bin/env bash
# Remote steps (SPEC 8) against baselines measured in the same run, on a private sshd on 127.0.0.1
# (prints ratios and the load average; it does not fail on a busy machine):
#  1. a step running `true` on 8 host aliases, connections warm, against `xargs -P 8` of the same
#     `ssh` with the same ControlMaster settings, and against Ansible
#     (`ansible all -i INV -f 8 -m command -a true`, Debian's ansible-core, installed if missing);
#  2. 64 instances (64 aliases of the one sshd) with ssh.parallel = 16, against 64/16 rounds of one
#     instance and against `xargs -P 16` of the same `ssh` over 64 warm masters (which shows what
#     the machine can do: each session starts the remote user's shell, and its start-up files can
#     cost more CPU than the command, which 2 cores cannot run 16 at a time), and lifeboat's peak
#     memory.
# Usage: bash tests/bench/remote-bench.sh [LIFEBOAT]   (as root; default ./build/lifeboat)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/bench/bench-lib.sh
. tests/bench/bench-lib.sh	# median_of
LB=$(realpath "${1:-build/lifeboat}")
REPS=${REPS:-5}

if ! command -v ansible >/dev/null 2>&1; then
	echo "remote-bench: installing ansible-core (Debian) for the comparison"
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends ansible-core >/dev/null
fi

W=$(mktemp -d /tmp/lifeboat-remote-bench.XXXXXX)
cleanup() {
	[ -f "$W/sshd.pid" ] && kill "$(cat "$W/sshd.pid")" 2>/dev/null || true
	for s in "$W"/ctl/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x >/dev/null 2>&1 || true; done
	rm -rf "$W"
}
trap cleanup EXIT
cd "$W"
mkdir -p -m 700 ctl
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ssh-keygen -q -t ed25519 -N '' -f host_key && ssh-keygen -q -t ed25519 -N '' -f client_key
cp client_key.pub authorized_keys
port=$(free_port)
cat >sshd_config <<EOC
Port $port
ListenAddress 127.0.0.1
HostKey $W/host_key
AuthorizedKeysFile $W/authorized_keys
PidFile $W/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
PermitRootLogin prohibit-password
MaxSessions 200
MaxStartups 400:30:800
LogLevel ERROR
EOC
mkdir -p /run/sshd
/usr/sbin/sshd -f "$W/sshd_config"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 host_key.pub)" >known_hosts
{
	for i in $(seq 1 64); do printf 'Host h%s\n  HostName 127.0.0.1\n  Port %s\n' "$i" "$port"; done
	printf 'Host *\n  User root\n  IdentityFile %s/client_key\n  IdentitiesOnly yes\n  UserKnownHostsFile %s/known_hosts\n  LogLevel ERROR\n' "$W" "$W"
} >ssh_config
for _ in $(seq 50); do ssh -F ssh_config -o BatchMode=yes h1 true 2>/dev/null && break; sleep 0.1; done

hosts8=$(printf 'h%s, ' $(seq 1 8)); hosts64=$(printf 'h%s, ' $(seq 1 64))
cat >lifeboat.yaml <<EOC
hosts:
  eight: [${hosts8%, }]
  all: [${hosts64%, }]
ssh: { config: $W/ssh_config, parallel: 16 }
EOC
cat >warm8.lua <<'EOC'
return runbook { name = "warm8", phase "p" {
  step "warm up" { sh = "true", on = "eight" },
  step "true" { sh = "true", on = "eight" } } }
EOC
cat >fan64.lua <<'EOC'
return runbook { name = "fan64", phase "p" {
  step "warm up" { sh = "true", on = "all" },
  step "one" { sh = "true", on = "h1" },
  step "64" { sh = "true", on = "all" } } }
EOC
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
step_s() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["phases"][0]["steps"][int(sys.argv[2])]["duration_s"])' "$@"; }

# 1. eight hosts, warm: lifeboat's second step
: >lb8
for _ in $(seq "$REPS"); do
	"$LB" --db h.db run --yes warm8.lua --report w.json >/dev/null
	step_s w.json 1 >>lb8
done
# xargs_ssh FIRST N P OUT: masters for hFIRST..hN (ControlPersist), then REPS times `true` on h1..hN
# through them, P at a time (xargs -P), the seconds of each appended to OUT
xargs_ssh() {
	for i in $(seq "$1" "$2"); do
		ssh -F ssh_config -o BatchMode=yes -o ControlMaster=yes -o ControlPersist=60 -o ControlPath="$W/ctl/m$i" -N "h$i"
	done
	: >"$4"
	for _ in $(seq "$REPS"); do
		t0=$(now)
		seq 1 "$2" | xargs -P "$3" -I{} ssh -F ssh_config -o BatchMode=yes -o ControlMaster=no -o ControlPath="$W/ctl/m{}" -T "h{}" true
		calc "$(now) - $t0" >>"$4"; echo >>"$4"
	done
}
# the same ssh, the same ControlMaster settings, masters opened first
xargs_ssh 1 8 8 xa8
printf '[all]\n' >inv
for i in $(seq 1 8); do printf 'h%s\n' "$i" >>inv; done
printf '[all:vars]\nansible_ssh_common_args=-F %s/ssh_config\nansible_python_interpreter=/usr/bin/python3\n' "$W" >>inv
ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_LOCAL_TEMP=$W/ansible ANSIBLE_SSH_CONTROL_PATH_DIR=$W/ansible-cp \
	ansible all -i inv -f 8 -m command -a true >/dev/null 2>&1 || true	# warm its connections
: >an8
for _ in $(seq "$REPS"); do
	t0=$(now)
	ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_LOCAL_TEMP=$W/ansible ANSIBLE_SSH_CONTROL_PATH_DIR=$W/ansible-cp \
		ansible all -i inv -f 8 -m command -a true >ansible.out 2>&1 || { cat ansible.out >&2; exit 1; }
	calc "$(now) - $t0" >>an8; echo >>an8
done
l8=$(median_of lb8); x8=$(median_of xa8); a8=$(median_of an8)

# 2. 64 instances, parallel 16
: >lb1; : >lb64; : >mem
for _ in $(seq "$REPS"); do
	/usr/bin/time -f %M -o rss "$LB" --db h.db run --yes fan64.lua --report f.json >/dev/null
	step_s f.json 1 >>lb1
	step_s f.json 2 >>lb64
	cat rss >>mem
done
l1=$(median_of lb1); l64=$(median_of lb64); m=$(sort -n mem | tail -n 1)
# the same 64 sessions from xargs -P 16 over warm masters: what the machine can do (each session
# runs the remote user's shell, whose start-up files may cost more than the command)
xargs_ssh 9 64 16 xa64
x64=$(median_of xa64)

printf '\n8 hosts, `true`, connections warm (median of %d)\n' "$REPS"
printf '  lifeboat step          %7.3f s\n' "$l8"
printf '  xargs -P 8 ssh         %7.3f s   lifeboat/xargs   = %.2f (target <= 1.2)\n' "$x8" "$(calc "$l8 / $x8")"
printf '  ansible -f 8           %7.3f s   ansible/lifeboat = %.1f (target >= 10)\n' "$a8" "$(calc "$a8 / $l8")"
printf '64 instances, parallel 16\n'
printf '  one instance           %7.3f s\n' "$l1"
printf '  64 instances           %7.3f s   = %.2f rounds of one (64/16 = 4)\n' "$l64" "$(calc "$l64 / $l1")"
printf '  xargs -P 16 ssh, 64    %7.3f s   lifeboat/xargs   = %.2f (target <= 1.2)\n' "$x64" "$(calc "$l64 / $x64")"
printf '  lifeboat peak memory   %7.1f MiB (target < 30)\n' "$(calc "$m / 1024")"
printf 'load average: %s (2 cores shared: ratios flatter or harm lifeboat by the same absolute noise)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
