# What `cmake --install` puts under the prefix, and the Debian package CPack makes of it
# (scripts/package.sh). Everything lifeboat needs at run time is in the binary (the Lua prelude
# is compiled in); the rest is for people and their tools:
#
#   bin/lifeboat
#   share/man/man1/lifeboat.1, man5/...            from docs/man/*.scd (scdoc; CMakeLists.txt)
#   share/bash-completion/completions/lifeboat     completion/lifeboat.bash (CMakeLists.txt)
#   share/doc/lifeboat/examples/                   the shipped runbooks, their demo helpers, a config
#   share/doc/lifeboat/*.md                        the documentation of docs/
#   share/lifeboat/schemas/*.schema.json           JSON Schemas of lifeboat.yaml and the JSON report
#   share/lifeboat/lua/                            editor support: LuaLS definitions (lifeboat/ for
#                                                  the recovery library), luacheck standard
#   lib/systemd/system/lifeboat-scheduler.{service,timer}   the scheduler, disabled until enabled

include(GNUInstallDirs)

install(TARGETS lifeboat RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The man pages (docs/man/*.scd, built by scdoc into build/man/) and the bash completion
# (completion/lifeboat.bash) install with the rules beside them in CMakeLists.txt.

# ---- examples and documentation ----
set(LB_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/lifeboat)
file(GLOB LB_EXAMPLE_RUNBOOKS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/runbooks/*.lua)
install(FILES ${LB_EXAMPLE_RUNBOOKS} ${CMAKE_SOURCE_DIR}/runbooks/lifeboat.example.yaml
  DESTINATION ${LB_DOCDIR}/examples)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/runbooks/demo DESTINATION ${LB_DOCDIR}/examples
  PATTERN state EXCLUDE PATTERN __pycache__ EXCLUDE)
file(GLOB LB_DOCS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${LB_DOCS} DESTINATION ${LB_DOCDIR})

# ---- schemas and editor support ----
file(GLOB LB_SCHEMAS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/schemas/*.json)
install(FILES ${LB_SCHEMAS} DESTINATION ${CMAKE_INSTALL_DATADIR}/lifeboat/schemas)
install(FILES ${CMAKE_SOURCE_DIR}/editor/lifeboat.lua ${CMAKE_SOURCE_DIR}/editor/luacheckrc
  DESTINATION ${CMAKE_INSTALL_DATADIR}/lifeboat/lua)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/editor/lifeboat DESTINATION ${CMAKE_INSTALL_DATADIR}/lifeboat/lua)

# ---- systemd: the scheduler, run every minute by a timer; enabled by the administrator ----
install(FILES ${CMAKE_SOURCE_DIR}/dist/systemd/lifeboat-scheduler.service
  ${CMAKE_SOURCE_DIR}/dist/systemd/lifeboat-scheduler-once.service
  ${CMAKE_SOURCE_DIR}/dist/systemd/lifeboat-scheduler.timer
  DESTINATION lib/systemd/system)

# ---- the Debian package: scripts/package.sh runs `cpack -G DEB` ----
set(CPACK_PACKAGE_NAME lifeboat)
set(CPACK_PACKAGE_VENDOR "lifeboat")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "disaster-recovery runbook executor and RTO/RPO tester")
# the synopsis is the summary above; CPack indents these lines
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "lifeboat runs disaster-recovery runbooks written in Lua phase by phase, times
every phase against its budget and the whole recovery against the RTO, measures
the recovery point of the restored data against the RPO, keeps every run in a
SQLite history and fails a CI job when an objective is missed. It has a live
console for incidents and drills, JSON, JUnit, HTML, Markdown and Prometheus
reports, and a scheduler for chaos drills (systemd units, disabled until enabled).")
set(CPACK_PACKAGE_CONTACT "lifeboat maintainers <root@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)                 # lifeboat_VERSION_ARCH.deb
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
# Depends: what dpkg-shlibdeps finds in the binary, plus libcurl4 and libpq5, which lib/http.c and
# lib/central-pq.c load with dlopen on first use and so no tool can see.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4, libpq5")
# The starter `lifeboat init` writes and the shipped examples call python3 and sqlite3: apt
# installs recommended packages by default, so the README's first drill works on a minimal
# Debian. man reads the man pages; bash-completion loads the completion.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3, sqlite3")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "man-db, bash-completion")
set(CPACK_GENERATOR DEB)
include(CPack)

# The package's test makes a minimal Debian 12 with debootstrap the first time on a machine
# (a minute or two, cached under /var/cache/lifeboat-test), then installs the .deb into a copy.
if(TEST e2e/t7051-deb-install)
  set_tests_properties(e2e/t7051-deb-install PROPERTIES TIMEOUT 900)
endif()
