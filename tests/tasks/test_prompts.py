"""Prompts: the DESIGN.md layout, seeded demos that never leak the query or its positives, output checks."""

from __future__ import annotations

from o1embed.tasks.prompts import (
    STYLE_TASKS,
    TASK_TEXT,
    DemoPool,
    PromptConfig,
    build_messages,
    candidate_seed,
    clean_thought,
    thought_problem,
)


def pool(n=50):
    return DemoPool([(f"q{i}", f"query {i}", f"d{i % 20}", f"passage {i % 20}") for i in range(n)])


def test_layout_has_the_four_blocks():
    p = pool()
    msgs = build_messages("what is x?", p.draw("q0", {"d0"}, 3, 1), PromptConfig())
    assert [m["role"] for m in msgs] == ["system", "user"]
    user = msgs[1]["content"]
    for block in ("Task: ", "Examples:\n", "Query: what is x?", "Response:"):
        assert block in user
    assert user.index("Task:") < user.index("Examples:") < user.index("Query: what is x?") < user.rindex("Response:")


def test_demos_never_include_the_query_or_its_positives():
    p = pool()
    for seed in range(300):
        demos = p.draw("q5", {"d5", "d7"}, 3, seed)
        assert len(demos) == 3
        assert all(d.query_id != "q5" and d.doc_id not in {"d5", "d7"} for d in demos)
        assert len({d.query_id for d in demos}) == 3


def test_demos_are_seeded_and_differ_between_candidates():
    p = pool()
    a = [d.query_id for d in p.draw("q1", set(), 3, candidate_seed(42, "q1", 0, -1))]
    b = [d.query_id for d in p.draw("q1", set(), 3, candidate_seed(42, "q1", 0, -1))]
    c = [d.query_id for d in p.draw("q1", set(), 3, candidate_seed(42, "q1", 1, -1))]
    assert a == b and a != c


def test_tight_pool_falls_back_to_every_eligible_demo():
    p = DemoPool([("q1", "a", "d1", "x"), ("q2", "b", "d2", "y"), ("q3", "c", "d3", "z")])
    assert sorted(d.query_id for d in p.draw("q1", {"d2"}, 3, 0)) == ["q3"]


def test_output_checks():
    msgs = build_messages("Is aspirin safe?", [], PromptConfig())
    assert thought_problem("", "Is aspirin safe?", msgs) == "empty output"
    assert thought_problem("  \n ", "Is aspirin safe?", msgs) == "empty output"
    assert thought_problem("is aspirin SAFE", "Is aspirin safe?", msgs) == "output repeats the query"
    assert thought_problem(msgs[1]["content"], "Is aspirin safe?", msgs) == "output echoes the prompt"
    assert thought_problem("Aspirin can cause bleeding.", "Is aspirin safe?", msgs) is None
    assert clean_thought("  Response: Aspirin thins blood. ") == "Aspirin thins blood."


def test_template_hash_tracks_every_field():
    assert PromptConfig().template_hash() == PromptConfig().template_hash()
    assert PromptConfig(num_demos=2).template_hash() != PromptConfig().template_hash()


def test_default_style_keeps_the_pre_styles_hash():
    # The hash of PromptConfig() before styles existed: datasets made with the paper's prompt keep their version.
    assert PromptConfig().template_hash() == "a950f0898fb315de"
    assert PromptConfig(styles=["paper"]).template_hash() == "a950f0898fb315de"
    multi = PromptConfig(styles=["paper", "passage", "keywords"]).template_hash()
    assert multi != PromptConfig().template_hash()
    assert multi != PromptConfig(styles=["paper", "keywords", "passage"]).template_hash()


def test_style_of_a_candidate_cycles_and_does_not_depend_on_k():
    cfg = PromptConfig(styles=["paper", "passage", "keywords"])
    assert [cfg.style_for(c) for c in range(6)] == ["paper", "passage", "keywords"] * 2
    assert {PromptConfig().style_for(c) for c in range(6)} == {"paper"}


def test_styles_change_only_the_task_text():
    demos = pool().draw("q0", {"d0"}, 3, 1)
    cfg = PromptConfig(styles=["paper", "passage", "keywords", "reasoning"])
    paper = build_messages("what is x?", demos, PromptConfig())
    assert build_messages("what is x?", demos, cfg, "paper") == paper
    for style in ("passage", "keywords", "reasoning"):
        msgs = build_messages("what is x?", demos, cfg, style)
        assert msgs[0] == paper[0]
        assert msgs[1]["content"].startswith(f"Task: {STYLE_TASKS[style]}\n\nExamples:\n")
        assert msgs[1]["content"].split("\n", 1)[1] == paper[1]["content"].split("\n", 1)[1]


def test_echo_check_uses_the_task_text_of_the_style():
    cfg = PromptConfig(styles=["keywords"])
    task = cfg.task_for("keywords")
    msgs = build_messages("Is aspirin safe?", [], cfg, "keywords")
    echo = f"{task} Aspirin, bleeding."
    assert thought_problem(echo, "Is aspirin safe?", msgs, task) == "output echoes the prompt"
    assert thought_problem(f"{TASK_TEXT} Aspirin.", "Is aspirin safe?", msgs, task) is None
    assert thought_problem("Aspirin, bleeding, dose.", "Is aspirin safe?", msgs, task) is None
