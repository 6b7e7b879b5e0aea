-- Redeploy with a safety net: switch the pricing service to a new release and
-- prove it healthy; when it is not, the deploy phase's rollback puts the
-- previous release back and proves that one healthy instead (the run still
-- fails, exit 1, so nobody mistakes a rollback for a deploy).
--
-- The first phase stands in for production: it installs release v1 (live)
-- and the new release side by side under demo/state/, and starts the service.
-- `-p break_deploy=1` ships the new release without its price table, to see
-- the rollback work.

return runbook {
  name = "redeploy-rollback",
  description = "Roll the pricing service to a new release; roll back to the previous one if it is unhealthy",
  rto = "1m",
  roles = { "sre" },
  params = {
    releases = "demo/state/pricing",
    version = "v2",
    port = 18090,
    break_deploy = 0,
  },

  phase "service on the current release" { role = "sre",
    step "install the releases" {
      sh = 'python3 demo/pricing.py install "$releases" "$version" --broken="$break_deploy"',
    },
    step "start the pricing service" {
      sh = 'exec python3 demo/pricing.py serve "$releases" "$port"', service = true, ready_after = "500ms",
    },
    step "current release healthy" {
      http = "http://127.0.0.1:${port}/health", contains = "ok", retries = 20, retry_delay = "100ms",
    },
  },

  phase "deploy" { role = "sre", budget = "30s", restores_service = true,
    step "switch to the new release" { sh = 'python3 demo/pricing.py switch "$releases" "$version"' },
    step "new release healthy" {
      http = "http://127.0.0.1:${port}/health?version=${version}", contains = "ok",
      retries = 3, retry_delay = "300ms",
    },
    rollback = {
      step "switch back to the previous release" { sh = 'python3 demo/pricing.py rollback "$releases"' },
      step "previous release healthy" {
        http = "http://127.0.0.1:${port}/health", contains = "ok", retries = 5, retry_delay = "200ms",
      },
    },
  },
}
