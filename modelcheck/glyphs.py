"""The symbols traces and charts mark events with.

Every one is in DejaVu Sans, the font Debian's Graphviz draws with, so a
chart never shows an empty box where a symbol should be (an emoji such as
the old crash mark is in no font CI installs).  Text traces use the same
symbols, so a reader meets one notation in both.
"""

POWER_LOSS = "⚡"
CRASH = "✖"
STEP = "⚙"
PARTITION = "✂"
HEAL = "∞"
NETWORK = "✉"
STOP = "■"
