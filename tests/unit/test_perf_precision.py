"""Ecosystem precision and recall of PERF001, PERF003, PERF004, PROD004 and WF001 (issues #15,
#16): regression cases built from the real findings judged in bench/ecosystem and the recall
set's misses."""

from __future__ import annotations

from pathlib import Path

from bastion.config import Config
from bastion.engine import run
from bastion.testing import findings_for


def lines(code: str, rule: str, path: str = "app/example.py") -> list[int]:
    return [f.line for f in findings_for(code, rule, path)]


# -- PERF001 recall (tests/fixtures/recall/blocking: lnbits, mealie) ---------------------------


def test_perf001_os_remove_of_one_file_is_left_alone() -> None:
    # one quick syscall: an error that fails CI for it would be noise (the recall set keeps
    # lnbits' `os.remove` as `expect-missed`, on purpose)
    code = (
        "import os, shutil\n\n"
        "async def api_build_extension(ext_zip_file, build_dir):\n"
        "    if ext_zip_file.is_file():\n"
        "        os.remove(ext_zip_file)\n"
        "    shutil.rmtree(build_dir)\n"
    )
    assert lines(code, "PERF001") == [6]


def test_perf001_open_on_what_joinpath_returns_whatever_the_receiver() -> None:
    code = (
        "import shutil\n\n"
        "async def create_from_images(images):\n"
        "    with get_temporary_path() as temp_path:\n"
        "        for image in images:\n"
        "            with temp_path.joinpath(image.filename).open('wb') as buffer:\n"
        "                shutil.copyfileobj(image.file, buffer)\n"
        "        return temp_path.joinpath('a')\n"
    )
    assert lines(code, "PERF001") == [6, 7]


# -- PROD004: only pip's own upgrade is cached (healthchecks) ----------------------------------


def test_prod004_upgrading_pip_itself_is_not_flagged() -> None:
    dockerfile = (
        "FROM python:3.12-slim\n"
        "RUN --mount=type=bind,target=/wheels,source=/wheels,from=builder \\\n"
        "    pip install --upgrade pip && \\\n"
        "    pip install --no-cache /wheels/*\n"
    )
    assert lines(dockerfile, "PROD004", "docker/Dockerfile") == []
    # pip upgraded together with an application package (fief) is still flagged
    fief = "FROM python:3.12-slim\nRUN pip install --upgrade pip supervisor\n"
    assert lines(fief, "PROD004", "docker/Dockerfile") == [2]


# -- WF001: a pre-commit configuration hidden from the scan by .gitignore (lnbits, saleor) ------


def _wf001(root: Path) -> list[tuple[str, int]]:
    result = run([root], Config(root=root, select=("WF001",)))
    assert not result.internal_errors
    return [(f.path, f.line) for f in result.findings if f.rule == "WF001"]


def test_wf001_gitignored_precommit_config_still_counts(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "svc"\n', encoding="utf-8")
    (tmp_path / "app.py").write_text("x = 1\n", encoding="utf-8")
    assert _wf001(tmp_path) == [("pyproject.toml", 1)]
    (tmp_path / ".gitignore").write_text(".*\n", encoding="utf-8")  # saleor's first pattern
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n", encoding="utf-8")
    assert _wf001(tmp_path) == []


# -- PERF003: shapes judged noise on real applications ------------------------------------------

DJANGO = "from django.db import models\n\n"


def test_perf003_a_model_per_pass_is_not_n_plus_one() -> None:
    # DefectDojo's pghistory commands, dispatch's composite search
    code = DJANGO + (
        "def counts(apps, names):\n"
        "    for name in names:\n"
        "        EventModel = apps.get_model('dojo', name)\n"
        "        print(EventModel.objects.count())\n"
        "    for Model in MODELS_TO_FLUSH_LIST:\n"
        "        Model.objects.filter(x=1).delete()\n"
        "    for order in orders:\n"
        "        Customer.objects.get(pk=order.customer_id)\n"
    )
    assert lines(code, "PERF003") == [10]


def test_perf003_settings_and_enum_loops_are_a_fixed_handful() -> None:
    # netbox's REMOTE_AUTH_DEFAULT_GROUPS, flagsmith's GitHubTag
    code = DJANGO + (
        "def groups(settings, remote_groups):\n"
        "    for name in settings.REMOTE_AUTH_DEFAULT_GROUPS:\n"
        "        Group.objects.get(name=name)\n"
        "    for tag_label in GitHubTag:\n"
        "        Tag.objects.get_or_create(label=tag_label.value)\n"
        "    for name in remote_groups:\n"
        "        Group.objects.get(name=name)\n"
    )
    assert lines(code, "PERF003") == [9]


def test_perf003_row_locks_and_explained_loops() -> None:
    # saleor's gift-card gateway (select_for_update) and app deletion ("app by app")
    code = DJANGO + (
        "def capture(transactions):\n"
        "    for t in transactions:\n"
        "        GiftCard.objects.filter(id=t.gift_card_id).select_for_update().first()\n\n"
        "def delete_apps(apps):\n"
        "    # Saleor needs to remove app by app to prevent timeouts\n"
        "    for app in apps:\n"
        "        AppToken.objects.filter(app_id=app.id).delete()\n\n"
        "def tokens(apps):\n"
        "    for app in apps:\n"
        "        AppToken.objects.filter(app_id=app.id).delete()\n"
    )
    assert lines(code, "PERF003") == [14]


def test_perf003_and_perf004_skip_one_off_code() -> None:
    code = DJANGO + ("def f(ids):\n    for i in ids:\n        Customer.objects.get(pk=i)\n")
    assert lines(code, "PERF003", "dojo/endpoint/utils.py") == [5]
    for path in (
        "dojo/management/commands/clear_alerts.py",  # a management command
        "redash/cli/database.py",  # a cli package
        "lnbits/core/migrations.py",  # migrations outside migrations/
        "mealie/db/fixes/fix_migration_data.py",
        "saleor/core/utils/random_data.py",  # demo data
        "netbox/utilities/testing/base.py",  # test support
        "unittests/dojo_test_case.py",
    ):
        assert lines(code, "PERF003", path) == [], path


def test_perf004_skips_migration_helpers_and_test_support() -> None:
    from bastion.analysis.one_off import is_command, is_one_off

    assert is_one_off("dojo/management/commands/jira_refactor_data_migration.py")
    assert is_one_off("unittests/dojo_test_case.py")
    assert not is_one_off("dojo/notifications/helper.py")
    # commands stay in PERF004's scope (healthchecks' senddeletionscheduled was judged right)
    assert is_command("hc/accounts/management/commands/senddeletionscheduled.py")
    assert not is_one_off("hc/accounts/management/commands/senddeletionscheduled.py")


def test_perf003_kill_statements_kwargs_and_model_columns() -> None:
    # CTFd's KILL per idle connection, mealie's auto_init over **kwargs, dispatch's union
    code = (
        "import sqlalchemy\n\n"
        "def reset(db, processes):\n"
        "    for proc in processes:\n"
        "        db.session.execute(f'KILL {proc.Id}')\n\n"
        "def init(self, session, **kwargs):\n"
        "    for key, val in kwargs.items():\n"
        "        session.execute(stmt)\n\n"
        "def union(self):\n"
        "    for model_class in self.model_classes:\n"
        "        q = self.session.query(model_class.id.label('id'))\n\n"
        "def rows(session, ids):\n"
        "    for i in ids:\n"
        "        session.execute(stmt, {'id': i})\n"
    )
    assert lines(code, "PERF003") == [17]


def test_perf003_a_query_cached_per_key_runs_once_per_key() -> None:
    # netbox's event rules: `if key not in cache: cache[key] = query`
    code = DJANGO + (
        "def process(events):\n"
        "    cache = {}\n"
        "    for event in events:\n"
        "        if event.type not in cache[event.kind]:\n"
        "            cache[event.kind][event.type] = EventRule.objects.filter(t=event.type)\n"
        "        if event.type not in seen:\n"
        "            other[event.type] = EventRule.objects.filter(t=event.type)\n"
    )
    assert lines(code, "PERF003") == [9]


def test_perf003_items_of_several_kinds_each_with_its_own_query() -> None:
    # DefectDojo's report widgets (an if/elif chain on the widget's kind) and paperless'
    # scheduled workflow triggers (a match on the trigger's date field): configuration
    code = DJANGO + (
        "def widgets(json_data):\n"
        "    for idx, widget in enumerate(json.loads(json_data)):\n"
        "        kind = list(widget.keys())[0]\n"
        "        if kind == 'page-break':\n"
        "            out.append(PageBreak())\n"
        "        if kind == 'finding-list':\n"
        "            out.append(Finding.objects.all())\n\n"
        "def scheduled(triggers):\n"
        "    for trigger in triggers:\n"
        "        match trigger.schedule_date_field:\n"
        "            case DateField.ADDED:\n"
        "                docs = Document.objects.filter(added__lte=trigger.threshold)\n"
        "            case DateField.CREATED:\n"
        "                docs = Document.objects.filter(created__lte=trigger.threshold)\n\n"
        "def options(self):\n"
        "    for field in self.field_names:\n"
        "        value = getattr(self, field)\n"
        "        if isinstance(value, list):\n"
        "            out[field] = list(value)\n"
        "        elif isinstance(value, int):\n"
        "            out[field] = User.objects.get(id=value)\n"
    )
    assert lines(code, "PERF003") == []


def test_perf003_one_condition_on_a_row_is_still_n_plus_one() -> None:
    # the look-alikes: one kind tested (a filter on the rows, not a dispatch), and a guard that
    # skips other kinds in a loop over a query's rows
    code = DJANGO + (
        "def names(orders):\n"
        "    for order in orders:\n"
        "        if order.status == 'paid':\n"
        "            Customer.objects.get(pk=order.customer_id)\n\n"
        "def paid():\n"
        "    for order in Order.objects.filter(shop=1):\n"
        "        if order.status != Status.PAID:\n"
        "            continue\n"
        "        Customer.objects.get(pk=order.customer_id)\n"
    )
    assert lines(code, "PERF003") == [6, 12]


def test_perf003_filters_of_one_kind_split_text_and_time_buckets() -> None:
    # dispatch's signal filters (`if f.action != SignalFilterAction.snooze: continue` over
    # `signal.filters`), paperless' barcode tags (`tag_texts.split(",")`), DefectDojo's chart
    # buckets (`for bucket in series`)
    code = DJANGO + (
        "def snooze(signal_instance):\n"
        "    for f in signal_instance.signal.filters:\n"
        "        if f.action != SignalFilterAction.snooze:\n"
        "            continue\n"
        "        SignalInstance.objects.filter(expr=f.expression).count()\n\n"
        "def tags(tag_texts, template):\n"
        "    for raw in tag_texts.split(','):\n"
        "        Tag.objects.get_or_create(name=raw.strip())\n"
        "    urls = [u.strip() for u in template.endpoints.split('\\n') if u.strip()]\n"
        "    for url in urls:\n"
        "        Endpoint.objects.get_or_create(url=url)\n\n"
        "def accepted(series):\n"
        "    for bucket in series:\n"
        "        Finding.objects.filter(created__gte=bucket[0]).count()\n\n"
        "def imported(upload):\n"
        "    for line in upload.read().split('\\n'):\n"
        "        Endpoint.objects.get(host=line)\n"
    )
    assert lines(code, "PERF003") == [22]


def test_perf003_an_in_list_later_in_the_chain_is_one_statement_over_many_rows() -> None:
    # dispatch's term matching: `db_session.query(Term).filter(...in_(terms)).all()` per
    # document reads every matching term at once; a lookup by one key still counts
    code = (
        "from sqlalchemy.orm import Session\n\n"
        "def sync(db_session: Session, documents):\n"
        "    for document in documents:\n"
        "        terms = extract(document)\n"
        "        matched = (\n"
        "            db_session.query(Term)\n"
        "            .filter(func.upper(Term.text).in_([t.upper() for t in terms]))\n"
        "            .all()\n"
        "        )\n"
        "        owner = db_session.query(User).filter(User.id == document.owner_id).first()\n"
    )
    assert lines(code, "PERF003") == [11]


def test_perf003_django_values_of_a_field_is_not_a_bulk_statement() -> None:
    # DefectDojo's endpoint clean-up: `.values("finding")` names the columns to read, unlike
    # SQLAlchemy's `insert(X).values(rows)`; the query still runs once per endpoint
    code = DJANGO + (
        "def clean(endpoints):\n"
        "    for ep in endpoints:\n"
        "        Status.objects.filter(endpoint=ep.id).values('finding').annotate(n=Count('id'))\n"
    )
    assert lines(code, "PERF003") == [5]
