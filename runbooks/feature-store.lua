-- The feature-store disaster: the online feature store is corrupted while
-- ingest keeps writing. Restore it from the newest snapshot that still
-- matches its SHA-256 manifest (local copy first, then the read-only offsite
-- copy) and whose data still matches the reference profile (a poisoned
-- snapshot, labels flipped before it was checksummed, verifies but is
-- rejected by its PSI), retrain the churn model on the restored features,
-- and redeploy the model server.
--
-- `lifeboat drill --yes runbooks/feature-store.lua` is self-contained: its
-- fault phases build the demo under demo/state/ (a store and its reference
-- profile, a running ingest, snapshots 3-2-1, one of them poisoned and one
-- torn on purpose), then corrupt the store. `lifeboat run` skips them and
-- recovers whatever demo/state/ holds.

local backup = require "lifeboat.backup"
local data = require "lifeboat.data"

-- what the reference profile covers: the model's features and its label
local PROFILE = "select sessions_7d, avg_basket, days_since_last, support_tickets, churned from features"

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
  params = {
    store = "demo/state/features.db",
    backups = "demo/state/backups",
    offsite = "demo/state/offsite",
    replica = "demo/state/replica",
    model = "demo/state/model.json",
    reference = "demo/state/features.profile.json",
    keys = "demo/state/keys",
    port = 18080,
    min_rows = 1000,
    min_accuracy = 0.8,
  },
  recovery_point = function(ctx)
    return sql.open(ctx.params.store, { readonly = true }):scalar("select max(event_time) from features")
  end,

  phase "set up the demo" { fault = true, role = "sre",
    step "create the online store" {
      sh = 'python3 demo/setup.py "$store" "$backups" "$offsite" "$model" --replica "$replica"',
    },
    -- in production the training pipeline keeps this beside the data it trained on
    step "profile it as the reference" {
      run = function(ctx)
        local ref = data.profile(ctx.params.store, PROFILE)
        assert(fs.write(ctx.params.reference, json.encode(ref)))
        log("reference profile of %d rows (%s) in %s: churn rate %.1f%%", ref.rows,
          table.concat({ "sessions_7d", "avg_basket", "days_since_last", "support_tickets", "churned" }, ", "),
          ctx.params.reference, ref.columns.churned.mean * 100)
      end,
    },
    step "start ingest" { sh = 'exec python3 demo/ingest.py run "$store"', service = true },
    step "take snapshots" {
      sh = 'python3 demo/snapshot.py "$store" "$backups" "$offsite" --replica "$replica" --count 2 --every 1.5',
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
    -- 3-2-1 checked, not declared: three verified copies on two media, one offsite, one that
    -- refuses writes even to root (the read-only mount setup.py makes). A finding that fails is
    -- an incident of its own; the recovery goes on with what there is.
    step "snapshot copies 3-2-1" { continue_on_error = true,
      run = function(ctx)
        local p, newest = ctx.params, "^features%-.*%.db$"
        backup.check(backup.policy_321 {
          copies = {
            { dir = p.backups, pattern = newest, media = "disk", name = "local" },
            { dir = p.replica, pattern = newest, media = "nfs", name = "replica" },
            { dir = p.offsite, pattern = newest, media = "object store", offsite = true, immutable = true,
              name = "offsite" },
          },
          max_age = "1h",
        }, "3-2-1")
      end,
    },
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
          error(string.format("no snapshots in %s or %s (the drill makes some: lifeboat drill --yes runbooks/feature-store.lua)",
            p.backups, p.offsite))
        end
        table.sort(names, function(a, b) return a > b end)
        local text = fs.read(p.reference)
        if not text then
          error(string.format("no reference profile %s to check the snapshots' data against (the drill makes it: lifeboat drill --yes runbooks/feature-store.lua)",
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
      end,
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
