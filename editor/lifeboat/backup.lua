---@meta lifeboat.backup
-- LuaLS definitions of `require "lifeboat.backup"`, the recovery library's backup checks
-- (shipped inside lifeboat; reference: docs/recovery-library.md). Not loaded by lifeboat.

---A finding of a check: one named condition, passed or not, and what was found.
---@class lifeboat.finding
---@field name string e.g. "three_copies", "max_age", "rows", "psi:label"
---@field ok boolean
---@field detail string what was found, for a person

---The result of backup.policy_321 or data.compare: plain data (ctx.state, json.encode).
---@class lifeboat.findings
---@field ok boolean every finding passed
---@field findings lifeboat.finding[]

---@class lifeboat.backup_copy
---@field path string
---@field name string the entry's name in the folder
---@field time number unix seconds: the file's mtime, a folder's manifest's, or the `time` option's
---@field manifest string the manifest it verified against
---@field skipped {path: string, why: string}[] newer copies that did not verify

---A copy in a 3-2-1 policy: `path` (one copy) or `dir` and `pattern` (the newest verified copy there).
---@class lifeboat.policy_copy
---@field path? string a file (NAME.sha256 beside it) or a folder (SHA256SUMS or MANIFEST inside)
---@field dir? string a folder of copies
---@field pattern? string a Lua pattern for the copies' names in dir
---@field media string the kind of storage ("disk", "nfs", "s3", "tape"); two kinds needed
---@field offsite? boolean kept in another place
---@field immutable? boolean refuses writes by this process: checked with fs.refuses_writes
---@field name? string shown in the findings (default: path or dir)

---@class lifeboat.policy_321_options
---@field copies lifeboat.policy_copy[]
---@field max_age lifeboat.duration how old the newest verified copy may be

---@class lifeboat.policy_321_result: lifeboat.findings
---@field copies table[] what was found for each copy (verified, time, refuses_writes, why)

local backup = {}

---Checks a `sha256sum`-format manifest (paths relative to its folder).
---@param path string
---@return boolean|nil ok nil when the manifest cannot be read, is empty or malformed
---@return string[]|string bad the files whose checksum differs, or the error
---@return string[]? missing the files that are not there
function backup.manifest_verify(path) end

---Checks one copy against its manifest: NAME.sha256 beside a file, SHA256SUMS or MANIFEST in a folder.
---@param path string
---@return string|nil manifest, string? why
function backup.verify(path) end

---The newest copy in dir whose name matches pattern and whose checksum verifies.
---@param dir string
---@param pattern string a Lua pattern, e.g. "^features%-.*%.db$"
---@param opts? {time?: fun(path: string): number, accept?: fun(path: string): boolean, string?}
---@return lifeboat.backup_copy|nil copy, string? err
function backup.newest(dir, pattern, opts) end

---3-2-1, checked: at least 3 verified copies, 2 media, 1 offsite, 1 that refuses writes, the
---newest younger than max_age. Findings: three_copies, two_media, one_offsite, one_immutable,
---checksums, max_age.
---@param policy lifeboat.policy_321_options
---@return lifeboat.policy_321_result
function backup.policy_321(policy) end

---Logs every finding and raises naming the failed ones: the result as a step's or probe's outcome.
---@generic T: lifeboat.findings
---@param result T
---@param what? string the name in the error, e.g. "3-2-1"
---@return T
function backup.check(result, what) end

---An age for people: "45.0s", "5m12s", "2d3h".
---@param seconds number
---@return string
function backup.age(seconds) end

return backup
