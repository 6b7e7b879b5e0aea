-- The feature-store demo's params, shared by runbooks/feature-store-setup.lua (which brings its
-- environment up) and runbooks/feature-store.lua (the drill): where its state lives under
-- demo/state/, the model server's port, the training thresholds.
return {
  store = "demo/state/features.db",
  backups = "demo/state/backups",
  replica = "demo/state/replica",
  offsite = "demo/state/offsite",
  model = "demo/state/model.json",
  reference = "demo/state/features.profile.json",
  keys = "demo/state/keys",
  port = 18080,
  min_rows = 1000,
  min_accuracy = 0.8,
}
