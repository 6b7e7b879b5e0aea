-- lifeboat.data: did the restore bring back the right data? Distribution
-- checks of restored tables against a reference, the guard against restoring
-- poisoned or drifted training data. Shipped inside lifeboat;
-- `local data = require "lifeboat.data"`. Reference and examples:
-- docs/recovery-library.md.
--
-- A *sample* is a Lua array of numbers, or the rows of db:query() (each row a
-- table): a row gives its only column, so select one column, or take one
-- with data.column(rows, name). NULLs (nil) are left out; anything else that
-- is not a number raises.
--
-- PSI (population stability index) bins both samples by the expected
-- sample's quantiles: bins + 1 edges at the quantiles 0, 1/bins, ..., 1,
-- interpolated linearly as numpy.quantile's default (Hyndman–Fan type 7).
-- A value x falls in bin k when k - 1 interior edges are <= x (numpy's
-- histogram for values inside the range; the first and last bins reach to
-- -inf and +inf, so a restored value outside the reference's range still
-- counts). Proportions of 0 count as 0.0001 on either side, and
-- PSI = sum over bins of (actual - expected) * ln(actual / expected).

local findings = require "lifeboat.findings"

local M = {}

local sql = sql
local format, concat, sort, type, error, ipairs, pairs, next, tostring, ln, floor, huge =
  string.format, table.concat, table.sort, type, error, ipairs, pairs, next, tostring,
  math.log, math.floor, math.huge

local EMPTY = 0.0001     -- the proportion of an empty bin
local DEFAULT_BINS = 10
local DEFAULT_MAX_PSI = 0.1          -- below 0.1: "no significant change", the usual reading
local DEFAULT_MAX_ROWS_DELTA = 0.1   -- a tenth of the reference's rows

local function fail(what, fmt, ...)
  error(what .. ": " .. format(fmt, ...), 3)
end

-- The numbers of a sample (see the top of this file) and how many were NULL.
local function values(what, sample)
  if type(sample) ~= "table" then
    fail(what, "expected an array of numbers or the rows of db:query(), got %s", type(sample))
  end
  local out, nulls = {}, 0
  for i = 1, #sample do
    local v = sample[i]
    if type(v) == "table" then
      local k, x = next(v)
      if k ~= nil and next(v, k) ~= nil then
        local cols = {}
        for c in pairs(v) do cols[#cols + 1] = tostring(c) end
        sort(cols)
        fail(what, "row %d has several columns (%s): select one, or use data.column(rows, name)",
          i, concat(cols, ", "))
      end
      v = x
    end
    if v == nil then
      nulls = nulls + 1
    elseif type(v) ~= "number" or v ~= v then
      fail(what, "value %d is %s, not a number", i, type(v) == "number" and "NaN" or
        format("a %s (%s)", type(v), tostring(v)))
    else
      out[#out + 1] = v
    end
  end
  return out, nulls
end

-- data.column(rows, name) → the column's numbers (NULLs left out).
function M.column(rows, name)
  if type(rows) ~= "table" or type(name) ~= "string" then
    error("data.column: expected the rows of db:query() and a column name", 2)
  end
  local out = {}
  for i, row in ipairs(rows) do
    local v = row[name]
    if v ~= nil then
      if type(v) ~= "number" or v ~= v then
        error(format("data.column: row %d: %s is %s, not a number", i, name, tostring(v)), 2)
      end
      out[#out + 1] = v
    end
  end
  return out
end

-- numpy's _lerp: a + (b - a) * t, computed from b's side when t >= 0.5
local function lerp(a, b, t)
  local d = b - a
  if t >= 0.5 then return b - d * (1 - t) end
  return a + d * t
end

-- The p-quantile of a sorted array, numpy's default (linear) method.
local function quantile(sorted, p)
  local h = (#sorted - 1) * p
  local lo = floor(h)
  local hi = lo + 1 < #sorted and lo + 1 or lo
  return lerp(sorted[lo + 1], sorted[hi + 1], h - lo)
end

-- Bin of x: 1 + the number of interior edges (edges[2..bins]) <= x.
local function bin_of(edges, x)
  local lo, hi = 2, #edges   -- the interior edges are edges[2] .. edges[#edges - 1]
  while lo < hi do           -- first interior index whose edge > x
    local mid = (lo + hi) // 2
    if edges[mid] <= x then lo = mid + 1 else hi = mid end
  end
  return lo - 1
end

local function check_bins(what, bins)
  if bins == nil then return DEFAULT_BINS end
  if type(bins) ~= "number" or bins ~= floor(bins) or bins < 2 or bins > 1000 then
    fail(what, "bins must be a whole number from 2 to 1000, not %s", tostring(bins))
  end
  return bins
end

-- The proportions of xs in the bins of edges.
local function proportions(edges, xs)
  local counts = {}
  for i = 1, #edges - 1 do counts[i] = 0 end
  for _, x in ipairs(xs) do
    local b = bin_of(edges, x)
    counts[b] = counts[b] + 1
  end
  for i = 1, #counts do counts[i] = counts[i] / #xs end
  return counts
end

-- A column's profile: the edges at the sample's quantiles and its proportions.
local function profile_values(xs, nulls, bins)
  local sorted = {}
  for i, x in ipairs(xs) do sorted[i] = x end
  sort(sorted)
  local edges, sum = {}, 0
  for i = 0, bins do edges[i + 1] = quantile(sorted, i / bins) end
  for _, x in ipairs(sorted) do sum = sum + x end
  return { n = #sorted, nulls = nulls, edges = edges, p = proportions(edges, sorted),
    min = sorted[1], max = sorted[#sorted], mean = sum / #sorted }
end

-- A reference column, checked: edges (bins + 1 numbers, ascending) and p.
local function check_profile(what, name, c)
  if type(c) ~= "table" or type(c.edges) ~= "table" or type(c.p) ~= "table" then
    fail(what, "reference column '%s' needs edges = {...} and p = {...} (made by data.profile)", name)
  end
  if #c.edges < 3 or #c.p ~= #c.edges - 1 then
    fail(what, "reference column '%s': %d edges and %d proportions (edges must be one more, at least 3)",
      name, #c.edges, #c.p)
  end
  for i, e in ipairs(c.edges) do
    if type(e) ~= "number" or (i > 1 and e < c.edges[i - 1]) then
      fail(what, "reference column '%s': edges[%d] is not a number in ascending order", name, i)
    end
  end
  for i, p in ipairs(c.p) do
    if type(p) ~= "number" or p < 0 or p > 1 then
      fail(what, "reference column '%s': p[%d] is not a proportion from 0 to 1", name, i)
    end
  end
  return c
end

-- PSI of actual numbers against a column profile; also both proportions.
local function psi_profile(prof, xs)
  local actual = proportions(prof.edges, xs)
  local psi = 0
  for i, e in ipairs(prof.p) do
    local a = actual[i]
    if e == 0 then e = EMPTY end
    if a == 0 then a = EMPTY end
    psi = psi + (a - e) * ln(a / e)
  end
  return psi, { edges = prof.edges, expected = prof.p, actual = actual }
end

-- data.psi(expected, actual [, bins]) → psi, bins_detail. expected is a
-- sample or a column of a reference profile ({edges =, p =}); actual a
-- sample. bins_detail = {edges =, expected =, actual =} (the proportions).
function M.psi(expected, actual, bins)
  local what = "data.psi"
  local prof
  if type(expected) == "table" and expected.edges ~= nil then
    if bins ~= nil then fail(what, "bins come from the profile; do not pass them too") end
    prof = check_profile(what, "expected", expected)
  else
    bins = check_bins(what, bins)
    local xs, nulls = values(what .. ": expected", expected)
    if #xs == 0 then fail(what, "the expected sample has no values") end
    prof = profile_values(xs, nulls, bins)
  end
  local ys = values(what .. ": actual", actual)
  if #ys == 0 then fail(what, "the actual sample has no values") end
  return psi_profile(prof, ys)
end

-- data.ks(a, b) → D: the two-sample Kolmogorov–Smirnov statistic, the largest
-- distance between the two empirical distribution functions, both taken
-- after every value equal to x (ties move both functions at once).
function M.ks(a, b)
  local xs = values("data.ks: a", a)
  local ys = values("data.ks: b", b)
  if #xs == 0 or #ys == 0 then error("data.ks: both samples need values", 2) end
  sort(xs)
  sort(ys)
  local i, j, n, m, d = 1, 1, #xs, #ys, 0
  while i <= n and j <= m do
    local x = xs[i] < ys[j] and xs[i] or ys[j]
    while i <= n and xs[i] == x do i = i + 1 end
    while j <= m and ys[j] == x do j = j + 1 end
    local gap = (i - 1) / n - (j - 1) / m
    if gap < 0 then gap = -gap end
    if gap > d then d = gap end
  end
  return d
end

-- Rows from a db handle or a path (opened read-only, closed after).
local function query_rows(what, db, query)
  if type(query) ~= "string" then fail(what, "expected a query, got %s", type(query)) end
  if type(db) == "string" then
    local h <close> = sql.open(db, { readonly = true })
    return h:query(query)
  end
  if type(db) ~= "userdata" then
    fail(what, "expected a database (sql.open) or its path, got %s", type(db))
  end
  return db:query(query)
end

-- The profile of rows: every column holding numbers.
local function profile_rows(what, rows, bins)
  local cols, order = {}, {}
  for _, row in ipairs(rows) do
    for k, v in pairs(row) do
      local c = cols[k]
      if not c then
        c = { xs = {}, kind = "number" }
        cols[k] = c
        order[#order + 1] = k
      end
      if type(v) == "number" and v == v then c.xs[#c.xs + 1] = v
      else c.kind = type(v) end
    end
  end
  sort(order)
  local ref = { version = 1, rows = #rows, bins = bins, columns = {}, skipped = {} }
  for _, k in ipairs(order) do
    local c = cols[k]
    if c.kind ~= "number" or #c.xs == 0 then
      ref.skipped[#ref.skipped + 1] = format("%s (%s values)", k, c.kind)
    else
      ref.columns[k] = profile_values(c.xs, #rows - #c.xs, bins)
    end
  end
  if next(ref.columns) == nil then
    fail(what, "no column of numbers to profile%s", #ref.skipped > 0 and
      " (" .. concat(ref.skipped, ", ") .. ")" or " (no rows)")
  end
  return ref
end

-- data.profile(rows [, {bins =}]) or data.profile(db, query [, {bins =}]) →
-- a reference profile: {version = 1, rows =, bins =, columns = {NAME = {n =,
-- nulls =, edges =, p =, min =, max =, mean =}}, skipped = {...}}, plain
-- data to keep with the backup (json.encode) and pass to data.compare.
function M.profile(a, b, c)
  local what = "data.profile"
  local rows, opts
  if type(a) == "table" then rows, opts = a, b
  else rows, opts = query_rows(what, a, b), c end
  if opts ~= nil and type(opts) ~= "table" then fail(what, "options must be a table such as {bins = 10}") end
  for k in pairs(opts or {}) do
    if k ~= "bins" then fail(what, "unknown option '%s' (known: bins)", tostring(k)) end
  end
  return profile_rows(what, rows, check_bins(what, opts and opts.bins))
end

local function opt_fraction(what, opts, key, dflt)
  local v = opts[key]
  if v == nil then return dflt end
  if type(v) ~= "number" or v < 0 or v ~= v or v == huge then
    fail(what, "%s must be a number of 0 or more, not %s", key, tostring(v))
  end
  return v
end

-- data.compare(db, query, reference [, {max_psi =, max_rows_delta =}]) →
-- {ok =, findings = {{name =, ok =, detail =}, ...}, rows =, psi = {COLUMN = x}}:
-- the findings "rows" (the row count within max_rows_delta, a fraction of the
-- reference's rows) and "psi:COLUMN" for each column of the reference (its
-- PSI at most max_psi).
function M.compare(db, query, reference, opts)
  local what = "data.compare"
  if type(reference) ~= "table" or type(reference.columns) ~= "table" or type(reference.rows) ~= "number" then
    fail(what, "the reference must be a profile {rows =, columns = {...}} (made by data.profile)")
  end
  opts = opts or {}
  if type(opts) ~= "table" then fail(what, "options must be a table such as {max_psi = 0.1}") end
  for k in pairs(opts) do
    if k ~= "max_psi" and k ~= "max_rows_delta" then
      fail(what, "unknown option '%s' (known: max_psi, max_rows_delta)", tostring(k))
    end
  end
  local max_psi = opt_fraction(what, opts, "max_psi", DEFAULT_MAX_PSI)
  local max_delta = opt_fraction(what, opts, "max_rows_delta", DEFAULT_MAX_ROWS_DELTA)
  local names = {}
  for k, c in pairs(reference.columns) do
    check_profile(what, tostring(k), c)
    names[#names + 1] = k
  end
  sort(names)
  local rows = query_rows(what, db, query)

  local f = findings.new()
  f.rows, f.psi = #rows, {}
  local ref_rows = reference.rows
  local delta = ref_rows > 0 and (#rows - ref_rows) / ref_rows or (#rows > 0 and huge or 0)
  findings.add(f, "rows", (delta < 0 and -delta or delta) <= max_delta,
    "%d rows, the reference has %d (%+.1f%%, at most ±%.1f%%)", #rows, ref_rows, delta * 100, max_delta * 100)
  for _, name in ipairs(names) do
    local xs = {}
    local bad
    for i, row in ipairs(rows) do
      local v = row[name]
      if type(v) == "number" and v == v then xs[#xs + 1] = v
      elseif v ~= nil and not bad then bad = format("row %d holds %s", i, tostring(v)) end
    end
    local fname = "psi:" .. name
    if bad then
      findings.add(f, fname, false, "%s: %s, not a number", name, bad)
    elseif #xs == 0 then
      findings.add(f, fname, false, "%s: no values in the result (is it selected?)", name)
    else
      local psi = psi_profile(reference.columns[name], xs)
      f.psi[name] = psi
      findings.add(f, fname, psi <= max_psi, "%s: PSI %.4f against the reference, at most %g",
        name, psi, max_psi)
    end
  end
  return f
end

-- check(findings [, what]): logs each finding and raises naming the failed
-- ones — the findings as a step's or a probe's result.
M.check = findings.check

return M
