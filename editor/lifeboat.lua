---@meta lifeboat
-- Definitions of lifeboat's runbook language and Lua API for the Lua language server (LuaLS,
-- sumneko): completion, hover help and type checks while writing a runbook. Not loaded by
-- lifeboat. Point the server at it, e.g. in .luarc.json beside your runbooks:
--   { "runtime.version": "Lua 5.4",
--     "workspace.library": ["/usr/share/lifeboat/lua"],
--     "diagnostics.globals": [] }
-- The reference: /usr/share/doc/lifeboat/runbook.md, man lifeboat-runbook(5).

---A duration: "500ms", "90s", "15m", "1h30m", "2d", or a number of seconds.
---@alias lifeboat.duration string|number

---A shell: a string naming one that takes -c ("bash" means bash -c) or a list of words.
---@alias lifeboat.shell string|string[]

---The run's context, passed to `run` functions, function-valued step fields and `recovery_point`.
---@class lifeboat.ctx
---@field params table<string, string> the merged params: the runbook's, the environment's (--env), -p; reading an undeclared one raises
---@field state table shared between steps (strings, numbers, booleans, tables); saved with every finished step and restored by `lifeboat resume`
---@field run_id string the run's id (12 hex digits)
---@field env string|nil the environment given with --env
---@field operator string who runs it (--as, $LIFEBOAT_USER, the login name)
---@field mode "run"|"drill" `drill` when fault phases run
---@field phase string|nil the current phase's name
---@field step string|nil the current step's name

---The options of a step: exactly one of `sh`, `run`, `http`, `manual`.
---@class lifeboat.step_options
---@field sh? string|fun(ctx: lifeboat.ctx): string a command for the shell, in its own process group; params are environment variables ("$name"), never expanded into the string
---@field run? fun(ctx: lifeboat.ctx) Lua run in the host; the step fails when it raises
---@field http? string|fun(ctx: lifeboat.ctx): string a URL to request; ${name} expands params
---@field manual? string|fun(ctx: lifeboat.ctx): string what a person must do and confirm; ${name} expands params
---@field method? string http: an upper-case method (default GET, or POST with a body)
---@field body? string|fun(ctx: lifeboat.ctx): string http: the request body
---@field headers? table<string, string>|fun(ctx: lifeboat.ctx): table<string, string> http: request headers
---@field expect? integer http: the status that counts as success (default 200)
---@field contains? string http: text the response body must contain
---@field redirects? boolean http: follow redirects (default false)
---@field timeout? lifeboat.duration per attempt (default the runbook's step_timeout, "10m"; manual steps wait without limit unless given one)
---@field retries? integer further attempts after a failure (default 0)
---@field retry_delay? lifeboat.duration pause between attempts (default "1s")
---@field role? string who does it (default: the phase's role)
---@field continue_on_error? boolean a failure is recorded but the run goes on (default false)
---@field idempotent? boolean false: `lifeboat resume` asks (--yes) before running it again (default true)
---@field shell? lifeboat.shell sh steps: the shell (default the runbook's, else /bin/sh -c)
---@field service? boolean sh steps: a long-running process kept alive until the run ends
---@field on? string|string[]|fun(ctx: lifeboat.ctx): string|string[] sh steps: run on every host of these groups or hosts (lifeboat.yaml hosts:)
---@field max_failed_hosts? integer steps with on: hosts that may fail while the step succeeds (default 0)
---@field remote_workdir? string steps with on: where the command runs on the hosts (default the remote user's home)
---@field ready_after? lifeboat.duration service steps: alive this long counts as started (default "200ms")

---The options of a phase; its steps are the positional entries.
---@class lifeboat.phase_options
---@field role? string the role of its steps
---@field budget? lifeboat.duration the time the phase may take; over it is reported (and fails the run with --strict-budgets)
---@field fault? boolean runs only in `lifeboat drill`: injects the failure; fault phases come first
---@field restores_service? boolean its end is t1, when service is back (default: the last recovery phase)
---@field parallel? integer up to N of its steps at once (default 1)
---@field rollback? lifeboat.step[] steps run when one of its steps finally fails
---@field rollback_on_abort? boolean also run the rollback when the run is aborted
---@field cleanup? boolean always runs at the end, outside the RTO; its failures do not change the verdict
---@field [integer] lifeboat.step

---The options of a runbook; its phases are the positional entries.
---@class lifeboat.runbook_options
---@field name string the runbook's name (history, reports, the exclusive lock)
---@field description? string
---@field rto? lifeboat.duration recovery time objective: t1 - t0 must not exceed it
---@field rpo? lifeboat.duration recovery point objective: t0 - recovery point must not exceed it
---@field roles? string[] the roles its phases and steps may name
---@field params? table<string, string|number|boolean> declared params and their defaults; -p name=value overrides
---@field recovery_point? fun(ctx: lifeboat.ctx): number|string the newest data present after the restore: unix seconds or ISO-8601
---@field probes? lifeboat.step[] checks that change nothing (run, http, sh): before the fault in a drill, after the recovery, and alone in `lifeboat probe`
---@field newest_recoverable? fun(ctx: lifeboat.ctx): number|string the newest backup a recovery would restore: `lifeboat probe` reports now - that against the RPO
---@field step_timeout? lifeboat.duration default timeout of a step (default "10m")
---@field workdir? string where steps run and relative paths resolve (default: the runbook's folder)
---@field shell? lifeboat.shell default shell of sh steps
---@field exclusive? boolean at most one run at a time per environment (default true)
---@field remote_workdir? string where remote steps run on the hosts (default the remote user's home)
---@field [integer] lifeboat.phase

---@class lifeboat.step
---@class lifeboat.phase
---@class lifeboat.runbook

---Builds the runbook a runbook file returns: `return runbook { name = "x", phase "p" { ... } }`.
---@param options lifeboat.runbook_options
---@return lifeboat.runbook
function runbook(options) end

---A phase: `phase "restore" { budget = "5m", step "..." { ... } }`.
---@param name string unique in the runbook
---@return fun(options: lifeboat.phase_options): lifeboat.phase
function phase(name) end

---A step: `step "copy" { sh = 'cp "$backup" "$db"', timeout = "2m" }`.
---@param name string unique in its phase
---@return fun(options: lifeboat.step_options): lifeboat.step
function step(name) end

---@class lifeboat.sh_options
---@field check? boolean false: return the result instead of raising on a non-zero exit
---@field timeout? lifeboat.duration bounded by the step's own timeout

---@class lifeboat.sh_result
---@field code integer the exit status (128 + N for signal N)
---@field stdout string
---@field stderr string
---@field duration number seconds
---@field truncated? boolean true when the output was longer than lifeboat keeps

---Runs a command like a `sh` step (own process group, params in the environment).
---Raises when it exits non-zero unless `opts.check == false`. Not available while loading.
---@param cmd string
---@param opts? lifeboat.sh_options
---@return lifeboat.sh_result
function sh(cmd, opts) end

---Runs a command on one remote host of the inventory (lifeboat.yaml hosts:) through ssh, like sh();
---the result also has `status` ("succeeded", "failed", "unreachable", "timed_out", "interrupted").
---Raises when it does not succeed unless `opts.check == false` (then look at status and code).
---@param host string
---@param cmd string
---@param opts? lifeboat.sh_options
---@return lifeboat.sh_result
function ssh(host, cmd, opts) end

---A line in the step's output and the history: `log("restored %d rows", n)` (string.format).
---@param fmt string
---@param ... any
function log(fmt, ...) end

---Like Lua's print, into the step's output and the history.
---@param ... any
function print(...) end

---Declares the recovery point (the newest data present after the restore); the last call wins.
---@param t number|string unix seconds, or ISO-8601 (no zone means UTC)
function recovery_point(t) end

---@class lifeboat.wait_options
---@field timeout? lifeboat.duration default 30 s
---@field every? lifeboat.duration default 1 s

---Calls `fn` until it returns a true value (a raise counts as false) and returns that value;
---raises on timeout with the last error.
---@generic T
---@param fn fun(): T
---@param opts? lifeboat.wait_options
---@return T
function wait_until(fn, opts) end

---Sends a webhook message to a role's `notify` URL (config) or to a URL.
---@param role_or_url string
---@param message string
function notify(role_or_url, message) end

---The value of a secret the config lists under `secrets` (from the environment); it is
---replaced by *** wherever it would be shown or stored.
---@param name string
---@return string
function secret(name) end

---Registers a value obtained at run time (a token) as a secret: from now on it is replaced by
---*** wherever output, the history, reports or webhooks would show it. Returns the value.
---@param value string
---@return string
function mask(value) end

---The wall clock: unix seconds with milliseconds.
---@return number
function now() end

---Pauses; an abort interrupts it. Bounded by the step's timeout.
---@param seconds number
function sleep(seconds) end

---@class lifeboat.http_options
---@field headers? table<string, string>
---@field timeout? lifeboat.duration the whole request (default 30 s)
---@field connect_timeout? lifeboat.duration default 5 s
---@field redirects? boolean follow redirects (default false)

---@class lifeboat.http_request: lifeboat.http_options
---@field url string
---@field method? string default GET (POST with a body)
---@field body? string

---@class lifeboat.http_response
---@field status integer
---@field body string
---@field headers table<string, string> lower-case names
---@field duration number seconds
---@field truncated? boolean true when the body was longer than lifeboat keeps

---HTTP with libcurl. A transport error raises; any status is returned.
http = {}

---@param url string
---@param opts? lifeboat.http_options
---@return lifeboat.http_response
function http.get(url, opts) end

---@param url string
---@param body string
---@param opts? lifeboat.http_options
---@return lifeboat.http_response
function http.post(url, body, opts) end

---@param request lifeboat.http_request
---@return lifeboat.http_response
function http.request(request) end

---@class lifeboat.sql_open_options
---@field readonly? boolean
---@field create? boolean create the file when missing (else a missing file is an error)

---A SQLite database; closed by `db:close()`, a `<close>` variable, or the collector.
---@class lifeboat.db
local db = {}

---Rows as tables keyed by column name; `?` placeholders take the further arguments.
---@param sql string
---@param ... any
---@return table[]
function db:query(sql, ...) end

---The first column of the first row, or nil.
---@param sql string
---@param ... any
---@return any
function db:scalar(sql, ...) end

---Runs a statement (or several, without parameters); returns the number of changed rows.
---@param sql string
---@param ... any
---@return integer
function db:exec(sql, ...) end

function db:close() end

---SQLite with bound parameters.
sql = {}

---@param path string relative to the runbook's workdir, or ":memory:"
---@param opts? lifeboat.sql_open_options
---@return lifeboat.db
function sql.open(path, opts) end

---Files, relative to the runbook's workdir. An expected failure returns nil and a message.
fs = {}

---@param path string
---@return boolean
function fs.exists(path) end

---@param path string
---@return string|nil data, string? err
function fs.read(path) end

---Writes atomically (a temporary file renamed over the target). Not available while loading.
---@param path string
---@param data string
---@return boolean|nil ok, string? err
function fs.write(path, data) end

---@param from string
---@param to string
---@return boolean|nil ok, string? err
function fs.copy(from, to) end

---Removes a file or an empty folder.
---@param path string
---@return boolean|nil ok, string? err
function fs.remove(path) end

---The names in a folder, sorted.
---@param dir string
---@return string[]|nil names, string? err
function fs.list(dir) end

---The modification time in unix seconds with milliseconds.
---@param path string
---@return number|nil mtime, string? err
function fs.mtime(path) end

---@param path string
---@return integer|nil bytes, string? err
function fs.size(path) end

---The SHA-256 of a file, in hex.
---@param path string
---@return string|nil hex, string? err
function fs.sha256(path) end

---Whether this process is kept from changing a file or a folder and everything in it: a read-only
---mount or `chattr +i` (as root, mode bits do not count). Nothing is written.
---@param path string
---@return boolean|nil refuses, string reason the refusal, or the first writable path, or the error
function fs.refuses_writes(path) end

json = {}

---@param value any
---@return string
function json.encode(value) end

---@param text string
---@return any
function json.decode(text) end

---Hashes and minisign signatures.
crypto = {}

---The SHA-256 of a string, in hex.
---@param s string
---@return string
function crypto.sha256(s) end

---Checks a minisign signature (made by `lifeboat sign` or `minisign -S`) of a file against a
---public key file. Returns true, or raises naming what failed — never false.
---@param file string
---@param sig_file string
---@param pub_file string
---@return true
function crypto.verify(file, sig_file, pub_file) end
