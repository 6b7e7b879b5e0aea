-- The runbook DSL: `runbook`, `phase` and `step`, and the validation that
-- turns what a runbook file returns into a plain, checked description the
-- host reads. Every error names the runbook file and the line of the
-- `phase`/`step`/`runbook` call it is about, says what is wrong and, where it
-- can, what was probably meant.
--
-- This chunk runs in a private environment: it receives the host's helpers
-- (debug.getinfo for line numbers, the C duration parser) as arguments, and
-- runbooks only ever see the three constructor functions it returns.

local H = ...
local getinfo, parse_duration = H.getinfo, H.duration

local KIND = {}         -- private key: what a constructed table is
local M = {}

local function fail(file, line, fmt, ...)
  local where = file
  if line and line > 0 then where = where .. ":" .. line end
  error(where .. ": " .. string.format(fmt, ...), 0)
end

local function caller()
  -- level 1 is this function, 2 the constructor, 3 the runbook's code
  local info = getinfo(3, "Sl")
  if not info then return "?", 0 end
  local src = info.source or "?"
  if src:sub(1, 1) == "@" then src = src:sub(2) end
  return src, info.currentline or 0
end

local function is_name(s) return type(s) == "string" and s ~= "" end

-- The constructors tag the option table itself instead of wrapping it, with
-- private (non-string) keys no runbook can write: a runbook of 10 000 steps
-- then costs one table per step while it is read.
local NAME, FILE, LINE = {}, {}, {}
local PRIVATE = { [KIND] = true, [NAME] = true, [FILE] = true, [LINE] = true }

local function tag(t, kind, name, file, line)
  t[KIND], t[NAME], t[FILE], t[LINE] = kind, name, file, line
  return t
end

function M.step(name)
  local file, line = caller()
  if not is_name(name) then
    fail(file, line, "step: the name must be a non-empty string, as in step \"copy snapshot\" { sh = \"...\" }")
  end
  return function(opts)
    if type(opts) ~= "table" or opts[KIND] then
      fail(file, line, "step '%s': expected a table of options after the name, as in step \"%s\" { sh = \"...\" }", name, name)
    end
    return tag(opts, "step", name, file, line)
  end
end

function M.phase(name)
  local file, line = caller()
  if not is_name(name) then
    fail(file, line, "phase: the name must be a non-empty string, as in phase \"restore\" { ... }")
  end
  return function(opts)
    if type(opts) ~= "table" or opts[KIND] then
      fail(file, line, "phase '%s': expected a table of options and steps after the name", name)
    end
    return tag(opts, "phase", name, file, line)
  end
end

function M.runbook(opts)
  local file, line = caller()
  if type(opts) ~= "table" or opts[KIND] then
    fail(file, line, "runbook: expected a table, as in return runbook { name = \"x\", phase \"p\" { ... } }")
  end
  return tag(opts, "runbook", nil, file, line)
end

-- validation -----------------------------------------------------------------

local RUNBOOK_KEYS = { "name", "description", "rto", "rpo", "roles", "params", "recovery_point",
  "step_timeout", "workdir", "shell", "exclusive", "remote_workdir", "probes", "newest_recoverable" }
-- SPEC 10: the probes become two phases of their own, named so, placed where they run
local PROBES_BEFORE, PROBES_AFTER = "probes before", "probes after"
local PHASE_KEYS = { "role", "budget", "fault", "restores_service", "parallel", "rollback",
  "rollback_on_abort", "cleanup" }
local STEP_KEYS = { "sh", "run", "http", "manual", "method", "body", "headers", "expect", "contains",
  "timeout", "retries", "retry_delay", "role", "continue_on_error", "idempotent", "shell",
  "service", "ready_after", "redirects", "on", "max_failed_hosts", "remote_workdir" }
local STEP_KINDS = { "sh", "run", "http", "manual" }
local RESERVED_PARAMS = { PATH = true, IFS = true, HOME = true, SHELL = true, ENV = true,
  BASH_ENV = true, CDPATH = true, SHELLOPTS = true, PS4 = true }

local function set_of(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end

-- Levenshtein distance, for "did you mean".
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function suggest(word, list)
  local best, bestd
  for _, k in ipairs(list) do
    local d = distance(word, k)
    if d <= 2 and (not bestd or d < bestd) then best, bestd = k, d end
  end
  if best then return string.format(" (did you mean '%s'?)", best) end
  return string.format(" (known keys: %s)", table.concat(list, ", "))
end

local function check_keys(t, allowed, list, file, line, what)
  for k in pairs(t) do
    if PRIVATE[k] then
      -- the constructors' own tags
    elseif type(k) == "string" and not allowed[k] then
      fail(file, line, "%s: unknown key '%s'%s", what, k, suggest(k, list))
    elseif type(k) ~= "string" and type(k) ~= "number" then
      fail(file, line, "%s: keys must be names, not %s", what, type(k))
    end
  end
end

local function duration(v, file, line, what, field)
  if v == nil then return nil end
  if type(v) == "number" then
    if v < 0 or v ~= v or v == math.huge then
      fail(file, line, "%s: %s = %s is not a duration (use a number of seconds >= 0, or \"500ms\", \"90s\", \"15m\", \"1h30m\", \"2d\")", what, field, tostring(v))
    end
    return v
  end
  if type(v) == "string" then
    local s = parse_duration(v)
    if s then return s end
  end
  fail(file, line, "%s: %s = %q is not a duration (use \"500ms\", \"90s\", \"15m\", \"1h30m\", \"2d\" or a number of seconds)", what, field, tostring(v))
end

local function boolean(v, file, line, what, field, default)
  if v == nil then return default end
  if type(v) ~= "boolean" then
    fail(file, line, "%s: %s must be true or false, not %s", what, field, type(v) == "string" and string.format("%q", v) or type(v))
  end
  return v
end

local function integer(v, file, line, what, field, min, default)
  if v == nil then return default end
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) then
    fail(file, line, "%s: %s must be a whole number, not %s", what, field, tostring(v))
  end
  v = math.tointeger(v)
  if v < min then fail(file, line, "%s: %s must be at least %d, not %d", what, field, min, v) end
  return v
end

local function str_or_fn(v, file, line, what, field)
  if v == nil then return nil end
  if type(v) ~= "string" and type(v) ~= "function" then
    fail(file, line, "%s: %s must be a string or a function(ctx), not %s", what, field, type(v))
  end
  return v
end

local function shell_argv(v, file, line, what)
  if v == nil then return nil end
  local argv = {}
  if type(v) == "string" then
    -- a string names a shell that takes -c: "bash" means bash -c
    for w in v:gmatch("%S+") do argv[#argv + 1] = w end
    if #argv > 0 and argv[#argv] ~= "-c" then argv[#argv + 1] = "-c" end
  elseif type(v) == "table" then
    for i, w in ipairs(v) do
      if type(w) ~= "string" then fail(file, line, "%s: shell[%d] must be a string", what, i) end
      argv[#argv + 1] = w
    end
  else
    fail(file, line, "%s: shell must be a string naming a shell that takes -c (\"bash\") or a list such as {\"bash\", \"-c\"}", what)
  end
  if #argv == 0 then fail(file, line, "%s: shell is empty", what) end
  return argv
end

-- ${name} references in static strings must name declared params.
local function check_refs(s, params, file, line, what, field)
  if type(s) ~= "string" or not params then return end
  for ref in s:gmatch("%${([^}]*)}") do
    if params[ref] == nil then
      fail(file, line, "%s: %s refers to ${%s}, which is not a declared param", what, field, ref)
    end
  end
end

local function validate_step(o, ctx)
  local file, line, name = o[FILE], o[LINE], o[NAME]
  local what = string.format("step '%s'", name)
  check_keys(o, ctx.step_keys, STEP_KEYS, file, line, what)
  for i in pairs(o) do
    if type(i) == "number" then
      fail(file, line, "%s: unexpected positional entry #%d (steps take only named options)", what, i)
    end
  end
  local kinds = {}
  for _, k in ipairs(STEP_KINDS) do if o[k] ~= nil then kinds[#kinds + 1] = k end end
  if #kinds == 0 then
    fail(file, line, "%s: no kind: give exactly one of sh = \"cmd\", run = function(ctx) ... end, http = \"url\", manual = \"text\"", what)
  elseif #kinds > 1 then
    fail(file, line, "%s: two kinds (%s): a step does exactly one thing; split it into two steps", what, table.concat(kinds, " and "))
  end
  local kind = kinds[1]
  local out = { name = name, line = line, kind = kind }
  if kind == "run" then
    if type(o.run) ~= "function" then
      fail(file, line, "%s: run must be a function(ctx), not %s", what, type(o.run))
    end
    out.value = o.run
  else
    out.value = str_or_fn(o[kind], file, line, what, kind)
    if kind ~= "sh" then check_refs(out.value, ctx.params, file, line, what, kind) end
    if type(out.value) == "string" and out.value == "" then
      fail(file, line, "%s: %s is empty", what, kind)
    end
  end
  if kind ~= "http" then
    for _, k in ipairs({ "method", "body", "headers", "expect", "contains", "redirects" }) do
      if o[k] ~= nil then fail(file, line, "%s: '%s' only applies to http steps", what, k) end
    end
  else
    if o.method ~= nil and (type(o.method) ~= "string" or not o.method:match("^%u+$")) then
      fail(file, line, "%s: method must be an upper-case HTTP method such as \"POST\"", what)
    end
    out.method = o.method
    out.body = str_or_fn(o.body, file, line, what, "body")
    check_refs(out.body, ctx.params, file, line, what, "body")
    if o.headers ~= nil then
      if type(o.headers) == "table" then
        for k, v in pairs(o.headers) do
          if type(k) ~= "string" or type(v) ~= "string" then
            fail(file, line, "%s: headers must map names to strings", what)
          end
          check_refs(v, ctx.params, file, line, what, "headers." .. k)
        end
      elseif type(o.headers) ~= "function" then
        fail(file, line, "%s: headers must be a table of name = value or a function(ctx)", what)
      end
    end
    out.headers = o.headers
    out.expect = integer(o.expect, file, line, what, "expect", 100, 200)
    if out.expect > 599 then fail(file, line, "%s: expect = %d is not an HTTP status", what, out.expect) end
    if o.contains ~= nil and type(o.contains) ~= "string" then
      fail(file, line, "%s: contains must be a string", what)
    end
    out.contains = o.contains
    out.redirects = boolean(o.redirects, file, line, what, "redirects", false)
  end
  -- Defaults are left out of `out` (the host applies them): a 10 000-step
  -- runbook then costs a few hundred bytes per step while it is read.
  out.timeout = duration(o.timeout, file, line, what, "timeout")
  local retries = integer(o.retries, file, line, what, "retries", 0, 0)
  if retries > 0 then out.retries = retries end
  out.retry_delay = duration(o.retry_delay, file, line, what, "retry_delay")
  if o.role ~= nil and not is_name(o.role) then fail(file, line, "%s: role must be a role name", what) end
  out.role = o.role or ctx.phase_role
  if o.role ~= nil and ctx.roles and not ctx.roles[o.role] then
    fail(file, line, "%s: role '%s' is not in the runbook's roles (%s)", what, o.role, ctx.role_list)
  end
  if boolean(o.continue_on_error, file, line, what, "continue_on_error", false) then
    out.continue_on_error = true
  end
  if not boolean(o.idempotent, file, line, what, "idempotent", true) then out.idempotent = false end
  local service = boolean(o.service, file, line, what, "service", false)
  if service and kind ~= "sh" then fail(file, line, "%s: service = true only applies to sh steps", what) end
  if service then out.service = true end
  if o.ready_after ~= nil and not service then
    fail(file, line, "%s: ready_after only applies to service = true steps", what)
  end
  out.ready_after = duration(o.ready_after, file, line, what, "ready_after")
  if o.shell ~= nil and kind ~= "sh" then fail(file, line, "%s: shell only applies to sh steps", what) end
  out.shell = shell_argv(o.shell, file, line, what)
  -- remote hosts (SPEC 8)
  if o.on ~= nil then
    if kind ~= "sh" then
      fail(file, line, "%s: on = only applies to sh steps (this is a %s step); run the command with sh = on the hosts", what, kind)
    end
    if service then
      fail(file, line, "%s: on = cannot be used with service = true: a remote service belongs to the host's own supervisor (e.g. sh = \"systemctl restart x\")", what)
    end
    local on = o.on
    if type(on) == "string" then
      if on == "" then fail(file, line, "%s: on is empty; name a group or a host", what) end
      on = { on }
    elseif type(on) == "table" then
      local list = {}
      for k, h in pairs(on) do
        if math.type(k) ~= "integer" then fail(file, line, "%s: on must be a list of group or host names", what) end
        if type(h) ~= "string" or h == "" then
          fail(file, line, "%s: on[%s] must be a group or host name", what, tostring(k))
        end
      end
      for i, h in ipairs(on) do list[i] = h end
      if #list == 0 then fail(file, line, "%s: on is an empty list; name a group or a host", what) end
      on = list
    elseif type(on) ~= "function" then
      fail(file, line, "%s: on must be a group or host name, a list of them, or a function(ctx) returning one, not %s", what, type(on))
    end
    out.on = on
  end
  if o.max_failed_hosts ~= nil then
    if o.on == nil then fail(file, line, "%s: max_failed_hosts only applies to steps with on = (remote hosts)", what) end
    out.max_failed_hosts = integer(o.max_failed_hosts, file, line, what, "max_failed_hosts", 0, 0)
  end
  if o.remote_workdir ~= nil then
    if o.on == nil then fail(file, line, "%s: remote_workdir only applies to steps with on = (remote hosts)", what) end
    if type(o.remote_workdir) ~= "string" or o.remote_workdir == "" then
      fail(file, line, "%s: remote_workdir must be a path on the hosts", what)
    end
    out.remote_workdir = o.remote_workdir
  end
  return out
end

-- try: the collector's (see below); each step's problems are collected on their own
local function validate_steps(list, ctx, what, file, line, allow_opts, try)
  local steps, seen = {}, {}
  for i, s in ipairs(list) do
    if type(s) ~= "table" or s[KIND] ~= "step" then
      try(fail, file, line, "%s: entry #%d is not a step (write step \"name\" { ... })", what, i)
    else
      if seen[s[NAME]] then
        try(fail, s[FILE], s[LINE], "%s: step name '%s' is used twice (first at line %d); step names are unique in a phase", what, s[NAME], seen[s[NAME]])
      else
        seen[s[NAME]] = s[LINE]
      end
      local ok, st = try(validate_step, s, ctx)
      if ok then steps[#steps + 1] = st end
      list[i] = false   -- read: let the collector have it while the rest is validated
    end
  end
  if not allow_opts then
    for k in pairs(list) do
      if type(k) ~= "number" then
        try(fail, file, line, "%s: unexpected key '%s' (a list of steps is expected)", what, tostring(k))
      end
    end
  end
  return steps
end

local function validate_params(p, file, line)
  local out, names, set = {}, {}, {}
  if p == nil then return out, set end
  if type(p) ~= "table" then fail(file, line, "runbook: params must be a table of name = value") end
  for k, v in pairs(p) do
    if type(k) ~= "string" or not k:match("^[A-Za-z_][A-Za-z0-9_]*$") then
      fail(file, line, "runbook: param name %s is invalid (use letters, digits and _, not starting with a digit)", string.format("%q", tostring(k)))
    end
    if RESERVED_PARAMS[k] or k:match("^LD_") or k:match("^DYLD_") or k:match("^LIFEBOAT_") then
      fail(file, line, "runbook: param name '%s' is reserved (it would change how commands run); choose another name", k)
    end
    local t = type(v)
    if t == "number" then
      v = math.type(v) == "integer" and string.format("%d", v) or tostring(v)
    elseif t == "boolean" then
      v = tostring(v)
    elseif t ~= "string" then
      fail(file, line, "runbook: param '%s' must be a string, number or boolean, not %s", k, t)
    end
    names[#names + 1] = k
    set[k] = v
  end
  table.sort(names)
  for _, k in ipairs(names) do out[#out + 1] = { k, set[k] } end
  return out, set
end

-- probes = { step ..., } (SPEC 10): checks that change nothing, so only
-- run, http and sh steps, never a service, a person or a fault.
local function validate_probes(list, ctx, file, line, try)
  if list == nil then return nil end
  if type(list) ~= "table" or list[KIND] then
    try(fail, file, line, "runbook: probes must be a list of steps: probes = { step \"store reachable\" { http = \"...\" } }")
    return nil
  end
  local keep = {}
  for k, v in pairs(list) do
    if type(k) ~= "number" then keep[k] = v end   -- validate_steps names them
  end
  for _, s in ipairs(list) do
    local ok = true
    if type(s) == "table" and s[KIND] == "step" then
      local sf, sl, what = s[FILE], s[LINE], string.format("probe '%s'", s[NAME])
      if s.manual ~= nil then
        try(fail, sf, sl, "%s: a probe cannot be a manual step (probes run unattended and change nothing); use run, http or sh", what)
        ok = false
      elseif s.service then
        try(fail, sf, sl, "%s: a probe cannot start a service (probes change nothing); check the service with http or sh instead", what)
        ok = false
      elseif s.fault ~= nil then
        try(fail, sf, sl, "%s: a probe cannot be a fault (probes change nothing); faults go in a phase with fault = true", what)
        ok = false
      end
    elseif type(s) == "table" and s[KIND] == "phase" then
      try(fail, s[FILE], s[LINE], "runbook: probes take steps, not phases: probes = { step \"name\" { ... }, ... }")
      ok = false
    end
    if ok then keep[#keep + 1] = s end
  end
  local was = ctx.phase_role
  ctx.phase_role = nil
  local steps = validate_steps(keep, ctx, "probes", file, line, false, try)
  ctx.phase_role = was
  if #list == 0 then try(fail, file, line, "runbook: probes is an empty list; remove it or add a step") end
  return steps
end

-- The probes as two phases: before the first fault phase (they run only in
-- a drill and in `probe`) and after the last recovery phase (before cleanup).
local function place_probes(phases, steps)
  local function probe_phase(name, when)
    local copy = {}
    for i, s in ipairs(steps) do copy[i] = s end
    return { name = name, line = steps[1] and steps[1].line or 0, probe = when, fault = false,
      cleanup = false, restores_service = false, rollback_on_abort = false, parallel = 1,
      rollback = {}, steps = copy }
  end
  local out, last = { probe_phase(PROBES_BEFORE, "before") }, 0
  for i, p in ipairs(phases) do
    if not p.fault and not p.cleanup then last = i end
  end
  for i, p in ipairs(phases) do
    out[#out + 1] = p
    if i == last then out[#out + 1] = probe_phase(PROBES_AFTER, "after") end
  end
  if last == 0 then out[#out + 1] = probe_phase(PROBES_AFTER, "after") end
  return out
end

-- `check` reports every problem of a file, not only the first: each
-- independent part (a runbook field, a phase's options, a step) is checked
-- in a protected call and its error collected; the validation goes on with
-- the next part. The errors are raised together at the end, one a line.
local MAX_ERRORS = 20

local function collector()
  local errors = {}
  local function try(fn, ...)
    local ok, res = pcall(fn, ...)
    if ok then return true, res end
    -- not a validation error (out of memory, a stopped Lua): give up at once
    if type(res) ~= "string" or res:find("not enough memory", 1, true) then error(res, 0) end
    errors[#errors + 1] = res
    if #errors >= MAX_ERRORS then
      error(table.concat(errors, "\n") .. string.format("\n(stopped after %d problems: fix these first)", MAX_ERRORS), 0)
    end
    return false
  end
  local function finish()
    if #errors > 0 then error(table.concat(errors, "\n"), 0) end
  end
  return try, finish
end

-- `return runbook { ... }` is a tail call, so the call's own line is gone by
-- the time runbook() asks for it: find it in the source instead.
local function runbook_line(text)
  local n = 1
  for l in (text or ""):gmatch("([^\n]*)\n?") do
    local code = l:gsub("%-%-.*$", "")
    if code:find("runbook%s*[{(]") then return n end
    n = n + 1
  end
  return 0
end

function M.validate(rb, file, text)
  if type(rb) ~= "table" or rb[KIND] ~= "runbook" then
    fail(file, nil, "the file must end with `return runbook { ... }` (it returned %s)", type(rb) == "table" and "a plain table" or type(rb))
  end
  local o, line = rb, rb[LINE]
  if rb[FILE] == "?" or not line or line <= 0 then
    line = runbook_line(text)
  else
    file = rb[FILE]
  end
  local try, finish = collector()
  try(check_keys, o, set_of(RUNBOOK_KEYS), RUNBOOK_KEYS, file, line, "runbook")
  local out = { step_timeout = 600, exclusive = true }
  try(function()
    if not is_name(o.name) then fail(file, line, "runbook: name is missing (add name = \"my-runbook\")") end
    out.name = o.name
  end)
  try(function()
    if o.description ~= nil and type(o.description) ~= "string" then
      fail(file, line, "runbook: description must be a string")
    end
    out.description = o.description
  end)
  try(function() out.rto = duration(o.rto, file, line, "runbook", "rto") end)
  try(function() out.rpo = duration(o.rpo, file, line, "runbook", "rpo") end)
  try(function() out.step_timeout = duration(o.step_timeout, file, line, "runbook", "step_timeout") or 600 end)
  try(function()
    if o.workdir ~= nil and not is_name(o.workdir) then fail(file, line, "runbook: workdir must be a path") end
    out.workdir = o.workdir
  end)
  try(function() out.shell = shell_argv(o.shell, file, line, "runbook") end)
  try(function() out.exclusive = boolean(o.exclusive, file, line, "runbook", "exclusive", true) end)
  try(function()
    if o.remote_workdir ~= nil and not is_name(o.remote_workdir) then
      fail(file, line, "runbook: remote_workdir must be a path on the hosts")
    end
    out.remote_workdir = o.remote_workdir
  end)
  try(function()
    if o.recovery_point ~= nil and type(o.recovery_point) ~= "function" then
      fail(file, line, "runbook: recovery_point must be a function(ctx) returning unix seconds or an ISO-8601 time")
    end
    out.recovery_point = o.recovery_point
  end)
  try(function()
    if o.newest_recoverable ~= nil and type(o.newest_recoverable) ~= "function" then
      fail(file, line, "runbook: newest_recoverable must be a function(ctx) returning the time of the newest backup a recovery would restore (unix seconds or an ISO-8601 time), not %s", type(o.newest_recoverable))
    end
    out.newest_recoverable = o.newest_recoverable
  end)
  -- roles that cannot be read are not checked against (nil: any role passes)
  local roles, role_list = nil, {}
  try(function()
    if o.roles == nil then return end
    if type(o.roles) ~= "table" then fail(file, line, "runbook: roles must be a list of names") end
    local set, list = {}, {}
    for i, r in ipairs(o.roles) do
      if not is_name(r) then fail(file, line, "runbook: roles[%d] must be a non-empty string", i) end
      if set[r] then fail(file, line, "runbook: role '%s' is listed twice", r) end
      set[r] = true
      list[#list + 1] = r
    end
    roles, role_list = set, list
  end)
  out.roles = role_list
  -- params that cannot be read are not checked against either (nil: ${x} not checked)
  local params, param_set = {}, nil
  try(function() params, param_set = validate_params(o.params, file, line) end)
  out.params = params
  local ctx = { roles = roles, role_list = table.concat(role_list, ", "), params = param_set,
    step_keys = set_of(STEP_KEYS) }

  local probes = validate_probes(o.probes, ctx, file, line, try)
  local phases, seen = {}, {}
  local seen_recovery, restoring = nil, nil
  local phase_keys = set_of(PHASE_KEYS)
  for i, p in ipairs(o) do
    if type(p) ~= "table" or p[KIND] ~= "phase" then
      local hint = type(p) == "table" and p[KIND] == "step" and " (steps go inside a phase)" or ""
      try(fail, file, line, "runbook: entry #%d is not a phase%s", i, hint)
      goto next_phase
    end
    do
      local pf, pl, pname = p[FILE], p[LINE], p[NAME]
      local what = string.format("phase '%s'", pname)
      if probes and (pname == PROBES_BEFORE or pname == PROBES_AFTER) then
        try(fail, pf, pl, "%s: the name is taken by the runbook's probes; choose another", what)
      elseif seen[pname] then
        try(fail, pf, pl, "%s: the name is used twice (first at line %d); phase names are unique", what, seen[pname])
      else
        seen[pname] = pl
      end
      local po = p
      local ph = { name = pname, line = pl, fault = false, cleanup = false, restores_service = false,
        rollback_on_abort = false, parallel = 1, rollback = {} }
      try(check_keys, po, phase_keys, PHASE_KEYS, pf, pl, what)
      try(function()
        if po.role ~= nil and not is_name(po.role) then fail(pf, pl, "%s: role must be a role name", what) end
        if po.role ~= nil and roles and not roles[po.role] then
          fail(pf, pl, "%s: role '%s' is not in the runbook's roles (%s)", what, po.role, ctx.role_list)
        end
        ph.role = po.role
      end)
      try(function() ph.budget = duration(po.budget, pf, pl, what, "budget") end)
      try(function() ph.fault = boolean(po.fault, pf, pl, what, "fault", false) end)
      try(function() ph.cleanup = boolean(po.cleanup, pf, pl, what, "cleanup", false) end)
      try(function() ph.restores_service = boolean(po.restores_service, pf, pl, what, "restores_service", false) end)
      try(function() ph.rollback_on_abort = boolean(po.rollback_on_abort, pf, pl, what, "rollback_on_abort", false) end)
      try(function() ph.parallel = integer(po.parallel, pf, pl, what, "parallel", 1, 1) end)
      try(function()
        if ph.fault and ph.cleanup then fail(pf, pl, "%s: a phase cannot be both fault and cleanup", what) end
        if ph.fault then
          if seen_recovery then
            fail(pf, pl, "%s: fault phases must come before all others, but it follows phase '%s'; move it to the top", what, seen_recovery)
          end
        elseif not ph.cleanup then
          seen_recovery = seen_recovery or pname
        end
      end)
      try(function()
        if ph.restores_service then
          if ph.fault or ph.cleanup then
            fail(pf, pl, "%s: restores_service cannot be set on a %s phase", what, ph.fault and "fault" or "cleanup")
          end
          if restoring then
            fail(pf, pl, "%s: restores_service is already set on phase '%s'; at most one phase restores service", what, restoring)
          end
          restoring = pname
        end
      end)
      ctx.phase_role = ph.role
      local nsteps = #po
      try(function()
        for k in pairs(po) do
          if type(k) == "number" and (math.type(k) ~= "integer" or k < 1 or k > nsteps) then
            fail(pf, pl, "%s: steps must be a plain list", what)
          end
        end
      end)
      ph.steps = validate_steps(po, ctx, what, pf, pl, true, try)
      if nsteps == 0 then try(fail, pf, pl, "%s: has no steps", what) end
      if po.rollback ~= nil then
        if type(po.rollback) ~= "table" or po.rollback[KIND] then
          try(fail, pf, pl, "%s: rollback must be a list of steps: rollback = { step \"undo\" { ... } }", what)
        else
          ph.rollback = validate_steps(po.rollback, ctx, what .. " rollback", pf, pl, false, try)
        end
      end
      if ph.rollback_on_abort and (po.rollback == nil or (type(po.rollback) == "table" and #po.rollback == 0)) then
        try(fail, pf, pl, "%s: rollback_on_abort = true needs a rollback list", what)
      end
      phases[#phases + 1] = ph
    end
    ::next_phase::
  end
  try(function()
    for k in pairs(o) do
      if type(k) == "number" and (math.type(k) ~= "integer" or k < 1 or k > #o) then
        fail(file, line, "runbook: phases must be a plain list")
      end
    end
  end)
  if #o == 0 then
    try(fail, file, line, "runbook: has no phases")
  elseif not seen_recovery and #phases == #o then
    try(fail, file, line, "runbook: has no recovery phase (every phase is a fault or cleanup phase)")
  end
  finish()
  out.phases = probes and place_probes(phases, probes) or phases
  return out
end

return M
