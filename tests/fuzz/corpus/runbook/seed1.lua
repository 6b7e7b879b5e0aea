return runbook { name = "seed", rto = "15m", rpo = "1h",
  phase "p" { step "s" { sh = "echo hi", timeout = "5s", retries = 1 } },
  phase "q" { parallel = 2, step "a" { run = function(ctx) ctx.state.x = 1 end }, step "b" { manual = "ok?" } },
}
