# Build and install mailtoken the way distributions and `make install` users expect.
#
#   make                                   build the release binary (cargo build --release)
#   make install PREFIX=/usr DESTDIR=/tmp/stage
#   make uninstall PREFIX=/usr DESTDIR=/tmp/stage
#   make deb                               a Debian package in target/debian/ (needs cargo-deb)
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

CARGO ?= cargo
INSTALL ?= install
CARGO_TARGET_DIR ?= target
BIN ?= $(CARGO_TARGET_DIR)/release/mailtoken

.PHONY: all build install uninstall deb

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

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mailtoken
	rm -f $(DESTDIR)$(MANDIR)/man1/mailtoken.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/mailtoken
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_mailtoken
	rm -f $(DESTDIR)$(FISHCOMPDIR)/mailtoken.fish

# The Debian package: the binary, man page, completions, README, changelog and licences in
# Debian's places (Cargo.toml's [package.metadata.deb]). cargo-deb runs `cargo build --release`,
# which reuses the binary `make` built. Install cargo-deb with `cargo install cargo-deb --locked`.
deb:
	$(CARGO) deb --locked
