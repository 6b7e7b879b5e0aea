-- lifeboat.backup: is there a backup we can restore, and is it kept the 3-2-1
-- way? Shipped inside lifeboat; `local backup = require "lifeboat.backup"`.
-- Reference and examples: docs/recovery-library.md.
--
-- A *copy* is a file or a folder, and its checksum is found the way backup
-- tools and `sha256sum -c` leave it:
--   * a file NAME: the manifest NAME.sha256 beside it (sha256sum format),
--     which must list NAME itself;
--   * a folder: the manifest SHA256SUMS (or MANIFEST, as lifeboat's evidence
--     bundles have it) inside it; every file it lists must verify.
-- A copy's time (what "newest" and "max_age" compare) is the modification
-- time of the file, or of a folder's manifest (written last, when the backup
-- was complete), unless the caller passes its own `time` function.
--
-- Expected failures (a copy that does not verify, a folder without copies)
-- return nil and a message, as fs does; misuse (a wrong argument) raises.

local findings = require "lifeboat.findings"

local M = {}

local fs, now = fs, now
local format, concat, sort, type, error, ipairs, pairs, tostring, tonumber =
  string.format, table.concat, table.sort, type, error, ipairs, pairs, tostring, tonumber
local seconds = (select(2, ...) or {}).seconds  -- the host's duration parser

local FOLDER_MANIFESTS = { "SHA256SUMS", "MANIFEST" }

local function folder_of(path)
  return path:match("^(.*)/[^/]*$") or "."
end

local function base_of(path)
  return path:match("([^/]*)$")
end

local function join(dir, name)
  if name:sub(1, 1) == "/" then return name end
  if dir == "." then return name end
  return dir .. "/" .. name
end

local function is_folder(path)
  return fs.list(path) ~= nil
end

-- A line of sha256sum's output: "HASH  NAME", "HASH *NAME" (binary mode),
-- "\HASH  NAME" with \\, \n and \r escaped in NAME, or the BSD form
-- "SHA256 (NAME) = HASH" (sha256sum --tag). Returns hash, name or nil.
local function parse_line(line)
  local escaped = line:sub(1, 1) == "\\"
  if escaped then line = line:sub(2) end
  local hash, name = line:match("^(%x+) [ *](.+)$")
  if not hash then
    name, hash = line:match("^SHA256 %((.+)%) = (%x+)$")
  end
  if not hash or #hash ~= 64 then return nil end
  if escaped then
    name = name:gsub("\\(.)", { ["\\"] = "\\", n = "\n", r = "\r" })
  end
  return hash:lower(), name
end

-- The entries of a manifest: { {name =, hash =}, ... }, or nil and a message.
local function read_manifest(path)
  local text, err = fs.read(path)
  if not text then return nil, err end
  local entries, n = {}, 0
  for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", "")
    if line ~= "" then
      local hash, name = parse_line(line)
      if not hash then
        return nil, format("%s:%d: not a sha256sum line (HASH, two spaces, file name)", path, n)
      end
      entries[#entries + 1] = { name = name, hash = hash }
    end
  end
  if #entries == 0 then
    return nil, format("%s: lists no files", path)
  end
  return entries
end

-- manifest_verify(path) → ok, bad, missing: every file a sha256sum-format
-- manifest lists, relative to the manifest's folder, hashed and compared.
-- bad: the files whose SHA-256 differs (or that cannot be read); missing:
-- the files that are not there. nil and a message when the manifest itself
-- cannot be read, is empty, or has a line that is not sha256sum's.
function M.manifest_verify(path)
  if type(path) ~= "string" then
    error(format("manifest_verify: expected the manifest's path, got %s", type(path)), 2)
  end
  local entries, err = read_manifest(path)
  if not entries then return nil, err end
  local dir = folder_of(path)
  local bad, missing = {}, {}
  for _, e in ipairs(entries) do
    local file = join(dir, e.name)
    local got = fs.sha256(file)
    if got ~= e.hash then
      if fs.exists(file) then bad[#bad + 1] = e.name else missing[#missing + 1] = e.name end
    end
  end
  return #bad == 0 and #missing == 0, bad, missing
end

local function problems(bad, missing)
  local out = {}
  if #bad > 0 then out[#out + 1] = "bad: " .. concat(bad, ", ") end
  if #missing > 0 then out[#out + 1] = "missing: " .. concat(missing, ", ") end
  return concat(out, "; ")
end

-- The manifest of a copy (see the top of this file), or nil and why.
local function manifest_of(path)
  if not fs.exists(path) then return nil, path .. ": not there" end
  if is_folder(path) then
    for _, name in ipairs(FOLDER_MANIFESTS) do
      if fs.exists(join(path, name)) then return join(path, name), true end
    end
    return nil, format("%s: no %s inside", path, concat(FOLDER_MANIFESTS, " or "))
  end
  if not fs.exists(path .. ".sha256") then
    return nil, path .. ".sha256: no checksum beside the copy"
  end
  return path .. ".sha256", false
end

-- A copy's time: the mtime of a folder's manifest, else of the copy itself.
local function copy_time(path)
  local manifest, folder = manifest_of(path)
  return fs.mtime(manifest and folder and manifest or path) or 0
end

-- verify(path) → manifest, or nil and why: one copy (a file with NAME.sha256
-- beside it, or a folder with SHA256SUMS or MANIFEST inside) checked against
-- its manifest.
function M.verify(path)
  if type(path) ~= "string" then
    error(format("verify: expected a copy's path, got %s", type(path)), 2)
  end
  local manifest, folder = manifest_of(path)
  if not manifest then return nil, folder end
  if not folder then
    local entries, err = read_manifest(manifest)
    if not entries then return nil, err end
    local listed = false
    for _, e in ipairs(entries) do
      if e.name == base_of(path) then listed = true end
    end
    if not listed then return nil, format("%s: does not list %s", manifest, base_of(path)) end
  end
  local ok, bad, missing = M.manifest_verify(manifest)
  if ok == nil then return nil, bad end
  if not ok then return nil, format("%s: %s", manifest, problems(bad, missing)) end
  return manifest
end

-- newest(dir, pattern [, {time = fn, accept = fn}]) → copy, or nil and a
-- message. The copies are the entries of dir whose name matches the Lua
-- pattern (and do not end in .sha256), newest first; the first whose
-- checksum verifies (and that accept(path) → true, or false and why, takes)
-- wins. time(path) → unix seconds replaces the modification time when given
-- (a timestamp in the name, a backup tool's catalogue). copy = {path =, name =,
-- time =, manifest =, skipped = {{path =, why =}, ...}}: skipped is what was
-- newer but did not verify, so a restore can say what it passed over.
function M.newest(dir, pattern, opts)
  if type(dir) ~= "string" or type(pattern) ~= "string" then
    error("newest: expected a folder and a Lua pattern, as in newest(\"backups\", \"%.db$\")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(format("newest: options must be a table such as {time = fn}, not a %s", type(opts)), 2)
  end
  local time_fn, accept = opts and opts.time, opts and opts.accept
  for k in pairs(opts or {}) do
    if k ~= "time" and k ~= "accept" then
      error(format("newest: unknown option '%s' (known: time, accept)", tostring(k)), 2)
    end
  end
  if time_fn ~= nil and type(time_fn) ~= "function" then
    error("newest: time must be a function(path) returning unix seconds", 2)
  end
  if accept ~= nil and type(accept) ~= "function" then
    error("newest: accept must be a function(path) returning true, or false and why", 2)
  end
  local names, err = fs.list(dir)
  if not names then return nil, err end
  local candidates = {}
  for _, name in ipairs(names) do
    if name:find(pattern) and not name:find("%.sha256$") then
      local path = join(dir, name)
      local t
      if time_fn then
        t = time_fn(path)
        if type(t) ~= "number" then
          error(format("newest: time(%q) returned %s, not unix seconds", path, tostring(t)), 2)
        end
      else
        t = copy_time(path)
      end
      candidates[#candidates + 1] = { name = name, path = path, time = t }
    end
  end
  -- newest first; the name breaks ties, so the order is the same on every run
  sort(candidates, function(a, b)
    if a.time ~= b.time then return a.time > b.time end
    return a.name > b.name
  end)
  local skipped = {}
  for _, c in ipairs(candidates) do
    local manifest, why = M.verify(c.path)
    if manifest and accept then
      local ok, reason = accept(c.path)
      if not ok then
        manifest, why = nil, format("%s: not accepted: %s", c.path, tostring(reason or "accept returned false"))
      end
    end
    if manifest then
      c.manifest, c.skipped = manifest, skipped
      return c
    end
    skipped[#skipped + 1] = { path = c.path, why = why }
  end
  if #candidates == 0 then
    return nil, format("%s: no copy matches %q", dir, pattern)
  end
  local whys = {}
  for _, sk in ipairs(skipped) do whys[#whys + 1] = sk.why end
  return nil, format("%s: none of the %d copies matching %q verifies%s (%s)", dir, #candidates,
    pattern, accept and " and is accepted" or "", concat(whys, "; "))
end

-- One copy of a policy, checked: verified, its time, whether it refuses writes.
local function check_copy(i, c)
  if type(c) ~= "table" then
    error(format("policy_321: copies[%d] must be a table such as {path =, media =}", i), 3)
  end
  for k in pairs(c) do
    if not ({ path = 1, dir = 1, pattern = 1, media = 1, offsite = 1, immutable = 1, name = 1 })[k] then
      error(format("policy_321: copies[%d]: unknown key '%s' (known: path, dir, pattern, media, offsite, immutable, name)",
        i, tostring(k)), 3)
    end
  end
  if (c.path == nil) == (c.dir == nil) or (c.dir ~= nil and type(c.pattern) ~= "string") then
    error(format("policy_321: copies[%d] needs path = (one copy) or dir = and pattern = (the newest copy there)", i), 3)
  end
  if type(c.media) ~= "string" or c.media == "" then
    error(format("policy_321: copies[%d] needs media = a name for the kind of storage, such as \"disk\" or \"s3\"", i), 3)
  end
  local r = { name = c.name or c.path or c.dir, media = c.media, offsite = c.offsite and true or false,
    immutable = c.immutable and true or false }
  local path = c.path
  if c.dir then
    local copy, why = M.newest(c.dir, c.pattern)
    if not copy then r.why = why return r end
    path = copy.path
  end
  r.path = path
  local manifest, why = M.verify(path)
  if not manifest then r.why = why return r end
  r.verified = true
  r.time = copy_time(path)
  if r.immutable then
    r.refuses_writes, r.write_check = fs.refuses_writes(path)
  end
  return r
end

local function names(list)
  local out = {}
  for _, c in ipairs(list) do out[#out + 1] = c.name end
  return #out > 0 and concat(out, ", ") or "none"
end

-- policy_321{copies = {{path =, media =, offsite =, immutable =}, ...}, max_age =}
-- → {ok =, findings = {{name =, ok =, detail =}, ...}, copies = {...}}, the
-- findings named three_copies, two_media, one_offsite, one_immutable,
-- checksums, max_age. `immutable` is checked: the copy must refuse writes by
-- this process (fs.refuses_writes), or it does not count and the finding
-- names it. copies holds what was found for each copy (verified, time,
-- refuses_writes, why).
function M.policy_321(p)
  if type(p) ~= "table" or type(p.copies) ~= "table" then
    error("policy_321: expected {copies = {{path =, media =, offsite =, immutable =}, ...}, max_age = \"1d\"}", 2)
  end
  for k in pairs(p) do
    if k ~= "copies" and k ~= "max_age" then
      error(format("policy_321: unknown key '%s' (known: copies, max_age)", tostring(k)), 2)
    end
  end
  if p.max_age == nil then
    error("policy_321: max_age is required: how old the newest copy may be, such as \"1d\"", 2)
  end
  local max_age = seconds(p.max_age, "policy_321: max_age")
  if not (max_age > 0) then error("policy_321: max_age must be more than 0 seconds", 2) end
  local copies, verified, unverified = {}, {}, {}
  for i, c in ipairs(p.copies) do
    local r = check_copy(i, c)
    copies[i] = r
    if r.verified then verified[#verified + 1] = r else unverified[#unverified + 1] = r end
  end
  local f = findings.new()
  f.copies = copies

  findings.add(f, "three_copies", #verified >= 3, "%d verified %s of %d (%s), at least 3 needed",
    #verified, #verified == 1 and "copy" or "copies", #copies, names(verified))

  local media, nmedia = {}, 0
  for _, c in ipairs(verified) do
    if not media[c.media] then media[c.media] = true nmedia = nmedia + 1 end
  end
  local mlist = {}
  for m in pairs(media) do mlist[#mlist + 1] = m end
  sort(mlist)
  findings.add(f, "two_media", nmedia >= 2, "%d %s among the verified copies (%s), at least 2 needed",
    nmedia, nmedia == 1 and "medium" or "media", #mlist > 0 and concat(mlist, ", ") or "none")

  local offsite = {}
  for _, c in ipairs(verified) do if c.offsite then offsite[#offsite + 1] = c end end
  findings.add(f, "one_offsite", #offsite >= 1, "%d verified offsite (%s), at least 1 needed",
    #offsite, names(offsite))

  local immutable, pretend = {}, {}
  for _, c in ipairs(copies) do
    if c.immutable and c.verified then
      if c.refuses_writes then immutable[#immutable + 1] = c
      else pretend[#pretend + 1] = format("%s is marked immutable but %s", c.name, c.write_check) end
    end
  end
  local detail = format("%d verified %s refusing writes by this process (%s), at least 1 needed",
    #immutable, #immutable == 1 and "copy" or "copies", names(immutable))
  if #immutable > 0 then detail = detail .. ": " .. immutable[1].write_check end
  if #pretend > 0 then detail = detail .. "; " .. concat(pretend, "; ") end
  findings.add(f, "one_immutable", #immutable >= 1, "%s", detail)

  local whys = {}
  for _, c in ipairs(unverified) do whys[#whys + 1] = c.why end
  findings.add(f, "checksums", #unverified == 0, "%s",
    #unverified == 0 and format("all %d copies verify against their manifests", #copies)
      or concat(whys, "; "))

  local newest
  for _, c in ipairs(verified) do
    if not newest or c.time > newest.time then newest = c end
  end
  if newest then
    local age = now() - newest.time
    findings.add(f, "max_age", age < max_age, "the newest verified copy (%s) is %s old, %s %s",
      newest.name, M.age(age), age < max_age and "within" or "over", M.age(max_age))
  else
    findings.add(f, "max_age", false, "no verified copy, so none younger than %s", M.age(max_age))
  end
  return f
end

-- "2d3h", "5m12s", "0.4s": an age in words a person reads at a glance.
function M.age(s)
  s = tonumber(s) or 0
  if s < 60 then return format("%.1fs", s) end
  local units = { { 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" } }
  local out, shown = {}, 0
  for _, u in ipairs(units) do
    local n = s // u[1]
    if n > 0 and shown < 2 then
      out[#out + 1] = format("%d%s", n, u[2])
      s = s - n * u[1]
      shown = shown + 1
    elseif shown > 0 then
      shown = 2
    end
  end
  return concat(out)
end

-- check(findings [, what]): logs each finding and raises naming the failed
-- ones — the findings as a step's or a probe's result.
M.check = findings.check

return M
