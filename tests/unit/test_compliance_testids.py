"""Test node ids found by reading test files, the way pytest discovers them."""

from __future__ import annotations

from pathlib import Path

from authdemo.compliance import testids


def test_functions_and_test_class_methods_are_found(tmp_path: Path) -> None:
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_a.py").write_text(
        "def test_one(): pass\n"
        "async def test_two(): pass\n"
        "def helper(): pass\n"
        "class TestGroup:\n"
        "    def test_three(self): pass\n"
        "    def setup_method(self): pass\n"
        "    class TestInner:\n"
        "        def test_four(self): pass\n"
        "class Helper:\n"
        "    def test_not_collected(self): pass\n"
    )
    (tmp_path / "tests" / "unit" / "helpers.py").write_text("def test_not_a_test_file(): pass\n")
    (tmp_path / "tests" / "b_test.py").write_text("def test_five(): pass\n")
    assert testids.collect(tmp_path) == {
        "tests/unit/test_a.py::test_one",
        "tests/unit/test_a.py::test_two",
        "tests/unit/test_a.py::TestGroup::test_three",
        "tests/unit/test_a.py::TestGroup::TestInner::test_four",
        "tests/b_test.py::test_five",
    }


def test_a_parametrized_id_matches_on_its_name() -> None:
    assert testids.base_id("tests/x.py::test_y[ES256-a b]") == "tests/x.py::test_y"
    assert testids.base_id("tests/x.py::TestZ::test_y") == "tests/x.py::TestZ::test_y"


def test_the_real_suite_includes_this_test() -> None:
    here = "tests/unit/test_compliance_testids.py::test_the_real_suite_includes_this_test"
    assert here in testids.collect(Path(__file__).resolve().parents[2])
