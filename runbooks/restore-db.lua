-- A restore test for the orders database: a backup nobody has restored is a
-- hope, not a backup. The first phase takes a backup the way the nightly job
-- does (making the example's database under demo/state/ when there is none);
-- the second restores it in place of the database and proves it sound: the
-- checksum matches the manifest, SQLite's integrity check passes, the orders
-- are there. The recovery point is the newest order in the restored file.
--
-- For a real database: -p db=/srv/orders.db -p backup=/srv/backups/orders.db

return runbook {
  name = "restore-db",
  description = "Back up the orders database, restore the backup in its place and prove it sound",
  rto = "5m",
  rpo = "1h",
  roles = { "dba" },
  params = {
    db = "demo/state/orders/orders.db",
    backup = "demo/state/orders/backup/orders.db",
    min_rows = 100,
  },
  recovery_point = function(ctx)
    return sql.open(ctx.params.db, { readonly = true }):scalar("select max(created_at) from orders")
  end,

  phase "back up" { role = "dba",
    step "orders arrive" {
      run = function(ctx)
        sh('mkdir -p "$(dirname "$db")"')
        local db <close> = sql.open(ctx.params.db, { create = true })
        db:exec([[
          create table if not exists orders (
            id integer primary key,
            customer text not null,
            total real not null,
            created_at text not null
          )]])
        db:exec([[
          insert into orders (customer, total, created_at)
          with recursive n(i) as (select 1 union all select i + 1 from n where i < 120)
          select 'customer-' || (abs(random()) % 500), round(5 + abs(random()) % 30000 / 100.0, 2),
                 strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ((121 - i) * 30) || ' seconds')
          from n]])
        log("%s holds %d orders", ctx.params.db, db:scalar("select count(*) from orders"))
      end,
    },
    step "take the backup" {
      sh = [[
        mkdir -p "$(dirname "$backup")"
        sqlite3 "$db" ".backup '$backup'"
        cd "$(dirname "$backup")"
        sha256sum "$(basename "$backup")" > "$(basename "$backup").sha256"
        echo "backed up $db to $backup, sha256 $(cut -c1-12 "$(basename "$backup").sha256")…"
      ]],
    },
  },

  phase "restore" { role = "dba", budget = "1m",
    step "verify the backup's checksum" {
      run = function(ctx)
        local backup = ctx.params.backup
        local manifest = fs.read(backup .. ".sha256")
        if not manifest then
          error("no manifest " .. backup .. ".sha256: the backup cannot be trusted")
        end
        local want, got = manifest:match("^%x+"), assert(fs.sha256(backup))
        if got ~= want then
          error(string.format("%s has sha256 %s, its manifest says %s", backup, got, want))
        end
        ctx.state.sha256 = got
        log("%s matches its manifest (sha256 %s…)", backup, got:sub(1, 12))
      end,
    },
    step "set the database aside" {
      sh = 'if [ -e "$db" ]; then mv "$db" "$db.before-restore" && echo "moved $db to $db.before-restore"; fi',
    },
    step "copy the backup into place" {
      run = function(ctx)
        local p = ctx.params
        assert(fs.copy(p.backup, p.db))
        if fs.sha256(p.db) ~= ctx.state.sha256 then
          error("the copy at " .. p.db .. " does not match the backup")
        end
        log("copied %s to %s", p.backup, p.db)
      end,
    },
    step "integrity check" {
      run = function(ctx)
        local result = sql.open(ctx.params.db, { readonly = true }):scalar("pragma integrity_check")
        if result ~= "ok" then
          error("integrity_check: " .. result)
        end
        log("integrity_check: ok")
      end,
    },
    step "orders are there" {
      run = function(ctx)
        local db <close> = sql.open(ctx.params.db, { readonly = true })
        local facts = db:query("select count(*) as n, max(created_at) as newest from orders")[1]
        if facts.n < tonumber(ctx.params.min_rows) then
          error(string.format("only %d orders, expected at least %s", facts.n, ctx.params.min_rows))
        end
        log("restored %d orders, the newest from %s", facts.n, facts.newest)
      end,
    },
    rollback = {
      step "put the database back" {
        sh = 'if [ -e "$db.before-restore" ]; then mv "$db.before-restore" "$db" && echo "put $db back"; fi',
      },
    },
  },
}
