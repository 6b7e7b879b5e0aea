-- Brings the feature-store demo's environment up, as it runs between drills:
-- the online store (and its reference profile), ingest writing to it, the
-- churn model served on 127.0.0.1, and a first snapshot kept 3-2-1 (local,
-- replica, offsite on a read-only mount when run as root). Ingest and the
-- model server run in the background after this run ends, so that
-- `lifeboat probe runbooks/feature-store.lua` and the drill's probes find a
-- healthy system before anything is broken. It starts from scratch each time:
-- whatever an earlier demo left is stopped and wiped first.
--
--   lifeboat run --yes runbooks/feature-store-setup.lua
--   lifeboat probe runbooks/feature-store.lua
--   lifeboat drill --yes runbooks/feature-store.lua

local data = require "lifeboat.data"
local params = require "demo.params"

-- what the reference profile covers: the model's features and its label
local PROFILE = "select sessions_7d, avg_basket, days_since_last, support_tickets, churned from features"

return runbook {
  name = "feature-store-setup",
  description = "Bring the feature-store demo's environment up: store, ingest, model server, 3-2-1 snapshots",
  params = params,

  phase "environment" {
    step "stop the previous demo" { sh = 'python3 demo/serve.py stop "$model"' },
    step "create the online store" {
      sh = 'python3 demo/setup.py "$store" "$backups" "$offsite" "$model" --replica "$replica"',
    },
    -- in production the training pipeline keeps this beside the data it trained on
    step "profile it as the reference" {
      run = function(ctx)
        local ref = data.profile(ctx.params.store, PROFILE)
        assert(fs.write(ctx.params.reference, json.encode(ref)))
        log("reference profile of %d rows (sessions_7d, avg_basket, days_since_last, support_tickets, churned) in %s: churn rate %.1f%%",
          ref.rows, ctx.params.reference, ref.columns.churned.mean * 100)
      end,
    },
    step "start ingest" { sh = 'python3 demo/ingest.py start "$store"' },
    step "serve the current model" {
      sh = 'python3 demo/train.py fit "$store" "$model" && python3 demo/serve.py start "$port" "$model"',
    },
    step "take a snapshot" {
      sh = 'sleep 0.5 && python3 demo/snapshot.py "$store" "$backups" "$offsite" --replica "$replica"',
    },
  },
}
