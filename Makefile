# Two commands for a fresh machine: `make demo` and `make test`.
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench clean sysdeps

$(STAMP): pyproject.toml tools/sysdeps.sh
	@bash tools/sysdeps.sh
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

sysdeps:
	@bash tools/sysdeps.sh

demo: $(STAMP)
	$(BIN)/hotline demo

# two workers, each test file on one of them (its module fixtures built once): the suite waits
# on real calls, servers and terminals as much as it computes
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/tickets.py

clean:
	rm -rf $(VENV) build *.egg-info
