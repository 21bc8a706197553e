"""The loader refuses a broken knowledge folder and says where: file, line and reason for each problem."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from bot.loader import KnowledgeError, Problem, load_knowledge

FAQ = "faq.yaml"
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
PROBLEM_LINE = re.compile(r"^\s*(knowledge/[\w.-]+):(\d+): (.+)$", re.MULTILINE)


# -- helpers ---------------------------------------------------------------------------------------


def locate(text: str, *path: str | int) -> tuple[yaml.Node | None, yaml.Node]:
    """The (key node, value node) at a path like ("entries", 0, "quotes", 0, "text") of a YAML text."""
    node = yaml.compose(text)
    key = None
    for step in path:
        if isinstance(step, int):
            key, node = None, node.value[step]
        else:
            key, node = next((k, v) for k, v in node.value if k.value == step)
    return key, node


def line_of(folder: Path, file: str, *path: str | int) -> int:
    """1-based line of the key (or item) at `path` in a knowledge file."""
    key, node = locate((folder / file).read_text(encoding="utf-8"), *path)
    return (key or node).start_mark.line + 1


def set_scalar(folder: Path, file: str, path: tuple[str | int, ...], value: str) -> int:
    """Replace the scalar at `path` by `value` in place (other lines untouched); returns its key's line."""
    target = folder / file
    text = target.read_text(encoding="utf-8")
    key, node = locate(text, *path)
    assert isinstance(node, yaml.ScalarNode), f"test setup: {path} is not a scalar"
    target.write_text(
        text[: node.start_mark.index] + json.dumps(value, ensure_ascii=False) + text[node.end_mark.index :]
    )
    return (key or node).start_mark.line + 1


def edit_line(folder: Path, file: str, line: int, old: str | bytes, new: str | bytes) -> None:
    """Replace `old` by `new` within one line (1-based) of a file, bytes-exact elsewhere."""
    target = folder / file
    lines = target.read_bytes().splitlines(keepends=True)
    old_b, new_b = (x.encode() if isinstance(x, str) else x for x in (old, new))
    assert old_b in lines[line - 1], f"test setup: {old_b!r} not on line {line} of {file}"
    lines[line - 1] = lines[line - 1].replace(old_b, new_b, 1)
    target.write_bytes(b"".join(lines))


def replace_field(folder: Path, file: str, path: tuple[str | int, ...], new: str) -> int:
    """Replace the whole `key: value` block at `path` (all its lines) by `new`; returns the key's line."""
    target = folder / file
    text = target.read_text(encoding="utf-8")
    key, _ = locate(text, *path)
    first, indent = key.start_mark.line, key.start_mark.column
    lines = text.splitlines(keepends=True)
    last = first + 1
    while last < len(lines) and (
        not lines[last].strip() or len(lines[last]) - len(lines[last].lstrip(" ")) > indent
    ):
        last += 1
    target.write_text("".join(lines[:first]) + new + "".join(lines[last:]))
    return first + 1


def entries(folder: Path, file: str = FAQ) -> list[dict]:
    return yaml.safe_load((folder / file).read_text(encoding="utf-8"))["entries"]


def problems(folder: Path) -> list[Problem]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    found = caught.value.problems
    assert found, "KnowledgeError without problems"
    for problem in found:
        assert problem.file.startswith("knowledge/") or problem.file == "knowledge", problem
        assert isinstance(problem.line, int) and problem.line >= 0, problem
        assert problem.reason.strip(), problem
        assert str(problem) == f"{problem.file}:{problem.line}: {problem.reason}"
    assert str(caught.value) == "\n".join(str(p) for p in found)
    return found


def problem(folder: Path, file: str, *words: str) -> Problem:
    """The one problem reported for `file` whose reason mentions every word (case-insensitive)."""
    found = problems(folder)
    matching = [
        p
        for p in found
        if p.file == f"knowledge/{file}" and all(w.lower() in p.reason.lower() for w in words)
    ]
    assert matching, f"no problem in knowledge/{file} mentioning {words}; got:\n" + "\n".join(map(str, found))
    return matching[0]


# -- the valid folder -------------------------------------------------------------------------------


def test_valid_folder_loads(knowledge_dir: Path):
    kb = load_knowledge(knowledge_dir)
    ids = [e.id for e in kb.entries]
    assert len(ids) >= 20
    assert len(ids) == len(set(ids))
    assert {"crimea-annexation", "talks-when"} <= set(ids)
    for entry in kb.entries:
        assert entry.quotes, entry.id
        assert all(kb.entry(r) is not None for r in entry.related), entry.id
    assert kb.article.outlet == "AFP"
    assert kb.article.quotable_lines
    assert "This video is no longer available." not in kb.article.quotable_lines


def test_valid_copy_loads(broken_knowledge):
    assert load_knowledge(broken_knowledge()).entries


def test_opinion_phrases_load_folded(knowledge_dir: Path):
    opinion = load_knowledge(knowledge_dir).vocabulary.opinion
    assert "who benefits" in opinion and "кому выгодно" in opinion
    assert all(phrase == phrase.lower().strip() for phrase in opinion)


def test_opinion_must_be_a_list(broken_knowledge):
    folder = broken_knowledge()
    line = replace_field(folder, "vocabulary.yaml", ("opinion",), 'opinion: "maybe"\n')
    found = problem(folder, "vocabulary.yaml", "'opinion'", "list")
    assert found.line == line


# -- YAML and encoding ------------------------------------------------------------------------------


def test_yaml_syntax_error(broken_knowledge):
    folder = broken_knowledge()
    topic_line = line_of(folder, FAQ, "entries", 1, "topic")
    edit_line(folder, FAQ, topic_line, "\n", ": with a colon\n")
    found = problem(folder, FAQ, "YAML")
    assert found.line == topic_line


def test_yaml_tab_indentation(broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, FAQ, "entries", 0, "topic")
    edit_line(folder, FAQ, line, "    topic:", "\ttopic:")
    assert problem(folder, FAQ, "YAML").line == line


def test_non_utf8_bytes(broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, FAQ, "entries", 2, "topic")
    edit_line(folder, FAQ, line, b"\n", "caf\xe9\n".encode("latin-1"))
    found = problem(folder, FAQ, "UTF-8")
    assert found.line == line
    assert "0xe9" in found.reason


def test_non_utf8_article_text(broken_knowledge):
    folder = broken_knowledge("article.txt", replace=(b"Istanbul", b"Istanb\xfcl"))
    found = problem(folder, "article.yaml", "UTF-8")
    assert found.line == line_of(folder, "article.yaml", "text_file")


def test_duplicate_yaml_key(broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, FAQ, "entries", 0, "topic")
    edit_line(folder, FAQ, line, "\n", "\n    topic: Something else\n")
    found = problem(folder, FAQ, "duplicate key", "topic")
    assert found.line == line + 1


# -- fields -----------------------------------------------------------------------------------------


def test_missing_required_field(broken_knowledge):
    folder = broken_knowledge()
    entry_line = line_of(folder, FAQ, "entries", 1)
    replace_field(folder, FAQ, ("entries", 1, "topic"), "")
    assert "topic" not in entries(folder)[1]
    found = problem(folder, FAQ, "missing field 'topic'")
    assert found.line == entry_line


def test_missing_multiline_field(broken_knowledge):
    folder = broken_knowledge()
    entry_line = line_of(folder, FAQ, "entries", 3)
    replace_field(folder, FAQ, ("entries", 3, "answer"), "")
    assert "answer" not in entries(folder)[3] and entries(folder)[3]["quotes"]
    found = problem(folder, FAQ, "missing field 'answer'")
    assert found.line == entry_line


def test_unknown_field_typo(broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, FAQ, "entries", 0, "alternates")
    broken_knowledge(FAQ, replace=("    alternates:\n", "    alternate:\n"))
    found = problem(folder, FAQ, "unknown field 'alternate'")
    assert found.line == line
    assert "alternates" in found.reason  # the known fields are listed, so the typo is obvious


def test_unknown_field_in_speakers(broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, "speakers.yaml", "speakers", 0, "mentions")
    broken_knowledge("speakers.yaml", replace=("    mentions:", "    mentoins:"))
    assert problem(folder, "speakers.yaml", "unknown field 'mentoins'").line == line


def test_wrong_type_text_field(broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, "speakers.yaml", "speakers", 0, "name")
    name = yaml.safe_load((folder / "speakers.yaml").read_text(encoding="utf-8"))["speakers"][0]["name"]
    broken_knowledge("speakers.yaml", replace=(f"name: {name}\n", f"name: [{name}]\n"))
    found = problem(folder, "speakers.yaml", "'name'", "text")
    assert found.line == line
    assert "list" in found.reason


def test_wrong_type_list_field(broken_knowledge):
    folder = broken_knowledge()
    line = replace_field(folder, FAQ, ("entries", 0, "quotes"), '    quotes: "just a string"\n')
    assert entries(folder)[0]["quotes"] == "just a string"
    found = problem(folder, FAQ, "'quotes'", "list")
    assert found.line == line


def test_wrong_type_date(broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, "article.yaml", "published")
    broken_knowledge("article.yaml", replace=("published: 2022-03-30", "published: last Wednesday"))
    assert problem(folder, "article.yaml", "published").line == line


def test_bad_entry_id(broken_knowledge):
    folder = broken_knowledge()
    line = set_scalar(folder, FAQ, ("entries", 0, "id"), "Kremlin Breakthrough!")
    assert problem(folder, FAQ, "Kremlin Breakthrough!").line == line


# -- identities and references ----------------------------------------------------------------------


def test_duplicate_entry_id(broken_knowledge):
    folder = broken_knowledge()
    first = entries(folder)[0]["id"]
    line = set_scalar(folder, FAQ, ("entries", 1, "id"), first)
    found = problem(folder, FAQ, "duplicate id", first)
    assert found.line == line


def test_duplicate_entry_id_across_files(broken_knowledge):
    folder = broken_knowledge()
    entry = entries(folder)[0]
    extra = "faq-more.yaml"
    broken_knowledge(extra, write=yaml.safe_dump({"entries": [entry]}, allow_unicode=True, sort_keys=False))
    found = [p for p in problems(folder) if "duplicate id" in p.reason and entry["id"] in p.reason]
    assert len(found) == 1, found
    reported, other = found[0].file, ({f"knowledge/{FAQ}", f"knowledge/{extra}"} - {found[0].file}).pop()
    assert reported in {f"knowledge/{FAQ}", f"knowledge/{extra}"}
    assert Path(other).name in found[0].reason  # says where the first one is
    assert found[0].line == line_of(folder, Path(reported).name, "entries", 0, "id")


def test_unknown_speaker_id(broken_knowledge):
    folder = broken_knowledge()
    line = set_scalar(folder, FAQ, ("entries", 0, "quotes", 0, "speaker"), "peskow")
    found = problem(folder, FAQ, "unknown speaker", "peskow")
    assert found.line == line


def test_speaker_not_named_near_the_quote(broken_knowledge):
    """A Peskov quote attributed to Nikolenko: the article names Nikolenko nowhere near those words."""
    folder = broken_knowledge()
    where = next(
        (e, q)
        for e, entry in enumerate(entries(folder))
        for q, quote in enumerate(entry["quotes"])
        if quote["speaker"] == "peskov"
    )
    line = set_scalar(folder, FAQ, ("entries", where[0], "quotes", where[1], "speaker"), "nikolenko")
    found = problem(folder, FAQ, "Nikolenko")
    assert found.line == line


def _quote_of(folder: Path, speaker: str, channel: str | None = None) -> tuple[int, int]:
    return next(
        (e, q)
        for e, entry in enumerate(entries(folder))
        for q, quote in enumerate(entry["quotes"])
        if quote["speaker"] == speaker and (channel is None or quote["channel"] == channel)
    )


def test_words_given_to_a_speaker_named_nearby_but_not_their_own(broken_knowledge):
    """Nikolenko's tweet given to Lavrov: Lavrov is named two lines up, but the tweet names Nikolenko."""
    folder = broken_knowledge()
    e, q = _quote_of(folder, "nikolenko", "wrote on Twitter")
    line = set_scalar(folder, FAQ, ("entries", e, "quotes", q, "speaker"), "lavrov")
    found = problem(folder, FAQ, "attributes these words to nikolenko")
    assert found.line == line


def test_indirect_speech_is_not_a_persons_quote(broken_knowledge):
    """'Moscow was pleased with the negotiations' is the reporter's sentence, not Lavrov's words."""
    folder = broken_knowledge()
    e, q = _quote_of(folder, "lavrov")
    line = set_scalar(
        folder, FAQ, ("entries", e, "quotes", q, "text"), "Moscow was pleased with the negotiations"
    )
    found = problem(folder, FAQ, "not put these words in quotation marks")
    assert found.line == line


def test_channel_must_be_the_articles(broken_knowledge):
    folder = broken_knowledge()
    e, q = _quote_of(folder, "peskov", "told reporters")
    line = set_scalar(folder, FAQ, ("entries", e, "quotes", q, "channel"), "wrote on Facebook")
    found = problem(folder, FAQ, "wrote on Facebook")
    assert found.line == line


def test_role_must_be_the_speakers(broken_knowledge):
    """'Russian Foreign Minister' is in the article, but it is Lavrov's role, not Peskov's."""
    folder = broken_knowledge()
    e, q = _quote_of(folder, "peskov", "told reporters")
    line = set_scalar(folder, FAQ, ("entries", e, "quotes", q, "role"), "Russian Foreign Minister")
    found = problem(folder, FAQ, "not how the article describes Dmitry Peskov")
    assert found.line == line


def test_a_persons_words_cannot_be_given_to_the_report(broken_knowledge):
    """Peskov's "There is a lot of work to be done" relabelled as AFP narration is refused."""
    folder = broken_knowledge()
    e, q = _quote_of(folder, "peskov", "said")
    set_scalar(folder, FAQ, ("entries", e, "quotes", q, "speaker"), "afp")
    found = problem(folder, FAQ, "inside the article's quotation marks")
    assert "AFP" in found.reason


def test_a_party_without_names_is_refused(broken_knowledge):
    folder = broken_knowledge(
        "parties.yaml",
        replace=(
            "names: [nato, north atlantic treaty organization, nato secretary general, stoltenberg, the alliance]",
            "names: []",
        ),
    )
    found = problem(folder, "parties.yaml", "party #4")
    assert found.line > 1


def test_a_party_name_in_the_wrong_language_is_refused(broken_knowledge):
    folder = broken_knowledge("parties.yaml", replace=("names: [Китай, Пекин,", "names: [China, Пекин,"))
    found = problem(folder, "parties.yaml", "party 'china'", "'ru' name 'China' does not read as ru")
    assert found.line > 1


def test_a_name_of_two_parties_is_refused(broken_knowledge):
    folder = broken_knowledge("parties.yaml", replace=("names: [Иран, Тегеран,", "names: [Иран, Анкара,"))
    found = problem(folder, "parties.yaml", "party 'iran'", "'анкара' is also a name of party 'turkey'")
    assert found.line > 1


def test_a_speakers_side_must_be_one_of_the_sides(broken_knowledge):
    folder = broken_knowledge("speakers.yaml", replace=("    side: ukraine\n", "    side: kyiv\n"))
    found = problem(folder, "speakers.yaml", "side 'kyiv' is not one of the sides")
    assert found.line > 1


def test_a_broken_speakers_file_is_reported_once(broken_knowledge):
    folder = broken_knowledge("speakers.yaml", append=b"\xff\n")
    found = problems(folder)
    assert [p.file for p in found] == ["knowledge/speakers.yaml"], found


def test_speaker_the_article_never_names(broken_knowledge):
    folder = broken_knowledge()
    line = set_scalar(folder, "speakers.yaml", ("speakers", 0, "name"), "Dmitry Pesky")
    found = problem(folder, "speakers.yaml", "never names", "Dmitry Pesky")
    assert found.line == line


def test_unknown_related_entry(broken_knowledge):
    folder = broken_knowledge()
    index = next(i for i, e in enumerate(entries(folder)) if e.get("related"))
    line = set_scalar(folder, FAQ, ("entries", index, "related", 0), "no-such-entry")
    found = problem(folder, FAQ, "related", "no-such-entry")
    assert found.line == line


def test_unknown_note(broken_knowledge):
    folder = broken_knowledge()
    index = next((i for i, e in enumerate(entries(folder)) if e.get("notes")), None)
    if index is None:
        pytest.skip("no entry lists notes")
    line = set_scalar(folder, FAQ, ("entries", index, "notes", 0), "no-such-note")
    found = problem(folder, FAQ, "unknown note", "no-such-note")
    assert found.line == line


# -- quotes against the article ---------------------------------------------------------------------


def test_quote_not_verbatim(broken_knowledge):
    """Change one word of a real quote: the loader must notice."""
    folder = broken_knowledge()
    quote = entries(folder)[0]["quotes"][0]["text"]
    word = max(re.findall(r"[A-Za-z]{4,}", quote), key=len)
    changed = quote.replace(word, "splendid", 1)
    line = set_scalar(folder, FAQ, ("entries", 0, "quotes", 0, "text"), changed)
    found = problem(folder, FAQ, "verbatim")
    assert found.line == line
    assert "splendid" in found.reason


def test_quote_with_straightened_quote_marks_is_accepted(broken_knowledge):
    """The one liberty: curly quote marks written straight."""
    folder = broken_knowledge()
    index, q, text = next(
        (i, n, quote["text"])
        for i, entry in enumerate(entries(folder))
        for n, quote in enumerate(entry["quotes"])
        if any(mark in quote["text"] for mark in "‘’“”")
    )
    straight = text.translate(str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'}))
    set_scalar(folder, FAQ, ("entries", index, "quotes", q, "text"), straight)
    assert load_knowledge(folder).entries


@pytest.mark.parametrize(
    "boilerplate",
    ["This video is no longer available.", "Download our app and read this and other great stories"],
)
def test_quote_taken_from_boilerplate(broken_knowledge, boilerplate: str):
    folder = broken_knowledge()
    assert boilerplate in (folder / "article.txt").read_text(encoding="utf-8")
    line = set_scalar(folder, FAQ, ("entries", 0, "quotes", 0, "text"), boilerplate)
    assert problem(folder, FAQ, "verbatim").line == line


def test_not_quotable_line_not_in_article(broken_knowledge):
    folder = broken_knowledge()
    meta = yaml.safe_load((folder / "article.yaml").read_text(encoding="utf-8"))
    index = len(meta["not_quotable"]) - 1
    line = set_scalar(folder, "article.yaml", ("not_quotable", index), "Download our app, please")
    found = problem(folder, "article.yaml", "not_quotable")
    assert found.line == line


# -- missing files ----------------------------------------------------------------------------------


def test_missing_article_text_file(broken_knowledge):
    folder = broken_knowledge("article.txt", delete=True)
    found = problem(folder, "article.yaml", "missing", "article.txt")
    assert found.line == line_of(folder, "article.yaml", "text_file")


def test_missing_faq_file(broken_knowledge):
    folder = broken_knowledge()
    for path in folder.glob("faq*.yaml"):
        path.unlink()
    found = problem(folder, FAQ, "missing")
    assert found.line == 0  # the whole file: there is no line to point at


@pytest.mark.parametrize("name", ["speakers.yaml", "notes.yaml", "vocabulary.yaml", "article.yaml"])
def test_missing_other_files(broken_knowledge, name: str):
    folder = broken_knowledge(name, delete=True)
    problem(folder, name, "missing")


def test_missing_folder(tmp_path: Path):
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path / "nowhere")
    assert "not found" in str(caught.value)


def test_every_problem_is_reported_at_once(broken_knowledge):
    folder = broken_knowledge()
    speaker_line = set_scalar(folder, FAQ, ("entries", 0, "quotes", 0, "speaker"), "peskow")
    name_line = set_scalar(folder, "speakers.yaml", ("speakers", 0, "name"), "Dmitry Pesky")
    found = {(p.file, p.line) for p in problems(folder)}
    assert (f"knowledge/{FAQ}", speaker_line) in found
    assert ("knowledge/speakers.yaml", name_line) in found


# -- the command line on broken knowledge -----------------------------------------------------------


def assert_reports(result, file: str, line: int, *words: str) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode != 0, stderr
    assert "Traceback" not in stderr and "Traceback" not in result.stdout.decode("utf-8", "replace")
    reported = [(m[1], int(m[2]), m[3]) for m in PROBLEM_LINE.finditer(stderr)]
    assert any(
        f == f"knowledge/{file}" and n == line and all(w.lower() in r.lower() for w in words)
        for f, n, r in reported
    ), f"expected knowledge/{file}:{line}: …{words}… on stderr, got:\n{stderr}"


def test_cli_check_valid(run_cli, knowledge_dir: Path):
    result = run_cli("--knowledge", str(knowledge_dir), "check")
    assert result.returncode == 0, result.stderr.decode()
    assert "OK" in result.stdout.decode()


def test_cli_check_broken(run_cli, broken_knowledge):
    folder = broken_knowledge()
    line = set_scalar(folder, FAQ, ("entries", 0, "quotes", 0, "speaker"), "peskow")
    result = run_cli("--knowledge", str(folder), "check")
    assert_reports(result, FAQ, line, "unknown speaker")


def test_cli_check_yaml_and_encoding_errors(run_cli, broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, "notes.yaml", "notes", 0, "id")
    broken_knowledge("notes.yaml", replace=(b"  - id: ", b"  - id: \xff"))
    assert_reports(run_cli("--knowledge", str(folder), "check"), "notes.yaml", line, "UTF-8")


def test_cli_ask_broken(run_cli, broken_knowledge):
    folder = broken_knowledge()
    line = set_scalar(folder, FAQ, ("entries", 0, "related", 0), "no-such-entry")
    result = run_cli("--knowledge", str(folder), "ask", "When were the talks held?")
    assert_reports(result, FAQ, line, "no-such-entry")
    assert result.stdout.strip() == b""
    result = run_cli("--knowledge", str(folder), "ask", "--json", input="When were the talks held?\n")
    assert_reports(result, FAQ, line, "no-such-entry")
    assert result.stdout.strip() == b""


def test_cli_missing_folder(run_cli, tmp_path: Path):
    result = run_cli("--knowledge", str(tmp_path / "nowhere"), "check")
    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert "Traceback" not in stderr
    assert "not found" in stderr


def test_knowledge_dir_environment_variable(run_cli, broken_knowledge, knowledge_dir: Path):
    folder = broken_knowledge()
    line = set_scalar(folder, "speakers.yaml", ("speakers", 0, "name"), "Dmitry Pesky")
    assert_reports(
        run_cli("check", env={"KNOWLEDGE_DIR": str(folder)}), "speakers.yaml", line, "Dmitry Pesky"
    )
    # --knowledge wins over the environment
    result = run_cli("--knowledge", str(knowledge_dir), "check", env={"KNOWLEDGE_DIR": str(folder)})
    assert result.returncode == 0, result.stderr.decode()


def test_altered_article_names_the_article_file_and_the_quote(broken_knowledge):
    """The article text changed under a quote: the refusal names the article's file, the quote and
    where the quote is written (its own file and line)."""
    article = (KNOWLEDGE / "article.txt").read_text(encoding="utf-8")
    faq = yaml.safe_load((KNOWLEDGE / FAQ).read_text(encoding="utf-8"))
    entry_index, quote = next(
        (i, q["text"]) for i, e in enumerate(faq["entries"]) for q in e["quotes"] if article.count(q["text"]) == 1
    )
    word = max(re.findall(r"\w{5,}", quote), key=len)
    folder = broken_knowledge("article.txt", replace=(quote, quote.replace(word, word[::-1], 1)))
    found = problem(folder, FAQ, "not verbatim")
    quote_number = next(
        n for n, q in enumerate(faq["entries"][entry_index]["quotes"]) if q["text"] == quote
    )
    assert found.line == line_of(folder, FAQ, "entries", entry_index, "quotes", quote_number, "text")
    assert "knowledge/article.txt no longer contains" in found.reason
    assert repr(quote) in found.reason
    assert str(found).startswith(f"knowledge/{FAQ}:{found.line}: ")


# -- the knowledge in other languages ---------------------------------------------------------------
# article.yaml declares `languages: [en, ru, uk]`; every curator text then has a `ru:` and a `uk:`
# version, each checked like the English one and for being written in its language.


def set_text(folder: Path, file: str, path: tuple[str | int, ...], text: str) -> int:
    """Give the key at `path` a new one-line text, whatever the old one's style; returns its line."""
    key, _ = locate((folder / file).read_text(encoding="utf-8"), *path)
    line = " " * key.start_mark.column + f"{path[-1]}: {json.dumps(text, ensure_ascii=False)}\n"
    return replace_field(folder, file, path, line)


def entry_index(folder: Path, entry_id: str) -> int:
    return next(i for i, e in enumerate(entries(folder)) if e["id"] == entry_id)


def test_an_entry_without_a_declared_language_is_refused(broken_knowledge):
    folder = broken_knowledge()
    entry_line = line_of(folder, FAQ, "entries", 0)
    replace_field(folder, FAQ, ("entries", 0, "uk"), "")
    found = problem(folder, FAQ, "no 'uk' section", "declares 'uk'")
    assert found.line == entry_line
    assert "topic, question, answer" in found.reason


@pytest.mark.parametrize(
    ("file", "path", "field"),
    [
        (FAQ, ("entries", 0, "ru"), "answer"),
        (FAQ, ("entries", 0, "uk"), "topic"),
        (FAQ, ("entries", 0, "quotes", 0, "uk"), "translation"),
        (FAQ, ("entries", 0, "quotes", 1, "ru"), "channel"),
        ("speakers.yaml", ("speakers", 0, "ru"), "name"),
        ("speakers.yaml", ("speakers", 1, "uk"), "role"),
        ("notes.yaml", ("notes", 0, "uk"), "text"),
        ("parties.yaml", ("parties", 0, "ru"), "mentioned"),
        ("article.yaml", ("uk",), "summary"),
        ("article.yaml", ("ru",), "title"),
    ],
)
def test_a_missing_field_in_a_declared_language_is_refused(broken_knowledge, file, path, field):
    folder = broken_knowledge()
    section_line = line_of(folder, file, *path)
    replace_field(folder, file, (*path, field), "")
    found = problem(folder, file, f"missing field '{field}'", f"'{path[-1]}' is declared")
    assert found.line == section_line


@pytest.mark.parametrize(
    ("file", "path", "text", "reads_as"),
    [
        # Ukrainian letters in a Russian answer
        (FAQ, ("entries", 0, "ru", "answer"), "Ні. Кремль не побачив жодного прориву.", "uk"),
        # Russian without ы э ъ ё: told apart by its words
        (FAQ, ("entries", 0, "uk", "question"), "Что сказал Песков о переговорах в Стамбуле?", "ru"),
        # the English words copied instead of translated
        (FAQ, ("entries", 0, "quotes", 0, "uk", "translation"), "There is a lot of work to be done", "en"),
        (FAQ, ("entries", 0, "quotes", 0, "ru", "channel"), "told reporters", "en"),
        ("speakers.yaml", ("speakers", 0, "ru", "role"), "речник Кремля у Києві", "uk"),
        ("notes.yaml", ("notes", 0, "uk", "text"), "В статье сказано, что Крым был аннексирован в 2020 году.", "ru"),
        ("parties.yaml", ("parties", 0, "ru", "name"), "China", "en"),
        ("article.yaml", ("uk", "summary"), "мирные переговоры России и Украины в Стамбуле", "ru"),
    ],
)
def test_a_text_in_the_wrong_language_is_refused(broken_knowledge, file, path, text, reads_as):
    folder = broken_knowledge()
    line = set_text(folder, file, path, text)
    lang = path[-2]
    found = problem(folder, file, f"listed as '{lang}' but reads as '{reads_as}'")
    assert found.line == line
    assert repr(text) in found.reason


def test_a_translation_cannot_pose_as_the_quote(broken_knowledge):
    """`text` is the article's words and lives only in the quote itself: a `ru: {text: ...}` is refused."""
    folder = broken_knowledge()
    line = line_of(folder, FAQ, "entries", 0, "quotes", 0, "ru", "translation")
    broken_knowledge(FAQ, replace=("          translation: ", "          text: "))
    found = problem(folder, FAQ, "quote #1", "unknown field 'text'")
    assert found.line == line
    assert "known: channel, role, translation" in found.reason
    assert problem(folder, FAQ, "quote #1", "missing field 'translation'")


def test_an_unknown_field_in_a_language_is_refused(broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, FAQ, "entries", 0, "ru", "answer")
    broken_knowledge(FAQ, replace=("      answer: >-\n", "      anwser: >-\n"))
    found = problem(folder, FAQ, "'ru'", "unknown field 'anwser'")
    assert found.line == line
    assert "alternates, answer, question, topic" in found.reason


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_translation_is_refused(broken_knowledge, empty):
    folder = broken_knowledge()
    line = set_scalar(folder, FAQ, ("entries", 0, "ru", "question"), empty)
    assert problem(folder, FAQ, "'ru'", "'question' must be non-empty text").line == line


def test_a_language_section_must_be_a_mapping(broken_knowledge):
    folder = broken_knowledge()
    line = replace_field(folder, "speakers.yaml", ("speakers", 0, "uk"), "    uk: Дмитро Пєсков\n")
    assert problem(folder, "speakers.yaml", "'uk' must be a mapping").line == line


def test_a_quote_has_one_translation_everywhere(broken_knowledge):
    """The same words of the same speaker, quoted in two entries, are translated once."""
    folder = broken_knowledge()
    first = line_of(folder, FAQ, "entries", 0, "quotes", 0, "ru", "translation")
    who = entry_index(folder, "who-peskov")
    quote = next(n for n, q in enumerate(entries(folder)[who]["quotes"]) if q["speaker"] == "peskov")
    line = set_scalar(folder, FAQ, ("entries", who, "quotes", quote, "ru", "translation"), "Прорывов не было")
    found = problem(folder, FAQ, "ru translation", "Прорывов не было")
    assert found.line == line
    assert f"knowledge/{FAQ}:{first}" in found.reason


def test_a_topic_has_one_name_per_language(broken_knowledge):
    folder = broken_knowledge()
    assert entries(folder)[0]["topic"] == entries(folder)[1]["topic"]
    first = line_of(folder, FAQ, "entries", 0, "uk", "topic")
    line = set_scalar(folder, FAQ, ("entries", 1, "uk", "topic"), "Реакція Москви")
    found = problem(folder, FAQ, "uk name of topic", "Реакція Москви")
    assert found.line == line
    assert f"knowledge/{FAQ}:{first}" in found.reason


def test_a_role_where_the_english_has_none_is_refused(broken_knowledge):
    folder = broken_knowledge()
    quote = entries(folder)[0]["quotes"][1]
    assert quote["speaker"] == "afp" and "role" not in quote
    translation = json.dumps(quote["ru"]["translation"], ensure_ascii=False)
    broken_knowledge(
        FAQ,
        replace=(
            f"          translation: {translation}\n",
            f"          translation: {translation}\n          role: агентство\n",
        ),
    )
    line = line_of(folder, FAQ, "entries", 0, "quotes", 1, "ru", "role")
    assert problem(folder, FAQ, "quote #2", "gives a role, but the quote has none").line == line


def test_a_quote_naming_another_role_translates_it(broken_knowledge):
    """A quote's role defaults to the speaker's in each language; one the speaker's `role` is not
    (another of the article's mentions) must be written under `ru:` and `uk:`."""
    folder = broken_knowledge()
    ru_line = line_of(folder, FAQ, "entries", 0, "quotes", 0, "ru")
    set_scalar(folder, FAQ, ("entries", 0, "quotes", 0, "role"), "Dmitry Peskov")
    assert problem(folder, FAQ, "quote #1", "'ru' needs 'role'", "'Dmitry Peskov'").line == ru_line


def test_an_empty_language_section_lists_what_is_missing(broken_knowledge):
    folder = broken_knowledge()
    line = replace_field(folder, FAQ, ("entries", 0, "quotes", 0, "uk"), "        uk:\n")
    assert problem(folder, FAQ, "quote #1", "missing field 'translation'").line == line
    assert problem(folder, FAQ, "quote #1", "missing field 'channel'").line == line


def test_declared_languages_must_be_known_and_include_english(broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, "article.yaml", "languages")
    broken_knowledge("article.yaml", replace=("languages: [en, ru, uk]", "languages: [ru, uk, de]"))
    assert problem(folder, "article.yaml", "'de' is not one the bot reads").line == line
    assert problem(folder, "article.yaml", "must include 'en'").line == line


def test_english_stands_in_only_for_an_undeclared_language(broken_knowledge):
    """Declared: every text is there (tr never falls back). Undeclared: a partial translation loads,
    and tr gives the English where the curator wrote nothing."""
    folder = broken_knowledge()
    replace_field(folder, FAQ, ("entries", 0, "uk", "answer"), "")
    assert problem(folder, FAQ, "missing field 'answer'", "'uk' is declared")
    broken_knowledge("article.yaml", replace=("languages: [en, ru, uk]", "languages: [en, ru]"))
    kb = load_knowledge(folder)
    assert kb.languages == ("en", "ru")
    entry = kb.entries[0]
    assert entry.tr("answer", "uk") == entry.answer
    assert entry.tr("question", "uk") == entry.local["uk"]["question"] != entry.question
    assert entry.tr("answer", "ru") == entry.local["ru"]["answer"] != entry.answer


def test_without_languages_the_knowledge_is_english(broken_knowledge):
    folder = broken_knowledge("article.yaml", replace=("languages: [en, ru, uk]\n", ""))
    assert load_knowledge(folder).languages == ("en",)


def test_cli_check_names_a_missing_translation(run_cli, broken_knowledge):
    folder = broken_knowledge()
    line = line_of(folder, "notes.yaml", "notes", 1, "ru")
    replace_field(folder, "notes.yaml", ("notes", 1, "ru", "text"), "")
    assert_reports(run_cli("--knowledge", str(folder), "check"), "notes.yaml", line, "missing field 'text'")
