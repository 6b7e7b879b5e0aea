-- Rolling redeploy of the model server on remote hosts (SPEC 8), one batch at a time: first the
-- "canary" group, then the rest of the "serving" group. On each host the new release is linked
-- as current and the server restarted; every host must then pass its health check before the
-- next batch starts. A host that fails stops the rollout there (max_failed_hosts = 0: a bad
-- release never reaches the whole fleet) and the phase's rollback puts the previous release back
-- on that batch.
--
--   lifeboat hosts --check canary serving          # the preflight
--   lifeboat run runbooks/rolling-redeploy.lua -p release=2026.12.2
--
-- The groups come from lifeboat.yaml (hosts: { canary: [...], serving: [...] }; see
-- runbooks/lifeboat.example.yaml). Each host keeps its releases under $root/releases/RELEASE/
-- (with the server, serve.py); root is /srv/model-server, or MODEL_ROOT in the host's environment.

-- The server starts in a session of its own (the step's process group is stopped when the step
-- ends) and a clean environment (the run's params and variables are not its business).
local deploy = [[
root=${MODEL_ROOT:-$root}
test -f "$root/releases/$release/serve.py" || { echo "release $release is not on $LIFEBOAT_HOST" >&2; exit 1; }
prev=$(readlink "$root/current" || true)
echo "$LIFEBOAT_RUN_ID ${prev:-none}" >"$root/previous"   # for the rollback of this run
ln -sfn "releases/$release" "$root/current"
if [ -f "$root/server.pid" ]; then kill "$(cat "$root/server.pid")" 2>/dev/null || true; fi
rm -f "$root/health"
env -i PATH="$PATH" setsid sh -c 'python3 "$1/current/serve.py" "$1" </dev/null >>"$1/server.log" 2>&1 &
echo $! >"$1/server.pid"' sh "$root"
echo "release $release started (was ${prev:-none})"
]]

local health = [[
root=${MODEL_ROOT:-$root}
kill -0 "$(cat "$root/server.pid")" 2>/dev/null || { echo "the server is not running" >&2; exit 1; }
test "$(cat "$root/health" 2>/dev/null)" = "ok $release" || { echo "not healthy yet" >&2; exit 1; }
echo "healthy: $(cat "$root/health")"
]]

local rollback = [[
root=${MODEL_ROOT:-$root}
read -r run prev <"$root/previous" 2>/dev/null || true
# only hosts this run changed go back
[ "$run" = "$LIFEBOAT_RUN_ID" ] && [ "${prev:-none}" != none ] || { echo "unchanged by this run"; exit 0; }
ln -sfn "$prev" "$root/current"
if [ -f "$root/server.pid" ]; then kill "$(cat "$root/server.pid")" 2>/dev/null || true; fi
env -i PATH="$PATH" setsid sh -c 'python3 "$1/current/serve.py" "$1" </dev/null >>"$1/server.log" 2>&1 &
echo $! >"$1/server.pid"' sh "$root"
echo "back on $prev"
]]

local function batch(group)
  return {
    step ("deploy to " .. group) { sh = deploy, on = group, timeout = "2m" },
    step ("health of " .. group) { sh = health, on = group, retries = 20, retry_delay = "500ms",
                                   timeout = "10s" },
    rollback = { step ("previous release on " .. group) { sh = rollback, on = group } },
  }
end

local function phase_of(name, group)
  local b = batch(group)
  return phase (name) { budget = "5m", b[1], b[2], rollback = b.rollback }
end

return runbook {
  name = "rolling-redeploy",
  description = "Redeploy the model server on the serving hosts, canary first, batch by batch",
  rto = "15m",
  params = { release = "2026.12.1", root = "/srv/model-server" },

  phase "preflight" {
    step "release present on every host" { on = { "canary", "serving" }, sh = [[
      root=${MODEL_ROOT:-$root}
      test -f "$root/releases/$release/serve.py" || { echo "release $release missing" >&2; exit 1; }
    ]] },
  },
  phase_of("canary", "canary"),
  phase_of("fleet", "serving"),
}
