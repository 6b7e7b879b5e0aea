-- The feature-store disaster: the online feature store is corrupted while
-- ingest keeps writing. Restore it from the newest snapshot that still
-- matches its SHA-256 manifest (local copy first, then the read-only offsite
-- copy), retrain the churn model on the restored features, and redeploy the
-- model server.
--
-- `lifeboat drill --yes runbooks/feature-store.lua` is self-contained: its
-- fault phases build the demo under demo/state/ (a store, a running ingest,
-- snapshots 3-2-1, one of them torn on purpose), then corrupt the store.
-- `lifeboat run` skips them and recovers whatever demo/state/ holds.

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function list(dir)
  local names = {}
  for name in sh("ls -1A " .. quote(dir), { check = false }).stdout:gmatch("[^\n]+") do
    names[#names + 1] = name
  end
  return names
end

local function sha256(path)
  return sh("sha256sum " .. quote(path)).stdout:match("^%x+")
end

local function exists(path)
  return sh("test -e " .. quote(path), { check = false }).code == 0
end

local function inspect(path)
  return json.decode(sh("python3 demo/inspect.py " .. quote(path)).stdout)
end

local function join(dir, name)
  return dir .. "/" .. name
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
    model = "demo/state/model.json",
    port = 18080,
    min_rows = 1000,
    min_accuracy = 0.8,
  },
  recovery_point = function(ctx)
    return inspect(ctx.params.store).newest
  end,

  phase "set up the demo" { fault = true, role = "sre",
    step "create the online store" {
      sh = 'python3 demo/setup.py "$store" "$backups" "$offsite" "$model"',
    },
    step "start ingest" { sh = 'exec python3 demo/ingest.py run "$store"', service = true },
    step "take snapshots" {
      sh = 'python3 demo/snapshot.py "$store" "$backups" "$offsite" --count 3 --every 1.5',
    },
    step "plant a torn snapshot" {
      sh = 'sleep 1 && python3 demo/snapshot.py "$store" "$backups" "$offsite" --torn',
    },
  },

  phase "corrupt the store" { fault = true, role = "sre",
    step "overwrite its first pages" {
      sh = [[
        sleep 1
        dd if=/dev/urandom of="$store" bs=4096 count=2 conv=notrunc status=none
        echo "wrote 8 KiB of random bytes over the head of $store while ingest runs"
      ]],
    },
    step "ingest notices" { sh = 'python3 demo/ingest.py wait-halted "$store"' },
  },

  phase "restore" { role = "data-eng", budget = "30s",
    step "verify snapshot manifests" {
      run = function(ctx)
        local p = ctx.params
        local snapshots, copies = {}, {}
        for _, where in ipairs({ "backups", "offsite" }) do
          for _, name in ipairs(list(p[where])) do
            if name:match("%.db$") then
              if not copies[name] then
                copies[name] = {}
                snapshots[#snapshots + 1] = name
              end
              table.insert(copies[name], { where = where, path = join(p[where], name) })
            end
          end
        end
        if #snapshots == 0 then
          error(string.format("no snapshots in %s or %s; the drill creates them: lifeboat drill --yes runbooks/feature-store.lua",
            p.backups, p.offsite))
        end
        table.sort(snapshots, function(a, b) return a > b end)
        log("%d snapshots, newest %s", #snapshots, snapshots[1])
        for _, name in ipairs(snapshots) do
          for _, copy in ipairs(copies[name]) do
            local manifest = copy.path .. ".sha256"
            if not exists(manifest) then
              log("✗ %s (%s): no manifest, skipped", name, copy.where)
            else
              local want = sh("cat " .. quote(manifest)).stdout:match("^%x+")
              local got = sha256(copy.path)
              if got == want then
                log("✓ %s (%s): sha256 %s… matches its manifest", name, copy.where, got:sub(1, 12))
                ctx.state.snapshot = { name = name, where = copy.where, path = copy.path, sha256 = got }
                return
              end
              log("✗ %s (%s): sha256 %s… does not match its manifest %s…, skipped",
                name, copy.where, got:sub(1, 12), (want or "?"):sub(1, 12))
            end
          end
        end
        error("no snapshot matches its manifest: nothing safe to restore")
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
        sh("cp " .. quote(snap.path) .. ' "$store.restoring" && chmod u+w "$store.restoring"')
        if sha256(store .. ".restoring") ~= snap.sha256 then
          error("the copy of " .. snap.name .. " does not match its manifest")
        end
        sh('mv "$store.restoring" "$store"')
        log("copied %s (%s) to %s", snap.name, snap.where, store)
      end,
    },
    step "check integrity and rows" {
      run = function(ctx)
        local p, snap = ctx.params, ctx.state.snapshot
        local facts = inspect(p.store)
        if facts.integrity ~= "ok" then
          error("integrity_check: " .. facts.integrity)
        end
        if facts.rows < tonumber(p.min_rows) then
          error(string.format("only %d rows, expected at least %s", facts.rows, p.min_rows))
        end
        log("restored snapshot %s: %d rows, newest event %s, integrity ok", snap.name, facts.rows, facts.newest)
      end,
    },
  },

  phase "retrain" { role = "ml-eng", budget = "30s",
    step "train the churn model" { sh = 'python3 demo/train.py fit "$store" "$model"' },
    step "check holdout accuracy" {
      sh = 'python3 demo/train.py evaluate "$store" "$model" --min-accuracy "$min_accuracy"',
    },
    step "verify the model artifact" {
      run = function(ctx)
        local model = ctx.params.model
        local want = sh("cat " .. quote(model .. ".sha256")).stdout:match("^%x+")
        if sha256(model) ~= want then
          error(model .. " does not match its manifest")
        end
        ctx.state.model_sha256 = want
        log("model artifact %s, sha256 %s", model, want)
      end,
    },
  },

  phase "redeploy" { role = "sre", budget = "30s", restores_service = true,
    step "start the model server" {
      sh = 'exec python3 demo/serve.py "$port" "$model"', service = true, ready_after = "300ms",
    },
    step "model server healthy" {
      http = "http://127.0.0.1:${port}/health", expect = 200, contains = "ok",
      retries = 20, retry_delay = "250ms",
    },
    step "model answers predictions" {
      http = "http://127.0.0.1:${port}/predict", method = "POST",
      headers = { ["Content-Type"] = "application/json" },
      body = '{"features": [1, 24.0, 45, 3]}', contains = '"prediction"',
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
