-- lifeboat.findings: the shape shared by the recovery library's checks
-- (backup.policy_321, data.compare): a result {ok =, findings = {{name =,
-- ok =, detail =}, ...}} — one named check each, `ok` when all passed — plain
-- data a runbook can keep in ctx.state or json.encode. check() turns it into
-- a step's (or a probe's) result: every finding logged, and one error naming
-- the failed ones, so a `run` step or probe fails for exactly those reasons.

local M = {}

local format, concat, type, error, ipairs = string.format, table.concat, type, error, ipairs
local log = log

function M.new()
  return { ok = true, findings = {} }
end

-- add(result, name, ok, fmt, ...) appends a finding and keeps result.ok.
function M.add(r, name, ok, fmt, ...)
  r.findings[#r.findings + 1] = { name = name, ok = ok and true or false, detail = format(fmt, ...) }
  if not ok then r.ok = false end
end

-- check(result [, what]): logs each finding, raises naming the failed ones;
-- returns the result when all passed, so it composes: check(policy_321{...}).
function M.check(r, what)
  if type(r) ~= "table" or type(r.findings) ~= "table" then
    error(format("check: expected the result of backup.policy_321 or data.compare, got %s",
      type(r) == "table" and "a table without findings" or type(r)), 2)
  end
  what = what or "check"
  local failed = {}
  for _, f in ipairs(r.findings) do
    log("%s %s: %s", f.ok and "✓" or "✗", f.name, f.detail)
    if not f.ok then failed[#failed + 1] = format("%s (%s)", f.name, f.detail) end
  end
  if #failed > 0 then
    error(format("%s failed: %s", what, concat(failed, "; ")), 2)
  end
  return r
end

return M
