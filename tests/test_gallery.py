"""counterexamples/ is generated; it must match what the specs produce now."""

from pathlib import Path

from click.testing import CliRunner

from modelcheck.cli import main
from modelcheck.gallery import stale_files, variants

GALLERY = Path(__file__).resolve().parent.parent / "counterexamples"


def test_gallery_is_up_to_date():
    stale = stale_files(GALLERY)
    assert not stale, f"regenerate with `modelcheck gallery`: stale {stale}"


def test_every_variant_has_text_json_and_an_index_line():
    index = (GALLERY / "README.md").read_text()
    for spec, example in variants():
        stem = f"{spec}-{example.name}"
        assert (GALLERY / f"{stem}.txt").is_file() and (GALLERY / f"{stem}.json").is_file()
        assert f"[{stem}]" in index


def test_check_mode_notices_a_stale_file(tmp_path, monkeypatch):
    # On the quickest variant only: the real gallery is checked above.
    quick = [(spec, ex) for spec, ex in variants() if spec == "two_phase"]
    monkeypatch.setattr("modelcheck.gallery.variants", lambda: quick)
    runner = CliRunner()
    assert runner.invoke(main, ["gallery", "--out", str(tmp_path)]).exit_code == 0
    assert runner.invoke(main, ["gallery", "--out", str(tmp_path), "--check"]).exit_code == 0
    victim = next(tmp_path.glob("*.txt"))
    victim.write_text(victim.read_text().replace("VIOLATION", "violation"))
    result = runner.invoke(main, ["gallery", "--out", str(tmp_path), "--check"])
    assert result.exit_code == 1 and victim.name in result.output
