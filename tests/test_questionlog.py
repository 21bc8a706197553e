"""The question log's core on a real SQLite file: schema and migrations, votes, forget, retention,
reader hashes, the writer's queue, the report's grouping, and learned.yaml (learn, load, check)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.engine import Engine
from bot.learn import learn
from bot.loader import KnowledgeError, load_knowledge
from bot.questionlog import Pseudonymizer, QuestionLog, Store, schema
from bot.questionlog.privacy import KEY_VARIABLE, ensure_key
from bot.questionlog.store import QuestionRow, utcnow
from bot.report import build_report, unanswered_groups


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    made = Store(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    yield made
    made.dispose()


def row(reader: str, question: str, outcome: str = "decline", **kw: object) -> QuestionRow:
    values: dict[str, object] = dict(
        reader=reader,
        chat_type="private",
        lang="en",
        question=question,
        outcome=outcome,
        entry=None,
        score=0.0,
        suggestions=(),
        reply_ref=None,
    )
    values.update(kw)
    return QuestionRow(**values)  # type: ignore[arg-type]


# -- schema ------------------------------------------------------------------------------------


def test_schema_is_created_on_first_use_and_versioned(store: Store) -> None:
    store.ensure_schema()
    with store.engine.connect() as connection:
        versions = connection.execute(select(schema.schema_version.c.version)).scalars().all()
    assert versions == list(range(1, schema.SCHEMA_VERSION + 1))
    again = Store(str(store.engine.url))
    again.ensure_schema()  # a second start migrates nothing
    with again.engine.connect() as connection:
        assert len(connection.execute(select(schema.schema_version)).all()) == schema.SCHEMA_VERSION


def test_a_new_migration_is_applied_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.ensure_schema()
    applied: list[int] = []
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, lambda c: applied.append(1)))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    for _ in range(2):
        with store.engine.begin() as connection:
            assert schema.migrate(connection) == schema.SCHEMA_VERSION
    assert applied == [1]


def test_a_newer_database_is_refused(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.ensure_schema()
    monkeypatch.setattr(schema, "MIGRATIONS", ())
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 0)
    with store.engine.begin() as connection, pytest.raises(RuntimeError, match="newer"):
        schema.migrate(connection)


# -- rows --------------------------------------------------------------------------------------


def test_one_vote_per_reader_per_answer_and_it_can_change(store: Store) -> None:
    store.vote("r1", "m1", "talks-where", 1)
    store.vote("r1", "m1", "talks-where", -1)
    store.vote("r2", "m1", "talks-where", 1)
    store.vote("r1", "m2", "talks-where", 1)
    feedback = build_report(store, 1)["feedback"]
    assert (feedback["up"], feedback["down"]) == (2, 1)


def test_forget_removes_only_that_reader(store: Store) -> None:
    store.add_questions([row("r1", "a"), row("r2", "b")])
    store.vote("r1", "m1", "talks-where", 1)
    store.pick("r1", "talks-where", "inline", question="a")
    removed = store.forget("r1")
    assert (removed.questions, removed.votes, removed.picks) == (1, 1, 1)
    assert store.count_questions() == 1
    assert store.forget("r1").total == 0


def test_retention_purges_old_rows(store: Store) -> None:
    old = utcnow() - dt.timedelta(days=91)
    store.add_questions([row("r1", "old", asked_at=old), row("r1", "new")])
    assert store.purge(90) == 1
    assert [q["question"] for q in build_report(store, 365)["unanswered"]] == ["new"]


def test_report_window(store: Store) -> None:
    store.add_questions(
        [row("r1", "last month", asked_at=utcnow() - dt.timedelta(days=20)), row("r1", "today")]
    )
    assert build_report(store, 7)["questions"] == 1
    assert build_report(store, 30)["questions"] == 2


def test_unanswered_questions_are_grouped_by_similar_wording() -> None:
    groups = unanswered_groups(
        [
            "What happened in Bucha?",
            "what happened in Bucha",
            "What happened in bucha!!",
            "Who won the football?",
        ]
    )
    assert [(g["question"], g["count"]) for g in groups] == [
        ("What happened in Bucha?", 3),
        ("Who won the football?", 1),
    ]
    assert len(groups[0]["examples"]) == 3


# -- privacy -----------------------------------------------------------------------------------


def test_reader_hashes_are_keyed_and_stable() -> None:
    one, other = Pseudonymizer("key one"), Pseudonymizer("key two")
    assert one.reader(12345) == one.reader(12345) != other.reader(12345)
    assert "12345" not in one.reader(12345) and len(one.reader(12345)) == schema.HASH_LENGTH
    assert one.message(12345, 7) != one.reader(12345)


def test_key_is_generated_into_env_once(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("LOG_LEVEL=INFO")  # no trailing newline
    key = ensure_key(env, None)
    assert len(key) >= 40
    assert "LOG_LEVEL=INFO\n" in env.read_text() and f"{KEY_VARIABLE}={key}\n" in env.read_text()
    assert env.stat().st_mode & 0o777 == 0o600
    assert ensure_key(env, key) == key and env.read_text().count(KEY_VARIABLE) == 1


# -- the writer ----------------------------------------------------------------------------------


def test_a_full_queue_drops_and_counts_without_waiting(store: Store) -> None:
    release = threading.Event()
    question_log = QuestionLog(store, "sqlite://", 90, queue_size=2).start()
    question_log.submit(lambda s: release.wait(10))  # the database is "slow"
    results = [question_log.submit(lambda s: None) for _ in range(10)]
    release.set()
    question_log.close()
    assert results.count(False) == question_log.dropped >= 7
    assert question_log.failed == 0


def test_a_failing_job_is_counted_and_the_next_one_runs(store: Store) -> None:
    from sqlalchemy.exc import OperationalError

    def broken(_: Store) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    question_log = QuestionLog(store, "sqlite://", 90).start()
    question_log.submit(broken)
    question_log.close()
    assert question_log.failed == 1 and question_log.outages == 1


# -- learned.yaml ------------------------------------------------------------------------------


def test_learn_writes_suggestions_for_review(store: Store, broken_knowledge) -> None:
    folder = broken_knowledge()
    engine = Engine.load(folder)
    store.add_questions([row(r, "kyiv", "clarify", reply_ref=f"m{r}") for r in ("a", "b", "c")])
    for r in ("a", "b", "c"):
        store.pick(r, "military-reduction", "button", reply_ref=f"m{r}")
    store.pick("d", "talks-where", "button", reply_ref="unknown")  # not a "did you mean": ignored
    assert learn(store, engine, folder, 30) == (1, 1)
    text = (folder / "learned.yaml").read_text()
    assert "- entry: military-reduction\n  wording: kyiv\n  support: 3\n  accept: false" in text
    assert (
        load_knowledge(folder).entry("military-reduction").alternates
        == engine.kb.entry("military-reduction").alternates
    )
    (folder / "learned.yaml").write_text(text.replace("accept: false", "accept: true"))
    assert "kyiv" in load_knowledge(folder).entry("military-reduction").alternates
    assert learn(store, Engine.load(folder), folder, 30) == (0, 1)  # decisions are kept
    assert "accept: true" in (folder / "learned.yaml").read_text()


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        (
            "learned:\n  - entry: no-such\n    wording: x\n    support: 3\n    accept: true\n",
            2,
            "entry 'no-such' does not exist",
        ),
        (
            "learned:\n  - entry: talks-where\n    wording: x\n    support: many\n    accept: true\n",
            4,
            "'support' must be a whole number",
        ),
        (
            "learned:\n  - entry: talks-where\n    wording: x\n    support: 3\n    accept: maybe\n",
            5,
            "'accept' must be true or false",
        ),
        (
            "learned:\n  - entry: talks-where\n    support: 3\n    accept: true\n",
            2,
            "missing field 'wording'",
        ),
        ("learned: [\n", 2, ""),
    ],
)
def test_broken_learned_file_names_file_line_and_reason(
    broken_knowledge, run_cli, body: str, line: int, reason: str
) -> None:
    folder = broken_knowledge("learned.yaml", write=body)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    [problem] = [p for p in caught.value.problems if p.file.endswith("learned.yaml")]
    assert problem.line == line and reason in problem.reason
    done = run_cli("check", "--knowledge", str(folder))
    assert done.returncode == 1 and f"knowledge/learned.yaml:{line}:" in done.stderr.decode()


# -- the command line --------------------------------------------------------------------------


def test_learn_and_report_commands(tmp_path: Path, broken_knowledge, run_cli) -> None:  # type: ignore[no-untyped-def]
    folder = broken_knowledge()
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    made = Store(url)
    made.add_questions([row(r, "kyiv", "clarify", reply_ref=f"m{r}") for r in ("a", "b", "c")])
    for r in ("a", "b", "c"):
        made.pick(r, "military-reduction", "button", reply_ref=f"m{r}")
    made.dispose()
    done = run_cli("learn", "--knowledge", str(folder), env={"DATABASE_URL": url})
    assert done.returncode == 0, done.stderr.decode()
    assert "1 new suggestion(s) written to learned.yaml" in done.stdout.decode()
    assert run_cli("check", "--knowledge", str(folder)).returncode == 0
    text = run_cli("report", env={"DATABASE_URL": url}).stdout.decode()
    assert "military-reduction ← “kyiv” (3 readers)" in text


def test_report_says_when_the_database_cannot_be_read(run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("report", env={"DATABASE_URL": "postgresql://user:secret-pw@127.0.0.1:1/none"})
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "Cannot read the question log at postgresql+psycopg://user:***@127.0.0.1:1/none" in err
    assert "secret-pw" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "value"),
    [("QUESTION_LOG_RETENTION_DAYS", "0"), ("QUESTION_LOG", "maybe"), ("DATABASE_URL", "mysql://x/y")],
)
def test_malformed_question_log_settings_are_refused(run_cli, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("report", env={name: value})
    assert done.returncode == 2 and name in done.stderr.decode()
