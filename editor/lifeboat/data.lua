---@meta lifeboat.data
-- LuaLS definitions of `require "lifeboat.data"`, the recovery library's data checks (shipped
-- inside lifeboat; reference: docs/recovery-library.md). Not loaded by lifeboat.

---A sample: an array of numbers, or the rows of db:query() with one column each.
---@alias lifeboat.sample number[]|table[]

---A column's profile: bin edges at the reference's quantiles and the proportion in each bin.
---@class lifeboat.column_profile
---@field n integer values
---@field nulls integer NULLs
---@field edges number[] bins + 1 edges
---@field p number[] proportions, one a bin
---@field min number
---@field max number
---@field mean number

---A reference profile (data.profile): keep it with the backup (json.encode) for data.compare.
---@class lifeboat.profile
---@field version integer 1
---@field rows integer
---@field bins integer
---@field columns table<string, lifeboat.column_profile>
---@field skipped string[] columns that are not numbers

---@class lifeboat.compare_options
---@field max_psi? number the largest PSI a column may have (default 0.1)
---@field max_rows_delta? number the largest row-count change, a fraction of the reference's rows (default 0.1)

---@class lifeboat.compare_result: lifeboat.findings
---@field rows integer rows the query returned
---@field psi table<string, number> each column's PSI

local data = {}

---Population stability index of actual against expected (a sample or a column profile).
---@param expected lifeboat.sample|lifeboat.column_profile
---@param actual lifeboat.sample
---@param bins? integer 10 unless given
---@return number psi
---@return {edges: number[], expected: number[], actual: number[]} detail
function data.psi(expected, actual, bins) end

---Two-sample Kolmogorov–Smirnov statistic (the largest gap between the two ECDFs).
---@param a lifeboat.sample
---@param b lifeboat.sample
---@return number
function data.ks(a, b) end

---One column of db:query() rows as numbers (NULLs left out).
---@param rows table[]
---@param name string
---@return number[]
function data.column(rows, name) end

---A reference profile of rows, or of a query on a database (a handle or a path).
---@overload fun(rows: table[], opts?: {bins: integer}): lifeboat.profile
---@param db lifeboat.db|string
---@param query string
---@param opts? {bins: integer}
---@return lifeboat.profile
function data.profile(db, query, opts) end

---Restored rows against a reference profile. Findings: rows, psi:COLUMN.
---@param db lifeboat.db|string
---@param query string
---@param reference lifeboat.profile
---@param opts? lifeboat.compare_options
---@return lifeboat.compare_result
function data.compare(db, query, reference, opts) end

---Logs every finding and raises naming the failed ones: the result as a step's or probe's outcome.
---@generic T: lifeboat.findings
---@param result T
---@param what? string the name in the error, e.g. "restored features"
---@return T
function data.check(result, what) end

return data
