"""``python3 -m modelcheck``: the command line without installing the script."""

from modelcheck.cli import main

main(prog_name="modelcheck")
