-- Builds the environment one runbook sees, from an allow list: nothing of the
-- host's global table leaks in unless named here. Library tables reach the
-- runbook as read-only proxies, so a runbook cannot change `string.format`
-- for the host or for another runbook.
--
-- Arguments (from luahost.c): the host's real global table, the table of C
-- API functions, the DSL table from prelude.lua, the runbook's folder.

local G, api, dsl, dir = ...
local setmetatable, error, type, tostring, next = G.setmetatable, G.error, G.type, G.tostring, G.next

local proxies = setmetatable({}, { __mode = "k" })  -- the read-only tables, for rawset

local function readonly(name, real, missing)
  local proxy = setmetatable({}, {
    __index = missing and function(_, k)
      local v = real[k]
      if v == nil then return missing(k) end
      return v
    end or real,
    __newindex = function(_, k)
      error(string.format("'%s' is read-only: cannot set %s.%s", name, name, tostring(k)), 2)
    end,
    -- pairs(t) returns its state: hand out the proxy, never the real table
    __pairs = function(t) return function(_, k) return next(real, k) end, t, nil end,
    __len = function() return #real end,
    __metatable = false,
  })
  proxies[proxy] = name
  return proxy
end

local env = {}
for _, k in G.ipairs({ "assert", "error", "ipairs", "next", "pairs", "pcall", "select",
  "tonumber", "tostring", "type", "rawequal", "rawlen", "rawget",
  "getmetatable", "_VERSION" }) do
  env[k] = G[k]
end
env.string = readonly("string", G.string)
env.table = readonly("table", G.table)
env.math = readonly("math", G.math)
env.utf8 = readonly("utf8", G.utf8)

-- A coroutine that dies from an error raised by the hook keeps hooks off
-- (Lua restores them only when a pcall catches), and closing it then runs its
-- <close> handlers unwatched: a loop there would hang the host. So every
-- body runs inside a pcall in its own coroutine, which closes them with the
-- hook back on, and the error goes on unchanged.
local co_create, co_wrap = G.coroutine.create, G.coroutine.wrap
local function co_finish(ok, ...)
  if ok then return ... end
  error((...), 0)
end
local function co_body(f, what)
  if type(f) ~= "function" then
    error(string.format("bad argument #1 to '%s' (function expected, got %s)", what, type(f)), 3)
  end
  return function(...) return co_finish(G.pcall(f, ...)) end
end
local co = {}
for k, v in next, G.coroutine do co[k] = v end
co.create = function(f) return co_create(co_body(f, "create")) end
co.wrap = function(f) return co_wrap(co_body(f, "wrap")) end
env.coroutine = readonly("coroutine", co)
-- What a runbook reaches for out of habit gets a reason and the way to do it,
-- not "attempt to index a nil value": every action goes through sh, fs, sql
-- and http, which lifeboat times, records, redacts and stops on abort.
local WHY = "runbooks run in a sandbox, so every action is timed, recorded, redacted and stopped on abort"
local UNAVAILABLE = {
  io = "use fs.read, fs.write and fs.list for files, log() to print",
  debug = "it could reach past the sandbox",
  package = "use require for modules in the runbook's folder",
  dofile = "use require for modules in the runbook's folder",
  loadfile = "use require for modules in the runbook's folder",
}
local OS_UNAVAILABLE = {
  execute = "use sh(cmd) or a sh step",
  exit = "raise an error() to fail the step",
  getenv = "declare a param (it is in the step's environment and ctx.params) or use secret(name)",
  remove = "use fs.remove", rename = "use fs.copy and fs.remove",
  tmpname = "write under the runbook's workdir with fs.write",
  setlocale = "lifeboat keeps the C locale for numbers",
}
local function unavailable(what, how)
  error(string.format("%s is not available in runbooks: %s; %s", what, WHY, how), 3)
end
env.os = readonly("os", { time = G.os.time, clock = G.os.clock, date = G.os.date,
  difftime = G.os.difftime }, function(k)
  if OS_UNAVAILABLE[k] then unavailable("os." .. tostring(k), OS_UNAVAILABLE[k]) end
  return nil
end)

env._G = env

-- rawset would write past __newindex into a library table's proxy
env.rawset = function(t, k, v)
  if proxies[t] then
    error(string.format("'%s' is read-only: cannot set %s.%s", proxies[t], proxies[t], tostring(k)), 2)
  end
  return G.rawset(t, k, v)
end

-- A __gc metamethod would run with the hook off (Lua stops hooks during
-- finalizers), so a loop in it could hang the host: finalizers are refused.
-- Lua marks an object for finalization only in setmetatable, so checking
-- here is enough.
env.setmetatable = function(t, mt)
  if type(mt) == "table" and G.rawget(mt, "__gc") ~= nil then
    error("setmetatable: __gc metamethods are not available to runbooks (use a <close> variable)", 2)
  end
  local ok, r = G.pcall(setmetatable, t, mt)
  if not ok then error(r, 2) end  -- at the runbook's line, not this one
  return r
end

-- xpcall's handler would run inside the hook when the hook raises (the
-- timeout, the memory cap, an abort), and Lua switches hooks off there: a
-- loop in the handler would hang the host. So the handler runs after the
-- protected call has unwound, with the hook back on; runbooks have no debug
-- library, so nothing can tell the difference.
local pcall, select = G.pcall, G.select
local function xpcall_finish(handler, ok, ...)
  if ok then return true, ... end
  return false, (select(2, pcall(handler, (...))))
end
env.xpcall = function(f, handler, ...)
  if type(handler) ~= "function" then
    error(string.format("bad argument #2 to 'xpcall' (function expected, got %s)", type(handler)), 2)
  end
  return xpcall_finish(handler, pcall(f, ...))
end

env.collectgarbage = function(opt, ...)
  if opt == "count" then return G.collectgarbage("count") end
  error("collectgarbage: only collectgarbage(\"count\") is available to runbooks", 2)
end

-- Text chunks only, and by default in this runbook's environment: a binary
-- chunk could forge bytecode, another environment could reach the host.
local real_load = G.load
env.load = function(chunk, name, mode, e)
  if mode ~= nil and mode ~= "t" then
    error("load: only text chunks are allowed (mode \"t\")", 2)
  end
  if e == nil then e = env end
  return real_load(chunk, name, "t", e)
end

-- require: Lua modules from the runbook's folder and the shipped library only.
local loaded = {}
local shipped = { seconds = api.seconds }
env.require = function(name)
  if type(name) ~= "string" or not name:match("^[%w_][%w_%.%-]*$") or name:find("..", 1, true) then
    error(string.format("require: invalid module name %q", tostring(name)), 2)
  end
  if loaded[name] ~= nil then return loaded[name] end
  local text, chunkname = api.module_source(dir, name)
  if not text then
    error(string.format("require: module '%s' not found (looked in %s and the shipped library); C modules cannot be loaded", name, dir), 2)
  end
  local fn, err = real_load(text, chunkname, "t", env)
  if not fn then error(err, 2) end
  -- the shipped library (lib/lua/lifeboat/) also gets the host's duration parser
  local v = fn(name, chunkname:sub(1, 11) == "=[lifeboat " and shipped or nil)
  if v == nil then v = true end
  loaded[name] = v
  return v
end

env.runbook, env.phase, env.step = dsl.runbook, dsl.phase, dsl.step

for k, v in next, api do
  if type(v) == "table" then
    env[k] = readonly(k, v)  -- json, fs, sql, http
  elseif k ~= "module_source" and k ~= "seconds" then  -- the host's own helpers
    env[k] = v
  end
end
env.print = function(...)
  local parts = {}
  for i = 1, G.select("#", ...) do parts[i] = tostring((G.select(i, ...))) end
  api.log("%s", G.table.concat(parts, "\t"))
end

-- wait_until(fn, {timeout=, every=}): polls fn until it returns true; a raise
-- counts as false; raises on timeout with the last error.
env.wait_until = function(fn, opts)
  if type(fn) ~= "function" then error("wait_until: expected a function", 2) end
  opts = opts or {}
  local timeout = api.seconds(opts.timeout or 30, "timeout")
  local every = api.seconds(opts.every or 1, "every")
  local deadline = api.now() + timeout
  local last
  while true do
    local ok, res = G.pcall(fn)
    if ok and res then return res end
    if not ok then last = res end
    if api.now() >= deadline then
      error(string.format("wait_until: timed out after %gs%s", timeout,
        last and (": last error: " .. tostring(last)) or ""), 2)
    end
    api.sleep(every)
  end
end

setmetatable(env, { __index = function(_, k)
  if UNAVAILABLE[k] then unavailable("global '" .. k .. "'", UNAVAILABLE[k]) end
  return nil
end })

return env
