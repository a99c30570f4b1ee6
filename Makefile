# Build and install mailtoken the way distributions and `make install` users expect.
#
#   make                                   build the release binary (cargo build --release)
#   make install PREFIX=/usr DESTDIR=/tmp/stage
#   make uninstall PREFIX=/usr DESTDIR=/tmp/stage
#   make deb                               a Debian package in target/debian/ (installs its
#                                          pinned cargo-deb first when another or none is there)
#
# `install` does not run cargo when the binary is already built, so `sudo make install` after
# `make` builds nothing as root. BIN names another binary to install (a debug build, say).
# The man page and completions are generated from src/cli/args.rs and checked in (CONTRIBUTING.md).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
DOCDIR ?= $(DATADIR)/doc/mailtoken
# systemd looks for user units of packages in /usr/lib/systemd/user and of local installs in
# /usr/local/lib/systemd/user (systemd.unit(5), "User Unit Search Path").
SYSTEMDUSERDIR ?= $(PREFIX)/lib/systemd/user

CARGO ?= cargo
INSTALL ?= install
CARGO_TARGET_DIR ?= target
BIN ?= $(CARGO_TARGET_DIR)/release/mailtoken
# cargo-deb, pinned: bump it deliberately, never float (.ci/deb-test uses the same one).
CARGO_DEB_VERSION = 3.8.0

# The documentation and the examples of contrib/, as installed under $(DOCDIR).
DOCS = README.md CHANGELOG.md docs/encryption.md docs/lifecycle.md docs/migrating.md \
	docs/providers.md docs/recipes.md docs/safety.md docs/token-file.md
EXAMPLES = contrib/notify contrib/mailtoken-check contrib/mailtoken.cron
UNITS = contrib/systemd/mailtoken-check.service contrib/systemd/mailtoken-check.timer

.PHONY: all build install uninstall deb cargo-deb-version

all: build

build:
	$(CARGO) build --release --locked

$(BIN):
	$(CARGO) build --release --locked

install: $(BIN)
	$(INSTALL) -Dm755 $(BIN) $(DESTDIR)$(BINDIR)/mailtoken
	$(INSTALL) -Dm644 man/mailtoken.1 $(DESTDIR)$(MANDIR)/man1/mailtoken.1
	$(INSTALL) -Dm644 completions/mailtoken.bash $(DESTDIR)$(BASHCOMPDIR)/mailtoken
	$(INSTALL) -Dm644 completions/_mailtoken $(DESTDIR)$(ZSHCOMPDIR)/_mailtoken
	$(INSTALL) -Dm644 completions/mailtoken.fish $(DESTDIR)$(FISHCOMPDIR)/mailtoken.fish
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSTEMDUSERDIR)
	$(INSTALL) -m644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m755 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	chmod 644 $(DESTDIR)$(DOCDIR)/examples/mailtoken.cron
	$(INSTALL) -m644 $(UNITS) $(DESTDIR)$(SYSTEMDUSERDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mailtoken
	rm -f $(DESTDIR)$(MANDIR)/man1/mailtoken.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/mailtoken
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_mailtoken
	rm -f $(DESTDIR)$(FISHCOMPDIR)/mailtoken.fish
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES)))
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDUSERDIR)/,$(notdir $(UNITS)))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

# The Debian package: the binary, man page, completions, documentation, examples, systemd user
# units and licences in Debian's places (Cargo.toml's [package.metadata.deb]). cargo-deb runs
# `cargo build --release`, which reuses the binary `make` built. The pinned cargo-deb is
# installed first when another version or none is there (about a minute).
deb:
	@if [ "$$($(CARGO) deb --version 2>/dev/null)" != "cargo-deb $(CARGO_DEB_VERSION)" ]; then \
	    echo "make deb: installing cargo-deb $(CARGO_DEB_VERSION) (cargo install cargo-deb --version $(CARGO_DEB_VERSION) --locked)"; \
	    $(CARGO) install cargo-deb --version $(CARGO_DEB_VERSION) --locked --quiet || { \
	        echo "make deb: cargo-deb did not install; run 'cargo install cargo-deb --version $(CARGO_DEB_VERSION) --locked', then make deb" >&2; \
	        exit 1; }; \
	fi
	$(CARGO) deb --locked

cargo-deb-version:
	@echo $(CARGO_DEB_VERSION)
