-- The feature-store disaster: the online feature store is corrupted while
-- ingest keeps writing. Restore it from the newest snapshot that still
-- matches its SHA-256 manifest (local copy first, then the read-only offsite
-- copy) and whose data still matches the reference profile (a poisoned
-- snapshot, labels flipped before it was checksummed, verifies but is
-- rejected by its PSI), resume ingest, retrain the churn model on the
-- restored features, and redeploy the model server.
--
-- The environment is brought up first by runbooks/feature-store-setup.lua
-- (store, reference profile, ingest, model server, a first snapshot 3-2-1);
-- the probes check it is healthy before anything is broken and again after
-- the recovery, and `lifeboat probe` reports the RPO exposure: how old the
-- newest snapshot a restore would take is.
--
--   lifeboat run --yes runbooks/feature-store-setup.lua
--   lifeboat probe runbooks/feature-store.lua
--   lifeboat drill --yes runbooks/feature-store.lua
--
-- The drill's fault phases take a fresh snapshot, plant a poisoned and a torn
-- one, and shred the store. `lifeboat run` skips them and recovers whatever
-- demo/state/ holds.

local backup = require "lifeboat.backup"
local data = require "lifeboat.data"

-- what the reference profile covers: the model's features and its label
local PROFILE = "select sessions_7d, avg_basket, days_since_last, support_tickets, churned from features"
local SNAPSHOTS = "^features%-.*%.db$"

local function verify(path)
  local manifest = fs.read(path .. ".sha256")
  local want = manifest and manifest:match("^%x+")
  local got = assert(fs.sha256(path))
  return got == want, got, want
end

-- A snapshot's data against the reference profile: nil when it matches, else what differs.
local function data_mismatch(path, reference)
  local r = data.compare(path, PROFILE, reference, { max_psi = 0.1, max_rows_delta = 0.5 })
  if r.ok then return nil end
  local failed = {}
  for _, f in ipairs(r.findings) do
    if not f.ok then failed[#failed + 1] = f.detail end
  end
  return table.concat(failed, "; ")
end

return runbook {
  name = "feature-store",
  description = "Restore the online feature store from verified snapshots, retrain the churn model, redeploy the model server",
  rto = "2m",
  rpo = "5m",
  roles = { "commander", "data-eng", "ml-eng", "sre" },
  params = require "demo.params",
  -- the newest snapshot a restore would take: it verifies and its data matches the reference
  newest_recoverable = function(ctx)
    local reference = json.decode(assert(fs.read(ctx.params.reference)))
    return assert(backup.newest(ctx.params.backups, SNAPSHOTS, { accept = function(path)
      local why = data_mismatch(path, reference)
      return why == nil, why
    end })).time
  end,

  -- the system is healthy before we break it, and again after the recovery
  probes = {
    step "store reachable" {
      run = function(ctx)
        local db <close> = sql.open(ctx.params.store, { readonly = true })
        local n = db:scalar("select count(*) from features")
        if n < tonumber(ctx.params.min_rows) then
          error(string.format("%s holds %d rows, fewer than %s", ctx.params.store, n, ctx.params.min_rows))
        end
        log("%s answers: %d rows", ctx.params.store, n)
      end,
    },
    step "ingest running" { sh = 'python3 demo/ingest.py status "$store"' },
    step "model server answers" {
      http = "http://127.0.0.1:${port}/health", expect = 200, contains = "ok",
    },
    -- 3-2-1 checked, not declared: three verified copies on two media, one offsite, one that
    -- refuses writes even to root (the read-only mount setup.py makes)
    step "snapshot copies 3-2-1" {
      run = function(ctx)
        local p = ctx.params
        backup.check(backup.policy_321 {
          copies = {
            { dir = p.backups, pattern = SNAPSHOTS, media = "disk", name = "local" },
            { dir = p.replica, pattern = SNAPSHOTS, media = "nfs", name = "replica" },
            { dir = p.offsite, pattern = SNAPSHOTS, media = "object store", offsite = true, immutable = true,
              name = "offsite" },
          },
          max_age = "1h",
        }, "3-2-1")
      end,
    },
  },

  phase "poison the backups" { fault = true, role = "sre",
    step "take a snapshot" {
      sh = 'python3 demo/snapshot.py "$store" "$backups" "$offsite" --replica "$replica"',
    },
    step "plant a poisoned snapshot" {
      sh = 'sleep 1 && python3 demo/snapshot.py "$store" "$backups" "$offsite" --replica "$replica" --poison',
    },
    step "plant a torn snapshot" {
      sh = 'sleep 1 && python3 demo/snapshot.py "$store" "$backups" "$offsite" --replica "$replica" --torn',
    },
  },

  phase "corrupt the store" { fault = true, role = "sre",
    step "shred it while ingest writes" {
      sh = [[
        sleep 1
        shred --iterations=1 "$store"
        echo "overwrote all $(wc -c <"$store") bytes of $store with random data"
      ]],
    },
    step "ingest notices" { sh = 'python3 demo/ingest.py wait-halted "$store"' },
  },

  phase "restore" { role = "data-eng", budget = "30s",
    step "verify snapshot manifests" {
      run = function(ctx)
        local p = ctx.params
        local names, copies = {}, {}
        for _, where in ipairs({ "backups", "offsite" }) do
          for _, name in ipairs(fs.list(p[where]) or {}) do
            if name:match("%.db$") then
              if not copies[name] then
                copies[name] = {}
                names[#names + 1] = name
              end
              table.insert(copies[name], { where = where, path = p[where] .. "/" .. name })
            end
          end
        end
        if #names == 0 then
          error(string.format("no snapshots in %s or %s (make some: lifeboat run --yes runbooks/feature-store-setup.lua, then lifeboat drill --yes runbooks/feature-store.lua)",
            p.backups, p.offsite))
        end
        table.sort(names, function(a, b) return a > b end)
        local text = fs.read(p.reference)
        if not text then
          error(string.format("no reference profile %s to check the snapshots' data against (lifeboat run --yes runbooks/feature-store-setup.lua makes it)",
            p.reference))
        end
        local reference = json.decode(text)
        log("%d snapshots in %s and %s; verifying checksums and data, newest first", #names, p.backups, p.offsite)
        ctx.state.rejected = {}
        for _, name in ipairs(names) do
          for _, copy in ipairs(copies[name]) do
            local ok, got, want = verify(copy.path)
            if not ok then
              log("✗ %s (%s): sha256 %s… does not match its manifest (%s…): skipped",
                name, copy.where, got:sub(1, 12), want and want:sub(1, 12) or "missing")
            else
              local why = data_mismatch(copy.path, reference)
              if not why then
                log("✓ %s (%s): sha256 %s… matches its manifest", name, copy.where, got:sub(1, 12))
                ctx.state.snapshot = { name = name, where = copy.where, path = copy.path, sha256 = got }
                return
              end
              -- the other copies hold the same bytes (the same checksum): no need to look
              log("✗ %s (%s): its checksum verifies but its data does not match the reference profile (%s): rejected as poisoned or drifted, with its other copies",
                name, copy.where, why)
              table.insert(ctx.state.rejected, { name = name, why = why })
              break
            end
          end
        end
        error("no snapshot matches its manifest and the reference profile: nothing is safe to restore")
      end,
    },
    -- a poisoned backup is an incident of its own: the recovery goes on, the report says so
    step "no poisoned snapshots" { continue_on_error = true,
      run = function(ctx)
        local rejected = ctx.state.rejected or {}
        if #rejected == 0 then
          log("every snapshot that verified matched the reference profile")
          return
        end
        local names = {}
        for _, r in ipairs(rejected) do names[#names + 1] = string.format("%s (%s)", r.name, r.why) end
        error(string.format("%d snapshot%s rejected by the reference profile, restored %s instead: %s",
          #rejected, #rejected == 1 and "" or "s", ctx.state.snapshot.name, table.concat(names, "; ")), 0)
      end,
    },
    step "put the broken store aside" {
      sh = [[
        at=$(date -u +%Y%m%dT%H%M%SZ)
        for f in "$store" "$store-journal" "$store-wal" "$store-shm"; do
          if [ -e "$f" ]; then
            mv "$f" "$f.broken-$at" && echo "moved $f aside to $f.broken-$at"
          fi
        done
      ]],
    },
    step "copy the snapshot into place" {
      run = function(ctx)
        local snap, store = ctx.state.snapshot, ctx.params.store
        assert(fs.copy(snap.path, store))
        sh('chmod u+w "$store"')
        if fs.sha256(store) ~= snap.sha256 then
          error(store .. " does not match the manifest of " .. snap.name)
        end
        log("copied %s (%s copy, %d bytes) to %s", snap.name, snap.where, fs.size(store), store)
      end,
    },
    step "check integrity and rows" {
      run = function(ctx)
        local p, snap = ctx.params, ctx.state.snapshot
        local db <close> = sql.open(p.store, { readonly = true })
        local integrity = db:scalar("pragma integrity_check")
        if integrity ~= "ok" then
          error("integrity_check: " .. integrity)
        end
        local facts = db:query("select count(*) as n, max(event_time) as newest from features")[1]
        if facts.n < tonumber(p.min_rows) then
          error(string.format("only %d rows, expected at least %s", facts.n, p.min_rows))
        end
        log("restored snapshot %s: %d rows, newest event %s, integrity ok", snap.name, facts.n, facts.newest)
        -- the newest data the restore brought back, before ingest writes again
        recovery_point(facts.newest)
      end,
    },
    -- ingest writes again: the restored store is the live one (the recovery point was taken first)
    step "stop the halted ingest" { sh = 'python3 demo/ingest.py stop "$store"' },
    step "start ingest again" {
      sh = 'exec python3 demo/ingest.py run "$store"', service = true, ready_after = "0.5s",
    },
  },

  phase "retrain" { role = "ml-eng", budget = "30s",
    step "train the churn model" { sh = 'python3 demo/train.py fit "$store" "$model"' },
    -- The training pipeline signs what it produced with its own key (made once, in the demo's
    -- scratch folder, by minisign itself); lifeboat checks the signature before serving it.
    step "sign the model (training pipeline)" {
      sh = [[
        mkdir -p "$keys"
        if [ ! -e "$keys/training.key" ]; then
          minisign -G -W -p "$keys/training.pub" -s "$keys/training.key" </dev/null >/dev/null
          echo "made the training pipeline's key $keys/training.pub"
        fi
        minisign -S -s "$keys/training.key" -m "$model"
        echo "signed $model → $model.minisig"
      ]],
    },
    step "check holdout accuracy" {
      sh = 'python3 demo/train.py evaluate "$store" "$model" --min-accuracy "$min_accuracy"',
    },
    step "verify the model artifact" {
      run = function(ctx)
        local model = ctx.params.model
        local ok, got = verify(model)
        if not ok then
          error(model .. " does not match its manifest")
        end
        -- raises unless the training pipeline's key signed exactly these bytes
        crypto.verify(model, model .. ".minisig", ctx.params.keys .. "/training.pub")
        ctx.state.model_sha256 = got
        log("model artifact %s: %d bytes, sha256 %s, signature by the training pipeline's key verified",
          model, fs.size(model), got)
      end,
    },
  },

  phase "redeploy" { role = "sre", budget = "30s", restores_service = true,
    step "stop the old model server" { sh = 'python3 demo/serve.py stop "$model"' },
    step "start the model server" {
      sh = 'exec python3 demo/serve.py "$port" "$model"', service = true, ready_after = "1s",
    },
    step "model server healthy" {
      http = "http://127.0.0.1:${port}/health", expect = 200, contains = "ok",
      retries = 20, retry_delay = "250ms",
    },
    step "serves the retrained model" {
      run = function(ctx)
        local r = http.get("http://127.0.0.1:" .. ctx.params.port .. "/health")
        if not r.body:find(ctx.state.model_sha256, 1, true) then
          error("the server does not run the retrained model: " .. r.body)
        end
        log("the model server runs model %s…", ctx.state.model_sha256:sub(1, 12))
      end,
    },
    step "model answers predictions" {
      http = "http://127.0.0.1:${port}/predict", method = "POST",
      headers = { ["Content-Type"] = "application/json" },
      body = '{"features": [4, 35.0, 14, 1]}', contains = '"prediction"',
    },
    step "commander signs off" {
      manual = "The model server at http://127.0.0.1:${port} serves the retrained model: confirm the recovery",
      role = "commander",
    },
  },

  phase "tidy up" { cleanup = true, role = "sre",
    step "stop ingest" { sh = 'python3 demo/ingest.py stop "$store"' },
  },
}
